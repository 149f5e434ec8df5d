/**
 * @module Declarative field coders: one definition gives the encoder, the strict decoder, the TypeScript
 * type and a layout description for the generated docs (integers, BCD, byte strings, TLV-wrapped values,
 * structs, optional fields, lists).
 */
import { FormatError } from '../errors.js';
import { encodeTlv, parseTlvOne, tagToHex } from './tlv.js';

/** One row of a layout table in the generated reference. */
export interface LayoutRow {
  field: string;
  /** size in bytes, or a description such as "var" or "1+n" */
  size: string;
  description: string;
}

/** Names a field for an error: "what field", or just "what" at top level. */
export function at(what: string, field: string): string {
  return field ? `${what} ${field}` : what;
}

/** Cursor over bytes being decoded. */
export class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {}
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  take(n: number, field: string): Uint8Array {
    if (n > this.remaining) {
      throw new FormatError(at(this.what, field), `needs ${n} bytes at offset ${this.pos}, only ${this.remaining} left`);
    }
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    return this.take(this.remaining, 'rest');
  }
}

/** A declarative coder for values of type T. */
export interface Coder<T> {
  /** fixed encoded size in bytes, or undefined when it varies */
  readonly size: number | undefined;
  /** short description for docs, e.g. "u32 big-endian" */
  readonly describe: string;
  /** layout rows for docs (a struct lists its fields; a leaf gives one row) */
  layout(name: string): LayoutRow[];
  /** appends the encoding of `value` to `out` */
  write(value: T, out: number[]): void;
  /** reads one value from the cursor */
  read(r: Reader, field: string): T;
  encode(value: T): Uint8Array;
  /** strict decode: the whole input must be consumed */
  decode(bytes: Uint8Array, what?: string): T;
}

/** The TypeScript type a coder produces. */
export type Infer<C> = C extends Coder<infer T> ? T : never;

function sizeText(size: number | undefined): string {
  return size === undefined ? 'var' : String(size);
}

/** What every empty encoding is: one shared array, since no byte of it can be written (most commands' requests are empty). */
const NO_BYTES = new Uint8Array(0);

/** Builds a coder from read/write functions, adding encode/decode and a one-row layout. */
export function coder<T>(spec: {
  size: number | undefined;
  describe: string;
  write(value: T, out: number[]): void;
  read(r: Reader, field: string): T;
  layout?: (name: string) => LayoutRow[];
}): Coder<T> {
  const c: Coder<T> = {
    size: spec.size,
    describe: spec.describe,
    layout: spec.layout ?? ((name) => [{ field: name, size: sizeText(spec.size), description: spec.describe }]),
    write: spec.write,
    read: spec.read,
    encode(value: T): Uint8Array {
      if (spec.size === 0) return NO_BYTES;
      const out: number[] = [];
      spec.write(value, out);
      return out.length === 0 ? NO_BYTES : Uint8Array.from(out);
    },
    decode(bytes: Uint8Array, what = 'value'): T {
      const r = new Reader(bytes, what);
      const v = spec.read(r, '');
      if (r.remaining !== 0) throw new FormatError(what, `${r.remaining} unexpected trailing bytes at offset ${r.pos}`);
      return v;
    },
  };
  return c;
}

function pushBytes(out: number[], b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) out.push(b[i]);
}

/** Unsigned big-endian integer of `n` bytes (1..6), as a JS number. */
export function uint(n: number): Coder<number> {
  const max = 2 ** (8 * n) - 1;
  return coder<number>({
    size: n,
    describe: n === 1 ? 'u8' : `u${8 * n} big-endian`,
    write(v, out) {
      if (!Number.isInteger(v) || v < 0 || v > max) throw new FormatError(`u${8 * n}`, `${v} is not an integer in 0..${max}`);
      for (let i = n - 1; i >= 0; i--) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
    },
    read(r, field) {
      const b = r.take(n, field);
      let v = 0;
      for (let i = 0; i < n; i++) v = v * 256 + b[i];
      return v;
    },
  });
}

export const u8 = uint(1);
export const u16 = uint(2);
export const u24 = uint(3);
export const u32 = uint(4);

/** Fixed-length byte string. */
export function bytes(n: number, describe = `${n} bytes`): Coder<Uint8Array> {
  return coder<Uint8Array>({
    size: n,
    describe,
    write(v, out) {
      if (!(v instanceof Uint8Array) || v.length !== n) {
        throw new FormatError(describe, `expected ${n} bytes, got ${v instanceof Uint8Array ? v.length : typeof v}`);
      }
      pushBytes(out, v);
    },
    read: (r, field) => r.take(n, field).slice(),
  });
}

