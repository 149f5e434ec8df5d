/** @module SM9 R-ate pairing e: G1 x G2 -> GT of GM/T 0044-2016 part 1 Annex B (GB/T 38635.1): Miller loop over a = 6t + 2 with projective lines, two Frobenius line additions, exact final exponentiation. */
import type { AffinePoint } from '@noble/curves/abstract/curve.js';
import { psiAffine } from './curves.js';
import type { G1Point, G2Point } from './curves.js';
import {
  Fp2,
  SM9_T,
  fp12Conj,
  fp12CyclotomicSqr,
  fp12Frob,
  fp12Inv,
  fp12Mul,
  fp12MulLine,
  fp12One,
  fp12Sqr,
  modP,
} from './fields.js';
import type { Fp12 } from './fields.js';

/** Miller loop length a = 6t + 2 of the SM9 R-ate pairing (part 1 Annex B). */
export const ATE_LOOP = 6n * SM9_T + 2n;

// Non-adjacent form of a, most significant digit first: the same Miller function up to
// vertical lines (killed by the final exponentiation), with 11 additions instead of 16.
const ATE_NAF: number[] = (() => {
  const digits: number[] = [];
  for (let k = ATE_LOOP; k > 0n; k >>= 1n) {
    if (k & 1n) {
      const d = 2n - (k & 3n); // +1 or -1
      digits.push(Number(d));
      k -= d;
    } else digits.push(0);
  }
  return digits.reverse();
})();

// Line functions. For T on E'(Fp2) and P = (xP, yP) in E(Fp), the untwisting map
// phi(x, y) = (x w^-2, y w^-3) into E(Fp12) gives the line through phi(T) evaluated at P; times
// w^3 (which lies in Fp4, so the final exponentiation kills it) it is L = l0 + l2 w^2 + l3 w^3
// with l0, l2, l3 in Fp2; in the Fp4[w] tower that is (l0 + l3 v) + l2 w^2, which fp12MulLine
// multiplies in sparsely.
// Lines are also scaled by Fp2 factors (again killed), which removes all inversions.

/** Projective point (X : Y : Z) on E' with x = X/Z, y = Y/Z; coordinates as c0, c1 bigints. */
interface Proj {
  x0: bigint; x1: bigint; y0: bigint; y1: bigint; z0: bigint; z1: bigint;
}

/**
 * Doubling step: f <- f * l_{T,T}(P), T <- 2T. Tangent slope 3x^2/(2y); scaled by 2YZ:
 * l3 = 2YZ yP, l2 = -3X^2 xP, l0 = Y^2 - 3b'Z^2 (using the curve equation for X^3).
 * 2T = (2XY (Y^2 - 9b'Z^2) : (Y^2 + 9b'Z^2)^2 - 108 b'^2 Z^4 : 8 Y^3 Z), b' = 5u.
 */
function doubleStep(f: Fp12, T: Proj, xP: bigint, yP: bigint): Fp12 {
  const { x0, x1, y0, y1, z0, z1 } = T;
  // XX = X^2, YY = Y^2, ZZ = Z^2 (Fp2 squares), XY, YZ (Fp2 products)
  let m = x0 * x1;
  const xx0 = modP((x0 + x1) * (x0 - x1 - x1) + m), xx1 = modP(m + m);
  m = y0 * y1;
  const yy0 = modP((y0 + y1) * (y0 - y1 - y1) + m), yy1 = modP(m + m);
  m = z0 * z1;
  const zz0 = (z0 + z1) * (z0 - z1 - z1) + m, zz1 = m + m;
  let p0 = x0 * y0, p1 = x1 * y1;
  const xy0 = modP(p0 - p1 - p1), xy1 = modP((x0 + x1) * (y0 + y1) - p0 - p1);
  p0 = y0 * z0; p1 = y1 * z1;
  const yz0 = modP(p0 - p1 - p1), yz1 = modP((y0 + y1) * (z0 + z1) - p0 - p1);
  // E = 3b'Z^2 = 15u ZZ = -30 zz1 + 15 zz0 u
  const e0 = modP(-30n * zz1), e1 = modP(15n * zz0);
  // line coefficients
  const l00 = yy0 - e0, l01 = yy1 - e1;
  const l20 = -3n * xP * xx0, l21 = -3n * xP * xx1;
  const l30 = 2n * yP * yz0, l31 = 2n * yP * yz1;
  // X3 = 2 XY (YY - 3E)
  const a0 = yy0 - 3n * e0, a1 = yy1 - 3n * e1;
  p0 = xy0 * a0; p1 = xy1 * a1;
  const X30 = modP(2n * (p0 - p1 - p1)), X31 = modP(2n * ((xy0 + xy1) * (a0 + a1) - p0 - p1));
  // Y3 = (YY + 3E)^2 - 12 E^2
  const b0 = yy0 + 3n * e0, b1 = yy1 + 3n * e1;
  m = b0 * b1;
  const bb0 = (b0 + b1) * (b0 - b1 - b1) + m, bb1 = m + m;
  m = e0 * e1;
  const ee0 = (e0 + e1) * (e0 - e1 - e1) + m, ee1 = m + m;
  const Y30 = modP(bb0 - 12n * ee0), Y31 = modP(bb1 - 12n * ee1);
  // Z3 = 8 YY YZ
  p0 = yy0 * yz0; p1 = yy1 * yz1;
  const Z30 = modP(8n * (p0 - p1 - p1)), Z31 = modP(8n * ((yy0 + yy1) * (yz0 + yz1) - p0 - p1));
  T.x0 = X30; T.x1 = X31; T.y0 = Y30; T.y1 = Y31; T.z0 = Z30; T.z1 = Z31;
  return fp12MulLine(f, modP(l00), modP(l01), modP(l20), modP(l21), modP(l30), modP(l31));
}

