/** @module Benchmarks the SM9 R-ate pairing (GM/T 0044-2016 part 1 Annex B) against noble's bn254 optimal-ate pairing, and reports SM9 sign, verify, encryption and decryption times. */
import { bn254 } from '@noble/curves/bn254.js';
import { compare, measure, report } from '../../scripts/bench-harness.js';
import { randomBytes } from '../bytes.js';
import { G1, G2 } from './curves.js';
import { pairing } from './pairing.js';
import {
  sm9Decrypt,
  sm9Encrypt,
  sm9ExtractEncryptKey,
  sm9ExtractSignKey,
  sm9GenerateEncryptMasterKey,
  sm9GenerateSignMasterKey,
  sm9Sign,
  sm9Verify,
} from './sm9.js';

export default async function (): Promise<void> {
  // Non-generator points on both sides, so neither pairing benefits from a cached base point.
  const P = G1.BASE.multiply(0x1234567890abcdefn);
  const Q = G2.BASE.multiply(0xfedcba0987654321n);
  const bP = bn254.G1.Point.BASE.multiply(0x1234567890abcdefn);
  const bQ = bn254.G2.Point.BASE.multiply(0xfedcba0987654321n);
  await compare(
    'SM9 pairing e(P, Q) vs noble bn254 pairing (both full: Miller loop + final exponentiation)',
    ['crypto/sm9 pairing', () => pairing(P, Q)],
    ['@noble/curves bn254.pairing', () => bn254.pairing(bP, bQ)],
    0.8,
    1500,
  );

  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  const id = utf8('13800138000|2027-12-31');
  const msg = randomBytes(96); // a coin-sized message
  const sm = sm9GenerateSignMasterKey();
  const ds = sm9ExtractSignKey(sm, id);
  const sig = sm9Sign(ds, sm.publicKey, msg);
  if (!sm9Verify(sm.publicKey, id, msg, sig)) throw new Error('SM9 bench: signature did not verify');
  console.log('SM9 operations (master public key decoded and e(P1, Ppub) cached after the first call)');
  report(await measure('sm9Sign (96-byte message)', () => sm9Sign(ds, sm.publicKey, msg), 1500));
  report(await measure('sm9Verify (96-byte message)', () => sm9Verify(sm.publicKey, id, msg, sig), 1500));

  const em = sm9GenerateEncryptMasterKey();
  const de = sm9ExtractEncryptKey(em, id);
  const ct = sm9Encrypt(em.publicKey, id, msg);
  report(await measure('sm9Encrypt (96 bytes, XOR mode)', () => sm9Encrypt(em.publicKey, id, msg), 1500));
  report(await measure('sm9Decrypt (96 bytes, XOR mode)', () => sm9Decrypt(de, id, ct), 1500));
}
