/** @module SM9 field tower of GM/T 0044-2016 (GB/T 38635-2020) parts 1 and 5: Fp, Fp2 = Fp[u]/(u^2+2), Fp4 = Fp2[v]/(v^2-u), Fp12 = Fp4[w]/(w^3-v), with lazy-reduction arithmetic for the pairing. */
import { Field, FpPow } from '@noble/curves/abstract/modular.js';
import type { IField } from '@noble/curves/abstract/modular.js';
import { FormatError } from '../../base/format-error.js';

// GM/T 0044.5-2016 3.1 (system parameters): BN curve parameter t and the
// characteristic p and group order n it generates. p and n are checked against their BN
// polynomials in t just below, so a typo in any of the three fails at module load.
/** BN parameter t of the SM9 curve (positive, 63 bits). */
export const SM9_T = 0x600000000058f98an;
/** Characteristic p = 36t^4 + 36t^3 + 24t^2 + 6t + 1 of the SM9 base field. */
export const SM9_P = 0xb640000002a3a6f1d603ab4ff58ec74521f2934b1a7aeedbe56f9b27e351457dn;
/** Prime order n = 36t^4 + 36t^3 + 18t^2 + 6t + 1 of G1, G2 and GT. */
export const SM9_N = 0xb640000002a3a6f1d603ab4ff58ec74449f2934b18ea8beee56ee19cd69ecf25n;
{
  const t = SM9_T;
  const p = 36n * t ** 4n + 36n * t ** 3n + 24n * t ** 2n + 6n * t + 1n;
  const n = 36n * t ** 4n + 36n * t ** 3n + 18n * t ** 2n + 6n * t + 1n;
  if (p !== SM9_P || n !== SM9_N) throw new Error('sm9: curve constants do not match the BN polynomials');
}

const P = SM9_P;

/** The prime field Fp (noble's Field). */
export const Fp = Field(P);
/** The scalar field Z/nZ (noble's Field). */
export const Fn = Field(SM9_N);

