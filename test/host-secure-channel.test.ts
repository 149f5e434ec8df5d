/** @module The host's SCP03 layer: the host session against the pySim transcripts through the spec's INITIALIZE UPDATE and EXTERNAL AUTHENTICATE, its refusals, and openSecureChannel against the simulator (personalization through it, plaintext and wire traces, wrong keys, refused handshakes). */
import { describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { DGIS, storeDataEncryptionBits } from '../applet-spec/dgis.js';
import { FormatError } from '../applet-spec/errors.js';
import { aesCmac } from '../crypto/aes-cmac.js';
import { concatBytes } from '../base/bytes.js';
import { dekEncrypt, SecureChannelError } from '../crypto/scp03.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { directTransport } from '../host/direct-transport.js';
import { DrmbCard } from '../host/drmb-card.js';
import { StatusWordError } from '../host/errors.js';
import { getResponse } from '../host/middleware/get-response.js';
import { trace } from '../host/middleware/trace.js';
import { Scp03HostSession } from '../host/scp03-host-session.js';
import { openSecureChannel } from '../host/secure-channel.js';
import { type Middleware, stack, wrapTransport } from '../host/transport.js';
import { Scp03CardSession } from '../simulator/scp03-card-session.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { PERSO_KEYS, stage1Dgis, systemKeys } from './card-fixture.js';
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
} from './scp03-vectors.js';

const CARD_ID = '62120000000000000333';
const SW_9000 = h('9000');

/** Host side driven through the handshake of a vector session. */
function openHost(s: VectorSession): Scp03HostSession {
  const keys = keysOf(s);
  const host = new Scp03HostSession(keys, { kvn: keys.kvn });
  host.initializeUpdate(hostChallengeOf(s));
  host.processInitializeUpdateResponse(initializeUpdateResponseOf(s));
  host.externalAuthenticate(levelOf(s));
  host.authenticated();
  return host;
}

describe("the spec's INITIALIZE UPDATE response coder (Amd D 7.1.1.6) reads the pySim responses", () => {
  it.each(SESSIONS)('%s: decodes kdd, key info, challenge, cryptogram, counter and re-encodes byte-exactly', (_l, s) => {
    const iu = initializeUpdateResponseOf(s);
    expect(iu.keyDiversificationData.length).toBe(10);
    expect(iu.keyVersion).toBe(keysOf(s).kvn);
    expect(iu.scpId).toBe(3);
    expect(iu.cardChallenge.length).toBe(8);
    expect(iu.cardCryptogram.length).toBe(8);
    expect(iu.sequenceCounter).toBe(parseInt(s.init_update_rsp.slice(-6), 16));
    expect(x(initializeUpdate.encodeResponse(iu))).toBe(lower(s.init_update_rsp));
  });

  it('rejects a response of the wrong length', () => {
    const good = h(V.sessions[0].init_update_rsp);
    expect(() => initializeUpdate.decodeResponse(good.subarray(0, 28))).toThrow(FormatError);
    expect(() => initializeUpdate.decodeResponse(good.subarray(0, 31))).toThrow(FormatError);
  });
});

describe("the host session reproduces the pySim transcripts byte-exactly through the spec's commands", () => {
  it.each(SESSIONS)('%s', (_l, s) => {
    const keys = keysOf(s);
    const host = new Scp03HostSession(keys, { kvn: keys.kvn, sdAid: ISD_R_AID });
    expect(x(initializeUpdate.encodeBytes(host.initializeUpdate(hostChallengeOf(s))))).toBe(lower(s.init_update_cmd));
    host.processInitializeUpdateResponse(initializeUpdateResponseOf(s));
    expect(host.keyVersion).toBe(keys.kvn);
    expect(host.isOpen).toBe(false);
    expect(x(externalAuthenticate.encodeBytes(host.externalAuthenticate(levelOf(s))))).toBe(lower(s.ext_auth_cmd));
    host.authenticated();
    expect(host.isOpen).toBe(true);
    expect(host.securityLevel).toBe(levelOf(s));

    expect(x(host.wrap(h(V.plain.get_eid_cmd)))).toBe(lower(s.get_eid_cmd));
    expect(x(host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), SW_9000)))).toBe(lower(V.plain.get_eid_rsp) + '9000');
    for (const c of CASES) expect(x(host.wrap(h(V.plain[c]))), c).toBe(lower(s[c]));
  });
});

