/** @module Tests for SM3 (GB/T 32905-2016), HMAC-SM3 and the SM2/SM9 KDF, against the standard's examples and node:crypto. */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../test/vectors.js';
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '../base/bytes.js';
import { hmacSm3, sm3, sm3Kdf } from './sm3.js';

interface Sm3Vector {
  msg_ascii: string;
  digest: string;
}
const { vectors } = loadVectors<{ vectors: Sm3Vector[] }>('sm3');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const nodeSm3 = (m: Uint8Array): string => createHash('sm3').update(m).digest('hex');

// Lengths 0..300 cover every tail length and the padding edge cases (55/56 bytes: length field
// fits or needs a second block; 63/64/65: block boundaries; 119/120/128).
const LENGTHS = Array.from({ length: 301 }, (_, n) => n);

describe('SM3 (GB/T 32905-2016)', () => {
  it('has two examples in the vector file', () => {
    expect(vectors.length).toBe(2);
  });

  it.each(vectors.map((v, i) => [i + 1, v] as const))('matches GB/T 32905 Appendix A example %i (one-shot)', (_, v) => {
    expect(bytesToHex(sm3(ascii(v.msg_ascii)))).toBe(v.digest);
  });

  it.each(vectors.map((v, i) => [i + 1, v] as const))('matches GB/T 32905 Appendix A example %i (incremental, byte by byte)', (_, v) => {
    const h = sm3.create();
    for (const b of ascii(v.msg_ascii)) h.update(Uint8Array.of(b));
    expect(bytesToHex(h.digest())).toBe(v.digest);
  });

  it('one-shot digest equals node:crypto sm3 for every length 0..300', () => {
    for (const n of LENGTHS) {
      const m = randomBytes(n);
      expect(bytesToHex(sm3(m)), `length ${n}`).toBe(nodeSm3(m));
    }
  });

  it('incremental update() in random chunks equals node:crypto one-shot for every length 0..300', () => {
    for (const n of LENGTHS) {
      const m = randomBytes(n);
      const h = sm3.create();
      for (let pos = 0; pos < n; ) {
        const take = Math.min(n - pos, 1 + Math.floor(Math.random() * 70));
        h.update(m.subarray(pos, pos + take));
        pos += take;
      }
      expect(bytesToHex(h.digest()), `length ${n}`).toBe(nodeSm3(m));
    }
  });

  it('node:crypto fed in chunks equals our one-shot (the other direction)', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 300, 1000]) {
      const m = randomBytes(n);
      const h = createHash('sm3');
      for (let pos = 0; pos < n; pos += 17) h.update(m.subarray(pos, Math.min(n, pos + 17)));
      expect(bytesToHex(sm3(m)), `length ${n}`).toBe(h.digest('hex'));
    }
  });

  it('accepts a subarray view with a non-zero byte offset', () => {
    const big = randomBytes(200);
    const view = big.subarray(3, 150);
    expect(bytesToHex(sm3(view))).toBe(nodeSm3(view));
  });

  it('clone() of a partly fed hasher continues independently', () => {
    const a = randomBytes(90);
    const b = randomBytes(40);
    const c = randomBytes(70);
    const h = sm3.create().update(a);
    const h2 = h.clone();
    expect(bytesToHex(h.update(b).digest())).toBe(nodeSm3(concatBytes(a, b)));
    expect(bytesToHex(h2.update(c).digest())).toBe(nodeSm3(concatBytes(a, c)));
  });

  it('rejects a message that is not a Uint8Array', () => {
    expect(() => sm3('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('HMAC-SM3 (RFC 2104)', () => {
  it('equals node:crypto createHmac(sm3) for short, block-sized and long keys', () => {
    for (const keyLength of [0, 1, 16, 32, 63, 64, 65, 100, 200]) {
      for (const msgLength of [0, 1, 64, 100]) {
        const key = randomBytes(keyLength);
        const msg = randomBytes(msgLength);
        const expected = createHmac('sm3', key).update(msg).digest('hex');
        expect(bytesToHex(hmacSm3(key, msg)), `key ${keyLength}, msg ${msgLength}`).toBe(expected);
      }
    }
  });
});

describe('SM3 KDF (GB/T 32918.4 5.4.3)', () => {
  /** Direct definition: Ha_i = SM3(Z || ct_i), ct_i 32-bit big-endian from 1, concatenated and cut to klen. */
  function kdfByDefinition(z: Uint8Array, lengthBytes: number): string {
    let out = '';
    for (let ct = 1; out.length < 2 * lengthBytes; ct++) {
      const ctBytes = hexToBytes(ct.toString(16).padStart(8, '0'));
      out += nodeSm3(concatBytes(z, ctBytes));
    }
    return out.slice(0, 2 * lengthBytes);
  }

  it('equals the direct definition for lengths around digest multiples', () => {
    const z = randomBytes(64);
    for (const n of [1, 16, 31, 32, 33, 63, 64, 65, 96, 100, 257]) {
      expect(bytesToHex(sm3Kdf(z, n)), `klen ${n}`).toBe(kdfByDefinition(z, n));
    }
  });

  it('equals the direct definition for an empty Z and a Z longer than a block', () => {
    expect(bytesToHex(sm3Kdf(new Uint8Array(0), 40))).toBe(kdfByDefinition(new Uint8Array(0), 40));
    const z = randomBytes(150);
    expect(bytesToHex(sm3Kdf(z, 70))).toBe(kdfByDefinition(z, 70));
  });

  it('returns an empty array for klen = 0', () => {
    expect(sm3Kdf(randomBytes(10), 0)).toEqual(new Uint8Array(0));
  });

  it('shorter outputs are prefixes of longer ones', () => {
    const z = randomBytes(33);
    const long = sm3Kdf(z, 100);
    expect(bytesToHex(sm3Kdf(z, 45))).toBe(bytesToHex(long.subarray(0, 45)));
  });

  it('rejects negative and fractional lengths', () => {
    expect(() => sm3Kdf(randomBytes(4), -1)).toThrow(RangeError);
    expect(() => sm3Kdf(randomBytes(4), 1.5)).toThrow(RangeError);
  });
});
