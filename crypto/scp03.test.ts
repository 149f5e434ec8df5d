/** @module Tests of GP SCP03 (Amd D): KDF, session keys, host and card sessions against the pySim transcripts of /work/shared/vectors/scp03.json, round trips at every security level, DEK encryption, and failures that must close the session. */
import { createCipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../base/format-error.js';
import { loadVectors } from '../test/vectors.js';
import { aesCmac } from './aes-cmac.js';
import { bytesToHex, concatBytes, hexToBytes } from './bytes.js';
import {
  I_PARAMETER,
  SecureChannelError,
  computeCardCryptogram,
  decodeInitializeUpdateResponse,
  dekDecrypt,
  dekEncrypt,
  deriveSessionKeys,
  encodeInitializeUpdateResponse,
  padM2,
  pseudoRandomCardChallenge,
  scp03Kdf,
  unpadM2,
} from './scp03.js';
import type { SMode, Scp03StaticKeys } from './scp03.js';
import { Scp03CardSession, Scp03HostSession } from './scp03-session.js';

interface Keyset {
  kvn: string;
  enc: string;
  mac: string;
  dek: string;
}
interface Session {
  keyset: string;
  security_level: string;
  init_update_cmd: string;
  init_update_rsp: string;
  ext_auth_cmd: string;
  get_eid_cmd: string;
  get_eid_rsp_wrapped: string;
  case_1: string;
  case_2: string;
  case_3: string;
  case_4: string;
}
const V = loadVectors('scp03') as { plain: Record<string, string>; keysets: Record<string, Keyset>; sessions: Session[] };

const h = (s: string): Uint8Array => hexToBytes(s.toLowerCase());
const x = (b: Uint8Array): string => bytesToHex(b);
const lower = (s: string): string => s.toLowerCase();
const SW_9000 = h('9000');
const CASES = ['case_1', 'case_2', 'case_3', 'case_4'] as const;

/**
 * AID of the eUICC ISD-R (GSMA SGP.22 2.2.3), the security domain the pySim transcripts talk to (they
 * send GET EID, an ISD-R command); it is the context of their pseudo-random card challenges.
 */
const ISD_R_AID = h('A0000005591010FFFFFFFF8900000100');

function keysOf(s: Session): Scp03StaticKeys & { kvn: number } {
  const k = V.keysets[s.keyset];
  return { enc: h(k.enc), mac: h(k.mac), dek: h(k.dek), kvn: parseInt(k.kvn, 16) };
}
const label = (s: Session): string => `${s.keyset} level ${s.security_level}`;
const hostChallengeOf = (s: Session): Uint8Array => h(s.init_update_cmd).subarray(5, 13);

/** Host side driven through the handshake of a vector session. */
function openHost(s: Session): Scp03HostSession {
  const keys = keysOf(s);
  const host = new Scp03HostSession(keys, { kvn: keys.kvn });
  host.initializeUpdate(hostChallengeOf(s));
  host.processInitializeUpdateResponse(concatBytes(h(s.init_update_rsp), SW_9000));
  host.externalAuthenticate(parseInt(s.security_level, 16));
  host.processExternalAuthenticateResponse(SW_9000);
  return host;
}

/** Card side of a vector session, answering INITIALIZE UPDATE from the KDD, i and counter of the vector response. */
function cardInitialize(s: Session): { session: Scp03CardSession; response: Uint8Array } {
  const keys = keysOf(s);
  const iu = decodeInitializeUpdateResponse(h(s.init_update_rsp));
  return Scp03CardSession.initializeUpdate(h(s.init_update_cmd), {
    keys,
    kvn: keys.kvn,
    kdd: iu.kdd,
    iParameter: iu.iParameter,
    aid: ISD_R_AID,
    sequenceCounter: iu.sequenceCounter,
  });
}

function expectFailure(fn: () => unknown, reason: string): SecureChannelError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SecureChannelError);
    expect((e as SecureChannelError).reason).toBe(reason);
    return e as SecureChannelError;
  }
  throw new Error(`expected SecureChannelError ${reason}, nothing thrown`);
}

