/**
 * @module Hot-plug through the real PC/SC stack (pcscd + vpcd, card in a child process): a card pulled
 * during a purchase gives TransportError, and after re-insertion GET TRANSACTION PROVE tells whether
 * the debit happened (exactly once, or not at all, consistent with balance and log); watchReaders
 * reports card insertion and removal and survives a pcscd restart. Slow suite (~15 s); skipped
 * outside CI only when pcscd / vpcd are not installed, never in CI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../../base/hex.js';
import * as C from '../../applet-spec/commands.js';
import { exportPacketCoder } from '../../applet-spec/value-formats.js';
import { randomBytes } from '../../base/bytes.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { TransportError } from '../../host/errors.js';
import { loadPcsc, openReader, type ReaderTransport } from '../../host/pcsc.js';
import { type ReaderEvent, type ReaderWatcher, watchReaders } from '../../host/reader-watcher.js';
import { spawnKillOnExit, startPcscd } from '../../scripts/pcsc-harness.js';
import { CardChild, maySkip, missing, READER, ROOT, skipReason, sleep, spawnServe, waitReader } from './pcsc-fixture.js';
import type { PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { TERMINAL_ID } from '../card-fixture.js';
import { testSecureModule } from '../card-suite.js';
import { stateImages } from '../state-images.js';

const CARD_ID = '62120000000000000444';
if (maySkip) console.warn(`test/pcsc/hotplug.test.ts skipped: ${skipReason}`);

/**
 * A card child whose power can be cut right after the card has processed a command of a given INS
 * and before its response leaves: the card commits, the reader gets nothing and sees the card gone
 * (the simulator's PowerLossError, as VpcdClient handles it). Control on stdin: "cut-after <INS hex>",
 * "insert", "quit". The same memory stays in the child, as a real card keeps its EEPROM.
 */
const TEARING_CHILD = `
const root = process.argv[1];
const image = process.argv[2];
const { SimulatedCard } = await import(new URL('simulator/simulated-card.ts', root).href);
const { VpcdClient } = await import(new URL('simulator/vpcd-client.ts', root).href);
const { createInterface } = await import('node:readline');
const card = SimulatedCard.fromFile(image);
let cutIns;
const torn = {
  get atr() { return card.atr; },
  powerOn: () => card.powerOn(),
  powerOff: () => card.powerOff(),
  reset: () => card.reset(),
  transmit(command) {
    const response = card.transmit(command);
    if (cutIns !== undefined && command[1] === cutIns) {
      cutIns = undefined;
      const e = new Error('power cut after the card processed the command, before its response');
      e.name = 'PowerLossError';
      throw e;
    }
    return response;
  },
};
const client = new VpcdClient(torn, {});
client.on('connected', () => console.error('card inserted in vpcd'));
client.on('disconnected', (reason) => console.error('card removed: ' + reason));
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\\s+/);
  if (cmd === 'cut-after') { cutIns = parseInt(arg, 16); console.error('armed ' + arg); }
  else if (cmd === 'insert') client.insert().catch(() => {});
  else if (cmd === 'quit') client.remove().then(() => process.exit(0));
});
client.insert().catch(() => {});
`;

