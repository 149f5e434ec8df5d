/**
 * @module SM4 block cipher (GB/T 32906-2016, GM/T 0002-2012): key schedule, single-block encryption
 * and decryption, and the ECB and CBC modes (GB/T 17964 / ISO/IEC 10116) with no padding, PKCS#7
 * padding (RFC 5652 6.3) or ISO/IEC 9797-1 padding method 2.
 *
 * API:
 * - `sm4KeySchedule(key)` expands a 16-byte key into the 32 round keys rk0..rk31 (a `Uint32Array`
 *   the caller wipes with `.fill(0)` when done).
 * - `sm4EncryptBlock(rk, block, out?)` / `sm4DecryptBlock(rk, block, out?)` process one 16-byte block;
 *   both take the same (encryption-order) round keys.
 * - `sm4Ecb(key, { padding })` and `sm4Cbc(key, iv, { padding })` return `{ encrypt, decrypt, destroy }`;
 *   `padding` is `'none'` (input must be a multiple of 16 bytes), `'pkcs7'` (the default, as in
 *   node:crypto) or `'iso9797-m2'` (0x80 then zeros, as used by PBOC/EMV cryptograms).
 * - `sm4Pad(data, padding)` / `sm4Unpad(data, padding)` expose the padding rules on their own.
 *
 * Implementation: the round function T = L(tau(.)) is evaluated with four precomputed 256-entry
 * tables (S-box combined with the linear transform L, 4 KiB), and the key schedule's T' likewise.
 * Table look-ups are indexed by secret data, so this code is not hardened against cache-timing
 * attackers on the same machine; it is meant for host tools, the simulator and tests, not for a
 * shared HSM.
 */
import { FormatError } from '../base/format-error.js';

/** SM4 block length in bytes (GB/T 32906 5.1: 128-bit blocks). */
export const SM4_BLOCK_BYTES = 16;
/** SM4 key length in bytes (GB/T 32906 5.1: 128-bit keys). */
export const SM4_KEY_BYTES = 16;

/** Padding rule applied before encryption and removed after decryption. */
export type Sm4Padding = 'none' | 'pkcs7' | 'iso9797-m2';

/** Options of the SM4 ECB and CBC modes: the padding. */
export interface Sm4ModeOptions {
  /** Default `'pkcs7'`. With `'none'` the data length must be a multiple of 16 bytes. */
  padding?: Sm4Padding;
}

/** A keyed SM4 mode instance. It keeps the expanded key (and IV) until `destroy()` wipes them. */
export interface Sm4Cipher {
  /** Pads `plaintext` per the chosen padding and encrypts it; returns a new array. */
  encrypt(plaintext: Uint8Array): Uint8Array;
  /** Decrypts `ciphertext` (a multiple of 16 bytes) and removes the padding; returns a new array. */
  decrypt(ciphertext: Uint8Array): Uint8Array;
  /** Overwrites the round keys and IV with zeros; the instance must not be used afterwards. */
  destroy(): void;
}

// GB/T 32906 6.2: the S-box Sbox(.), row = high nibble, column = low nibble.
// prettier-ignore
const SBOX = Uint8Array.from([
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
]);

// GB/T 32906 7.3: system parameter FK.
const FK = Int32Array.from([0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc]);

// GB/T 32906 7.3: fixed parameters CK_i, byte j of CK_i being (4i + j) * 7 mod 256.
const CK = Int32Array.from({ length: 32 }, (_, i) => {
  let w = 0;
  for (let j = 0; j < 4; j++) w = (w << 8) | (((4 * i + j) * 7) & 0xff);
  return w;
});

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

