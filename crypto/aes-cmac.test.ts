/** @module Tests of AES-CMAC against RFC 4493 section 4 and a from-definition SP 800-38B implementation on node:crypto AES-ECB. */
import { createCipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../test/vectors.js';
import { aesCmac } from './aes-cmac.js';
import { bytesToHex, hexToBytes } from '../base/bytes.js';

const vectors = loadVectors('scp03').rfc4493_aes_cmac as { key: string; vectors: { msg: string; tag: string }[] };

/** One AES block encryption with node:crypto (independent oracle, not @noble/ciphers). */
function nodeAesBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

/** Doubling in GF(2^128) with R_128 = 0x87 (SP 800-38B 6.1 steps 2-3). */
function dbl(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
  if (b[0] & 0x80) out[15] ^= 0x87;
  return out;
}

/** CMAC written straight from SP 800-38B 6.1 (subkeys) and 6.2 (MAC generation). */
function referenceCmac(key: Uint8Array, m: Uint8Array): Uint8Array {
  const k1 = dbl(nodeAesBlock(key, new Uint8Array(16)));
  const k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(m.length / 16));
  const complete = m.length > 0 && m.length % 16 === 0;
  const last = new Uint8Array(16);
  last.set(m.subarray((n - 1) * 16));
  if (!complete) last[m.length - (n - 1) * 16] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) last[i] ^= sub[i];
  let c: Uint8Array = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    const block = i === n - 1 ? last : m.subarray(i * 16, i * 16 + 16);
    const x = new Uint8Array(16);
    for (let j = 0; j < 16; j++) x[j] = c[j] ^ block[j];
    c = nodeAesBlock(key, x);
  }
  return c;
}

describe('AES-CMAC', () => {
  it.each(vectors.vectors.map((v, i) => [i + 1, v.msg.length / 2, v] as const))(
    'matches RFC 4493 section 4 example %i (%i-byte message)',
    (_i, _len, v) => {
      expect(bytesToHex(aesCmac(hexToBytes(vectors.key), hexToBytes(v.msg)))).toBe(v.tag);
    },
  );

  it('from-definition reference reproduces RFC 4493 too (the oracle itself is right)', () => {
    for (const v of vectors.vectors) {
      expect(bytesToHex(referenceCmac(hexToBytes(vectors.key), hexToBytes(v.msg)))).toBe(v.tag);
    }
  });

  it.each([16, 24, 32])('matches SP 800-38B from definition (node:crypto AES-%i-byte key) for lengths 0..70', (keyLen) => {
    const key = new Uint8Array(nodeRandomBytes(keyLen));
    for (let len = 0; len <= 70; len++) {
      const msg = new Uint8Array(nodeRandomBytes(len));
      expect(bytesToHex(aesCmac(key, msg)), `length ${len}`).toBe(bytesToHex(referenceCmac(key, msg)));
    }
  });

  it('gives the same tag for a message passed in parts as for the whole message', () => {
    const key = new Uint8Array(nodeRandomBytes(16));
    const msg = new Uint8Array(nodeRandomBytes(100));
    const whole = bytesToHex(aesCmac(key, msg));
    for (const cuts of [[0], [16], [15, 17], [1, 2, 3], [32, 64, 100]]) {
      const parts: Uint8Array[] = [];
      let prev = 0;
      for (const c of cuts) {
        parts.push(msg.subarray(prev, c));
        prev = c;
      }
      parts.push(msg.subarray(prev));
      expect(bytesToHex(aesCmac(key, ...parts)), `cuts ${cuts}`).toBe(whole);
    }
    expect(bytesToHex(aesCmac(key))).toBe(bytesToHex(aesCmac(key, new Uint8Array(0))));
  });

  it('rejects keys that are not 16, 24 or 32 bytes', () => {
    for (const len of [0, 8, 15, 17, 20, 33]) {
      expect(() => aesCmac(new Uint8Array(len), new Uint8Array(0))).toThrow(RangeError);
    }
  });

  it('does not modify the key or the message', () => {
    const key = new Uint8Array(nodeRandomBytes(32));
    const msg = new Uint8Array(nodeRandomBytes(33));
    const k0 = bytesToHex(key);
    const m0 = bytesToHex(msg);
    aesCmac(key, msg);
    aesCmac(key, msg.subarray(0, 5), msg.subarray(5));
    expect(bytesToHex(key)).toBe(k0);
    expect(bytesToHex(msg)).toBe(m0);
  });
});
