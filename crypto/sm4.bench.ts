/** @module Benchmarks SM4 (GB/T 32906) CBC encryption of 1 KiB against node:crypto's OpenSSL 'sm4-cbc' (goal <= 2x), plus single-block and MAC timings. */
import { createCipheriv } from 'node:crypto';
import { compare, measure, report } from '../scripts/bench-harness.js';
import { bytesToHex, randomBytes } from './bytes.js';
import { pbocMac } from './pboc.js';
import { sm4Cmac, sm4Mac } from './sm4-mac.js';
import { sm4Cbc, sm4EncryptBlock, sm4KeySchedule } from './sm4.js';

function nodeCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('sm4-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

export default async function (): Promise<void> {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const data = randomBytes(1024);
  if (bytesToHex(sm4Cbc(key, iv, { padding: 'none' }).encrypt(data)) !== nodeCbc(key, iv, data).toString('hex')) {
    throw new Error('SM4 bench: ciphertexts differ');
  }

  // Both sides set up the key on every call, as a one-off card cryptogram computation would.
  await compare(
    'SM4-CBC encrypt 1 KiB, no padding, key setup included',
    ['crypto/sm4 sm4Cbc(key, iv).encrypt', () => sm4Cbc(key, iv, { padding: 'none' }).encrypt(data)],
    ["node:crypto createCipheriv('sm4-cbc')", () => nodeCbc(key, iv, data)],
    2,
  );

  // Informational (no goal): one block under an expanded key, and the MACs used per transaction.
  console.log('Informational (no goal):');
  const rk = sm4KeySchedule(key);
  const block = randomBytes(16);
  const out = new Uint8Array(16);
  report(await measure('sm4EncryptBlock (expanded key, one block)', () => sm4EncryptBlock(rk, block, out)));
  report(await measure('sm4KeySchedule', () => sm4KeySchedule(key)));
  const mac1Data = randomBytes(18);
  report(await measure('pbocMac (18-byte MAC1 data, key setup included)', () => pbocMac(key, mac1Data)));
  report(await measure('sm4Mac (ISO 9797-1 alg. 1) over 1 KiB', () => sm4Mac(key, data)));
  report(await measure('sm4Cmac over 1 KiB', () => sm4Cmac(key, data)));
}
