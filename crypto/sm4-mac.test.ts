/** @module Tests for the SM4 MACs (ISO/IEC 9797-1 algorithms 1 and 3, CMAC per NIST SP 800-38B), checked against computations built on node:crypto SM4. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, hexToBytes, randomBytes, xorBytes } from '../base/bytes.js';
import { sm4Cmac, sm4Mac, sm4RetailMac, verifySm4Cmac, verifySm4Mac, verifySm4RetailMac } from './sm4-mac.js';

// Independent SM4 from OpenSSL, through node:crypto, with padding off.
function nodeEcb(decrypt: boolean, key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = decrypt ? createDecipheriv('sm4-ecb', key, null) : createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}
function nodeCbcLastBlock(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv('sm4-cbc', key, iv);
  c.setAutoPadding(false);
  const ct = Buffer.concat([c.update(data), c.final()]);
  return new Uint8Array(ct.subarray(ct.length - 16));
}
/** ISO/IEC 9797-1 padding method 2, written out here rather than taken from sm4.ts. */
function padMethod2(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 16 - (data.length % 16));
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

const LENGTHS = [0, 1, 4, 15, 16, 17, 18, 24, 31, 32, 33, 47, 48, 100];
const ZERO_IV = new Uint8Array(16);

describe('ISO/IEC 9797-1 MAC algorithm 1 with SM4', () => {
  it('equals the last block of node:crypto sm4-cbc (IV 0) over the method-2 padded data', () => {
    for (const n of LENGTHS) {
      const key = randomBytes(16);
      const data = randomBytes(n);
      expect(bytesToHex(sm4Mac(key, data)), `length ${n}`).toBe(bytesToHex(nodeCbcLastBlock(key, ZERO_IV, padMethod2(data))));
    }
  });

  it('uses a given initial vector as H0', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const data = randomBytes(37);
    expect(bytesToHex(sm4Mac(key, data, { iv }))).toBe(bytesToHex(nodeCbcLastBlock(key, iv, padMethod2(data))));
  });

  it('with padding none MACs pre-padded data as is, and rejects partial blocks', () => {
    const key = randomBytes(16);
    const data = randomBytes(32);
    expect(bytesToHex(sm4Mac(key, data, { padding: 'none' }))).toBe(bytesToHex(nodeCbcLastBlock(key, ZERO_IV, data)));
    expect(() => sm4Mac(key, randomBytes(20), { padding: 'none' })).toThrow(RangeError);
    expect(() => sm4Mac(key, new Uint8Array(0), { padding: 'none' })).toThrow(RangeError);
  });

  it('always pads: data of a whole block gets one more block', () => {
    const key = randomBytes(16);
    const data = randomBytes(16);
    expect(bytesToHex(sm4Mac(key, data))).not.toBe(bytesToHex(sm4Mac(key, data, { padding: 'none' })));
  });

  it('truncates to the leftmost bytes', () => {
    const key = randomBytes(16);
    const data = randomBytes(21);
    const full = sm4Mac(key, data);
    for (const length of [1, 4, 8, 15, 16]) {
      expect(bytesToHex(sm4Mac(key, data, { length }))).toBe(bytesToHex(full.subarray(0, length)));
    }
    expect(() => sm4Mac(key, data, { length: 0 })).toThrow(RangeError);
    expect(() => sm4Mac(key, data, { length: 17 })).toThrow(RangeError);
  });

  it('rejects keys and IVs that are not 16 bytes', () => {
    expect(() => sm4Mac(randomBytes(8), randomBytes(8))).toThrow(RangeError);
    expect(() => sm4Mac(randomBytes(16), randomBytes(8), { iv: randomBytes(8) })).toThrow(RangeError);
  });

  it('verify accepts the right MAC at 4, 8 and 16 bytes and rejects any flipped bit', () => {
    const key = randomBytes(16);
    const data = randomBytes(30);
    for (const length of [4, 8, 16]) {
      const mac = sm4Mac(key, data, { length });
      expect(verifySm4Mac(key, data, mac)).toBe(true);
      for (let bit = 0; bit < 8 * length; bit++) {
        const bad = mac.slice();
        bad[bit >> 3] ^= 1 << (bit & 7);
        expect(verifySm4Mac(key, data, bad)).toBe(false);
      }
    }
  });

  it('verify rejects a MAC over other data, under another key or IV, or shorter than 4 bytes', () => {
    const key = randomBytes(16);
    const data = randomBytes(30);
    const mac = sm4Mac(key, data, { length: 8 });
    const other = data.slice();
    other[29] ^= 1;
    expect(verifySm4Mac(key, other, mac)).toBe(false);
    expect(verifySm4Mac(randomBytes(16), data, mac)).toBe(false);
    expect(verifySm4Mac(key, data, mac, { iv: randomBytes(16) })).toBe(false);
    expect(verifySm4Mac(key, data, mac.subarray(0, 3))).toBe(false);
    expect(verifySm4Mac(key, data, new Uint8Array(0))).toBe(false);
    expect(verifySm4Mac(key, data, concatBytes(sm4Mac(key, data), Uint8Array.of(0)))).toBe(false);
  });
});