/**
 * Addition step: f <- f * l_{T,Q}(P), T <- T + Q for affine Q = (qx, qy). With
 * theta = Y - qy Z, lambda = X - qx Z (slope theta/lambda), the line scaled by lambda is
 * l3 = lambda yP, l2 = -theta xP, l0 = theta qx - lambda qy. Point: C = theta^2, D = lambda^2,
 * E = lambda^3, H = E + Z C - 2 X D; T + Q = (lambda H : theta (X D - H) - Y E : Z E).
 */
function addStep(f: Fp12, T: Proj, qx0: bigint, qx1: bigint, qy0: bigint, qy1: bigint, xP: bigint, yP: bigint): Fp12 {
  const { x0, x1, y0, y1, z0, z1 } = T;
  let p0 = qy0 * z0, p1 = qy1 * z1;
  const th0 = modP(y0 - (p0 - p1 - p1)), th1 = modP(y1 - ((qy0 + qy1) * (z0 + z1) - p0 - p1));
  p0 = qx0 * z0; p1 = qx1 * z1;
  const la0 = modP(x0 - (p0 - p1 - p1)), la1 = modP(x1 - ((qx0 + qx1) * (z0 + z1) - p0 - p1));
  // l0 = theta qx - lambda qy
  p0 = th0 * qx0; p1 = th1 * qx1;
  let q0 = la0 * qy0, q1 = la1 * qy1;
  const l00 = p0 - p1 - p1 - (q0 - q1 - q1);
  const l01 = (th0 + th1) * (qx0 + qx1) - p0 - p1 - ((la0 + la1) * (qy0 + qy1) - q0 - q1);
  const l20 = -th0 * xP, l21 = -th1 * xP;
  const l30 = la0 * yP, l31 = la1 * yP;
  const mul = (a0: bigint, a1: bigint, b0: bigint, b1: bigint): [bigint, bigint] => {
    const s = a0 * b0, t = a1 * b1;
    return [modP(s - t - t), modP((a0 + a1) * (b0 + b1) - s - t)];
  };
  const [c0, c1] = mul(th0, th1, th0, th1);
  const [d0, d1] = mul(la0, la1, la0, la1);
  const [e0, e1] = mul(la0, la1, d0, d1);
  const [f0, f1] = mul(z0, z1, c0, c1);
  const [g0, g1] = mul(x0, x1, d0, d1);
  const h0 = e0 + f0 - g0 - g0, h1 = e1 + f1 - g1 - g1;
  const [X30, X31] = mul(la0, la1, h0, h1);
  const [t0, t1] = mul(th0, th1, g0 - h0, g1 - h1);
  const [u0, u1] = mul(y0, y1, e0, e1);
  const [Z30, Z31] = mul(z0, z1, e0, e1);
  T.x0 = X30; T.x1 = X31; T.y0 = modP(t0 - u0); T.y1 = modP(t1 - u1); T.z0 = Z30; T.z1 = Z31;
  return fp12MulLine(f, modP(l00), modP(l01), modP(l20), modP(l21), modP(l30), modP(l31));
}

/**
 * Miller loop of the R-ate pairing f_{a,Q}(P) * l_{aQ,Q1}(P) * l_{aQ+Q1,-Q2}(P) with
 * Q1 = pi_p(Q), Q2 = pi_p^2(Q) (part 1 Annex B), for affine P in G1 and Q in G2, both finite.
 * The result is defined up to factors in proper subfields, so it only means something after
 * finalExponentiation.
 */
