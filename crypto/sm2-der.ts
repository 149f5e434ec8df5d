/** @module Strict DER codecs for SM2 signatures and ciphertexts (GM/T 0009-2012 7.2 and 7.3, ITU-T X.690 DER). */
import { FormatError } from '../base/format-error.js';
import { concatBytes } from '../base/bytes.js';
import { hexByte } from '../base/hex.js';

// X.690 8.1.2 universal tags used by GM/T 0009-2012.
const TAG_INTEGER = 0x02;
const TAG_OCTET_STRING = 0x04;
const TAG_SEQUENCE = 0x30;

/** SM3 digest length: the C3 / HASH field of an SM2 ciphertext (GB/T 32918.4 6.1 step A7). */
const C3_BYTES = 32;

/** Order of the three parts of a raw SM2 ciphertext: GB/T 32918.4-2016 uses C1||C3||C2, GM/T 0003.4-2012 used C1||C2||C3. */
export type Sm2CiphertextOrder = 'c1c3c2' | 'c1c2c3';

// ---------------------------------------------------------------------------------------------
// DER primitives

/** X.690 8.1.3 / 10.1: definite length in the minimal number of octets. */
function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) octets.unshift(v & 0xff);
  return Uint8Array.from([0x80 | octets.length, ...octets]);
}

function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), encodeLength(value.length), value);
}

/** X.690 8.3: a non-negative INTEGER from unsigned big-endian bytes, in the minimal two's-complement form. */
function encodeUnsignedInteger(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  let body = unsigned.subarray(start);
  if (body.length === 0) body = Uint8Array.of(0);
  if (body[0] & 0x80) body = concatBytes(Uint8Array.of(0), body); // keep it positive
  return encodeTlv(TAG_INTEGER, body);
}

interface Tlv {
  tag: number;
  value: Uint8Array;
  /** offset just past this TLV in the parsed buffer */
  end: number;
}

/** Reads one TLV at `offset`, enforcing DER: low tag number, definite minimal length, value inside the buffer. */
function readTlv(what: string, bytes: Uint8Array, offset: number): Tlv {
  if (offset + 2 > bytes.length) throw new FormatError(what, `truncated TLV header at offset ${offset}`);
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new FormatError(what, `multi-byte tag at offset ${offset} is not expected`);
  let pos = offset + 1;
  const first = bytes[pos++];
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    // X.690 10.1: DER forbids the indefinite form (0x80); 4 length octets are far more than any SM2 structure needs.
    if (count === 0) throw new FormatError(what, `indefinite length at offset ${offset} is not DER`);
    if (count > 4) throw new FormatError(what, `length of ${count} octets at offset ${offset} is too large`);
    if (pos + count > bytes.length) throw new FormatError(what, `truncated length at offset ${offset}`);
    if (bytes[pos] === 0) throw new FormatError(what, `length at offset ${offset} has a leading zero octet (not DER)`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[pos++];
    if (length < 0x80) throw new FormatError(what, `length ${length} at offset ${offset} must use the short form in DER`);
  }
  const end = pos + length;
  if (end > bytes.length) throw new FormatError(what, `value at offset ${offset} runs past the end (${length} bytes declared)`);
  return { tag, value: bytes.subarray(pos, end), end };
}

function expectTag(what: string, tlv: Tlv, tag: number, name: string): Uint8Array {
  if (tlv.tag !== tag) throw new FormatError(what, `expected ${name} (tag ${hexByte(tag)}), got tag ${hexByte(tlv.tag)}`);
  return tlv.value;
}


/**
 * X.690 8.3.2 minimal INTEGER, required non-negative, returned as `size` unsigned big-endian bytes.
 * Throws if the encoding is non-minimal, negative, or the value does not fit in `size` bytes.
 */