/** A host and a card with an open session, for round trips without vectors. */
function openPair(options: { level: number; keyLength?: number; sMode?: SMode; iParameter?: number } = { level: 0x33 }) {
  const len = options.keyLength ?? 16;
  const keys: Scp03StaticKeys = { enc: new Uint8Array(nodeRandomBytes(len)), mac: new Uint8Array(nodeRandomBytes(len)), dek: new Uint8Array(nodeRandomBytes(len)) };
  const sMode = options.sMode ?? 8;
  const iParameter = options.iParameter ?? (I_PARAMETER.pseudoRandomChallenge | I_PARAMETER.rMac | I_PARAMETER.rEncryption | (sMode === 16 ? I_PARAMETER.s16 : 0));
  const host = new Scp03HostSession(keys, { sMode, sdAid: ISD_R_AID });
  const { session: card, response } = Scp03CardSession.initializeUpdate(host.initializeUpdate(), {
    keys,
    kvn: 0x30,
    kdd: new Uint8Array(10).fill(0x11),
    iParameter,
    aid: ISD_R_AID,
    sequenceCounter: 7,
  });
  host.processInitializeUpdateResponse(response);
  host.processExternalAuthenticateResponse(card.processExternalAuthenticate(host.externalAuthenticate(options.level)));
  return { host, card, keys };
}

/** Session keys and post-EXTERNAL AUTHENTICATE chaining value of a vector session, to forge messages an attacker with a broken host could send. */
function forger(s: Session) {
  const iu = decodeInitializeUpdateResponse(h(s.init_update_rsp));
  const keys = deriveSessionKeys(keysOf(s), hostChallengeOf(s), iu.cardChallenge);
  const ea = h(s.ext_auth_cmd);
  const chainingAfterEa = aesCmac(keys.sMac, new Uint8Array(16), ea.subarray(0, ea.length - 8));
  expect(x(chainingAfterEa.subarray(0, 8))).toBe(x(ea.subarray(ea.length - 8)));
  const aes = (mode: string, iv: Uint8Array | null, data: Uint8Array): Uint8Array => {
    const c = createCipheriv(`aes-${keys.sEnc.length * 8}-${mode}`, keys.sEnc, iv);
    c.setAutoPadding(false);
    return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
  };
  /** AES-CBC under S-ENC with the ICV of Amd D 6.2.6 (command) or 6.2.7 (response), no padding added. */
  const encrypt = (data: Uint8Array, counter: number, response: boolean): Uint8Array => {
    const block = new Uint8Array(16);
    block[15] = counter;
    if (response) block[0] = 0x80;
    return aes('cbc', aes('ecb', null, block), data);
  };
  return { keys, chainingAfterEa, encrypt };
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

  it.each(V.sessions.map((s) => [label(s), s] as const))('%s: card cryptogram of the vector verifies with the derived S-MAC', (_l, s) => {
    const iu = decodeInitializeUpdateResponse(h(s.init_update_rsp));
    const keys = deriveSessionKeys(keysOf(s), hostChallengeOf(s), iu.cardChallenge);
    expect(keys.sEnc.length).toBe(keysOf(s).enc.length);
    expect(keys.sRmac.length).toBe(keysOf(s).mac.length);
    expect(x(computeCardCryptogram(keys.sMac, hostChallengeOf(s), iu.cardChallenge))).toBe(x(iu.cardCryptogram));
  });

  it.each(V.sessions.map((s) => [label(s), s] as const))(
    '%s: pseudo-random card challenge = KDF(Key-ENC, 02, sequence counter || ISD-R AID) (Amd D 6.2.2.1)',
    (_l, s) => {
      const iu = decodeInitializeUpdateResponse(h(s.init_update_rsp));
      expect(iu.iParameter & I_PARAMETER.pseudoRandomChallenge).toBeTruthy();
      expect(x(pseudoRandomCardChallenge(keysOf(s).enc, iu.sequenceCounter as number, ISD_R_AID, 8))).toBe(x(iu.cardChallenge));
    },
  );
});

