/**
 * @module SM9 identity-based cryptography (GM/T 0044-2016, GB/T 38635-2020): KGC master keys and user
 * key extraction, signature (part 2), key encapsulation and public-key encryption (part 4), with
 * validated byte encodings of G1, G2 and GT.
 *
 * Encodings: G1 point 04||x||y (65 bytes); G2 point 04||x||y with each Fp2 coordinate as c1||c0
 * (129 bytes); GT element 384 bytes in the standard's order; scalars 32-byte big-endian.
 * Signature h(32)||S(65). Ciphertext C1||C3||C2 and KEM encapsulation C with C1/C as x||y (64 bytes)
 * as in the standard's examples (option `c1Format: 'uncompressed'` for 04||x||y).
 *
 * Security: private keys are Uint8Arrays the caller can wipe, but the bigint copies made while
 * computing cannot be wiped. Bigint arithmetic is not constant time (timing depends on secret
 * scalars and exponents): fine for host tools, tests and the simulator, not for a shared HSM.
 */
import { FormatError } from '../../base/format-error.js';
import { bytesToBigInt, bytesToHex, concatBytes, equalBytes, randomBytes, uintToBytes, xorBytes } from '../../base/bytes.js';
import { sm3, sm3Kdf } from '../sm3.js';
import { sm4Ecb } from '../sm4.js';
import { G1, G2 } from './curves.js';
import type { G1Point, G2Point } from './curves.js';
import { Fn, Fp2, SM9_N, fp12Mul } from './fields.js';
import type { Fp12 } from './fields.js';
import { gtFromBytes, gtPow, gtToBytes } from './gt.js';
import { pairing } from './pairing.js';

export { G1, G2 } from './curves.js';
export type { G1Point, G2Point } from './curves.js';
export { gtFromBytes, gtToBytes, gtPow, gtIsMember, GT_BYTES } from './gt.js';
export { pairing } from './pairing.js';
export { SM9_N, SM9_P, SM9_T } from './fields.js';
export type { Fp12 } from './fields.js';

/** hid of signing keys (GM/T 0044-2016 part 2 clause 5). */
export const SM9_HID_SIGN = 0x01;
/** hid of key-exchange keys (part 3 clause 5). */
export const SM9_HID_KEY_EXCHANGE = 0x02;
/** hid of encryption / key-encapsulation keys (part 4 clause 5). */
export const SM9_HID_ENCRYPT = 0x03;

/** Bytes of an encoded G1 point 04||x||y. */
export const G1_BYTES = 65;
/** Bytes of an encoded G2 point 04||x(c1||c0)||y(c1||c0). */
export const G2_BYTES = 129;
/** Bytes of a signature h||S. */
export const SM9_SIGNATURE_BYTES = 32 + G1_BYTES;
/** Bytes of the MAC key K2 and of C3 (part 4 clause 7: SM3-based MAC, K2_len = 256 bits). */
const MAC_BYTES = 32;
/** SM4 key bytes K1_len in block-cipher mode. */
const SM4_KEY_BYTES = 16;

// ---------------------------------------------------------------------------------------------
// Encodings

/** 04||x||y of a G1 point (65 bytes); throws for infinity. */
export function g1ToBytes(P: G1Point): Uint8Array {
  if (P.is0()) throw new FormatError('SM9 G1 point', 'the point at infinity has no encoding');
  return P.toBytes(false);
}

/** x||y of a G1 point (64 bytes), the form the standard uses for C1 / C and inside KDF inputs. */
function g1ToXy(P: G1Point): Uint8Array {
  return g1ToBytes(P).subarray(1);
}

/**
 * Decodes a G1 point: 04||x||y (65 bytes), or x||y (64 bytes) when `allowRaw` is set. Checks that
 * the coordinates are below p and the point is on the curve; infinity is not encodable. G1 has
 * cofactor 1, so that makes it an element of G1. Throws FormatError naming `what`.
 */
export function g1FromBytes(bytes: Uint8Array, what = 'SM9 G1 point', allowRaw = false): G1Point {
  let b = bytes;
  if (allowRaw && b.length === 64) b = concatBytes(Uint8Array.of(4), b);
  if (b.length !== G1_BYTES || b[0] !== 0x04) {
    throw new FormatError(what, `expected 04||x||y (${G1_BYTES} bytes)${allowRaw ? ' or x||y (64 bytes)' : ''}, got ${bytes.length} bytes`);
  }
  try {
    return G1.fromBytes(b);
  } catch (e) {
    throw new FormatError(what, `not a point of G1 (${(e as Error).message})`);
  }
}