describe('the host session refuses and closes', () => {
  const s = LEVEL_33;

  it('a wrong card cryptogram (constant-time compare)', () => {
    const keys = keysOf(s);
    const host = new Scp03HostSession(keys, { kvn: keys.kvn });
    host.initializeUpdate(hostChallengeOf(s));
    const iu = initializeUpdateResponseOf(s);
    iu.cardCryptogram[0] ^= 0x01;
    const err = expectFailure(() => host.processInitializeUpdateResponse(iu), 'card-cryptogram');
    expect(err.message).not.toContain(V.keysets[s.keyset].enc);
    expect(host.isClosed).toBe(true);
    expectFailure(() => host.externalAuthenticate(0x33), 'session-closed');
  });

  it('a card answering with other keys', () => {
    const keys = { ...keysOf(s), mac: new Uint8Array(16) };
    const host = new Scp03HostSession(keys);
    host.initializeUpdate(hostChallengeOf(s));
    expectFailure(() => host.processInitializeUpdateResponse(initializeUpdateResponseOf(s)), 'card-cryptogram');
  });

  it('a pseudo-random card challenge that does not derive from the counter and AID', () => {
    const host = new Scp03HostSession(keysOf(s), { sdAid: h('A000000151000000') });
    host.initializeUpdate(hostChallengeOf(s));
    expectFailure(() => host.processInitializeUpdateResponse(initializeUpdateResponseOf(s)), 'card-challenge');
  });

  it('an answer for another SCP, in S16 mode or for another key version than asked', () => {
    for (const change of [{ scpId: 0x02 }, { iParameter: 0x71 }, { keyVersion: 0x31 }]) {
      const keys = keysOf(s);
      const host = new Scp03HostSession(keys, { kvn: keys.kvn });
      host.initializeUpdate(hostChallengeOf(s));
      expectFailure(() => host.processInitializeUpdateResponse({ ...initializeUpdateResponseOf(s), ...change }), 'protocol');
      expect(host.isClosed).toBe(true);
    }
  });

  it('to wrap before the session is open', () => {
    const host = new Scp03HostSession(keysOf(s));
    expectFailure(() => host.wrap(h('80CA006600')), 'state');
    expect(host.isClosed).toBe(true);
  });

  it('a level with R-MAC when the card does not support it (i b6 = 0)', () => {
    const keys = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    const host = new Scp03HostSession(keys);
    const { data } = Scp03CardSession.initializeUpdate(initializeUpdate.encode(host.initializeUpdate()), { keys, kvn: 1, kdd: new Uint8Array(10), iParameter: 0 });
    host.processInitializeUpdateResponse(initializeUpdate.decodeResponse(data));
    expectFailure(() => host.externalAuthenticate(0x11), 'security-level');
    expect(host.isClosed).toBe(true);
  });

  it('an R-ENC response with a valid R-MAC but no M2 padding', () => {
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

  it('a tampered R-MAC', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    const rsp = concatBytes(h(s.get_eid_rsp_wrapped), SW_9000);
    rsp[rsp.length - 3] ^= 0x01; // last R-MAC byte
    expectFailure(() => host.unwrap(rsp), 'r-mac');
    expect(host.isClosed).toBe(true);
    expectFailure(() => host.wrap(h(V.plain.case_1)), 'session-closed');
  });

  it('a response whose SW was changed (the R-MAC covers the SW)', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    expectFailure(() => host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), h('6310'))), 'r-mac');
  });

  it('a response without R-MAC when R-MAC is required', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    expectFailure(() => host.unwrap(h('01029000')), 'r-mac');
  });

  it('an R-MAC meant for another command (response replay)', () => {
    const host = openHost(s);
    host.wrap(h(V.plain.get_eid_cmd));
    host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), SW_9000));
    host.wrap(h(V.plain.case_2));
    expectFailure(() => host.unwrap(concatBytes(h(s.get_eid_rsp_wrapped), SW_9000)), 'r-mac');
  });
});

