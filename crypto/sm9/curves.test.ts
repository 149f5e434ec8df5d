/** @module Tests of the SM9 groups G1 and G2 (GM/T 0044.5-2016 3.1 system parameters, part 1 4.5 subgroup verification): generators, twist, psi endomorphism, subgroup checks of the decoders. */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../base/format-error.js';
import { concatBytes, hexToBytes } from '../../base/bytes.js';
import { loadVectors } from '../../test/vectors.js';
import { G1, G2, G2_COFACTOR, PSI_EIGENVALUE, TWIST_B, g2Psi } from './curves.js';
import type { G2Point } from './curves.js';
import { Fp2, SM9_N, SM9_P } from './fields.js';
import { g1FromBytes, g1ToBytes, g2FromBytes, g2ToBytes } from './sm9.js';

const v = loadVectors('sm9');
const hex = (s: string): bigint => BigInt('0x' + s);
/** G2 point of the vector file ({x: [c1, c0], y: [c1, c0]}) as 04||x||y bytes. */
const g2Hex = (pt: { x: string[]; y: string[] }): Uint8Array => hexToBytes('04' + pt.x[0] + pt.x[1] + pt.y[0] + pt.y[1]);

/** [k]Q for any k >= 0 (double-and-add on noble's complete formulas; no range limit). */
function mulAny(Q: G2Point, k: bigint): G2Point {
  let r = G2.ZERO;
  for (let i = k.toString(2).length - 1; i >= 0; i--) {
    r = r.double();
    if ((k >> BigInt(i)) & 1n) r = r.add(Q);
  }
  return r;
}

/** A point of E'(Fp2): y^2 = x^3 + 5u with x = x0, x0 + 1, ... (generally outside G2). */
function twistPoint(x0: bigint): G2Point {
  for (let x = x0; ; x++) {
    const X = Fp2.fromPair(x, 1n);
    const rhs = Fp2.add(Fp2.mul(Fp2.sqr(X), X), TWIST_B);
    try {
      const Y = Fp2.sqrt(rhs);
      return G2.fromAffine({ x: X, y: Y });
    } catch {
      continue;
    }
  }
}

describe('SM9 G1 (E: y^2 = x^3 + 5 over Fp)', () => {
  it('has the generator P1 of the vector file, of order n', () => {
    const P1 = G1.BASE.toAffine();
    expect(P1.x).toBe(hex(v.curve.P1.x));
    expect(P1.y).toBe(hex(v.curve.P1.y));
    expect(G1.BASE.multiplyUnsafe(SM9_N - 1n).add(G1.BASE).is0()).toBe(true);
  });

  it('encodes P1 as 04||x||y and decodes it back', () => {
    const b = g1ToBytes(G1.BASE);
    expect(b).toEqual(hexToBytes('04' + v.curve.P1.x + v.curve.P1.y));
    expect(g1FromBytes(b).equals(G1.BASE)).toBe(true);
  });

  it('rejects a point off the curve, a coordinate >= p, a wrong prefix and bad lengths', () => {
    const b = g1ToBytes(G1.BASE);
    const off = b.slice();
    off[64] ^= 1;
    expect(() => g1FromBytes(off)).toThrow(FormatError);
    const big = concatBytes(Uint8Array.of(4), hexToBytes(v.curve.p), b.subarray(33));
    expect(() => g1FromBytes(big)).toThrow(FormatError);
    const pre = b.slice();
    pre[0] = 2;
    expect(() => g1FromBytes(pre)).toThrow(FormatError);
    expect(() => g1FromBytes(b.subarray(1))).toThrow(FormatError);
    expect(g1FromBytes(b.subarray(1), 'x||y', true).equals(G1.BASE)).toBe(true);
  });

  it('has no encoding for the point at infinity', () => {
    expect(() => g1ToBytes(G1.ZERO)).toThrow(FormatError);
    expect(() => g1FromBytes(concatBytes(Uint8Array.of(4), new Uint8Array(64)))).toThrow(FormatError);
    expect(() => g1FromBytes(Uint8Array.of(0))).toThrow(FormatError);
  });
});

describe("SM9 G2 (twist E': y^2 = x^3 + 5u over Fp2)", () => {
  it('has the generator P2 of the vector file on the twist, of order n', () => {
    expect(g2ToBytes(G2.BASE)).toEqual(g2Hex(v.curve.P2));
    expect(G2.BASE.multiplyUnsafe(SM9_N - 1n).add(G2.BASE).is0()).toBe(true);
  });

  it('has psi acting as multiplication by p mod n = 6t^2 on G2', () => {
    const Q = G2.BASE.multiply(0x1234567n);
    expect(g2Psi(Q).equals(Q.multiplyUnsafe(SM9_P % SM9_N))).toBe(true);
    expect(PSI_EIGENVALUE).toBe(SM9_P % SM9_N);
  });

  it('has #E\'(Fp2) = n (2p - n): a random twist point times n * cofactor is infinity', () => {
    const R = twistPoint(7n);
    expect(mulAny(R, SM9_N).is0()).toBe(false);
    expect(mulAny(mulAny(R, G2_COFACTOR), SM9_N).is0()).toBe(true);
  });

  it('rejects twist points outside the order-n subgroup (on E\' but [n]Q != O)', () => {
    const R = twistPoint(11n);
    expect(() => R.assertValidity()).toThrow();
    const bytes = concatBytes(Uint8Array.of(4), Fp2.toBytes(R.toAffine().x), Fp2.toBytes(R.toAffine().y));
    expect(() => g2FromBytes(bytes)).toThrow(/order-n subgroup/);
    // a point of the cofactor part: [n]R, order dividing 2p - n
    const T = mulAny(R, SM9_N).toAffine();
    const tb = concatBytes(Uint8Array.of(4), Fp2.toBytes(T.x), Fp2.toBytes(T.y));
    expect(() => g2FromBytes(tb)).toThrow(/order-n subgroup/);
  });

  it('accepts every multiple of P2 and agrees with the [n]Q = O definition', () => {
    const Q = G2.BASE.multiply(0xabcdef0123456789n);
    expect(g2FromBytes(g2ToBytes(Q)).equals(Q)).toBe(true);
    expect(mulAny(Q, SM9_N).is0()).toBe(true);
  });

  it('rejects G2 encodings off the curve, with a coordinate >= p, or of the wrong length', () => {
    const b = g2ToBytes(G2.BASE);
    const off = b.slice();
    off[128] ^= 1;
    expect(() => g2FromBytes(off)).toThrow(FormatError);
    const big = b.slice();
    big.set(hexToBytes(v.curve.p), 1);
    expect(() => g2FromBytes(big)).toThrow(FormatError);
    expect(() => g2FromBytes(b.subarray(0, 128))).toThrow(FormatError);
    expect(() => g2ToBytes(G2.ZERO)).toThrow(FormatError);
  });
});
