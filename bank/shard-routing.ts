/**
 * @module Serial-range routing of the registry's coin statements over several servers (bank/sharded-db.ts):
 * which server holds a serial, which servers a statement on `coins` goes to, and how their answers merge.
 */

/**
 * The server holding a coin among `servers`: serials are split into equal ranges of their first four
 * bytes read as a big-endian u32, server i holding [i * 2^32 / servers, (i + 1) * 2^32 / servers).
 * Serials are uniformly random (mint.ts), so the ranges hold equal shares of the coins.
 */
export function serverOfSerial(serial: Uint8Array, servers: number): number {
  if (serial.length < 4) throw new RangeError('a coin serial has 16 bytes');
  const prefix = serial[0] * 2 ** 24 + serial[1] * 2 ** 16 + serial[2] * 2 ** 8 + serial[3];
  return Math.floor((prefix * servers) / 2 ** 32);
}

/** serverOfSerial of a serial in hex, as the registry's statements pass serial lists. */
export function serverOfSerialHex(hex: string, servers: number): number {
  if (!/^[0-9a-f]{8}/i.test(hex)) throw new RangeError(`not a serial in hex: ${hex.slice(0, 40)}`);
  const prefix = parseInt(hex.slice(0, 8), 16);
  return Math.floor((prefix * servers) / 2 ** 32);
}

/** How the answers of several servers to one fanned-out read become one answer. */
export interface Merge {
  /** `SELECT COALESCE(SUM(..), 0)` or `count(..)` without GROUP BY: one row, each column summed */
  sum: boolean;
  /** `SELECT DISTINCT`: rows that several servers answered are kept once */
  distinct: boolean;
  /** ORDER BY columns, fetched by the rewritten statement as `__order_<i>` and stripped after the merge-sort */
  orderBy: { column: string; descending: boolean }[];
}

/**
 * Where a statement goes. 'home': it names no `coins` table (the logs, the queue, the blacklist live on
 * the first server). 'serials': `$1` is the text[] of hex serials the statement is about; it is split by
 * server, and every array parameter of the same length with it. 'serial': `serial = $1` for one coin.
 * 'all': every server, the answers merged. `writes`: it changes or locks rows, so it runs in a transaction.
 */
export type CoinRoute =
  | { kind: 'home' }
  | { kind: 'serials'; writes: boolean }
  | { kind: 'serial'; writes: boolean }
  | { kind: 'all'; writes: boolean; merge: Merge; sql: string };

