/** @module Tests of the SM9 R-ate pairing and GT (GM/T 0044-2016 part 1 Annex B) against the pairing values of the standard's examples, plus bilinearity. */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../base/format-error.js';
import { bytesToHex, hexToBytes, randomBytes } from '../../base/bytes.js';
import { loadVectors } from '../../test/vectors.js';
import { G1, G2 } from './curves.js';
import { SM9_N, SM9_P, fp12Conj, fp12Frob, fp12Inv, fp12IsOne, fp12Mul, fp12Pow } from './fields.js';
import type { Fp12 } from './fields.js';
import { gtDecomposeScalar, gtFromBytes, gtIsMember, gtPow, gtToBytes } from './gt.js';
import { pairing } from './pairing.js';
import { g1FromBytes, g2FromBytes, sm9Pairing } from './sm9.js';

const v = loadVectors('sm9');
const hex = (s: string): bigint => BigInt('0x' + s);
const g2Hex = (pt: { x: string[]; y: string[] }): Uint8Array => hexToBytes('04' + pt.x[0] + pt.x[1] + pt.y[0] + pt.y[1]);
const g1Hex = (pt: { x: string; y: string }): Uint8Array => hexToBytes('04' + pt.x + pt.y);
const gtHex = (a: Fp12): string => bytesToHex(gtToBytes(a));
const randomScalar = (): bigint => (hex(bytesToHex(randomBytes(32))) % (SM9_N - 1n)) + 1n;

describe('SM9 pairing: official values', () => {
  const e12 = pairing(G1.BASE, G2.BASE);

  it('e(P1, P2) equals the standard GT generator (gmsm gfP12Gen), in the standard print order', () => {
    expect(gtHex(e12)).toBe(v.pairing.e_P1_P2_gmsm_gfP12Gen.toLowerCase());
  });

  it('e(P1, Ppub-s) equals g of the signature example (part 5 Appendix A)', () => {
    const Ppub = g2FromBytes(g2Hex(v.sign_example.Ppub_s));
    expect(gtHex(pairing(G1.BASE, Ppub))).toBe(v.sign_example.g.toLowerCase());
  });

  it('e(RA, deB) equals the key exchange example value (part 5 Appendix B)', () => {
    const c = v.pairing.e_deB_RA;
    const RA = g1FromBytes(g1Hex(c.RA));
    const deB = g2FromBytes(g2Hex(c.deB));
    expect(gtHex(pairing(RA, deB))).toBe(c.expected.toLowerCase());
  });

  it('e(Ppub-e, P2)^rB equals g1 of the key exchange example', () => {
    const k = v.key_exchange_example;
    const Ppub = g1FromBytes(g1Hex(k.Ppub_e));
    expect(gtHex(gtPow(pairing(Ppub, G2.BASE), hex(k.rB)))).toBe(k.g1_pow_rB_expected.toLowerCase());
  });

  it('sm9Pairing on encodings returns the same 384 bytes', () => {
    expect(bytesToHex(sm9Pairing(g1Hex(v.curve.P1), g2Hex(v.curve.P2)))).toBe(v.pairing.e_P1_P2_gmsm_gfP12Gen.toLowerCase());
  });

  it('has e(P1, P2) of order n (non-degenerate, in GT)', () => {
    expect(fp12IsOne(e12)).toBe(false);
    expect(fp12IsOne(fp12Pow(e12, SM9_N))).toBe(true);
  });
});