/** Reduces any bigint (possibly negative or unreduced) into [0, p). */
export function modP(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

/** a + b mod p for reduced a, b (a conditional subtraction is far cheaper than a bigint division). */
function addP(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s >= P ? s - P : s;
}

/** a - b mod p for reduced a, b. */
function subP(a: bigint, b: bigint): bigint {
  const d = a - b;
  return d < 0n ? d + P : d;
}

// ---------------------------------------------------------------------------------------------
// Fp2 = Fp[u]/(u^2 + 2)  (the standard's tower: u^2 = -2)

/** Element c0 + c1*u of Fp2. The standard and the vector file print it as c1 || c0. */
export interface Fp2 {
  readonly c0: bigint;
  readonly c1: bigint;
}

const fp2 = (c0: bigint, c1: bigint): Fp2 => ({ c0, c1 });
const FP2_ZERO = fp2(0n, 0n);
const FP2_ONE = fp2(1n, 0n);

function fp2Mul(a: Fp2, b: Fp2 | bigint): Fp2 {
  if (typeof b === 'bigint') return fp2(modP(a.c0 * b), modP(a.c1 * b));
  const t0 = a.c0 * b.c0;
  const t1 = a.c1 * b.c1;
  // (a0 + a1 u)(b0 + b1 u) = a0b0 - 2 a1b1 + ((a0 + a1)(b0 + b1) - a0b0 - a1b1) u   (Karatsuba)
  return fp2(modP(t0 - t1 - t1), modP((a.c0 + a.c1) * (b.c0 + b.c1) - t0 - t1));
}

function fp2Sqr(a: Fp2): Fp2 {
  const { c0, c1 } = a;
  const m = c0 * c1;
  // (c0 + c1 u)^2 = (c0 + c1)(c0 - 2 c1) + c0c1 + 2 c0c1 u
  return fp2(modP((c0 + c1) * (c0 - c1 - c1) + m), modP(m + m));
}

function fp2Inv(a: Fp2): Fp2 {
  // (c0 + c1 u)^-1 = (c0 - c1 u) / (c0^2 + 2 c1^2)
  const norm = modP(a.c0 * a.c0 + 2n * a.c1 * a.c1);
  if (norm === 0n) throw new RangeError('sm9: inverse of zero in Fp2');
  const ni = Fp.inv(norm);
  return fp2(modP(a.c0 * ni), modP(-a.c1 * ni));
}

const isSquareFp = (a: bigint): boolean => a === 0n || Fp.pow(a, (P - 1n) / 2n) === 1n;

/**
 * Square root in Fp2 (u^2 = -2, a non-square in Fp); throws if `a` is not a square. For
 * a = c0 + c1 u with root x0 + x1 u: x0^2 - 2 x1^2 = c0 and 2 x0 x1 = c1, so x0^2 = (c0 +- N)/2
 * with N = sqrt(c0^2 + 2 c1^2) (the norm's root) and x1 = c1 / (2 x0).
 */
function fp2Sqrt(a: Fp2): Fp2 {
  const inv2 = Fp.inv(2n);
  if (a.c1 === 0n) {
    // a in Fp: a square root in Fp, or else -a/2 is a square and sqrt(a) = sqrt(-a/2) u.
    if (isSquareFp(a.c0)) return fp2(Fp.sqrt(a.c0), 0n);
    return fp2(0n, Fp.sqrt(modP(-a.c0 * inv2)));
  }
  const norm = modP(a.c0 * a.c0 + 2n * a.c1 * a.c1);
  if (!isSquareFp(norm)) throw new RangeError('sm9: not a square in Fp2');
  const s = Fp.sqrt(norm);
  let x0sq = modP((a.c0 + s) * inv2);
  if (!isSquareFp(x0sq)) x0sq = modP((a.c0 - s) * inv2);
  const x0 = Fp.sqrt(x0sq);
  const r = fp2(x0, modP(a.c1 * Fp.inv(2n * x0)));
  if (!Fp2.eql(fp2Sqr(r), a)) throw new RangeError('sm9: not a square in Fp2');
  return r;
}

/** Fp2 as a noble IField (used by noble's weierstrass() for G2). Element bytes are c1 || c0. */
export const Fp2: IField<Fp2> & {
  conj(a: Fp2): Fp2;
  mulByU(a: Fp2): Fp2;
  fromPair(c0: bigint, c1: bigint): Fp2;
} = {
  ORDER: P * P,
  BYTES: 64,
  BITS: 2 * Fp.BITS,
  isLE: false,
  ZERO: FP2_ZERO,
  ONE: FP2_ONE,
  create: (a) => fp2(modP(a.c0), modP(a.c1)),
  isValid: (a) => typeof a === 'object' && a !== null && Fp.isValid(a.c0) && Fp.isValid(a.c1),
  is0: (a) => a.c0 === 0n && a.c1 === 0n,
  isValidNot0: (a) => Fp2.isValid(a) && !Fp2.is0(a),
  neg: (a) => fp2(a.c0 === 0n ? 0n : P - a.c0, a.c1 === 0n ? 0n : P - a.c1),
  inv: fp2Inv,
  sqrt: fp2Sqrt,
  sqr: fp2Sqr,
  eql: (a, b) => a.c0 === b.c0 && a.c1 === b.c1,
  add: (a, b) => fp2(addP(a.c0, b.c0), addP(a.c1, b.c1)),
  sub: (a, b) => fp2(subP(a.c0, b.c0), subP(a.c1, b.c1)),
  mul: fp2Mul,
  pow: (a, e) => FpPow(Fp2, a, e),
  div: (a, b) => fp2Mul(a, typeof b === 'bigint' ? fp2(Fp.inv(b), 0n) : fp2Inv(b)),
  addN: (a, b) => fp2(a.c0 + b.c0, a.c1 + b.c1),
  subN: (a, b) => fp2(a.c0 - b.c0, a.c1 - b.c1),
  mulN: fp2Mul,
  sqrN: fp2Sqr,
  invertBatch: (list) => list.map((a) => (Fp2.is0(a) ? FP2_ZERO : fp2Inv(a))),
  toBytes: (a) => {
    const out = new Uint8Array(64);
    out.set(Fp.toBytes(a.c1), 0);
    out.set(Fp.toBytes(a.c0), 32);
    return out;
  },
  fromBytes: (bytes) => {
    if (bytes.length !== 64) throw new FormatError('SM9 Fp2 element', `expected 64 bytes, got ${bytes.length}`);
    return fp2(Fp.fromBytes(bytes.subarray(32, 64)), Fp.fromBytes(bytes.subarray(0, 32)));
  },
  cmov: (a, b, c) => (c ? b : a),
  /** Frobenius a^p = c0 - c1 u (u^p = -u since -2 is a non-square mod p). */
  conj: (a) => fp2(a.c0, modP(-a.c1)),
  /** a * u = -2 c1 + c0 u */
  mulByU: (a) => fp2(modP(-2n * a.c1), a.c0),
  fromPair: (c0, c1) => fp2(modP(c0), modP(c1)),
};

// ---------------------------------------------------------------------------------------------
// Fp12 as a flat array of 12 residues. Index 4i + 2j + k holds the coefficient of w^i v^j u^k,
// i.e. f = f0 + f1 w + f2 w^2 with fi = (fi00 + fi01 u) + (fi10 + fi11 u) v in Fp4. Because
// v = w^3 and u = w^6, index 4i + 2j + k is also the coefficient of w^(i + 3j + 6k) in
// Fp[w]/(w^12 + 2), which is how the tests check this code against schoolbook arithmetic.
//
// Products are computed on unreduced bigints (Karatsuba at each level) and reduced once per
// output coefficient: 54 base multiplications and 12 reductions per full Fp12 multiplication.

/** Element of Fp12 (12 residues mod p, see the layout comment above). */
export type Fp12 = bigint[];

/** Unreduced product in Fp4 of (a0 + a1 u) + (a2 + a3 u) v and (b0 + b1 u) + (b2 + b3 u) v. */
function mul4(
  a0: bigint, a1: bigint, a2: bigint, a3: bigint,
  b0: bigint, b1: bigint, b2: bigint, b3: bigint,
): [bigint, bigint, bigint, bigint] {
  // T0 = A0 B0
  const p0 = a0 * b0, p1 = a1 * b1;
  const t0r = p0 - p1 - p1, t0i = (a0 + a1) * (b0 + b1) - p0 - p1;
  // T1 = A1 B1
  const q0 = a2 * b2, q1 = a3 * b3;
  const t1r = q0 - q1 - q1, t1i = (a2 + a3) * (b2 + b3) - q0 - q1;
  // T2 = (A0 + A1)(B0 + B1)
  const s0 = a0 + a2, s1 = a1 + a3, r0 = b0 + b2, r1 = b1 + b3;
  const m0 = s0 * r0, m1 = s1 * r1;
  const t2r = m0 - m1 - m1, t2i = (s0 + s1) * (r0 + r1) - m0 - m1;
  // A B = (T0 + u T1) + (T2 - T0 - T1) v, with u (x + y u) = -2y + x u
  return [t0r - t1i - t1i, t0i + t1r, t2r - t0r - t1r, t2i - t0i - t1i];
}

/** Unreduced product in Fp4 of (a0 + a1 u) + (a2 + a3 u) v and the Fp2 element b0 + b1 u. */
function mul4by2(
  a0: bigint, a1: bigint, a2: bigint, a3: bigint, b0: bigint, b1: bigint,
): [bigint, bigint, bigint, bigint] {
  const p0 = a0 * b0, p1 = a1 * b1;
  const q0 = a2 * b0, q1 = a3 * b1;
  return [p0 - p1 - p1, (a0 + a1) * (b0 + b1) - p0 - p1, q0 - q1 - q1, (a2 + a3) * (b0 + b1) - q0 - q1];
}

/** Unreduced square in Fp4 of A + B v (A = a0 + a1 u, B = a2 + a3 u): A^2 + u B^2 + 2AB v. */
function sqr4(a0: bigint, a1: bigint, a2: bigint, a3: bigint): [bigint, bigint, bigint, bigint] {
  // m = A B
  const m0 = a0 * a2, m1 = a1 * a3;
  const mr = m0 - m1 - m1, mi = (a0 + a1) * (a2 + a3) - m0 - m1;
  // n = (A + B)(A + u B) = A^2 + u B^2 + (1 + u) A B, with u B = -2 a3 + a2 u
  const x0 = a0 + a2, x1 = a1 + a3, y0 = a0 - a3 - a3, y1 = a1 + a2;
  const n0 = x0 * y0, n1 = x1 * y1;
  const nr = n0 - n1 - n1, ni = (x0 + x1) * (y0 + y1) - n0 - n1;
  // A^2 + u B^2 = n - m - u m
  return [nr - mr + mi + mi, ni - mi - mr, mr + mr, mi + mi];
}

/** The identity of Fp12. */
export function fp12One(): Fp12 {
  return [1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
}

/** True if a == b (both reduced). */
export function fp12Eq(a: Fp12, b: Fp12): boolean {
  for (let i = 0; i < 12; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True if a is the identity. */
export function fp12IsOne(a: Fp12): boolean {
  if (a[0] !== 1n) return false;
  for (let i = 1; i < 12; i++) if (a[i] !== 0n) return false;
  return true;
}

/** a * b in Fp12 (Karatsuba over the cubic, Fp4 and Fp2 levels; 54 multiplications, 12 reductions). */
export function fp12Mul(a: Fp12, b: Fp12): Fp12 {
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5];
  const a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11];
  const b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4], b5 = b[5];
  const b6 = b[6], b7 = b[7], b8 = b[8], b9 = b[9], b10 = b[10], b11 = b[11];
  const v0 = mul4(a0, a1, a2, a3, b0, b1, b2, b3);
  const v1 = mul4(a4, a5, a6, a7, b4, b5, b6, b7);
  const v2 = mul4(a8, a9, a10, a11, b8, b9, b10, b11);
  const s12 = mul4(a4 + a8, a5 + a9, a6 + a10, a7 + a11, b4 + b8, b5 + b9, b6 + b10, b7 + b11);
  const s01 = mul4(a0 + a4, a1 + a5, a2 + a6, a3 + a7, b0 + b4, b1 + b5, b2 + b6, b3 + b7);
  const s02 = mul4(a0 + a8, a1 + a9, a2 + a10, a3 + a11, b0 + b8, b1 + b9, b2 + b10, b3 + b11);
  // c0 = v0 + v (s12 - v1 - v2), with v (e0 + e1 u + (e2 + e3 u) v) = -2 e3 + e2 u + (e0 + e1 u) v
  const e0 = s12[0] - v1[0] - v2[0], e1 = s12[1] - v1[1] - v2[1];
  const e2 = s12[2] - v1[2] - v2[2], e3 = s12[3] - v1[3] - v2[3];
  return [
    modP(v0[0] - e3 - e3), modP(v0[1] + e2), modP(v0[2] + e0), modP(v0[3] + e1),
    // c1 = s01 - v0 - v1 + v v2
    modP(s01[0] - v0[0] - v1[0] - v2[3] - v2[3]), modP(s01[1] - v0[1] - v1[1] + v2[2]),
    modP(s01[2] - v0[2] - v1[2] + v2[0]), modP(s01[3] - v0[3] - v1[3] + v2[1]),
    // c2 = s02 - v0 - v2 + v1
    modP(s02[0] - v0[0] - v2[0] + v1[0]), modP(s02[1] - v0[1] - v2[1] + v1[1]),
    modP(s02[2] - v0[2] - v2[2] + v1[2]), modP(s02[3] - v0[3] - v2[3] + v1[3]),
  ];
}

/** a^2 in Fp12 (Chung-Hasan SQR2 over the cubic: 2 Fp4 products + 3 Fp4 squares, 36 multiplications). */
export function fp12Sqr(a: Fp12): Fp12 {
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5];
  const a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11];
  // f = A + B w + C w^2: s0 = A^2, s1 = 2BC, s2 = (A - B + C)^2, s3 = 2AB, s4 = C^2
  const s0 = sqr4(a0, a1, a2, a3);
  const bc = mul4(a4, a5, a6, a7, a8, a9, a10, a11);
  const s2 = sqr4(a0 - a4 + a8, a1 - a5 + a9, a2 - a6 + a10, a3 - a7 + a11);
  const ab = mul4(a0, a1, a2, a3, a4, a5, a6, a7);
  const s4 = sqr4(a8, a9, a10, a11);
  const s10 = bc[0] + bc[0], s11 = bc[1] + bc[1], s12 = bc[2] + bc[2], s13 = bc[3] + bc[3];
  const s30 = ab[0] + ab[0], s31 = ab[1] + ab[1], s32 = ab[2] + ab[2], s33 = ab[3] + ab[3];
  return [
    // c0 = s0 + v s1
    modP(s0[0] - s13 - s13), modP(s0[1] + s12), modP(s0[2] + s10), modP(s0[3] + s11),
    // c1 = s3 + v s4
    modP(s30 - s4[3] - s4[3]), modP(s31 + s4[2]), modP(s32 + s4[0]), modP(s33 + s4[1]),
    // c2 = s1 + s2 + s3 - s0 - s4
    modP(s10 + s2[0] + s30 - s0[0] - s4[0]), modP(s11 + s2[1] + s31 - s0[1] - s4[1]),
    modP(s12 + s2[2] + s32 - s0[2] - s4[2]), modP(s13 + s2[3] + s33 - s0[3] - s4[3]),
  ];
}

