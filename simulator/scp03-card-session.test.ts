/** @module Tests of the card side of SCP03 (Amd D): the pySim transcripts verified and answered, also through serialize()/restore(), round trips with the host session at every level, and every failure with the status word the card answers and the session closed. */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { FormatError } from '../applet-spec/errors.js';
import { aesCmac } from '../crypto/aes-cmac.js';
import { concatBytes } from '../base/bytes.js';
import { I_PARAMETER, type Scp03StaticKeys } from '../crypto/scp03.js';
import { Scp03HostSession } from '../host/scp03-host-session.js';
import {
  CASES,
  expectFailure,
  forger,
  h,
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
import { Scp03CardSession } from './scp03-card-session.js';

const SW_9000 = h('9000');

/** Card side of a vector session, answering INITIALIZE UPDATE from the KDD, i and counter of the vector response. */
function cardInitialize(s: VectorSession): { session: Scp03CardSession; data: Uint8Array } {
  const keys = keysOf(s);
  const iu = initializeUpdateResponseOf(s);
  return Scp03CardSession.initializeUpdate(decodeCommandApdu(h(s.init_update_cmd)), {
    keys,
    kvn: keys.kvn,
    kdd: iu.keyDiversificationData,
    iParameter: iu.iParameter,
    aid: ISD_R_AID,
    sequenceCounter: iu.sequenceCounter,
  });
}

/** A vector session's card side after its EXTERNAL AUTHENTICATE. */
function cardOpen(s: VectorSession): Scp03CardSession {
  const { session } = cardInitialize(s);
  session.processExternalAuthenticate(decodeCommandApdu(h(s.ext_auth_cmd)));
  return session;
}

/** The library host and this card with an open session, the handshake carried by the spec's commands. */
function openPair(options: { level: number; keyLength?: number; iParameter?: number }) {
  const len = options.keyLength ?? 16;
  const keys: Scp03StaticKeys = { enc: new Uint8Array(nodeRandomBytes(len)), mac: new Uint8Array(nodeRandomBytes(len)), dek: new Uint8Array(nodeRandomBytes(len)) };
  const host = new Scp03HostSession(keys, { sdAid: ISD_R_AID });
  const { session: card, data } = Scp03CardSession.initializeUpdate(initializeUpdate.encode(host.initializeUpdate()), {
    keys,
    kvn: 0x30,
    kdd: new Uint8Array(10).fill(0x11),
    iParameter: options.iParameter ?? I_PARAMETER.pseudoRandomChallenge | I_PARAMETER.rMac | I_PARAMETER.rEncryption,
    aid: ISD_R_AID,
    sequenceCounter: 7,
  });
  host.processInitializeUpdateResponse(initializeUpdate.decodeResponse(data));
  card.processExternalAuthenticate(externalAuthenticate.encode(host.externalAuthenticate(options.level)));
  host.authenticated();
  return { host, card, keys };
}

describe('SCP03 card side verifies the pySim transcripts and produces the same responses', () => {
  it.each(SESSIONS)('%s', (_l, s) => {
    const { session: card, data } = cardInitialize(s);
    expect(x(data)).toBe(lower(s.init_update_rsp));
    card.processExternalAuthenticate(decodeCommandApdu(h(s.ext_auth_cmd)));
    expect(card.isOpen).toBe(true);
    expect(card.securityLevel).toBe(levelOf(s));

    expect(x(card.unwrapCommand(h(s.get_eid_cmd)))).toBe(lower(V.plain.get_eid_cmd));
    // level 03 has no R-MAC: the vector's "wrapped" response is the plain one
    expect(x(card.wrapResponse(concatBytes(h(V.plain.get_eid_rsp), SW_9000)))).toBe(lower(s.get_eid_rsp_wrapped) + '9000');
    for (const c of CASES) expect(x(card.unwrapCommand(h(s[c]))), c).toBe(lower(V.plain[c]));
  });

  it.each(SESSIONS)('%s: also when the state goes through serialize()/restore() between commands', (_l, s) => {
    const through = (card: Scp03CardSession): Scp03CardSession => Scp03CardSession.restore(card.serialize());
    let card = through(cardInitialize(s).session);
    card.processExternalAuthenticate(decodeCommandApdu(h(s.ext_auth_cmd)));
    card = through(card);
    expect(x(card.unwrapCommand(h(s.get_eid_cmd)))).toBe(lower(V.plain.get_eid_cmd));
    card = through(card);
    expect(x(card.wrapResponse(concatBytes(h(V.plain.get_eid_rsp), SW_9000)))).toBe(lower(s.get_eid_rsp_wrapped) + '9000');
    for (const c of CASES) {
      card = through(card);
      expect(x(card.unwrapCommand(h(s[c]))), c).toBe(lower(V.plain[c]));
    }
  });

  it('answers INITIALIZE UPDATE with the response data alone, in the spec layout, for the card OS to add 9000', () => {
    const s = V.sessions[0];
    const { data } = cardInitialize(s);
    expect(data.length).toBe(10 + 3 + 8 + 8 + 3);
    expect(initializeUpdate.decodeResponse(data)).toEqual(initializeUpdateResponseOf(s));
  });
});

describe('SCP03 host session and card session round trips', () => {
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

  it('random card challenge mode (i without b5): no sequence counter in the response', () => {
    const keys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    const host = new Scp03HostSession(keys);
    const { session: card, data } = Scp03CardSession.initializeUpdate(initializeUpdate.encode(host.initializeUpdate()), {
      keys,
      kvn: 0x30,
      kdd: new Uint8Array(10),
      iParameter: I_PARAMETER.rMac,
    });
    expect(data.length).toBe(10 + 3 + 8 + 8);
    const iu = initializeUpdate.decodeResponse(data);
    expect(iu.sequenceCounter).toBeUndefined();
    host.processInitializeUpdateResponse(iu);
    card.processExternalAuthenticate(externalAuthenticate.encode(host.externalAuthenticate(0x11)));
    host.authenticated();
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

describe('SCP03 card side: failures answer their status word and close the session', () => {
  const s = LEVEL_33;

  it('rejects a wrong host cryptogram with 6300 and closes', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[5] ^= 0x80;
    const err = expectFailure(() => card.processExternalAuthenticate(decodeCommandApdu(ea)), 'host-cryptogram');
    expect(err.sw).toBe(0x6300);
    expect(card.isClosed).toBe(true);
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'session-closed');
  });

  it('rejects EXTERNAL AUTHENTICATE with a tampered C-MAC with 6982', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[ea.length - 1] ^= 0x01;
    expect(expectFailure(() => card.processExternalAuthenticate(decodeCommandApdu(ea)), 'c-mac').sw).toBe(0x6982);
  });

  it('rejects EXTERNAL AUTHENTICATE whose security level was changed in transit', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[2] = 0x01; // downgrade 33 -> 01: covered by the C-MAC
    expectFailure(() => card.processExternalAuthenticate(decodeCommandApdu(ea)), 'c-mac');
  });

  it('rejects an invalid security level (e.g. 02: C-DECRYPTION without C-MAC) with 6A86', () => {
    const { session: card } = cardInitialize(s);
    const ea = h(s.ext_auth_cmd);
    ea[2] = 0x02;
    expect(expectFailure(() => card.processExternalAuthenticate(decodeCommandApdu(ea)), 'security-level').sw).toBe(0x6a86);
  });

  it('rejects INITIALIZE UPDATE for a key version it does not hold with 6A88', () => {
    const keys = keysOf(s);
    const cmd = h(s.init_update_cmd);
    cmd[2] = 0x3f;
    const err = expectFailure(
      () => Scp03CardSession.initializeUpdate(decodeCommandApdu(cmd), { keys, kvn: keys.kvn, kdd: new Uint8Array(10), aid: ISD_R_AID, sequenceCounter: 1 }),
      'key-version',
    );
    expect(err.sw).toBe(0x6a88);
  });

  it('rejects INITIALIZE UPDATE with a key identifier (P2) other than 00 with 6A86', () => {
    const keys = keysOf(s);
    const cmd = h(s.init_update_cmd);
    cmd[3] = 0x01;
    const err = expectFailure(
      () => Scp03CardSession.initializeUpdate(decodeCommandApdu(cmd), { keys, kvn: keys.kvn, kdd: new Uint8Array(10), aid: ISD_R_AID, sequenceCounter: 1 }),
      'key-version',
    );
    expect(err.sw).toBe(0x6a86);
  });

  it('refuses to answer INITIALIZE UPDATE in S16 mode, which the spec layout cannot carry', () => {
    const keys = keysOf(s);
    expect(() =>
      Scp03CardSession.initializeUpdate(decodeCommandApdu(h(s.init_update_cmd)), { keys, kvn: keys.kvn, kdd: new Uint8Array(10), iParameter: I_PARAMETER.s16 | I_PARAMETER.rMac }),
    ).toThrow(RangeError);
  });

  it('rejects a command before EXTERNAL AUTHENTICATE with 6985', () => {
    const { session: card } = cardInitialize(s);
    expect(expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'state').sw).toBe(0x6985);
    expect(card.isClosed).toBe(true);
  });

  it('rejects a tampered C-MAC with 6982 and closes', () => {
    const card = cardOpen(s);
    const cmd = h(s.get_eid_cmd);
    cmd[cmd.length - 2] ^= 0x01; // last C-MAC byte (before Le)
    expect(expectFailure(() => card.unwrapCommand(cmd), 'c-mac').sw).toBe(0x6982);
    expect(card.isClosed).toBe(true);
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'session-closed');
    expectFailure(() => card.wrapResponse(SW_9000), 'session-closed');
  });

  it('rejects tampered encrypted data (the C-MAC covers the ciphertext)', () => {
    const card = cardOpen(s);
    const cmd = h(s.get_eid_cmd);
    cmd[5] ^= 0x01;
    expectFailure(() => card.unwrapCommand(cmd), 'c-mac');
  });

  it('rejects a replayed command: the MAC chaining value has moved on', () => {
    const card = cardOpen(s);
    card.unwrapCommand(h(s.get_eid_cmd));
    expectFailure(() => card.unwrapCommand(h(s.get_eid_cmd)), 'c-mac');
  });

  it('rejects a skipped command: case_2 arriving without case_1', () => {
    const card = cardOpen(s);
    card.unwrapCommand(h(s.get_eid_cmd));
    expectFailure(() => card.unwrapCommand(h(s.case_2)), 'c-mac');
  });

  it('rejects a command without secure messaging while C-MAC is required with 6982', () => {
    const card = cardOpen(s);
    expect(expectFailure(() => card.unwrapCommand(h(V.plain.get_eid_cmd)), 'missing-c-mac').sw).toBe(0x6982);
    expect(card.isClosed).toBe(true);
  });

  it('rejects a protected command whose CLA lost its secure messaging bit', () => {
    const { host, card } = openPair({ level: 0x01 });
    const wrapped = host.wrap(h('80CA006600'));
    wrapped[0] &= ~0x04;
    expectFailure(() => card.unwrapCommand(wrapped), 'missing-c-mac');
  });

  it('rejects secure messaging in a session at level 00 with 6982', () => {
    const { host, card } = openPair({ level: 0x00 });
    expect(x(host.wrap(h('80CA006600')))).toBe('80ca006600');
    expect(expectFailure(() => card.unwrapCommand(h('84CA006600')), 'security-level').sw).toBe(0x6982);
  });

  it('rejects a command with a valid C-MAC but no ISO 9797-1 M2 padding under C-DECRYPTION with 6982', () => {
    const forge = forger(s);
    const card = cardOpen(s);
    // a 16-byte block of 11s, encrypted with counter 1 but never padded, then a correct C-MAC
    const ciphertext = forge.encrypt(new Uint8Array(16).fill(0x11), 1, false);
    const header = h('84E2000018');
    const mac = aesCmac(forge.keys.sMac, forge.chainingAfterEa, header, ciphertext).subarray(0, 8);
    expect(expectFailure(() => card.unwrapCommand(concatBytes(header, ciphertext, mac)), 'padding').sw).toBe(0x6982);
    expect(card.isClosed).toBe(true);
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

  it('a command APDU that does not decode (Lc 5, 3 data bytes) closes the session with a FormatError', () => {
    const card = cardOpen(s);
    expect(() => card.unwrapCommand(h('84E2000005010203'))).toThrow(FormatError);
    expect(card.isClosed).toBe(true);
  });
});
