/** @module SM9 groups G1 = E(Fp): y^2 = x^3 + 5 and G2 on the twist E'(Fp2): y^2 = x^3 + 5u (system parameters of GM/T 0044.5-2016 3.1 / GB/T 38635), as noble weierstrass points, with the Frobenius endomorphism psi of G2. */
import { weierstrass } from '@noble/curves/abstract/weierstrass.js';
import type { WeierstrassPoint, WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';
import { Fn, Fp, Fp2, SM9_N, SM9_P } from './fields.js';

/** G1 generator P1 (GM/T 0044.5-2016 3.1). */
const P1 = {
  x: 0x93de051d62bf718ff5ed0704487d01d6e1e4086909dc3280e8c4e4817c66ddddn,
  y: 0x21fe8dda4f21e607631065125c395bbc1c1c00cbfa6024350c464cd70a3ea616n,
};
/** G2 generator P2 (GM/T 0044.5-2016 3.1), coordinates c0 + c1 u. */
const P2 = {
  x: Fp2.fromPair(
    0x3722755292130b08d2aab97fd34ec120ee265948d19c17abf9b7213baf82d65bn,
    0x85aef3d078640c98597b6027b441a01ff1dd2c190f5e93c454806c11d8806141n,
  ),
  y: Fp2.fromPair(
    0xa7cf28d519be3da65f3170153d278ff247efba98a71a08116215bba5c999a7c7n,
    0x17509b092e845c1266ba0d262cbee6ed0736a96fa347c8bd856dc76b84ebeb96n,
  ),
};

/** Twist coefficient b' = 5u: the standard's E' is y^2 = x^3 + beta*b with beta = u (so P2 lies on it). */
export const TWIST_B = Fp2.fromPair(0n, 5n);

/** Point of G1 (affine coordinates are bigints mod p). */
export type G1Point = WeierstrassPoint<bigint>;
/** Point of G2 (affine coordinates in Fp2). */
export type G2Point = WeierstrassPoint<Fp2>;

/** G1: prime order n, cofactor 1, so every finite point on the curve is in G1. */
export const G1: WeierstrassPointCons<bigint> = weierstrass<bigint>(
  { p: SM9_P, n: SM9_N, h: 1n, a: 0n, b: 5n, Gx: P1.x, Gy: P1.y },
  { Fp, Fn },
);

// psi = (untwist) o (p-power Frobenius) o (twist) on E'. With the untwisting map
// (x, y) -> (x w^-2, y w^-3) into E(Fp12) and w^(p-1) = u^((p-1)/6):
// psi(x, y) = (conj(x) u^-((p-1)/3), conj(y) u^-((p-1)/2)). Both constants lie in Fp.
const U = Fp2.fromPair(0n, 1n);
/** x-coordinate factor of psi: u^-((p-1)/3). */
export const PSI_X = Fp2.inv(Fp2.pow(U, (SM9_P - 1n) / 3n));
/** y-coordinate factor of psi: u^-((p-1)/2). */
export const PSI_Y = Fp2.inv(Fp2.pow(U, (SM9_P - 1n) / 2n));

/** psi on an affine point of E'(Fp2); on G2 it equals multiplication by p (mod n). */
export function psiAffine(x: Fp2, y: Fp2): { x: Fp2; y: Fp2 } {
  return { x: Fp2.mul(Fp2.conj(x), PSI_X), y: Fp2.mul(Fp2.conj(y), PSI_Y) };
}

function psi(c: WeierstrassPointCons<Fp2>, P: WeierstrassPoint<Fp2>): WeierstrassPoint<Fp2> {
  return new c(Fp2.mul(Fp2.conj(P.X), PSI_X), Fp2.mul(Fp2.conj(P.Y), PSI_Y), Fp2.conj(P.Z));
}

/** p mod n = 6t^2, the eigenvalue of psi on G2. */
export const PSI_EIGENVALUE = SM9_P - SM9_N;

/** Order of E'(Fp2) divided by n: h' = 2p - n (the twist's order is n(2p - n)). */
export const G2_COFACTOR = 2n * SM9_P - SM9_N;

/**
 * G2 = the order-n subgroup of E'(Fp2): y^2 = x^3 + 5u. Subgroup check: psi(Q) = [p mod n]Q.
 * This is exact: psi satisfies psi^2 - tr psi + p = 0 with tr = p + 1 - n, so psi - [tr - 1]
 * has degree (tr-1)^2 - tr (tr-1) + p = p + 1 - tr = n, and its kernel, which contains G2, is G2.
 */
export const G2: WeierstrassPointCons<Fp2> = weierstrass<Fp2>(
  { p: Fp2.ORDER, n: SM9_N, h: G2_COFACTOR, a: Fp2.ZERO, b: TWIST_B, Gx: P2.x, Gy: P2.y },
  {
    Fp: Fp2,
    Fn,
    isTorsionFree: (c, P) => P.multiplyUnsafe(PSI_EIGENVALUE).equals(psi(c, P)),
  },
);

/** psi on a G2 point (projective). */
export function g2Psi(P: G2Point): G2Point {
  return psi(G2, P);
}
