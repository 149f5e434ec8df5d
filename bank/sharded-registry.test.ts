/**
 * @module The registry across several PostgreSQL servers (sharded-db.ts, shard-routing.ts): the routing
 * rules in every run; with DRMB_TEST_POSTGRES_SHARDS (comma-separated URLs of two or more servers started
 * by scripts/postgres/start-shards.sh), the whole registry suite across them, double spending across
 * servers, and the two-phase commit when its coordinator is killed between the phases.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex, randomBytes } from '../base/bytes.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9ExtractSignKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import { registrySuite } from '../test/registry-suite.js';
import { mintCoins } from './mint.js';
import { PostgresDb } from './postgres-db.js';
import { bankOwner, CENTRAL_BANK, cardOwner, DoubleSpendError, NotOwnerError, Registry, UnknownWithdrawalCodeError, withdrawalCodeOwner } from './registry.js';
import { mergeRows, routeStatement, serverOfSerial, splitBySerial, UnroutableStatementError } from './shard-routing.js';
import { ShardedDb } from './sharded-db.js';

const serial = (prefixHex: string) => Uint8Array.from(Buffer.from(prefixHex.padEnd(32, '0'), 'hex'));

describe('serial-range routing of coin statements', () => {
  it('gives server i the serials whose first four bytes fall in the i-th of equal ranges', () => {
    expect(['00000000', '7fffffff', '80000000', 'ffffffff'].map((p) => serverOfSerial(serial(p), 2))).toEqual([0, 0, 1, 1]);
    expect(['55555555', '55555556', 'aaaaaaaa', 'aaaaaaab'].map((p) => serverOfSerial(serial(p), 3))).toEqual([0, 1, 1, 2]);
    expect(serverOfSerial(serial('ffffffff'), 1)).toBe(0);
  });

  it('sends a statement that names no coins table to the first server, and refuses one that names coins and another table', () => {
    expect(routeStatement('SELECT 1 FROM packets WHERE payer_card_id = $1', ['x']).kind).toBe('home');
    expect(routeStatement('DELETE FROM pending_coins WHERE packet_hash = $1', [new Uint8Array(32)]).kind).toBe('home');
    const fast = `WITH pkt AS (INSERT INTO packets (packet_hash) VALUES ($4)),
       moved AS (UPDATE coins c SET owner = $3 FROM unnest($1::text[]) AS s(h) WHERE c.serial = decode(s.h, 'hex') RETURNING c.serial)
       SELECT (SELECT count(*) FROM moved) AS moved`;
    expect(() => routeStatement(fast, [['00'], 'a', 'b', new Uint8Array(32)])).toThrow(UnroutableStatementError);
    expect(() => routeStatement(fast, [['00'], 'a', 'b', new Uint8Array(32)])).toThrow(/also names packets/);
  });

  it('splits a statement on a serial list by server, with every array parameter of the same length, in server order', () => {
    const sql = `INSERT INTO coins (serial, denomination_fen, owner) SELECT decode(s, 'hex'), d, $3 FROM unnest($1::text[], $2::bigint[]) AS t(s, d)`;
    const params = [['f0000000', '10000000', 'a0000000'], [1, 2, 3], 'central-bank'];
    expect(routeStatement(sql, params)).toEqual({ kind: 'serials', writes: true });
    expect([...splitBySerial(params, 2)]).toEqual([
      [0, [['10000000'], [2], 'central-bank']],
      [1, [['f0000000', 'a0000000'], [1, 3], 'central-bank']],
    ]);
    expect(routeStatement('SELECT owner FROM coins WHERE serial = $1', [serial('00')])).toEqual({ kind: 'serial', writes: false });
  });

  it('merges the answers of every server: sums summed, DISTINCT rows once, ORDER BY merge-sorted on keys it fetches', () => {
    const sum = routeStatement('SELECT COALESCE(SUM(denomination_fen), 0)::text AS s FROM coins WHERE owner = $1', ['x']);
    if (sum.kind !== 'all') throw new Error('fan-out expected');
    expect(mergeRows([[{ s: '500' }], [{ s: '10000' }]], sum.merge)).toEqual([{ s: '10500' }]);
    const distinct = routeStatement('SELECT DISTINCT owner FROM coins', []);
    if (distinct.kind !== 'all') throw new Error('fan-out expected');
    expect(mergeRows([[{ owner: 'a' }, { owner: 'b' }], [{ owner: 'b' }]], distinct.merge)).toEqual([{ owner: 'a' }, { owner: 'b' }]);
    const ordered = routeStatement('SELECT coin FROM coins WHERE owner = $1 ORDER BY denomination_fen DESC, serial', ['x']);
    if (ordered.kind !== 'all') throw new Error('fan-out expected');
    expect(ordered.sql).toBe('SELECT coin, denomination_fen AS __order_0, serial AS __order_1 FROM coins WHERE owner = $1 ORDER BY denomination_fen DESC, serial');
    const row = (coin: string, d: string, s: number) => ({ coin, __order_0: d, __order_1: Uint8Array.of(s) });
    expect(mergeRows([[row('a', '10000', 2), row('b', '500', 1)], [row('c', '10000', 1), row('d', '50', 9)]], ordered.merge)).toEqual([{ coin: 'c' }, { coin: 'a' }, { coin: 'b' }, { coin: 'd' }]);
    const locked = routeStatement(`SELECT encode(serial, 'hex') AS h FROM coins WHERE owner = $1 ORDER BY serial FOR UPDATE`, ['x']);
    expect(locked).toMatchObject({ kind: 'all', writes: true });
  });

  it('refuses coin statements whose answers do not merge, or that would write on every server', () => {
    expect(() => routeStatement('SELECT owner FROM coins ORDER BY serial LIMIT 1', [])).toThrow(/LIMIT/);
    expect(() => routeStatement('SELECT owner, count(*) FROM coins GROUP BY owner', [])).toThrow(/GROUP BY/);
    expect(() => routeStatement(`UPDATE coins SET owner = $1 WHERE owner = $2`, ['a', 'b'])).toThrow(/every server/);
    expect(() => routeStatement('SELECT owner FROM coins ORDER BY lower(owner)', [])).toThrow(/not a plain column/);
  });
});

const shards = process.env.DRMB_TEST_POSTGRES_SHARDS?.split(',').filter(Boolean);
const inCi = !!process.env.CI && process.env.CI !== 'false';

/** A fresh schema name per use, dropped on every server after. */
const freshSchema = (tag: string) => `drmb_shard_${tag}_${bytesToHex(randomBytes(4))}`;