/** Every remaining byte (only valid as the last field of a layout). */
export function rest(describe = 'remaining bytes', limits: { min?: number; max?: number } = {}): Coder<Uint8Array> {
  const { min = 0, max = Infinity } = limits;
  const check = (len: number): void => {
    if (len < min || len > max) throw new FormatError(describe, `length ${len} outside ${min}..${max}`);
  };
  return coder<Uint8Array>({
    size: undefined,
    describe,
    write(v, out) {
      check(v.length);
      pushBytes(out, v);
    },
    read(r) {
      const v = r.rest().slice();
      check(v.length);
      return v;
    },
  });
}

/** Byte string preceded by its length as an unsigned integer of `lengthBytes` bytes. */
export function lengthPrefixed(lengthBytes = 1, describe = 'bytes', max = 2 ** (8 * lengthBytes) - 1): Coder<Uint8Array> {
  const len = uint(lengthBytes);
  return coder<Uint8Array>({
    size: undefined,
    describe: `${describe} (${lengthBytes}-byte length, then value)`,
    write(v, out) {
      if (v.length > max) throw new FormatError(describe, `length ${v.length} exceeds ${max}`);
      len.write(v.length, out);
      pushBytes(out, v);
    },
    read(r, field) {
      const n = len.read(r, field);
      if (n > max) throw new FormatError(at(r.what, field), `length ${n} exceeds ${max}`);
      return r.take(n, field).slice();
    },
    layout: (name) => [{ field: name, size: `${lengthBytes}+n`, description: `${describe}: ${lengthBytes}-byte length, then value` }],
  });
}