/**
 * a * L for the sparse line value L = (l0 + l3 v) + l2 w^2 (l0, l2, l3 in Fp2, given as c0, c1
 * pairs) that the Miller loop produces; 39 multiplications instead of 54.
 */
export function fp12MulLine(
  a: Fp12,
  l00: bigint, l01: bigint, l20: bigint, l21: bigint, l30: bigint, l31: bigint,
): Fp12 {
  const a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5];
  const a6 = a[6], a7 = a[7], a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11];
  // f = F0 + F1 w + F2 w^2, L = L0 + L2 w^2 with L0 = l0 + l3 v (Fp4), L2 = l2 (Fp2)
  const f0L0 = mul4(a0, a1, a2, a3, l00, l01, l30, l31);
  const f1L0 = mul4(a4, a5, a6, a7, l00, l01, l30, l31);
  const f1L2 = mul4by2(a4, a5, a6, a7, l20, l21);
  const f2L2 = mul4by2(a8, a9, a10, a11, l20, l21);
  const x = mul4(a0 + a8, a1 + a9, a2 + a10, a3 + a11, l00 + l20, l01 + l21, l30, l31);
  return [
    // c0 = F0 L0 + v F1 L2
    modP(f0L0[0] - f1L2[3] - f1L2[3]), modP(f0L0[1] + f1L2[2]), modP(f0L0[2] + f1L2[0]), modP(f0L0[3] + f1L2[1]),
    // c1 = F1 L0 + v F2 L2
    modP(f1L0[0] - f2L2[3] - f2L2[3]), modP(f1L0[1] + f2L2[2]), modP(f1L0[2] + f2L2[0]), modP(f1L0[3] + f2L2[1]),
    // c2 = F2 L0 + F0 L2 = (F0 + F2)(L0 + L2) - F0 L0 - F2 L2
    modP(x[0] - f0L0[0] - f2L2[0]), modP(x[1] - f0L0[1] - f2L2[1]),
    modP(x[2] - f0L0[2] - f2L2[2]), modP(x[3] - f0L0[3] - f2L2[3]),
  ];
}