/** 04||x||y of a G2 point, each Fp2 coordinate as c1||c0 (129 bytes); throws for infinity. */
export function g2ToBytes(Q: G2Point): Uint8Array {
  if (Q.is0()) throw new FormatError('SM9 G2 point', 'the point at infinity has no encoding');
  return Q.toBytes(false);
}

/**
 * Decodes a G2 point 04||x||y (129 bytes; also 128 bytes without 04 when `allowRaw`). Checks that
 * the coordinates are below p, the point is on E' and in the order-n subgroup (psi(Q) = [p]Q, see
 * curves.ts), and is not infinity. Throws FormatError naming `what`.
 */
export function g2FromBytes(bytes: Uint8Array, what = 'SM9 G2 point', allowRaw = false): G2Point {
  let b = bytes;
  if (allowRaw && b.length === 128) b = concatBytes(Uint8Array.of(4), b);
  if (b.length !== G2_BYTES || b[0] !== 0x04) {
    throw new FormatError(what, `expected 04||x||y (${G2_BYTES} bytes)${allowRaw ? ' or x||y (128 bytes)' : ''}, got ${bytes.length} bytes`);
  }
  let x: Fp2, y: Fp2;
  try {
    x = Fp2.fromBytes(b.subarray(1, 65));
    y = Fp2.fromBytes(b.subarray(65, 129));
  } catch {
    throw new FormatError(what, 'a coordinate is not below p');
  }
  let Q: G2Point;
  try {
    Q = G2.fromAffine({ x, y });
    Q.assertValidity();
  } catch (e) {
    const msg = (e as Error).message;
    throw new FormatError(what, msg.includes('subgroup') ? 'not in the order-n subgroup G2' : `not a point of G2 (${msg})`);
  }
  return Q;
}

/** 32-byte big-endian encoding of a scalar. */
function scalarToBytes(k: bigint): Uint8Array {
  return uintToBytes(k, 32);
}

/** Decodes a 32-byte scalar in [1, n-1]; throws FormatError (without the value) otherwise. */
function scalarFromBytes(bytes: Uint8Array, what: string): bigint {
  if (bytes.length !== 32) throw new FormatError(what, `expected 32 bytes, got ${bytes.length}`);
  const k = bytesToBigInt(bytes);
  if (k === 0n || k >= SM9_N) throw new FormatError(what, 'not in [1, n-1]');
  return k;
}

/** Uniform scalar in [1, n-1] from the CSPRNG (rejection sampling). */
function randomScalar(): bigint {
  for (;;) {
    const k = bytesToBigInt(randomBytes(32));
    if (k > 0n && k < SM9_N) return k;
  }
}

// ---------------------------------------------------------------------------------------------
// Hash functions H1, H2 (GM/T 0044-2016 part 2 5.3.2.2 and 5.3.2.3)

// hlen = 8 * ceil(5 * log2(n) / 32) bits; n has 256 bits and 5 log2(n)/32 lies in (39, 40], so 320.
const HLEN_BYTES = Math.ceil((5 * SM9_N.toString(2).length) / 32);

function hashToRange(prefix: number, z: Uint8Array): bigint {
  // Ha_i = SM3(prefix || Z || ct), ct = 1, 2, ... (32-bit), concatenated and cut to hlen bits;
  // h = (Ha mod (n-1)) + 1.
  const ha = new Uint8Array(Math.ceil(HLEN_BYTES / 32) * 32);
  const pre = sm3.create().update(Uint8Array.of(prefix)).update(z);
  for (let ct = 1; (ct - 1) * 32 < HLEN_BYTES; ct++) {
    ha.set(pre.clone().update(uintToBytes(ct, 4)).digest(), (ct - 1) * 32);
  }
  return (bytesToBigInt(ha.subarray(0, HLEN_BYTES)) % (SM9_N - 1n)) + 1n;
}

/** H1(Z, n) of part 2 5.3.2.2 (prefix 0x01), a value in [1, n-1]. Z is usually ID || hid. */
export function sm9H1(z: Uint8Array): bigint {
  return hashToRange(0x01, z);
}