/** Maps a coder's values through a bijection (e.g. bytes <-> UTF-8 string). */
export function mapped<A, B>(inner: Coder<A>, to: (a: A) => B, from: (b: B) => A, describe = inner.describe): Coder<B> {
  return coder<B>({
    size: inner.size,
    describe,
    write: (v, out) => inner.write(from(v), out),
    read: (r, field) => to(inner.read(r, field)),
    layout: (name) => inner.layout(name).map((row) => ({ ...row, description: describe })),
  });
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** UTF-8 text with a 1-byte length prefix (identities, names). */
export function utf8(describe = 'UTF-8 text', max = 255): Coder<string> {
  const inner = lengthPrefixed(1, describe, max);
  return coder<string>({
    size: undefined,
    describe: `${describe} (1-byte length, then UTF-8)`,
    write: (v, out) => inner.write(utf8Encoder.encode(v), out),
    read(r, field) {
      const b = inner.read(r, field);
      try {
        return utf8Decoder.decode(b);
      } catch {
        throw new FormatError(at(r.what, field), 'is not valid UTF-8');
      }
    },
    layout: (name) => [{ field: name, size: '1+n', description: `${describe}: 1-byte length, then UTF-8` }],
  });
}

/** UTF-8 text filling the rest of its container (used inside TLV values). */
export function utf8Rest(describe = 'UTF-8 text'): Coder<string> {
  return coder<string>({
    size: undefined,
    describe,
    write: (v, out) => pushBytes(out, utf8Encoder.encode(v)),
    read(r) {
      try {
        return utf8Decoder.decode(r.rest());
      } catch {
        throw new FormatError(r.what, 'is not valid UTF-8');
      }
    },
  });
}

/** Packed BCD digit string of exactly `digits` digits (padded on the left to whole bytes with 0). */
export function bcd(digits: number, describe = `n${digits} BCD`): Coder<string> {
  const n = Math.ceil(digits / 2);
  return coder<string>({
    size: n,
    describe,
    write(v, out) {
      if (typeof v !== 'string' || v.length !== digits || !/^[0-9]*$/.test(v)) {
        throw new FormatError(describe, `expected ${digits} decimal digits`);
      }
      const s = v.padStart(2 * n, '0');
      for (let i = 0; i < n; i++) out.push((s.charCodeAt(2 * i) - 48) * 16 + (s.charCodeAt(2 * i + 1) - 48));
    },
    read(r, field) {
      const b = r.take(n, field);
      let s = '';
      for (const x of b) {
        const hi = x >> 4;
        const lo = x & 15;
        if (hi > 9 || lo > 9) throw new FormatError(at(r.what, field), `byte ${x.toString(16).padStart(2, '0')} is not BCD`);
        s += String(hi) + String(lo);
      }
      const value = s.slice(2 * n - digits);
      if (s.slice(0, 2 * n - digits).replace(/0/g, '') !== '') throw new FormatError(at(r.what, field), 'has a non-zero pad digit');
      return value;
    },
  });
}

/** Amount in fen as packed BCD of `digits` digits (EMV n12 when digits = 12). */
export function bcdAmount(digits = 12): Coder<number> {
  const inner = bcd(digits);
  return mapped(
    inner,
    (s) => Number(s),
    (v) => {
      if (!Number.isSafeInteger(v) || v < 0 || v >= 10 ** digits) throw new FormatError(`n${digits} amount`, `${v} out of range`);
      return String(v).padStart(digits, '0');
    },
    `amount in fen, n${digits} BCD`,
  );
}

/** Calendar date YYYYMMDD as 4 BCD bytes (validated). */
export const bcdDate: Coder<string> = checkedBcd(8, 'date', 'date YYYYMMDD, n8 BCD', (s) => {
  const y = +s.slice(0, 4);
  const m = +s.slice(4, 6);
  const d = +s.slice(6, 8);
  const dt = new Date(Date.UTC(y, m - 1, d));
  return m >= 1 && m <= 12 && d >= 1 && dt.getUTCMonth() === m - 1 ? undefined : `${s} is not a calendar date`;
});

/** A BCD digit string with a validity rule; errors name the field being decoded or encoded. */
function checkedBcd(digits: number, name: string, describe: string, invalid: (s: string) => string | undefined): Coder<string> {
  const inner = bcd(digits, describe);
  return coder<string>({
    size: inner.size,
    describe,
    write(v, out) {
      inner.write(v, out);
      const why = invalid(v);
      if (why) throw new FormatError(name, why);
    },
    read(r, field) {
      const v = inner.read(r, field);
      const why = invalid(v);
      if (why) throw new FormatError(at(r.what, field), why);
      return v;
    },
  });
}

/** Short date YYMMDD as 3 BCD bytes (EMV 5F24/5F25 style). */
export const bcdShortDate: Coder<string> = bcd(6, 'date YYMMDD, n6 BCD');

/** Time of day HHMMSS as 3 BCD bytes (validated). */
export const bcdTime: Coder<string> = checkedBcd(6, 'time', 'time HHMMSS, n6 BCD', (s) =>
  +s.slice(0, 2) > 23 || +s.slice(2, 4) > 59 || +s.slice(4, 6) > 59 ? `${s} is not a time of day` : undefined,
);

/**
 * PIN as packed BCD, `minDigits`..`maxDigits` digits, an odd count padded with a final F nibble
 * (PBOC VERIFY / CHANGE PIN format, JR/T 0025.2).
 */
export function bcdPin(minDigits = 4, maxDigits = 12): Coder<string> {
  return coder<string>({
    size: undefined,
    describe: `PIN, ${minDigits}-${maxDigits} digits packed BCD, odd count padded with F`,
    write(v, out) {
      if (!/^[0-9]+$/.test(v) || v.length < minDigits || v.length > maxDigits) {
        throw new FormatError('PIN', `must be ${minDigits}-${maxDigits} digits`);
      }
      const s = v.length % 2 ? v + 'F' : v;
      for (let i = 0; i < s.length; i += 2) out.push(parseInt(s.slice(i, i + 2), 16));
    },
    read(r, field) {
      const b = r.rest();
      return decodePinDigits(b, minDigits, maxDigits, at(r.what, field));
    },
  });
}

/** Decodes packed-BCD PIN digits with optional trailing F pad; used by PIN coders. Never echoes the digits. */
export function decodePinDigits(b: Uint8Array, minDigits: number, maxDigits: number, what: string): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const hi = b[i] >> 4;
    const lo = b[i] & 15;
    if (hi > 9) throw new FormatError(what, 'PIN digit is not BCD');
    s += String(hi);
    if (lo === 15 && i === b.length - 1) break;
    if (lo > 9) throw new FormatError(what, 'PIN digit is not BCD');
    s += String(lo);
  }
  if (s.length < minDigits || s.length > maxDigits) throw new FormatError(what, `PIN must have ${minDigits}-${maxDigits} digits`);
  return s;
}

