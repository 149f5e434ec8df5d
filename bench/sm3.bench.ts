/** @module Benchmark: SM3 (GB/T 32905) against node:crypto's OpenSSL SM3 for a 64-byte message; 1 KiB and HMAC-SM3 informational. */
import { createHash, createHmac } from 'node:crypto';
import { bytesToHex, randomBytes } from '../base/bytes.js';
import { hmacSm3, sm3 } from '../crypto/sm3.js';
import type { Benchmark } from './harness.js';

export const sm3Bench: Benchmark = {
  name: 'sm3',
  title: 'SM3 against node:crypto (OpenSSL)',
  async run(b) {
    // 64 bytes: an SM2 Z_A-sized input or a coin header; two compressions after padding.
    const msg64 = randomBytes(64);
    if (bytesToHex(sm3(msg64)) !== createHash('sm3').update(msg64).digest('hex')) throw new Error('SM3 bench: digests differ');
    await b.compare(
      'SM3, 64-byte message, one-shot',
      ['sm3-64', 'crypto/sm3 sm3(msg)', () => sm3(msg64)],
      ['node-sm3-64', "node:crypto createHash('sm3')", () => createHash('sm3').update(msg64).digest()],
    );

    const msg1k = randomBytes(1024);
    // Informational: at 1 KiB the per-block cost dominates and OpenSSL's C code pulls ahead.
    b.log('Informational:');
    await b.time('sm3-1k', 'crypto/sm3 sm3(msg), 1 KiB', () => sm3(msg1k));
    await b.time('node-sm3-1k', "node:crypto createHash('sm3'), 1 KiB", () => createHash('sm3').update(msg1k).digest());

    // Informational: HMAC goes through noble's generic hmac() (two hasher objects per call).
    const key = randomBytes(32);
    await b.time('hmac-sm3', 'crypto/sm3 hmacSm3, 32-byte key, 64-byte message', () => hmacSm3(key, msg64));
    await b.time('node-hmac-sm3', "node:crypto createHmac('sm3'), same input", () => createHmac('sm3', key).update(msg64).digest());
  },
};
