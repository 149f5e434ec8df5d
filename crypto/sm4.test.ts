/** @module Tests for SM4 (GB/T 32906-2016) block operations, ECB/CBC modes and paddings, against the standard's vectors and node:crypto. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../base/format-error.js';
import { loadVectors } from '../test/vectors.js';
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '../base/bytes.js';
import {
  type Sm4Padding,
  sm4Cbc,
  sm4CbcLastBlock,
  sm4DecryptBlock,
  sm4Ecb,
  sm4EncryptBlock,
  sm4KeySchedule,
  sm4Pad,
  sm4Unpad,
} from './sm4.js';

interface Sm4Vector {
  key: string;
  plaintext: string;
  ciphertext: string;
  iterations: number;
}
const { vectors } = loadVectors<{ vectors: Sm4Vector[] }>('sm4');

/** node:crypto (OpenSSL) SM4, with its own PKCS#7 padding or none. */
function nodeCrypt(decrypt: boolean, mode: 'ecb' | 'cbc', key: Uint8Array, iv: Uint8Array | null, data: Uint8Array, pkcs7: boolean): Uint8Array {
  const c = decrypt ? createDecipheriv(`sm4-${mode}`, key, iv) : createCipheriv(`sm4-${mode}`, key, iv);
  c.setAutoPadding(pkcs7);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** Our ISO/IEC 9797-1 method 2 padding checked by hand, so node can run with padding off. */
function iso9797m2ByHand(data: Uint8Array): Uint8Array {
  const padLength = 16 - (data.length % 16);
  const pad = new Uint8Array(padLength);
  pad[0] = 0x80;
  return concatBytes(data, pad);
}

const LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 100, 255, 256, 1024];

describe('SM4 block cipher (GB/T 32906-2016)', () => {
  const single = vectors.filter((v) => v.iterations === 1);
  const iterated = vectors.filter((v) => v.iterations > 1);

  it('has the Appendix A example and the 1,000,000-iteration example', () => {
    expect(single.length).toBeGreaterThanOrEqual(1);
    expect(iterated.map((v) => v.iterations)).toContain(1_000_000);
  });

  it.each(single)('encrypts and decrypts GB/T 32906 Appendix A example 1 (key $key)', (v) => {
    const rk = sm4KeySchedule(hexToBytes(v.key));
    const ct = sm4EncryptBlock(rk, hexToBytes(v.plaintext));
    expect(bytesToHex(ct)).toBe(v.ciphertext);
    expect(bytesToHex(sm4DecryptBlock(rk, ct))).toBe(v.plaintext);
  });

  it.each(iterated)('matches GB/T 32906 Appendix A example 2: $iterations encryptions with one key, and back', (v) => {
    const rk = sm4KeySchedule(hexToBytes(v.key));
    const block = hexToBytes(v.plaintext);
    for (let i = 0; i < v.iterations; i++) sm4EncryptBlock(rk, block, block);
    expect(bytesToHex(block)).toBe(v.ciphertext);
    for (let i = 0; i < v.iterations; i++) sm4DecryptBlock(rk, block, block);
    expect(bytesToHex(block)).toBe(v.plaintext);
  });

  it('single-block encryption equals node:crypto sm4-ecb for random keys and blocks', () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(16);
      const block = randomBytes(16);
      const rk = sm4KeySchedule(key);
      expect(bytesToHex(sm4EncryptBlock(rk, block))).toBe(bytesToHex(nodeCrypt(false, 'ecb', key, null, block, false)));
      expect(bytesToHex(sm4DecryptBlock(rk, block))).toBe(bytesToHex(nodeCrypt(true, 'ecb', key, null, block, false)));
    }
  });

  it('the key schedule is 32 words and wipeable, and a wiped schedule encrypts differently', () => {
    const key = randomBytes(16);
    const rk = sm4KeySchedule(key);
    expect(rk).toBeInstanceOf(Uint32Array);
    expect(rk.length).toBe(32);
    const block = randomBytes(16);
    const before = bytesToHex(sm4EncryptBlock(rk, block));
    rk.fill(0);
    expect(Array.from(rk).every((w) => w === 0)).toBe(true);
    expect(bytesToHex(sm4EncryptBlock(rk, block))).not.toBe(before);
  });

  it('rejects keys and blocks that are not 16 bytes, and round keys not from sm4KeySchedule', () => {
    expect(() => sm4KeySchedule(new Uint8Array(15))).toThrow(RangeError);
    expect(() => sm4KeySchedule(new Uint8Array(32))).toThrow(RangeError);
    const rk = sm4KeySchedule(new Uint8Array(16));
    expect(() => sm4EncryptBlock(rk, new Uint8Array(17))).toThrow(RangeError);
    expect(() => sm4DecryptBlock(rk, new Uint8Array(8))).toThrow(RangeError);
    expect(() => sm4EncryptBlock(rk, new Uint8Array(16), new Uint8Array(15))).toThrow(RangeError);
    expect(() => sm4EncryptBlock(new Uint32Array(31), new Uint8Array(16))).toThrow(TypeError);
  });

  it('never puts key bytes in an error message', () => {
    const key = hexToBytes('deadbeefcafebabe0011223344556677ff');
    try {
      sm4Ecb(key);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toMatch(/dead|beef|cafe/i);
    }
  });
});

