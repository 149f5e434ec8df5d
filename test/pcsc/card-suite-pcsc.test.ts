/**
 * @module The card-level suite (test/card-suite.ts) through the real PC/SC stack: pcscd + vpcd +
 * `drmb sim serve` in a child process, reached with openReader('Virtual PCD 00 00') and the default
 * host stack; plus concurrent callers on one reader, and `drmb card readers` / `info` on the reader.
 * Each suite test gets a fresh serve child loaded from the same ISSUED image (about 1 s), so the
 * tests do not depend on each other's card state. Slow suite (~15 s); skipped outside CI only when
 * pcscd / vpcd are not installed, never in CI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hex } from '../../base/hex.js';
import { collectInfo, formatInfo } from '../../cli/card/info.js';
import { registerCardCommands } from '../../cli/card/index.js';
import { collectReaders } from '../../cli/card/readers.js';
import { withCard } from '../../cli/open-card.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { loadPcsc, openReader } from '../../host/pcsc.js';
import { startPcscd, waitExit } from '../../scripts/pcsc-harness.js';
import { CardChild, maySkip, missing, READER, skipReason, sleep, spawnServe, waitReader } from './pcsc-fixture.js';
import type { PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { cardSuite } from '../card-suite.js';
import { stateImages } from '../state-images.js';

const CARD_ID = '62120000000000000666';
if (maySkip) console.warn(`test/pcsc/card-suite-pcsc.test.ts skipped: ${skipReason}`);

describe.skipIf(maySkip)(`the host library through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 60_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let serve: CardChild | undefined;
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
    serve = spawnServe(imageFile);
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
      const r = await withCard({ reader: READER }, { image: 'read-only' }, (t, conn) => collectInfo(t, conn.source, conn.atr));
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
      expect(info).toBe(`${formatInfo(await withCard({ reader: '0' }, { image: 'read-only' }, (t, c) => collectInfo(t, c.source, c.atr)))}\n`);
    });
  });
});
