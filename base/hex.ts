/** @module Hex text <-> bytes for traces, tests and docs: uppercase output, tolerant spacing on input, strict digits. */
import { FormatError } from './format-error.js';

const HEX_DIGITS = '0123456789ABCDEF';

/** Uppercase hex of `bytes` with no separators, e.g. `hex(Uint8Array.of(0x6a, 0x82)) === '6A82'`. */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_DIGITS[bytes[i] >> 4] + HEX_DIGITS[bytes[i] & 0x0f];
  return out;
}

/**
 * Bytes from hex text. Whitespace anywhere is ignored ("00 A4 04 00" and "00a40400" are the same) and
 * either case is accepted; any other character or an odd number of digits throws FormatError.
 */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new FormatError('hex', `invalid character ${JSON.stringify(bad[0])} at digit ${bad.index}`);
  if (digits.length % 2 !== 0) throw new FormatError('hex', `odd number of digits (${digits.length})`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Two uppercase hex digits of a byte, for messages: `hexByte(0x6a) === '6A'`. */
export function hexByte(b: number): string {
  return HEX_DIGITS[(b >> 4) & 0x0f] + HEX_DIGITS[b & 0x0f];
}