describe('SM4-ECB and SM4-CBC against node:crypto', () => {
  for (const mode of ['ecb', 'cbc'] as const) {
    const make = (key: Uint8Array, iv: Uint8Array, padding: Sm4Padding) =>
      mode === 'ecb' ? sm4Ecb(key, { padding }) : sm4Cbc(key, iv, { padding });
    const nodeIv = (iv: Uint8Array) => (mode === 'ecb' ? null : iv);

    it(`${mode}: PKCS#7 encryption decrypts with node:crypto, and node's encryption decrypts with ours`, () => {
      for (const n of LENGTHS) {
        const key = randomBytes(16);
        const iv = randomBytes(16);
        const msg = randomBytes(n);
        const ours = make(key, iv, 'pkcs7');
        const ct = ours.encrypt(msg);
        expect(ct.length, `length ${n}`).toBe(n + 16 - (n % 16));
        expect(bytesToHex(nodeCrypt(true, mode, key, nodeIv(iv), ct, true)), `length ${n}`).toBe(bytesToHex(msg));
        const nodeCt = nodeCrypt(false, mode, key, nodeIv(iv), msg, true);
        expect(bytesToHex(ct), `length ${n}`).toBe(bytesToHex(nodeCt));
        expect(bytesToHex(ours.decrypt(nodeCt)), `length ${n}`).toBe(bytesToHex(msg));
      }
    });

    it(`${mode}: no-padding encryption decrypts with node:crypto (padding off), and vice versa`, () => {
      for (const n of LENGTHS.filter((x) => x % 16 === 0)) {
        const key = randomBytes(16);
        const iv = randomBytes(16);
        const msg = randomBytes(n);
        const ours = make(key, iv, 'none');
        const ct = ours.encrypt(msg);
        expect(ct.length).toBe(n);
        expect(bytesToHex(nodeCrypt(true, mode, key, nodeIv(iv), ct, false)), `length ${n}`).toBe(bytesToHex(msg));
        const nodeCt = nodeCrypt(false, mode, key, nodeIv(iv), msg, false);
        expect(bytesToHex(ours.decrypt(nodeCt)), `length ${n}`).toBe(bytesToHex(msg));
      }
    });

    it(`${mode}: ISO/IEC 9797-1 method 2 padding equals node:crypto on the hand-padded data`, () => {
      for (const n of LENGTHS) {
        const key = randomBytes(16);
        const iv = randomBytes(16);
        const msg = randomBytes(n);
        const ours = make(key, iv, 'iso9797-m2');
        const ct = ours.encrypt(msg);
        const nodeCt = nodeCrypt(false, mode, key, nodeIv(iv), iso9797m2ByHand(msg), false);
        expect(bytesToHex(ct), `length ${n}`).toBe(bytesToHex(nodeCt));
        expect(bytesToHex(ours.decrypt(nodeCt)), `length ${n}`).toBe(bytesToHex(msg));
      }
    });

    it(`${mode}: rejects no-padding input that is not a multiple of 16 with a RangeError`, () => {
      const c = make(randomBytes(16), randomBytes(16), 'none');
      for (const n of [1, 15, 17, 33]) {
        expect(() => c.encrypt(new Uint8Array(n))).toThrow(RangeError);
        expect(() => c.encrypt(new Uint8Array(n))).toThrow(/multiple of 16 bytes/);
        expect(() => c.decrypt(new Uint8Array(n))).toThrow(RangeError);
      }
    });

    it(`${mode}: rejects padded ciphertext that is empty or not a multiple of 16`, () => {
      for (const padding of ['pkcs7', 'iso9797-m2'] as const) {
        const c = make(randomBytes(16), randomBytes(16), padding);
        expect(() => c.decrypt(new Uint8Array(0))).toThrow(RangeError);
        expect(() => c.decrypt(new Uint8Array(20))).toThrow(RangeError);
      }
    });

    it(`${mode}: rejects bad PKCS#7 padding with a FormatError`, () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const c = make(key, iv, 'pkcs7');
      // Plaintext blocks whose last bytes are not valid PKCS#7, encrypted without padding by node.
      const badTails = ['00', '11', 'ff', '0203', '04040304'];
      for (const tail of badTails) {
        const block = new Uint8Array(16).fill(0x41);
        block.set(hexToBytes(tail), 16 - tail.length / 2);
        const ct = nodeCrypt(false, mode, key, nodeIv(iv), block, false);
        expect(() => c.decrypt(ct), `tail ${tail}`).toThrow(FormatError);
      }
    });

    it(`${mode}: rejects bad ISO/IEC 9797-1 method 2 padding with a FormatError`, () => {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const c = make(key, iv, 'iso9797-m2');
      const zeros = new Uint8Array(16);
      const noMarker = new Uint8Array(16).fill(0x41);
      const markerThenJunk = new Uint8Array(16);
      markerThenJunk[10] = 0x80;
      markerThenJunk[15] = 0x01;
      for (const block of [zeros, noMarker, markerThenJunk]) {
        const ct = nodeCrypt(false, mode, key, nodeIv(iv), block, false);
        expect(() => c.decrypt(ct)).toThrow(FormatError);
      }
      // The 0x80 marker may not sit in an earlier block than the last one.
      const twoBlocks = new Uint8Array(32);
      twoBlocks[15] = 0x80;
      expect(() => c.decrypt(nodeCrypt(false, mode, key, nodeIv(iv), twoBlocks, false))).toThrow(FormatError);
    });

    it(`${mode}: destroy() wipes the key so later results differ`, () => {
      const key = randomBytes(16);
      const c = make(key, randomBytes(16), 'none');
      const msg = randomBytes(32);
      const before = bytesToHex(c.encrypt(msg));
      c.destroy();
      expect(bytesToHex(c.encrypt(msg))).not.toBe(before);
    });
  }

  it('cbc: rejects an IV that is not 16 bytes', () => {
    expect(() => sm4Cbc(randomBytes(16), randomBytes(8))).toThrow(RangeError);
  });

  it('defaults to PKCS#7 padding, like node:crypto', () => {
    const key = randomBytes(16);
    const msg = randomBytes(20);
    expect(bytesToHex(sm4Ecb(key).encrypt(msg))).toBe(bytesToHex(nodeCrypt(false, 'ecb', key, null, msg, true)));
  });

  it('does not modify its input, and the caller may wipe the key after construction', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const keyCopy = key.slice();
    const ivCopy = iv.slice();
    const c = sm4Cbc(key, iv, { padding: 'pkcs7' });
    key.fill(0);
    iv.fill(0);
    const msg = randomBytes(40);
    const msgHex = bytesToHex(msg);
    const ct = c.encrypt(msg);
    expect(bytesToHex(msg)).toBe(msgHex);
    expect(bytesToHex(ct)).toBe(bytesToHex(nodeCrypt(false, 'cbc', keyCopy, ivCopy, msg, true)));
  });

  it('sm4CbcLastBlock equals the last block of node:crypto sm4-cbc', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const data = randomBytes(80);
    const nodeCt = nodeCrypt(false, 'cbc', key, iv, data, false);
    expect(bytesToHex(sm4CbcLastBlock(sm4KeySchedule(key), iv, data))).toBe(bytesToHex(nodeCt.subarray(64)));
    expect(() => sm4CbcLastBlock(sm4KeySchedule(key), iv, new Uint8Array(0))).toThrow(RangeError);
  });
});