describe('INITIALIZE UPDATE response layout (Amd D 7.1.1.6)', () => {
  it.each(V.sessions.map((s) => [label(s), s] as const))('%s: decodes kdd, key info, challenge, cryptogram, counter and re-encodes byte-exactly', (_l, s) => {
    const iu = decodeInitializeUpdateResponse(h(s.init_update_rsp));
    expect(iu.kdd.length).toBe(10);
    expect(iu.kvn).toBe(keysOf(s).kvn);
    expect(iu.scpId).toBe(3);
    expect(iu.cardChallenge.length).toBe(8);
    expect(iu.cardCryptogram.length).toBe(8);
    expect(iu.sequenceCounter).toBe(parseInt(s.init_update_rsp.slice(-6), 16));
    expect(x(encodeInitializeUpdateResponse(iu))).toBe(lower(s.init_update_rsp));
  });

  it('rejects a response of the wrong length or another SCP', () => {
    const good = h(V.sessions[0].init_update_rsp);
    expect(() => decodeInitializeUpdateResponse(good.subarray(0, 31))).toThrow(FormatError);
    const scp02 = good.slice();
    scp02[11] = 0x02;
    expect(() => decodeInitializeUpdateResponse(scp02)).toThrow(FormatError);
  });
});

describe('SCP03 host side reproduces the pySim transcripts byte-exactly', () => {
  it.each(V.sessions.map((s) => [label(s), s] as const))('%s', (_l, s) => {
    const keys = keysOf(s);
    const host = new Scp03HostSession(keys, { kvn: keys.kvn, sdAid: ISD_R_AID });
    expect(x(host.initializeUpdate(hostChallengeOf(s)))).toBe(lower(s.init_update_cmd));
    const iu = host.processInitializeUpdateResponse(concatBytes(h(s.init_update_rsp), SW_9000));
    expect(iu.kvn).toBe(keys.kvn);
    expect(host.isOpen).toBe(false);
    expect(x(host.externalAuthenticate(parseInt(s.security_level, 16)))).toBe(lower(s.ext_auth_cmd));
    host.processExternalAuthenticateResponse(SW_9000);
    expect(host.isOpen).toBe(true);
    expect(host.securityLevel).toBe(parseInt(s.security_level, 16));

    expect(x(host.wrap(h(V.plain.get_eid_cmd)))).toBe(lower(s.get_eid_cmd));
    expect(x(host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), SW_9000)))).toBe(lower(V.plain.get_eid_rsp) + '9000');
    for (const c of CASES) expect(x(host.wrap(h(V.plain[c]))), c).toBe(lower(s[c]));
  });
});

describe('SCP03 card side verifies the same transcripts and produces the same responses', () => {
  it.each(V.sessions.map((s) => [label(s), s] as const))('%s', (_l, s) => {
    const { session: card, response } = cardInitialize(s);
    expect(x(response)).toBe(lower(s.init_update_rsp) + '9000');
    expect(x(card.processExternalAuthenticate(h(s.ext_auth_cmd)))).toBe('9000');
    expect(card.securityLevel).toBe(parseInt(s.security_level, 16));

    expect(x(card.unwrapCommand(h(s.get_eid_cmd)))).toBe(lower(V.plain.get_eid_cmd));
    // level 03 has no R-MAC: the vector's "wrapped" response is the plain one
    expect(x(card.wrapResponse(concatBytes(h(V.plain.get_eid_rsp), SW_9000)))).toBe(lower(s.get_eid_rsp_wrapped) + '9000');
    for (const c of CASES) expect(x(card.unwrapCommand(h(s[c]))), c).toBe(lower(V.plain[c]));
  });

  it.each(V.sessions.map((s) => [label(s), s] as const))('%s: also when the state goes through serialize()/restore() between commands', (_l, s) => {
    const through = (card: Scp03CardSession): Scp03CardSession => Scp03CardSession.restore(card.serialize());
    let card = through(cardInitialize(s).session);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    card = through(card);
    expect(x(card.unwrapCommand(h(s.get_eid_cmd)))).toBe(lower(V.plain.get_eid_cmd));
    card = through(card);
    expect(x(card.wrapResponse(concatBytes(h(V.plain.get_eid_rsp), SW_9000)))).toBe(lower(s.get_eid_rsp_wrapped) + '9000');
    for (const c of CASES) {
      card = through(card);
      expect(x(card.unwrapCommand(h(s[c]))), c).toBe(lower(V.plain[c]));
    }
  });
});

