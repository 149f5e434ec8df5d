/** @module Byte helpers every layer shares: concatenation, XOR, constant-time comparison, wiping, big-endian integers. */
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '@noble/hashes/utils.js';

export { bytesToHex, concatBytes, hexToBytes, randomBytes };

/** a XOR b; both must have the same length. */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`xorBytes: lengths differ (${a.length} vs ${b.length})`);
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Compares two byte strings in time that depends only on their lengths (for MACs, cryptograms, PINs). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Overwrites secrets with zeros; call on keys and session keys once they are no longer needed. */
export function wipe(...arrays: (Uint8Array | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

/** Unsigned big-endian encoding of `value` on `length` bytes; throws if it does not fit. */
export function uintToBytes(value: number | bigint, length: number): Uint8Array {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError('uintToBytes: negative value');
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new RangeError(`uintToBytes: value does not fit in ${length} bytes`);
  return out;
}

/** Unsigned big-endian bytes to bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}