describe('SM9 pairing: properties', () => {
  const e12 = pairing(G1.BASE, G2.BASE);

  it('is bilinear: e([a]P1, [b]P2) = e(P1, P2)^(ab) for random a, b', () => {
    for (let i = 0; i < 2; i++) {
      const a = randomScalar(), b = randomScalar();
      const lhs = pairing(G1.BASE.multiply(a), G2.BASE.multiply(b));
      expect(gtHex(lhs)).toBe(gtHex(gtPow(e12, (a * b) % SM9_N)));
    }
  });

  it('is additive in each argument: e(P + P\', Q) = e(P, Q) e(P\', Q), e(P, Q + Q\') = e(P, Q) e(P, Q\')', () => {
    const P = G1.BASE.multiply(randomScalar()), P2 = G1.BASE.multiply(randomScalar());
    const Q = G2.BASE.multiply(randomScalar()), Q2 = G2.BASE.multiply(randomScalar());
    expect(gtHex(pairing(P.add(P2), Q))).toBe(gtHex(fp12Mul(pairing(P, Q), pairing(P2, Q))));
    expect(gtHex(pairing(P, Q.add(Q2)))).toBe(gtHex(fp12Mul(pairing(P, Q), pairing(P, Q2))));
  });

  it('gives e(-P, Q) = e(P, Q)^-1 = conjugate, and 1 for the point at infinity', () => {
    expect(gtHex(pairing(G1.BASE.negate(), G2.BASE))).toBe(gtHex(fp12Inv(e12)));
    expect(gtHex(fp12Conj(e12))).toBe(gtHex(fp12Inv(e12)));
    expect(fp12IsOne(pairing(G1.ZERO, G2.BASE))).toBe(true);
    expect(fp12IsOne(pairing(G1.BASE, G2.ZERO))).toBe(true);
  });

  it('splits exponents as k = k0 + k1 lambda + k2 lambda^2 + k3 lambda^3 mod n (lambda = p mod n) with |k_i| < 2^70', () => {
    const lambda = SM9_P % SM9_N;
    for (const k of [1n, SM9_N - 1n, randomScalar(), randomScalar(), randomScalar()]) {
      const parts = gtDecomposeScalar(k);
      const sum = parts.reduce((acc, x, i) => acc + x * lambda ** BigInt(i), 0n);
      expect((((sum - k) % SM9_N) + SM9_N) % SM9_N).toBe(0n);
      for (const x of parts) expect(x < 0n ? -x : x).toBeLessThan(1n << 70n);
    }
  });

  it('gtPow agrees with plain exponentiation for negative, zero and large exponents', () => {
    const k = randomScalar();
    expect(gtHex(gtPow(e12, k))).toBe(gtHex(fp12Pow(e12, k)));
    expect(gtHex(gtPow(e12, -k))).toBe(gtHex(fp12Pow(e12, SM9_N - k)));
    expect(fp12IsOne(gtPow(e12, 0n))).toBe(true);
    expect(fp12IsOne(gtPow(e12, SM9_N))).toBe(true);
  });
});

describe('SM9 GT encoding', () => {
  const e12 = pairing(G1.BASE, G2.BASE);

  it('decodes a valid GT element back to itself', () => {
    const b = gtToBytes(e12);
    expect(gtToBytes(gtFromBytes(b))).toEqual(b);
  });

  it('rejects zero, the wrong length and coefficients >= p', () => {
    expect(() => gtFromBytes(new Uint8Array(384))).toThrow(FormatError);
    expect(() => gtFromBytes(new Uint8Array(383))).toThrow(FormatError);
    const b = gtToBytes(e12);
    b.set(hexToBytes(v.curve.p), 0);
    expect(() => gtFromBytes(b)).toThrow(FormatError);
  });

  it('rejects Fp12 elements outside the order-n subgroup (random, and cyclotomic of other order)', () => {
    const b = gtToBytes(e12);
    // e + delta for a coefficient the conjugation negates: a random-looking element of Fp12*
    // (not e + 1: (e + 1)^(p^6 - 1) = e^-1 would land back in GT)
    b[31] ^= 1;
    expect(() => gtFromBytes(b)).toThrow(/order-n subgroup/);
    // f^((p^6-1)(p^2+1)) for a random f lies in the cyclotomic subgroup of order p^4 - p^2 + 1 = n * c, c > 1
    const f = gtFromBytesUnchecked(b);
    let c = fp12Mul(fp12Conj(f), fp12Inv(f));
    c = fp12Mul(fp12Frob(c, 2), c);
    expect(gtIsMember(c)).toBe(false);
    expect(() => gtFromBytes(gtToBytes(c))).toThrow(/order-n subgroup/);
    // while its n-torsion part c^((p^4 - p^2 + 1)/n) is accepted
    const d = fp12Pow(c, (SM9_P ** 4n - SM9_P ** 2n + 1n) / SM9_N);
    expect(gtIsMember(d)).toBe(true);
    expect(gtToBytes(gtFromBytes(gtToBytes(d)))).toEqual(gtToBytes(d));
  });
});

/** Reads 384 bytes into Fp12 without any check (test helper). */
function gtFromBytesUnchecked(b: Uint8Array): Fp12 {
  const out: Fp12 = new Array(12);
  for (let i = 0; i < 12; i++) out[11 - i] = hex(bytesToHex(b.subarray(32 * i, 32 * i + 32)));
  return out;
}