// GB/T 32906 6.2: T(.) = L(tau(.)) with L(B) = B ^ (B <<< 2) ^ (B <<< 10) ^ (B <<< 18) ^ (B <<< 24).
// Since L is linear, T(a0 a1 a2 a3) = T0[a0] ^ T1[a1] ^ T2[a2] ^ T3[a3] with Tk[a] = L(Sbox(a) << (24 - 8k)).
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);
// GB/T 32906 7.3: the key schedule's T' = L'(tau(.)), L'(B) = B ^ (B <<< 13) ^ (B <<< 23), tabulated the same way.
const K0 = new Int32Array(256);
const K1 = new Int32Array(256);
const K2 = new Int32Array(256);
const K3 = new Int32Array(256);
for (let a = 0; a < 256; a++) {
  const s = SBOX[a] << 24;
  const l = s ^ rotl(s, 2) ^ rotl(s, 10) ^ rotl(s, 18) ^ rotl(s, 24);
  T0[a] = l;
  T1[a] = rotl(l, 24);
  T2[a] = rotl(l, 16);
  T3[a] = rotl(l, 8);
  const k = s ^ rotl(s, 13) ^ rotl(s, 23);
  K0[a] = k;
  K1[a] = rotl(k, 24);
  K2[a] = rotl(k, 16);
  K3[a] = rotl(k, 8);
}

