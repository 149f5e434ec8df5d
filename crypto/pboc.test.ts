/** @module Tests for the PBOC e-purse SM4 cryptography: process keys and MAC1/MAC2/TAC (the MACed data layouts are tested in applet-spec/mac-data.test.ts). */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, randomBytes } from '../base/bytes.js';
import {
  PBOC_LOAD_KEY_TRAILER,
  pbocLoadSessionKey,
  pbocMac,
  pbocPurchaseSessionKey,
  pbocSessionKey,
  pbocTac,
  verifyPbocMac,
  verifyPbocTac,
} from './pboc.js';

function nodeEcbBlock(key: Uint8Array, block: Uint8Array): string {
  const c = createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]).toString('hex');
}
/** MAC algorithm 1 computed with OpenSSL: last block of SM4-CBC, IV 0, over data || 80 00.., leftmost 4 bytes. */
function nodeMac4(key: Uint8Array, data: Uint8Array): string {
  const padded = new Uint8Array(data.length + 16 - (data.length % 16));
  padded.set(data);
  padded[data.length] = 0x80;
  const c = createCipheriv('sm4-cbc', key, new Uint8Array(16));
  c.setAutoPadding(false);
  const ct = Buffer.concat([c.update(padded), c.final()]);
  return ct.subarray(ct.length - 16, ct.length - 12).toString('hex');
}

describe('PBOC process key (JR/T 0025.2 load/purchase process, session key; SM4 adaptation)', () => {
  it('load: equals SM4-ECB under DLK of random || counter || 8000 || 80 00 00 00 00 00 00 00 (node:crypto)', () => {
    const dlk = randomBytes(16);
    const random = hexToBytes('a1b2c3d4');
    const counter = hexToBytes('0005');
    const block = hexToBytes('a1b2c3d4' + '0005' + '8000' + '80' + '00'.repeat(7));
    expect(bytesToHex(pbocSessionKey(dlk, random, counter, PBOC_LOAD_KEY_TRAILER))).toBe(nodeEcbBlock(dlk, block));
    expect(bytesToHex(pbocLoadSessionKey(dlk, random, counter))).toBe(nodeEcbBlock(dlk, block));
  });

  it('purchase: the trailer is the rightmost 2 bytes of the terminal transaction sequence number', () => {
    const dpk = randomBytes(16);
    const random = randomBytes(4);
    const counter = hexToBytes('0102');
    const seq = hexToBytes('00abcdef');
    const block = new Uint8Array(16);
    block.set(random);
    block.set(hexToBytes('0102' + 'cdef' + '80'), 4);
    expect(bytesToHex(pbocPurchaseSessionKey(dpk, random, counter, seq))).toBe(nodeEcbBlock(dpk, block));
    expect(() => pbocPurchaseSessionKey(dpk, random, counter, hexToBytes('cdef'))).toThrow(RangeError);
  });

  it('pads only when shorter than 16 bytes, and rejects inputs longer than one block', () => {
    const key = randomBytes(16);
    const random = randomBytes(4);
    const counter = randomBytes(4);
    const trailer = randomBytes(8);
    const exact = new Uint8Array([...random, ...counter, ...trailer]);
    expect(bytesToHex(pbocSessionKey(key, random, counter, trailer))).toBe(nodeEcbBlock(key, exact));
    const fifteen = new Uint8Array(16);
    fifteen.set([...random, ...counter, ...trailer.subarray(0, 7)]);
    fifteen[15] = 0x80;
    expect(bytesToHex(pbocSessionKey(key, random, counter, trailer.subarray(0, 7)))).toBe(nodeEcbBlock(key, fifteen));
    expect(() => pbocSessionKey(key, random, counter, randomBytes(9))).toThrow(RangeError);
  });

  it('rejects a card key that is not 16 bytes and a card random that is not 4 bytes', () => {
    expect(() => pbocSessionKey(randomBytes(8), randomBytes(4), randomBytes(2), PBOC_LOAD_KEY_TRAILER)).toThrow(RangeError);
    expect(() => pbocSessionKey(randomBytes(16), randomBytes(8), randomBytes(2), PBOC_LOAD_KEY_TRAILER)).toThrow(RangeError);
  });

  it('a different card random gives a different process key', () => {
    const key = randomBytes(16);
    const counter = hexToBytes('0001');
    expect(bytesToHex(pbocLoadSessionKey(key, hexToBytes('00000001'), counter))).not.toBe(
      bytesToHex(pbocLoadSessionKey(key, hexToBytes('00000002'), counter)),
    );
  });
});

describe('PBOC MAC and TAC (SM4 MAC algorithm 1, leftmost 4 bytes)', () => {
  it('MAC equals the leftmost 4 bytes of node:crypto sm4-cbc over the method-2 padded data', () => {
    for (const n of [4, 15, 16, 18, 22, 24]) {
      const key = randomBytes(16);
      const data = randomBytes(n);
      expect(bytesToHex(pbocMac(key, data)), `length ${n}`).toBe(nodeMac4(key, data));
    }
  });

  it('TAC uses the 16-byte TAC key directly, with the same MAC computation', () => {
    const dtk = randomBytes(16);
    const data = randomBytes(22);
    expect(bytesToHex(pbocTac(dtk, data))).toBe(nodeMac4(dtk, data));
  });

  it('verify accepts the right MAC/TAC and rejects a flipped bit, a wrong length, or another key', () => {
    const key = randomBytes(16);
    const data = randomBytes(18);
    const mac = pbocMac(key, data);
    expect(mac.length).toBe(4);
    expect(verifyPbocMac(key, data, mac)).toBe(true);
    expect(verifyPbocTac(key, data, pbocTac(key, data))).toBe(true);
    for (let bit = 0; bit < 32; bit++) {
      const bad = mac.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      expect(verifyPbocMac(key, data, bad)).toBe(false);
      expect(verifyPbocTac(key, data, bad)).toBe(false);
    }
    expect(verifyPbocMac(key, data, mac.subarray(0, 3))).toBe(false);
    expect(verifyPbocMac(key, data, new Uint8Array(8))).toBe(false);
    expect(verifyPbocMac(randomBytes(16), data, mac)).toBe(false);
  });
});
