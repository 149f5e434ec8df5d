/**
 * @module A party's service as a child process: `drmb kgc serve`, `drmb registry serve` or `drmb bank
 * serve` with `--port 0 --json`, of this same drmb (bin/drmb.js, or the source under tsx), its address
 * read from the JSON it prints, its log lines passed on, stopped with SIGTERM. The keys of the party are
 * loaded in the child only, from the bundle it is given.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { OperationalError } from '../base/operational-error.js';
import type { KeyKind } from '../keys/key-files.js';
import { projectRoot } from './project-path.js';

/** A service's child process that could not be started, or did not report its address. */
export class ServiceProcessError extends OperationalError {
  override readonly name = 'ServiceProcessError';
}

export interface ServiceProcessOptions {
  /** each line the service logs on its stderr */
  log?: (line: string) => void;
  /** how long to wait for its address (default 30 s: tsx compiles the CLI on a cold start) */
  startTimeoutMs?: number;
  /** the error a failure to start is reported as (default ServiceProcessError) */
  error?: (message: string) => Error;
}

export interface ServiceProcess {
  /** http://127.0.0.1:PORT */
  url: string;
  /** the child's process id: not this process's */
  pid: number;
  /** the keys the child says it loaded, by kind and KCV (none for a service that loads no key) */
  keys: { kind: KeyKind; kcv: Record<string, string> }[];
  /** SIGTERM, then the child's exit code once it has closed its service (null if killed by a signal) */
  stop(): Promise<number | null>;
}

/**
 * The node arguments that run this drmb with `args`: bin/drmb.js (the compiled program, as `npx drmb`
 * runs it), or the TypeScript source's `main` through tsx when this module itself runs from source
 * (tests, `tsx cli/drmb.ts`), where dist/ may be missing or stale.
 */
function drmbArgs(args: readonly string[]): string[] {
  if (!import.meta.url.endsWith('.ts')) return [join(projectRoot(), 'bin', 'drmb.js'), ...args];
  const entry = new URL('./drmb.ts', import.meta.url);
  const script = `const { main } = await import(${JSON.stringify(entry.href)}); await main(['node', 'drmb', ...process.argv.slice(1)]);`;
  return ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args];
}

/** Resolves with the exit code once `child` has exited (at once if it already has). */
function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Starts `drmb <args> --port 0 --json` (`args` names the service and its options: ['kgc', 'serve',
 * '--keys', dir, ...]) as a child process and resolves with its address once it listens. Rejects with
 * the child's last stderr line when it exits first or does not answer in time (and then stops it).
 * Should this process exit without calling stop, the child is sent SIGTERM all the same.
 */
export async function startServiceProcess(serviceArgs: readonly string[], o: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  const args = [...serviceArgs, '--port', '0', '--json'];
  const name = `drmb ${serviceArgs.slice(0, 2).join(' ')}`;
  const fail = o.error ?? ((m: string) => new ServiceProcessError(m));
  const child = spawn(process.execPath, drmbArgs(args), { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = exitOf(child);
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  let lastError = '';
  let pending = '';
  child.stderr!.on('data', (c: Buffer) => {
    pending += c.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines.filter((l) => l.trim())) {
      lastError = line;
      o.log?.(line);
    }
  });
  const stop = async (): Promise<number | null> => {
    child.kill('SIGTERM');
    const code = await exited;
    process.off('exit', killOnExit);
    return code;
  };
  try {
    const address = await new Promise<{ url: string; pid: number; keys?: ServiceProcess['keys'] }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(fail(`${name} did not report its address within ${(o.startTimeoutMs ?? 30_000) / 1000} s`)), o.startTimeoutMs ?? 30_000);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        // --json prints one JSON object, {"url", "port", ...}, once the service listens.
        if (!/\}\s*$/.test(out)) return;
        clearTimeout(timer);
        try {
          const answer = JSON.parse(out) as { url: string; pid: number; keys?: ServiceProcess['keys']; error?: unknown };
          // drmb --json prints a failure as {"error": ...}: the exit that follows reports its stderr line.
          if (answer.error !== undefined) return;
          resolve(answer);
        } catch {
          reject(fail(`${name} printed no address: ${out.trim().slice(0, 200)}`));
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(fail(`${name} could not be started (${e.message})`));
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(fail(`${name} exited with code ${code} before listening${lastError ? `: ${lastError}` : ''}`));
      });
    });
    if (typeof address.url !== 'string' || !/^http:\/\/127\.0\.0\.1:\d+$/.test(address.url) || (address.keys !== undefined && !Array.isArray(address.keys))) {
      throw fail(`${name} reported no 127.0.0.1 address: ${JSON.stringify(address).slice(0, 200)}`);
    }
    return { url: address.url, pid: child.pid!, keys: address.keys ?? [], stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