/**
 * ISO 9564-1 format 2 PIN block (8 bytes): control nibble 2, PIN length nibble, PIN digits, F fill.
 * Used for the reference PIN written at issuance (DGI 8010).
 */
export const pinBlockFormat2: Coder<string> = coder<string>({
  size: 8,
  describe: 'ISO 9564-1 format 2 PIN block',
  write(v, out) {
    if (!/^[0-9]{4,12}$/.test(v)) throw new FormatError('PIN block', 'PIN must be 4-12 digits');
    const s = ('2' + v.length.toString(16) + v).padEnd(16, 'F');
    for (let i = 0; i < 16; i += 2) out.push(parseInt(s.slice(i, i + 2), 16));
  },
  read(r, field) {
    const b = r.take(8, field);
    let s = '';
    for (const x of b) s += x.toString(16).padStart(2, '0').toUpperCase();
    const len = parseInt(s[1], 16);
    if (s[0] !== '2' || len < 4 || len > 12) throw new FormatError(at(r.what, field), 'is not a format 2 PIN block');
    const digits = s.slice(2, 2 + len);
    if (!/^[0-9]+$/.test(digits) || !/^F*$/.test(s.slice(2 + len))) throw new FormatError(at(r.what, field), 'is not a format 2 PIN block');
    return digits;
  },
});

