/**
 * @module The POS purse debit through the real PC/SC stack (issue 7 "done when"): an issued card holding
 * registry-recorded coins is served into pcscd's vpcd reader by `drmb sim serve`, a PosTerminal pays
 * through openReader, and the queued packet settles in an embedded registry to the merchant's bank.
 * Slow suite; never skipped in CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPacketCoder } from '../../applet-spec/value-formats.js';
import { bytesToHex } from '../../base/bytes.js';
import { sm3 } from '../../crypto/sm3.js';
import { mintCoins } from '../../bank/mint.js';
import { bankOwner, CENTRAL_BANK, cardOwner, Registry } from '../../bank/registry.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { loadPcsc, openReader } from '../../host/pcsc.js';
import { issuedCard, loadOnto, MERCHANT, posTerminal, type PosWorld, posWorld } from '../pos-fixture.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { loadKey } from '../../keys/key-files.js';
import { startPcscd, type PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { type CardChild, maySkip, missing, READER, skipReason, spawnServe, waitReader } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/pos-pcsc.test.ts skipped: ${skipReason}`);

const CARD_ID = '62120000000000007001';
/** The merchant's commercial bank (the acquirer the terminal uploads to). */
const MERCHANT_BANK = '102100000077';

describe.skipIf(maySkip)(`POS payment through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 120_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let child: CardChild | undefined;
  let registry: Registry | undefined;
  let w: PosWorld;
  let dir: string;
  let image: string;

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    dir = mkdtempSync(join(tmpdir(), 'drmb-pos-pcsc-'));
    // The slow parts (SM9 ceremony, issuance, minting) before taking the shared PC/SC stack.
    w = posWorld();
    const mintMaster = loadKey('mint-master', { dir: join(w.dir, 'keys'), env: {} }).secret.master;
    registry = await Registry.open({ trust: w.anchors, mintMaster });
    const coins = mintCoins(
      { signingKey: { privateKey: w.coinSigning.secret.privateKey, keyIndex: w.coinSigning.keyIndex }, mintMaster, issueDate: '20260101', expiryDate: '20361231' },
      [10000, 5000, 2000],
    );
    await registry.recordMint(coins);
    // The coins leave the central bank for the card (a withdrawal recorded before the load).
    await registry.transfer(
      coins.map((c) => c.body.serial),
      CENTRAL_BANK,
      cardOwner(CARD_ID),
    );
    const sim = await issuedCard(w, CARD_ID, []);
    await loadOnto(w, sim, coins);
    expect(sim.memory.balanceFen).toBe(17000);
    image = join(dir, 'card.json');
    sim.saveToFile(image);
    pcscd = await startPcscd();
  }, 180_000);

  afterAll(async () => {
    try {
      await child?.quit();
    } finally {
      await pcscd?.stop();
      await registry?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('pays 20 yuan from a card in the vpcd reader, queues the packet once, and the registry settles it to the merchant bank', async () => {
    child = spawnServe(image, 35963);
    await child.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await waitReader(true, READER);

    const queueFile = join(dir, 'queue.jsonl');
    const pos = posTerminal(w, queueFile);
    const t = await openReader(READER);
    let balanceAfter: number;
    try {
      const card = new DrmbCard(t);
      const r = await pos.pay(card, 2000);
      expect(r).toMatchObject({ cardId: CARD_ID, counter: 1, amountFen: 2000, paidFen: 2000, changeFen: 0, coinCount: 1, recovered: false });
      // The card's balance, read back through the reader in the same connection.
      balanceAfter = await card.balance();
    } finally {
      await t.close();
    }
    expect(balanceAfter).toBe(15000);

    // A restarted terminal sees exactly one packet for this debit.
    const pending = new UploadQueue(queueFile).pending();
    expect(pending.map((p) => [p.cardId, p.counter, p.type, p.amountFen])).toEqual([[CARD_ID, 1, 'PURCHASE', 2000]]);
    const { header } = exportPacketCoder.decode(pending[0].packet);
    expect(header).toMatchObject({ payeeIdentity: MERCHANT, payerCardId: CARD_ID, payerCounter: 1, amountFen: 2000 });

    // Settlement: the card owned the coin in the registry; the merchant's bank owns it now.
    const s = await registry!.settle(pending[0].packet, { payeeIdentity: MERCHANT, payeeOwner: bankOwner(MERCHANT_BANK) });
    expect(s).toMatchObject({ type: 'PURCHASE', payerCardId: CARD_ID, payerCounter: 1, amountFen: 2000, replayed: false });
    expect(bytesToHex(s.packetHash)).toBe(bytesToHex(sm3(pending[0].packet)));
    expect(await registry!.balanceOf(bankOwner(MERCHANT_BANK))).toBe(2000);
    expect(await registry!.balanceOf(cardOwner(CARD_ID))).toBe(15000);
    expect(await registry!.mintedTotal()).toBe(17000);

    // serve saves the image on exit: the card keeps the debit made through the reader.
    await child.quit();
    await waitReader(false, READER);
    const saved = SimulatedCard.fromFile(image);
    expect(saved.memory.balanceFen).toBe(15000);
    expect(saved.memory.counter).toBe(2);
  });
});
