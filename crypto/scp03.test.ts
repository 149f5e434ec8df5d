/** @module Tests of the GP SCP03 primitives (Amd D): KDF, session keys, cryptograms, card challenge, secure messaging against the pySim transcripts of test/vectors/scp03.json, round trips at every security level and key length, S16 mode, forged messages, padding and DEK encryption. */
import { createCipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCommandApdu, encodeCommandApdu, isExtended } from '../applet-spec/codec/apdu.js';
import { FormatError } from '../base/format-error.js';
import {
  CASES,
  expectFailure,
  forger,
  h,
  hostChallengeOf,
  initializeUpdateResponseOf,
  ISD_R_AID,
  keysOf,
  LEVEL_33,
  levelOf,
  lower,
  SESSIONS,
  V,
  type VectorSession,
  x,
} from '../test/scp03-vectors.js';
import { aesCmac } from './aes-cmac.js';
import { concatBytes } from '../base/bytes.js';
import {
  I_PARAMETER,
  commandMac,
  computeCardCryptogram,
  computeHostCryptogram,
  dekDecrypt,
  dekEncrypt,
  deriveSessionKeys,
  initialChain,
  padM2,
  pseudoRandomCardChallenge,
  scp03Kdf,
  securityLevelProblem,
  unpadM2,
  unwrapCommand,
  unwrapResponse,
  wrapCommand,
  wrapResponse,
  type SMode,
  type Scp03Chain,
  type Scp03Channel,
} from './scp03.js';

/** Wraps command bytes as a host does: decode, wrapCommand, encode with the same length form. */
function wrapBytes(channel: Scp03Channel, chain: Scp03Chain, command: Uint8Array): { bytes: Uint8Array; chain: Scp03Chain } {
  const c = decodeCommandApdu(command);
  const extended = isExtended(c);
  const w = wrapCommand(channel, chain, c, c.data, extended);
  return { bytes: encodeCommandApdu({ ...c, cla: w.cla, data: w.data, extended }), chain: w.chain };
}

/** Unwraps command bytes as a card does; throws the failure's reason. */
function unwrapBytes(channel: Scp03Channel, chain: Scp03Chain, command: Uint8Array): { bytes: Uint8Array; chain: Scp03Chain } {
  const c = decodeCommandApdu(command);
  const extended = isExtended(c);
  const r = unwrapCommand(channel, chain, c, c.data, extended);
  if (!r.ok) throw new Error(r.reason);
  return { bytes: encodeCommandApdu({ ...c, cla: r.cla, data: r.data, extended }), chain: r.chain };
}

/** The channel and chain of a vector session right after its EXTERNAL AUTHENTICATE, from the primitives alone. */
function vectorChannel(s: VectorSession): { channel: Scp03Channel; chain: Scp03Chain; ea: Uint8Array } {
  const iu = initializeUpdateResponseOf(s);
  const keys = deriveSessionKeys(keysOf(s), hostChallengeOf(s), iu.cardChallenge);
  const cryptogram = computeHostCryptogram(keys.sMac, hostChallengeOf(s), iu.cardChallenge);
  const header = { cla: 0x84, ins: 0x82, p1: levelOf(s), p2: 0x00 };
  const mac = commandMac(keys.sMac, initialChain().chaining, header, cryptogram, 8, false);
  const ea = concatBytes(Uint8Array.of(0x84, 0x82, levelOf(s), 0x00, 0x10), cryptogram, mac.subarray(0, 8));
  return { channel: { keys, sMode: 8, level: levelOf(s) }, chain: { chaining: mac, counter: 0 }, ea };
}

/** Both ends of a session with random keys and challenges: one channel, one chain each. */
function pair(level: number, keyLength = 16, sMode: SMode = 8): { channel: Scp03Channel; host: { chain: Scp03Chain }; card: { chain: Scp03Chain } } {
  const keys = { enc: new Uint8Array(nodeRandomBytes(keyLength)), mac: new Uint8Array(nodeRandomBytes(keyLength)) };
  const sessionKeys = deriveSessionKeys(keys, new Uint8Array(nodeRandomBytes(sMode)), new Uint8Array(nodeRandomBytes(sMode)));
  const start = new Uint8Array(nodeRandomBytes(16));
  return { channel: { keys: sessionKeys, sMode, level }, host: { chain: { chaining: start.slice(), counter: 0 } }, card: { chain: { chaining: start.slice(), counter: 0 } } };
}

