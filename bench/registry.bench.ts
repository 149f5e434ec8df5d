/**
 * @module Benchmark: registry deposits. (1) One 64-coin packet at a time through settle(), fixed-key SM2
 * verification against plain sm2Verify. (2) Throughput: 10^5 coins in 64-coin packets through settleMany
 * with the signature checks in 1, 2 and all cores' worker threads, on PGlite (and on PostgreSQL when
 * DRMB_BENCH_POSTGRES_URL names a server), with the cost per coin in CPU time and SQL statements.
 */
import { performance } from 'node:perf_hooks';
import { coinCoder, type Coin } from '../applet-spec/value-formats.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import type { Db, Queryable, QueryResult } from '../bank/db.js';
import { mintCoins } from '../bank/mint.js';
import { PgliteDb } from '../bank/pglite-db.js';
import { PostgresDb } from '../bank/postgres-db.js';
import { cardOwner, DEFAULT_VERIFIER_WINDOW_BITS, type Deposit, Registry, type RegistryOpenOptions } from '../bank/registry.js';
import { randomBytes } from '../base/bytes.js';
import { allCores } from '../io/worker-pool.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9ExtractSignKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import type { BenchRun, Benchmark } from './harness.js';

/** Coins per deposited packet (the card's maximum is 64; the payer's SM9 signature is verified once per packet). */
const COINS_PER_PACKET = 64;
/** Packets each payer card exports, chained (previousExportHash) as a card's history is. */
const PACKETS_PER_CARD = 64;
const PAYEE = { payeeIdentity: 'shop@merchant', payeeOwner: 'bank:102100000002' };

