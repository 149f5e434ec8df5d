/**
 * @module A Db over several PostgreSQL servers: the coins table split by serial range across them
 * (shard-routing.ts), everything else on the first; a transaction that writes on several servers
 * commits on all or none by two-phase commit (PREPARE TRANSACTION / COMMIT PREPARED), its outcome
 * decided by a row the first server commits, and a transaction left prepared by a coordinator that died
 * is resolved by the next one to open (recover()).
 */
import { randomInt } from 'node:crypto';
import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.js';
import { type CoinRoute, mergeRows, routeStatement, serverOfSerial, splitBySerial } from './shard-routing.js';

/** A phase of a two-phase commit, for fault injection (the crash tests kill the process at one). */
export type CommitPhase = 'prepared' | 'decided';

/** Where a ShardedDb keeps its data and how it commits. */
export interface ShardedDbOptions {
  /** postgres://... of each server, in the order the registry was created with; the first holds the logs */
  connectionStrings: readonly string[];
  /** PostgreSQL schema on every server (created when missing) */
  schema?: string;
  /** connections per server (default 4) */
  maxConnections?: number;
  /**
   * lock_timeout of every session (default 10 s): a wait for locks held on two servers by two
   * transactions in opposite orders is a deadlock no single server sees, and this ends it with an error.
   */
  lockTimeoutMs?: number;
  /**
   * Called once the other servers have prepared ('prepared') and once the first server has committed
   * the decision ('decided'), before the prepared transactions are committed; the commit waits for it.
   * For fault injection: the crash tests end the process here.
   */
  onCommitPhase?: (phase: CommitPhase, gid: string) => void | Promise<void>;
}

const SQLSTATE_UNDEFINED_OBJECT = '42704';

function normalizeRow<T>(row: Record<string, unknown>): T {
  for (const k of Object.keys(row)) if (Buffer.isBuffer(row[k])) row[k] = new Uint8Array(row[k] as Buffer);
  return row as T;
}
const driverParams = (params: readonly unknown[]): unknown[] =>
  params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));

async function run<T>(client: pg.Pool | pg.PoolClient | pg.Client, sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
  const r = await client.query(sql, driverParams(params));
  return { rows: r.rows.map((row) => normalizeRow<T>(row)), affectedRows: r.rowCount ?? 0 };
}