function checkLength(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${bytes.length}`);
}

const load32 = (b: Uint8Array, o: number): number => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

function store32(b: Uint8Array, o: number, w: number): void {
  b[o] = w >>> 24;
  b[o + 1] = w >>> 16;
  b[o + 2] = w >>> 8;
  b[o + 3] = w;
}

/**
 * GB/T 32906 7.3 key expansion: the 32 round keys rk_i = K_{i+4} = K_i ^ T'(K_{i+1} ^ K_{i+2} ^ K_{i+3} ^ CK_i)
 * with K_0..K_3 = MK ^ FK and T' = L'(tau(.)), L'(B) = B ^ (B <<< 13) ^ (B <<< 23).
 * The result is secret material: wipe it with `rk.fill(0)` when done.
 */
export function sm4KeySchedule(key: Uint8Array): Uint32Array {
  checkLength('SM4 key', key, SM4_KEY_BYTES);
  const rk = new Uint32Array(32);
  let k0 = load32(key, 0) ^ FK[0];
  let k1 = load32(key, 4) ^ FK[1];
  let k2 = load32(key, 8) ^ FK[2];
  let k3 = load32(key, 12) ^ FK[3];
  for (let i = 0; i < 32; i++) {
    const t = k1 ^ k2 ^ k3 ^ CK[i];
    const k4 = k0 ^ K0[t >>> 24] ^ K1[(t >>> 16) & 0xff] ^ K2[(t >>> 8) & 0xff] ^ K3[t & 0xff];
    rk[i] = k4;
    k0 = k1;
    k1 = k2;
    k2 = k3;
    k3 = k4;
  }
  k0 = k1 = k2 = k3 = 0;
  return rk;
}

// Output of cryptWords(): the four words of the result block.
const OUT = new Int32Array(4);

/**
 * GB/T 32906 7.1: 32 rounds X_{i+4} = X_i ^ T(X_{i+1} ^ X_{i+2} ^ X_{i+3} ^ rk_i), then the reverse
 * transform R. `m` = 0 encrypts; `m` = 31 decrypts (7.2: same structure, round keys in reverse order,
 * and i ^ 31 = 31 - i for 0 <= i <= 31). Writes (X35, X34, X33, X32) to OUT.
 */
function cryptWords(rk: Uint32Array, m: number, x0: number, x1: number, x2: number, x3: number): void {
  for (let i = 0; i < 32; i += 4) {
    let t = x1 ^ x2 ^ x3 ^ rk[i ^ m];
    x0 ^= T0[t >>> 24] ^ T1[(t >>> 16) & 0xff] ^ T2[(t >>> 8) & 0xff] ^ T3[t & 0xff];
    t = x2 ^ x3 ^ x0 ^ rk[(i + 1) ^ m];
    x1 ^= T0[t >>> 24] ^ T1[(t >>> 16) & 0xff] ^ T2[(t >>> 8) & 0xff] ^ T3[t & 0xff];
    t = x3 ^ x0 ^ x1 ^ rk[(i + 2) ^ m];
    x2 ^= T0[t >>> 24] ^ T1[(t >>> 16) & 0xff] ^ T2[(t >>> 8) & 0xff] ^ T3[t & 0xff];
    t = x0 ^ x1 ^ x2 ^ rk[(i + 3) ^ m];
    x3 ^= T0[t >>> 24] ^ T1[(t >>> 16) & 0xff] ^ T2[(t >>> 8) & 0xff] ^ T3[t & 0xff];
  }
  OUT[0] = x3;
  OUT[1] = x2;
  OUT[2] = x1;
  OUT[3] = x0;
}

function checkRoundKeys(rk: Uint32Array): void {
  if (!(rk instanceof Uint32Array) || rk.length !== 32) {
    throw new TypeError('SM4 round keys must be the Uint32Array(32) returned by sm4KeySchedule');
  }
}

function cryptBlock(rk: Uint32Array, m: number, block: Uint8Array, out: Uint8Array | undefined): Uint8Array {
  checkRoundKeys(rk);
  checkLength('SM4 block', block, SM4_BLOCK_BYTES);
  if (out === undefined) out = new Uint8Array(SM4_BLOCK_BYTES);
  else checkLength('SM4 output block', out, SM4_BLOCK_BYTES);
  cryptWords(rk, m, load32(block, 0), load32(block, 4), load32(block, 8), load32(block, 12));
  store32(out, 0, OUT[0]);
  store32(out, 4, OUT[1]);
  store32(out, 8, OUT[2]);
  store32(out, 12, OUT[3]);
  return out;
}

/** Encrypts one 16-byte block (GB/T 32906 7.1) under round keys from `sm4KeySchedule`. `out` may be `block`. */
export function sm4EncryptBlock(rk: Uint32Array, block: Uint8Array, out?: Uint8Array): Uint8Array {
  return cryptBlock(rk, 0, block, out);
}

/** Decrypts one 16-byte block (GB/T 32906 7.2) under the same round keys used to encrypt. `out` may be `block`. */
export function sm4DecryptBlock(rk: Uint32Array, block: Uint8Array, out?: Uint8Array): Uint8Array {
  return cryptBlock(rk, 31, block, out);
}

/**
 * Appends padding so the length becomes a multiple of 16 (returns a new array):
 * `'pkcs7'` appends n bytes of value n (1 <= n <= 16, RFC 5652 6.3); `'iso9797-m2'` appends 0x80 then
 * 0 to 15 zero bytes (ISO/IEC 9797-1 6.1.2 padding method 2, always at least one byte);
 * `'none'` returns a copy and throws a RangeError unless the length is already a multiple of 16.
 */
export function sm4Pad(data: Uint8Array, padding: Sm4Padding): Uint8Array {
  const len = data.length;
  if (padding === 'none') {
    checkMultiple('SM4 input without padding', len);
    return data.slice();
  }
  const padLen = SM4_BLOCK_BYTES - (len % SM4_BLOCK_BYTES);
  const out = new Uint8Array(len + padLen);
  out.set(data);
  if (padding === 'pkcs7') out.fill(padLen, len);
  else if (padding === 'iso9797-m2') out[len] = 0x80;
  else throw new TypeError(`unknown SM4 padding '${String(padding)}'`);
  return out;
}

/**
 * Removes padding added by `sm4Pad` (returns a subarray view of `data`). Throws a FormatError
 * ("SM4 padding") when the padding is malformed. The PKCS#7 check examines the whole last block
 * whatever its content, so its timing does not depend on where the padding breaks; callers that
 * decrypt attacker-chosen ciphertext should still authenticate it (MAC) before unpadding.
 */
export function sm4Unpad(data: Uint8Array, padding: Sm4Padding): Uint8Array {
  const len = data.length;
  if (padding === 'none') return data;
  if (padding !== 'pkcs7' && padding !== 'iso9797-m2') throw new TypeError(`unknown SM4 padding '${String(padding)}'`);
  if (len === 0 || len % SM4_BLOCK_BYTES !== 0) {
    throw new RangeError(`padded SM4 data must be a non-empty multiple of ${SM4_BLOCK_BYTES} bytes, got ${len}`);
  }
  if (padding === 'pkcs7') {
    const n = data[len - 1];
    let bad = (n === 0 ? 1 : 0) | (n > SM4_BLOCK_BYTES ? 1 : 0);
    for (let i = 1; i <= SM4_BLOCK_BYTES; i++) {
      // Bytes inside the claimed padding must equal n; bytes before it are ignored.
      const inPad = i <= n ? 0xff : 0;
      bad |= (data[len - i] ^ n) & inPad;
    }
    if (bad !== 0) throw new FormatError('SM4 padding', 'invalid PKCS#7 padding');
    return data.subarray(0, len - n);
  }
  // ISO/IEC 9797-1 padding method 2: the last non-zero byte is 0x80, within the last block.
  let i = len - 1;
  const stop = len - SM4_BLOCK_BYTES;
  while (i > stop && data[i] === 0) i--;
  if (data[i] !== 0x80) throw new FormatError('SM4 padding', 'invalid ISO/IEC 9797-1 method 2 padding');
  return data.subarray(0, i);
}

function checkMultiple(what: string, len: number): void {
  if (len % SM4_BLOCK_BYTES !== 0) {
    throw new RangeError(`${what} must be a multiple of ${SM4_BLOCK_BYTES} bytes, got ${len}`);
  }
}

function paddingOf(opts: Sm4ModeOptions | undefined): Sm4Padding {
  const padding = opts?.padding ?? 'pkcs7';
  if (padding !== 'none' && padding !== 'pkcs7' && padding !== 'iso9797-m2') {
    throw new TypeError(`unknown SM4 padding '${String(padding)}'`);
  }
  return padding;
}

/** ECB over whole blocks of `src` into `dst` (same length; may be the same array). */
function ecbBlocks(rk: Uint32Array, m: number, src: Uint8Array, dst: Uint8Array): void {
  for (let o = 0; o < src.length; o += 16) {
    cryptWords(rk, m, load32(src, o), load32(src, o + 4), load32(src, o + 8), load32(src, o + 12));
    store32(dst, o, OUT[0]);
    store32(dst, o + 4, OUT[1]);
    store32(dst, o + 8, OUT[2]);
    store32(dst, o + 12, OUT[3]);
  }
  OUT.fill(0);
}

/** GB/T 17964 CBC encryption: C_i = E(P_i ^ C_{i-1}), C_0 = IV. `dst` may be `src`. */
function cbcEncryptBlocks(rk: Uint32Array, iv: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  let c0 = load32(iv, 0);
  let c1 = load32(iv, 4);
  let c2 = load32(iv, 8);
  let c3 = load32(iv, 12);
  for (let o = 0; o < src.length; o += 16) {
    cryptWords(rk, 0, load32(src, o) ^ c0, load32(src, o + 4) ^ c1, load32(src, o + 8) ^ c2, load32(src, o + 12) ^ c3);
    c0 = OUT[0];
    c1 = OUT[1];
    c2 = OUT[2];
    c3 = OUT[3];
    store32(dst, o, c0);
    store32(dst, o + 4, c1);
    store32(dst, o + 8, c2);
    store32(dst, o + 12, c3);
  }
  OUT.fill(0);
}

/** GB/T 17964 CBC decryption: P_i = D(C_i) ^ C_{i-1}, C_0 = IV. `dst` may be `src` (C_i is read first). */
function cbcDecryptBlocks(rk: Uint32Array, iv: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  let p0 = load32(iv, 0);
  let p1 = load32(iv, 4);
  let p2 = load32(iv, 8);
  let p3 = load32(iv, 12);
  for (let o = 0; o < src.length; o += 16) {
    const c0 = load32(src, o);
    const c1 = load32(src, o + 4);
    const c2 = load32(src, o + 8);
    const c3 = load32(src, o + 12);
    cryptWords(rk, 31, c0, c1, c2, c3);
    store32(dst, o, OUT[0] ^ p0);
    store32(dst, o + 4, OUT[1] ^ p1);
    store32(dst, o + 8, OUT[2] ^ p2);
    store32(dst, o + 12, OUT[3] ^ p3);
    p0 = c0;
    p1 = c1;
    p2 = c2;
    p3 = c3;
  }
  OUT.fill(0);
}

/**
 * SM4 in ECB mode. Each block is encrypted independently, so equal plaintext blocks give equal
 * ciphertext blocks: use it only for single blocks of random-looking data (keys, key check values,
 * diversification inputs), as card specifications do, never for messages. The key is expanded
 * once; the caller may wipe `key` right after this call, and should call `destroy()` when done.
 */
export function sm4Ecb(key: Uint8Array, opts?: Sm4ModeOptions): Sm4Cipher {
  const padding = paddingOf(opts);
  const rk = sm4KeySchedule(key);
  return {
    encrypt(plaintext: Uint8Array): Uint8Array {
      const out = sm4Pad(plaintext, padding);
      ecbBlocks(rk, 0, out, out);
      return out;
    },
    decrypt(ciphertext: Uint8Array): Uint8Array {
      checkMultiple('SM4-ECB ciphertext', ciphertext.length);
      const out = new Uint8Array(ciphertext.length);
      ecbBlocks(rk, 31, ciphertext, out);
      return padding === 'none' ? out : sm4Unpad(out, padding).slice();
    },
    destroy(): void {
      rk.fill(0);
    },
  };
}

/**
 * SM4 in CBC mode with a 16-byte IV (GB/T 17964 / ISO/IEC 10116). Every `encrypt` call starts from
 * the same IV: for confidentiality of related messages the IV must be unpredictable and not reused
 * under one key (card protocols that fix IV = 0 encrypt only fresh keys or random data). CBC gives
 * no integrity: authenticate the ciphertext (MAC) before trusting a decryption. The key and IV are
 * copied; call `destroy()` to wipe the copies.
 */
export function sm4Cbc(key: Uint8Array, iv: Uint8Array, opts?: Sm4ModeOptions): Sm4Cipher {
  const padding = paddingOf(opts);
  checkLength('SM4-CBC IV', iv, SM4_BLOCK_BYTES);
  const rk = sm4KeySchedule(key);
  const ivCopy = iv.slice();
  return {
    encrypt(plaintext: Uint8Array): Uint8Array {
      const out = sm4Pad(plaintext, padding);
      cbcEncryptBlocks(rk, ivCopy, out, out);
      return out;
    },
    decrypt(ciphertext: Uint8Array): Uint8Array {
      checkMultiple('SM4-CBC ciphertext', ciphertext.length);
      const out = new Uint8Array(ciphertext.length);
      cbcDecryptBlocks(rk, ivCopy, ciphertext, out);
      return padding === 'none' ? out : sm4Unpad(out, padding).slice();
    },
    destroy(): void {
      rk.fill(0);
      ivCopy.fill(0);
    },
  };
}

/**
 * CBC encryption of whole blocks under an existing key schedule, returning only the last ciphertext
 * block: the CBC-MAC chaining step of ISO/IEC 9797-1 MAC algorithm 1. `data` must already be padded
 * (a non-empty multiple of 16 bytes). Used by `sm4-mac.ts`; exported for protocols that chain
 * MAC computations themselves.
 */
export function sm4CbcLastBlock(rk: Uint32Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  checkRoundKeys(rk);
  checkLength('SM4 CBC-MAC IV', iv, SM4_BLOCK_BYTES);
  if (data.length === 0) throw new RangeError('SM4 CBC-MAC input must not be empty');
  checkMultiple('SM4 CBC-MAC input', data.length);
  let c0 = load32(iv, 0);
  let c1 = load32(iv, 4);
  let c2 = load32(iv, 8);
  let c3 = load32(iv, 12);
  for (let o = 0; o < data.length; o += 16) {
    cryptWords(rk, 0, load32(data, o) ^ c0, load32(data, o + 4) ^ c1, load32(data, o + 8) ^ c2, load32(data, o + 12) ^ c3);
    c0 = OUT[0];
    c1 = OUT[1];
    c2 = OUT[2];
    c3 = OUT[3];
  }
  const out = new Uint8Array(SM4_BLOCK_BYTES);
  store32(out, 0, c0);
  store32(out, 4, c1);
  store32(out, 8, c2);
  store32(out, 12, c3);
  OUT.fill(0);
  return out;
}
