/** @module Benchmark: the SM9 R-ate pairing (GM/T 0044-2016 part 1 Annex B) against noble's bn254 optimal-ate pairing, and SM9 sign, verify, encryption and decryption times. */
import { bn254 } from '@noble/curves/bn254.js';
import { randomBytes } from '../base/bytes.js';
import { G1, G2 } from '../crypto/sm9/curves.js';
import { pairing } from '../crypto/sm9/pairing.js';
import {
  sm9Decrypt,
  sm9Encrypt,
  sm9ExtractEncryptKey,
  sm9ExtractSignKey,
  sm9GenerateEncryptMasterKey,
  sm9GenerateSignMasterKey,
  sm9Sign,
  sm9Verify,
} from '../crypto/sm9/sm9.js';
import type { Benchmark } from './harness.js';

export const sm9Bench: Benchmark = {
  name: 'sm9',
  title: 'SM9 pairing against noble bn254, and SM9 operations',
  async run(b) {
    // Non-generator points on both sides, so neither pairing benefits from a cached base point.
    const P = G1.BASE.multiply(0x1234567890abcdefn);
    const Q = G2.BASE.multiply(0xfedcba0987654321n);
    const bP = bn254.G1.Point.BASE.multiply(0x1234567890abcdefn);
    const bQ = bn254.G2.Point.BASE.multiply(0xfedcba0987654321n);
    await b.compare(
      'SM9 pairing e(P, Q) vs noble bn254 pairing (both full: Miller loop + final exponentiation)',
      ['pairing', 'crypto/sm9 pairing', () => pairing(P, Q)],
      ['bn254-pairing', '@noble/curves bn254.pairing', () => bn254.pairing(bP, bQ)],
      { budgetMs: 1500 },
    );

    const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
    const id = utf8('13800138000|2027-12-31');
    const msg = randomBytes(96); // a coin-sized message
    const sm = sm9GenerateSignMasterKey();
    const ds = sm9ExtractSignKey(sm, id);
    const sig = sm9Sign(ds, sm.publicKey, msg);
    if (!sm9Verify(sm.publicKey, id, msg, sig)) throw new Error('SM9 bench: signature did not verify');
    b.log('SM9 operations (master public key decoded and e(P1, Ppub) cached after the first call)');
    await b.time('sign', 'sm9Sign (96-byte message)', () => sm9Sign(ds, sm.publicKey, msg), { budgetMs: 1500 });
    await b.time('verify', 'sm9Verify (96-byte message)', () => sm9Verify(sm.publicKey, id, msg, sig), { budgetMs: 1500 });

    const em = sm9GenerateEncryptMasterKey();
    const de = sm9ExtractEncryptKey(em, id);
    const ct = sm9Encrypt(em.publicKey, id, msg);
    await b.time('encrypt', 'sm9Encrypt (96 bytes, XOR mode)', () => sm9Encrypt(em.publicKey, id, msg), { budgetMs: 1500 });
    await b.time('decrypt', 'sm9Decrypt (96 bytes, XOR mode)', () => sm9Decrypt(de, id, ct), { budgetMs: 1500 });
  },
};