function decodeUnsignedInteger(what: string, field: string, body: Uint8Array, size: number): Uint8Array {
  if (body.length === 0) throw new FormatError(what, `${field}: empty INTEGER`);
  if (body.length > 1 && body[0] === 0x00 && (body[1] & 0x80) === 0)
    throw new FormatError(what, `${field}: INTEGER has a redundant leading 00 (not minimal DER)`);
  if (body.length > 1 && body[0] === 0xff && (body[1] & 0x80) !== 0)
    throw new FormatError(what, `${field}: INTEGER has a redundant leading FF (not minimal DER)`);
  if (body[0] & 0x80) throw new FormatError(what, `${field}: INTEGER is negative`);
  const unsigned = body[0] === 0x00 && body.length > 1 ? body.subarray(1) : body;
  if (unsigned.length > size) throw new FormatError(what, `${field}: INTEGER does not fit in ${size} bytes`);
  const out = new Uint8Array(size);
  out.set(unsigned, size - unsigned.length);
  return out;
}

/** Parses `SEQUENCE { ... }` that must span the whole buffer and returns its element TLVs. */
function readSequence(what: string, der: Uint8Array, count: number): Tlv[] {
  if (!(der instanceof Uint8Array)) throw new FormatError(what, 'expected a Uint8Array');
  const outer = readTlv(what, der, 0);
  expectTag(what, outer, TAG_SEQUENCE, 'SEQUENCE');
  if (outer.end !== der.length) throw new FormatError(what, `${der.length - outer.end} trailing bytes after the SEQUENCE`);
  const body = outer.value;
  const items: Tlv[] = [];
  let pos = 0;
  while (pos < body.length) {
    const tlv = readTlv(what, body, pos);
    items.push(tlv);
    pos = tlv.end;
  }
  if (items.length !== count) throw new FormatError(what, `SEQUENCE has ${items.length} elements, expected ${count}`);
  return items;
}

// ---------------------------------------------------------------------------------------------
// Signatures: GM/T 0009-2012 7.3 SM2Signature ::= SEQUENCE { R INTEGER, S INTEGER }

/**
 * Encodes a raw SM2 signature r||s (2 * `size` bytes, default 64) as DER SEQUENCE { INTEGER r, INTEGER s }.
 * Does not check that r and s are in [1, n-1]; verification does.
 */
export function sm2SignatureToDer(signature: Uint8Array, size = 32): Uint8Array {
  if (!(signature instanceof Uint8Array) || signature.length !== 2 * size)
    throw new FormatError('SM2 signature', `raw r||s must be ${2 * size} bytes`);
  const r = encodeUnsignedInteger(signature.subarray(0, size));
  const s = encodeUnsignedInteger(signature.subarray(size));
  return encodeTlv(TAG_SEQUENCE, concatBytes(r, s));
}

/**
 * Decodes a DER SM2 signature into raw r||s (2 * `size` bytes, default 64). Strict DER: definite
 * minimal lengths, minimal non-negative INTEGERs, exactly two elements, no trailing bytes.
 * Throws FormatError otherwise. Does not check that r and s are in [1, n-1]; verification does.
 */
export function sm2SignatureFromDer(der: Uint8Array, size = 32): Uint8Array {
  const what = 'SM2 DER signature';
  const [r, s] = readSequence(what, der, 2);
  return concatBytes(
    decodeUnsignedInteger(what, 'r', expectTag(what, r, TAG_INTEGER, 'INTEGER'), size),
    decodeUnsignedInteger(what, 's', expectTag(what, s, TAG_INTEGER, 'INTEGER'), size),
  );
}

// ---------------------------------------------------------------------------------------------
// Ciphertexts: GM/T 0009-2012 7.2
//   SM2Cipher ::= SEQUENCE { XCoordinate INTEGER, YCoordinate INTEGER, HASH OCTET STRING SIZE(32), CipherText OCTET STRING }

