/** @module SM9 target group GT (order-n subgroup of Fp12*, GM/T 0044-2016 part 1): 384-byte encoding in the standard's print order, subgroup check, exponentiation. */
import { FormatError } from '../../base/format-error.js';
import { bytesToBigInt } from '../../base/bytes.js';
import {
  Fp,
  SM9_N,
  SM9_P,
  SM9_T,
  fp12Conj,
  fp12CyclotomicPow,
  fp12CyclotomicSqr,
  fp12Eq,
  fp12Frob,
  fp12Mul,
  fp12One,
} from './fields.js';
import type { Fp12 } from './fields.js';

/** Length of an encoded GT element: 12 residues of 32 bytes. */
export const GT_BYTES = 384;

/**
 * Encodes an Fp12 element as the standard prints it and hashes it in H2 and KDF inputs
 * (GM/T 0044-2016 part 1 6.2, and the w values of the part 5 examples): the coefficient of the
 * highest power first, i.e. f2 v u, f2 v, f2 u, f2, f1 v u, ..., f0 u, f0 for
 * f = f0 + f1 w + f2 w^2 over Fp4 = Fp2[v], Fp2 = Fp[u] - exactly the reverse of the internal layout.
 */
export function gtToBytes(a: Fp12): Uint8Array {
  const out = new Uint8Array(GT_BYTES);
  for (let i = 0; i < 12; i++) out.set(Fp.toBytes(a[11 - i]), 32 * i);
  return out;
}

/**
 * True if a is in GT, i.e. a^n = 1 (a = 0 is not). First a^(p^4 - p^2 + 1) = 1 (the cyclotomic
 * subgroup, checked with Frobenius maps), then, since p = n + 6t^2, a^n = 1 iff a^p = a^(6t^2),
 * which needs only a 128-bit exponentiation with cyclotomic squares.
 */
export function gtIsMember(a: Fp12): boolean {
  if (a.length !== 12 || a.some((c) => typeof c !== 'bigint' || c < 0n || c >= SM9_P)) return false;
  if (a.every((c) => c === 0n)) return false;
  const a2 = fp12Frob(a, 2);
  if (!fp12Eq(fp12Mul(fp12Frob(a2, 2), a), a2)) return false;
  return fp12Eq(fp12Frob(a, 1), fp12CyclotomicPow(a, SM9_P - SM9_N));
}

/** Decodes a 384-byte GT element and checks that it is a nonzero element of order dividing n; throws FormatError. */
export function gtFromBytes(bytes: Uint8Array): Fp12 {
  if (bytes.length !== GT_BYTES) throw new FormatError('SM9 GT element', `expected ${GT_BYTES} bytes, got ${bytes.length}`);
  const a: Fp12 = new Array(12);
  for (let i = 0; i < 12; i++) {
    const c = bytesToBigInt(bytes.subarray(32 * i, 32 * i + 32));
    if (c >= SM9_P) throw new FormatError('SM9 GT element', `coefficient ${i} is not below p`);
    a[11 - i] = c;
  }
  if (!gtIsMember(a)) throw new FormatError('SM9 GT element', 'not in the order-n subgroup of Fp12*');
  return a;
}