describe('host secure channel', () => {
  it('prepares a blank card through SCP03 at level 33, tracing plaintext beside wire bytes without keys', async () => {
    const sim = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    const wire: string[] = [];
    const plain: string[] = [];
    const card = new DrmbCard(stack(directTransport(sim), getResponse(), trace({ sink: (l) => wire.push(l) })));
    expect((await card.select()).state).toBe('BLANK');
    const channel = await card.openSecureChannel(PERSO_KEYS, { kvn: 0x30, level: 0x33, plainTrace: (l) => plain.push(l) });
    expect([channel.securityLevel, channel.keyVersion]).toEqual([0x33, 0x30]);
    const dgis = stage1Dgis(CARD_ID, sm2GenerateKeyPair()).map(([name, value]) => {
      const def = DGIS[name];
      let bytes = (def.coder as any).encode(value) as Uint8Array;
      if (def.protection === 'dek') bytes = dekEncrypt(PERSO_KEYS.dek, bytes);
      return { dgi: { dgi: def.dgi, value: bytes }, encryption: storeDataEncryptionBits(def.protection) as 0 | 0x20 | 0x60 };
    });
    await card.storeDgis(channel, dgis);
    expect(sim.memory.state).toBe('PREPARED');
    expect((await card.select()).state).toBe('PREPARED');

    const all = [...wire, ...plain].join('\n');
    for (const k of Object.values(systemKeys().appKeys)) expect(all).not.toContain(hex(k));
    expect(wire.some((l) => l.startsWith('A>>') && l.includes('INITIALIZE UPDATE'))).toBe(true);
    expect(wire.some((l) => l.startsWith('A>>') && l.includes('EXTERNAL AUTHENTICATE'))).toBe(true);
    expect(plain.some((l) => l.startsWith('P>>') && l.includes('STORE DATA') && l.includes('0101 '))).toBe(true);
    expect(wire.some((l) => l.startsWith('A>>') && l.startsWith('A>> (4+') && l.includes('84E2'))).toBe(true);
  });

  it('refuses a card whose cryptogram does not match the keys with a SecureChannelError, leaving the card BLANK', async () => {
    const sim = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    const card = new DrmbCard(stack(directTransport(sim), getResponse()));
    await card.select();
    const wrong = { enc: new Uint8Array(16).fill(1), mac: new Uint8Array(16).fill(2), dek: new Uint8Array(16).fill(3) };
    await expect(card.openSecureChannel(wrong, { kvn: 0x30 })).rejects.toBeInstanceOf(SecureChannelError);
    expect(sim.memory.state).toBe('BLANK');
  });

  it('turns a refused INITIALIZE UPDATE into a StatusWordError (6A88: a BLANK card has no key version 31)', async () => {
    const sim = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    const card = new DrmbCard(stack(directTransport(sim), getResponse()));
    await card.select();
    const err = await openSecureChannel(card.transport, PERSO_KEYS, { kvn: 0x31 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusWordError);
    expect([(err as StatusWordError).command, (err as StatusWordError).sw]).toEqual(['INITIALIZE UPDATE', 0x6a88]);
  });

  it('turns a refused EXTERNAL AUTHENTICATE into a StatusWordError (6300 for a cryptogram changed on the wire), the card counting the failure', async () => {
    const sim = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    // A man in the middle flipping one bit of the host cryptogram (INS 82, first data byte).
    const tamper: Middleware = (next) =>
      wrapTransport(next, (c) => {
        if (c[1] !== 0x82) return next.transmit(c);
        const changed = c.slice();
        changed[5] ^= 0x01;
        return next.transmit(changed);
      });
    const card = new DrmbCard(stack(directTransport(sim), getResponse(), tamper));
    await card.select();
    const err = await openSecureChannel(card.transport, PERSO_KEYS, { kvn: 0x30 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatusWordError);
    expect([(err as StatusWordError).command, (err as StatusWordError).sw]).toEqual(['EXTERNAL AUTHENTICATE', 0x6300]);
    expect(sim.memory.authFailures).toBe(1);
    expect(sim.memory.state).toBe('BLANK');
  });
});

