/**
 * @module SM3 cryptographic hash (GB/T 32905-2016, GM/T 0004-2012) on noble's Merkle-Damgard base,
 * plus HMAC-SM3 (RFC 2104 over SM3) and the key derivation function shared by SM2 and SM9
 * (GB/T 32918.4-2016 5.4.3, GM/T 0044-2016 part 4 5.4.3).
 */
import { HashMD } from '@noble/hashes/_md.js';
import { hmac } from '@noble/hashes/hmac.js';
import { createHasher, rotl } from '@noble/hashes/utils.js';

// GB/T 32905 4.1: initial value IV.
const SM3_IV = Uint32Array.from([
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
]);

// GB/T 32905 4.2: T_j = 79cc4519 for 0 <= j <= 15 and 7a879d8a for 16 <= j <= 63, pre-rotated by j.
const SM3_TJ = Uint32Array.from({ length: 64 }, (_, j) => rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32));

const W = new Uint32Array(68);

/** GB/T 32905 4.4: permutations P0 and P1. */
const p0 = (x: number): number => x ^ rotl(x, 9) ^ rotl(x, 17);
const p1 = (x: number): number => x ^ rotl(x, 15) ^ rotl(x, 23);

export class Sm3 extends HashMD<Sm3> {
  private A = SM3_IV[0] | 0;
  private B = SM3_IV[1] | 0;
  private C = SM3_IV[2] | 0;
  private D = SM3_IV[3] | 0;
  private E = SM3_IV[4] | 0;
  private F = SM3_IV[5] | 0;
  private G = SM3_IV[6] | 0;
  private H = SM3_IV[7] | 0;

  constructor() {
    // 64-byte blocks, 32-byte digest, 64-bit big-endian length at the end of the last block (5.2).
    super(64, 32, 8, false);
  }

  protected get(): [number, number, number, number, number, number, number, number] {
    const { A, B, C, D, E, F, G, H } = this;
    return [A, B, C, D, E, F, G, H];
  }

  protected set(A: number, B: number, C: number, D: number, E: number, F: number, G: number, H: number): void {
    this.A = A | 0;
    this.B = B | 0;
    this.C = C | 0;
    this.D = D | 0;
    this.E = E | 0;
    this.F = F | 0;
    this.G = G | 0;
    this.H = H | 0;
  }

  _cloneInto(to?: Sm3): Sm3 {
    to ||= new Sm3();
    to.set(...this.get());
    return this._cloneIntoMeta(to);
  }

  // GB/T 32905 5.3: message expansion (5.3.2) and compression function CF (5.3.3).
  protected process(view: DataView, offset: number): void {
    for (let i = 0; i < 16; i++, offset += 4) W[i] = view.getUint32(offset, false);
    for (let j = 16; j < 68; j++) {
      W[j] = p1(W[j - 16] ^ W[j - 9] ^ rotl(W[j - 3], 15)) ^ rotl(W[j - 13], 7) ^ W[j - 6];
    }
    let { A, B, C, D, E, F, G, H } = this;
    for (let j = 0; j < 64; j++) {
      const a12 = rotl(A, 12);
      const ss1 = rotl((a12 + E + SM3_TJ[j]) | 0, 7);
      const ss2 = ss1 ^ a12;
      const w1 = W[j] ^ W[j + 4];
      const ff = j < 16 ? A ^ B ^ C : (A & B) | (A & C) | (B & C);
      const gg = j < 16 ? E ^ F ^ G : (E & F) | (~E & G);
      const tt1 = (ff + D + ss2 + w1) | 0;
      const tt2 = (gg + H + ss1 + W[j]) | 0;
      D = C;
      C = rotl(B, 9);
      B = A;
      A = tt1;
      H = G;
      G = rotl(F, 19);
      F = E;
      E = p0(tt2);
    }
    this.set(A ^ this.A, B ^ this.B, C ^ this.C, D ^ this.D, E ^ this.E, F ^ this.F, G ^ this.G, H ^ this.H);
  }

  protected roundClean(): void {
    W.fill(0);
  }

  destroy(): void {
    this.destroyed = true;
    this.set(0, 0, 0, 0, 0, 0, 0, 0);
    this.buffer.fill(0);
  }
}

/** SM3 digest of `msg` (32 bytes). Also `sm3.create()` for incremental hashing. */
export const sm3 = createHasher(() => new Sm3());

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
  const out = new Uint8Array(lengthBytes);
  const ctBytes = new Uint8Array(4);
  const ctView = new DataView(ctBytes.buffer);
  const prefix = sm3.create().update(z);
  for (let ct = 1, pos = 0; pos < lengthBytes; ct++, pos += 32) {
    ctView.setUint32(0, ct, false);
    const block = prefix.clone().update(ctBytes).digest();
    out.set(block.subarray(0, Math.min(32, lengthBytes - pos)), pos);
  }
  return out;
}
