/** @module BER-TLV data objects as used on cards: ISO/IEC 7816-4 BER-TLV (tags of 1-3 bytes, lengths up to 83 xxxxxx) and EMV Book 3 Annex B. */
import { concatBytes } from '../../base/bytes.js';
import { FormatError } from '../errors.js';

/** One parsed data object. `value` is a copy; `children` is set for constructed objects when parsed recursively. */
export interface Tlv {
  tag: number;
  constructed: boolean;
  value: Uint8Array;
  /** parsed when constructed */
  children?: Tlv[];
}

/** How parseTlv reads BER-TLV: recursion into constructed objects and strictness of the length encoding. */
export interface ParseTlvOptions {
  /** parse the value of constructed objects into `children` (default true) */
  recursive?: boolean;
  /**
   * default true: lengths must use the shortest form (EMV Book 3 Annex B2 / DER). false accepts
   * e.g. 81 05, which some cards emit; tags, indefinite lengths and truncation are always strict.
   */
  strict?: boolean;
}

/** Largest length this codec writes or reads (83 xxxxxx); 84 and longer length fields are rejected. */
export const MAX_TLV_LENGTH = 0xffffff;

function hexN(v: number, digits: number): string {
  return v.toString(16).toUpperCase().padStart(digits, '0');
}

/** Number of bytes of the tag field for the tag number `tag` (1, 2 or 3, by magnitude). */
function tagWidth(tag: number): number {
  return tag <= 0xff ? 1 : tag <= 0xffff ? 2 : 3;
}

/** The tag as 2, 4 or 6 uppercase hex digits, e.g. `tagToHex(0x9f79) === '9F79'`. */
export function tagToHex(tag: number): string {
  return hexN(tag, 2 * tagWidth(tag));
}

/**
 * Checks a tag field given as bytes (EMV Book 3 Annex B1, 7816-4 BER-TLV tag field): the first byte is
 * not 00 or FF; low 5 bits 11111 announce subsequent bytes, each with b8 = 1 except the last; the
 * first subsequent byte is not 80 (a leading zero); at most 3 bytes in all. Returns a reason or ''.
 * Note: EMV uses two-byte tags below number 31 (9F02, 9F17), so 9F01..9F1E are accepted although
 * X.690 would want the one-byte form.
 */
function tagProblem(b: ArrayLike<number>): string {
  const first = b[0];
  if (first === 0x00 || first === 0xff) return `first tag byte ${hexN(first, 2)} is invalid (padding, not a tag)`;
  const multi = (first & 0x1f) === 0x1f;
  if (!multi) return b.length === 1 ? '' : `first byte ${hexN(first, 2)} is a one-byte tag but ${b.length} bytes given`;
  if (b.length === 1) return `first byte ${hexN(first, 2)} announces subsequent tag bytes`;
  if (b[1] === 0x80) return 'first subsequent tag byte 80 is a non-minimal (leading zero) tag number';
  for (let i = 1; i < b.length; i++) {
    const more = (b[i] & 0x80) !== 0;
    const isLast = i === b.length - 1;
    if (isLast && more) return b.length === 3 ? 'tag longer than 3 bytes' : `tag byte ${hexN(b[i], 2)} announces another byte`;
    if (!isLast && !more) return `tag byte ${hexN(b[i], 2)} ends the tag early`;
  }
  return '';
}

function tagBytes(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag <= 0 || tag > 0xffffff) throw new FormatError('TLV tag', `tag number must be 01..FFFFFF, got ${tag}`);
  const w = tagWidth(tag);
  const out = new Uint8Array(w);
  for (let i = 0; i < w; i++) out[i] = (tag >>> (8 * (w - 1 - i))) & 0xff;
  return out;
}

/** The tag field bytes for `tag`; throws FormatError if the number is not a well-formed 1-3 byte tag. */
export function encodeTag(tag: number): Uint8Array {
  const b = tagBytes(tag);
  const problem = tagProblem(b);
  if (problem) throw new FormatError(`TLV tag ${tagToHex(tag)}`, problem);
  return b;
}