describe('SCP03 host and card round trips', () => {
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
    ['data + 9000', '0102030405' + '9000'],
    ['16 bytes + 9000', 'AA'.repeat(16) + '9000'],
    ['SW only 9000', '9000'],
    ['warning 6310 with data', 'CAFE' + '6310'],
  ] as const;

  for (const level of [0x00, 0x01, 0x03, 0x11, 0x13, 0x33]) {
    for (const keyLength of [16, 24, 32]) {
      it(`level ${level.toString(16).padStart(2, '0')}, AES-${keyLength * 8}: card unwraps every wrapped command to the original, host unwraps every wrapped response`, () => {
        const { host, card } = openPair({ level, keyLength });
        for (const [name, cmd] of commands) {
          for (const [rname, rsp] of responses) {
            const wrapped = host.wrap(h(cmd));
            if (level & 0x01) expect(wrapped[0] & 0x04, name).toBe(0x04);
            expect(x(card.unwrapCommand(wrapped)), name).toBe(lower(cmd));
            const protectedRsp = card.wrapResponse(h(rsp));
            if (level & 0x10) expect(protectedRsp.length, rname).toBeGreaterThan(h(rsp).length);
            expect(x(host.unwrap(protectedRsp)), `${name} / ${rname}`).toBe(lower(rsp));
          }
        }
      });
    }
  }

  it('S16 mode: 16-byte challenges, cryptograms and MACs', () => {
    const { host, card } = openPair({ level: 0x33, sMode: 16 });
    const wrapped = host.wrap(h('80E2000003010203'));
    expect(wrapped[4]).toBe(16 + 16); // one encrypted block + a 16-byte C-MAC
    expect(x(card.unwrapCommand(wrapped))).toBe('80e2000003010203');
    const rsp = card.wrapResponse(h('01029000'));
    expect(rsp.length).toBe(16 + 16 + 2);
    expect(x(host.unwrap(rsp))).toBe('01029000');
  });

  it('random card challenge mode (i without b5): no sequence counter in the response', () => {
    const keys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    const host = new Scp03HostSession(keys);
    const { session: card, response } = Scp03CardSession.initializeUpdate(host.initializeUpdate(), {
      keys,
      kvn: 0x30,
      kdd: new Uint8Array(10),
      iParameter: I_PARAMETER.rMac,
    });
    expect(response.length).toBe(10 + 3 + 8 + 8 + 2);
    expect(host.processInitializeUpdateResponse(response).sequenceCounter).toBeUndefined();
    host.processExternalAuthenticateResponse(card.processExternalAuthenticate(host.externalAuthenticate(0x11)));
    expect(x(card.unwrapCommand(host.wrap(h('80CA006600'))))).toBe('80ca006600');
  });

  it('error status words are returned alone, without data or R-MAC (Amd D 6.2.5)', () => {
    const { host, card } = openPair({ level: 0x33 });
    card.unwrapCommand(host.wrap(h('80CA006600')));
    const rsp = card.wrapResponse(h('01026A88'));
    expect(x(rsp)).toBe('6a88');
    expect(x(host.unwrap(rsp))).toBe('6a88');
    // the session stays usable
    expect(x(card.unwrapCommand(host.wrap(h('80CA006600'))))).toBe('80ca006600');
  });

  it('a wrapped command that cannot be encoded leaves both sides in step', () => {
    const { host, card } = openPair({ level: 0x33 });
    expect(() => host.wrap(h('80E20000050102'))).toThrow(FormatError); // Lc 5 with 2 data bytes: malformed
    expect(() => host.wrap(h('80E20000F0' + '00'.repeat(240)))).toThrow(FormatError); // 256 + 8 bytes do not fit short Lc
    expect(host.isOpen).toBe(true);
    expect(x(card.unwrapCommand(host.wrap(h('80E2000001AA'))))).toBe('80e2000001aa');
  });
});