const spawnTearing = (imageFile: string): CardChild =>
  new CardChild(
    spawnKillOnExit(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', TEARING_CHILD, pathToFileURL(ROOT).href, imageFile], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );

const TERMINAL = (sequence: number) => ({
  terminalId: TERMINAL_ID,
  terminalSequence: sequence,
  date: '20261122',
  time: '140000',
  unpredictableNumber: randomBytes(8),
  payeeIdentity: 'shop@merchant',
});

/** What the card says about a purchase whose answer was lost, read over a new connection. */
async function resolvePurchase(counter: number): Promise<{ proof?: Uint8Array; balanceFen: number; purchases: { counter: number; amountFen: number; balanceAfterFen: number }[] }> {
  const t = await openReader(READER);
  try {
    return await t.lease(async (lt) => {
      const card = new DrmbCard(lt);
      await card.select();
      const proof = await card.transactionProof('PURCHASE', counter);
      const balanceFen = await card.balance();
      const purchases = (await card.readLog()).filter((r) => r.type === 'PURCHASE').map(({ counter: c, amountFen, balanceAfterFen }) => ({ counter: c, amountFen, balanceAfterFen }));
      return { ...(proof ? { proof } : {}), balanceFen, purchases };
    });
  } finally {
    await t.close();
  }
}

describe.skipIf(maySkip)(`hot-plug through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 60_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let dir: string;
  let imageFile: string;
  let image: Uint8Array;
  let card: CardChild | undefined;
  let reader: ReaderTransport | undefined;

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    dir = mkdtempSync(join(tmpdir(), 'drmb-pcsc-hotplug-'));
    imageFile = join(dir, 'issued.json');
    image = stateImages(CARD_ID).ISSUED;
    pcscd = await startPcscd();
  }, 90_000);

  afterEach(async () => {
    await reader?.close();
    reader = undefined;
    await card?.quit();
    card = undefined;
    if (pcscd) await waitReader(false);
  }, 30_000);

  afterAll(async () => {
    await pcscd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('a card pulled between INITIALIZE and DEBIT FOR PURCHASE: TransportError, and the proof shows no debit', async () => {
    writeFileSync(imageFile, image);
    card = spawnServe(imageFile);
    await card.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await waitReader(true);
    reader = await openReader(READER);
    let counter = -1;
    const serve = card;
    const err = await reader
      .lease(async (t) => {
        const c = new DrmbCard(t);
        await c.select();
        await c.verifyPin('123456');
        return c.purchase(2000, TERMINAL(51), async (challenge) => {
          counter = challenge.counter;
          // the customer pulls the card while the terminal computes MAC1
          await serve.control('remove', 'card removed from vpcd 127.0.0.1:35963');
          return testSecureModule(51, '20261122', '140000')(challenge);
        });
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe('removed');
    expect(counter).toBeGreaterThanOrEqual(0);
    // the transport stays dead: a removed card's handle is not reused
    await expect(reader.transmit(Uint8Array.of(0x80, 0x5c, 0x00, 0x02, 0x04))).rejects.toMatchObject({ kind: 'removed' });

    await waitReader(false);
    await card.control('insert', 'card inserted in vpcd 127.0.0.1:35963');
    await waitReader(true);
    const after = await resolvePurchase(counter);
    expect(after.proof).toBeUndefined(); // 9406: no transaction with that counter
    expect(after.balanceFen).toBe(17100);
    expect(after.purchases).toEqual([]);
  });

  it('power cut after the card debited, before its answer: TransportError, and the proof shows exactly one debit', async () => {
    writeFileSync(imageFile, image);
    card = spawnTearing(imageFile);
    await card.waitFor('card inserted in vpcd', 20_000);
    await waitReader(true);
    await card.control(`cut-after ${C.debitForPurchase.ins.toString(16)}`, 'armed');
    reader = await openReader(READER);
    let counter = -1;
    const err = await reader
      .lease(async (t) => {
        const c = new DrmbCard(t);
        await c.select();
        await c.verifyPin('123456');
        return c.purchase(2000, TERMINAL(52), (challenge) => {
          counter = challenge.counter;
          return testSecureModule(52, '20261122', '140000')(challenge);
        });
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).kind).toBe('removed');
    await card.waitFor('card removed: power-loss', 5000);

    await waitReader(false);
    await card.control('insert', 'card inserted in vpcd');
    await waitReader(true);
    const after = await resolvePurchase(counter);
    expect(after.proof).toBeDefined();
    const packet = exportPacketCoder.decode(after.proof!.subarray(8));
    expect(packet.header).toMatchObject({ type: 'PURCHASE', amountFen: 2000, payerCardId: CARD_ID, terminalSequence: 52 });
    expect(after.balanceFen).toBe(15100);
    expect(after.purchases).toEqual([{ counter, amountFen: 2000, balanceAfterFen: 15100 }]);
    // asking again gives the same proof byte for byte: the terminal can retry the question safely
    expect(hex((await resolvePurchase(counter)).proof!)).toBe(hex(after.proof!));
  });

  it('watchReaders reports card insertion and removal, and keeps reporting across a pcscd restart', async () => {
    const events: ReaderEvent[] = [];
    const waitEvent = async (type: ReaderEvent['type'], reader: string | undefined, from: number, timeoutMs = 8000): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e, k) => k >= from && e.type === type && (reader === undefined || e.reader === reader));
        if (i >= 0) return i;
        if (Date.now() > deadline) throw new Error(`no ${type} ${reader ?? ''} event after ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => [e.type, e.reader]))}`);
        await sleep(20);
      }
    };
    const watcher: ReaderWatcher = await watchReaders((e) => events.push(e), { pollMs: 500, retryMaxMs: 400 });
    // keeps the machine-wide PC/SC stack lock through the restart below (the lock is re-entrant per thread)
    const lockHolder = await startPcscd({ reuse: true });
    try {
      // pcscd runs with no card: service up and both vpcd slots attached, empty
      await waitEvent('reader-attached', 'Virtual PCD 00 01', 0);
      expect(events.slice(0, 3).map((e) => [e.type, e.reader])).toEqual([
        ['service-up', undefined],
        ['reader-attached', READER],
        ['reader-attached', 'Virtual PCD 00 01'],
      ]);

      writeFileSync(imageFile, image);
      card = spawnServe(imageFile);
      let at = await waitEvent('card-inserted', READER, 3, 20_000);
      expect(hex(events[at].atr!)).toBe(hex(SimulatedCard.fromImage(image).atr));
      await card.control('remove', 'card removed from vpcd');
      at = await waitEvent('card-removed', READER, at + 1);
      await card.control('insert', 'card inserted in vpcd');
      at = await waitEvent('card-inserted', READER, at + 1);

      // pcscd stops: the service is down, and the readers (and the card) are gone with it
      reader = await openReader(READER);
      await pcscd!.stop();
      const down = await waitEvent('service-down', undefined, at + 1);
      const gone = await waitEvent('reader-detached', 'Virtual PCD 00 01', down);
      // pcscd may report the card gone just before it exits, so card-removed may precede service-down
      expect(
        events
          .slice(at + 1, gone + 1)
          .map((e) => `${e.type} ${e.reader ?? ''}`.trim())
          .sort(),
      ).toEqual(['card-removed Virtual PCD 00 00', 'reader-detached Virtual PCD 00 00', 'reader-detached Virtual PCD 00 01', 'service-down']);
      expect(events.findIndex((e, k) => k > at && e.type === 'reader-detached')).toBeGreaterThan(down);
      expect(watcher.serviceUp).toBe(false);
      // a transport opened before the restart fails cleanly
      await expect(reader.transmit(Uint8Array.of(0x80, 0x5c, 0x00, 0x02, 0x04))).rejects.toMatchObject({ name: 'TransportError', kind: 'unavailable' });
      await reader.close();
      reader = undefined;

      // pcscd is back: service up, readers attached, and the card (its child reconnects) inserted
      pcscd = await startPcscd();
      const up = await waitEvent('service-up', undefined, down + 1);
      const attached = [await waitEvent('reader-attached', READER, up), await waitEvent('reader-attached', 'Virtual PCD 00 01', up)];
      at = await waitEvent('card-inserted', READER, up, 15_000);
      expect(Math.min(...attached)).toBe(up + 1);
      expect(at).toBeGreaterThan(attached[0]);
      expect(watcher.readers.map((r) => [r.name, r.cardPresent])).toEqual([
        [READER, true],
        ['Virtual PCD 00 01', false],
      ]);

      // events still flow after the restart, and the card answers
      await waitReader(true);
      reader = await openReader(READER);
      expect((await new DrmbCard(reader).select()).cardId).toBe(CARD_ID);
      await reader.close();
      reader = undefined;
      await card.control('remove', 'card removed from vpcd');
      await waitEvent('card-removed', READER, at + 1);
    } finally {
      await watcher.stop();
      await lockHolder.stop();
    }
  });
});