/** H2(Z, n) of part 2 5.3.2.3 (prefix 0x02), a value in [1, n-1]. Z is M || w in signatures. */
export function sm9H2(z: Uint8Array): bigint {
  return hashToRange(0x02, z);
}

function idHid(id: Uint8Array, hid: number): Uint8Array {
  if (!Number.isInteger(hid) || hid < 0 || hid > 255) throw new RangeError('SM9 hid must be one byte');
  return concatBytes(id, Uint8Array.of(hid));
}

// ---------------------------------------------------------------------------------------------
// Master keys and user keys (GM/T 0044-2016 parts 2, 3 and 4, clause 5: key generation by the KGC)

/** KGC signature master key pair. */
export interface Sm9SignMasterKey {
  /** ks, 32 bytes big-endian in [1, n-1]; wipe it when done */
  privateKey: Uint8Array;
  /** Ppub-s = [ks]P2, a G2 point (129 bytes) */
  publicKey: Uint8Array;
}

/** KGC encryption master key pair. */
export interface Sm9EncryptMasterKey {
  /** ke, 32 bytes big-endian in [1, n-1]; wipe it when done */
  privateKey: Uint8Array;
  /** Ppub-e = [ke]P1, a G1 point (65 bytes) */
  publicKey: Uint8Array;
}

/**
 * New signature master key: ks uniform in [1, n-1] from the CSPRNG, Ppub-s = [ks]P2. With
 * `privateKey` (32 bytes), derives the pair from that ks instead (key ceremonies, tests).
 */
export function sm9GenerateSignMasterKey(privateKey?: Uint8Array): Sm9SignMasterKey {
  const ks = privateKey ? scalarFromBytes(privateKey, 'SM9 signature master private key') : randomScalar();
  return { privateKey: scalarToBytes(ks), publicKey: g2ToBytes(G2.BASE.multiply(ks)) };
}

/**
 * New encryption master key: ke uniform in [1, n-1] from the CSPRNG, Ppub-e = [ke]P1. With
 * `privateKey` (32 bytes), derives the pair from that ke instead.
 */
export function sm9GenerateEncryptMasterKey(privateKey?: Uint8Array): Sm9EncryptMasterKey {
  const ke = privateKey ? scalarFromBytes(privateKey, 'SM9 encryption master private key') : randomScalar();
  return { privateKey: scalarToBytes(ke), publicKey: g1ToBytes(G1.BASE.multiply(ke)) };
}

/** Thrown by key extraction when t1 = H1(ID||hid, n) + s = 0 mod n: the KGC must generate a new master key. */
export class Sm9MasterKeyError extends Error {
  override readonly name = 'Sm9MasterKeyError';
}

/** t2 = s * (H1(ID||hid, n) + s)^-1 mod n (part 2 / part 4 clause 5). */
function extractScalar(masterPrivate: Uint8Array, id: Uint8Array, hid: number, what: string): bigint {
  const s = scalarFromBytes(masterPrivate, what);
  const t1 = Fn.add(sm9H1(idHid(id, hid)), s);
  if (t1 === 0n) {
    throw new Sm9MasterKeyError('SM9 key extraction: t1 = H1(ID||hid, n) + s is 0 for this identity; generate a new master key and re-issue all user keys');
  }
  return Fn.mul(s, Fn.inv(t1));
}

function masterPrivateOf(master: Uint8Array | { privateKey: Uint8Array }): Uint8Array {
  return master instanceof Uint8Array ? master : master.privateKey;
}

/**
 * User signing key dsA = [ks (H1(ID||hid, n) + ks)^-1] P1 (GM/T 0044-2016 part 2 clause 5), a G1 point
 * (65 bytes) the caller can wipe. `hid` defaults to 0x01. Throws Sm9MasterKeyError when t1 = 0.
 * Security: KGC only; the result is the user's private key.
 */
export function sm9ExtractSignKey(
  master: Uint8Array | Sm9SignMasterKey,
  id: Uint8Array,
  hid: number = SM9_HID_SIGN,
): Uint8Array {
  const t2 = extractScalar(masterPrivateOf(master), id, hid, 'SM9 signature master private key');
  return g1ToBytes(G1.BASE.multiply(t2));
}