/** Reduced Fp4 helpers for the inverse (only used a few times per pairing). */
type Fp4 = [bigint, bigint, bigint, bigint];
const red4 = (x: [bigint, bigint, bigint, bigint]): Fp4 => [modP(x[0]), modP(x[1]), modP(x[2]), modP(x[3])];
const mulV4 = (x: Fp4): Fp4 => [modP(-2n * x[3]), x[2], x[0], x[1]];
const sub4 = (x: Fp4, y: Fp4): Fp4 => [modP(x[0] - y[0]), modP(x[1] - y[1]), modP(x[2] - y[2]), modP(x[3] - y[3])];
const m4 = (x: Fp4, y: Fp4): Fp4 => red4(mul4(x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]));

function inv4(x: Fp4): Fp4 {
  // (A + B v)^-1 = (A - B v) / (A^2 - u B^2)
  const A = fp2(x[0], x[1]), B = fp2(x[2], x[3]);
  const d = Fp2.sub(fp2Sqr(A), Fp2.mulByU(fp2Sqr(B)));
  const di = fp2Inv(d);
  const r0 = fp2Mul(A, di), r1 = fp2Mul(Fp2.neg(B), di);
  return [r0.c0, r0.c1, r1.c0, r1.c1];
}

/** a^-1 in Fp12; throws RangeError for zero. */
export function fp12Inv(a: Fp12): Fp12 {
  const f0: Fp4 = [a[0], a[1], a[2], a[3]], f1: Fp4 = [a[4], a[5], a[6], a[7]], f2: Fp4 = [a[8], a[9], a[10], a[11]];
  // Cubic extension with w^3 = v: A = f0^2 - v f1 f2, B = v f2^2 - f0 f1, C = f1^2 - f0 f2,
  // N = f0 A + v (f2 B + f1 C), and a^-1 = (A + B w + C w^2) / N.
  const A = sub4(m4(f0, f0), mulV4(m4(f1, f2)));
  const B = sub4(mulV4(m4(f2, f2)), m4(f0, f1));
  const C = sub4(m4(f1, f1), m4(f0, f2));
  const t = red4(mul4(f2[0], f2[1], f2[2], f2[3], B[0], B[1], B[2], B[3]));
  const s = red4(mul4(f1[0], f1[1], f1[2], f1[3], C[0], C[1], C[2], C[3]));
  const vs = mulV4([modP(t[0] + s[0]), modP(t[1] + s[1]), modP(t[2] + s[2]), modP(t[3] + s[3])]);
  const fa = m4(f0, A);
  const N: Fp4 = [modP(fa[0] + vs[0]), modP(fa[1] + vs[1]), modP(fa[2] + vs[2]), modP(fa[3] + vs[3])];
  if (N.every((c) => c === 0n)) throw new RangeError('sm9: inverse of zero in Fp12');
  const Ni = inv4(N);
  return [...m4(A, Ni), ...m4(B, Ni), ...m4(C, Ni)];
}