describe('SM4 padding rules', () => {
  const table: [Sm4Padding, string, string][] = [
    ['pkcs7', '', '10'.repeat(16)],
    ['pkcs7', 'aa'.repeat(15), 'aa'.repeat(15) + '01'],
    ['pkcs7', 'aa'.repeat(16), 'aa'.repeat(16) + '10'.repeat(16)],
    ['iso9797-m2', '', '80' + '00'.repeat(15)],
    ['iso9797-m2', 'aa'.repeat(15), 'aa'.repeat(15) + '80'],
    ['iso9797-m2', 'aa'.repeat(16), 'aa'.repeat(16) + '80' + '00'.repeat(15)],
    ['iso9797-m2', '0102', '010280' + '00'.repeat(13)],
    ['none', 'aa'.repeat(16), 'aa'.repeat(16)],
  ];

  it.each(table)('%s pads %s to the expected bytes and back', (padding, data, padded) => {
    expect(bytesToHex(sm4Pad(hexToBytes(data), padding))).toBe(padded);
    expect(bytesToHex(sm4Unpad(hexToBytes(padded), padding))).toBe(data);
  });

  it('method 2 unpadding keeps data that itself ends in 0x80 or zeros', () => {
    const data = hexToBytes('118000');
    expect(bytesToHex(sm4Unpad(sm4Pad(data, 'iso9797-m2'), 'iso9797-m2'))).toBe('118000');
  });
});