/**
 * User encryption key deB = [ke (H1(ID||hid, n) + ke)^-1] P2 (part 4 clause 5), a G2 point (129 bytes).
 * `hid` defaults to 0x03 (use 0x02 for key-exchange keys, part 3). Throws Sm9MasterKeyError when t1 = 0.
 */
export function sm9ExtractEncryptKey(
  master: Uint8Array | Sm9EncryptMasterKey,
  id: Uint8Array,
  hid: number = SM9_HID_ENCRYPT,
): Uint8Array {
  const t2 = extractScalar(masterPrivateOf(master), id, hid, 'SM9 encryption master private key');
  return g2ToBytes(G2.BASE.multiply(t2));
}

// ---------------------------------------------------------------------------------------------
// Decoded master public keys with their pairing value, cached (public data only).

interface SignMaster {
  Ppub: G2Point;
  /** g = e(P1, Ppub-s) */
  g: Fp12;
}
interface EncryptMaster {
  Ppub: G1Point;
  /** g = e(Ppub-e, P2) */
  g: Fp12;
}

const CACHE_SIZE = 16;
const signMasters = new Map<string, SignMaster>();
const encryptMasters = new Map<string, EncryptMaster>();

function cached<T>(cache: Map<string, T>, key: Uint8Array, make: () => T): T {
  const k = bytesToHex(key);
  let v = cache.get(k);
  if (v === undefined) {
    v = make();
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(k, v);
  }
  return v;
}

function signMaster(publicKey: Uint8Array): SignMaster {
  return cached(signMasters, publicKey, () => {
    const Ppub = g2FromBytes(publicKey, 'SM9 signature master public key');
    return { Ppub, g: pairing(G1.BASE, Ppub) };
  });
}

function encryptMaster(publicKey: Uint8Array): EncryptMaster {
  return cached(encryptMasters, publicKey, () => {
    const Ppub = g1FromBytes(publicKey, 'SM9 encryption master public key', true);
    // Fixed-window table for [r]Ppub-e, built on first use (about 1,400 additions, once per key).
    Ppub.precompute(6);
    return { Ppub, g: pairing(Ppub, G2.BASE) };
  });
}

// ---------------------------------------------------------------------------------------------
// Signature (GM/T 0044-2016 part 2 6 and 7)

/** Options of sm9Sign (GM/T 0044 part 2 clause 6): for known-answer tests only, a fixed r. */
export interface Sm9SignOptions {
  /**
   * Fixed r (32 bytes, in [1, n-1]) for known-answer tests ONLY: r and the signature reveal the
   * user's private key. Without it r is drawn from the CSPRNG.
   */
  r?: Uint8Array;
}

/**
 * SM9 signature of `msg` under the user signing key dsA (65 bytes) issued by the KGC whose
 * signature master public key is `masterPublic` (129 bytes): h(32) || S(65), part 2 6.1 steps A1-A7.
 * Throws FormatError for a malformed key. Security: r must stay secret and never repeat (CSPRNG);
 * exponentiation and scalar multiplication are not constant time.
 */
export function sm9Sign(userKey: Uint8Array, masterPublic: Uint8Array, msg: Uint8Array, opts?: Sm9SignOptions): Uint8Array {
  const ds = g1FromBytes(userKey, 'SM9 user signing key');
  const { g } = signMaster(masterPublic); // A1: g = e(P1, Ppub-s)
  for (;;) {
    const r = opts?.r ? scalarFromBytes(opts.r, 'SM9 signing nonce r') : randomScalar(); // A2
    const w = gtPow(g, r); // A3
    const h = sm9H2(concatBytes(msg, gtToBytes(w))); // A4
    const l = Fn.sub(r, h); // A5
    if (l === 0n) {
      if (opts?.r) throw new RangeError('SM9 sign: fixed r gives l = 0');
      continue;
    }
    const S = ds.multiply(l); // A6
    return concatBytes(scalarToBytes(h), g1ToBytes(S)); // A7
  }
}

/** Options of sm9Verify (GM/T 0044 part 2 clause 7): the hid of the signer's key. */
export interface Sm9VerifyOptions {
  /** hid of the signer's key, default 0x01 */
  hid?: number;
}

