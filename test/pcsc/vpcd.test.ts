/**
 * @module End to end through the real PC/SC stack: the simulated card served by `drmb sim serve` (child
 * process) in pcscd's vpcd reader, used by independent clients (OpenSC, scriptor, pcsc_scan) and the
 * `smartcard` Node binding, byte for byte as the same card answers in-process. Slow suite (~10 s).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../base/bytes.js';
import {
  findPcscd,
  livePcscdPids,
  NODELAY_SO,
  PCSCD_RUN_DIR,
  REUSE_ENV,
  spawnKillOnExit,
  startPcscd,
  vpcdInstalled,
  waitExit,
} from '../../scripts/pcsc-harness.js';
import type { PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { CardChild } from './pcsc-fixture.js';

/**
 * The parts of the `smartcard` binding (optional dependency, native) this suite uses. Typed here and
 * imported by a computed name, so typechecking and the other suites work where it is not installed.
 */
interface PcscCard {
  transmit(command: Buffer): Promise<Buffer>;
  disconnect(disposition?: number): void;
}
interface PcscReader {
  readonly name: string;
  readonly state: number;
  connect(shareMode: number, protocol: number): Promise<PcscCard>;
}
interface PcscContext {
  listReaders(): PcscReader[];
  close(): void;
}
interface Smartcard {
  Context: new () => PcscContext;
  SCARD_SHARE_SHARED: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_LEAVE_CARD: number;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_EMPTY: number;
}
const SMARTCARD_MODULE = 'smartcard';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READER = 'Virtual PCD 00 00';
const IN_CI = !!process.env.CI && process.env.CI !== 'false';

/** The APDUs every client sends: SELECT of the D-RMB applet, GET BALANCE, SELECT of an unknown AID, an unknown INS. */
const SCRIPT = ['00A4040006F044524D420100', '805C000204', '00A4040006F0000000000100', '80FE000000'];

function which(tool: string): boolean {
  return (process.env.PATH ?? '/usr/bin').split(':').some((d) => d && existsSync(join(d, tool)));
}

const missing = [
  ...(findPcscd() ? [] : ['pcscd']),
  ...(vpcdInstalled() ? [] : ['vsmartcard-vpcd']),
  ...['opensc-tool', 'scriptor', 'pcsc_scan'].filter((t) => !which(t)),
  ...(existsSync(NODELAY_SO) ? [] : [NODELAY_SO]),
];
const skipReason = missing.length ? `not installed: ${missing.join(', ')} (run scripts/pcsc/setup.sh)` : '';

const run = (cmd: string, args: string[], timeoutMs = 10_000): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hexOf = (b: Uint8Array): string => bytesToHex(b).toUpperCase();

/** What the card in the image file answers in-process to the same APDUs after power-on. */
function inProcessAnswers(image: string, apdus: string[]): string[] {
  const card = SimulatedCard.fromFile(image);
  card.powerOn();
  return apdus.map((a) => hexOf(card.transmit(hexToBytes(a))));
}

/** R-APDUs (data + SW) from `opensc-tool -s ...` output: "Received (SW1=0x90, SW2=0x00):" then a hex dump. */
function parseOpenscResponses(out: string): string[] {
  const responses: string[] = [];
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)/.exec(lines[i]);
    if (!m) continue;
    let data = '';
    // hex dump lines: up to 16 bytes in the first 48 columns, then the ASCII column
    while (i + 1 < lines.length && /^([0-9A-F]{2} )+/.test(lines[i + 1])) data += lines[++i].slice(0, 48).replace(/\s/g, '');
    responses.push((data + m[1] + m[2]).toUpperCase());
  }
  return responses;
}

/** R-APDUs from scriptor output: "< 6F 11 ... \n02 01 07 90 00 : Normal processing." (RESET lines skipped). */
function parseScriptorResponses(out: string): string[] {
  const responses: string[] = [];
  const re = /^< ((?:[0-9A-F]{2}\s+)+):/gm;
  for (const m of out.matchAll(re)) responses.push(m[1].replace(/\s/g, ''));
  return responses;
}

/** The "Card state" pcsc_scan reports for one reader. */
function pcscScanCardState(out: string, reader: string): string | undefined {
  for (const block of out.split(/^\s*Reader \d+: /m).slice(1)) {
    if (block.startsWith(`${reader}\n`)) return /Card state: ([^,\n]*)/.exec(block)?.[1];
  }
  return undefined;
}

if (missing.length && !IN_CI) console.warn(`test/pcsc/vpcd.test.ts skipped: ${skipReason}`);