const COINS = /\b(?:FROM|INTO|UPDATE|JOIN)\s+coins\b/i;
/** A table other than coins after INTO, UPDATE (not FOR UPDATE), FROM or JOIN (after FROM or JOIN, a function call such as unnest(...) is not one). */
const OTHER_TABLE = /\b(?:INTO|(?<!FOR\s+)UPDATE)\s+(?!coins\b)([a-z_][a-z0-9_.]*)|\b(?:FROM|JOIN)\s+(?!coins\b)([a-z_][a-z0-9_.]*)\b(?!\s*\()/i;
const WRITES = /^\s*(?:INSERT|UPDATE|DELETE)\b|\bFOR\s+UPDATE\b/i;

/** A statement on `coins` the router cannot split or merge: refused rather than answered wrongly. */
export class UnroutableStatementError extends Error {
  constructor(why: string, sql: string) {
    super(`sharded registry: cannot route a statement on coins (${why}): ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
    this.name = 'UnroutableStatementError';
  }
}

/** Where `sql` goes, given its parameters (see CoinRoute). Throws UnroutableStatementError for a shape it does not know. */
export function routeStatement(sql: string, params: readonly unknown[]): CoinRoute {
  if (!COINS.test(sql)) return { kind: 'home' };
  const other = OTHER_TABLE.exec(sql);
  if (other) throw new UnroutableStatementError(`it also names ${other[1] ?? other[2]}, which lives on the first server only`, sql);
  const writes = WRITES.test(sql);
  if (/unnest\(\s*\$1::text\[\]/i.test(sql)) {
    if (!Array.isArray(params[0]) || !params[0].every((h) => typeof h === 'string')) throw new UnroutableStatementError('$1 is not a list of hex serials', sql);
    return { kind: 'serials', writes };
  }
  if (/\bserial\s*=\s*\$1\b/i.test(sql)) {
    if (!(params[0] instanceof Uint8Array)) throw new UnroutableStatementError('$1 is not a serial', sql);
    return { kind: 'serial', writes };
  }
  if (/^\s*(?:INSERT|UPDATE|DELETE)\b/i.test(sql)) throw new UnroutableStatementError('a write that names no serial would touch every server', sql);
  if (/\b(?:LIMIT|OFFSET|GROUP\s+BY|HAVING)\b/i.test(sql)) throw new UnroutableStatementError('LIMIT, OFFSET, GROUP BY and HAVING do not merge across servers', sql);
  const sum = /^\s*SELECT\s+(?:COALESCE\(\s*)?(?:SUM|count)\(/i.test(sql);
  const distinct = /^\s*SELECT\s+DISTINCT\b/i.test(sql);
  const order = /\bORDER\s+BY\s+(.+?)(?:\s+FOR\s+UPDATE)?\s*$/is.exec(sql);
  const orderBy = (order ? order[1].split(',') : []).map((term) => {
    const m = /^\s*([a-z_][a-z0-9_]*)(?:\s+(ASC|DESC))?\s*$/i.exec(term);
    if (!m) throw new UnroutableStatementError(`ORDER BY ${term.trim()} is not a plain column`, sql);
    return { column: m[1], descending: m[2]?.toUpperCase() === 'DESC' };
  });
  let routed = sql;
  if (orderBy.length) {
    // The merge-sort needs the sort keys: fetch them beside the statement's own columns.
    const from = /\sFROM\s+coins\b/i.exec(sql)!;
    routed = `${sql.slice(0, from.index)}, ${orderBy.map((o, i) => `${o.column} AS __order_${i}`).join(', ')}${sql.slice(from.index)}`;
  }
  return { kind: 'all', writes, merge: { sum, distinct, orderBy }, sql: routed };
}

/**
 * The parameters of a 'serials' statement for each server holding some of its serials, in server
 * order: `$1` and every array parameter of its length keep the entries of that server's serials.
 */
export function splitBySerial(params: readonly unknown[], servers: number): Map<number, unknown[]> {
  const hexes = params[0] as string[];
  const indices = new Map<number, number[]>();
  hexes.forEach((h, i) => {
    const s = serverOfSerialHex(h, servers);
    indices.set(s, [...(indices.get(s) ?? []), i]);
  });
  const out = new Map<number, unknown[]>();
  for (const s of [...indices.keys()].sort((a, b) => a - b)) {
    const picked = indices.get(s)!;
    out.set(
      s,
      params.map((p) => (Array.isArray(p) && p.length === hexes.length ? picked.map((i) => p[i]) : p)),
    );
  }
  return out;
}

const compareValues = (a: unknown, b: unknown): number => {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    // bytea sorts as memcmp, then by length (PostgreSQL byteacmp)
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  if (typeof a === 'number' || typeof a === 'bigint' || (typeof a === 'string' && /^-?\d+$/.test(a) && typeof b === 'string' && /^-?\d+$/.test(b))) {
    const x = BigInt(a as string | number | bigint);
    const y = BigInt(b as string | number | bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
};

const rowKey = (row: Record<string, unknown>): string =>
  JSON.stringify(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? Array.from(v) : typeof v === 'bigint' ? String(v) : v]));

/** One answer from the answers of every server to a fanned-out read (see Merge). */
export function mergeRows<T>(answers: readonly T[][], merge: Merge): T[] {
  const all = answers.flat() as Record<string, unknown>[];
  if (merge.sum) {
    const first = all[0];
    if (!first) return [];
    const out: Record<string, unknown> = {};
    for (const column of Object.keys(first)) {
      const total = all.reduce((s, row) => s + BigInt((row[column] ?? 0) as string | number | bigint), 0n);
      out[column] = typeof first[column] === 'number' ? Number(total) : typeof first[column] === 'bigint' ? total : String(total);
    }
    return [out as T];
  }
  let rows = all;
  if (merge.distinct) {
    const seen = new Set<string>();
    rows = rows.filter((row) => {
      const k = rowKey(row);
      return seen.has(k) ? false : (seen.add(k), true);
    });
  }
  if (merge.orderBy.length) {
    rows = [...rows].sort((a, b) => {
      for (const [i, o] of merge.orderBy.entries()) {
        const c = compareValues(a[`__order_${i}`], b[`__order_${i}`]);
        if (c !== 0) return o.descending ? -c : c;
      }
      return 0;
    });
    rows = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith('__order_'))));
  }
  return rows as T[];
}