describe('SCP03 KDF (Amd D 4.1.5, NIST SP 800-108 counter mode with AES-CMAC)', () => {
  it('feeds the PRF 11 zero bytes || constant || 00 || L || i || context', () => {
    const key = new Uint8Array(nodeRandomBytes(16));
    const ctx = new Uint8Array(nodeRandomBytes(16));
    const block = (i: number, bits: number) => concatBytes(new Uint8Array(11), Uint8Array.of(0x06, 0x00, bits >> 8, bits & 0xff, i), ctx);
    expect(x(scp03Kdf(key, 0x06, ctx, 128))).toBe(x(aesCmac(key, block(1, 128))));
    expect(x(scp03Kdf(key, 0x06, ctx, 64))).toBe(x(aesCmac(key, block(1, 64)).subarray(0, 8)));
    // 192 and 256 bits take two PRF blocks with i = 1, 2 and the same L
    expect(x(scp03Kdf(key, 0x06, ctx, 192))).toBe(x(concatBytes(aesCmac(key, block(1, 192)), aesCmac(key, block(2, 192))).subarray(0, 24)));
    expect(x(scp03Kdf(key, 0x06, ctx, 256))).toBe(x(concatBytes(aesCmac(key, block(1, 256)), aesCmac(key, block(2, 256)))));
  });

  it('rejects output lengths that are not whole bytes or need more than 255 blocks', () => {
    const key = new Uint8Array(16);
    expect(() => scp03Kdf(key, 0, new Uint8Array(0), 0)).toThrow(RangeError);
    expect(() => scp03Kdf(key, 0, new Uint8Array(0), 12)).toThrow(RangeError);
    expect(() => scp03Kdf(key, 0, new Uint8Array(0), 256 * 128)).toThrow(RangeError);
    expect(() => scp03Kdf(new Uint8Array(20), 0, new Uint8Array(0), 128)).toThrow(RangeError);
  });

  it.each(SESSIONS)('%s: card cryptogram of the vector verifies with the derived S-MAC', (_l, s) => {
    const iu = initializeUpdateResponseOf(s);
    const keys = deriveSessionKeys(keysOf(s), hostChallengeOf(s), iu.cardChallenge);
    expect(keys.sEnc.length).toBe(keysOf(s).enc.length);
    expect(keys.sRmac.length).toBe(keysOf(s).mac.length);
    expect(x(computeCardCryptogram(keys.sMac, hostChallengeOf(s), iu.cardChallenge))).toBe(x(iu.cardCryptogram));
  });

  it.each(SESSIONS)('%s: pseudo-random card challenge = KDF(Key-ENC, 02, sequence counter || ISD-R AID) (Amd D 6.2.2.1)', (_l, s) => {
    const iu = initializeUpdateResponseOf(s);
    expect(iu.iParameter & I_PARAMETER.pseudoRandomChallenge).toBeTruthy();
    expect(x(pseudoRandomCardChallenge(keysOf(s).enc, iu.sequenceCounter as number, ISD_R_AID, 8))).toBe(x(iu.cardChallenge));
  });
});

describe('security levels (Amd D 7.1.2.1)', () => {
  it('allows 00, 01, 03, 11, 13 and 33 only, and R-MAC / R-ENCRYPTION only when the "i" parameter offers them', () => {
    const all = I_PARAMETER.rMac | I_PARAMETER.rEncryption;
    for (const level of [0x00, 0x01, 0x03, 0x11, 0x13, 0x33]) expect(securityLevelProblem(level, all), level.toString(16)).toBeUndefined();
    for (const level of [0x02, 0x10, 0x31, 0x23, 0x37]) expect(securityLevelProblem(level, all), level.toString(16)).toMatch(/is not one of/);
    expect(securityLevelProblem(0x11, 0)).toMatch(/needs R-MAC/);
    expect(securityLevelProblem(0x33, I_PARAMETER.rMac)).toMatch(/needs R-ENCRYPTION/);
  });
});

