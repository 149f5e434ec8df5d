/** @module Data grouping identifiers (DGIs) for STORE DATA: EMV Card Personalization Specification v1.1, 4.3.2 and Annex A. */
import { concatBytes } from '../../base/bytes.js';
import { FormatError } from '../errors.js';

/** One data group: a 2-byte identifier and its value (the value's own format depends on the DGI). */
export interface Dgi {
  dgi: number;
  value: Uint8Array;
}

/** How strictly parseDgiList reads DGI lengths. */
export interface ParseDgiOptions {
  /**
   * default true: a length below 255 must use the 1-byte form. false also accepts FF 00xx for it
   * (CPS only defines the 3-byte form for 255 and more, but some data preparation tools emit it).
   */
  strict?: boolean;
}

/** Largest DGI value (3-byte length form FF xxxx). */
export const MAX_DGI_LENGTH = 0xffff;

/** The DGI as 4 uppercase hex digits, e.g. `dgiToHex(0x8a01) === '8A01'`. */
export function dgiToHex(dgi: number): string {
  return dgi.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * DGI (2 bytes), length, value (EMV CPS 4.3.2): length 00..FE in one byte, 255..65535 as FF then 2
 * bytes. Throws FormatError for a DGI outside 0000..FFFF or a value longer than 65535 bytes.
 */
export function encodeDgi(d: Dgi): Uint8Array {
  if (!Number.isInteger(d.dgi) || d.dgi < 0 || d.dgi > 0xffff) throw new FormatError('DGI identifier', `must be 0000..FFFF, got ${d.dgi}`);
  const n = d.value.length;
  if (n > MAX_DGI_LENGTH) throw new FormatError(`DGI ${dgiToHex(d.dgi)} length`, `${n} bytes exceeds ${MAX_DGI_LENGTH}`);
  const lenField = n < 0xff ? Uint8Array.of(n) : Uint8Array.of(0xff, n >> 8, n & 0xff);
  const out = new Uint8Array(2 + lenField.length + n);
  out[0] = d.dgi >> 8;
  out[1] = d.dgi & 0xff;
  out.set(lenField, 2);
  out.set(d.value, 2 + lenField.length);
  return out;
}

/** The concatenation of encodeDgi for each group, in order (as a STORE DATA payload before blocking). */
export function encodeDgiList(ds: Dgi[]): Uint8Array {
  return concatBytes(...ds.map(encodeDgi));
}

/**
 * Parses a concatenation of DGIs that must consume `bytes` exactly (empty input gives []). Values are
 * copies. Throws FormatError naming the DGI and field for a truncated identifier, length or value and
 * (strict, the default) for a 3-byte length below 255.
 */
export function parseDgiList(bytes: Uint8Array, opts?: ParseDgiOptions): Dgi[] {
  const strict = opts?.strict ?? true;
  const out: Dgi[] = [];
  let p = 0;
  const end = bytes.length;
  while (p < end) {
    if (p + 2 > end) throw new FormatError('DGI identifier', `truncated at offset ${p}: 1 byte, need 2`);
    const dgi = (bytes[p] << 8) | bytes[p + 1];
    const name = `DGI ${dgiToHex(dgi)}`;
    p += 2;
    if (p >= end) throw new FormatError(`${name} length`, `missing length at offset ${p}`);
    let len = bytes[p++];
    if (len === 0xff) {
      if (p + 2 > end) throw new FormatError(`${name} length`, `truncated: FF announces 2 length bytes, ${end - p} remain`);
      len = (bytes[p] << 8) | bytes[p + 1];
      p += 2;
      if (strict && len < 0xff) throw new FormatError(`${name} length`, `non-minimal length: ${len} coded as FF ${dgiToHex(len)}`);
    }
    if (p + len > end) throw new FormatError(`${name} value`, `truncated: length ${len} but ${end - p} bytes remain`);
    out.push({ dgi, value: bytes.slice(p, p + len) });
    p += len;
  }
  return out;
}
