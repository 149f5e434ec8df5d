/** @module Tests of the SM9 API (GM/T 0044-2016 parts 2 and 4, examples of part 5 Appendices A, C, D): key extraction, signature, key encapsulation, encryption, and their failure cases. */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../base/format-error.js';
import { bytesToHex, concatBytes, hexToBytes, wipe } from '../../base/bytes.js';
import { sm3Kdf } from '../sm3.js';
import { sm4Ecb } from '../sm4.js';
import { loadVectors } from '../../test/vectors.js';
import {
  G1,
  SM9_HID_ENCRYPT,
  SM9_N,
  Sm9MasterKeyError,
  g1FromBytes,
  g2FromBytes,
  gtToBytes,
  pairing,
  sm9Decapsulate,
  sm9Decrypt,
  sm9Encapsulate,
  sm9Encrypt,
  sm9ExtractEncryptKey,
  sm9ExtractSignKey,
  sm9GenerateEncryptMasterKey,
  sm9GenerateSignMasterKey,
  sm9H1,
  sm9H2,
  sm9Sign,
  sm9Verify,
} from './sm9.js';
import { gtPow } from './gt.js';

const v = loadVectors('sm9');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const g2Hex = (pt: { x: string[]; y: string[] }): string => ('04' + pt.x[0] + pt.x[1] + pt.y[0] + pt.y[1]).toLowerCase();
const g1Hex = (pt: { x: string; y: string }): string => ('04' + pt.x + pt.y).toLowerCase();
/** Scalars in the vector file may have fewer than 64 hex digits. */
const scalar = (h: string): Uint8Array => hexToBytes(h.padStart(64, '0'));

