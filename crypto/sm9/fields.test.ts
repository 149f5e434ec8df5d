/** @module Tests of the SM9 field tower (GM/T 0044-2016 part 1 / part 5 3.1) against schoolbook arithmetic in Fp[w]/(w^12 + 2). */
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../test/vectors.js';
import {
  Fp2,
  SM9_N,
  SM9_P,
  SM9_T,
  fp12Conj,
  fp12CyclotomicPow,
  fp12CyclotomicSqr,
  fp12Eq,
  fp12Frob,
  fp12Inv,
  fp12IsOne,
  fp12Mul,
  fp12MulLine,
  fp12One,
  fp12Pow,
  fp12Sqr,
  modP,
} from './fields.js';
import type { Fp12 } from './fields.js';

const v = loadVectors('sm9');
const hex = (s: string): bigint => BigInt('0x' + s);

// Index 4i + 2j + k of the flat layout is the coefficient of w^(i + 3j + 6k), and w^12 = u^2 = -2.
const expOf = (idx: number): number => (idx >> 2) + 3 * ((idx >> 1) & 1) + 6 * (idx & 1);
function refMul(a: Fp12, b: Fp12): Fp12 {
  const A: bigint[] = new Array(12), B: bigint[] = new Array(12);
  for (let i = 0; i < 12; i++) {
    A[expOf(i)] = a[i];
    B[expOf(i)] = b[i];
  }
  const c: bigint[] = new Array(24).fill(0n);
  for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) c[i + j] += A[i] * B[j];
  const out: Fp12 = new Array(12);
  for (let i = 0; i < 12; i++) out[i] = modP(c[expOf(i)] - 2n * c[expOf(i) + 12]);
  return out;
}
function refPow(a: Fp12, e: bigint): Fp12 {
  let r = fp12One();
  for (let i = e.toString(2).length - 1; i >= 0; i--) {
    r = refMul(r, r);
    if ((e >> BigInt(i)) & 1n) r = refMul(r, a);
  }
  return r;
}

let seed = 0x9e3779b97f4a7c15n;
function rnd(): bigint {
  // deterministic xorshift-style generator so failures reproduce
  let x = 0n;
  for (let i = 0; i < 5; i++) {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    x = (x << 64n) | seed;
  }
  return x % SM9_P;
}
const rand12 = (): Fp12 => Array.from({ length: 12 }, rnd);
/** an element of the cyclotomic subgroup: a^((p^6 - 1)(p^2 + 1)) */
function cyclotomic(a: Fp12): Fp12 {
  const r = fp12Mul(fp12Conj(a), fp12Inv(a));
  return fp12Mul(fp12Frob(r, 2), r);
}

describe('SM9 curve constants', () => {
  it('matches p, n and t of the vector file (GM/T 0044.5-2016 3.1)', () => {
    expect(SM9_P).toBe(hex(v.curve.p));
    expect(SM9_N).toBe(hex(v.curve.n));
    expect(SM9_T).toBe(hex(v.curve.t));
  });

  it('splits the hard exponent (p^4 - p^2 + 1)/n exactly into l0 + l1 p + l2 p^2 + l3 p^3 in t', () => {
    const t = SM9_T, p = SM9_P;
    const l3 = 1n, l2 = 6n * t * t + 1n;
    const l1 = -36n * t ** 3n - 18n * t * t - 12n * t + 1n;
    const l0 = -36n * t ** 3n - 30n * t * t - 18n * t - 2n;
    expect((p ** 4n - p ** 2n + 1n) % SM9_N).toBe(0n);
    expect(l0 + l1 * p + l2 * p ** 2n + l3 * p ** 3n).toBe((p ** 4n - p ** 2n + 1n) / SM9_N);
  });
});