describe('SCP03 failures close the session', () => {
  const s = V.sessions.find((v) => v.security_level === '33') as Session;

  it('host rejects a wrong card cryptogram (constant-time compare) and closes', () => {
    const keys = keysOf(s);
    const host = new Scp03HostSession(keys, { kvn: keys.kvn });
    host.initializeUpdate(hostChallengeOf(s));
    const rsp = concatBytes(h(s.init_update_rsp), SW_9000);
    rsp[21] ^= 0x01; // first card cryptogram byte
    const err = expectFailure(() => host.processInitializeUpdateResponse(rsp), 'card-cryptogram');
    expect(err.message).not.toContain(V.keysets[s.keyset].enc);
    expect(host.isClosed).toBe(true);
    expectFailure(() => host.externalAuthenticate(0x33), 'session-closed');
  });

  it('host rejects a card answering with other keys', () => {
    const keys = { ...keysOf(s), mac: new Uint8Array(16) };
    const host = new Scp03HostSession(keys);
    host.initializeUpdate(hostChallengeOf(s));
    expectFailure(() => host.processInitializeUpdateResponse(concatBytes(h(s.init_update_rsp), SW_9000)), 'card-cryptogram');
  });

  it('host rejects a pseudo-random card challenge that does not derive from the counter and AID', () => {
    const keys = keysOf(s);
    const host = new Scp03HostSession(keys, { sdAid: h('A000000151000000') });
    host.initializeUpdate(hostChallengeOf(s));
    expectFailure(() => host.processInitializeUpdateResponse(concatBytes(h(s.init_update_rsp), SW_9000)), 'card-challenge');
  });

  it('host rejects INITIALIZE UPDATE and EXTERNAL AUTHENTICATE error status words', () => {
    const keys = keysOf(s);
    const host = new Scp03HostSession(keys);
    host.initializeUpdate(hostChallengeOf(s));
    expectFailure(() => host.processInitializeUpdateResponse(h('6A88')), 'status-word');
    const host2 = new Scp03HostSession(keys);
    host2.initializeUpdate(hostChallengeOf(s));
    host2.processInitializeUpdateResponse(concatBytes(h(s.init_update_rsp), SW_9000));
    host2.externalAuthenticate(0x33);
    expectFailure(() => host2.processExternalAuthenticateResponse(h('6300')), 'status-word');
    expect(host2.isClosed).toBe(true);
  });

  it('host refuses to wrap before the session is open', () => {
    const host = new Scp03HostSession(keysOf(s));
    expectFailure(() => host.wrap(h('80CA006600')), 'state');
    expect(host.isClosed).toBe(true);
  });

  it('host refuses a level with R-MAC when the card does not support it (i b6 = 0)', () => {
    const keys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    const host = new Scp03HostSession(keys);
    const { response } = Scp03CardSession.initializeUpdate(host.initializeUpdate(), { keys, kvn: 1, kdd: new Uint8Array(10), iParameter: 0 });
    host.processInitializeUpdateResponse(response);
    expectFailure(() => host.externalAuthenticate(0x11), 'security-level');
  });

  it('card rejects a wrong host cryptogram with 6300 and closes', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[5] ^= 0x80;
    const err = expectFailure(() => card.processExternalAuthenticate(ea), 'host-cryptogram');
    expect(err.sw).toBe(0x6300);
    expect(card.isClosed).toBe(true);
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'session-closed');
  });

  it('card rejects EXTERNAL AUTHENTICATE with a tampered C-MAC', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[ea.length - 1] ^= 0x01;
    expect(expectFailure(() => card.processExternalAuthenticate(ea), 'c-mac').sw).toBe(0x6982);
  });

  it('card rejects EXTERNAL AUTHENTICATE whose security level was changed in transit', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[2] = 0x01; // downgrade 33 -> 01: covered by the C-MAC
    expectFailure(() => card.processExternalAuthenticate(ea), 'c-mac');
  });

  it('card rejects an invalid security level (e.g. 02: C-DECRYPTION without C-MAC)', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[2] = 0x02;
    expect(expectFailure(() => card.processExternalAuthenticate(ea), 'security-level').sw).toBe(0x6a86);
  });

  it('card rejects INITIALIZE UPDATE for a key version it does not hold with 6A88', () => {
    const keys = keysOf(s);
    const cmd = h(s.init_update_cmd);
    cmd[2] = 0x3f;
    const err = expectFailure(
      () => Scp03CardSession.initializeUpdate(cmd, { keys, kvn: keys.kvn, kdd: new Uint8Array(10), aid: ISD_R_AID, sequenceCounter: 1 }),
      'key-version',
    );
    expect(err.sw).toBe(0x6a88);
  });

  it('card rejects a command before EXTERNAL AUTHENTICATE', () => {
    const { session: card } = cardInitialize(s);
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'state');
    expect(card.isClosed).toBe(true);
  });

  it('card rejects a tampered C-MAC with 6982 and closes', () => {
    const { session: card } = cardInitialize(s);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    const cmd = h(s.get_eid_cmd);
    cmd[cmd.length - 2] ^= 0x01; // last C-MAC byte (before Le)
    expect(expectFailure(() => card.unwrapCommand(cmd), 'c-mac').sw).toBe(0x6982);
    expect(card.isClosed).toBe(true);
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'session-closed');
    expectFailure(() => card.wrapResponse(SW_9000), 'session-closed');
  });

  it('card rejects tampered encrypted data (the C-MAC covers the ciphertext)', () => {
    const { session: card } = cardInitialize(s);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    const cmd = h(s.get_eid_cmd);
    cmd[5] ^= 0x01;
    expectFailure(() => card.unwrapCommand(cmd), 'c-mac');
  });

  it('card rejects a replayed command: the MAC chaining value has moved on', () => {
    const { session: card } = cardInitialize(s);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    card.unwrapCommand(h(s.get_eid_cmd));
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'c-mac');
  });

  it('card rejects a skipped command: case_2 arriving without case_1', () => {
    const { session: card } = cardInitialize(s);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    card.unwrapCommand(h(s.get_eid_cmd));
    expectFailure(() => card.unwrapCommand(h(s.case_2)), 'c-mac');
  });

  it('card rejects a command without secure messaging while C-MAC is required', () => {
    const { session: card } = cardInitialize(s);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    expect(expectFailure(() => card.unwrapCommand(h(V.plain.get_eid_cmd)), 'missing-c-mac').sw).toBe(0x6982);
    expect(card.isClosed).toBe(true);
  });

  it('card rejects a protected command whose CLA lost its secure messaging bit', () => {
    const { host, card } = openPair({ level: 0x01 });
    const wrapped = host.wrap(h('80CA006600'));
    wrapped[0] &= ~0x04;
    expectFailure(() => card.unwrapCommand(wrapped), 'missing-c-mac');
  });

  it('card rejects a command with a valid C-MAC but no ISO 9797-1 M2 padding under C-DECRYPTION', () => {
    const forge = forger(s);
    const { session: card } = cardInitialize(s);
    card.processExternalAuthenticate(h(s.ext_auth_cmd));
    // a 16-byte block of 11s, encrypted with counter 1 but never padded, then a correct C-MAC
    const ciphertext = forge.encrypt(new Uint8Array(16).fill(0x11), 1, false);
    const header = h('84E2000018');
    const mac = aesCmac(forge.keys.sMac, forge.chainingAfterEa, header, ciphertext).subarray(0, 8);
    expect(expectFailure(() => card.unwrapCommand(concatBytes(header, ciphertext, mac)), 'padding').sw).toBe(0x6982);
    expect(card.isClosed).toBe(true);
  });

  it('host rejects an R-ENC response with a valid R-MAC but no M2 padding', () => {
    const forge = forger(s);
    const host = openHost(s);
    const wrapped = host.wrap(h(V.plain.get_eid_cmd));
    // chaining value after the command = its full C-MAC, over the command without MAC and Le
    const chaining = aesCmac(forge.keys.sMac, forge.chainingAfterEa, wrapped.subarray(0, wrapped.length - 9));
    expect(x(chaining.subarray(0, 8))).toBe(x(wrapped.subarray(wrapped.length - 9, wrapped.length - 1)));
    const body = forge.encrypt(new Uint8Array(16).fill(0x11), 1, true);
    const rmac = aesCmac(forge.keys.sRmac, chaining, body, SW_9000).subarray(0, 8);
    expectFailure(() => host.unwrap(concatBytes(body, rmac, SW_9000)), 'padding');
    expect(host.isClosed).toBe(true);
  });

  it('M2 padding helpers: always pad, strip only 80 00..00', () => {
    expect(x(padM2(h('0102')))).toBe('0102' + '80' + '00'.repeat(13));
    expect(padM2(new Uint8Array(16)).length).toBe(32);
    expect(unpadM2(new Uint8Array(16))).toBeUndefined();
    expect(unpadM2(h('01020380' + '00'.repeat(11) + '01'))).toBeUndefined();
    expect(unpadM2(padM2(new Uint8Array(0)))?.length).toBe(0);
    expect(x(unpadM2(padM2(h('0102'))) as Uint8Array)).toBe('0102');
  });

  it('host rejects a tampered R-MAC and closes', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    const rsp = concatBytes(h(s.get_eid_rsp_wrapped), SW_9000);
    rsp[rsp.length - 3] ^= 0x01; // last R-MAC byte
    expectFailure(() => host.unwrap(rsp), 'r-mac');
    expect(host.isClosed).toBe(true);
    expectFailure(() => host.wrap(h(V.plain.case_1)), 'session-closed');
  });

  it('host rejects a response whose SW was changed (the R-MAC covers the SW)', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    expectFailure(() => host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), h('6310'))), 'r-mac');
  });

  it('host rejects a response without R-MAC when R-MAC is required', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    expectFailure(() => host.unwrap(h('01029000')), 'r-mac');
  });

  it('host rejects an R-MAC meant for another command (response replay)', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), SW_9000));
    host.wrap(h(V.plain.case_2));
    expectFailure(() => host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), SW_9000)), 'r-mac');
  });

  it('close() wipes the session: serialize() then holds no key material', () => {
    const { card } = openPair({ level: 0x33 });
    expect(card.serialize().length).toBeGreaterThan(9 + 16 * 3);
    card.close();
    const state = card.serialize();
    expect(state.length).toBe(9);
    const restored = Scp03CardSession.restore(state);
    expect(restored.isClosed).toBe(true);
    expectFailure(() => restored.unwrapCommand(h('84CA00660800000000000000000000')), 'session-closed');
  });

  it('restore() rejects state bytes it did not write', () => {
    const { card } = openPair({ level: 0x33 });
    const state = card.serialize();
    expect(() => Scp03CardSession.restore(state.subarray(0, state.length - 1))).toThrow(FormatError);
    const other = state.slice();
    other[0] = 0x7f;
    expect(() => Scp03CardSession.restore(other)).toThrow(FormatError);
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
