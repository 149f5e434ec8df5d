/** @module Db over PGlite: PostgreSQL compiled to WASM, in memory or in a data directory, no server needed. */
import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.js';

/** PGlite-backed Db. Queries are serialized by PGlite itself; a transaction holds the connection until it ends. */
export class PgliteDb implements Db {
  readonly dialect = 'pglite' as const;
  readonly #pg: PGlite;

  private constructor(pg: PGlite) {
    this.#pg = pg;
  }

  /** Opens an in-memory database, or a persistent one in `dataDir` (created when missing). */
  static async open(opts: { dataDir?: string } = {}): Promise<PgliteDb> {
    const pg = opts.dataDir ? new PGlite(opts.dataDir) : new PGlite();
    await pg.waitReady;
    return new PgliteDb(pg);
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.#pg.query<T>(sql, params as unknown[]);
    return { rows: r.rows, affectedRows: r.affectedRows ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.#pg.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#pg.transaction(async (tx) =>
      fn({
        async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
          const r = await tx.query<R>(sql, params as unknown[]);
          return { rows: r.rows, affectedRows: r.affectedRows ?? 0 };
        },
      }),
    );
  }

  async close(): Promise<void> {
    await this.#pg.close();
  }
}