/** A connection string without its password, for messages. */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * The registry's Db over several PostgreSQL servers. Statements that name no `coins` table run on the
 * first server ("home"); statements on coins go to the servers holding their serials, or to every
 * server with the answers merged (shard-routing.ts). A transaction takes one connection per server,
 * always in server order (so that two transactions never wait for each other's pool), and begins on a
 * server at its first statement there. Its commit:
 *  - on one server only: COMMIT;
 *  - on several: PREPARE TRANSACTION on every server but home; then home's transaction inserts the
 *    decision (a row of `shard_decisions`, committed = true) and COMMITs, which is the commit point;
 *    then COMMIT PREPARED on the others. A failure before the decision rolls everything back.
 * The decision row's primary key makes the outcome one: whoever must settle a transaction without its
 * coordinator (recover(), or the coordinator itself after losing home's answer to COMMIT) inserts
 * committed = false for it unless a row is there (waiting on a deciding transaction still in progress),
 * and the row that is there decides; a coordinator deciding late then fails on the key and rolls back.
 * Those abort rows stay. Every coordinator (one per open ShardedDb) holds a shared advisory lock on home
 * for its life, and its deciding transaction holds one too: recover() settles only the transactions of
 * coordinators whose lock it can take, i.e. that are gone, so it never aborts a live one's.
 */
export class ShardedDb implements Db {
  readonly dialect = 'postgres' as const;
  /** how many servers the coins span (the registry's one-statement fast path needs one) */
  readonly servers: number;
  readonly #pools: pg.Pool[];
  readonly #urls: readonly string[];
  readonly #registryKey: number;
  readonly #coordinator: number;
  #lockClient: pg.Client;
  #lockLost = false;
  readonly #lockOptions: string;
  readonly #onCommitPhase: ShardedDbOptions['onCommitPhase'];
  #sequence = 0;
  /** decided transactions whose decision row can go (deleted by the next decision, or at close) */
  #finished: string[] = [];
  /** decided or undecided transactions still prepared somewhere, with their servers: resolved before the next transaction */
  readonly #unresolved = new Map<string, number[]>();

  private constructor(pools: pg.Pool[], urls: readonly string[], registryKey: number, coordinator: number, lockClient: pg.Client, lockOptions: string, onCommitPhase: ShardedDbOptions['onCommitPhase']) {
    this.#pools = pools;
    this.#urls = urls;
    this.servers = pools.length;
    this.#registryKey = registryKey;
    this.#coordinator = coordinator;
    this.#lockClient = lockClient;
    this.#lockOptions = lockOptions;
    this.#watchLock();
    this.#onCommitPhase = onCommitPhase;
  }

  /**
   * Connects to every server, checks that they are the servers of this registry in its order (each
   * records its place on first use) and that they allow prepared transactions, then resolves what a
   * coordinator that died left prepared (recover()).
   */
  static async open(opts: ShardedDbOptions): Promise<ShardedDb> {
    const urls = opts.connectionStrings;
    if (urls.length < 1 || urls.length > 1024) throw new RangeError('a sharded registry needs 1 to 1024 servers');
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) throw new RangeError('schema name must be a lower-case SQL identifier');
    const dup = urls.find((u, i) => urls.indexOf(u) !== i);
    if (dup) throw new RangeError(`the server ${shown(dup)} is named twice`);
    const options = [`-c lock_timeout=${opts.lockTimeoutMs ?? 10_000}`, ...(opts.schema ? [`-c search_path=${opts.schema}`] : [])].join(' ');
    const pools = urls.map((connectionString) => new pg.Pool({ connectionString, max: opts.maxConnections ?? 4, options }));
    // An idle connection a server ends is dropped by its pool; the next statement takes a new one.
    for (const p of pools) p.on('error', () => undefined);
    let lockClient: pg.Client | undefined;
    try {
      for (const [i, pool] of pools.entries()) {
        // Fail now, not at the first query, when a server is unreachable or cannot prepare.
        const c = await pool.connect().catch((e: unknown) => {
          throw new Error(`server ${i + 1} of ${urls.length} (${shown(urls[i])}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
        });
        try {
          if (opts.schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
          const prepared = Number((await c.query('SHOW max_prepared_transactions')).rows[0].max_prepared_transactions);
          if (urls.length > 1 && prepared === 0)
            throw new Error(`server ${i + 1} of ${urls.length} (${shown(urls[i])}) has max_prepared_transactions = 0: a registry across servers commits with PREPARE TRANSACTION; start it with -c max_prepared_transactions=64`);
          await c.query(`CREATE TABLE IF NOT EXISTS shard_identity (
            one boolean PRIMARY KEY DEFAULT true CHECK (one), registry_key int NOT NULL, server_index int NOT NULL, servers int NOT NULL)`);
          if (i === 0)
            await c.query(`CREATE TABLE IF NOT EXISTS shard_decisions (gid text PRIMARY KEY, coordinator int NOT NULL, committed boolean NOT NULL, decided_at timestamptz NOT NULL DEFAULT now());
              CREATE SEQUENCE IF NOT EXISTS shard_coordinators`);
        } finally {
          c.release();
        }
      }
      const registryKey = await ShardedDb.#identify(pools, urls);
      const coordinator = Number((await pools[0].query(`SELECT nextval('shard_coordinators')::int AS n`)).rows[0].n);
      lockClient = new pg.Client({ connectionString: urls[0], options });
      await lockClient.connect();
      await lockClient.query('SELECT pg_advisory_lock_shared($1, $2)', [registryKey, coordinator]);
      const db = new ShardedDb(pools, urls, registryKey, coordinator, lockClient, options, opts.onCommitPhase);
      await db.recover();
      return db;
    } catch (e) {
      await lockClient?.end().catch(() => undefined);
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      throw e;
    }
  }

  /** Each server's place in the registry, written on first use; a list in another order or of other servers is refused. */
  static async #identify(pools: pg.Pool[], urls: readonly string[]): Promise<number> {
    const ids = await Promise.all(
      pools.map(async (p) => (await p.query<{ registry_key: number; server_index: number; servers: number }>('SELECT registry_key, server_index, servers FROM shard_identity')).rows[0]),
    );
    if (ids.every((id) => id === undefined)) {
      const key = randomInt(1, 2 ** 31 - 1);
      for (const [i, p] of pools.entries()) await p.query('INSERT INTO shard_identity (registry_key, server_index, servers) VALUES ($1, $2, $3)', [key, i, pools.length]);
      return key;
    }
    const key = ids[0]?.registry_key;
    for (const [i, id] of ids.entries()) {
      const where = `server ${i + 1} of ${urls.length} (${shown(urls[i])})`;
      if (!id) throw new Error(`${where} is not a server of this registry: give the servers it was created with, in the same order`);
      if (id.registry_key !== key || id.server_index !== i || id.servers !== pools.length)
        throw new Error(`${where} holds part ${id.server_index + 1} of ${id.servers} of ${id.registry_key === key ? 'this' : 'another'} registry: give the servers it was created with, in the same order`);
    }
    return key!;
  }

  /**
   * Notes the loss of the coordinator lock's session (the server or the network ended it). Meanwhile
   * recover() elsewhere may settle this coordinator's prepared transactions; the decision row's key
   * keeps the outcome one (a late decision fails). The next transaction takes the lock again.
   */
  #watchLock(): void {
    this.#lockClient.on('error', () => {
      this.#lockLost = true;
    });
  }

  async #relock(): Promise<void> {
    await this.#lockClient.end().catch(() => undefined);
    const c = new pg.Client({ connectionString: this.#urls[0], options: this.#lockOptions });
    await c.connect();
    await c.query('SELECT pg_advisory_lock_shared($1, $2)', [this.#registryKey, this.#coordinator]);
    this.#lockClient = c;
    this.#lockLost = false;
    this.#watchLock();
  }

  /** The server (0-based, in the order given) that holds a coin. */
  serverOf(serial: Uint8Array): number {
    return serverOfSerial(serial, this.servers);
  }

  /** Runs a statement outside a transaction: a write or lock on coins runs in one of its own (committed on every server or none). */
  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const route = this.servers === 1 ? ({ kind: 'home' } as const) : routeStatement(sql, params);
    if (route.kind !== 'home' && route.writes) return this.transaction((tx) => tx.query<T>(sql, params));
    return this.#routed<T>(route, sql, params, (i, s, p) => run(this.#pools[i], s, p), false);
  }

  /** Runs DDL on every server (the schema is the same on each; only home's logs are used). */
  async exec(sql: string): Promise<void> {
    for (const p of this.#pools) await p.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.#lockLost) await this.#relock();
    if (this.#unresolved.size) await this.#resolveUnresolved();
    const clients: pg.PoolClient[] = [];
    try {
      for (const p of this.#pools) clients.push(await p.connect());
    } catch (e) {
      for (const c of clients) c.release();
      throw e;
    }
    const begun: (Promise<void> | undefined)[] = [];
    const on = async <R>(i: number, sql: string, params: readonly unknown[]): Promise<QueryResult<R>> => {
      begun[i] ??= clients[i].query('BEGIN').then(() => undefined);
      await begun[i];
      return run<R>(clients[i], sql, params);
    };
    const tx: Queryable = {
      query: <R>(sql: string, params: readonly unknown[] = []) =>
        this.#routed<R>(this.servers === 1 ? { kind: 'home' } : routeStatement(sql, params), sql, params, on, true),
    };
    // A connection whose state is unknown after a failure is dropped, not returned to the pool.
    let destroy = false;
    try {
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await Promise.all(clients.map((c, i) => (begun[i] ? c.query('ROLLBACK').catch(() => (destroy = true)) : undefined)));
        throw e;
      }
      const used = clients.flatMap((_, i) => (begun[i] ? [i] : []));
      await Promise.all(used.map((i) => begun[i]));
      if (used.length === 1) await clients[used[0]].query('COMMIT');
      else if (used.length > 1) {
        begun[0] ??= clients[0].query('BEGIN').then(() => undefined);
        await begun[0];
        await this.#commitAcross(clients, used.filter((i) => i !== 0)).catch((e: unknown) => {
          destroy = true;
          throw e;
        });
      }
      return result;
    } finally {
      for (const c of clients) c.release(destroy);
    }
  }

  /** The two-phase commit of a transaction begun on home and on `others`. */
  async #commitAcross(clients: pg.PoolClient[], others: number[]): Promise<void> {
    const gid = `drmb_${this.#registryKey}_${this.#coordinator}_${++this.#sequence}`;
    // Phase 1: every other server promises to commit (its changes survive a crash from here on).
    const prepared: number[] = [];
    const outcomes = await Promise.allSettled(
      others.map(async (i) => {
        const r = await clients[i].query(`PREPARE TRANSACTION '${gid}'`);
        // PREPARE of a transaction that failed earlier answers ROLLBACK rather than an error.
        if (r.command !== 'PREPARE') throw new Error(`server ${i + 1} (${shown(this.#urls[i])}) rolled back instead of preparing`);
        prepared.push(i);
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await clients[0].query('ROLLBACK').catch(() => undefined);
      await Promise.all(others.filter((i) => !prepared.includes(i)).map((i) => clients[i].query('ROLLBACK').catch(() => undefined)));
      await this.#finish(gid, prepared, false, clients);
      throw failed.reason;
    }
    await this.#onCommitPhase?.('prepared', gid);
    // The decision: home's own transaction records it and commits. Its shared lock keeps recover() off
    // this coordinator until home has committed or aborted it.
    try {
      const done = this.#finished.splice(0);
      await clients[0].query(
        `WITH done AS (DELETE FROM shard_decisions WHERE gid = ANY($3::text[]))
         INSERT INTO shard_decisions (gid, coordinator, committed) SELECT $1, $2, true FROM pg_advisory_xact_lock_shared($4, $2)`,
        [gid, this.#coordinator, done, this.#registryKey],
      );
      await clients[0].query('COMMIT');
    } catch (e) {
      // Whether home committed it is unknown when its answer to COMMIT was lost: the decision row says.
      await clients[0].query('ROLLBACK').catch(() => undefined);
      const committed = await this.#decided(this.#pools[0], gid, this.#coordinator).catch(() => undefined);
      if (committed === undefined) {
        // Home cannot say: the prepared transactions keep their locks until it can (before the next transaction, or at the next open).
        this.#unresolved.set(gid, prepared);
        throw new Error(`the outcome of a transaction across servers is unknown (home server: ${(e as Error).message}); it will be settled from home's record`, { cause: e });
      }
      if (!committed) {
        await this.#finish(gid, prepared, false, clients);
        throw e;
      }
    }
    await this.#onCommitPhase?.('decided', gid);
    // Phase 2: decided; the prepared transactions commit (or, should a server not answer, later).
    await this.#finish(gid, prepared, true, clients);
  }

  /**
   * The outcome of `gid` for one who settles it without its coordinator's answer: the decision row,
   * after inserting committed = false unless one is there (the insert waits for a deciding transaction
   * in progress, whose row then stands).
   */
  async #decided(q: pg.Pool | pg.PoolClient, gid: string, coordinator: number): Promise<boolean> {
    await q.query('INSERT INTO shard_decisions (gid, coordinator, committed) VALUES ($1, $2, false) ON CONFLICT (gid) DO NOTHING', [gid, coordinator]);
    return (await q.query<{ committed: boolean }>('SELECT committed FROM shard_decisions WHERE gid = $1', [gid])).rows[0].committed;
  }

  /** COMMIT PREPARED (or ROLLBACK PREPARED) `gid` on `servers`; one that does not answer is left for #resolveUnresolved. */
  async #finish(gid: string, servers: number[], commit: boolean, clients?: pg.PoolClient[]): Promise<void> {
    const left: number[] = [];
    await Promise.all(
      servers.map(async (i) => {
        try {
          await (clients?.[i] ?? this.#pools[i]).query(`${commit ? 'COMMIT' : 'ROLLBACK'} PREPARED '${gid}'`);
        } catch (e) {
          // Already finished (by recover() of another coordinator, say): nothing is left of it.
          if ((e as { code?: string }).code !== SQLSTATE_UNDEFINED_OBJECT) left.push(i);
        }
      }),
    );
    if (left.length) this.#unresolved.set(gid, left);
    else if (commit) this.#finished.push(gid);
  }

  /** Finishes this coordinator's transactions left prepared by a server that did not answer, from home's decision. */
  async #resolveUnresolved(): Promise<void> {
    for (const [gid, servers] of [...this.#unresolved]) {
      this.#unresolved.delete(gid);
      await this.#finish(gid, servers, await this.#decided(this.#pools[0], gid, this.#coordinator));
    }
  }

  /**
   * Settles the transactions of this registry that coordinators which are gone (their advisory lock
   * free) left prepared: COMMIT PREPARED where home holds their commit decision, ROLLBACK PREPARED
   * otherwise (recording the abort first); then drops those coordinators' commit decisions. Open runs
   * it; answers the transactions settled.
   */
  async recover(): Promise<{ committed: string[]; rolledBack: string[] }> {
    const out = { committed: [] as string[], rolledBack: [] as string[] };
    const prefix = `drmb_${this.#registryKey}_`;
    const prepared = new Map<number, Map<string, number[]>>();
    for (const [i, p] of this.#pools.entries()) {
      const r = await p.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)', [prefix]);
      for (const { gid } of r.rows) {
        const coordinator = Number(gid.slice(prefix.length).split('_')[0]);
        const byGid = prepared.get(coordinator) ?? new Map<string, number[]>();
        byGid.set(gid, [...(byGid.get(gid) ?? []), i]);
        prepared.set(coordinator, byGid);
      }
    }
    const decisions = await this.#pools[0].query<{ coordinator: number }>('SELECT DISTINCT coordinator FROM shard_decisions WHERE committed AND coordinator <> $1', [this.#coordinator]);
    const coordinators = new Set([...prepared.keys(), ...decisions.rows.map((r) => r.coordinator)]);
    coordinators.delete(this.#coordinator);
    const home = await this.#pools[0].connect();
    try {
      for (const c of coordinators) {
        const free = (await home.query<{ free: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS free', [this.#registryKey, c])).rows[0].free;
        if (!free) continue; // alive: it finishes its own transactions
        try {
          for (const [gid, servers] of prepared.get(c) ?? []) {
            const decided = await this.#decided(home, gid, c);
            for (const i of servers) await this.#pools[i].query(`${decided ? 'COMMIT' : 'ROLLBACK'} PREPARED '${gid}'`);
            (decided ? out.committed : out.rolledBack).push(gid);
          }
          // Its commit decisions are all carried out; its abort rows stay, so that it can never decide late.
          await home.query('DELETE FROM shard_decisions WHERE coordinator = $1 AND committed', [c]);
        } finally {
          await home.query('SELECT pg_advisory_unlock($1, $2)', [this.#registryKey, c]);
        }
      }
    } finally {
      home.release();
    }
    return out;
  }

  async close(): Promise<void> {
    try {
      if (this.#unresolved.size) await this.#resolveUnresolved().catch(() => undefined);
      if (this.#finished.length) await this.#pools[0].query('DELETE FROM shard_decisions WHERE gid = ANY($1::text[])', [this.#finished.splice(0)]).catch(() => undefined);
    } finally {
      await this.#lockClient.end().catch(() => undefined);
      await Promise.all(this.#pools.map((p) => p.end()));
    }
  }

  /** Runs a routed statement with `on(server, sql, params)`; in a transaction, writes go to their servers one after another in server order. */
  async #routed<T>(route: CoinRoute, sql: string, params: readonly unknown[], on: <R>(i: number, sql: string, params: readonly unknown[]) => Promise<QueryResult<R>>, inTx: boolean): Promise<QueryResult<T>> {
    switch (route.kind) {
      case 'home':
        return on<T>(0, sql, params);
      case 'serial':
        return on<T>(serverOfSerial(params[0] as Uint8Array, this.servers), sql, params);
      case 'serials': {
        const parts = splitBySerial(params, this.servers);
        if (parts.size === 0) return on<T>(0, sql, params);
        return combine(await this.#each([...parts.entries()], ([i, p]) => on<T>(i, sql, p), inTx && route.writes));
      }
      case 'all': {
        // Locks are taken server after server in server order, so two transactions never hold each
        // other's rows on two servers (shard-routing: a deadlock across servers no server would see).
        const answers = await this.#each(
          this.#pools.map((_, i) => i),
          (i) => on<T>(i, route.sql, params),
          inTx && route.writes,
        );
        return { rows: mergeRows(answers.map((a) => a.rows), route.merge), affectedRows: answers.reduce((s, a) => s + a.affectedRows, 0) };
      }
    }
  }

  async #each<I, R>(items: I[], fn: (item: I) => Promise<R>, inOrder: boolean): Promise<R[]> {
    if (!inOrder) return Promise.all(items.map(fn));
    const out: R[] = [];
    for (const item of items) out.push(await fn(item));
    return out;
  }
}

function combine<T>(answers: QueryResult<T>[]): QueryResult<T> {
  return { rows: answers.flatMap((a) => a.rows), affectedRows: answers.reduce((s, a) => s + a.affectedRows, 0) };
}