describe('ISO/IEC 9797-1 MAC algorithm 3 (retail MAC) with SM4', () => {
  it('equals E_K1(D_K2(H_q)) computed with node:crypto sm4-cbc and sm4-ecb', () => {
    for (const n of LENGTHS) {
      const k1 = randomBytes(16);
      const k2 = randomBytes(16);
      const data = randomBytes(n);
      const hq = nodeCbcLastBlock(k1, ZERO_IV, padMethod2(data));
      const expected = nodeEcb(false, k1, nodeEcb(true, k2, hq));
      expect(bytesToHex(sm4RetailMac(k1, k2, data)), `length ${n}`).toBe(bytesToHex(expected));
    }
  });

  it('reduces to MAC algorithm 1 when K1 = K2', () => {
    const k = randomBytes(16);
    const data = randomBytes(40);
    expect(bytesToHex(sm4RetailMac(k, k, data))).toBe(bytesToHex(sm4Mac(k, data)));
  });

  it('applies the IV and truncation like algorithm 1', () => {
    const k1 = randomBytes(16);
    const k2 = randomBytes(16);
    const iv = randomBytes(16);
    const data = randomBytes(19);
    const hq = nodeCbcLastBlock(k1, iv, padMethod2(data));
    const expected = nodeEcb(false, k1, nodeEcb(true, k2, hq)).subarray(0, 4);
    expect(bytesToHex(sm4RetailMac(k1, k2, data, { iv, length: 4 }))).toBe(bytesToHex(expected));
  });

  it('verify accepts the right MAC and rejects swapped keys or a flipped bit', () => {
    const k1 = randomBytes(16);
    const k2 = randomBytes(16);
    const data = randomBytes(33);
    const mac = sm4RetailMac(k1, k2, data, { length: 8 });
    expect(verifySm4RetailMac(k1, k2, data, mac)).toBe(true);
    expect(verifySm4RetailMac(k2, k1, data, mac)).toBe(false);
    const bad = mac.slice();
    bad[7] ^= 0x80;
    expect(verifySm4RetailMac(k1, k2, data, bad)).toBe(false);
  });
});