/**
 * Verifies an SM9 signature h||S (97 bytes) on `msg` by identity `id` (part 2 7.1 steps B1-B9). Returns
 * false for any signature that does not verify, including a malformed encoding, h outside [1, n-1]
 * or S not in G1; throws FormatError for an invalid master public key (a trust anchor).
 */
export function sm9Verify(masterPublic: Uint8Array, id: Uint8Array, msg: Uint8Array, signature: Uint8Array, opts?: Sm9VerifyOptions): boolean {
  const { Ppub, g } = signMaster(masterPublic);
  if (signature.length !== SM9_SIGNATURE_BYTES) return false;
  const h = bytesToBigInt(signature.subarray(0, 32));
  if (h === 0n || h >= SM9_N) return false; // B1
  let S: G1Point;
  try {
    S = g1FromBytes(signature.subarray(32), 'SM9 signature S'); // B2
  } catch {
    return false;
  }
  const t = gtPow(g, h); // B3, B4
  const h1 = sm9H1(idHid(id, opts?.hid ?? SM9_HID_SIGN)); // B5
  const P = G2.BASE.multiplyUnsafe(h1).add(Ppub); // B6 (h1 is public)
  const u = pairing(S, P); // B7
  const w = fp12Mul(u, t); // B8
  const h2 = sm9H2(concatBytes(msg, gtToBytes(w))); // B9
  return h2 === h;
}

// ---------------------------------------------------------------------------------------------
// Key encapsulation and encryption (GM/T 0044-2016 part 4 6, 7)

/** How C1 (encryption) or C (key encapsulation) is laid out in bytes. */
export type Sm9C1Format = 'xy' | 'uncompressed';

export interface Sm9EncapsulateOptions {
  /** hid of the recipient's key, default 0x03 */
  hid?: number;
  /** 'xy' (default, x||y, 64 bytes, as in the standard's examples) or 'uncompressed' (04||x||y) */
  c1Format?: Sm9C1Format;
  /** Fixed r (32 bytes, in [1, n-1]) for known-answer tests ONLY. */
  r?: Uint8Array;
}

export interface Sm9Encapsulation {
  /** the shared key K (klenBytes long); wipe it when done */
  key: Uint8Array;
  /** the encapsulation C = [r]QB to send to the recipient */
  encapsulation: Uint8Array;
}

function c1Bytes(C: G1Point, format: Sm9C1Format | undefined): Uint8Array {
  return format === 'uncompressed' ? g1ToBytes(C) : g1ToXy(C);
}

/**
 * C = [r]QB with QB = [H1(ID||hid, n)]P1 + Ppub-e (part 4 clauses 6 and 7, steps A1 and A3), computed as
 * [r h1]P1 + [r]Ppub-e so that both multiplications use fixed-base tables; and w = g^r (A4-A5).
 */
function encapsulatePoint(Ppub: G1Point, g: Fp12, id: Uint8Array, hid: number, r: bigint): { C: G1Point; w: Fp12 } {
  const h1 = sm9H1(idHid(id, hid));
  const C = G1.BASE.multiply(Fn.mul(r, h1)).add(Ppub.multiply(r));
  return { C, w: gtPow(g, r) };
}

const isAllZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/**
 * SM9 key encapsulation to identity `id` (part 4 clause 6, steps A1-A7): K = KDF(C || w || ID, klen) with
 * C = [r]QB and w = e(Ppub-e, P2)^r. `klenBytes` >= 1. Throws FormatError for an invalid master
 * public key. Security: r from the CSPRNG unless fixed for tests.
 */
export function sm9Encapsulate(masterPublic: Uint8Array, id: Uint8Array, klenBytes: number, opts?: Sm9EncapsulateOptions): Sm9Encapsulation {
  if (!Number.isInteger(klenBytes) || klenBytes < 1) throw new RangeError('SM9 KEM: klenBytes must be a positive integer');
  const { Ppub, g } = encryptMaster(masterPublic);
  for (;;) {
    const r = opts?.r ? scalarFromBytes(opts.r, 'SM9 KEM r') : randomScalar(); // A2
    const { C, w } = encapsulatePoint(Ppub, g, id, opts?.hid ?? SM9_HID_ENCRYPT, r); // A1, A3-A5
    const key = sm3Kdf(concatBytes(g1ToXy(C), gtToBytes(w), id), klenBytes); // A6
    if (isAllZero(key)) {
      if (opts?.r) throw new RangeError('SM9 KEM: fixed r gives an all-zero key');
      continue;
    }
    return { key, encapsulation: c1Bytes(C, opts?.c1Format) }; // A7
  }
}