describe('secure messaging primitives reproduce the pySim transcripts byte-exactly', () => {
  it.each(SESSIONS)('%s: host direction (EXTERNAL AUTHENTICATE C-MAC, wrapped commands, unwrapped response)', (_l, s) => {
    const { channel, ea } = vectorChannel(s);
    let { chain } = vectorChannel(s);
    expect(x(ea)).toBe(lower(s.ext_auth_cmd));
    const eid = wrapBytes(channel, chain, h(V.plain.get_eid_cmd));
    expect(x(eid.bytes)).toBe(lower(s.get_eid_cmd));
    chain = eid.chain;
    const r = unwrapResponse(channel, chain, h(s.get_eid_rsp_wrapped), 0x9000);
    expect(r.ok && x(r.data)).toBe(lower(V.plain.get_eid_rsp));
    for (const c of CASES) {
      const w = wrapBytes(channel, chain, h(V.plain[c]));
      expect(x(w.bytes), c).toBe(lower(s[c]));
      chain = w.chain;
    }
    expect(chain.counter).toBe(1 + CASES.length);
  });

  it.each(SESSIONS)('%s: card direction (unwrapped commands, wrapped response)', (_l, s) => {
    const { channel } = vectorChannel(s);
    let { chain } = vectorChannel(s);
    const eid = unwrapBytes(channel, chain, h(s.get_eid_cmd));
    expect(x(eid.bytes)).toBe(lower(V.plain.get_eid_cmd));
    chain = eid.chain;
    // level 03 has no R-MAC: the vector's "wrapped" response is the plain one
    expect(x(wrapResponse(channel, chain, h(V.plain.get_eid_rsp), 0x9000))).toBe(lower(s.get_eid_rsp_wrapped));
    for (const c of CASES) {
      const u = unwrapBytes(channel, chain, h(s[c]));
      expect(x(u.bytes), c).toBe(lower(V.plain[c]));
      chain = u.chain;
    }
  });
});

describe('secure messaging round trips', () => {
  const commands = [
    ['case 1', '80F22002'],
    ['case 2', '80CA006600'],
    ['case 2, Le 10', '80CA006610'],
    ['case 3, 16 bytes (full block padding)', '80E20000' + '10' + '00112233445566778899AABBCCDDEEFF'],
    ['case 4, 1 byte', '80E2800001AA00'],
    ['case 3 on logical channel 2, chaining bit', '92E2000003010203'],
    ['case 4 extended, 255 bytes', '80E20000' + '0000FF' + 'AB'.repeat(255) + '0000'],
    ['case 2 extended', '80CA0066000100'],
  ] as const;
  const responses = [
    ['data + 9000', '0102030405', 0x9000],
    ['16 bytes + 9000', 'AA'.repeat(16), 0x9000],
    ['SW only 9000', '', 0x9000],
    ['warning 6310 with data', 'CAFE', 0x6310],
  ] as const;

  for (const level of [0x01, 0x03, 0x11, 0x13, 0x33]) {
    for (const keyLength of [16, 24, 32]) {
      it(`level ${level.toString(16).padStart(2, '0')}, AES-${keyLength * 8}: unwrapCommand gives back every wrapped command, unwrapResponse every wrapped response`, () => {
        const { channel, host, card } = pair(level, keyLength);
        for (const [name, cmd] of commands) {
          for (const [rname, data, sw] of responses) {
            const w = wrapBytes(channel, host.chain, h(cmd));
            host.chain = w.chain;
            expect(w.bytes[0] & 0x04, name).toBe(0x04);
            const u = unwrapBytes(channel, card.chain, w.bytes);
            card.chain = u.chain;
            expect(x(u.bytes), name).toBe(lower(cmd));
            const protectedData = wrapResponse(channel, card.chain, h(data), sw);
            if (level & 0x10) expect(protectedData.length, rname).toBeGreaterThan(h(data).length);
            const r = unwrapResponse(channel, host.chain, protectedData, sw);
            expect(r.ok && x(r.data), `${name} / ${rname}`).toBe(lower(data));
          }
        }
        expect(host.chain.counter).toBe(card.chain.counter);
      });
    }
  }

  it('level 00 leaves commands and responses as they are, and the chain where it was', () => {
    const { channel, host } = pair(0x00);
    const w = wrapBytes(channel, host.chain, h('80E2000003010203'));
    expect(x(w.bytes)).toBe('80e2000003010203');
    expect(w.chain).toBe(host.chain);
    expect(x(wrapResponse(channel, host.chain, h('0102'), 0x9000))).toBe('0102');
  });

  it('S16 mode: 16-byte challenges, cryptograms and MACs', () => {
    const keys = { enc: new Uint8Array(nodeRandomBytes(16)), mac: new Uint8Array(nodeRandomBytes(16)) };
    const hostChallenge = new Uint8Array(nodeRandomBytes(16));
    const cardChallenge = pseudoRandomCardChallenge(keys.enc, 7, ISD_R_AID, 16);
    expect(cardChallenge.length).toBe(16);
    const sessionKeys = deriveSessionKeys(keys, hostChallenge, cardChallenge);
    expect(computeCardCryptogram(sessionKeys.sMac, hostChallenge, cardChallenge).length).toBe(16);
    expect(computeHostCryptogram(sessionKeys.sMac, hostChallenge, cardChallenge).length).toBe(16);
    const { channel, host, card } = pair(0x33, 16, 16);
    const wrapped = wrapBytes(channel, host.chain, h('80E2000003010203'));
    expect(wrapped.bytes[4]).toBe(16 + 16); // one encrypted block + a 16-byte C-MAC
    expect(x(unwrapBytes(channel, card.chain, wrapped.bytes).bytes)).toBe('80e2000003010203');
    const rsp = wrapResponse(channel, wrapped.chain, h('0102'), 0x9000);
    expect(rsp.length).toBe(16 + 16);
    const r = unwrapResponse(channel, wrapped.chain, rsp, 0x9000);
    expect(r.ok && x(r.data)).toBe('0102');
  });

  it('error status words are sent alone, without data or R-MAC (Amd D 6.2.5), and pass the host unchecked', () => {
    const { channel, host } = pair(0x33);
    expect(wrapResponse(channel, host.chain, h('0102'), 0x6a88).length).toBe(0);
    const r = unwrapResponse(channel, host.chain, new Uint8Array(0), 0x6a88);
    expect(r.ok && r.data.length).toBe(0);
  });

  it('a command that no longer fits its Lc once wrapped is refused before the chain moves', () => {
    const { channel, host } = pair(0x33);
    const before = { chaining: host.chain.chaining.slice(), counter: host.chain.counter };
    expect(() => wrapBytes(channel, host.chain, h('80E20000F0' + '00'.repeat(240)))).toThrow(FormatError); // 256 + 8 bytes do not fit short Lc
    expect(x(host.chain.chaining)).toBe(x(before.chaining));
    expect(host.chain.counter).toBe(before.counter);
  });
});

