/** @module Db over a PostgreSQL server through node-postgres (pg), with the same SQL as the embedded PGlite. */
import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.js';

/** Turns driver values into the registry's types: Buffer -> plain Uint8Array (only Uint8Array crosses module boundaries). */
function normalizeRow<T>(row: Record<string, unknown>): T {
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (Buffer.isBuffer(v)) row[k] = new Uint8Array(v);
  }
  return row as T;
}

/** Parameters for the driver: Uint8Array -> Buffer (pg sends Buffers as bytea). */
function driverParams(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

async function run<T>(client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[]): Promise<QueryResult<T>> {
  const r = await client.query(sql, driverParams(params));
  return { rows: r.rows.map((row) => normalizeRow<T>(row)), affectedRows: r.rowCount ?? 0 };
}

/** PostgreSQL-backed Db on a connection pool; a transaction takes one client for BEGIN..COMMIT. */
export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /**
   * Connects to `connectionString` (postgres://user@host:port/db). With `schema`, every connection uses
   * that search_path (the schema must exist or be created by the caller; Registry.open creates it).
   */
  static async open(opts: { connectionString: string; schema?: string; maxConnections?: number }): Promise<PostgresDb> {
    const pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.maxConnections ?? 4,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // Fail now, not at the first query, when the server is unreachable.
    const c = await pool.connect();
    c.release();
    return new PostgresDb(pool);
  }

  query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    return run<T>(this.#pool, sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.#pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn({ query: <R>(sql: string, params: readonly unknown[] = []) => run<R>(client, sql, params) });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