describe('SM9 signature: part 5 Appendix A example (Alice, hid 01)', () => {
  const ex = v.sign_example;
  const id = utf8(ex.id);
  const msg = utf8(ex.message);
  const master = sm9GenerateSignMasterKey(scalar(ex.ks));

  it('derives Ppub-s = [ks]P2 of the example', () => {
    expect(bytesToHex(master.publicKey)).toBe(g2Hex(ex.Ppub_s));
  });

  it('computes H1(ID || hid, n) of the example', () => {
    expect(sm9H1(concatBytes(id, hexToBytes(ex.hid))).toString(16).padStart(64, '0')).toBe(ex.H1_Alice_01.toLowerCase());
  });

  it('extracts the user signing key dsA of the example', () => {
    expect(bytesToHex(sm9ExtractSignKey(master, id))).toBe(g1Hex(ex.dsA));
    expect(bytesToHex(sm9ExtractSignKey(master.privateKey, id, 0x01))).toBe(g1Hex(ex.dsA));
  });

  it('hashes M || w with w = g^r as in the example (H2 input and h)', () => {
    const g = pairing(G1.BASE, g2FromBytes(master.publicKey));
    const w = gtToBytes(gtPow(g, BigInt('0x' + ex.r)));
    const z = concatBytes(msg, w);
    expect(bytesToHex(z)).toBe(ex.H2_input_M_w.toLowerCase());
    expect(sm9H2(z).toString(16).padStart(64, '0')).toBe(ex.h.toLowerCase());
  });

  it('signs with the example r to exactly h || S of the example', () => {
    const dsA = sm9ExtractSignKey(master, id);
    const sig = sm9Sign(dsA, master.publicKey, msg, { r: scalar(ex.r) });
    expect(bytesToHex(sig)).toBe((ex.h + ex.S).toLowerCase());
  });

  it('verifies the example signature', () => {
    expect(sm9Verify(master.publicKey, id, msg, hexToBytes(ex.h + ex.S))).toBe(true);
  });

  const sig = hexToBytes(ex.h + ex.S);

  it('rejects the signature with a tampered h', () => {
    const bad = sig.slice();
    bad[31] ^= 1;
    expect(sm9Verify(master.publicKey, id, msg, bad)).toBe(false);
  });

  it('rejects the signature with S replaced by another point of G1', () => {
    const S = g1FromBytes(sig.subarray(32));
    const bad = concatBytes(sig.subarray(0, 32), S.add(G1.BASE).toBytes(false));
    expect(sm9Verify(master.publicKey, id, msg, bad)).toBe(false);
  });

  it('rejects S off the curve, a wrong length, h = 0 and h >= n without throwing', () => {
    const off = sig.slice();
    off[96] ^= 1;
    expect(sm9Verify(master.publicKey, id, msg, off)).toBe(false);
    expect(sm9Verify(master.publicKey, id, msg, sig.subarray(0, 96))).toBe(false);
    const h0 = sig.slice();
    h0.fill(0, 0, 32);
    expect(sm9Verify(master.publicKey, id, msg, h0)).toBe(false);
    const hn = concatBytes(hexToBytes(SM9_N.toString(16)), sig.subarray(32));
    expect(sm9Verify(master.publicKey, id, msg, hn)).toBe(false);
  });

  it('rejects the signature for another identity, another message or another hid', () => {
    expect(sm9Verify(master.publicKey, utf8('Bob'), msg, sig)).toBe(false);
    expect(sm9Verify(master.publicKey, id, utf8('Chinese IBS standarD'), sig)).toBe(false);
    expect(sm9Verify(master.publicKey, id, msg, sig, { hid: 0x03 })).toBe(false);
  });

  it('rejects the signature under another master public key', () => {
    const other = sm9GenerateSignMasterKey();
    expect(sm9Verify(other.publicKey, id, msg, sig)).toBe(false);
  });

  it('throws FormatError for a master public key outside G2', () => {
    const bad = master.publicKey.slice();
    bad[128] ^= 1;
    expect(() => sm9Verify(bad, id, msg, sig)).toThrow(FormatError);
  });

  it('signs and verifies with fresh random keys and r', () => {
    const m = sm9GenerateSignMasterKey();
    const uid = utf8('13800138000|2027-12-31');
    const key = sm9ExtractSignKey(m, uid);
    const s1 = sm9Sign(key, m.publicKey, msg);
    const s2 = sm9Sign(key, m.publicKey, msg);
    expect(s1.length).toBe(97);
    expect(bytesToHex(s1)).not.toBe(bytesToHex(s2));
    expect(sm9Verify(m.publicKey, uid, msg, s1)).toBe(true);
    expect(sm9Verify(m.publicKey, uid, msg, s2)).toBe(true);
    wipe(key, m.privateKey);
    expect(key.every((b) => b === 0)).toBe(true);
  });

  it('refuses a malformed user key or fixed r outside [1, n-1]', () => {
    const dsA = sm9ExtractSignKey(master, id);
    expect(() => sm9Sign(dsA.subarray(1), master.publicKey, msg)).toThrow(FormatError);
    expect(() => sm9Sign(dsA, master.publicKey, msg, { r: new Uint8Array(32) })).toThrow(FormatError);
  });
});

describe('SM9 key extraction', () => {
  it('throws Sm9MasterKeyError when t1 = H1(ID || hid, n) + ks = 0 (regenerate the master key)', () => {
    const id = utf8('Alice');
    // ks = n - H1(ID || hid, n) makes t1 vanish for that identity and hid
    const keyFor = (hid: number): Uint8Array =>
      hexToBytes((SM9_N - sm9H1(concatBytes(id, Uint8Array.of(hid)))).toString(16).padStart(64, '0'));
    expect(() => sm9ExtractSignKey(keyFor(0x01), id)).toThrow(Sm9MasterKeyError);
    expect(() => sm9ExtractEncryptKey(keyFor(0x03), id)).toThrow(Sm9MasterKeyError);
    // the same master key is fine for another identity
    expect(sm9ExtractSignKey(keyFor(0x01), utf8('Bob')).length).toBe(65);
  });

  it('rejects master private keys 0 and >= n', () => {
    expect(() => sm9GenerateSignMasterKey(new Uint8Array(32))).toThrow(FormatError);
    expect(() => sm9GenerateEncryptMasterKey(hexToBytes(SM9_N.toString(16)))).toThrow(FormatError);
  });
});

