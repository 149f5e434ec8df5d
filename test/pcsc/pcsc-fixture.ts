/**
 * @module Shared fixture of the PC/SC suites: whether the stack is installed (CI never skips), card
 * children (`drmb sim serve` or a custom card process) with their stderr lines and stdin control, and
 * waiting for pcscd to show a reader with or without a card.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listReaders } from '../../host/pcsc.js';
import { pcscStackMissing, spawnKillOnExit, waitExit } from '../../scripts/pcsc-harness.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const IN_CI = !!process.env.CI && process.env.CI !== 'false';
export const READER = 'Virtual PCD 00 00';
export const READER_2 = 'Virtual PCD 00 01';

/** What the PC/SC suites need that is not installed (empty when all is there). */
export const missing: string[] = pcscStackMissing();
export const skipReason = missing.length ? `not installed: ${missing.join(', ')} (run scripts/pcsc/setup.sh)` : '';

/** True when a suite may skip: outside CI only. In CI a missing stack fails the suite. */
export const maySkip = missing.length > 0 && !IN_CI;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A card child process: its stderr lines, waiting for one, and stdin control lines. */
export class CardChild {
  readonly lines: string[] = [];
  private waiters: { text: string; resolve: () => void }[] = [];
  constructor(readonly child: ChildProcess) {
    let rest = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      const parts = (rest + s).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => !(line.includes(w.text) && (w.resolve(), true)));
      }
    });
    child.stdout!.resume();
  }

  waitFor(text: string, timeoutMs: number, from = 0): Promise<void> {
    if (this.lines.slice(from).some((l) => l.includes(text))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`card child did not print "${text}" within ${timeoutMs} ms; stderr:\n${this.lines.join('\n')}`)), timeoutMs);
      this.waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** Sends a control line and waits for the answer line that follows it. */
  async control(command: string, answer: string, timeoutMs = 5000): Promise<void> {
    const from = this.lines.length;
    this.send(command);
    await this.waitFor(answer, timeoutMs, from);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async quit(): Promise<void> {
    if (!this.alive) return;
    this.send('quit');
    if ((await waitExit(this.child, 5000)) === undefined) this.child.kill('SIGKILL');
  }
}

/** `drmb sim serve` from source in a child process (never on the test's thread), stdin control. */
export function spawnServe(imageFile: string, port = 35963, extraArgs: readonly string[] = []): CardChild {
  return new CardChild(
    spawnKillOnExit(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/sim-serve.ts'), '--image', imageFile, '--port', String(port), '--control', 'stdin', ...extraArgs], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
}

/** Polls until the reader shows a card (or none): pcscd notices insertion in 190-490 ms, removal in 135-400 ms. */
export async function waitReader(present: boolean, reader = READER, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = (await listReaders()).find((x) => x.name === reader);
    if (r && r.cardPresent === present) return;
    if (Date.now() > deadline) throw new Error(`reader "${reader}" ${present ? 'has no card' : 'still has a card'} after ${timeoutMs} ms`);
    await sleep(25);
  }
}