export interface Sm9DecapsulateOptions {
  /** layout of C, default 'xy' (64 bytes); 'uncompressed' expects 04||x||y */
  c1Format?: Sm9C1Format;
}

/** Decodes C1 in the given format and checks it is in G1 (part 4 clauses 6 and 7, step B1). */
function c1FromBytes(bytes: Uint8Array, format: Sm9C1Format | undefined, what: string): G1Point {
  if (format === 'uncompressed') return g1FromBytes(bytes, what);
  if (bytes.length !== 64) throw new FormatError(what, `expected x||y (64 bytes), got ${bytes.length}`);
  return g1FromBytes(bytes, what, true);
}

/**
 * SM9 key decapsulation (part 4 clause 6, steps B1-B4) with the recipient's encryption key deB (129 bytes):
 * checks C is in G1, w' = e(C, deB), K = KDF(C || w' || ID, klen). Throws FormatError for a
 * malformed C or key, or an all-zero K.
 */
export function sm9Decapsulate(userKey: Uint8Array, id: Uint8Array, encapsulation: Uint8Array, klenBytes: number, opts?: Sm9DecapsulateOptions): Uint8Array {
  if (!Number.isInteger(klenBytes) || klenBytes < 1) throw new RangeError('SM9 KEM: klenBytes must be a positive integer');
  const C = c1FromBytes(encapsulation, opts?.c1Format, 'SM9 KEM encapsulation C'); // B1
  const de = g2FromBytes(userKey, 'SM9 user encryption key');
  const w = pairing(C, de); // B2
  const key = sm3Kdf(concatBytes(g1ToXy(C), gtToBytes(w), id), klenBytes); // B3
  if (isAllZero(key)) throw new FormatError('SM9 KEM encapsulation C', 'derived key is all zero');
  return key;
}

/** 'xor' = KDF stream cipher; 'sm4' = SM4-ECB with PKCS#7 padding under K1 (part 4 clause 7, step A6). */
export type Sm9EncryptMode = 'xor' | 'sm4';

/** Options of sm9Encrypt (GM/T 0044 part 4 clause 6): the C1 format and the cipher mode (KDF-XOR or SM4). */
export interface Sm9EncryptOptions extends Sm9EncapsulateOptions {
  /** default 'xor' */
  mode?: Sm9EncryptMode;
}

/** Options of sm9Decrypt (GM/T 0044 part 4 clause 7): the C1 format and the cipher mode used to encrypt. */
export interface Sm9DecryptOptions extends Sm9DecapsulateOptions {
  /** default 'xor'; must match the encryption */
  mode?: Sm9EncryptMode;
}

/**
 * SM9 public-key encryption of `msg` to identity `id` (part 4 clause 7, steps A1-A8): C = C1 || C3 || C2 with
 * C1 = [r]QB, K1 || K2 = KDF(C1 || w || ID), C2 = M xor K1 (mode 'xor') or SM4-ECB-PKCS#7(K1, M)
 * (mode 'sm4'), C3 = SM3(C2 || K2). Throws FormatError for an invalid master public key.
 */
export function sm9Encrypt(masterPublic: Uint8Array, id: Uint8Array, msg: Uint8Array, opts?: Sm9EncryptOptions): Uint8Array {
  const mode = opts?.mode ?? 'xor';
  if (mode !== 'xor' && mode !== 'sm4') throw new TypeError(`unknown SM9 encryption mode '${String(mode)}'`);
  const { Ppub, g } = encryptMaster(masterPublic);
  const k1Len = mode === 'xor' ? msg.length : SM4_KEY_BYTES;
  for (;;) {
    const r = opts?.r ? scalarFromBytes(opts.r, 'SM9 encryption r') : randomScalar(); // A2
    const { C, w } = encapsulatePoint(Ppub, g, id, opts?.hid ?? SM9_HID_ENCRYPT, r); // A1, A3-A5
    const k = sm3Kdf(concatBytes(g1ToXy(C), gtToBytes(w), id), k1Len + MAC_BYTES); // A6
    const k1 = k.subarray(0, k1Len);
    const k2 = k.subarray(k1Len);
    if (isAllZero(k1) && k1Len > 0) {
      if (opts?.r) throw new RangeError('SM9 encrypt: fixed r gives an all-zero K1');
      continue;
    }
    let c2: Uint8Array;
    if (mode === 'xor') c2 = xorBytes(msg, k1);
    else {
      const cipher = sm4Ecb(k1, { padding: 'pkcs7' });
      c2 = cipher.encrypt(msg);
      cipher.destroy();
    }
    const c3 = sm3(concatBytes(c2, k2)); // A7: MAC(K2, Z) = SM3(Z || K2)
    k.fill(0);
    return concatBytes(c1Bytes(C, opts?.c1Format), c3, c2); // A8
  }
}