export function millerLoop(P: AffinePoint<bigint>, Q: AffinePoint<Fp2>): Fp12 {
  const xP = P.x, yP = P.y;
  const qx0 = Q.x.c0, qx1 = Q.x.c1, qy0 = Q.y.c0, qy1 = Q.y.c1;
  const nqy0 = modP(-qy0), nqy1 = modP(-qy1);
  const T: Proj = { x0: qx0, x1: qx1, y0: qy0, y1: qy1, z0: 1n, z1: 0n };
  let f = fp12One();
  for (let i = 1; i < ATE_NAF.length; i++) {
    if (i > 1) f = fp12Sqr(f); // f = 1 before the first step
    f = doubleStep(f, T, xP, yP);
    const d = ATE_NAF[i];
    if (d === 1) f = addStep(f, T, qx0, qx1, qy0, qy1, xP, yP);
    else if (d === -1) f = addStep(f, T, qx0, qx1, nqy0, nqy1, xP, yP);
  }
  // Frobenius additions: T + Q1 with Q1 = psi(Q), then T - Q2 with Q2 = psi^2(Q)
  const Q1 = psiAffine(Q.x, Q.y);
  const Q2 = psiAffine(Q1.x, Q1.y);
  f = addStep(f, T, Q1.x.c0, Q1.x.c1, Q1.y.c0, Q1.y.c1, xP, yP);
  const nQ2y = Fp2.neg(Q2.y);
  f = addStep(f, T, Q2.x.c0, Q2.x.c1, nQ2y.c0, nQ2y.c1, xP, yP);
  return f;
}

/** f^t for f in the cyclotomic subgroup (t > 0: square-and-multiply on cyclotomic squares). */
function powT(f: Fp12): Fp12 {
  let r = f;
  for (let i = TBITS.length - 2; i >= 0; i--) {
    r = fp12CyclotomicSqr(r);
    if (TBITS[i] === 1) r = fp12Mul(r, f);
  }
  return r;
}
/** Bits of t, least significant first. */
const TBITS: number[] = [...SM9_T.toString(2)].reverse().map(Number);

/**
 * f^((p^12 - 1)/n), exactly (GM/T 0044 part 1 Annex B, last step). Easy part f^((p^6 - 1)(p^2 + 1)) by
 * conjugation, one inversion and a Frobenius; hard part f^((p^4 - p^2 + 1)/n) through the exact
 * decomposition (p^4 - p^2 + 1)/n = l3 p^3 + l2 p^2 + l1 p + l0 with l3 = 1, l2 = 6t^2 + 1,
 * l1 = -36t^3 - 18t^2 - 12t + 1, l0 = -36t^3 - 30t^2 - 18t - 2 (Scott et al., "On the final
 * exponentiation for calculating pairings on ordinary elliptic curves", 2009), evaluated with
 * three exponentiations by t and the vectorial addition chain for
 * y0 y1^2 y2^6 y3^12 y4^18 y5^30 y6^36. Not a multiple of the exponent: GT values match the standard.
 */
export function finalExponentiation(f: Fp12): Fp12 {
  // easy part
  let r = fp12Mul(fp12Conj(f), fp12Inv(f)); // f^(p^6 - 1)
  r = fp12Mul(fp12Frob(r, 2), r); // ^(p^2 + 1)
  // hard part
  const ft = powT(r); // r^t
  const ft2 = powT(ft); // r^(t^2)
  const ft3 = powT(ft2); // r^(t^3)
  const y0 = fp12Mul(fp12Mul(fp12Frob(r, 1), fp12Frob(r, 2)), fp12Frob(r, 3));
  const y1 = fp12Conj(r);
  const y2 = fp12Frob(ft2, 2);
  const y3 = fp12Conj(fp12Frob(ft, 1));
  const y4 = fp12Conj(fp12Mul(ft, fp12Frob(ft2, 1)));
  const y5 = fp12Conj(ft2);
  const y6 = fp12Conj(fp12Mul(ft3, fp12Frob(ft3, 1)));
  let t0 = fp12Mul(fp12Mul(fp12CyclotomicSqr(y6), y4), y5);
  let t1 = fp12Mul(fp12Mul(y3, y5), t0);
  t0 = fp12Mul(t0, y2);
  t1 = fp12CyclotomicSqr(fp12Mul(fp12CyclotomicSqr(t1), t0));
  t0 = fp12Mul(t1, y1);
  t1 = fp12Mul(t1, y0);
  t0 = fp12CyclotomicSqr(t0);
  return fp12Mul(t0, t1);
}

/** The SM9 pairing e(P, Q) in GT (an Fp12 element); e(O, Q) = e(P, O) = 1. Public inputs (variable time). */
export function pairing(P: G1Point, Q: G2Point): Fp12 {
  if (P.is0() || Q.is0()) return fp12One();
  return finalExponentiation(millerLoop(P.toAffine(), Q.toAffine()));
}
