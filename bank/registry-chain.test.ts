/**
 * @module Double spending proved by the card's export hash chain: a restored card image that moves its
 * counter on before paying (so no counter is reused, and no coin either) still forks the chain.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrmbCard } from '../host/drmb-card.js';
import { issuedCard, loadOnto, MERCHANT, posTerminal, posWorld, transportOf, type PosWorld } from '../test/pos-fixture.js';
import { UploadQueue } from '../host/pos/upload-queue.js';
import { loadKey } from '../keys/key-files.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { mintCoins } from './mint.js';
import { bankOwner, CENTRAL_BANK, cardOwner, DoubleSpendError, Registry } from './registry.js';

const CARD = '62120000000000007001';
let w: PosWorld;
let registry: Registry;
let dir: string;

beforeAll(async () => {
  w = posWorld();
  dir = mkdtempSync(join(tmpdir(), 'drmb-chain-'));
  const mintMaster = loadKey('mint-master', { dir: join(w.dir, 'keys'), env: {} }).secret.master;
  registry = await Registry.open({ trust: w.anchors, mintMaster });
}, 120_000);

afterAll(async () => {
  await registry?.close();
});

describe('export chain forks', () => {
  it('proves double spending when a restored image moves its counter on and then pays with other coins', async () => {
    const mintMaster = loadKey('mint-master', { dir: join(w.dir, 'keys'), env: {} }).secret.master;
    const mint = (d: number[]) =>
      mintCoins({ signingKey: { privateKey: w.coinSigning.secret.privateKey, keyIndex: w.coinSigning.keyIndex }, mintMaster, issueDate: '20260101', expiryDate: '20361231' }, d);
    const first = mint([5000, 2000]);
    await registry.recordMint(first);
    await registry.transfer(first.map((c) => c.body.serial), CENTRAL_BANK, cardOwner(CARD));
    const sim = await issuedCard(w, CARD, []);
    await loadOnto(w, sim, first);
    const restorePoint = sim.toImage();

    // The original pays 50.00 with its 50-yuan coin.
    const q1 = join(dir, 'q1.jsonl');
    await posTerminal(w, q1).pay(new DrmbCard(transportOf(sim)), 5000);
    // The clone receives a fresh 10.00 load first (its counter moves on), then pays 20.00.
    const clone = SimulatedCard.fromImage(restorePoint);
    const more = mint([1000]);
    await registry.recordMint(more);
    await registry.transfer(more.map((c) => c.body.serial), CENTRAL_BANK, cardOwner(CARD));
    await loadOnto(w, clone, more);
    const q2 = join(dir, 'q2.jsonl');
    await posTerminal(w, q2).pay(new DrmbCard(transportOf(clone)), 2000);

    const p1 = new UploadQueue(q1).pending()[0];
    const p2 = new UploadQueue(q2).pending()[0];
    expect(p2.counter).not.toBe(p1.counter);
    const merchant = bankOwner('103100000002');
    await registry.settle(p1.packet, { payeeIdentity: MERCHANT, payeeOwner: merchant });
    const e = await registry.settle(p2.packet, { payeeIdentity: MERCHANT, payeeOwner: merchant }).catch((x) => x);
    expect(e).toBeInstanceOf(DoubleSpendError);
    expect((e as DoubleSpendError).proof).toMatchObject({ reason: 'chain-fork', payerCardId: CARD });
    expect(await registry.blacklist()).toEqual([CARD]);
    // Nothing of the forked packet moved.
    expect(await registry.balanceOf(merchant)).toBe(5000);
  }, 120_000);
});