describe('SM9 key encapsulation: part 5 Appendix C example (Bob, hid 03, 256 bits)', () => {
  const ex = v.kem_example;
  const id = utf8('Bob');
  const master = sm9GenerateEncryptMasterKey(scalar(ex.ke));

  it('derives Ppub-e = [ke]P1 and the user key deB of the example', () => {
    expect(bytesToHex(master.publicKey)).toBe('04' + ex.Ppub_e.toLowerCase());
    expect(bytesToHex(sm9ExtractEncryptKey(master, id))).toBe('04' + ex.deB.toLowerCase());
  });

  it('has QB = [H1(ID || hid, n)]P1 + Ppub-e of the example', () => {
    const QB = G1.BASE.multiply(sm9H1(concatBytes(id, Uint8Array.of(SM9_HID_ENCRYPT)))).add(g1FromBytes(master.publicKey));
    expect(bytesToHex(QB.toBytes(false))).toBe('04' + ex.QB.toLowerCase());
  });

  it('encapsulates with the example r to C and K of the example', () => {
    const { key, encapsulation } = sm9Encapsulate(master.publicKey, id, 32, { r: scalar(ex.r) });
    expect(bytesToHex(encapsulation)).toBe(ex.C.toLowerCase());
    expect(bytesToHex(key)).toBe(ex.K.toLowerCase());
  });

  it('decapsulates the example C to K', () => {
    const deB = sm9ExtractEncryptKey(master, id);
    expect(bytesToHex(sm9Decapsulate(deB, id, hexToBytes(ex.C), 32))).toBe(ex.K.toLowerCase());
  });

  it('accepts the 04||x||y form of C when asked to', () => {
    const deB = sm9ExtractEncryptKey(master, id);
    const { key, encapsulation } = sm9Encapsulate(master.publicKey, id, 48, { c1Format: 'uncompressed' });
    expect(encapsulation.length).toBe(65);
    expect(sm9Decapsulate(deB, id, encapsulation, 48, { c1Format: 'uncompressed' })).toEqual(key);
  });

  it('derives a different key for the wrong identity', () => {
    const deB = sm9ExtractEncryptKey(master, id);
    expect(bytesToHex(sm9Decapsulate(deB, utf8('Bob2'), hexToBytes(ex.C), 32))).not.toBe(ex.K.toLowerCase());
  });

  it('rejects C off the curve and a user key outside G2', () => {
    const deB = sm9ExtractEncryptKey(master, id);
    const bad = hexToBytes(ex.C);
    bad[63] ^= 1;
    expect(() => sm9Decapsulate(deB, id, bad, 32)).toThrow(FormatError);
    const badKey = deB.slice();
    badKey[128] ^= 1;
    expect(() => sm9Decapsulate(badKey, id, hexToBytes(ex.C), 32)).toThrow(FormatError);
  });
});

