/**
 * @module The POS purchase through the real PC/SC stack with the PSAM in the second reader (issue 13
 * "done when"): the user's card is served into "Virtual PCD 00 00" and a personalized PSAM into
 * "Virtual PCD 00 01" by two `drmb sim serve` children; `drmb pos pay --reader --psam-reader` runs with
 * a key directory holding trust-anchors.json only, then a PosTerminal pays again through openReader on
 * both readers. Slow suite; never skipped in CI.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrmbCard } from '../../host/drmb-card.js';
import { loadPcsc, openReader } from '../../host/pcsc.js';
import { PosTerminal } from '../../host/pos/pos-terminal.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { Psam } from '../../host/psam.js';
import { collectPersoPsam } from '../../cli/perso/psam.js';
import { collectPosPay } from '../../cli/pos/pay.js';
import { createSimCard } from '../../cli/sim/create.js';
import { startPcscd, type PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { issuedCard, MERCHANT, type PosWorld, posWorld } from '../pos-fixture.js';
import { type CardChild, maySkip, missing, READER, READER_2, skipReason, spawnServe, waitReader } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/psam-pcsc.test.ts skipped: ${skipReason}`);

const CARD_ID = '62120000000000007131';
const PSAM_ID = '88000000000000007131';

describe.skipIf(maySkip)(`POS payment through PC/SC with the PSAM in the second reader${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 120_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let card: CardChild | undefined;
  let psam: CardChild | undefined;
  let w: PosWorld;
  let dir: string;
  let cardImage: string;
  let psamImage: string;
  let terminalKeys: string;

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    dir = mkdtempSync(join(tmpdir(), 'drmb-psam-pcsc-'));
    // The slow parts (SM9 ceremony, issuance, personalization) before taking the shared PC/SC stack.
    w = posWorld();
    cardImage = join(dir, 'card.json');
    (await issuedCard(w, CARD_ID, [5000, 2000, 1000])).saveToFile(cardImage);
    psamImage = join(dir, 'psam.json');
    await createSimCard({ image: psamImage, psam: true, cardId: PSAM_ID, keys: join(w.dir, 'keys') });
    await collectPersoPsam({ sim: psamImage, keys: join(w.dir, 'keys'), terminalId: '202611220131' });
    // The terminal's key directory: public keys only.
    terminalKeys = join(dir, 'terminal-keys');
    mkdirSync(terminalKeys);
    copyFileSync(join(w.dir, 'keys', 'trust-anchors.json'), join(terminalKeys, 'trust-anchors.json'));
    pcscd = await startPcscd();
  }, 180_000);

  afterAll(async () => {
    try {
      await card?.quit();
      await psam?.quit();
    } finally {
      await pcscd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('pays with the card in slot 0 and the PSAM in slot 1, the terminal holding no master key; the sequence numbers are the PSAM\'s and survive in its image', async () => {
    card = spawnServe(cardImage, 35963);
    psam = spawnServe(psamImage, 35964, ['--psam']);
    await card.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await psam.waitFor('card inserted in vpcd 127.0.0.1:35964', 20_000);
    await waitReader(true, READER);
    await waitReader(true, READER_2);

    // drmb pos pay with both readers and trust-anchors.json alone.
    const queueFile = join(dir, 'queue.jsonl');
    const first = await collectPosPay({ amount: '20', reader: READER, psamReader: READER_2, keys: terminalKeys, queue: queueFile, merchant: MERCHANT });
    expect(first).toMatchObject({ cardId: CARD_ID, amountFen: 2000, paidFen: 2000, terminalSequence: 1, recovered: false });
    expect(first.psam).toContain(READER_2);

    // The host library on the same two readers: the next number comes from the PSAM.
    const cardReader = await openReader(READER);
    const psamReader = await openReader(READER_2);
    try {
      const pos = new PosTerminal({ psam: new Psam(psamReader), queue: new UploadQueue(queueFile), anchors: w.anchors, payeeIdentity: MERCHANT });
      const second = await pos.pay(new DrmbCard(cardReader), 1000);
      expect(second).toMatchObject({ cardId: CARD_ID, amountFen: 1000, terminalSequence: 2 });
    } finally {
      await cardReader.close();
      await psamReader.close();
    }
    expect(new UploadQueue(queueFile).pending().map((p) => [p.type, p.amountFen, p.terminalSequence])).toEqual([
      ['PURCHASE', 2000, 1],
      ['PURCHASE', 1000, 2],
    ]);

    // serve saves both images on exit: the card keeps the debits, the PSAM its sequence number.
    await card.quit();
    await psam.quit();
    await waitReader(false, READER);
    await waitReader(false, READER_2);
    expect(SimulatedCard.fromFile(cardImage).memory.balanceFen).toBe(5000);
    expect(SimulatedCard.psamFromFile(psamImage).memory.sequence).toBe(2);
  });
});