describe('secure messaging refuses forged and replayed messages', () => {
  const s = LEVEL_33;

  it('a tampered C-MAC, a tampered ciphertext byte and a lost C-MAC fail as c-mac', () => {
    const { channel, chain } = vectorChannel(s);
    for (const flip of [(b: Uint8Array) => (b[b.length - 2] ^= 0x01), (b: Uint8Array) => (b[5] ^= 0x01)]) {
      const cmd = h(s.get_eid_cmd);
      flip(cmd);
      expect(() => unwrapBytes(channel, chain, cmd)).toThrow('c-mac');
    }
    expect(() => unwrapBytes(channel, chain, h('84CA00000400000000'))).toThrow('c-mac'); // 4 data bytes: no room for the C-MAC
  });

  it('a replayed command fails: the MAC chaining value has moved on', () => {
    const { channel, chain } = vectorChannel(s);
    const first = unwrapBytes(channel, chain, h(s.get_eid_cmd));
    expect(() => unwrapBytes(channel, first.chain, h(s.get_eid_cmd))).toThrow('c-mac');
  });

  it('a skipped command fails: case_2 arriving without case_1', () => {
    const { channel, chain } = vectorChannel(s);
    const first = unwrapBytes(channel, chain, h(s.get_eid_cmd));
    expect(() => unwrapBytes(channel, first.chain, h(s.case_2))).toThrow('c-mac');
  });

  it('a command with a valid C-MAC but no ISO 9797-1 M2 padding under C-DECRYPTION fails as padding', () => {
    const forge = forger(s);
    const { channel, chain } = vectorChannel(s);
    // a 16-byte block of 11s, encrypted with counter 1 but never padded, then a correct C-MAC
    const ciphertext = forge.encrypt(new Uint8Array(16).fill(0x11), 1, false);
    const header = h('84E2000018');
    const mac = aesCmac(forge.keys.sMac, forge.chainingAfterEa, header, ciphertext).subarray(0, 8);
    expect(() => unwrapBytes(channel, chain, concatBytes(header, ciphertext, mac))).toThrow('padding');
  });

  it('an R-ENC response with a valid R-MAC but no M2 padding fails as padding', () => {
    const forge = forger(s);
    const { channel, chain } = vectorChannel(s);
    const wrapped = wrapBytes(channel, chain, h(V.plain.get_eid_cmd));
    // chaining value after the command = its full C-MAC, over the command without MAC and Le
    const chaining = aesCmac(forge.keys.sMac, forge.chainingAfterEa, wrapped.bytes.subarray(0, wrapped.bytes.length - 9));
    expect(x(chaining)).toBe(x(wrapped.chain.chaining));
    const body = forge.encrypt(new Uint8Array(16).fill(0x11), 1, true);
    const rmac = aesCmac(forge.keys.sRmac, chaining, body, h('9000')).subarray(0, 8);
    const r = unwrapResponse(channel, wrapped.chain, concatBytes(body, rmac), 0x9000);
    expect(r.ok ? 'ok' : r.reason).toBe('padding');
  });

  it('a tampered R-MAC, a changed SW, a missing R-MAC and an R-MAC of another command fail as r-mac', () => {
    const { channel, chain } = vectorChannel(s);
    const after = wrapBytes(channel, chain, h(V.plain.get_eid_cmd)).chain;
    const reason = (data: Uint8Array, sw: number, c = after): string => {
      const r = unwrapResponse(channel, c, data, sw);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(h(s.get_eid_rsp_wrapped), 0x9000)).toBe('ok');
    const tampered = h(s.get_eid_rsp_wrapped);
    tampered[tampered.length - 1] ^= 0x01; // last R-MAC byte
    expect(reason(tampered, 0x9000)).toBe('r-mac');
    expect(reason(h(s.get_eid_rsp_wrapped), 0x6310)).toBe('r-mac'); // the R-MAC covers the SW
    expect(reason(h('0102'), 0x9000)).toBe('r-mac');
    const next = wrapBytes(channel, after, h(V.plain.case_2)).chain;
    expect(reason(h(s.get_eid_rsp_wrapped), 0x9000, next)).toBe('r-mac');
  });

  it('wrapCommand stops at the last encryption counter value rather than reuse an ICV (counter-exhausted)', () => {
    const { channel } = pair(0x01);
    expectFailure(() => wrapCommand(channel, { chaining: new Uint8Array(16), counter: 0xffffffff }, { cla: 0x80, ins: 0xca, p1: 0, p2: 0 }, new Uint8Array(0), false), 'counter-exhausted');
  });
});