/** A constant byte string: encodes nothing from the value, checks the bytes on decode. */
export function constant(value: Uint8Array, describe: string): Coder<undefined> {
  const hexValue = Array.from(value, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
  return coder<undefined>({
    size: value.length,
    describe: `${describe} = ${hexValue}`,
    write(_v, out) {
      pushBytes(out, value);
    },
    read(r, field) {
      const b = r.take(value.length, field);
      for (let i = 0; i < b.length; i++) {
        if (b[i] !== value[i]) throw new FormatError(at(r.what, field), `expected ${hexValue}`);
      }
      return undefined;
    },
  });
}

/** A one-byte code with named values (unknown codes are rejected). */
export function enumeration<const N extends string>(values: Record<N, number>, describe: string): Coder<N> {
  const byCode = new Map<number, N>();
  for (const [name, code] of Object.entries(values) as [N, number][]) {
    if (byCode.has(code)) throw new Error(`enumeration ${describe}: code ${code} defined twice`);
    byCode.set(code, name);
  }
  const list = (Object.entries(values) as [N, number][])
    .map(([n, c]) => `${c.toString(16).padStart(2, '0').toUpperCase()} ${n}`)
    .join(', ');
  return coder<N>({
    size: 1,
    describe: `${describe} (${list})`,
    write(v, out) {
      const code = Object.hasOwn(values, v) ? values[v] : undefined;
      if (code === undefined) throw new FormatError(describe, `unknown value ${String(v)}`);
      out.push(code);
    },
    read(r, field) {
      const code = r.take(1, field)[0];
      const name = byCode.get(code);
      if (name === undefined) throw new FormatError(at(r.what, field), `unknown ${describe} code ${code.toString(16).padStart(2, '0')}`);
      return name;
    },
  });
}

/** The empty layout (no data field). */
export const empty: Coder<Record<never, never>> = coder<Record<never, never>>({
  size: 0,
  describe: 'absent',
  write() {},
  read: () => ({}),
  layout: () => [],
});

type Shape = Record<string, Coder<any>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
/** Value type of a struct: fields whose coder admits undefined become optional properties. */
export type StructValue<S extends Shape> = { [K in RequiredKeys<S>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** Fields in order, each with its own coder. Fields of type undefined (constants) are not part of the value. */
export function struct<S extends Shape>(shape: S, describe = 'structure'): Coder<StructValue<S>> {
  const entries = Object.entries(shape);
  const sizes = entries.map(([, c]) => c.size);
  const size = sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => a! + b!, 0) : undefined;
  return coder<StructValue<S>>({
    size,
    describe,
    write(v, out) {
      const value = v as Record<string, unknown>;
      for (const [name, c] of entries) c.write(value[name], out);
    },
    read(r, field) {
      const value: Record<string, unknown> = {};
      for (const [name, c] of entries) {
        const got = c.read(r, field ? `${field}.${name}` : name);
        if (got !== undefined) value[name] = got;
      }
      return value as StructValue<S>;
    },
    layout: (prefix) => entries.flatMap(([name, c]) => c.layout(prefix ? `${prefix}.${name}` : name)),
  });
}

/** A trailing optional field: absent when no bytes remain. */
export function optional<T>(inner: Coder<T>): Coder<T | undefined> {
  return coder<T | undefined>({
    size: undefined,
    describe: `${inner.describe} (optional, present when bytes remain)`,
    write(v, out) {
      if (v !== undefined) inner.write(v, out);
    },
    read: (r, field) => (r.remaining > 0 ? inner.read(r, field) : undefined),
    layout: (name) => inner.layout(name).map((row) => ({ ...row, field: `${row.field}?`, description: `${row.description} (optional)` })),
  });
}

/** Items repeated until the input ends, with optional count limits. */
export function list<T>(item: Coder<T>, limits: { min?: number; max?: number; describe?: string } = {}): Coder<T[]> {
  const { min = 0, max = Infinity, describe = `list of ${item.describe}` } = limits;
  return coder<T[]>({
    size: undefined,
    describe,
    write(v, out) {
      if (v.length < min || v.length > max) throw new FormatError(describe, `${v.length} items, expected ${min}..${max}`);
      for (const x of v) item.write(x, out);
    },
    read(r, field) {
      const items: T[] = [];
      while (r.remaining > 0) items.push(item.read(r, `${field}[${items.length}]`));
      if (items.length < min || items.length > max) throw new FormatError(at(r.what, field), `${items.length} items, expected ${min}..${max}`);
      return items;
    },
    layout: (name) => item.layout(`${name}[i]`).map((row) => ({ ...row, description: `${row.description} (repeated${max < Infinity ? `, at most ${max}` : ''})` })),
  });
}

/** Items preceded by a 1-byte count. */
export function countedList<T>(item: Coder<T>, max = 255, describe = `list of ${item.describe}`): Coder<T[]> {
  return coder<T[]>({
    size: undefined,
    describe,
    write(v, out) {
      if (v.length > max) throw new FormatError(describe, `${v.length} items, at most ${max}`);
      out.push(v.length);
      for (const x of v) item.write(x, out);
    },
    read(r, field) {
      const n = r.take(1, field)[0];
      if (n > max) throw new FormatError(at(r.what, field), `${n} items, at most ${max}`);
      const items: T[] = [];
      for (let i = 0; i < n; i++) items.push(item.read(r, `${field}[${i}]`));
      return items;
    },
    layout: (name) => [
      { field: `${name}.count`, size: '1', description: `number of items (at most ${max})` },
      ...item.layout(`${name}[i]`),
    ],
  });
}

/** The value `inner` wrapped in one BER-TLV object with the given tag. */
export function tlv<T>(tag: number, inner: Coder<T>, describe = inner.describe): Coder<T> {
  const tagHex = tagToHex(tag);
  return coder<T>({
    size: undefined,
    describe: `${tagHex}: ${describe}`,
    write(v, out) {
      pushBytes(out, encodeTlv(tag, inner.encode(v)));
    },
    read(r, field) {
      const obj = readOneTlv(r, field);
      if (obj.tag !== tag) throw new FormatError(at(r.what, field), `expected tag ${tagHex}, found ${tagToHex(obj.tag)}`);
      return inner.decode(obj.value, `${r.what} ${field || tagHex}`);
    },
    layout: (name) => {
      const field = name || tagHex;
      return [{ field, size: `TLV ${tagHex}`, description: describe }, ...inner.layout(field).filter((row) => row.field !== field)];
    },
  });
}

/** Reads exactly one BER-TLV object at the cursor (tag, length, value), without consuming more. */
function readOneTlv(r: Reader, field: string): { tag: number; value: Uint8Array } {
  const start = r.pos;
  const b = r.bytes;
  let p = start;
  if (p >= b.length) throw new FormatError(at(r.what, field), 'missing TLV');
  let tagEnd = p + 1;
  if ((b[p] & 0x1f) === 0x1f) {
    while (tagEnd < b.length && b[tagEnd] & 0x80) tagEnd++;
    tagEnd++;
  }
  if (tagEnd > b.length) throw new FormatError(at(r.what, field), 'truncated TLV tag');
  let lenEnd = tagEnd + 1;
  if (tagEnd >= b.length) throw new FormatError(at(r.what, field), 'truncated TLV length');
  if (b[tagEnd] & 0x80) lenEnd += b[tagEnd] & 0x7f;
  if (lenEnd > b.length) throw new FormatError(at(r.what, field), 'truncated TLV length');
  let len = 0;
  if (b[tagEnd] & 0x80) for (let i = tagEnd + 1; i < lenEnd; i++) len = len * 256 + b[i];
  else len = b[tagEnd];
  const total = lenEnd - start + len;
  const obj = parseTlvOne(r.take(total, field));
  return { tag: obj.tag, value: obj.value };
}

type TlvShape = Record<string, { tag: number; coder: Coder<any>; optional?: boolean }>;
type TlvFieldValue<F> = F extends { coder: Coder<infer T> } ? T : never;
/** Value type of a TLV template: optional members may be absent. */
export type TlvTemplateValue<S extends TlvShape> = {
  [K in keyof S as S[K]['optional'] extends true ? never : K]: TlvFieldValue<S[K]>;
} & {
  [K in keyof S as S[K]['optional'] extends true ? K : never]?: TlvFieldValue<S[K]>;
};

/**
 * A sequence of TLV objects identified by tag (EMV templates such as 70 or A5). Encodes in the
 * declared order; decodes in any order, rejecting unknown tags, duplicates and missing mandatory members.
 */
export function tlvFields<S extends TlvShape>(shape: S, describe = 'TLV objects', opts: { ordered?: boolean } = {}): Coder<TlvTemplateValue<S>> {
  const entries = Object.entries(shape);
  const byTag = new Map<number, [string, S[string]]>();
  for (const [name, f] of entries) {
    if (byTag.has(f.tag)) throw new Error(`tlvFields ${describe}: tag ${tagToHex(f.tag)} used twice`);
    byTag.set(f.tag, [name, f as S[string]]);
  }
  return coder<TlvTemplateValue<S>>({
    size: undefined,
    describe,
    write(v, out) {
      const value = v as Record<string, unknown>;
      for (const [name, f] of entries) {
        const x = value[name];
        if (x === undefined) {
          if (!f.optional) throw new FormatError(describe, `mandatory ${name} (${tagToHex(f.tag)}) missing`);
          continue;
        }
        pushBytes(out, encodeTlv(f.tag, f.coder.encode(x)));
      }
    },
    read(r, field) {
      const value: Record<string, unknown> = {};
      while (r.remaining > 0) {
        const obj = readOneTlv(r, field);
        const known = byTag.get(obj.tag);
        if (!known) throw new FormatError(at(r.what, field), `unexpected tag ${tagToHex(obj.tag)} in ${describe}`);
        const [name, f] = known;
        if (name in value) throw new FormatError(at(r.what, field), `tag ${tagToHex(obj.tag)} appears twice`);
        if (opts.ordered && entries.findIndex(([n]) => n === name) < Object.keys(value).reduce((m, n) => Math.max(m, entries.findIndex(([e]) => e === n)), -1)) {
          throw new FormatError(at(r.what, field), `tag ${tagToHex(obj.tag)} out of order in ${describe}`);
        }
        value[name] = f.coder.decode(obj.value, `${r.what} ${tagToHex(obj.tag)}`);
      }
      for (const [name, f] of entries) {
        if (!f.optional && !(name in value)) throw new FormatError(at(r.what, field), `mandatory ${name} (${tagToHex(f.tag)}) missing`);
      }
      return value as TlvTemplateValue<S>;
    },
    layout: (prefix) =>
      entries.flatMap(([name, f]) => {
        const field = prefix ? `${prefix}.${name}` : name;
        return [
          { field, size: `TLV ${tagToHex(f.tag)}`, description: `${f.coder.describe}${f.optional ? ' (optional)' : ''}` },
          ...f.coder.layout(field).filter((row) => row.field !== field),
        ];
      }),
  });
}

/**
 * Decodes `inner` from all but the last `trailerBytes` bytes of the input, leaving those for the
 * next field (a variable value followed by a fixed MAC).
 */
export function leaving<T>(inner: Coder<T>, trailerBytes: number): Coder<T> {
  return coder<T>({
    size: inner.size,
    describe: inner.describe,
    write: inner.write,
    read(r, field) {
      const n = r.remaining - trailerBytes;
      if (n < 0) throw new FormatError(at(r.what, field), `too short for the ${trailerBytes}-byte trailer`);
      return inner.decode(r.take(n, field), at(r.what, field));
    },
    layout: inner.layout,
  });
}