/** Whether the tag's first byte has b6 (0x20) set, i.e. the value is itself a list of data objects. */
export function isConstructedTag(tag: number): boolean {
  const b = tagBytes(tag);
  return (b[0] & 0x20) !== 0;
}

/**
 * The shortest length field for `n` (EMV Book 3 Annex B2): 00..7F in one byte, then 81 xx, 82 xxxx,
 * 83 xxxxxx. Throws FormatError for a negative, fractional or > FFFFFF length.
 */
export function encodeLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MAX_TLV_LENGTH) throw new FormatError('TLV length', `must be 0..${MAX_TLV_LENGTH}, got ${n}`);
  if (n < 0x80) return Uint8Array.of(n);
  if (n <= 0xff) return Uint8Array.of(0x81, n);
  if (n <= 0xffff) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  return Uint8Array.of(0x83, n >> 16, (n >> 8) & 0xff, n & 0xff);
}

/** Tag, length and value. The value is not checked against the constructed bit (see encodeTlvList for nesting). */
export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const t = encodeTag(tag);
  const l = encodeLength(value.length);
  const out = new Uint8Array(t.length + l.length + value.length);
  out.set(t, 0);
  out.set(l, t.length);
  out.set(value, t.length + l.length);
  return out;
}

/** The concatenation of encodeTlv for each item, in order (nest by passing an encoded list as a value). */
export function encodeTlvList(items: { tag: number; value: Uint8Array }[]): Uint8Array {
  return concatBytes(...items.map((i) => encodeTlv(i.tag, i.value)));
}

interface Ctx {
  recursive: boolean;
  strict: boolean;
  /** tags of the enclosing objects, for error messages ("TLV 6F/A5 length") */
  path: string;
  /** offset of `bytes[0]` in the outermost buffer, for error messages */
  base: number;
}

/** "TLV 6F/A5 length": an object's field, named for an error message (built only when one is thrown). */
function objectField(ctx: Ctx, tag: number, field: string): string {
  return `TLV ${ctx.path}${tagToHex(tag)} ${field}`;
}

/** Parses one object at `p`; returns it and the offset after it. */
function parseAt(bytes: Uint8Array, p: number, ctx: Ctx): { tlv: Tlv; next: number } {
  const at = ctx.base + p;
  const end = bytes.length;
  // Tag field (EMV Book 3 Annex B1).
  const first = bytes[p];
  if (first === 0x00 || first === 0xff) {
    throw new FormatError(`TLV ${ctx.path}tag`, `byte ${hexN(first, 2)} at offset ${at}: padding between objects is not accepted`);
  }
  let q = p + 1;
  if ((first & 0x1f) === 0x1f) {
    for (;;) {
      if (q >= end) throw new FormatError(`TLV ${ctx.path}tag`, `truncated tag at offset ${at}: ${q - p} byte(s), more announced`);
      const b = bytes[q++];
      if ((b & 0x80) === 0) break;
      if (q - p >= 3) throw new FormatError(`TLV ${ctx.path}tag`, `tag at offset ${at} is longer than 3 bytes`);
    }
  }
  // The loop above has checked all of tagProblem's rules but one, the leading zero of a multi-byte
  // tag (first subsequent byte 80); the field is cut out only for the message of a refused tag.
  if (q - p > 1 && bytes[p + 1] === 0x80) throw new FormatError(`TLV ${ctx.path}tag`, `at offset ${at}: ${tagProblem(bytes.subarray(p, q))}`);
  let tag = 0;
  for (let i = p; i < q; i++) tag = tag * 256 + bytes[i];
  // Length field (EMV Book 3 Annex B2).
  if (q >= end) throw new FormatError(objectField(ctx, tag, 'length'), `missing length at offset ${ctx.base + q}`);
  const l0 = bytes[q++];
  let len: number;
  if (l0 < 0x80) len = l0;
  else if (l0 === 0x80) throw new FormatError(objectField(ctx, tag, 'length'), 'indefinite length (80) is not allowed');
  else if (l0 > 0x83) throw new FormatError(objectField(ctx, tag, 'length'), `length field ${hexN(l0, 2)} is longer than 83 xxxxxx`);
  else {
    const k = l0 & 0x7f;
    if (q + k > end) throw new FormatError(objectField(ctx, tag, 'length'), `truncated: ${hexN(l0, 2)} announces ${k} length bytes, ${end - q} remain`);
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + bytes[q++];
    const minimal = k === 1 ? len >= 0x80 : k === 2 ? len > 0xff : len > 0xffff;
    if (ctx.strict && !minimal) throw new FormatError(objectField(ctx, tag, 'length'), `non-minimal length: ${len} coded on ${k + 1} bytes`);
  }
  if (q + len > end) throw new FormatError(objectField(ctx, tag, 'value'), `truncated: length ${len} but ${end - q} bytes remain`);
  const value = bytes.slice(q, q + len);
  const constructed = (first & 0x20) !== 0;
  const tlv: Tlv = { tag, constructed, value };
  if (constructed && ctx.recursive) {
    tlv.children = parseList(value, { ...ctx, path: `${ctx.path}${tagToHex(tag)}/`, base: ctx.base + q });
  }
  return { tlv, next: q + len };
}

