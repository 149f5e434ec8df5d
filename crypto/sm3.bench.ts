/** @module Benchmarks SM3 (GB/T 32905) against node:crypto's OpenSSL SM3, for a 64-byte message (goal <= 1.3x); 1 KiB and HMAC-SM3 informational. */
import { createHash, createHmac } from 'node:crypto';
import { compare, measure, report } from '../scripts/bench-harness.js';
import { bytesToHex, randomBytes } from './bytes.js';
import { hmacSm3, sm3 } from './sm3.js';

export default async function (): Promise<void> {
  // 64 bytes: an SM2 Z_A-sized input or a coin header; two compressions after padding.
  const msg64 = randomBytes(64);
  if (bytesToHex(sm3(msg64)) !== createHash('sm3').update(msg64).digest('hex')) throw new Error('SM3 bench: digests differ');
  await compare(
    'SM3, 64-byte message, one-shot',
    ['crypto/sm3 sm3(msg)', () => sm3(msg64)],
    ["node:crypto createHash('sm3')", () => createHash('sm3').update(msg64).digest()],
    1.3,
  );

  const msg1k = randomBytes(1024);
  // Informational, no goal: at 1 KiB the per-block cost dominates and OpenSSL's C code pulls ahead.
  console.log('Informational (no goal):');
  report(await measure('crypto/sm3 sm3(msg), 1 KiB', () => sm3(msg1k)));
  report(await measure("node:crypto createHash('sm3'), 1 KiB", () => createHash('sm3').update(msg1k).digest()));

  // Informational, no goal: HMAC goes through noble's generic hmac() (two hasher objects per call).
  const key = randomBytes(32);
  report(await measure('crypto/sm3 hmacSm3, 32-byte key, 64-byte message', () => hmacSm3(key, msg64)));
  report(await measure("node:crypto createHmac('sm3'), same input", () => createHmac('sm3', key).update(msg64).digest()));
}