const suiteTitle = `the simulated card in pcscd's vpcd reader${skipReason && ` (skipped: ${skipReason})`}`;

describe.skipIf(missing.length > 0 && !IN_CI)(suiteTitle, { timeout: 60_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let serve: CardChild | undefined;
  let sc: Smartcard;
  let ctx: PcscContext | undefined;
  let dir: string;
  let image: string;

  const readerState = (): number => {
    const reader = ctx!.listReaders().find((r) => r.name === READER);
    if (!reader) throw new Error(`PC/SC lists no reader "${READER}"`);
    return reader.state;
  };
  const waitReader = async (present: boolean, timeoutMs = 5000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const flag = present ? sc.SCARD_STATE_PRESENT : sc.SCARD_STATE_EMPTY;
    while (!(readerState() & flag)) {
      if (Date.now() > deadline) throw new Error(`reader "${READER}" not ${present ? 'present' : 'empty'} after ${timeoutMs} ms`);
      await sleep(25);
    }
  };

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    try {
      const mod = (await import(SMARTCARD_MODULE)) as Smartcard & { default?: Smartcard };
      sc = mod.default ?? mod; // CommonJS module: its exports are the default export
    } catch (e) {
      throw new Error(
        `the optional dependency smartcard did not load (${(e as Error).message}); install libpcsclite-dev, then npm_config_nodedir=/usr npm ci`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'drmb-pcsc-'));
    image = join(dir, 'card.json');
    // the served card and the in-process reference start from the same image
    new SimulatedCard().saveToFile(image);

    pcscd = await startPcscd({ readyTimeoutMs: 10_000 });
    // the card runs in a child process: never on this thread, which makes blocking PC/SC calls
    const child = spawnKillOnExit(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/sim-serve.ts'), '--image', image, '--control', 'stdin'],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    serve = new CardChild(child);
    await serve.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    ctx = new sc.Context();
    await waitReader(true); // pcscd notices the insertion on its next poll (190-490 ms)
  }, 60_000);

  afterAll(async () => {
    ctx?.close();
    if (serve && serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.child.kill('SIGTERM');
      if ((await waitExit(serve.child, 5000)) === undefined) serve.child.kill('SIGKILL');
    }
    await pcscd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('pcscd runs with the TCP_NODELAY shim loaded', () => {
    expect(readFileSync(`/proc/${pcscd!.pid}/maps`, 'utf8')).toContain(NODELAY_SO);
  });

  it('opensc-tool lists "Virtual PCD 00 00" with a card in it', async () => {
    const out = await run('opensc-tool', ['-l']);
    expect(out).toMatch(/^\d+\s+Yes\s+.*Virtual PCD 00 00$/m);
  });

  it("opensc-tool reads the simulated card's ATR", async () => {
    const out = await run('opensc-tool', ['-c', 'default', '-r', '0', '-a']);
    expect(out.trim().replace(/:/g, '').toUpperCase()).toBe(hexOf(SimulatedCard.fromFile(image).atr));
  });

  it('opensc-tool gets byte for byte what the card answers in-process, and SELECT of D-RMB ends 9000', async () => {
    const out = await run('opensc-tool', ['-c', 'default', '-r', '0', ...SCRIPT.flatMap((a) => ['-s', a])]);
    const expected = inProcessAnswers(image, SCRIPT);
    expect(parseOpenscResponses(out)).toEqual(expected);
    expect(expected[0].endsWith('9000')).toBe(true);
  });

  it('scriptor running an APDU script file gets the same responses', async () => {
    const file = join(dir, 'session.apdu');
    writeFileSync(file, ['reset', ...SCRIPT].join('\n') + '\n');
    const out = await run('scriptor', ['-r', READER, file]);
    expect(out).toContain(`OK: ${hexOf(SimulatedCard.fromFile(image).atr).replace(/(..)/g, '$1 ').trim()}`);
    expect(parseScriptorResponses(out)).toEqual(inProcessAnswers(image, SCRIPT));
  });

  it('the smartcard binding transmits byte-faithfully with a median round trip under 10 ms', async () => {
    const reader = ctx!.listReaders().find((r) => r.name === READER)!;
    const card = await reader.connect(sc.SCARD_SHARE_SHARED, sc.SCARD_PROTOCOL_T0 | sc.SCARD_PROTOCOL_T1);
    const times: number[] = [];
    try {
      const got: string[] = [];
      for (const a of SCRIPT) got.push(hexOf(await card.transmit(Buffer.from(hexToBytes(a)))));
      expect(got).toEqual(inProcessAnswers(image, SCRIPT));
      const select = Buffer.from(hexToBytes(SCRIPT[0]));
      for (let i = 0; i < 20; i++) await card.transmit(select); // warm-up
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        await card.transmit(select);
        times.push(performance.now() - t0);
      }
    } finally {
      card.disconnect(sc.SCARD_LEAVE_CARD);
    }
    times.sort((a, b) => a - b);
    const median = times[100];
    const p90 = times[180];
    console.info(`vpcd round trip over 200 SELECTs: median ${median.toFixed(3)} ms, p90 ${p90.toFixed(3)} ms, max ${times[199].toFixed(3)} ms`);
    // about 0.3 ms with TCP_NODELAY on both sides; 44 ms when Nagle meets the delayed ACK
    expect(median).toBeLessThan(10);
  });

  it('removal through the serve control empties the reader (PC/SC status and pcsc_scan), and re-insertion serves again', async () => {
    expect(pcscScanCardState(await run('pcsc_scan', ['-n', '-c']), READER)).toBe('Card inserted');
    let from = serve!.lines.length;
    serve!.send('remove');
    await serve!.waitFor('card removed from vpcd 127.0.0.1:35963', 5000, from);
    await waitReader(false); // removal is noticed in 135-400 ms
    expect(pcscScanCardState(await run('pcsc_scan', ['-n', '-c']), READER)).toBe('Card removed');

    from = serve!.lines.length;
    serve!.send('insert');
    await serve!.waitFor('card inserted in vpcd 127.0.0.1:35963', 5000, from);
    await waitReader(true);
    const out = await run('opensc-tool', ['-c', 'default', '-r', '0', '-s', SCRIPT[0]]);
    expect(parseOpenscResponses(out)).toEqual(inProcessAnswers(image, SCRIPT.slice(0, 1)));
  });

  it('quit removes the card, saves a loadable image (written anew) and exits 0', async () => {
    const child = serve!.child;
    const before = statSync(image).ino;
    serve!.send('quit');
    expect(await waitExit(child, 10_000)).toBe(0);
    await waitReader(false);
    expect(statSync(image).ino).not.toBe(before); // atomic save: a new file renamed over the old one
    expect(inProcessAnswers(image, SCRIPT.slice(0, 1))[0]).toMatch(/9000$/);
  });
});