/**
 * The conjugate a^(p^6). Since w^(p^6) = -w, it negates the coefficients of w, w^3 and w^5;
 * on the cyclotomic subgroup (and so on GT) it is the inverse.
 */
export function fp12Conj(a: Fp12): Fp12 {
  return [
    a[0], a[1], modP(-a[2]), modP(-a[3]), modP(-a[4]), modP(-a[5]),
    a[6], a[7], a[8], a[9], modP(-a[10]), modP(-a[11]),
  ];
}

// Frobenius a -> a^(p^k). With f = sum c_e w^e (c_e in Fp2, e = 0..5, w^6 = u), f^(p^k) =
// sum conj^k(c_e) * gamma_k^e * w^e where w^(p^k) = w * u^((p^k - 1)/6) =: w * gamma_k. The
// constants gamma_k^e are computed here from p (u^(p^k-1) is a 6th root of unity since w^6 = u).
// Position of the Fp2 coefficient of w^e in the flat layout: e = i + 3j -> index 4i + 2j.
const W_POS = [0, 4, 8, 2, 6, 10];
const FROB: Fp2[][] = [1n, 2n, 3n].map((k) => {
  const g = Fp2.pow(fp2(0n, 1n), (P ** k - 1n) / 6n);
  const out: Fp2[] = [FP2_ONE];
  for (let e = 1; e < 6; e++) out.push(fp2Mul(out[e - 1], g));
  return out;
});

