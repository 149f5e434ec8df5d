/** @module Starts and stops pcsc-lite's pcscd (with the vpcd reader driver and the TCP_NODELAY shim) for tests; see shared/reference/pcsc-testing.md. */
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { existsSync, linkSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

/** pcscd's fixed runtime files: only one pcscd can run per machine. */
export const PCSCD_RUN_DIR = '/run/pcscd';
const PID_FILE = `${PCSCD_RUN_DIR}/pcscd.pid`;
const COMM_FILE = `${PCSCD_RUN_DIR}/pcscd.comm`;

/** The shim scripts/pcsc/setup.sh builds (git-ignored build folder). */
export const NODELAY_SO = fileURLToPath(new URL('./pcsc/build/nodelay.so', import.meta.url));

/** Set to 1 to use a pcscd that is already running instead of refusing to start. */
export const REUSE_ENV = 'DRMB_PCSCD_REUSE';

export class PcscHarnessError extends Error {
  override readonly name = 'PcscHarnessError';
}

export interface PcscdOptions {
  /** `--debug` instead of `--info` */
  debug?: boolean;
  /** `--apdu` (-a): log every command and response APDU */
  apdu?: boolean;
  /** LD_PRELOAD library; default NODELAY_SO; `false` runs pcscd without it (44 ms per APDU with vpcd 0.8) */
  nodelay?: string | false;
  /** reuse a pcscd that is already running; default: env DRMB_PCSCD_REUSE=1 */
  reuse?: boolean;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** how long to wait for another test file (process or worker thread) to finish with the PC/SC stack; default 90 s */
  lockTimeoutMs?: number;
  /** each log line of pcscd */
  onLog?: (line: string) => void;
}

export interface PcscdHandle {
  /** pid of the daemon (ours or the reused one) */
  readonly pid: number;
  /** false when an already running pcscd was reused (stop() then leaves it running) */
  readonly started: boolean;
  /** log lines of our pcscd so far */
  readonly log: string[];
  /** SIGTERM and wait (SIGKILL and clean /run/pcscd after stopTimeoutMs), then release the stack lock; a reused daemon keeps running */
  stop(): Promise<void>;
}

/** Absolute path of the pcscd binary, or undefined when pcsc-lite is not installed. */
export function findPcscd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const d of dirs) {
    if (d && existsSync(`${d}/pcscd`)) return `${d}/pcscd`;
  }
  return undefined;
}

/** True when the vsmartcard vpcd reader driver is configured for pcscd. */
export function vpcdInstalled(): boolean {
  return existsSync('/etc/reader.conf.d/vpcd') || existsSync('/usr/lib/pcsc/drivers/serial/libifdvpcd.so');
}

/** What the PC/SC suites need that is not installed: pcscd, the vpcd driver, the TCP_NODELAY shim (empty when all is there). */
export function pcscStackMissing(): string[] {
  return [...(findPcscd() ? [] : ['pcscd']), ...(vpcdInstalled() ? [] : ['vsmartcard-vpcd']), ...(existsSync(NODELAY_SO) ? [] : [NODELAY_SO])];
}

