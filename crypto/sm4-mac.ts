/**
 * @module Message authentication codes with SM4 as the block cipher: ISO/IEC 9797-1:2011 MAC
 * algorithm 1 (CBC-MAC) and MAC algorithm 3 (retail MAC), both with padding method 2 by default,
 * and CMAC (NIST SP 800-38B, Rb = 0x87 for 128-bit blocks).
 *
 * API:
 * - `sm4Mac(key, data, { iv?, length?, padding? })`: MAC algorithm 1, the MAC of PBOC MAC1/MAC2/TAC
 *   and of PBOC/EMV secure messaging (IV = card challenge there).
 * - `sm4RetailMac(k1, k2, data, opts?)`: MAC algorithm 3 with two independent 16-byte keys.
 * - `sm4Cmac(key, data, { length? })`.
 * - `verifySm4Mac`, `verifySm4RetailMac`, `verifySm4Cmac`: constant-time comparisons of a received
 *   (possibly truncated) MAC; the received MAC's length is the truncation length.
 */
import { equalBytes, wipe } from '../base/bytes.js';
import { SM4_BLOCK_BYTES, SM4_KEY_BYTES, sm4CbcLastBlock, sm4DecryptBlock, sm4EncryptBlock, sm4KeySchedule, sm4Pad } from './sm4.js';

/** Options of the ISO/IEC 9797-1 MACs. */
export interface Sm4MacOptions {
  /**
   * Initial chaining value H_0 (16 bytes). Default all zeros, as in ISO/IEC 9797-1; PBOC secure
   * messaging (line MAC) uses the card challenge padded with zeros here.
   */
  iv?: Uint8Array;
  /** Truncation: the leftmost `length` bytes of the final block (ISO/IEC 9797-1 7.3). Default 16. */
  length?: number;
  /**
   * `'iso9797-m2'` (default): append 0x80 then zeros to a block boundary, always (ISO/IEC 9797-1
   * 6.1.2 padding method 2, the PBOC padding). `'none'`: the data is already padded and must be a
   * non-empty multiple of 16 bytes.
   */
  padding?: 'iso9797-m2' | 'none';
}

/** Options of CMAC. */
export interface Sm4CmacOptions {
  /** Tlen in bytes: the leftmost `length` bytes of the final block (SP 800-38B 6.2 step 7). Default 16. */
  length?: number;
}

/** Shortest received MAC a verify function accepts: shorter tags are too easy to guess. */
export const MIN_VERIFY_MAC_BYTES = 4;

const ZERO_BLOCK = new Uint8Array(SM4_BLOCK_BYTES);

function checkKey(what: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (key.length !== SM4_KEY_BYTES) throw new RangeError(`${what} must be ${SM4_KEY_BYTES} bytes, got ${key.length}`);
}

function macLength(length: number | undefined): number {
  const n = length ?? SM4_BLOCK_BYTES;
  if (!Number.isInteger(n) || n < 1 || n > SM4_BLOCK_BYTES) {
    throw new RangeError(`MAC length must be an integer from 1 to ${SM4_BLOCK_BYTES}, got ${n}`);
  }
  return n;
}

function macIv(iv: Uint8Array | undefined): Uint8Array {
  if (iv === undefined) return ZERO_BLOCK;
  if (!(iv instanceof Uint8Array) || iv.length !== SM4_BLOCK_BYTES) {
    throw new RangeError(`MAC initial vector must be ${SM4_BLOCK_BYTES} bytes`);
  }
  return iv;
}

function macInput(data: Uint8Array, padding: Sm4MacOptions['padding']): Uint8Array {
  if (padding === undefined || padding === 'iso9797-m2') return sm4Pad(data, 'iso9797-m2');
  if (padding !== 'none') throw new TypeError(`unknown MAC padding '${String(padding)}'`);
  if (data.length === 0 || data.length % SM4_BLOCK_BYTES !== 0) {
    throw new RangeError(`MAC input without padding must be a non-empty multiple of ${SM4_BLOCK_BYTES} bytes, got ${data.length}`);
  }
  return data;
}

/** The truncation shared by the three MACs; wipes the full block. */
function truncate(block: Uint8Array, length: number): Uint8Array {
  const out = block.slice(0, length);
  block.fill(0);
  return out;
}

/**
 * ISO/IEC 9797-1 MAC algorithm 1 with SM4: H_i = E_K(H_{i-1} ^ D_i) over the padded data, H_0 = IV
 * (zeros unless given), output transformation 1 (G = H_q), truncated to the leftmost `length` bytes.
 * Security: a tag of t bytes can be guessed with probability 2^(-8t); the card side must count and
 * limit failures. Algorithm 1 alone is only secure for messages of one fixed length per key or with
 * an unambiguous padding; padding method 2 plus a fresh session key per transaction (PBOC) provide that.
 */
export function sm4Mac(key: Uint8Array, data: Uint8Array, opts: Sm4MacOptions = {}): Uint8Array {
  checkKey('MAC key', key);
  const length = macLength(opts.length);
  const iv = macIv(opts.iv);
  const input = macInput(data, opts.padding);
  const rk = sm4KeySchedule(key);
  try {
    return truncate(sm4CbcLastBlock(rk, iv, input), length);
  } finally {
    rk.fill(0);
    if (input !== data) input.fill(0);
  }
}

/**
 * ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC") with SM4: the CBC chain of algorithm 1 under K1,
 * then output transformation 3, G = E_K1(D_K2(H_q)), truncated to `length` bytes. K1 and K2 must be
 * independent keys (with K1 = K2 this degenerates to algorithm 1). Mostly met in DES-era card specs
 * with double-length keys; with SM4's 128-bit key it adds little over algorithm 1 and is here for
 * interoperability.
 */
