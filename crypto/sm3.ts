/**
 * @module SM3 cryptographic hash (GB/T 32905-2016, GM/T 0004-2012): a one-shot fast path plus an
 * incremental hasher on noble's Merkle-Damgard base, HMAC-SM3 (RFC 2104 over SM3) and the key
 * derivation function shared by SM2 and SM9 (GB/T 32918.4-2016 5.4.3, GM/T 0044-2016 part 4 5.4.3).
 */
import { HashMD } from '@noble/hashes/_md.js';
import { hmac } from '@noble/hashes/hmac.js';
import type { CHash } from '@noble/hashes/utils.js';

// GB/T 32905 4.1: initial value IV.
const SM3_IV = Int32Array.from([
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
]);

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

// GB/T 32905 4.2: T_j = 79cc4519 for 0 <= j <= 15 and 7a879d8a for 16 <= j <= 63; 5.3.3 uses
// T_j <<< (j mod 32), so the table holds the rotated constants.
const SM3_TJ = Int32Array.from({ length: 64 }, (_, j) => {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  return j % 32 === 0 ? t : rotl(t, j % 32);
});

// Message schedule W_0..W_67 (5.3.2), shared by all hashers; wiped after each use because it holds
// message-derived words (HMAC keys pass through here).
const W = new Int32Array(68);

/**
 * GB/T 32905 5.3.2 message expansion of W[0..15] (already loaded, big-endian) and 5.3.3
 * compression function CF applied to the state `s` (V_i -> V_{i+1}), in place.
 * W'_j = W_j ^ W_{j+4} is computed on the fly; FF/GG are split at j = 16 so the loops have no branch.
 */
function compress(s: Int32Array): void {
  for (let j = 16; j < 68; j++) {
    const x = W[j - 16] ^ W[j - 9] ^ rotl(W[j - 3], 15);
    // P1(x) = x ^ (x <<< 15) ^ (x <<< 23)  (4.4)
    W[j] = x ^ rotl(x, 15) ^ rotl(x, 23) ^ rotl(W[j - 13], 7) ^ W[j - 6];
  }
  let A = s[0];
  let B = s[1];
  let C = s[2];
  let D = s[3];
  let E = s[4];
  let F = s[5];
  let G = s[6];
  let H = s[7];
  for (let j = 0; j < 16; j++) {
    const a12 = rotl(A, 12);
    const ss1 = rotl((a12 + E + SM3_TJ[j]) | 0, 7);
    const ss2 = ss1 ^ a12;
    const w = W[j];
    // FF_j = X ^ Y ^ Z, GG_j = X ^ Y ^ Z for 0 <= j <= 15 (4.3)
    const tt1 = ((A ^ B ^ C) + D + ss2 + (w ^ W[j + 4])) | 0;
    const tt2 = ((E ^ F ^ G) + H + ss1 + w) | 0;
    D = C;
    C = rotl(B, 9);
    B = A;
    A = tt1;
    H = G;
    G = rotl(F, 19);
    F = E;
    // P0(x) = x ^ (x <<< 9) ^ (x <<< 17)  (4.4)
    E = tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17);
  }
  for (let j = 16; j < 64; j++) {
    const a12 = rotl(A, 12);
    const ss1 = rotl((a12 + E + SM3_TJ[j]) | 0, 7);
    const ss2 = ss1 ^ a12;
    const w = W[j];
    // FF_j = (X & Y) | (X & Z) | (Y & Z), GG_j = (X & Y) | (~X & Z) for 16 <= j <= 63 (4.3),
    // written in equivalent forms with fewer operations.
    const tt1 = (((A & B) | (C & (A | B))) + D + ss2 + (w ^ W[j + 4])) | 0;
    const tt2 = ((G ^ (E & (F ^ G))) + H + ss1 + w) | 0;
    D = C;
    C = rotl(B, 9);
    B = A;
    A = tt1;
    H = G;
    G = rotl(F, 19);
    F = E;
    E = tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17);
  }
  s[0] ^= A;
  s[1] ^= B;
  s[2] ^= C;
  s[3] ^= D;
  s[4] ^= E;
  s[5] ^= F;
  s[6] ^= G;
  s[7] ^= H;
}