/** True when pid is a running (not zombie) process named pcscd. */
function isRunningPcscd(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // a killed child not yet reaped by its parent is a zombie: no running daemon
    return /^Name:\s+pcscd$/m.test(status) && !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** pid in /run/pcscd/pcscd.pid (written as "PID\n\0"), if any. */
function pidFromFile(): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(PID_FILE, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** pids of every running process named pcscd on this machine (from /proc). */
export function livePcscdPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((e) => /^\d+$/.test(e)).map(Number).filter(isRunningPcscd);
}

/** Removes /run/pcscd/pcscd.{pid,comm} left by a pcscd that died without cleaning (e.g. SIGKILL). Returns true if it removed anything. */
export function removeStaleFiles(): boolean {
  const pid = pidFromFile();
  if (pid !== undefined && isRunningPcscd(pid)) return false;
  if (livePcscdPids().length > 0) return false;
  let removed = false;
  for (const f of [PID_FILE, COMM_FILE]) {
    if (existsSync(f)) {
      rmSync(f, { force: true });
      removed = true;
    }
  }
  return removed;
}

/**
 * One user of the PC/SC test stack at a time (pcscd and the vpcd ports are machine-wide): test files in
 * parallel workers or processes wait for each other instead of failing. The lock file names its holder
 * "pid threadId"; a lock whose process is dead is taken over. Re-entrant within one thread.
 */
export const STACK_LOCK_FILE = join(tmpdir(), 'drmb-pcsc-stack.lock');
const lockOwner = `${process.pid} ${threadId}`;
let lockDepth = 0;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lockHolder(): string | undefined {
  try {
    return readFileSync(STACK_LOCK_FILE, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquireStackLock(timeoutMs: number): Promise<void> {
  if (lockDepth > 0) {
    lockDepth++;
    return;
  }
  const deadline = Date.now() + timeoutMs;
  const tmp = `${STACK_LOCK_FILE}.${process.pid}.${threadId}`;
  writeFileSync(tmp, `${lockOwner}\n`);
  try {
    for (;;) {
      try {
        linkSync(tmp, STACK_LOCK_FILE); // atomic create-with-content: fails with EEXIST while held
        lockDepth = 1;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = lockHolder();
      const pid = Number.parseInt(holder ?? '', 10);
      if (holder !== undefined && Number.isInteger(pid) && !processAlive(pid)) {
        rmSync(STACK_LOCK_FILE, { force: true }); // left by a process that died
        continue;
      }
      if (Date.now() > deadline) {
        throw new PcscHarnessError(
          `the PC/SC test stack is still in use by "${holder}" (pid thread) after ${timeoutMs} ms; lock file ${STACK_LOCK_FILE}`,
        );
      }
      await sleep(100);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

function releaseStackLock(): void {
  if (lockDepth === 0) return;
  lockDepth--;
  if (lockDepth === 0 && lockHolder() === lockOwner) rmSync(STACK_LOCK_FILE, { force: true });
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Spawns a child that is killed when this process exits: SIGKILL from an 'exit' hook, and, where
 * util-linux `setpriv` exists, a parent-death signal (SIGTERM) so it also goes if this process is killed.
 */
export function spawnKillOnExit(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const usePdeath = existsSync('/usr/bin/setpriv');
  const child = usePdeath
    ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'TERM', '--', command, ...args], options)
    : spawn(command, args, options);
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
      lockDepth = Math.min(lockDepth, 1);
      releaseStackLock();
    });
  }
  return child;
}

/** Resolves with the exit code when the child has exited, or undefined after timeoutMs. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', on);
      resolve(undefined);
    }, timeoutMs);
    const on = (code: number | null): void => {
      clearTimeout(timer);
      resolve(code);
    };
    child.once('exit', on);
  });
}

/**
 * Starts `pcscd --foreground --info` with LD_PRELOAD of the TCP_NODELAY shim and resolves when it logs
 * "daemon ready" (readers are listable then). Removes stale /run/pcscd files of a dead daemon first.
 * Refuses, naming the pid, when another pcscd is running, unless `reuse` (or DRMB_PCSCD_REUSE=1) is set,
 * in which case that daemon is used and left running. Waits first while another test file holds the
 * stack (STACK_LOCK_FILE); stop() releases it.
 */
export async function startPcscd(options: PcscdOptions = {}): Promise<PcscdHandle> {
  const reuse = options.reuse ?? process.env[REUSE_ENV] === '1';
  const pcscd = findPcscd();
  if (!pcscd) throw new PcscHarnessError('pcscd is not installed (run scripts/pcsc/setup.sh)');

  const nodelay = options.nodelay ?? NODELAY_SO;
  if (nodelay !== false && !existsSync(nodelay)) {
    throw new PcscHarnessError(`${nodelay} is missing; run scripts/pcsc/setup.sh to build it`);
  }

  await acquireStackLock(options.lockTimeoutMs ?? 90_000);
  try {
    removeStaleFiles();
    const running = livePcscdPids();
    if (running.length > 0) {
      if (reuse) {
        let released = false;
        const stop = async (): Promise<void> => {
          if (!released) releaseStackLock();
          released = true;
        };
        return { pid: running[0], started: false, log: [], stop };
      }
      throw new PcscHarnessError(
        `another pcscd is running (pid ${running.join(', ')}) that this harness did not start; stop it, or set ${REUSE_ENV}=1 to use it`,
      );
    }
    return await spawnPcscd(pcscd, nodelay, options);
  } catch (e) {
    releaseStackLock();
    throw e;
  }
}

async function spawnPcscd(pcscd: string, nodelay: string | false, options: PcscdOptions): Promise<PcscdHandle> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const args = ['--foreground', options.debug ? '--debug' : '--info'];
  if (options.apdu) args.push('--apdu');
  const env = { ...process.env };
  if (nodelay !== false) env.LD_PRELOAD = env.LD_PRELOAD ? `${nodelay}:${env.LD_PRELOAD}` : nodelay;
  const child = spawnKillOnExit(pcscd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new PcscHarnessError(`pcscd did not report "daemon ready" within ${readyTimeoutMs} ms; log:\n${log.join('\n')}`));
    }, readyTimeoutMs);
    const onLine = (line: string): void => {
      log.push(line);
      options.onLog?.(line);
      if (line.includes('daemon ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (s: string) => {
        const lines = (rest + s).split('\n');
        rest = lines.pop() ?? '';
        lines.forEach(onLine);
      });
    }
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new PcscHarnessError(`cannot start pcscd: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new PcscHarnessError(`pcscd exited during start-up (code ${code}, signal ${signal}); log:\n${log.join('\n')}`));
    });
  });

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if ((await waitExit(child, stopTimeoutMs)) === undefined) child.kill('SIGKILL');
      await waitExit(child, stopTimeoutMs);
    }
    removeStaleFiles(); // after a SIGKILL, or a daemon that died on its own
  };

  try {
    await ready;
  } catch (e) {
    await kill();
    throw e;
  }
  let stopped = false;
  const stop = async (): Promise<void> => {
    await kill();
    if (!stopped) releaseStackLock();
    stopped = true;
  };
  return { pid: child.pid!, started: true, log, stop };
}