/** a^(p^k) for k = 1, 2, 3 (k = 6 is fp12Conj). */
export function fp12Frob(a: Fp12, k: 1 | 2 | 3): Fp12 {
  const g = FROB[k - 1];
  const out: Fp12 = new Array(12);
  for (let e = 0; e < 6; e++) {
    const i = W_POS[e];
    const c0 = a[i];
    const c1 = k === 2 ? a[i + 1] : -a[i + 1]; // conj^k: u^p = -u
    const ge = g[e];
    const t0 = c0 * ge.c0, t1 = c1 * ge.c1;
    out[i] = modP(t0 - t1 - t1);
    out[i + 1] = modP((c0 + c1) * (ge.c0 + ge.c1) - t0 - t1);
  }
  return out;
}

/**
 * Granger-Scott squaring in the cyclotomic subgroup (elements with a^(p^6+1) = 1 and
 * a^(p^4 - p^2 + 1) = 1, e.g. everything after the easy part of the final exponentiation and
 * all of GT): for a = A + B w + C w^2 (Fp4 coefficients, bar = Fp4 conjugation over Fp2),
 * a^2 = (3A^2 - 2 Abar) + (3 v C^2 + 2 Bbar) w + (3 B^2 - 2 Cbar) w^2. 18 multiplications.
 * Wrong for elements outside that subgroup.
 */
