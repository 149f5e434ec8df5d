/**
 * @module Benchmark: the registry on one PostgreSQL server against the registry across two
 * (bank/sharded-db.ts), each holding 10^6 minted coins: deposits of 64-coin packets (verify + settle,
 * the signature checks in worker threads) and, without verification, 64-coin ownership changes (the
 * database and the two-phase commit alone), from several concurrent clients. The servers are those of
 * DRMB_BENCH_POSTGRES_SHARDS, else DRMB_TEST_POSTGRES_SHARDS (scripts/postgres/start-shards.sh 2);
 * without two, it skips saying so.
 */
import { performance } from 'node:perf_hooks';
import type { Coin } from '../applet-spec/value-formats.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { mintCoins } from '../bank/mint.js';
import { bankOwner, CENTRAL_BANK, cardOwner, type Deposit, Registry, type RegistryOpenOptions } from '../bank/registry.js';
import { bytesToHex, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9ExtractSignKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import { allCores } from '../io/worker-pool.js';
import type { Benchmark } from './harness.js';

const COINS_PER_PACKET = 64;
const PAYEE = { payeeIdentity: 'shop@merchant', payeeOwner: bankOwner('102100000002') };
/** Coins recorded per recordMint call while filling the registry. */
const MINT_BATCH = 20_000;

/** The servers the benchmark runs on, or why there are none. */
function benchShards(env: Record<string, string | undefined> = process.env): string[] | string {
  const list = (env.DRMB_BENCH_POSTGRES_SHARDS || env.DRMB_TEST_POSTGRES_SHARDS || '').split(',').filter(Boolean);
  return list.length >= 2 ? list : 'needs two PostgreSQL servers that can prepare transactions: DRMB_BENCH_POSTGRES_SHARDS=postgres://...,postgres://... (scripts/postgres/start-shards.sh 2)';
}

/**
 * `count` coins for filling the registry: one signed coin, copied under fresh random serials. They are
 * recorded, never deposited (recordMint checks no signature), so only their number and serials matter.
 */
function fillerCoins(template: Coin, count: number): Coin[] {
  return Array.from({ length: count }, () => ({ ...template, body: { ...template.body, serial: randomBytes(16) } }));
}

interface Payer {
  owner: string;
  coins: Coin[];
  packets: Uint8Array[];
}

export const registryShardsBench: Benchmark = {
  name: 'registry-shards',
  postgresServers: true,
  title: 'registry with 10^6 coins minted, on 1 PostgreSQL server against 2 (two-phase commit): deposits and 64-coin ownership changes per second',
  async run(b) {
    const shards = benchShards();
    if (typeof shards === 'string') return b.skip(shards);
    const servers = shards.slice(0, 2);
    const coinKey = sm2GenerateKeyPair();
    const kgc = sm9GenerateSignMasterKey();
    const mintMaster = randomBytes(16);
    const trust = { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey };
    const mintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };
    const minted = b.size(1_000_000, 2_000);
    const clients = b.size(4, 2);
    const packetsPerClient = b.size(48, 2);
    const movesPerClient = b.size(150, 2);

    // The deposits: one payer card per client, its packets chained as a card's export history is.
    const t0 = performance.now();
    const payers: Payer[] = Array.from({ length: clients }, (_, c) => {
      const cardId = '62129900000000' + String(c).padStart(6, '0');
      const identity = `${cardId}|2036`;
      const signKey = sm9ExtractSignKey(kgc, new TextEncoder().encode(identity));
      const coins = mintCoins(mintParams, new Array(packetsPerClient * COINS_PER_PACKET).fill(100));
      const packets: Uint8Array[] = [];
      let previousExportHash = new Uint8Array(32);
      for (let i = 0; i < packetsPerClient; i++) {
        const packet = buildExportPacket({
          header: { payerCardId: cardId, payerIdentity: identity, payerCounter: i, payeeIdentity: PAYEE.payeeIdentity, previousExportHash },
          coins: coins.slice(i * COINS_PER_PACKET, (i + 1) * COINS_PER_PACKET),
          signKey,
          kgcSignMasterPublicKey: kgc.publicKey,
        });
        packets.push(packet);
        previousExportHash = sm3(packet);
      }
      return { owner: cardOwner(cardId), coins, packets };
    });
    const template = payers[0].coins[0];
    b.log(`built ${clients * packetsPerClient} packets of ${COINS_PER_PACKET} coins for ${clients} clients (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    for (const [label, where] of [
      ['1 server', { connectionString: servers[0] }],
      ['2 servers', { shards: servers }],
    ] as const) {
      const id = label === '1 server' ? '1-server' : '2-servers';
      const schema = `bench_shards_${bytesToHex(randomBytes(4))}`;
      const open = (extra: Partial<RegistryOpenOptions> = {}) => Registry.open({ ...where, schema, trust, mintMaster, verifyWorkers: allCores(), ...extra });
      const reg = await open();
      try {
        b.log(`${label} (${'shards' in where ? where.shards.join(', ') : where.connectionString}, schema ${schema}):`);
        // Fill to `minted` coins: the filler, then the clients' own coins and the coins they move.
        const moving = Array.from({ length: clients }, () => fillerCoins(template, COINS_PER_PACKET));
        const own = payers.reduce((n, p) => n + p.coins.length, 0) + moving.length * COINS_PER_PACKET;
        const f0 = performance.now();
        for (let left = Math.max(0, minted - own); left > 0; left -= MINT_BATCH) await reg.recordMint(fillerCoins(template, Math.min(MINT_BATCH, left)));
        for (const p of payers) await reg.recordMint(p.coins, p.owner);
        for (const m of moving) await reg.recordMint(m, CENTRAL_BANK);
        b.log(`  recorded ${await reg.db.query<{ n: string }>('SELECT count(*)::text AS n FROM coins').then((r) => r.rows[0].n)} coins (${((performance.now() - f0) / 1000).toFixed(1)} s)`);

        // Deposits: each client deposits its card's packets in order, the clients at the same time.
        const d0 = performance.now();
        const outcomes = await Promise.all(payers.map((p) => reg.settleMany(p.packets.map((packet): Deposit => ({ packet, options: PAYEE })))));
        const depositMs = performance.now() - d0;
        const refused = outcomes.flat().find((o) => !o.ok);
        if (refused && !refused.ok) throw new Error(`benchmark deposit refused: ${String(refused.error)}`);
        const depositCoins = clients * packetsPerClient * COINS_PER_PACKET;
        b.record(`deposit-coins-per-s-${id}`, `deposits (verify + settle), ${label}, ${clients} clients`, (depositCoins * 1000) / depositMs, 'coins/s');
        b.log(`  ${((clients * packetsPerClient * 1000) / depositMs).toFixed(0)} deposits/s`);

        // Ownership changes alone: each client moves its 64 coins back and forth between two vaults.
        const m0 = performance.now();
        await Promise.all(
          moving.map(async (coins, c) => {
            const serials = coins.map((coin) => coin.body.serial);
            const [x, y] = [bankOwner(`1021000001${String(c).padStart(2, '0')}`), bankOwner(`1021000002${String(c).padStart(2, '0')}`)];
            await reg.transfer(serials, CENTRAL_BANK, x);
            for (let i = 0; i < movesPerClient; i++) await reg.transfer(serials, i % 2 ? y : x, i % 2 ? x : y);
          }),
        );
        const moveMs = performance.now() - m0;
        b.record(`move-coins-per-s-${id}`, `64-coin ownership changes, ${label}, ${clients} clients`, (clients * (movesPerClient + 1) * COINS_PER_PACKET * 1000) / moveMs, 'coins/s');
        b.log(`  ${((clients * (movesPerClient + 1) * 1000) / moveMs).toFixed(0)} ownership changes/s`);
      } finally {
        await reg.db.exec(`DROP SCHEMA ${schema} CASCADE`);
        await reg.close();
      }
    }
    const rate = (id: string) => b.figures.find((f) => f.id === id)!.value;
    b.log(`2 servers against 1: deposits ${(rate('deposit-coins-per-s-2-servers') / rate('deposit-coins-per-s-1-server')).toFixed(2)}x, ownership changes ${(rate('move-coins-per-s-2-servers') / rate('move-coins-per-s-1-server')).toFixed(2)}x`);
  },
};
