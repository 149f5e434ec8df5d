/** @module The registry's database seam: one small interface (query, exec, transaction) over PGlite or a PostgreSQL server, same SQL on both. */

/** Result rows of one statement; bytea columns come back as Uint8Array, int8/numeric possibly as string or bigint (use Number()). */
export interface QueryResult<T> {
  rows: T[];
  /** rows inserted, updated or deleted (0 for a SELECT on some drivers; use rows.length) */
  affectedRows: number;
}

/** Something that runs SQL with $1..$n parameters: the database, or a transaction inside it. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

/**
 * The database. `transaction(fn)` runs fn in BEGIN..COMMIT on one connection and rolls back when fn
 * throws; every ownership change of the registry happens inside one such call.
 */
export interface Db extends Queryable {
  readonly dialect: 'pglite' | 'postgres';
  /** How many servers the coins table spans (sharded-db.ts); omitted: one. */
  readonly servers?: number;
  /** Runs several statements without parameters (schema DDL). */
  exec(sql: string): Promise<void>;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