export function fp12CyclotomicSqr(a: Fp12): Fp12 {
  const A = sqr4(a[0], a[1], a[2], a[3]);
  const B = sqr4(a[4], a[5], a[6], a[7]);
  const C = sqr4(a[8], a[9], a[10], a[11]);
  // v C^2 = -2 C3 + C2 u + (C0 + C1 u) v
  const vc0 = -C[3] - C[3], vc1 = C[2], vc2 = C[0], vc3 = C[1];
  return [
    modP(3n * A[0] - 2n * a[0]), modP(3n * A[1] - 2n * a[1]), modP(3n * A[2] + 2n * a[2]), modP(3n * A[3] + 2n * a[3]),
    modP(3n * vc0 + 2n * a[4]), modP(3n * vc1 + 2n * a[5]), modP(3n * vc2 - 2n * a[6]), modP(3n * vc3 - 2n * a[7]),
    modP(3n * B[0] - 2n * a[8]), modP(3n * B[1] - 2n * a[9]), modP(3n * B[2] + 2n * a[10]), modP(3n * B[3] + 2n * a[11]),
  ];
}

/** a^e for a in the cyclotomic subgroup and e >= 0 (square-and-multiply with cyclotomic squares; variable time in e). */
export function fp12CyclotomicPow(a: Fp12, e: bigint): Fp12 {
  if (e < 0n) throw new RangeError('sm9: negative exponent');
  if (e === 0n) return fp12One();
  let r = a;
  for (let i = e.toString(2).length - 2; i >= 0; i--) {
    r = fp12CyclotomicSqr(r);
    if ((e >> BigInt(i)) & 1n) r = fp12Mul(r, a);
  }
  return r;
}

/** a^e for any a in Fp12 and e >= 0 (plain square-and-multiply; for tests and checks). */
export function fp12Pow(a: Fp12, e: bigint): Fp12 {
  if (e < 0n) throw new RangeError('sm9: negative exponent');
  let r = fp12One();
  for (let i = e.toString(2).length - 1; i >= 0; i--) {
    r = fp12Sqr(r);
    if ((e >> BigInt(i)) & 1n) r = fp12Mul(r, a);
  }
  return r;
}
