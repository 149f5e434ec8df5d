/** @module Benchmark: registry deposit throughput (verify + settle) in coins/s on PGlite, with the fixed-key SM2 verification fast path against plain sm2Verify. */
import { coinCoder, type Coin } from '../applet-spec/value-formats.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { mintCoins } from '../bank/mint.js';
import { PgliteDb } from '../bank/pglite-db.js';
import { cardOwner, Registry } from '../bank/registry.js';
import { randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9ExtractSignKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import type { Benchmark } from './harness.js';

/** Coins per deposited packet (the card's maximum is 64; the payer's SM9 signature is verified once per packet). */
const COINS_PER_PACKET = 64;

export const registryBench: Benchmark = {
  name: 'registry',
  title: 'registry deposit of 64-coin packets on PGlite, precomputed against plain SM2 verification',
  async run(b) {
    // A deposit consumes its packet, so each side makes a fixed number of calls, one packet each (the
    // first a warm-up); a time budget would run out of packets on a fast machine.
    const calls = { precomputed: b.size(40, 3), plain: b.size(12, 3) };
    const coinKey = sm2GenerateKeyPair();
    const kgc = sm9GenerateSignMasterKey();
    const mintMaster = randomBytes(16);
    const trust = { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey };
    const db = await PgliteDb.open();
    try {
      const fast = await Registry.onDb(db, { trust, mintMaster, verification: 'precomputed' });
      const plain = await Registry.onDb(db, { trust, mintMaster, verification: 'plain' });
      const mintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };

      let cardNo = 0;
      /** Packets from one payer card whose coins the registry records as the card's. */
      const pool = async (n: number): Promise<Uint8Array[]> => {
        const cardId = '62129000000000' + String(cardNo++).padStart(6, '0');
        const identity = `${cardId}|2036`;
        const signKey = sm9ExtractSignKey(kgc, new TextEncoder().encode(identity));
        const coins: Coin[] = mintCoins(mintParams, new Array(n * COINS_PER_PACKET).fill(100));
        await fast.recordMint(coins, cardOwner(cardId));
        const packets: Uint8Array[] = [];
        // Each packet chains to the one before it, as the card's export history does (value-formats:
        // previousExportHash); two packets on one parent are a chain fork, which settles as double spending.
        let previousExportHash = new Uint8Array(32);
        for (let i = 0; i < n; i++) {
          const packet = buildExportPacket({
            header: { payerCardId: cardId, payerIdentity: identity, payerCounter: i, payeeIdentity: 'shop@merchant', previousExportHash },
            coins: coins.slice(i * COINS_PER_PACKET, (i + 1) * COINS_PER_PACKET),
            signKey,
            kgcSignMasterPublicKey: kgc.publicKey,
          });
          packets.push(packet);
          previousExportHash = sm3(packet);
        }
        return packets;
      };
      const fastPackets = await pool(calls.precomputed);
      const plainPackets = await pool(calls.plain);
      const deposit = (reg: Registry, packets: Uint8Array[]) => async () => {
        const p = packets.shift();
        if (!p) throw new Error('benchmark packet pool exhausted');
        const s = await reg.settle(p, { payeeIdentity: 'shop@merchant', payeeOwner: 'bank:102100000002' });
        if (s.replayed || s.serials.length !== COINS_PER_PACKET) throw new Error('benchmark settlement did not move the coins');
      };

      const c = await b.compare(
        `registry deposit of a ${COINS_PER_PACKET}-coin packet (${coinCoder.size} B coins), PGlite: verify + settle`,
        ['deposit-precomputed', 'fixed-key SM2 verification (precomputed tables)', deposit(fast, fastPackets)],
        ['deposit-plain', 'plain SM2 verification', deposit(plain, plainPackets)],
        { calls: calls.precomputed },
        { calls: calls.plain },
      );
      b.log('deposit throughput on one core');
      b.record('coins-per-s-precomputed', 'fast path (precomputed tables)', (COINS_PER_PACKET * 1000) / c.candidate.value, 'coins/s');
      b.record('coins-per-s-plain', 'plain SM2 verification', (COINS_PER_PACKET * 1000) / c.baseline.value, 'coins/s');
    } finally {
      await db.close();
    }
  },
};
