/** @module Benchmark: registry deposit throughput (verify + settle) in coins/s on PGlite, fixed-key SM2 verification fast path against plain sm2Verify. */
import { coinCoder, type Coin } from '../applet-spec/value-formats.js';
import { randomBytes } from '../crypto/bytes.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm9ExtractSignKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import { compare } from '../scripts/bench-harness.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { mintCoins } from './mint.js';
import { PgliteDb } from './pglite-db.js';
import { cardOwner, Registry } from './registry.js';

/** Coins per deposited packet (the card's maximum is 64; the payer's SM9 signature is verified once per packet). */
const COINS_PER_PACKET = 64;
/** Packets prepared per candidate: more than `measure` can consume in its budget (SM9 verification alone takes > 20 ms). */
const POOL = { precomputed: 44, plain: 7 };
const BUDGET_MS = 1000;
const GOAL_COINS_PER_SEC = 1000;

export default async function (): Promise<void> {
  const coinKey = sm2GenerateKeyPair();
  const kgc = sm9GenerateSignMasterKey();
  const mintMaster = randomBytes(16);
  const trust = { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey };
  const db = await PgliteDb.open();
  const fast = await Registry.onDb(db, { trust, mintMaster, verification: 'precomputed' });
  const plain = await Registry.onDb(db, { trust, mintMaster, verification: 'plain' });
  const mintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };

  let cardNo = 0;
  /** Packets from one payer card whose coins the registry records as the card's. */
  async function pool(n: number): Promise<Uint8Array[]> {
    const cardId = '62129000000000' + String(cardNo++).padStart(6, '0');
    const identity = `${cardId}|2036`;
    const signKey = sm9ExtractSignKey(kgc, new TextEncoder().encode(identity));
    const coins: Coin[] = mintCoins(mintParams, new Array(n * COINS_PER_PACKET).fill(100));
    await fast.recordMint(coins, cardOwner(cardId));
    const packets: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      packets.push(
        buildExportPacket({
          header: { payerCardId: cardId, payerIdentity: identity, payerCounter: i, payeeIdentity: 'shop@merchant' },
          coins: coins.slice(i * COINS_PER_PACKET, (i + 1) * COINS_PER_PACKET),
          signKey,
          kgcSignMasterPublicKey: kgc.publicKey,
        }),
      );
    }
    return packets;
  }
  const fastPackets = await pool(POOL.precomputed);
  const plainPackets = await pool(POOL.plain);
  const deposit = (reg: Registry, packets: Uint8Array[]) => async () => {
    const p = packets.pop();
    if (!p) throw new Error('benchmark packet pool exhausted: raise POOL');
    const s = await reg.settle(p, { payeeIdentity: 'shop@merchant', payeeOwner: 'bank:102100000002' });
    if (s.replayed || s.serials.length !== COINS_PER_PACKET) throw new Error('benchmark settlement did not move the coins');
  };

  const c = await compare(
    `registry deposit of a ${COINS_PER_PACKET}-coin packet (${coinCoder.size} B coins), PGlite: verify + settle`,
    ['fixed-key SM2 verification (precomputed tables)', deposit(fast, fastPackets)],
    ['plain SM2 verification', deposit(plain, plainPackets)],
    0.5,
    BUDGET_MS,
  );
  const coinsPerSec = (t: { opsPerSec: number }) => t.opsPerSec * COINS_PER_PACKET;
  const rate = coinsPerSec(c.candidate);
  console.log(`  deposit throughput: fast path ${rate.toFixed(0)} coins/s, plain ${coinsPerSec(c.baseline).toFixed(0)} coins/s (one core)`);
  console.log(`  goal >= ${GOAL_COINS_PER_SEC} coins/s/core  ${rate >= GOAL_COINS_PER_SEC ? 'MET' : 'NOT MET'}`);
  await db.close();
}