describe('CMAC with SM4 (NIST SP 800-38B, Rb = 0x87)', () => {
  /** SP 800-38B 6.1 doubling, by bigint arithmetic (independent of the byte-shift code under test). */
  function dblByDefinition(block: Uint8Array): Uint8Array {
    let v = BigInt('0x' + bytesToHex(block)) << 1n;
    if (v >> 128n) v = (v & ((1n << 128n) - 1n)) ^ 0x87n;
    return hexToBytes(v.toString(16).padStart(32, '0'));
  }

  /** SP 800-38B 6.2 step by step with OpenSSL's SM4-ECB for the block cipher. */
  function cmacByDefinition(key: Uint8Array, data: Uint8Array): Uint8Array {
    const l = nodeEcb(false, key, new Uint8Array(16));
    const k1 = dblByDefinition(l);
    const k2 = dblByDefinition(k1);
    const n = data.length === 0 ? 1 : Math.ceil(data.length / 16);
    const blocks: Uint8Array[] = [];
    for (let i = 0; i < n; i++) blocks.push(data.slice(16 * i, 16 * i + 16));
    const lastComplete = data.length > 0 && data.length % 16 === 0;
    const last = blocks[n - 1];
    blocks[n - 1] = lastComplete ? xorBytes(last, k1) : xorBytes(padMethod2(last).subarray(0, 16), k2);
    let c: Uint8Array = new Uint8Array(16);
    for (const m of blocks) c = nodeEcb(false, key, xorBytes(c, m));
    return c;
  }

  it('equals the SP 800-38B definition over node:crypto sm4-ecb, complete and partial last blocks', () => {
    for (const n of LENGTHS) {
      const key = randomBytes(16);
      const data = randomBytes(n);
      expect(bytesToHex(sm4Cmac(key, data)), `length ${n}`).toBe(bytesToHex(cmacByDefinition(key, data)));
    }
  });

  it('derives subkeys with the 0x87 reduction when the top bit of L is set', () => {
    // Search keys until both cases of msb(L) occur, so the conditional XOR is exercised both ways.
    const seen = new Set<number>();
    for (let i = 0; i < 64 && seen.size < 2; i++) {
      const key = randomBytes(16);
      const msb = nodeEcb(false, key, new Uint8Array(16))[0] >> 7;
      seen.add(msb);
      const data = randomBytes(16);
      expect(bytesToHex(sm4Cmac(key, data))).toBe(bytesToHex(cmacByDefinition(key, data)));
      expect(bytesToHex(sm4Cmac(key, data.subarray(0, 5)))).toBe(bytesToHex(cmacByDefinition(key, data.subarray(0, 5))));
    }
    expect(seen.size).toBe(2);
  });

  it('is self-consistent: CMAC of one full block M is E(M ^ K1), of the empty message E(80 00.. ^ K2)', () => {
    const key = randomBytes(16);
    const k1 = dblByDefinition(nodeEcb(false, key, new Uint8Array(16)));
    const k2 = dblByDefinition(k1);
    const m = randomBytes(16);
    expect(bytesToHex(sm4Cmac(key, m))).toBe(bytesToHex(nodeEcb(false, key, xorBytes(m, k1))));
    const pad = new Uint8Array(16);
    pad[0] = 0x80;
    expect(bytesToHex(sm4Cmac(key, new Uint8Array(0)))).toBe(bytesToHex(nodeEcb(false, key, xorBytes(pad, k2))));
    // A message and the same message with explicit 10* padding must not collide (unlike plain CBC-MAC).
    const partial = randomBytes(10);
    expect(bytesToHex(sm4Cmac(key, partial))).not.toBe(bytesToHex(sm4Cmac(key, padMethod2(partial))));
  });

  it('truncates to the leftmost Tlen bytes', () => {
    const key = randomBytes(16);
    const data = randomBytes(50);
    expect(bytesToHex(sm4Cmac(key, data, { length: 8 }))).toBe(bytesToHex(sm4Cmac(key, data).subarray(0, 8)));
  });

  it('verify accepts the right tag and rejects a wrong one, another message, or a tag under 4 bytes', () => {
    const key = randomBytes(16);
    const data = randomBytes(50);
    const tag = sm4Cmac(key, data, { length: 8 });
    expect(verifySm4Cmac(key, data, tag)).toBe(true);
    const bad = tag.slice();
    bad[0] ^= 1;
    expect(verifySm4Cmac(key, data, bad)).toBe(false);
    expect(verifySm4Cmac(key, data.subarray(1), tag)).toBe(false);
    expect(verifySm4Cmac(key, data, tag.subarray(0, 2))).toBe(false);
  });
});