// Exponentiation in GT uses the Frobenius: for a in GT, a^p = a^lambda with lambda = p mod n =
// 6t^2, so a^k = prod_i frob^i(a)^(k_i) for any k = k0 + k1 lambda + k2 lambda^2 + k3 lambda^3
// (mod n). A short decomposition (|k_i| about t, 64 bits) comes from rounding against a reduced basis
// of the lattice {(x0..x3) : sum x_i lambda^i = 0 mod n}; for BN curves Galbraith and Scott
// ("Exponentiation in pairing-friendly groups using homomorphisms", 2008) give vectors in t, checked here.
const T = SM9_T;
const LAMBDA = SM9_P - SM9_N;
const BASIS: bigint[][] = [
  [T + 1n, T, T, -2n * T],
  [2n * T + 1n, -T, -(T + 1n), -T],
  [2n * T, 2n * T + 1n, 2n * T + 1n, 2n * T + 1n],
  [T - 1n, 4n * T + 2n, -2n * T + 1n, T - 1n],
];
function det3(m: bigint[][]): bigint {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}
// First row of adj(B): cofactors C_{j,0} = (-1)^j det(B without row j and column 0).
const ADJ_ROW: bigint[] = [0, 1, 2, 3].map((j) => {
  const minor = BASIS.filter((_, r) => r !== j).map((row) => row.slice(1));
  return (j % 2 === 0 ? 1n : -1n) * det3(minor);
});
const DET = BASIS.reduce((acc, row, j) => acc + row[0] * ADJ_ROW[j], 0n);
{
  for (const row of BASIS) {
    const v = row.reduce((acc, x, i) => acc + x * LAMBDA ** BigInt(i), 0n);
    if (v % SM9_N !== 0n) throw new Error('sm9: GT decomposition basis is not in the lattice');
  }
  // det = -3n: the rows span an index-3 sublattice, which is enough (rounding against any full-rank
  // set of lattice vectors keeps k mod n and still gives coefficients of about t).
  if (DET === 0n || DET % SM9_N !== 0n) throw new Error('sm9: GT decomposition basis is singular');
}

/** Nearest integer to a/b for b > 0. */
function roundDiv(a: bigint, b: bigint): bigint {
  let q = a / b;
  const r2 = 2n * (a - q * b);
  if (r2 >= b) q += 1n;
  else if (r2 < -b) q -= 1n;
  return q;
}

/** k = k0 + k1 lambda + k2 lambda^2 + k3 lambda^3 (mod n) with |k_i| of about 64 bits (Babai rounding). */
export function gtDecomposeScalar(k: bigint): bigint[] {
  const sign = DET > 0n ? 1n : -1n;
  const d = DET * sign;
  const c = ADJ_ROW.map((x) => roundDiv(k * x * sign, d)); // (k, 0, 0, 0) B^-1, rounded
  const out = [k, 0n, 0n, 0n];
  for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) out[i] -= c[j] * BASIS[j][i];
  return out;
}

/** Width-5 NAF digits of e >= 0, least significant first (odd digits in [-15, 15]). */
function naf5(e: bigint): number[] {
  const digits: number[] = [];
  while (e > 0n) {
    if (e & 1n) {
      let d = Number(e & 31n);
      if (d > 16) d -= 32;
      digits.push(d);
      e -= BigInt(d);
    } else digits.push(0);
    e >>= 1n;
  }
  return digits;
}

/**
 * a^k for a in GT and any integer k (reduced mod n). Uses the 4-dimensional Frobenius
 * decomposition above with interleaved width-5 NAF: about 66 cyclotomic squarings and 50
 * multiplications instead of 256 squarings. Only valid on GT (a^p = a^lambda), not on the whole
 * cyclotomic subgroup. Bigint arithmetic is not constant time: timing depends on k.
 */
export function gtPow(a: Fp12, k: bigint): Fp12 {
  const e = ((k % SM9_N) + SM9_N) % SM9_N;
  if (e === 0n) return fp12One();
  const parts = gtDecomposeScalar(e);
  // odd powers a, a^3, ..., a^15; frob^i of them on demand
  const a2 = fp12CyclotomicSqr(a);
  const odd: Fp12[] = [a];
  for (let i = 1; i < 8; i++) odd.push(fp12Mul(odd[i - 1], a2));
  const table: (Fp12 | undefined)[][] = [odd, [], [], []];
  const digits = parts.map((x) => naf5(x < 0n ? -x : x));
  const len = Math.max(...digits.map((d) => d.length));
  let r: Fp12 | undefined;
  for (let j = len - 1; j >= 0; j--) {
    if (r) r = fp12CyclotomicSqr(r);
    for (let i = 0; i < 4; i++) {
      const d = digits[i][j];
      if (!d) continue;
      const idx = ((d < 0 ? -d : d) - 1) >> 1;
      let t = table[i][idx];
      if (t === undefined) t = table[i][idx] = fp12Frob(odd[idx], i as 1 | 2 | 3);
      if (d < 0 !== parts[i] < 0n) t = fp12Conj(t);
      r = r ? fp12Mul(r, t) : t;
    }
  }
  return r ?? fp12One();
}
