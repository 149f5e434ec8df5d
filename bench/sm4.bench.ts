/** @module Benchmark: SM4 (GB/T 32906) CBC encryption of 1 KiB against node:crypto's OpenSSL 'sm4-cbc', plus single-block and MAC timings. */
import { createCipheriv } from 'node:crypto';
import { bytesToHex, randomBytes } from '../base/bytes.js';
import { pbocMac } from '../crypto/pboc.js';
import { sm4Cmac, sm4Mac } from '../crypto/sm4-mac.js';
import { sm4Cbc, sm4EncryptBlock, sm4KeySchedule } from '../crypto/sm4.js';
import type { Benchmark } from './harness.js';

function nodeCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('sm4-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

export const sm4Bench: Benchmark = {
  name: 'sm4',
  title: 'SM4-CBC against node:crypto (OpenSSL), and the MACs',
  async run(b) {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const data = randomBytes(1024);
    if (bytesToHex(sm4Cbc(key, iv, { padding: 'none' }).encrypt(data)) !== nodeCbc(key, iv, data).toString('hex')) {
      throw new Error('SM4 bench: ciphertexts differ');
    }

    // Both sides set up the key on every call, as a one-off card cryptogram computation would.
    await b.compare(
      'SM4-CBC encrypt 1 KiB, no padding, key setup included',
      ['cbc-1k', 'crypto/sm4 sm4Cbc(key, iv).encrypt', () => sm4Cbc(key, iv, { padding: 'none' }).encrypt(data)],
      ['node-cbc-1k', "node:crypto createCipheriv('sm4-cbc')", () => nodeCbc(key, iv, data)],
    );

    // Informational: one block under an expanded key, and the MACs used per transaction.
    b.log('Informational:');
    const rk = sm4KeySchedule(key);
    const block = randomBytes(16);
    const out = new Uint8Array(16);
    await b.time('encrypt-block', 'sm4EncryptBlock (expanded key, one block)', () => sm4EncryptBlock(rk, block, out));
    await b.time('key-schedule', 'sm4KeySchedule', () => sm4KeySchedule(key));
    const mac1Data = randomBytes(18);
    await b.time('pboc-mac', 'pbocMac (18-byte MAC1 data, key setup included)', () => pbocMac(key, mac1Data));
    await b.time('mac-1k', 'sm4Mac (ISO 9797-1 alg. 1) over 1 KiB', () => sm4Mac(key, data));
    await b.time('cmac-1k', 'sm4Cmac over 1 KiB', () => sm4Cmac(key, data));
  },
};
