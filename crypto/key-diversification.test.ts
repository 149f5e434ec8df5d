/** @module Tests of per-card key diversification (GlobalPlatformPro KDF3 vector, EMV CPS-style AES-ECB against node:crypto) and key check values (AES against node:crypto, SM4 against sm-crypto-v2). */
import { createCipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { sm4 as sm4Oracle } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { FormatError } from '../base/format-error.js';
import { Scp03HostSession } from '../host/scp03-host-session.js';
import { Scp03CardSession } from '../simulator/scp03-card-session.js';
import { loadVectors } from '../test/vectors.js';
import { aesCmac } from './aes-cmac.js';
import { bytesToHex, concatBytes, hexToBytes } from '../base/bytes.js';
import { KDF3_CONSTANTS, diversifyEmv, diversifyKdf3, emvDiversificationBlock, kdf3DiversifyKey, keyCheckValue } from './key-diversification.js';

const V = loadVectors('scp03').kdf3_diversification as { master: string; kdd: string; constant_enc: string; expected_enc: string };
const h = (s: string): Uint8Array => hexToBytes(s.toLowerCase());
const x = (b: Uint8Array): string => bytesToHex(b);
const rnd = (n: number): Uint8Array => new Uint8Array(nodeRandomBytes(n));

function nodeAesEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

describe('KDF3 diversification (GlobalPlatformPro)', () => {
  it('matches GlobalPlatformPro TestSCP03.testKDF3 (AES-256 master, ENC key)', () => {
    const master = h(V.master);
    const keys = diversifyKdf3({ enc: master, mac: master, dek: master }, h(V.kdd));
    expect(x(keys.enc)).toBe(V.expected_enc.toLowerCase());
  });

  it('uses the vector constant 0000000100 for ENC, and 0000000200 / 0000000300 for MAC / DEK', () => {
    expect(x(KDF3_CONSTANTS.enc)).toBe(V.constant_enc);
    const mac = h(V.constant_enc);
    mac[3] = 0x02;
    const dek = h(V.constant_enc);
    dek[3] = 0x03;
    expect(x(KDF3_CONSTANTS.mac)).toBe(x(mac));
    expect(x(KDF3_CONSTANTS.dek)).toBe(x(dek));
  });

  it('MAC and DEK keys follow the same input layout: CMAC(master, i || constant || kdd)', () => {
    const master = h(V.master);
    const kdd = h(V.kdd);
    const keys = diversifyKdf3({ enc: master, mac: master, dek: master }, kdd);
    for (const p of ['mac', 'dek'] as const) {
      const expected = concatBytes(aesCmac(master, Uint8Array.of(1), KDF3_CONSTANTS[p], kdd), aesCmac(master, Uint8Array.of(2), KDF3_CONSTANTS[p], kdd));
      expect(x(keys[p]), p).toBe(x(expected));
    }
    expect(x(keys.mac)).not.toBe(x(keys.enc));
    expect(x(keys.dek)).not.toBe(x(keys.mac));
  });

  it.each([16, 24, 32])('card keys are as long as their %i-byte master keys', (len) => {
    const keys = diversifyKdf3({ enc: rnd(len), mac: rnd(len), dek: rnd(len) }, rnd(10));
    expect([keys.enc.length, keys.mac.length, keys.dek.length]).toEqual([len, len, len]);
  });

  it('gives different keys for different cards', () => {
    const master = rnd(16);
    const a = kdf3DiversifyKey(master, KDF3_CONSTANTS.enc, h('00000000000000000001'));
    const b = kdf3DiversifyKey(master, KDF3_CONSTANTS.enc, h('00000000000000000002'));
    expect(x(a)).not.toBe(x(b));
  });

  it('rejects empty diversification data and non-AES masters', () => {
    expect(() => kdf3DiversifyKey(rnd(16), KDF3_CONSTANTS.enc, new Uint8Array(0))).toThrow(FormatError);
    expect(() => kdf3DiversifyKey(rnd(10), KDF3_CONSTANTS.enc, rnd(10))).toThrow(RangeError);
  });
});

describe('EMV CPS-style diversification (AES-ECB)', () => {
  it('builds KDD[4..9] || F0 k || KDD[4..9] || 0F k', () => {
    const kdd = h('00010203040506070809');
    expect(x(emvDiversificationBlock(kdd, 1))).toBe('040506070809f001040506070809' + '0f01');
    expect(x(emvDiversificationBlock(kdd, 2))).toBe('040506070809f002040506070809' + '0f02');
    expect(x(emvDiversificationBlock(kdd, 3))).toBe('040506070809f003040506070809' + '0f03');
    expect(() => emvDiversificationBlock(kdd.subarray(0, 9), 1)).toThrow(FormatError);
  });

  it('AES-128: card key = AES-ECB(master, block) (node:crypto oracle)', () => {
    const masters = { enc: rnd(16), mac: rnd(16), dek: rnd(16) };
    const kdd = rnd(10);
    const keys = diversifyEmv(masters, kdd);
    expect(x(keys.enc)).toBe(x(nodeAesEcb(masters.enc, emvDiversificationBlock(kdd, 1))));
    expect(x(keys.mac)).toBe(x(nodeAesEcb(masters.mac, emvDiversificationBlock(kdd, 2))));
    expect(x(keys.dek)).toBe(x(nodeAesEcb(masters.dek, emvDiversificationBlock(kdd, 3))));
  });

  it.each([24, 32])('%i-byte masters: leftmost bytes of AES(master, D) || AES(master, D xor FF..FF)', (len) => {
    const masters = { enc: rnd(len), mac: rnd(len), dek: rnd(len) };
    const kdd = rnd(10);
    const keys = diversifyEmv(masters, kdd);
    const d = emvDiversificationBlock(kdd, 2);
    const expected = concatBytes(nodeAesEcb(masters.mac, d), nodeAesEcb(masters.mac, d.map((b) => b ^ 0xff))).subarray(0, len);
    expect(x(keys.mac)).toBe(x(expected));
    expect(keys.enc.length).toBe(len);
  });

  it('only bytes 4..9 of the KDD matter (bytes 0..3 are not part of the card ID here)', () => {
    const masters = { enc: rnd(16), mac: rnd(16), dek: rnd(16) };
    const a = diversifyEmv(masters, h('AAAAAAAA040506070809'));
    const b = diversifyEmv(masters, h('BBBBBBBB040506070809'));
    expect(x(a.enc)).toBe(x(b.enc));
  });
});

describe('key check values', () => {
  it.each([16, 24, 32])('AES (%i-byte key): first 3 bytes of AES(key, 16 x 01) (node:crypto oracle)', (len) => {
    const key = rnd(len);
    expect(x(keyCheckValue(key))).toBe(x(nodeAesEcb(key, new Uint8Array(16).fill(1)).subarray(0, 3)));
    expect(keyCheckValue(key, 'aes').length).toBe(3);
  });

  it('SM4: first 3 bytes of SM4(key, 16 x 00) (sm-crypto-v2 oracle)', () => {
    for (let n = 0; n < 5; n++) {
      const key = rnd(16);
      const oracle = sm4Oracle.encrypt(new Uint8Array(16), key, { padding: 'none', output: 'array' });
      expect(x(keyCheckValue(key, 'sm4'))).toBe(x(oracle.subarray(0, 3)));
    }
  });

  it('an AES and an SM4 KCV of the same 16 bytes differ (the algorithm must be named)', () => {
    const key = rnd(16);
    expect(x(keyCheckValue(key, 'aes'))).not.toBe(x(keyCheckValue(key, 'sm4')));
  });

  it('rejects key lengths the algorithm does not have', () => {
    expect(() => keyCheckValue(rnd(8))).toThrow(RangeError);
    expect(() => keyCheckValue(rnd(32), 'sm4')).toThrow();
  });
});

describe('diversified keys open an SCP03 session', () => {
  it.each([
    ['KDF3', diversifyKdf3],
    ['EMV', diversifyEmv],
  ] as const)('%s: host diversifies from the KDD in the INITIALIZE UPDATE response, card holds the same keys', (_name, diversify) => {
    const masters = { enc: rnd(16), mac: rnd(16), dek: rnd(16) };
    const kdd = rnd(10);
    const cardKeys = diversify(masters, kdd);
    const aid = h('A000000151000000');

    // The host does not know the card keys before it has the KDD: a first host session with the
    // master keys reads the KDD, then a second one uses the diversified keys.
    const probe = new Scp03HostSession(masters);
    const first = Scp03CardSession.initializeUpdate(initializeUpdate.encode(probe.initializeUpdate()), { keys: cardKeys, kvn: 0x30, kdd, aid, sequenceCounter: 1 });
    const iu = initializeUpdate.decodeResponse(first.data);
    expect(x(iu.keyDiversificationData)).toBe(x(kdd));

    const host = new Scp03HostSession(diversify(masters, iu.keyDiversificationData), { sdAid: aid });
    const { session: card, data } = Scp03CardSession.initializeUpdate(initializeUpdate.encode(host.initializeUpdate()), { keys: cardKeys, kvn: 0x30, kdd, aid, sequenceCounter: 2 });
    host.processInitializeUpdateResponse(initializeUpdate.decodeResponse(data));
    card.processExternalAuthenticate(externalAuthenticate.encode(host.externalAuthenticate(0x33)));
    host.authenticated();
    expect(x(card.unwrapCommand(host.wrap(h('80CA006600'))))).toBe('80ca006600');
  });
});