function loadBlock(bytes: Uint8Array, o: number): void {
  for (let i = 0; i < 16; i++, o += 4) {
    W[i] = (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
  }
}

/** Incremental SM3 (`sm3.create().update(a).update(b).digest()`); used by HMAC and the KDF. */
export class Sm3 extends HashMD<Sm3> {
  private readonly s = Int32Array.from(SM3_IV);

  constructor() {
    // 64-byte blocks, 32-byte digest, 64-bit big-endian length at the end of the last block (5.2).
    super(64, 32, 8, false);
  }

  protected get(): number[] {
    const s = this.s;
    return [s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]];
  }

  protected set(A: number, B: number, C: number, D: number, E: number, F: number, G: number, H: number): void {
    const s = this.s;
    s[0] = A;
    s[1] = B;
    s[2] = C;
    s[3] = D;
    s[4] = E;
    s[5] = F;
    s[6] = G;
    s[7] = H;
  }

  _cloneInto(to?: Sm3): Sm3 {
    to ||= new Sm3();
    to.s.set(this.s);
    return this._cloneIntoMeta(to);
  }

  // GB/T 32905 5.3: one block of the iterative compression.
  protected process(view: DataView, offset: number): void {
    for (let i = 0; i < 16; i++, offset += 4) W[i] = view.getInt32(offset, false);
    compress(this.s);
  }

  protected roundClean(): void {
    W.fill(0);
  }

  destroy(): void {
    this.destroyed = true;
    this.s.fill(0);
    this.buffer.fill(0);
  }
}

// Scratch for the one-shot path: the state and the padded tail (at most two blocks).
const ONE_STATE = new Int32Array(8);
const TAIL = new Uint8Array(128);

/**
 * GB/T 32905 5.2 padding and 5.3 iteration for a whole message at once: full blocks are read
 * straight from `msg`, only the tail is copied and padded (bit 1, zeros, 64-bit big-endian bit length).
 */
function sm3OneShot(msg: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!(msg instanceof Uint8Array)) throw new TypeError('sm3: message must be a Uint8Array');
  const s = ONE_STATE;
  s.set(SM3_IV);
  const len = msg.length;
  const full = len - (len & 63);
  for (let o = 0; o < full; o += 64) {
    loadBlock(msg, o);
    compress(s);
  }
  const rem = len - full;
  for (let i = 0; i < rem; i++) TAIL[i] = msg[full + i];
  TAIL[rem] = 0x80;
  const tailLen = rem < 56 ? 64 : 128;
  // Bit length l = 8 * len as a 64-bit big-endian integer (len < 2^53, so the high word is exact).
  const hi = Math.floor(len / 0x20000000);
  const lo = (len << 3) >>> 0;
  const p = tailLen - 8;
  TAIL[p] = hi >>> 24;
  TAIL[p + 1] = hi >>> 16;
  TAIL[p + 2] = hi >>> 8;
  TAIL[p + 3] = hi;
  TAIL[p + 4] = lo >>> 24;
  TAIL[p + 5] = lo >>> 16;
  TAIL[p + 6] = lo >>> 8;
  TAIL[p + 7] = lo;
  for (let o = 0; o < tailLen; o += 64) {
    loadBlock(TAIL, o);
    compress(s);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = s[i];
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  TAIL.fill(0);
  W.fill(0);
  s.fill(0);
  return out;
}

/** SM3 digest of `msg` (32 bytes). Also `sm3.create()` for incremental hashing; usable with noble's hmac/hkdf. */
export const sm3: CHash<Sm3> = Object.freeze(
  Object.assign((msg: Uint8Array): Uint8Array<ArrayBuffer> => sm3OneShot(msg), {
    outputLen: 32,
    blockLen: 64,
    canXOF: false,
    create: (): Sm3 => new Sm3(),
  }),
);

/** HMAC-SM3 (RFC 2104 construction, 64-byte block). */
export function hmacSm3(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return hmac(sm3, key, msg);
}

/**
 * KDF(Z, klen) of GB/T 32918.4-2016 5.4.3 and GM/T 0044-2016 part 4 5.4.3:
 * SM3(Z || ct) for a 32-bit big-endian counter ct = 1, 2, ..., truncated to `lengthBytes`.
 */
export function sm3Kdf(z: Uint8Array, lengthBytes: number): Uint8Array {
  if (!Number.isInteger(lengthBytes) || lengthBytes < 0) throw new RangeError('sm3Kdf: length must be a non-negative integer');
  // 5.4.3: klen < (2^32 - 1) * v; far above anything a card protocol asks for.
  if (lengthBytes > 0xffffffff * 32) throw new RangeError('sm3Kdf: length too large');
  const out = new Uint8Array(lengthBytes);
  const ctBytes = new Uint8Array(4);
  const ctView = new DataView(ctBytes.buffer);
  const prefix = sm3.create().update(z);
  for (let ct = 1, pos = 0; pos < lengthBytes; ct++, pos += 32) {
    ctView.setUint32(0, ct, false);
    const block = prefix.clone().update(ctBytes).digest();
    out.set(block.subarray(0, Math.min(32, lengthBytes - pos)), pos);
  }
  prefix.destroy();
  return out;
}