/**
 * SM9 decryption (part 4 clause 7, steps B1-B5) with the recipient's encryption key deB (129 bytes). Checks
 * C1 is in G1, derives K1 || K2 from w' = e(C1, deB), checks C3 = SM3(C2 || K2) in constant time
 * before decrypting. Throws FormatError for a malformed ciphertext, a wrong key or identity
 * (C3 mismatch), an all-zero K1, or bad padding.
 */
export function sm9Decrypt(userKey: Uint8Array, id: Uint8Array, ciphertext: Uint8Array, opts?: Sm9DecryptOptions): Uint8Array {
  const mode = opts?.mode ?? 'xor';
  if (mode !== 'xor' && mode !== 'sm4') throw new TypeError(`unknown SM9 encryption mode '${String(mode)}'`);
  const c1Len = opts?.c1Format === 'uncompressed' ? G1_BYTES : 64;
  if (ciphertext.length < c1Len + MAC_BYTES) throw new FormatError('SM9 ciphertext', `too short (${ciphertext.length} bytes)`);
  const C1 = c1FromBytes(ciphertext.subarray(0, c1Len), opts?.c1Format, 'SM9 ciphertext C1'); // B1
  const c3 = ciphertext.subarray(c1Len, c1Len + MAC_BYTES);
  const c2 = ciphertext.subarray(c1Len + MAC_BYTES);
  if (mode === 'sm4' && (c2.length === 0 || c2.length % 16 !== 0)) throw new FormatError('SM9 ciphertext C2', 'SM4 mode needs a non-empty multiple of 16 bytes');
  const de = g2FromBytes(userKey, 'SM9 user encryption key');
  const w = pairing(C1, de); // B2
  const k1Len = mode === 'xor' ? c2.length : SM4_KEY_BYTES;
  const k = sm3Kdf(concatBytes(g1ToXy(C1), gtToBytes(w), id), k1Len + MAC_BYTES); // B3
  const k1 = k.subarray(0, k1Len);
  const k2 = k.subarray(k1Len);
  try {
    if (k1Len > 0 && isAllZero(k1)) throw new FormatError('SM9 ciphertext', 'derived K1 is all zero');
    const u = sm3(concatBytes(c2, k2)); // B4
    if (!equalBytes(u, c3)) throw new FormatError('SM9 ciphertext C3', 'MAC does not match (wrong key, identity or tampered ciphertext)');
    if (mode === 'xor') return xorBytes(c2, k1);
    const cipher = sm4Ecb(k1, { padding: 'pkcs7' });
    try {
      return cipher.decrypt(c2);
    } finally {
      cipher.destroy();
    }
  } finally {
    k.fill(0);
  }
}

// ---------------------------------------------------------------------------------------------
// Pairing on encodings

/**
 * e(P, Q) for P in G1 and Q in G2, given as points or encodings (65 / 129 bytes, validated),
 * as the 384-byte GT encoding.
 */
export function sm9Pairing(P: G1Point | Uint8Array, Q: G2Point | Uint8Array): Uint8Array {
  const p = P instanceof Uint8Array ? g1FromBytes(P) : P;
  const q = Q instanceof Uint8Array ? g2FromBytes(Q) : Q;
  return gtToBytes(pairing(p, q));
}

/** Validates a 384-byte GT element (nonzero, order dividing n) and returns it unchanged; throws FormatError. */
export function sm9ValidateGt(bytes: Uint8Array): Uint8Array {
  gtFromBytes(bytes);
  return bytes;
}
