/**
 * @module The card-level suite (test/card-suite.ts) through the real PC/SC stack: pcscd + vpcd +
 * `drmb sim serve` in a child process, reached with openReader('Virtual PCD 00 00') and the default
 * host stack; plus concurrent callers on one reader, and `drmb card readers` / `info` on the reader.
 * Each suite test gets a fresh serve child loaded from the same ISSUED image (about 1 s), so the
 * tests do not depend on each other's card state. Slow suite (~15 s); skipped outside CI only when
 * pcscd / vpcd are not installed, never in CI.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hex } from '../../applet-spec/codec/hex.js';
import { collectInfo, formatInfo } from '../../cli/card/info.js';
import { registerCardCommands } from '../../cli/card/index.js';
import { collectReaders } from '../../cli/card/readers.js';
import { withCard } from '../../cli/card/connect.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { listReaders, loadPcsc, openReader } from '../../host/pcsc.js';
import { findPcscd, NODELAY_SO, spawnKillOnExit, startPcscd, vpcdInstalled, waitExit } from '../../scripts/pcsc-harness.js';
import type { PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { cardSuite } from '../card-suite.js';
import { stateImages } from '../state-images.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READER = 'Virtual PCD 00 00';
const CARD_ID = '62120000000000000666';
const IN_CI = !!process.env.CI && process.env.CI !== 'false';

const missing = [...(findPcscd() ? [] : ['pcscd']), ...(vpcdInstalled() ? [] : ['vsmartcard-vpcd']), ...(existsSync(NODELAY_SO) ? [] : [NODELAY_SO])];
const skipReason = missing.length ? `not installed: ${missing.join(', ')} (run scripts/pcsc/setup.sh)` : '';
if (missing.length && !IN_CI) console.warn(`test/pcsc/card-suite-pcsc.test.ts skipped: ${skipReason}`);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The serve child: its stderr lines, waiting for one, and its stdin control (remove / insert / quit). */
class ServeChild {
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
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/** Polls the reader until it shows a card (or none): pcscd notices insertion in 190-490 ms, removal in 135-400 ms. */
async function waitReader(present: boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = (await listReaders()).find((x) => x.name === READER);
    if (r && r.cardPresent === present) return;
    if (Date.now() > deadline) throw new Error(`reader "${READER}" ${present ? 'has no card' : 'still has a card'} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

describe.skipIf(missing.length > 0 && !IN_CI)(`the host library through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 60_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let serve: ServeChild | undefined;
  let dir: string;
  let imageFile: string;
  let image: Uint8Array;

  /** Quits the serve child (it removes the card) and waits until pcscd shows the reader empty. */
  const stopServe = async (): Promise<void> => {
    if (!serve) return;
    const s = serve;
    serve = undefined;
    if (s.alive) {
      s.send('quit');
      if ((await waitExit(s.child, 5000)) === undefined) s.child.kill('SIGKILL');
    }
    await waitReader(false); // inserting again before this reaches the stale card ("Transaction failed")
  };

  /** A new serve child with the ISSUED image restored, its card present in the reader. */
  const insertFreshCard = async (): Promise<void> => {
    await stopServe();
    writeFileSync(imageFile, image);
    serve = new ServeChild(
      spawnKillOnExit(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/sim-serve.ts'), '--image', imageFile, '--control', 'stdin'], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    await serve.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await waitReader(true);
  };

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc(); // fails with the install advice when the optional binding is missing
    dir = mkdtempSync(join(tmpdir(), 'drmb-pcsc-suite-'));
    imageFile = join(dir, 'issued.json');
    // personalized in this process: the suite's systemKeys() are the card's keys
    image = stateImages(CARD_ID).ISSUED;
    pcscd = await startPcscd();
  }, 90_000);

  afterAll(async () => {
    try {
      await stopServe();
    } finally {
      await pcscd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  cardSuite(
    `PC/SC (${READER}, fresh serve child per test)`,
    async () => {
      await insertFreshCard();
      const t = await openReader(READER);
      expect(t.readerName).toBe(READER);
      return t;
    },
    CARD_ID,
  );

  it('serializes 12 concurrent callers on one reader: each lease runs its APDUs with no other in between', async () => {
    await insertFreshCard();
    const lines: string[] = [];
    const t = await openReader(READER, { record: { sink: (l) => lines.push(l) } });
    try {
      const leases = Array.from({ length: 8 }, (_, i) =>
        t.lease(async (lt) => {
          const card = new DrmbCard(lt);
          await card.select();
          // uneven pauses inside the lease: others must wait, not slip in
          await sleep(i % 3);
          return [await card.balance(), await card.getData('cardId')];
        }),
      );
      const singles = Array.from({ length: 4 }, () => t.transmit(Uint8Array.of(0x80, 0x5c, 0x00, 0x02, 0x04)));
      const results = await Promise.all(leases);
      await Promise.all(singles);
      expect(results).toEqual(Array.from({ length: 8 }, () => [17100, CARD_ID]));
      const commands = lines.filter((l) => l.startsWith('=> ')).map((l) => l.slice(3, 11));
      expect(commands).toHaveLength(8 * 3 + 4);
      // every SELECT is followed directly by its lease's GET BALANCE and GET DATA DF01
      const selects = commands.flatMap((c, i) => (c === '00A40400' ? [i] : []));
      expect(selects).toHaveLength(8);
      for (const i of selects) expect(commands.slice(i, i + 3)).toEqual(['00A40400', '805C0002', '80CADF01']);
    } finally {
      await t.close();
    }
  });

  describe('drmb card on the reader', () => {
    beforeAll(insertFreshCard, 30_000);

    it('readers lists "Virtual PCD 00 00" with the card and its ATR, and the empty second slot', async () => {
      const readers = await collectReaders();
      const atr = SimulatedCard.fromImage(image).atr;
      expect(readers.find((r) => r.name === READER)).toMatchObject({ cardPresent: true, atr });
      expect(readers.find((r) => r.name === 'Virtual PCD 00 01')).toMatchObject({ cardPresent: false });
    });

    it('info --reader "Virtual PCD 00 00" collects card ID, state and balance', async () => {
      const r = await withCard({ reader: READER }, (t, conn) => collectInfo(t, conn.source, conn.atr));
      expect(r).toMatchObject({ source: `PC/SC ${READER}`, cardId: CARD_ID, state: 'ISSUED', balanceFen: 17100, pinTriesLeft: 3 });
      expect(hex(r.atr)).toBe(hex(SimulatedCard.fromImage(image).atr));
    });

    it('the registered commands print the reader list and the card ID', async () => {
      const run = async (args: string[]): Promise<string> => {
        const program = new Command('drmb').exitOverride();
        registerCardCommands(program.command('card'));
        const out: string[] = [];
        const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
          out.push(String(s));
          return true;
        });
        try {
          await program.parseAsync(['card', ...args], { from: 'user' });
        } finally {
          spy.mockRestore();
        }
        return out.join('');
      };
      expect(await run(['readers'])).toMatch(/^ 0 {2}Virtual PCD 00 00 {2}card 3B/m);
      const info = await run(['info', '--reader', READER]);
      expect(info).toContain(`card ID     ${CARD_ID}`);
      expect(info).toBe(`${formatInfo(await withCard({ reader: '0' }, (t, c) => collectInfo(t, c.source, c.atr)))}\n`);
    });
  });
});
