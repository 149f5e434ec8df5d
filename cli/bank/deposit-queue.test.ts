/**
 * @module `drmb bank deposit --queue` of a POS terminal that made change: the CHANGE packet settles on
 * the card's receipt, from the merchant bank's float to the card, before the purchase it made possible;
 * nothing in the queue waits or settles twice. Slow: real SM9 cards.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintCoins } from '../../bank/mint.js';
import { bankOwner, cardOwner } from '../../bank/registry.js';
import { sm9ExtractSignKey } from '../../crypto/sm9/sm9.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { CoinFloat } from '../../host/pos/coin-float.js';
import { CARD_PIN, issuedCard, loadOnto, MERCHANT, posTerminal, posWorld, TERMINAL_IDENTITY, transportOf } from '../../test/pos-fixture.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { loadKey } from '../../keys/key-files.js';
import { runDeposit } from './deposit.js';
import { openRegistry } from './registry-options.js';

const CARD = '62120000000000006101';
const MERCHANT_BANK = '104100000003';

describe('drmb bank deposit of a POS queue with change', () => {
  it('settles the CHANGE packet to the card on its receipt and the purchase to the merchant bank, once', async () => {
    const w = posWorld();
    const dir = mkdtempSync(join(tmpdir(), 'drmb-deposit-change-'));
    const reg = { keys: join(w.dir, 'keys'), registry: join(dir, 'registry') };
    // Coins of the ceremony's mint master, which the registry checks m against.
    const mintMaster = loadKey('mint-master', { dir: reg.keys, env: {} }).secret.master;
    const coin = (denominations: number[]) =>
      mintCoins({ signingKey: { privateKey: w.coinSigning.secret.privateKey, keyIndex: w.coinSigning.keyIndex }, mintMaster, issueDate: '20260101', expiryDate: '20361231' }, denominations);
    const sim = await issuedCard(w, CARD, []);
    await loadOnto(w, sim, coin([5000, 2000]));
    const float = coin([1000, 1000, 500, 200, 100]);
    const registry = await openRegistry(reg, 'drmb bank deposit', { settles: true });
    try {
      await registry.recordMint(sim.memory.coins, cardOwner(CARD));
      await registry.recordMint(float, bankOwner(MERCHANT_BANK));
    } finally {
      await registry.close();
    }
    const queue = join(dir, 'queue.jsonl');
    const signKey = sm9ExtractSignKey(w.kgcSign.secret.privateKey, new TextEncoder().encode(TERMINAL_IDENTITY));
    const pos = posTerminal(w, queue, { change: { identity: TERMINAL_IDENTITY, signKey, float: new CoinFloat(float) } });
    // 30.00 yuan from a card holding 50.00 + 20.00: it pays 50.00 and gets 20.00 change from the float.
    const paid = await pos.pay(new DrmbCard(transportOf(sim)), 3000, { pin: CARD_PIN });
    expect(paid).toMatchObject({ amountFen: 3000, paidFen: 5000, changeFen: 2000 });
    expect(new UploadQueue(queue).pending().map((p) => p.type)).toEqual(['CHANGE', 'PURCHASE']);

    const d = await runDeposit({ ...reg, queue, payee: MERCHANT, bankCode: MERCHANT_BANK });
    expect(d.lines).toEqual([
      expect.objectContaining({ type: 'CHANGE', cardId: CARD, amountFen: 2000, result: 'settled', owner: cardOwner(CARD) }),
      expect.objectContaining({ type: 'PURCHASE', cardId: CARD, amountFen: 5000, result: 'settled', owner: bankOwner(MERCHANT_BANK) }),
    ]);
    const after = await openRegistry(reg, 'drmb bank deposit', { settles: true });
    try {
      // The registry's card holding is exactly what the card holds; the merchant bank has the float less the change, plus the payment.
      const onCard = sim.memory.coins.map((c) => Buffer.from(c.body.serial).toString('hex')).sort();
      expect((await after.coinsOf(cardOwner(CARD))).map((c) => Buffer.from(c.body.serial).toString('hex')).sort()).toEqual(onCard);
      expect(await after.balanceOf(bankOwner(MERCHANT_BANK))).toBe(2800 - 2000 + 5000);
      expect(await after.pending()).toEqual([]);
      expect(await after.blacklist()).toEqual([]);
    } finally {
      await after.close();
    }
    expect((await runDeposit({ ...reg, queue, payee: MERCHANT, bankCode: MERCHANT_BANK })).lines).toEqual([]);
  }, 120_000);
});