function parseList(bytes: Uint8Array, ctx: Ctx): Tlv[] {
  const out: Tlv[] = [];
  let p = 0;
  while (p < bytes.length) {
    const { tlv, next } = parseAt(bytes, p, ctx);
    out.push(tlv);
    p = next;
  }
  return out;
}

/** The context of a parse with the default options (never changed: nested objects get a copy). */
const DEFAULT_CTX: Ctx = Object.freeze({ recursive: true, strict: true, path: '', base: 0 });

function ctxOf(opts?: ParseTlvOptions): Ctx {
  if (opts === undefined) return DEFAULT_CTX;
  return { recursive: opts.recursive ?? true, strict: opts.strict ?? true, path: '', base: 0 };
}

/**
 * Parses a concatenation of data objects that must consume `bytes` exactly (empty input gives []).
 * Constructed objects are parsed into `children` unless `recursive: false`. Throws FormatError whose
 * `what` names the object path and field ("TLV 6F/A5/BF0C length") for a truncated tag, length or
 * value, 00/FF padding, an indefinite (80) or 84+ length, or (strict, the default) a non-minimal length.
 */
export function parseTlv(bytes: Uint8Array, opts?: ParseTlvOptions): Tlv[] {
  return parseList(bytes, ctxOf(opts));
}

/** Parses exactly one data object: throws FormatError on empty input or on bytes left after it. */
export function parseTlvOne(bytes: Uint8Array, opts?: ParseTlvOptions): Tlv {
  if (bytes.length === 0) throw new FormatError('TLV', 'empty input, expected one data object');
  const { tlv, next } = parseAt(bytes, 0, ctxOf(opts));
  if (next !== bytes.length) {
    throw new FormatError('TLV trailing bytes', `${bytes.length - next} bytes after ${tagToHex(tlv.tag)} at offset ${next}`);
  }
  return tlv;
}

/** The first object with `tag` among the direct members of `list` (no descent into children). */
export function findTlv(list: Tlv[], tag: number): Tlv | undefined {
  return list.find((t) => t.tag === tag);
}

/** The first object with `tag` in `list` or any nested children, depth-first in encoding order. */
export function findTlvDeep(list: Tlv[], tag: number): Tlv | undefined {
  for (const t of list) {
    if (t.tag === tag) return t;
    if (t.children) {
      const hit = findTlvDeep(t.children, tag);
      if (hit) return hit;
    }
  }
  return undefined;
}