export function sm4RetailMac(k1: Uint8Array, k2: Uint8Array, data: Uint8Array, opts: Sm4MacOptions = {}): Uint8Array {
  checkKey('MAC key K1', k1);
  checkKey('MAC key K2', k2);
  const length = macLength(opts.length);
  const iv = macIv(opts.iv);
  const input = macInput(data, opts.padding);
  const rk1 = sm4KeySchedule(k1);
  const rk2 = sm4KeySchedule(k2);
  try {
    const h = sm4CbcLastBlock(rk1, iv, input);
    // ISO/IEC 9797-1 7.2.3 output transformation 3.
    sm4DecryptBlock(rk2, h, h);
    sm4EncryptBlock(rk1, h, h);
    return truncate(h, length);
  } finally {
    rk1.fill(0);
    rk2.fill(0);
    if (input !== data) input.fill(0);
  }
}

/** SP 800-38B 6.1: doubling in GF(2^128), i.e. shift left by one bit and XOR Rb = 0x87 if the top bit was set. */
function dbl(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(SM4_BLOCK_BYTES);
  const msb = block[0] >>> 7;
  for (let i = 0; i < SM4_BLOCK_BYTES - 1; i++) out[i] = (block[i] << 1) | (block[i + 1] >>> 7);
  // Branch-free: 0x87 & -msb is 0x87 when msb = 1 and 0 otherwise.
  out[SM4_BLOCK_BYTES - 1] = (block[SM4_BLOCK_BYTES - 1] << 1) ^ (0x87 & -msb);
  return out;
}

/**
 * CMAC with SM4 (NIST SP 800-38B 6.2): subkeys K1 = dbl(E_K(0^128)), K2 = dbl(K1); the last block is
 * XORed with K1 if complete, otherwise padded with 10* and XORed with K2; CBC-MAC with IV 0; the
 * leftmost `length` bytes. Secure for variable-length messages under one key (unlike plain CBC-MAC);
 * SP 800-38B recommends tags of at least 8 bytes unless failed attempts are limited.
 */
export function sm4Cmac(key: Uint8Array, data: Uint8Array, opts: Sm4CmacOptions = {}): Uint8Array {
  checkKey('CMAC key', key);
  const length = macLength(opts.length);
  const rk = sm4KeySchedule(key);
  // SP 800-38B 6.1 subkey generation.
  const l = sm4EncryptBlock(rk, ZERO_BLOCK);
  const sub1 = dbl(l);
  const sub2 = dbl(sub1);
  // SP 800-38B 6.2 steps 2-4: n = max(1, ceil(len / 16)); M_n* = M_n ^ K1 if complete, else (M_n || 10*) ^ K2.
  const n = Math.max(1, Math.ceil(data.length / SM4_BLOCK_BYTES));
  const complete = data.length > 0 && data.length % SM4_BLOCK_BYTES === 0;
  const input = new Uint8Array(n * SM4_BLOCK_BYTES);
  input.set(data);
  if (!complete) input[data.length] = 0x80;
  const subkey = complete ? sub1 : sub2;
  const last = (n - 1) * SM4_BLOCK_BYTES;
  for (let i = 0; i < SM4_BLOCK_BYTES; i++) input[last + i] ^= subkey[i];
  try {
    return truncate(sm4CbcLastBlock(rk, ZERO_BLOCK, input), length);
  } finally {
    rk.fill(0);
    wipe(l, sub1, sub2, input);
  }
}

/** Truncation length for verification: the received MAC's own length, which must be 4 to 16 bytes. */
function receivedLength(mac: Uint8Array): number | undefined {
  if (!(mac instanceof Uint8Array)) return undefined;
  return mac.length >= MIN_VERIFY_MAC_BYTES && mac.length <= SM4_BLOCK_BYTES ? mac.length : undefined;
}

/**
 * Checks a received MAC algorithm 1 tag (truncated to its own length, 4 to 16 bytes) in constant
 * time. Returns false for a wrong tag or a tag of unacceptable length; throws only on bad keys/options.
 */
export function verifySm4Mac(key: Uint8Array, data: Uint8Array, mac: Uint8Array, opts: Omit<Sm4MacOptions, 'length'> = {}): boolean {
  const length = receivedLength(mac);
  const expected = sm4Mac(key, data, { ...opts, length: SM4_BLOCK_BYTES });
  const ok = length !== undefined && equalBytes(expected.subarray(0, length), mac);
  expected.fill(0);
  return ok;
}

/** Checks a received MAC algorithm 3 tag (4 to 16 bytes, truncation = its length) in constant time. */
export function verifySm4RetailMac(
  k1: Uint8Array,
  k2: Uint8Array,
  data: Uint8Array,
  mac: Uint8Array,
  opts: Omit<Sm4MacOptions, 'length'> = {},
): boolean {
  const length = receivedLength(mac);
  const expected = sm4RetailMac(k1, k2, data, { ...opts, length: SM4_BLOCK_BYTES });
  const ok = length !== undefined && equalBytes(expected.subarray(0, length), mac);
  expected.fill(0);
  return ok;
}

/** Checks a received CMAC tag (4 to 16 bytes, Tlen = its length) in constant time (SP 800-38B 6.3). */
export function verifySm4Cmac(key: Uint8Array, data: Uint8Array, mac: Uint8Array): boolean {
  const length = receivedLength(mac);
  const expected = sm4Cmac(key, data);
  const ok = length !== undefined && equalBytes(expected.subarray(0, length), mac);
  expected.fill(0);
  return ok;
}