describe('SM9 encryption: part 5 Appendix D example (Bob, hid 03, "Chinese IBE standard")', () => {
  const ex = v.encrypt_example;
  const id = utf8(ex.id);
  const msg = utf8(ex.message);
  const master = sm9GenerateEncryptMasterKey(scalar(ex.ke));
  const deB = sm9ExtractEncryptKey(master, id);

  it('derives Ppub-e of the example', () => {
    expect(bytesToHex(master.publicKey)).toBe(g1Hex(ex.Ppub_e));
  });

  it('encrypts with the example r to exactly C = C1 || C3 || C2 of the example (XOR mode)', () => {
    const ct = sm9Encrypt(master.publicKey, id, msg, { r: scalar(ex.r) });
    expect(bytesToHex(ct.subarray(0, 64))).toBe(ex.C1.toLowerCase());
    expect(bytesToHex(ct)).toBe(ex.C.toLowerCase());
  });

  it('derives K1 || K2 = KDF(C1 || w || ID) of the example with w = e(C1, deB)', () => {
    const C1 = hexToBytes(ex.C1);
    const w = gtToBytes(pairing(g1FromBytes(C1, 'C1', true), g2FromBytes(deB)));
    expect(bytesToHex(sm3Kdf(concatBytes(C1, w, id), msg.length + 32))).toBe(ex.K1K2.toLowerCase());
  });

  it('decrypts the example ciphertext', () => {
    expect(new TextDecoder().decode(sm9Decrypt(deB, id, hexToBytes(ex.C)))).toBe(ex.message);
  });

  it('rejects a tampered C3, a tampered C2, a wrong identity and a wrong user key', () => {
    const ct = hexToBytes(ex.C);
    const c3 = ct.slice();
    c3[64] ^= 1;
    expect(() => sm9Decrypt(deB, id, c3)).toThrow(/C3/);
    const c2 = ct.slice();
    c2[ct.length - 1] ^= 1;
    expect(() => sm9Decrypt(deB, id, c2)).toThrow(/C3/);
    expect(() => sm9Decrypt(deB, utf8('Alice'), ct)).toThrow(/C3/);
    const otherKey = sm9ExtractEncryptKey(master, utf8('Alice'));
    expect(() => sm9Decrypt(otherKey, id, ct)).toThrow(/C3/);
  });

  it('rejects C1 off the curve and a ciphertext shorter than C1 || C3', () => {
    const ct = hexToBytes(ex.C);
    const c1 = ct.slice();
    c1[10] ^= 1;
    expect(() => sm9Decrypt(deB, id, c1)).toThrow(FormatError);
    expect(() => sm9Decrypt(deB, id, ct.subarray(0, 95))).toThrow(FormatError);
  });

  it('round-trips in SM4 mode: C2 = SM4-ECB-PKCS#7(K1, M) with K1 = first 16 bytes of the KDF output', () => {
    const r = scalar(ex.r);
    const ct = sm9Encrypt(master.publicKey, id, msg, { mode: 'sm4', r });
    expect(ct.length).toBe(64 + 32 + 32);
    expect(new TextDecoder().decode(sm9Decrypt(deB, id, ct, { mode: 'sm4' }))).toBe(ex.message);
    // Same r gives the same C1 as XOR mode; C2 and C3 follow part 4 clause 7 steps A6-A7 with K1_len = 128 bits.
    const C1 = ct.subarray(0, 64);
    expect(bytesToHex(C1)).toBe(ex.C1.toLowerCase());
    const w = gtToBytes(pairing(g1FromBytes(C1, 'C1', true), g2FromBytes(deB)));
    const k = sm3Kdf(concatBytes(C1, w, id), 16 + 32);
    const c2 = sm4Ecb(k.subarray(0, 16), { padding: 'pkcs7' }).encrypt(msg);
    expect(bytesToHex(ct.subarray(96))).toBe(bytesToHex(c2));
    expect(() => sm9Decrypt(deB, id, ct)).toThrow(/C3/); // the modes are not interchangeable
  });

  it('rejects a tampered SM4-mode ciphertext before unpadding', () => {
    const ct = sm9Encrypt(master.publicKey, id, msg, { mode: 'sm4' });
    ct[ct.length - 1] ^= 1;
    expect(() => sm9Decrypt(deB, id, ct, { mode: 'sm4' })).toThrow(/C3/);
  });

  it('round-trips with random r, empty and long messages, and the 04||x||y C1 layout', () => {
    for (const m of [new Uint8Array(0), new Uint8Array(1000).map((_, i) => i & 0xff)]) {
      for (const mode of ['xor', 'sm4'] as const) {
        const ct = sm9Encrypt(master.publicKey, id, m, { mode, c1Format: 'uncompressed' });
        expect(ct[0]).toBe(4);
        expect(sm9Decrypt(deB, id, ct, { mode, c1Format: 'uncompressed' })).toEqual(m);
      }
    }
  });
});