/** The parts of a raw SM2 ciphertext, C1 as 04||x||y; throws FormatError when C1 is not uncompressed. */
function splitRawCiphertext(ct: Uint8Array, order: Sm2CiphertextOrder, size: number) {
  const what = 'SM2 ciphertext';
  const c1Len = 1 + 2 * size;
  if (!(ct instanceof Uint8Array) || ct.length === 0) throw new FormatError(what, 'empty');
  if (ct[0] !== 0x04) throw new FormatError(what, 'C1 must be uncompressed (04||x||y) to convert to GM/T 0009 DER');
  if (ct.length < c1Len + C3_BYTES + 1) throw new FormatError(what, `must be at least ${c1Len + C3_BYTES + 1} bytes`);
  const x = ct.subarray(1, 1 + size);
  const y = ct.subarray(1 + size, c1Len);
  const rest = ct.subarray(c1Len);
  const c3 = order === 'c1c3c2' ? rest.subarray(0, C3_BYTES) : rest.subarray(rest.length - C3_BYTES);
  const c2 = order === 'c1c3c2' ? rest.subarray(C3_BYTES) : rest.subarray(0, rest.length - C3_BYTES);
  return { x, y, c3, c2 };
}

function checkOrder(order: unknown): Sm2CiphertextOrder {
  if (order !== 'c1c3c2' && order !== 'c1c2c3') throw new FormatError('SM2 ciphertext order', `expected 'c1c3c2' or 'c1c2c3'`);
  return order;
}

/**
 * Converts a raw SM2 ciphertext (C1 = 04||x||y, then C3 and C2 in `order`, default C1||C3||C2)
 * to the GM/T 0009-2012 DER SEQUENCE { x, y, HASH = C3, CipherText = C2 }. The DER field order is
 * fixed by GM/T 0009 whatever the raw order. Does not validate C1 as a curve point.
 */
export function sm2CiphertextToDer(ciphertext: Uint8Array, opts: { order?: Sm2CiphertextOrder; size?: number } = {}): Uint8Array {
  const size = opts.size ?? 32;
  const { x, y, c3, c2 } = splitRawCiphertext(ciphertext, checkOrder(opts.order ?? 'c1c3c2'), size);
  return encodeTlv(
    TAG_SEQUENCE,
    concatBytes(encodeUnsignedInteger(x), encodeUnsignedInteger(y), encodeTlv(TAG_OCTET_STRING, c3), encodeTlv(TAG_OCTET_STRING, c2)),
  );
}

/**
 * Converts a GM/T 0009-2012 DER SM2 ciphertext to raw form (C1 = 04||x||y, then C3 and C2 in
 * `order`, default C1||C3||C2). Strict DER; HASH must be 32 bytes and CipherText non-empty.
 * Does not validate C1 as a curve point (decryption does).
 */
export function sm2CiphertextFromDer(der: Uint8Array, opts: { order?: Sm2CiphertextOrder; size?: number } = {}): Uint8Array {
  const what = 'SM2 DER ciphertext';
  const size = opts.size ?? 32;
  const order = checkOrder(opts.order ?? 'c1c3c2');
  const [x, y, hash, text] = readSequence(what, der, 4);
  const xb = decodeUnsignedInteger(what, 'XCoordinate', expectTag(what, x, TAG_INTEGER, 'INTEGER'), size);
  const yb = decodeUnsignedInteger(what, 'YCoordinate', expectTag(what, y, TAG_INTEGER, 'INTEGER'), size);
  const c3 = expectTag(what, hash, TAG_OCTET_STRING, 'OCTET STRING');
  const c2 = expectTag(what, text, TAG_OCTET_STRING, 'OCTET STRING');
  if (c3.length !== C3_BYTES) throw new FormatError(what, `HASH must be ${C3_BYTES} bytes, got ${c3.length}`);
  if (c2.length === 0) throw new FormatError(what, 'CipherText is empty');
  const c1 = concatBytes(Uint8Array.of(0x04), xb, yb);
  return order === 'c1c3c2' ? concatBytes(c1, c3, c2) : concatBytes(c1, c2, c3);
}