/** A Db that counts the SQL statements sent through it (BEGIN and COMMIT included). */
class CountingDb implements Db {
  statements = 0;
  constructor(readonly inner: Db) {}
  get dialect() {
    return this.inner.dialect;
  }
  query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    this.statements++;
    return this.inner.query<T>(sql, params);
  }
  exec(sql: string): Promise<void> {
    this.statements++;
    return this.inner.exec(sql);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.statements += 2;
    return this.inner.transaction((tx) =>
      fn({
        query: <R>(sql: string, params?: readonly unknown[]) => {
          this.statements++;
          return tx.query<R>(sql, params);
        },
      }),
    );
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A payer card's coins and its chain of packets, each paying COINS_PER_PACKET coins to the merchant. */
interface PayerCard {
  owner: string;
  coins: Coin[];
  packets: Uint8Array[];
}

type MintParams = Parameters<typeof mintCoins>[0];

function payerCards(count: number, packetsEach: number, mintParams: MintParams, kgc: ReturnType<typeof sm9GenerateSignMasterKey>, firstCard: number): PayerCard[] {
  return Array.from({ length: count }, (_, c) => {
    const cardId = '62129000000000' + String(firstCard + c).padStart(6, '0');
    const identity = `${cardId}|2036`;
    const signKey = sm9ExtractSignKey(kgc, new TextEncoder().encode(identity));
    const coins = mintCoins(mintParams, new Array(packetsEach * COINS_PER_PACKET).fill(100));
    const packets: Uint8Array[] = [];
    // Each packet chains to the one before it, as the card's export history does (value-formats:
    // previousExportHash); two packets on one parent are a chain fork, which settles as double spending.
    let previousExportHash = new Uint8Array(32);
    for (let i = 0; i < packetsEach; i++) {
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
}

/** The cards' packets, round robin across cards, each card's in its chain order. */
function interleave(cards: readonly PayerCard[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < Math.max(...cards.map((c) => c.packets.length)); i++) for (const c of cards) if (c.packets[i]) out.push(c.packets[i]);
  return out;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Deposits every packet of `cards` into a fresh registry on `db` with `workers` verification threads,
 * after a warm-up of a few packets (worker start and their tables), and records coins/s; returns the
 * rate, the CPU time of the whole process per coin and the SQL statements per coin.
 */
async function throughput(b: BenchRun, db: CountingDb, reg: Registry, cards: readonly PayerCard[], workers: number): Promise<{ rate: number; cpuUsPerCoin: number; sqlPerCoin: number }> {
  for (const c of cards) await reg.recordMint(c.coins, c.owner);
  const all: Deposit[] = interleave(cards).map((packet) => ({ packet, options: PAYEE }));
  const warm = Math.min(all.length - 1, 2 * workers);
  const check = (outcomes: Awaited<ReturnType<Registry['settleMany']>>) => {
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) throw new Error(`benchmark deposit refused: ${String(failed.error)}`);
  };
  check(await reg.settleMany(all.slice(0, warm)));
  const timed = all.slice(warm);
  const coins = timed.length * COINS_PER_PACKET;
  const s0 = db.statements;
  const c0 = cpuMs();
  const t0 = performance.now();
  check(await reg.settleMany(timed));
  const wallMs = performance.now() - t0;
  const out = { rate: (coins * 1000) / wallMs, cpuUsPerCoin: ((cpuMs() - c0) * 1000) / coins, sqlPerCoin: (db.statements - s0) / coins };
  b.log(`  ${timed.length} packets, ${coins} coins in ${(wallMs / 1000).toFixed(2)} s`);
  return out;
}

export const registryBench: Benchmark = {
  name: 'registry',
  title: 'registry deposits of 64-coin packets: precomputed against plain SM2 verification, and throughput of 10^5 coins over 1, 2 and all cores on PGlite (and PostgreSQL)',
  async run(b) {
    const coinKey = sm2GenerateKeyPair();
    const kgc = sm9GenerateSignMasterKey();
    const mintMaster = randomBytes(16);
    const trust = { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey };
    const mintParams: MintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };
    const windowBits = b.size(DEFAULT_VERIFIER_WINDOW_BITS, 6);

    // (1) One packet at a time, in the registry's own thread. A deposit consumes its packet, so each side
    // makes a fixed number of calls, one packet each (the first a warm-up).
    {
      const calls = { precomputed: b.size(40, 3), plain: b.size(12, 3) };
      const db = await PgliteDb.open();
      try {
        const fast = await Registry.onDb(db, { trust, mintMaster, verification: 'precomputed', verifierWindowBits: windowBits });
        const plain = await Registry.onDb(db, { trust, mintMaster, verification: 'plain' });
        const [fastCard, plainCard] = payerCards(2, Math.max(calls.precomputed, calls.plain), mintParams, kgc, 0);
        for (const c of [fastCard, plainCard]) await fast.recordMint(c.coins, c.owner);
        const deposit = (reg: Registry, packets: Uint8Array[]) => async () => {
          const p = packets.shift();
          if (!p) throw new Error('benchmark packet pool exhausted');
          const s = await reg.settle(p, PAYEE);
          if (s.replayed || s.serials.length !== COINS_PER_PACKET) throw new Error('benchmark settlement did not move the coins');
        };
        const c = await b.compare(
          `registry deposit of a ${COINS_PER_PACKET}-coin packet (${coinCoder.size} B coins), PGlite: verify + settle in one thread`,
          ['deposit-precomputed', 'fixed-key SM2 verification (precomputed tables)', deposit(fast, fastCard.packets)],
          ['deposit-plain', 'plain SM2 verification', deposit(plain, plainCard.packets)],
          { calls: calls.precomputed },
          { calls: calls.plain },
        );
        b.log('deposit throughput in one thread, one packet at a time');
        b.record('coins-per-s-precomputed', 'fast path (precomputed tables)', (COINS_PER_PACKET * 1000) / c.candidate.value, 'coins/s');
        b.record('coins-per-s-plain', 'plain SM2 verification', (COINS_PER_PACKET * 1000) / c.baseline.value, 'coins/s');
      } finally {
        await db.close();
      }
    }

    // (2) Throughput of settleMany. The coins are minted and the packets built once; each configuration
    // deposits them into a fresh registry.
    const totalCoins = b.size(100_000, 4 * COINS_PER_PACKET);
    const packets = Math.ceil(totalCoins / COINS_PER_PACKET);
    const perCard = Math.min(PACKETS_PER_CARD, packets);
    const t0 = performance.now();
    const cards = payerCards(Math.ceil(packets / perCard), perCard, mintParams, kgc, 100);
    b.log(`\nminted ${cards.length * perCard * COINS_PER_PACKET} coins in ${cards.length * perCard} packets of ${cards.length} cards (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const all = allCores();
    const open = async (db: Db, workers: number, extra: Partial<RegistryOpenOptions> = {}) => {
      const counted = new CountingDb(db);
      return { db: counted, reg: await Registry.onDb(counted, { trust, mintMaster, verifierWindowBits: windowBits, verifyWorkers: workers, ...extra }) };
    };
    let allRate = 0;
    for (const workers of [...new Set([1, 2, all])]) {
      const label = workers === all ? `${workers} cores (all)` : `${workers} core${workers > 1 ? 's' : ''}`;
      b.log(`settleMany on PGlite, signature checks in ${workers} worker thread${workers > 1 ? 's' : ''}, writes in the registry's thread:`);
      const { db, reg } = await open(await PgliteDb.open(), workers);
      try {
        const r = await throughput(b, db, reg, cards, workers);
        if (workers === 1) b.record('coins-per-s-1-core', `PGlite, ${label}`, r.rate, 'coins/s');
        if (workers === 2) b.record('coins-per-s-2-cores', `PGlite, ${label}`, r.rate, 'coins/s');
        if (workers === all) {
          allRate = r.rate;
          b.record('coins-per-s-all-cores', `PGlite, ${label}`, r.rate, 'coins/s');
          b.record('cpu-us-per-coin', 'CPU time of all threads per coin deposited', r.cpuUsPerCoin, 'us/coin');
          b.record('sql-per-coin', 'SQL statements per coin deposited (BEGIN, COMMIT included)', r.sqlPerCoin, 'SQL/coin');
        }
      } finally {
        await reg.close();
      }
    }
    b.log(`all cores against one: ${(allRate / b.figures.find((f) => f.id === 'coins-per-s-1-core')!.value).toFixed(2)}x`);

    const url = process.env.DRMB_BENCH_POSTGRES_URL;
    if (url) {
      const schema = `bench_${Date.now().toString(36)}`;
      b.log(`settleMany on PostgreSQL (${new URL(url).host}, schema ${schema}), ${all} worker threads:`);
      const pg = await PostgresDb.open({ connectionString: url });
      await pg.exec(`CREATE SCHEMA ${schema}`);
      await pg.close();
      const { db, reg } = await open(await PostgresDb.open({ connectionString: url, schema }), all);
      try {
        const r = await throughput(b, db, reg, cards, all);
        b.record('postgres-coins-per-s-all-cores', `PostgreSQL, ${all} cores (all)`, r.rate, 'coins/s');
        b.record('postgres-sql-per-coin', 'SQL statements per coin deposited', r.sqlPerCoin, 'SQL/coin');
      } finally {
        await reg.close();
        const drop = await PostgresDb.open({ connectionString: url });
        await drop.exec(`DROP SCHEMA ${schema} CASCADE`);
        await drop.close();
      }
    }
  },
};