describe('SM9 Fp2 = Fp[u]/(u^2 + 2)', () => {
  it('has u^2 = -2 and multiplies, squares and inverts consistently', () => {
    const u = Fp2.fromPair(0n, 1n);
    expect(Fp2.mul(u, u)).toEqual(Fp2.fromPair(-2n, 0n));
    const a = Fp2.fromPair(rnd(), rnd()), b = Fp2.fromPair(rnd(), rnd());
    // schoolbook (a0 + a1 u)(b0 + b1 u) = a0 b0 - 2 a1 b1 + (a0 b1 + a1 b0) u
    expect(Fp2.mul(a, b)).toEqual(Fp2.fromPair(a.c0 * b.c0 - 2n * a.c1 * b.c1, a.c0 * b.c1 + a.c1 * b.c0));
    expect(Fp2.sqr(a)).toEqual(Fp2.mul(a, a));
    expect(Fp2.mul(a, Fp2.inv(a))).toEqual(Fp2.ONE);
    expect(Fp2.conj(a)).toEqual(Fp2.pow(a, SM9_P));
  });

  it('takes square roots of squares and rejects non-squares', () => {
    const a = Fp2.fromPair(rnd(), rnd());
    const s = Fp2.sqrt(Fp2.sqr(a));
    expect(Fp2.sqr(s)).toEqual(Fp2.sqr(a));
    // u is not a square in Fp2 (otherwise w^6 - u would not be irreducible)
    expect(() => Fp2.sqrt(Fp2.fromPair(0n, 1n))).toThrow();
  });

  it('encodes as c1 || c0, 64 bytes', () => {
    const a = Fp2.fromPair(1n, 2n);
    const b = Fp2.toBytes(a);
    expect(b[31]).toBe(2);
    expect(b[63]).toBe(1);
    expect(Fp2.fromBytes(b)).toEqual(a);
  });
});

describe('SM9 Fp12 tower', () => {
  const a = rand12(), b = rand12();

  it('multiplies like schoolbook arithmetic mod w^12 + 2', () => {
    expect(fp12Mul(a, b)).toEqual(refMul(a, b));
  });

  it('squares like schoolbook arithmetic', () => {
    expect(fp12Sqr(a)).toEqual(refMul(a, a));
  });

  it('inverts: a * a^-1 = 1, and rejects zero', () => {
    expect(fp12IsOne(fp12Mul(a, fp12Inv(a)))).toBe(true);
    expect(() => fp12Inv(new Array(12).fill(0n))).toThrow(RangeError);
  });

  it('multiplies sparse line values (l0 + l3 v) + l2 w^2 like a full product', () => {
    const l = Array.from({ length: 6 }, rnd);
    const L: Fp12 = [l[0], l[1], l[4], l[5], 0n, 0n, 0n, 0n, l[2], l[3], 0n, 0n];
    expect(fp12MulLine(a, l[0], l[1], l[2], l[3], l[4], l[5])).toEqual(refMul(a, L));
  });

  it('computes the Frobenius maps a^p, a^(p^2), a^(p^3), a^(p^6) with constants derived from p', () => {
    const ap = refPow(a, SM9_P);
    expect(fp12Frob(a, 1)).toEqual(ap);
    expect(fp12Frob(a, 2)).toEqual(fp12Frob(ap, 1));
    expect(fp12Frob(a, 3)).toEqual(fp12Frob(fp12Frob(ap, 1), 1));
    expect(fp12Conj(a)).toEqual(fp12Frob(fp12Frob(a, 3), 3));
  });

  it('squares in the cyclotomic subgroup with the Granger-Scott formula', () => {
    const c = cyclotomic(a);
    expect(fp12Eq(fp12Mul(fp12Conj(c), c), fp12One())).toBe(true);
    expect(fp12CyclotomicSqr(c)).toEqual(fp12Sqr(c));
    expect(fp12CyclotomicPow(c, 0x1234567n)).toEqual(fp12Pow(c, 0x1234567n));
  });

  it('does not treat a non-cyclotomic element as one (cyclotomic squaring differs)', () => {
    expect(fp12Eq(fp12CyclotomicSqr(a), fp12Sqr(a))).toBe(false);
  });
});