// starts and kills pcscd itself: not run against a reused daemon
describe.skipIf((missing.length > 0 && !IN_CI) || process.env[REUSE_ENV] === '1')('the pcscd test harness', { timeout: 30_000 }, () => {
  const handles: PcscdHandle[] = [];
  afterAll(async () => {
    for (const h of handles) await h.stop();
  });
  const waitNoPcscd = async (): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (livePcscdPids().length > 0) {
      if (Date.now() > deadline) throw new Error(`pcscd still running: ${livePcscdPids().join(', ')}`);
      await sleep(20);
    }
  };

  it('refuses, naming the pid, to start while another pcscd runs, and reuses it when asked', async () => {
    if (missing.length) throw new Error(`the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    const first = await startPcscd();
    handles.push(first);
    await expect(startPcscd({ reuse: false })).rejects.toThrow(new RegExp(`another pcscd is running \\(pid ${first.pid}\\)`));
    const reused = await startPcscd({ reuse: true });
    expect(reused).toMatchObject({ pid: first.pid, started: false });
    await reused.stop(); // a no-op: the daemon we did not start keeps running
    expect(livePcscdPids()).toEqual([first.pid]);
    await first.stop();
    expect(livePcscdPids()).toEqual([]);
    expect(existsSync(`${PCSCD_RUN_DIR}/pcscd.pid`)).toBe(false);
  });

  it('removes the pid and socket files a SIGKILLed pcscd left behind, then starts', async () => {
    const killed = await startPcscd();
    handles.push(killed);
    const pidFile = `${PCSCD_RUN_DIR}/pcscd.pid`;
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(10); // written just after "daemon ready"
    process.kill(killed.pid, 'SIGKILL');
    await waitNoPcscd();
    expect(existsSync(pidFile)).toBe(true); // stale
    const next = await startPcscd();
    handles.push(next);
    expect(next.started).toBe(true);
    // pcscd creates the file, then writes its pid: on a loaded machine the two are apart.
    const pidLine = () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : '');
    for (let i = 0; i < 500 && !pidLine().endsWith('\n'); i++) await sleep(10);
    expect(pidLine()).toMatch(new RegExp(`^${next.pid}\\n`));
    await next.stop();
    expect(livePcscdPids()).toEqual([]);
  });
});