async function dropSchema(urls: readonly string[], schema: string): Promise<void> {
  for (const url of urls) {
    const db = await PostgresDb.open({ connectionString: url });
    // A test that failed half-way may leave a transaction of this registry prepared: it would block the drop.
    const id = await db.query<{ k: number }>(`SELECT registry_key AS k FROM ${schema}.shard_identity`).catch(() => ({ rows: [] as { k: number }[] }));
    for (const { k } of id.rows) {
      const left = await db.query<{ gid: string }>(`SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)`, [`drmb_${k}_`]);
      for (const { gid } of left.rows) await db.exec(`ROLLBACK PREPARED '${gid}'`);
    }
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  }
}

if (shards && shards.length >= 2) {
  const suiteSchema = freshSchema('suite');
  registrySuite(
    `registry across ${shards.length} PostgreSQL servers (${shards.map((u) => new URL(u).host).join(', ')}, schema ${suiteSchema})`,
    async (opts) => {
      const reg = await Registry.open({ ...opts, shards, schema: suiteSchema });
      const close = reg.close.bind(reg);
      reg.close = async () => {
        await reg.db.exec(`DROP SCHEMA ${suiteSchema} CASCADE`);
        await close();
      };
      return reg;
    },
    '6212500',
  );

  describe(`the registry's ownership changes across ${shards.length} servers`, () => {
    const coinKey = sm2GenerateKeyPair();
    const kgc = sm9GenerateSignMasterKey();
    const mintMaster = randomBytes(16);
    const trust = { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey };
    const mint = (n: number) => mintCoins({ signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' }, new Array(n).fill(100));
    const schema = freshSchema('2pc');
    const VAULT = bankOwner('102100000001');
    const MERCHANT_BANK = bankOwner('102100000002');
    let reg: Registry;
    /** Each server on its own, to see what it holds. */
    let direct: PostgresDb[];

    beforeAll(async () => {
      reg = await Registry.open({ shards, schema, trust, mintMaster });
      direct = await Promise.all(shards.map((connectionString) => PostgresDb.open({ connectionString, schema })));
    }, 60_000);
    afterAll(async () => {
      await reg?.close();
      for (const d of direct ?? []) await d.close();
      await dropSchema(shards, schema);
    });

    /** Coins minted to the central bank, at least one held by every server. */
    async function coinsOnEveryServer(n = 12) {
      for (;;) {
        const coins = mint(n);
        const servers = new Set(coins.map((c) => serverOfSerial(c.body.serial, shards!.length)));
        if (servers.size < shards!.length) continue;
        await reg.recordMint(coins);
        return coins;
      }
    }
    const ownersOn = async (server: number, serials: Uint8Array[]) =>
      (await direct[server].query<{ owner: string }>(`SELECT owner FROM coins WHERE serial IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)`, [serials.map(bytesToHex)])).rows.map((r) => r.owner);
    /** This registry's transactions prepared on a server (other suites may use the same servers meanwhile). */
    const prepared = async (server: number) =>
      (
        await direct[server].query<{ gid: string }>(
          `SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, 'drmb_' || (SELECT registry_key FROM shard_identity) || '_')`,
        )
      ).rows.map((r) => r.gid);

    it('keeps each coin on the server of its serial range only, and moves a transfer spanning every server on all of them', async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      for (const [i] of shards.entries()) {
        const mine = serials.filter((s) => serverOfSerial(s, shards.length) === i);
        expect(await ownersOn(i, serials)).toEqual(mine.map(() => CENTRAL_BANK));
      }
      await reg.transfer(serials, CENTRAL_BANK, VAULT);
      for (const [i] of shards.entries()) expect(new Set(await ownersOn(i, serials))).toEqual(new Set([VAULT]));
      expect(await reg.balanceOf(VAULT)).toBe(100 * serials.length);
      for (const [i] of shards.entries()) expect(await prepared(i)).toEqual([]);
    });

    it('refuses a transfer when a coin on one server is not the sender\'s, and moves none of its coins on any server', async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      const last = serials.find((s) => serverOfSerial(s, shards.length) === shards.length - 1)!;
      await reg.transfer([last], CENTRAL_BANK, VAULT);
      await expect(reg.transfer(serials, CENTRAL_BANK, MERCHANT_BANK)).rejects.toThrow(NotOwnerError);
      for (const s of serials) expect(await reg.ownerOf(s)).toBe(s === last ? VAULT : CENTRAL_BANK);
    });

    it('records a mint on every server or on none: a serial already recorded on one server refuses the whole mint', async () => {
      const earlier = await coinsOnEveryServer(4);
      const last = earlier.find((c) => serverOfSerial(c.body.serial, shards.length) === shards.length - 1)!;
      const fresh = mint(12).filter((c) => serverOfSerial(c.body.serial, shards.length) !== shards.length - 1);
      await expect(reg.recordMint([...fresh, last])).rejects.toThrow(/duplicate key/);
      for (const c of fresh) expect(await reg.ownerOf(c.body.serial)).toBeUndefined();
    });

    it('redeems a withdrawal code whose coins lie on every server once, all of them, in serial order', async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      const code = '1234567812345678';
      await reg.transfer(serials, CENTRAL_BANK, withdrawalCodeOwner(code));
      const paid = await reg.redeem(code, VAULT);
      expect(paid.amountFen).toBe(100 * serials.length);
      expect(paid.serials.map(bytesToHex)).toEqual(serials.map(bytesToHex).sort());
      for (const s of serials) expect(await reg.ownerOf(s)).toBe(VAULT);
      await expect(reg.redeem(code, VAULT)).rejects.toThrow(UnknownWithdrawalCodeError);
    });

    it('catches a card spending coins that lie on every server twice, deposited at the same time: one packet settles on every server, the other is proof', async () => {
      const cardId = '62125990000000000001';
      const identity = `${cardId}|2036`;
      const signKey = sm9ExtractSignKey(kgc, new TextEncoder().encode(identity));
      const coins = await coinsOnEveryServer(8);
      const serials = coins.map((c) => c.body.serial);
      await reg.transfer(serials, CENTRAL_BANK, cardOwner(cardId));
      const packet = (payerCounter: number, previousExportHash: Uint8Array) =>
        buildExportPacket({ header: { payerCardId: cardId, payerIdentity: identity, payerCounter, payeeIdentity: 'shop@merchant', previousExportHash }, coins, signKey, kgcSignMasterPublicKey: kgc.publicKey });
      const first = packet(0, new Uint8Array(32));
      const second = packet(1, sm3(first));
      const outcomes = await Promise.allSettled([first, second].map((p) => reg.settle(p, { payeeIdentity: 'shop@merchant', payeeOwner: MERCHANT_BANK })));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
      expect(refused.reason).toBeInstanceOf(DoubleSpendError);
      expect((refused.reason as DoubleSpendError).proof.reason).toBe('serial-reused');
      expect(await reg.blacklist()).toContain(cardId);
      for (const [i] of shards.entries()) expect(new Set(await ownersOn(i, serials))).toEqual(new Set([MERCHANT_BANK]));
    });

    /** Runs a registry process that moves `serials` and is killed at `phase` of the commit. */
    function killedAt(phase: 'prepared' | 'decided', serials: Uint8Array[], from: string, to: string) {
      const child = fileURLToPath(new URL('../test/shard-coordinator-child.ts', import.meta.url));
      const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
      const r = spawnSync(process.execPath, ['--import', tsx, child, JSON.stringify({ shards, schema, phase, serials: serials.map(bytesToHex), from, to })], { encoding: 'utf8', timeout: 60_000 });
      expect(r.signal, r.stderr).toBe('SIGKILL');
    }

    it('rolls back at the next open what a coordinator killed after PREPARE and before its decision left prepared', async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      killedAt('prepared', serials, CENTRAL_BANK, VAULT);
      // Every server but home holds the transaction prepared; home's part died with the process.
      expect((await Promise.all(shards.map((_, i) => prepared(i)))).map((g) => g.length)).toEqual(shards.map((_, i) => (i === 0 ? 0 : 1)));
      const again = await Registry.open({ shards, schema, trust, mintMaster });
      try {
        for (const [i] of shards.entries()) expect(await prepared(i)).toEqual([]);
        for (const s of serials) expect(await again.ownerOf(s)).toBe(CENTRAL_BANK);
        // The coins are free again: the next move takes them.
        await again.transfer(serials, CENTRAL_BANK, MERCHANT_BANK);
        expect(await again.balanceOf(MERCHANT_BANK)).toBeGreaterThanOrEqual(100 * serials.length);
      } finally {
        await again.close();
      }
    }, 120_000);

    it('commits at the next open what a coordinator killed after its decision left prepared on the other servers', async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      killedAt('decided', serials, CENTRAL_BANK, VAULT);
      // Home has committed its part; the others are still prepared, their coins still the central bank's.
      const onHome = serials.filter((s) => serverOfSerial(s, shards.length) === 0);
      expect(new Set(await ownersOn(0, onHome))).toEqual(new Set([VAULT]));
      expect((await Promise.all(shards.map((_, i) => prepared(i)))).map((g) => g.length)).toEqual(shards.map((_, i) => (i === 0 ? 0 : 1)));
      expect(new Set(await ownersOn(1, serials))).toEqual(new Set([CENTRAL_BANK]));
      const again = await Registry.open({ shards, schema, trust, mintMaster });
      try {
        for (const [i] of shards.entries()) expect(await prepared(i)).toEqual([]);
        for (const s of serials) expect(await again.ownerOf(s)).toBe(VAULT);
        const flows = await again.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM flows WHERE serial IN (SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h) AND to_owner = $2`, [serials.map(bytesToHex), VAULT]);
        expect(Number(flows.rows[0].n)).toBe(serials.length);
      } finally {
        await again.close();
      }
    }, 120_000);

    it("leaves a live coordinator's prepared transaction to it when another registry opens meanwhile", async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      let reached!: () => void;
      const atPrepared = new Promise<void>((r) => (reached = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow = await Registry.onDb(await ShardedDb.open({ connectionStrings: shards, schema, onCommitPhase: (phase) => (phase === 'prepared' ? (reached(), gate) : undefined) }));
      try {
        const moving = slow.transfer(serials, CENTRAL_BANK, VAULT);
        await atPrepared;
        const other = await ShardedDb.open({ connectionStrings: shards, schema });
        try {
          expect(await other.recover()).toEqual({ committed: [], rolledBack: [] });
          expect((await Promise.all(shards.map((_, i) => prepared(i)))).map((g) => g.length)).toEqual(shards.map((_, i) => (i === 0 ? 0 : 1)));
        } finally {
          await other.close();
        }
        release();
        await moving;
        for (const s of serials) expect(await reg.ownerOf(s)).toBe(VAULT);
      } finally {
        await slow.close();
      }
    });

    it('aborts, not half-commits, a transaction whose coordinator lost its lock and decides after another registry settled it', async () => {
      const coins = await coinsOnEveryServer();
      const serials = coins.map((c) => c.body.serial);
      let reached!: () => void;
      const atPrepared = new Promise<void>((r) => (reached = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const late = await Registry.onDb(await ShardedDb.open({ connectionStrings: shards, schema, onCommitPhase: (phase) => (phase === 'prepared' ? (reached(), gate) : undefined) }));
      try {
        const moving = late.transfer(serials, CENTRAL_BANK, VAULT);
        moving.catch(() => undefined);
        await atPrepared;
        // Its session on home, which holds its coordinator lock (the newest coordinator of this registry), ends.
        await direct[0].query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = (SELECT registry_key FROM shard_identity)::oid
           AND objid = (SELECT max(objid) FROM pg_locks WHERE locktype = 'advisory' AND classid = (SELECT registry_key FROM shard_identity)::oid)`,
        );
        // Another registry opens: the coordinator looks gone, so it records the abort and rolls back.
        await (await ShardedDb.open({ connectionStrings: shards, schema })).close();
        for (const [i] of shards.entries()) expect(await prepared(i)).toEqual([]);
        expect((await direct[0].query('SELECT 1 FROM shard_decisions WHERE NOT committed')).rows.length).toBeGreaterThan(0);
        release();
        await expect(moving).rejects.toThrow(/duplicate key/);
        for (const s of serials) expect(await reg.ownerOf(s)).toBe(CENTRAL_BANK);
      } finally {
        await late.close();
      }
    });

    it('refuses the servers in another order, or without one of them, naming the server', async () => {
      await expect(Registry.open({ shards: [...shards].reverse(), schema })).rejects.toThrow(/^server 1 of \d+ \(.*\) holds part \d+ of \d+ of this registry: give the servers it was created with, in the same order$/);
      await expect(Registry.open({ shards: shards.slice(1), schema })).rejects.toThrow(/holds part 2 of \d+ of this registry/);
    });

    const single = process.env.DRMB_TEST_POSTGRES_URL;
    it.runIf(single !== undefined)('refuses a server that cannot prepare transactions (max_prepared_transactions = 0), naming it', async () => {
      const probe = await PostgresDb.open({ connectionString: single! });
      const canPrepare = Number((await probe.query<{ max_prepared_transactions: string }>('SHOW max_prepared_transactions')).rows[0].max_prepared_transactions) > 0;
      await probe.close();
      expect(canPrepare, 'DRMB_TEST_POSTGRES_URL names a server that can prepare: start.sh leaves max_prepared_transactions at 0').toBe(false);
      const other = freshSchema('noprep');
      try {
        await expect(Registry.open({ shards: [shards[0], single!], schema: other })).rejects.toThrow(/^server 2 of 2 \(.*\) has max_prepared_transactions = 0/);
      } finally {
        await dropSchema([shards[0], single!], other);
      }
    });
  });
} else if (inCi) {
  // CI starts the servers (.ci/run, scripts/postgres/start-shards.sh): missing ones are a failure, not a skip.
  describe('registry across PostgreSQL servers', () => {
    it('has two or more servers in CI (DRMB_TEST_POSTGRES_SHARDS)', () => {
      expect(shards?.length ?? 0, 'CI must start the servers with scripts/postgres/start-shards.sh 2 and export DRMB_TEST_POSTGRES_SHARDS').toBeGreaterThanOrEqual(2);
    });
  });
} else {
  describe('registry across PostgreSQL servers', () => {
    it.skip('skipped: set DRMB_TEST_POSTGRES_SHARDS=postgres://...,postgres://... (scripts/postgres/start-shards.sh 2) to run the registry across servers', () => {});
  });
}
