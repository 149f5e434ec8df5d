/** @module SM2 elliptic-curve public-key cryptography (GB/T 32918.1-5-2016, GM/T 0003-2012): sm2p256v1 curve, keys, Z_A, signature, encryption, and a fast verifier for a fixed public key. */
import { FpInvertBatch } from '@noble/curves/abstract/modular.js';
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import type { WeierstrassPoint, WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';
import { FormatError } from '../base/format-error.js';
import { bytesToBigInt, bytesToHex, concatBytes, equalBytes, randomBytes, uintToBytes, wipe, xorBytes } from '../base/bytes.js';
import { sm2SignatureFromDer, sm2SignatureToDer } from './sm2-der.js';
import type { Sm2CiphertextOrder } from './sm2-der.js';
import { sm3, sm3Kdf } from './sm3.js';

export { sm2CiphertextFromDer, sm2CiphertextToDer, sm2SignatureFromDer, sm2SignatureToDer } from './sm2-der.js';
export type { Sm2CiphertextOrder } from './sm2-der.js';

/** Domain parameters of a prime-field curve y^2 = x^3 + ax + b (GB/T 32918.1 5.2 / 5.4). */
export interface Sm2CurveParams {
  /** field prime */
  p: bigint;
  a: bigint;
  b: bigint;
  /** order of the base point G (prime) */
  n: bigint;
  /** cofactor #E / n */
  h: bigint;
  Gx: bigint;
  Gy: bigint;
}

/** GB/T 32918.5-2017 clause 4 recommended 256-bit curve (sm2p256v1). */
export const SM2P256V1: Readonly<Sm2CurveParams> = Object.freeze({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  h: 1n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

/** GB/T 32918.2 5.5 / GM/T 0009-2012 10: the user ID used when the parties agree on none. */
export const SM2_DEFAULT_ID = '1234567812345678';

/** A distinguishing identifier for Z_A: a string (encoded as UTF-8) or raw bytes. */
export type Sm2Id = string | Uint8Array;

/** 'raw' = r||s (2 x 32 bytes); 'der' = SEQUENCE { INTEGER r, INTEGER s } (GM/T 0009-2012 7.3). */
export type Sm2SignatureFormat = 'raw' | 'der';

/** An SM2 key pair (GB/T 32918.1): private key d and public key P = [d]G. */
export interface Sm2KeyPair {
  /** 32-byte big-endian d in [1, n-2]; wipe it when done */
  privateKey: Uint8Array;
  /** 65-byte 04||x||y */
  publicKey: Uint8Array;
}

/**
 * Options of sm2Sign (GB/T 32918.2): the signer's ID and public key for Z_A, a prehashed message, the
 * signature format.
 */
export interface Sm2SignOptions {
  /** signer's ID for Z_A (default SM2_DEFAULT_ID); ignored when `prehashed` */
  id?: Sm2Id;
  /** signer's public key for Z_A, to save deriving it from the private key; must belong to it */
  publicKey?: Uint8Array;
  /** `msg` is already e = SM3(Z_A || M) (32 bytes) */
  prehashed?: boolean;
  /** output format, default 'raw' */
  format?: Sm2SignatureFormat;
  /**
   * Fixed nonce k (32 bytes, in [1, n-1]) for known-answer tests ONLY: reusing k for two messages
   * reveals the private key. Without it k is drawn from the CSPRNG.
   */
  k?: Uint8Array;
}

/** Options of sm2Verify: the signer's ID, a prehashed message, the signature format. */
export interface Sm2VerifyOptions {
  /** signer's ID for Z_A (default SM2_DEFAULT_ID); ignored when `prehashed` */
  id?: Sm2Id;
  /** `msg` is already e = SM3(Z_A || M) (32 bytes) */
  prehashed?: boolean;
  /** signature format, default 'raw' */
  format?: Sm2SignatureFormat;
}

/** Options of sm2Encrypt: the ciphertext layout and the encoding of C1. */
export interface Sm2EncryptOptions {
  /** ciphertext layout, default 'c1c3c2' (GB/T 32918.4-2016); 'c1c2c3' is GM/T 0003.4-2012's */
  order?: Sm2CiphertextOrder;
  /** encode C1 compressed (02/03||x) instead of 04||x||y */
  compressC1?: boolean;
  /** Fixed ephemeral k (32 bytes, in [1, n-1]) for known-answer tests ONLY; never reuse k. */
  k?: Uint8Array;
}

/** Options of sm2Decrypt: the ciphertext layout. */
export interface Sm2DecryptOptions {
  /** ciphertext layout, default 'c1c3c2' */
  order?: Sm2CiphertextOrder;
}

/** Options of sm2PrecomputeVerifier: the signer's ID and the window width of the tables. */
export interface Sm2PrecomputeOptions {
  /** signer's ID for Z_A (default SM2_DEFAULT_ID) */
  id?: Sm2Id;
  /** fixed-window width of the precomputed tables, 2..12 (default 8: 2 x 33 x 128 affine points) */
  windowBits?: number;
}

/** A verifier bound to one public key and ID, with Z_A and multiples of G and P precomputed. */
export interface Sm2Verifier {
  /** the public key, 65-byte 04||x||y */
  readonly publicKey: Uint8Array;
  /** Z_A of the key and ID (GB/T 32918.2 5.5) */
  readonly za: Uint8Array;
  /** Same result as `verify(publicKey, msg, signature, opts)` of this curve, several times faster. */
  verify(signature: Uint8Array, msg: Uint8Array, opts?: Omit<Sm2VerifyOptions, 'id'>): boolean;
}

/** SM2 over one curve; `sm2p256v1` is the instance for the recommended curve. */
export interface Sm2 {
  readonly params: Readonly<Sm2CurveParams>;
  /** noble point class of the curve (affine x, y; `toBytes(compressed)`, arithmetic) */
  readonly Point: WeierstrassPointCons<bigint>;
  generateKeyPair(): Sm2KeyPair;
  getPublicKey(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
  isValidPrivateKey(privateKey: Uint8Array): boolean;
  publicKeyToPoint(publicKey: Uint8Array): WeierstrassPoint<bigint>;
  normalizePublicKey(publicKey: Uint8Array, compressed?: boolean): Uint8Array;
  isValidPublicKey(publicKey: Uint8Array): boolean;
  za(publicKey: Uint8Array, id?: Sm2Id): Uint8Array;
  digest(publicKey: Uint8Array, msg: Uint8Array, id?: Sm2Id): Uint8Array;
  sign(privateKey: Uint8Array, msg: Uint8Array, opts?: Sm2SignOptions): Uint8Array;
  verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array, opts?: Sm2VerifyOptions): boolean;
  encrypt(publicKey: Uint8Array, msg: Uint8Array, opts?: Sm2EncryptOptions): Uint8Array;
  decrypt(privateKey: Uint8Array, ciphertext: Uint8Array, opts?: Sm2DecryptOptions): Uint8Array;
  precomputeVerifier(publicKey: Uint8Array, opts?: Sm2PrecomputeOptions): Sm2Verifier;
}

type CurvePoint = WeierstrassPoint<bigint>;

/** Length of e and C3: the SM3 digest size. */
const HASH_BYTES = 32;

const utf8 = new TextEncoder();

/** Affine multiples of a point for additions-only multiplication, flattened by window (see buildTable). */
interface FixedBaseTable {
  w: number;
  windows: number;
  xs: bigint[];
  ys: bigint[];
}

/** A point in Jacobian coordinates, x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity. */
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}

/**
 * Builds SM2 over the curve `params` (h, n prime; GB/T 32918.1 5.2.2 validation of the parameters
 * themselves is the caller's business). Every function of this module runs on such an instance.
 */
export function createSm2(params: Sm2CurveParams): Sm2 {
  const curve = Object.freeze({ ...params });
  const Point = weierstrass<bigint>({ p: curve.p, n: curve.n, h: curve.h, a: curve.a, b: curve.b, Gx: curve.Gx, Gy: curve.Gy });
  const { Fp, Fn } = Point;
  const n = curve.n;
  const G = Point.BASE;
  const FIELD_BYTES = Fp.BYTES;
  const SCALAR_BYTES = Fn.BYTES;
  const N_BITS = n.toString(2).length;
  // Wider wNAF window for noble's [s]G in plain verification (its default is 6 bits); built on first
  // use, about 6300 points. This Point class is private to this instance. Secret [k]G does not use
  // it: see mulSecretBase.
  if (N_BITS >= 64) G.precompute(8);

  // GB/T 32918.1 4.2.5: field elements a, b, xG, yG as fixed-length octet strings, for Z_A.
  const curveBytes = concatBytes(Fp.toBytes(curve.a), Fp.toBytes(curve.b), Fp.toBytes(curve.Gx), Fp.toBytes(curve.Gy));

  // -------------------------------------------------------------------------------------------
  // Scalars and keys

  /** Uniform random scalar in [1, max] by rejection sampling on N_BITS bits. */
  function randomScalar(max: bigint): bigint {
    const extraBits = SCALAR_BYTES * 8 - N_BITS;
    for (;;) {
      const bytes = randomBytes(SCALAR_BYTES);
      bytes[0] &= 0xff >> extraBits;
      const v = bytesToBigInt(bytes);
      wipe(bytes);
      if (v >= 1n && v <= max) return v;
    }
  }

  /** GB/T 32918.1 6.1: a private key d is in [1, n-2] (so that 1 + d is invertible mod n for signing). */
  function privateScalar(privateKey: Uint8Array): bigint {
    if (!(privateKey instanceof Uint8Array) || privateKey.length !== SCALAR_BYTES)
      throw new FormatError('SM2 private key', `must be ${SCALAR_BYTES} bytes`);
    const d = bytesToBigInt(privateKey);
    if (d < 1n || d > n - 2n) throw new FormatError('SM2 private key', 'out of range [1, n-2]');
    return d;
  }

  /** A caller-supplied nonce k in [1, n-1]. */
  function fixedNonce(k: Uint8Array): bigint {
    if (!(k instanceof Uint8Array) || k.length !== SCALAR_BYTES) throw new FormatError('SM2 fixed k', `must be ${SCALAR_BYTES} bytes`);
    const v = bytesToBigInt(k);
    if (v < 1n || v >= n) throw new FormatError('SM2 fixed k', 'out of range [1, n-1]');
    return v;
  }

  /**
   * GB/T 32918.1 4.2.9 / 6.2 decoding and validation of a public key: 04||x||y or 02/03||x,
   * coordinates below p, on the curve, not the point at infinity, of order n.
   */
  function decodePoint(bytes: Uint8Array, what: string): CurvePoint {
    if (!(bytes instanceof Uint8Array)) throw new FormatError(what, 'expected a Uint8Array');
    const head = bytes[0];
    if (head === 0x04) {
      if (bytes.length !== 1 + 2 * FIELD_BYTES) throw new FormatError(what, `uncompressed point must be ${1 + 2 * FIELD_BYTES} bytes`);
    } else if (head === 0x02 || head === 0x03) {
      if (bytes.length !== 1 + FIELD_BYTES) throw new FormatError(what, `compressed point must be ${1 + FIELD_BYTES} bytes`);
    } else {
      throw new FormatError(what, `unknown point encoding ${bytes.length ? 'prefix ' + head.toString(16).padStart(2, '0') : '(empty)'}`);
    }
    for (let off = 1; off < bytes.length; off += FIELD_BYTES) {
      if (bytesToBigInt(bytes.subarray(off, off + FIELD_BYTES)) >= curve.p) throw new FormatError(what, 'coordinate is not below p');
    }
    try {
      // GB/T 32918.1 6.2.1: y^2 = x^3 + ax + b (for 02/03: x^3 + ax + b has a square root), P != O,
      // and [n]P = O, which noble checks itself when h != 1 and which holds for every point when h = 1.
      return Point.fromBytes(bytes);
    } catch {
      throw new FormatError(what, 'not a point on the curve');
    }
  }

  function generateKeyPair(): Sm2KeyPair {
    const d = randomScalar(n - 2n); // GB/T 32918.1 6.1 step a)
    const privateKey = uintToBytes(d, SCALAR_BYTES);
    return { privateKey, publicKey: Point.fromAffine(mulSecretBase(d)).toBytes(false) };
  }

  function getPublicKey(privateKey: Uint8Array, compressed = false): Uint8Array {
    return Point.fromAffine(mulSecretBase(privateScalar(privateKey))).toBytes(compressed); // GB/T 32918.1 6.1 step b)
  }

  function isValidPrivateKey(privateKey: Uint8Array): boolean {
    try {
      privateScalar(privateKey);
      return true;
    } catch {
      return false;
    }
  }

  function publicKeyToPoint(publicKey: Uint8Array): CurvePoint {
    return decodePoint(publicKey, 'SM2 public key');
  }

  function normalizePublicKey(publicKey: Uint8Array, compressed = false): Uint8Array {
    return publicKeyToPoint(publicKey).toBytes(compressed);
  }

  function isValidPublicKey(publicKey: Uint8Array): boolean {
    try {
      publicKeyToPoint(publicKey);
      return true;
    } catch {
      return false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Z_A and e

  function idBytes(id: Sm2Id | undefined): Uint8Array {
    const bytes = id === undefined ? utf8.encode(SM2_DEFAULT_ID) : typeof id === 'string' ? utf8.encode(id) : id;
    if (!(bytes instanceof Uint8Array)) throw new FormatError('SM2 ID', 'expected a string or Uint8Array');
    // GB/T 32918.2 5.5: ENTL_A is the bit length of ID_A on two bytes.
    if (bytes.length * 8 > 0xffff) throw new FormatError('SM2 ID', 'longer than 8191 bytes');
    return bytes;
  }

  function zaOfPoint(P: CurvePoint, id: Sm2Id | undefined): Uint8Array {
    const ident = idBytes(id);
    const { x, y } = P.toAffine();
    // GB/T 32918.2 5.5: Z_A = H256(ENTL_A || ID_A || a || b || xG || yG || xA || yA)
    return sm3(concatBytes(uintToBytes(ident.length * 8, 2), ident, curveBytes, Fp.toBytes(x), Fp.toBytes(y)));
  }

  function za(publicKey: Uint8Array, id?: Sm2Id): Uint8Array {
    return zaOfPoint(publicKeyToPoint(publicKey), id);
  }

  /** Z_A of recently used (public key, ID) pairs, in insertion order, for a signer that signs many messages. */
  const zaCache = new Map<string, Uint8Array>();
  const ZA_CACHE_SIZE = 64;

  /** Z_A of a public key given as bytes, validated and hashed once per (key, ID) while it stays among the last 64 used. */
  function cachedZa(publicKey: Uint8Array, id: Sm2Id | undefined): Uint8Array {
    if (!(publicKey instanceof Uint8Array)) throw new FormatError('SM2 public key', 'expected a Uint8Array');
    const ident = idBytes(id);
    const key = `${bytesToHex(publicKey)}/${bytesToHex(ident)}`;
    let z = zaCache.get(key);
    if (z === undefined) {
      z = zaOfPoint(publicKeyToPoint(publicKey), ident);
      if (zaCache.size >= ZA_CACHE_SIZE) zaCache.delete(zaCache.keys().next().value!);
      zaCache.set(key, z);
    }
    return z;
  }

  function digest(publicKey: Uint8Array, msg: Uint8Array, id?: Sm2Id): Uint8Array {
    // GB/T 32918.2 6.1 steps A1-A2: e = H256(Z_A || M)
    return sm3(concatBytes(za(publicKey, id), msg));
  }

  function prehashedE(msg: Uint8Array): bigint {
    if (!(msg instanceof Uint8Array) || msg.length !== HASH_BYTES) throw new FormatError('SM2 digest e', `must be ${HASH_BYTES} bytes`);
    return bytesToBigInt(msg);
  }

  // -------------------------------------------------------------------------------------------
  // Signature (GB/T 32918.2 clauses 6 and 7)

  function sign(privateKey: Uint8Array, msg: Uint8Array, opts: Sm2SignOptions = {}): Uint8Array {
    const d = privateScalar(privateKey);
    if (!(msg instanceof Uint8Array)) throw new FormatError('SM2 message', 'expected a Uint8Array');
    const format = opts.format ?? 'raw';
    if (format !== 'raw' && format !== 'der') throw new FormatError('SM2 signature format', `expected 'raw' or 'der'`);
    let e: bigint;
    if (opts.prehashed) {
      e = prehashedE(msg);
    } else {
      const zaBytes = opts.publicKey !== undefined ? cachedZa(opts.publicKey, opts.id) : zaOfPoint(Point.fromAffine(mulSecretBase(d)), opts.id);
      // A1-A2: e = H256(Z_A || M)
      e = bytesToBigInt(sm3(concatBytes(zaBytes, msg)));
    }
    // (1 + d)^-1 mod n. The extended-Euclid inversion is variable time, so it runs on the blinded
    // value b(1 + d) for a fresh random b, which is uniform and independent of d; then times b.
    const blind = randomScalar(n - 1n);
    const inv1d = Fn.mul(Fn.inv(Fn.mul(blind, d + 1n)), blind);
    for (;;) {
      const k = opts.k !== undefined ? fixedNonce(opts.k) : randomScalar(n - 1n); // A3
      const x1 = mulSecretBase(k).x; // A4: (x1, y1) = [k]G
      const r = Fn.create(e + x1); // A5: r = (e + x1) mod n
      let s = 0n;
      if (r !== 0n && r + k !== n) s = Fn.mul(inv1d, Fn.sub(k, Fn.mul(r, d))); // A6: s = (1+d)^-1 (k - r d) mod n
      if (s !== 0n) {
        const raw = concatBytes(uintToBytes(r, SCALAR_BYTES), uintToBytes(s, SCALAR_BYTES)); // A7
        return format === 'der' ? sm2SignatureToDer(raw, SCALAR_BYTES) : raw;
      }
      // A5/A6 say: back to A3 with a fresh k. A fixed k cannot be redrawn.
      if (opts.k !== undefined) throw new FormatError('SM2 fixed k', 'gives r = 0, r + k = n or s = 0; choose another k');
    }
  }

  /** (r, s) from a raw or DER signature, or null when it does not decode. Range checks are the caller's. */
  function parseSignature(signature: Uint8Array, format: Sm2SignatureFormat | undefined): { r: bigint; s: bigint } | null {
    if (!(signature instanceof Uint8Array)) return null;
    let raw = signature;
    if (format === 'der') {
      try {
        raw = sm2SignatureFromDer(signature, SCALAR_BYTES);
      } catch {
        return null;
      }
    } else if (format !== undefined && format !== 'raw') {
      throw new FormatError('SM2 signature format', `expected 'raw' or 'der'`);
    }
    if (raw.length !== 2 * SCALAR_BYTES) return null;
    return { r: bytesToBigInt(raw.subarray(0, SCALAR_BYTES)), s: bytesToBigInt(raw.subarray(SCALAR_BYTES)) };
  }

  /** e for verification: SM3(Z_A || M'), or M' itself when prehashed; null when a prehashed e has the wrong length. */
  function verifyE(zaBytes: () => Uint8Array, msg: Uint8Array, prehashed: boolean | undefined): bigint | null {
    if (!(msg instanceof Uint8Array)) throw new FormatError('SM2 message', 'expected a Uint8Array');
    if (prehashed) return msg.length === HASH_BYTES ? bytesToBigInt(msg) : null;
    return bytesToBigInt(sm3(concatBytes(zaBytes(), msg))); // B3-B4
  }

  function verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array, opts: Sm2VerifyOptions = {}): boolean {
    const P = publicKeyToPoint(publicKey);
    const sig = parseSignature(signature, opts.format);
    if (sig === null) return false;
    const { r, s } = sig;
    if (r < 1n || r >= n || s < 1n || s >= n) return false; // B1, B2
    const e = verifyE(() => zaOfPoint(P, opts.id), msg, opts.prehashed);
    if (e === null) return false;
    const t = Fn.add(r, s); // B5
    if (t === 0n) return false;
    // B6: (x1', y1') = [s']G + [t]P_A. Public scalars: noble's variable-time paths, [s']G on its
    // built-in table for G, [t]P_A by wNAF.
    const X = G.multiplyUnsafe(s).add(P.multiplyUnsafe(t));
    if (X.is0()) return false;
    return Fn.create(e + X.toAffine().x) === r; // B7: R = (e' + x1') mod n, accept iff R = r'
  }

  // -------------------------------------------------------------------------------------------
  // Encryption (GB/T 32918.4 clauses 6 and 7)

  const allZero = (t: Uint8Array): boolean => {
    let acc = 0;
    for (let i = 0; i < t.length; i++) acc |= t[i];
    return acc === 0;
  };

  /** GB/T 32918.4 6.1 step A3 / 7.1 step B2: S = [h]P must not be the point at infinity. */
  function checkCofactorMultiple(P: CurvePoint, what: string): void {
    if (curve.h !== 1n && P.multiplyUnsafe(curve.h).is0()) throw new FormatError(what, '[h]P is the point at infinity');
  }

  function encrypt(publicKey: Uint8Array, msg: Uint8Array, opts: Sm2EncryptOptions = {}): Uint8Array {
    const PB = publicKeyToPoint(publicKey);
    if (!(msg instanceof Uint8Array)) throw new FormatError('SM2 plaintext', 'expected a Uint8Array');
    // klen = 0 would make t empty, which A5 treats as all zero: there is no valid ciphertext.
    if (msg.length === 0) throw new FormatError('SM2 plaintext', 'must not be empty');
    const order = opts.order ?? 'c1c3c2';
    if (order !== 'c1c3c2' && order !== 'c1c2c3') throw new FormatError('SM2 ciphertext order', `expected 'c1c3c2' or 'c1c2c3'`);
    checkCofactorMultiple(PB, 'SM2 public key'); // A3
    for (;;) {
      const k = opts.k !== undefined ? fixedNonce(opts.k) : randomScalar(n - 1n); // A1
      const c1 = Point.fromAffine(mulSecretBase(k)).toBytes(opts.compressC1 === true); // A2: C1 = [k]G
      const { x, y } = PB.multiply(k).toAffine(); // A4: [k]P_B = (x2, y2)
      const x2 = Fp.toBytes(x);
      const y2 = Fp.toBytes(y);
      const t = sm3Kdf(concatBytes(x2, y2), msg.length); // A5: t = KDF(x2 || y2, klen)
      if (!allZero(t)) {
        const c2 = xorBytes(msg, t); // A6
        const c3 = sm3(concatBytes(x2, msg, y2)); // A7: C3 = Hash(x2 || M || y2)
        wipe(t, x2, y2);
        // A8: GB/T 32918.4-2016 outputs C1||C3||C2; GM/T 0003.4-2012 had C1||C2||C3.
        return order === 'c1c3c2' ? concatBytes(c1, c3, c2) : concatBytes(c1, c2, c3);
      }
      wipe(x2, y2);
      if (opts.k !== undefined) throw new FormatError('SM2 fixed k', 'gives an all-zero KDF output; choose another k');
    }
  }

  function decrypt(privateKey: Uint8Array, ciphertext: Uint8Array, opts: Sm2DecryptOptions = {}): Uint8Array {
    const what = 'SM2 ciphertext';
    const d = privateScalar(privateKey);
    const order = opts.order ?? 'c1c3c2';
    if (order !== 'c1c3c2' && order !== 'c1c2c3') throw new FormatError('SM2 ciphertext order', `expected 'c1c3c2' or 'c1c2c3'`);
    if (!(ciphertext instanceof Uint8Array) || ciphertext.length === 0) throw new FormatError(what, 'empty');
    const c1Len = ciphertext[0] === 0x04 ? 1 + 2 * FIELD_BYTES : 1 + FIELD_BYTES;
    if (ciphertext.length < c1Len + HASH_BYTES + 1) throw new FormatError(what, `must be at least ${c1Len + HASH_BYTES + 1} bytes`);
    const c1 = ciphertext.subarray(0, c1Len);
    const rest = ciphertext.subarray(c1Len);
    const c3 = order === 'c1c3c2' ? rest.subarray(0, HASH_BYTES) : rest.subarray(rest.length - HASH_BYTES);
    const c2 = order === 'c1c3c2' ? rest.subarray(HASH_BYTES) : rest.subarray(0, rest.length - HASH_BYTES);
    let C1: CurvePoint;
    try {
      C1 = decodePoint(c1, what); // B1: C1 must satisfy the curve equation
    } catch {
      throw new FormatError(what, 'C1 is not a valid curve point');
    }
    checkCofactorMultiple(C1, what); // B2
    const { x, y } = C1.multiply(d).toAffine(); // B3: [d_B]C1 = (x2, y2)
    const x2 = Fp.toBytes(x);
    const y2 = Fp.toBytes(y);
    const t = sm3Kdf(concatBytes(x2, y2), c2.length); // B4
    if (allZero(t)) {
      wipe(x2, y2);
      throw new FormatError(what, 'KDF output is all zero');
    }
    const m = xorBytes(c2, t); // B5: M' = C2 xor t
    const u = sm3(concatBytes(x2, m, y2)); // B6: u = Hash(x2 || M' || y2), must equal C3
    const ok = equalBytes(u, c3);
    wipe(t, x2, y2);
    if (!ok) {
      wipe(m);
      throw new FormatError(what, 'C3 does not match (wrong key or altered ciphertext)');
    }
    return m; // B7
  }

  // -------------------------------------------------------------------------------------------
  // Fixed-base tables: [k]G and [s]G + [t]P as additions of precomputed affine points

  /** Signed fixed-window digits of k < 2^N_BITS: k = sum d_i 2^(w i), d_i in (-2^(w-1), 2^(w-1)]. */
  function windowDigits(k: bigint, w: number, windows: number): Int32Array {
    const size = 1 << w;
    const half = size >> 1;
    const mask = BigInt(size - 1);
    const bw = BigInt(w);
    const out = new Int32Array(windows);
    for (let i = 0; i < windows; i++) {
      let v = Number(k & mask);
      k >>= bw;
      if (v > half) {
        v -= size;
        k += 1n;
      }
      out[i] = v;
    }
    return out;
  }

  /**
   * Regular (Joye-Tunstall) recoding of an odd k < 2^N_BITS: k = sum d_i 2^(w i) with every d_i odd in
   * [-(2^w - 1), 2^w - 1], so no digit is zero and every window costs one addition whatever k is.
   * Each step keeps the rest odd; after ceil(N_BITS / w) steps the rest is 1, the last digit.
   */
  function oddDigits(k: bigint, w: number, windows: number): Int32Array {
    const size = 1 << w;
    const mask = BigInt(2 * size - 1);
    const bw = BigInt(w);
    const out = new Int32Array(windows);
    for (let i = 0; i < windows - 1; i++) {
      const d = Number(k & mask) - size; // (k mod 2^(w+1)) - 2^w: odd, and k - d = 2^w (mod 2^(w+1))
      out[i] = d;
      k = (k - BigInt(d)) >> bw;
    }
    out[windows - 1] = Number(k);
    return out;
  }

  /**
   * Affine multiples j 2^(w i) Q for window i and j = 1..2^(w-1) (`odd` false: the digits of
   * windowDigits) or j = 1, 3, .., 2^w - 1 (`odd` true: the digits of oddDigits), 2^(w-1) per window.
   * No entry is O when n > 2^w: j 2^(w i) is then never a multiple of the prime n.
   */
  function buildTable(Q: CurvePoint, w: number, odd = false): FixedBaseTable {
    const windows = Math.ceil(N_BITS / w) + 1; // the signed recoding's carry, or the odd recoding's final 1
    const half = 1 << (w - 1);
    const pts: CurvePoint[] = [];
    let base = Q;
    for (let i = 0; i < windows; i++) {
      const step = odd ? base.double() : base;
      let acc = base;
      for (let j = 0; j < half; j++) {
        pts.push(acc);
        if (j < half - 1) acc = acc.add(step);
      }
      // 2^(w (i+1)) Q: (2^w - 1) 2^(w i) Q + 2^(w i) Q, or 2 x 2^(w-1) 2^(w i) Q
      base = odd ? acc.add(base) : acc.double();
    }
    // One shared inversion to make every entry affine (noble points are homogeneous: x = X/Z).
    const invZ = FpInvertBatch(Fp, pts.map((p) => p.Z), true);
    const xs = pts.map((p, i) => Fp.mul(p.X, invZ[i]));
    const ys = pts.map((p, i) => Fp.mul(p.Y, invZ[i]));
    return { w, windows, xs, ys };
  }

  /**
   * acc += (x2, y2), in place: acc in Jacobian coordinates (x = X/Z^2, y = Y/Z^3, Z = 0 for O),
   * (x2, y2) affine and not O. A mixed addition, 8M + 3S, except when acc = +-(x2, y2) or O.
   */
  function addAffine(acc: Jacobian, x2: bigint, y2: bigint): void {
    const { X, Y, Z } = acc;
    if (Z === 0n) {
      acc.X = x2;
      acc.Y = y2;
      acc.Z = 1n;
      return;
    }
    const Z1Z1 = Fp.sqr(Z);
    const U2 = Fp.mul(x2, Z1Z1);
    const S2 = Fp.mul(Fp.mul(y2, Z), Z1Z1);
    const H = Fp.sub(U2, X);
    const R = Fp.sub(S2, Y);
    if (H === 0n) {
      if (R !== 0n) {
        acc.Z = 0n; // acc = -(x2, y2)
        return;
      }
      // acc = (x2, y2): double it with noble's complete formula, then homogeneous -> Jacobian.
      const D = Point.fromAffine({ x: x2, y: y2 }).double();
      acc.Z = D.Z;
      acc.X = Fp.mul(D.X, D.Z);
      acc.Y = Fp.mul(D.Y, Fp.sqr(D.Z));
      return;
    }
    const HH = Fp.sqr(H);
    const HHH = Fp.mul(H, HH);
    const V = Fp.mul(X, HH);
    const X3 = Fp.sub(Fp.sub(Fp.sqr(R), HHH), Fp.add(V, V));
    acc.Y = Fp.sub(Fp.mul(R, Fp.sub(V, X3)), Fp.mul(Y, HHH));
    acc.Z = Fp.mul(Z, H);
    acc.X = X3;
  }

  /** Adds digit d of window i of `table` (slot |d| - 1, or (|d| - 1) / 2 for an odd table) to acc. */
  function addDigit(acc: Jacobian, table: FixedBaseTable, i: number, d: number, odd: boolean): void {
    const m = d < 0 ? -d : d;
    const idx = (i << (table.w - 1)) + (odd ? m >> 1 : m - 1);
    const y = table.ys[idx];
    addAffine(acc, table.xs[idx], d < 0 ? Fp.neg(y) : y);
  }

  const baseTables = new Map<number, FixedBaseTable>();
  function baseTable(w: number): FixedBaseTable {
    let t = baseTables.get(w);
    if (!t) baseTables.set(w, (t = buildTable(G, w)));
    return t;
  }

  /** Window of the odd-multiple table of G for [k]G: 2^7 points per window, 33 windows on a 256-bit n. */
  const SECRET_BASE_WINDOW = 8;
  let secretBaseTable: FixedBaseTable | undefined;

  /**
   * [k]G for a secret k in [1, n-1], affine (GB/T 32918.2 6.1 A4, 32918.4 6.1 A2, 32918.1 6.1 b):
   * k or n - k, whichever is odd, by regular recoding over a table of odd multiples of G built on
   * first use, then [n - k]G = -[k]G. The same sequence of ceil(N_BITS / 8) + 1 mixed additions and one
   * inversion for every k, about 4x faster than noble's constant-time wNAF (which adds a decoy point
   * per zero digit). As with noble, bigint arithmetic and table indexing are not constant time.
   * Curves with n <= 2^9, whose tables would hold O, use noble's multiply.
   */
  function mulSecretBase(k: bigint): { x: bigint; y: bigint } {
    if (N_BITS <= SECRET_BASE_WINDOW + 1) return G.multiply(k).toAffine();
    const t = (secretBaseTable ??= buildTable(G, SECRET_BASE_WINDOW, true));
    const negate = (k & 1n) === 0n; // n is odd, so n - k is odd when k is even
    const digits = oddDigits(negate ? n - k : k, t.w, t.windows);
    const acc: Jacobian = { X: 0n, Y: 0n, Z: 0n };
    for (let i = 0; i < t.windows; i++) addDigit(acc, t, i, digits[i], true);
    // k in [1, n-1], so the sum is not O
    const zInv = Fp.inv(acc.Z);
    const zInv2 = Fp.sqr(zInv);
    const y = Fp.mul(acc.Y, Fp.mul(zInv2, zInv));
    return { x: Fp.mul(acc.X, zInv2), y: negate ? Fp.neg(y) : y };
  }

  /** [a]A + [b]B from two signed-digit tables with the same window, one mixed addition per nonzero digit. Variable time: public scalars only. */
  function mulAddTables(ta: FixedBaseTable, a: bigint, tb: FixedBaseTable, b: bigint): Jacobian {
    const da = windowDigits(a, ta.w, ta.windows);
    const db = windowDigits(b, tb.w, tb.windows);
    const acc: Jacobian = { X: 0n, Y: 0n, Z: 0n };
    for (let i = 0; i < ta.windows; i++) {
      if (da[i] !== 0) addDigit(acc, ta, i, da[i], false);
      if (db[i] !== 0) addDigit(acc, tb, i, db[i], false);
    }
    return acc;
  }

  function precomputeVerifier(publicKey: Uint8Array, opts: Sm2PrecomputeOptions = {}): Sm2Verifier {
    const w = opts.windowBits ?? 8;
    if (!Number.isInteger(w) || w < 2 || w > 12) throw new RangeError('SM2 verifier: windowBits must be an integer in [2, 12]');
    const P = publicKeyToPoint(publicKey);
    const pub = P.toBytes(false);
    const zaBytes = zaOfPoint(P, opts.id);
    const tg = baseTable(w);
    const tp = buildTable(P, w);
    return Object.freeze({
      publicKey: pub,
      za: zaBytes,
      verify(signature: Uint8Array, msg: Uint8Array, vopts: Omit<Sm2VerifyOptions, 'id'> = {}): boolean {
        const sig = parseSignature(signature, vopts.format);
        if (sig === null) return false;
        const { r, s } = sig;
        if (r < 1n || r >= n || s < 1n || s >= n) return false; // B1, B2
        const e = verifyE(() => zaBytes, msg, vopts.prehashed); // B3-B4 with Z_A precomputed
        if (e === null) return false;
        const t = Fn.add(r, s); // B5
        if (t === 0n) return false;
        const J = mulAddTables(tg, s, tp, t); // B6
        if (J.Z === 0n) return false;
        // B7 without an inversion: R = r iff x1' = r - e (mod n), i.e. X = c Z^2 for some c = r - e + jn < p.
        const ZZ = Fp.sqr(J.Z);
        for (let c = Fn.sub(r, Fn.create(e)); c < curve.p; c += n) {
          if (Fp.mul(c, ZZ) === J.X) return true;
        }
        return false;
      },
    });
  }

  return Object.freeze({
    params: curve,
    Point,
    generateKeyPair,
    getPublicKey,
    isValidPrivateKey,
    publicKeyToPoint,
    normalizePublicKey,
    isValidPublicKey,
    za,
    digest,
    sign,
    verify,
    encrypt,
    decrypt,
    precomputeVerifier,
  });
}

/** SM2 on the GB/T 32918.5 recommended curve. */
export const sm2p256v1: Sm2 = createSm2(SM2P256V1);

/** Fresh key pair: private key d uniform in [1, n-2] from the CSPRNG (GB/T 32918.1 6.1); wipe `privateKey` after use. */
export function sm2GenerateKeyPair(): Sm2KeyPair {
  return sm2p256v1.generateKeyPair();
}

/** Public key [d]G of a 32-byte private key, 04||x||y (or 02/03||x when `compressed`). Throws FormatError for d outside [1, n-2]. */
export function sm2GetPublicKey(privateKey: Uint8Array, compressed = false): Uint8Array {
  return sm2p256v1.getPublicKey(privateKey, compressed);
}

/** True when `privateKey` is 32 bytes encoding d in [1, n-2]. */
export function sm2IsValidPrivateKey(privateKey: Uint8Array): boolean {
  return sm2p256v1.isValidPrivateKey(privateKey);
}

/** True when `publicKey` (04||x||y or 02/03||x) decodes to a curve point other than infinity, coordinates below p. */
export function sm2IsValidPublicKey(publicKey: Uint8Array): boolean {
  return sm2p256v1.isValidPublicKey(publicKey);
}

/** Validates a public key in any encoding and re-encodes it (04||x||y by default, 02/03||x when `compressed`). Throws FormatError. */
export function sm2NormalizePublicKey(publicKey: Uint8Array, compressed = false): Uint8Array {
  return sm2p256v1.normalizePublicKey(publicKey, compressed);
}

/** Z_A = SM3(ENTL_A || ID_A || a || b || xG || yG || xA || yA), GB/T 32918.2 5.5; ID defaults to SM2_DEFAULT_ID. */
export function sm2Za(publicKey: Uint8Array, id?: Sm2Id): Uint8Array {
  return sm2p256v1.za(publicKey, id);
}

/** e = SM3(Z_A || M), GB/T 32918.2 6.1 steps A1-A2: the value signed with `{ prehashed: true }`. */
export function sm2Digest(publicKey: Uint8Array, msg: Uint8Array, id?: Sm2Id): Uint8Array {
  return sm2p256v1.digest(publicKey, msg, id);
}

/**
 * SM2 signature (GB/T 32918.2 6.1) of `msg` (or of the digest e with `prehashed`), raw r||s by default.
 * Security: k comes from the CSPRNG unless `opts.k` is given (tests only). [k]G runs the same
 * sequence of additions over a precomputed table for every k (regular recoding, no zero digits);
 * (1+d)^-1 is inverted under a random multiplicative blind. JavaScript bigints are not constant time
 * and cannot be wiped, so d and k linger in memory until garbage-collected. Z_A of `opts.publicKey`
 * is cached for the last 64 keys signed with.
 */
export function sm2Sign(privateKey: Uint8Array, msg: Uint8Array, opts?: Sm2SignOptions): Uint8Array {
  return sm2p256v1.sign(privateKey, msg, opts);
}

/**
 * SM2 verification (GB/T 32918.2 7.1). Returns false for any signature that does not verify,
 * including malformed encodings, r or s outside [1, n-1] and t = 0; throws FormatError for an
 * invalid public key (validate trust anchors once, when loading them).
 */
export function sm2Verify(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array, opts?: Sm2VerifyOptions): boolean {
  return sm2p256v1.verify(publicKey, msg, signature, opts);
}

/**
 * SM2 public-key encryption (GB/T 32918.4 6.1), C1||C3||C2 by default (C1 = 04||x||y).
 * The plaintext must not be empty. Security: the ephemeral k comes from the CSPRNG unless `opts.k`
 * is given (tests only); the ciphertext is malleable only up to the C3 check at decryption.
 */
export function sm2Encrypt(publicKey: Uint8Array, msg: Uint8Array, opts?: Sm2EncryptOptions): Uint8Array {
  return sm2p256v1.encrypt(publicKey, msg, opts);
}

/**
 * SM2 decryption (GB/T 32918.4 7.1). Throws FormatError when C1 is not on the curve, t is all
 * zero or C3 does not match (compared in constant time); messages never contain key material.
 * C1 may be 04||x||y or compressed. The returned plaintext is a fresh buffer the caller may wipe.
 */
export function sm2Decrypt(privateKey: Uint8Array, ciphertext: Uint8Array, opts?: Sm2DecryptOptions): Uint8Array {
  return sm2p256v1.decrypt(privateKey, ciphertext, opts);
}

/**
 * Verifier for many signatures under one public key (e.g. the central bank's coin-signing key):
 * Z_A and fixed-window tables of multiples of G and P are computed once (about 2 x 4200 points
 * for the default 8-bit window, tens of milliseconds), after which each verification costs about
 * 66 mixed additions instead of ~256 doublings plus additions. Same accept/reject decisions as sm2Verify.
 */
export function sm2PrecomputeVerifier(publicKey: Uint8Array, opts?: Sm2PrecomputeOptions): Sm2Verifier {
  return sm2p256v1.precomputeVerifier(publicKey, opts);
}