describe('ISO/IEC 9797-1 method 2 padding', () => {
  it('always pads, and strips only 80 00..00', () => {
    expect(x(padM2(h('0102')))).toBe('0102' + '80' + '00'.repeat(13));
    expect(padM2(new Uint8Array(16)).length).toBe(32);
    expect(unpadM2(new Uint8Array(16))).toBeUndefined();
    expect(unpadM2(h('01020380' + '00'.repeat(11) + '01'))).toBeUndefined();
    expect(unpadM2(padM2(new Uint8Array(0)))?.length).toBe(0);
    expect(x(unpadM2(padM2(h('0102'))) as Uint8Array)).toBe('0102');
  });
});

describe('DEK encryption (AES-CBC, zero IV, no padding)', () => {
  it.each([16, 24, 32])('matches node:crypto aes-%i-byte-key cbc with a zero IV, and decrypts back', (len) => {
    const dek = new Uint8Array(nodeRandomBytes(len));
    const data = new Uint8Array(nodeRandomBytes(48));
    const c = createCipheriv(`aes-${len * 8}-cbc`, dek, Buffer.alloc(16));
    c.setAutoPadding(false);
    const oracle = Buffer.concat([c.update(data), c.final()]);
    const enc = dekEncrypt(dek, data);
    expect(x(enc)).toBe(oracle.toString('hex'));
    expect(x(dekDecrypt(dek, enc))).toBe(x(data));
  });

  it('host and card agree through the vector static DEK', () => {
    const keys = keysOf(V.sessions[0]);
    const secret = new Uint8Array(nodeRandomBytes(32));
    expect(x(dekDecrypt(keys.dek, dekEncrypt(keys.dek, secret)))).toBe(x(secret));
  });

  it('rejects data that is not block aligned', () => {
    const dek = new Uint8Array(16);
    expect(() => dekEncrypt(dek, new Uint8Array(15))).toThrow(FormatError);
    expect(() => dekEncrypt(dek, new Uint8Array(0))).toThrow(FormatError);
    expect(() => dekDecrypt(dek, new Uint8Array(17))).toThrow(FormatError);
  });
});
