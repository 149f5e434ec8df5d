/** @module Secure channel attack tests against the simulated card (GP 2.3 Amendment D, SCP03): bad MAC, replay, skipped command, wrong security level, wrong cryptogram, blocked authentication. */
import { beforeAll, describe, expect, it } from 'vitest';
import { chainCommand, decodeResponseApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { DGIS, type DgiName, STORE_DATA_P1 } from '../applet-spec/dgis.js';
import { AES_BLOCK_BYTES, aesCmac } from '../crypto/aes-cmac.js';
import { concatBytes, randomBytes } from '../base/bytes.js';
import { computeHostCryptogram, deriveSessionKeys } from '../crypto/scp03.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { Scp03HostSession } from '../host/scp03-host-session.js';
import {
  cmd,
  exchange,
  identityFor,
  openChannel,
  PERSO_KEYS,
  prepareCard,
  selectApplet,
  sendSecure,
  stage1Dgis,
  stage2Dgis,
  storeDataApdu,
  systemKeys,
  writeDgis,
} from '../test/card-fixture.js';
import { dgiRecordKey, MAX_AUTH_FAILURES } from './card-memory.js';
import { SimulatedCard } from './simulated-card.js';

const CARD_ID = '62000000000000000202';
type Keys = { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };

let blankImage: Uint8Array;
let preparedImage: Uint8Array;
let stage1: [DgiName, unknown][];

beforeAll(() => {
  const card = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
  blankImage = card.toImage();
  stage1 = stage1Dgis(CARD_ID, sm2GenerateKeyPair());
  prepareCard(card, CARD_ID);
  preparedImage = card.toImage();
});

function fresh(image: Uint8Array): SimulatedCard {
  const card = SimulatedCard.fromImage(image);
  expect(selectApplet(card)).toBe(0x9000);
  return card;
}

const text = (image: Uint8Array): string => new TextDecoder().decode(image);
/** The persistent records as key -> hex, without the given keys (counters a failure may change). */
function records(card: SimulatedCard, except: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of card.store.keys()) if (!except.includes(k)) out[k] = Buffer.from(card.store.get(k)!).toString('hex');
  return out;
}
const dgiKey = (name: DgiName): string => dgiRecordKey(DGIS[name].dgi);

/** STORE DATA block i of the stage-1 personalization, in clear (the host session wraps it). */
const block = (i: number): Uint8Array => storeDataApdu(stage1[i][0], stage1[i][1], i, i === stage1.length - 1, PERSO_KEYS.dek);

const send = (card: SimulatedCard, apdu: Uint8Array): number => exchange(card, apdu).sw;

/**
 * A host written out from GP Amendment D for the attacks the library host refuses to make: session
 * keys (6.2.1), host cryptogram (6.2.2.3) and C-MAC chaining (6.2.4) computed here step by step, so
 * it can MAC a command without encrypting it, or authenticate with keys other than the card's.
 */
class HandmadeHost {
  private readonly hostChallenge = randomBytes(8);
  private sMac: Uint8Array = new Uint8Array(16);
  private chaining: Uint8Array = new Uint8Array(AES_BLOCK_BYTES);

  constructor(private readonly keys: Keys) {}

  /** INITIALIZE UPDATE; derives the session keys from the card challenge the card answered. */
  initializeUpdate(card: SimulatedCard, kvn: number): number {
    const r = exchange(card, concatBytes(Uint8Array.of(0x80, 0x50, kvn, 0x00, 0x08), this.hostChallenge, Uint8Array.of(0x00)));
    if (r.sw !== 0x9000) return r.sw;
    // Amd D 7.1.1.6: KDD (10) || key information (3) || card challenge (8) || card cryptogram (8).
    const cardChallenge = r.data.subarray(13, 21);
    this.sMac = deriveSessionKeys(this.keys, this.hostChallenge, cardChallenge).sMac;
    this.cryptogram = computeHostCryptogram(this.sMac, this.hostChallenge, cardChallenge);
    return r.sw;
  }

  private cryptogram: Uint8Array = new Uint8Array(8);

  /** EXTERNAL AUTHENTICATE at `level`: host cryptogram and its C-MAC over a zero chaining value. */
  externalAuthenticate(level: number): Uint8Array {
    this.chaining = new Uint8Array(AES_BLOCK_BYTES);
    return this.macOnly({ cla: 0x80, ins: 0x82, p1: level, p2: 0x00, data: this.cryptogram });
  }

  /** The command with a C-MAC and nothing else (no C-DEC whatever the session's level). */
  macOnly(c: { cla: number; ins: number; p1: number; p2: number; data: Uint8Array }): Uint8Array {
    const header = Uint8Array.of((c.cla & 0xf0) | 0x04, c.ins, c.p1, c.p2, c.data.length + 8);
    this.chaining = aesCmac(this.sMac, this.chaining, header, c.data);
    return concatBytes(header, c.data, this.chaining.subarray(0, 8));
  }
}

/** The clear STORE DATA block as a structure, for the handmade host. */
function blockParts(i: number): { cla: number; ins: number; p1: number; p2: number; data: Uint8Array } {
  const b = block(i);
  return { cla: b[0], ins: b[1], p1: b[2], p2: b[3], data: b.subarray(5, 5 + b[4]) };
}

describe('the secure channel works at every security level', () => {
  for (const level of [0x01, 0x03, 0x11, 0x13, 0x33]) {
    it(`personalizes stage 1 wrapped at level ${level.toString(16).padStart(2, '0')}; DEK-encrypted DGIs decrypt whatever the level`, () => {
      const card = fresh(blankImage);
      const host = openChannel(card, PERSO_KEYS, 0x30, level);
      expect(writeDgis(card, host, stage1, PERSO_KEYS.dek)).toBe(0x9000);
      expect(card.memory.state).toBe('PREPARED');
      // DGI 8000 travels DEK-encrypted (GP 2.3 11.11.2.1) also at level 01, where nothing else is encrypted.
      expect(card.memory.record(dgiKey('applicationKeys'))).toEqual(DGIS.applicationKeys.coder.encode(systemKeys().appKeys));
      expect(card.memory.scpKeys(0x31)).toEqual(systemKeys().issuanceKeys);
    });
  }

  it('a handmade C-MAC chain (Amd D 6.2.4) is accepted at level 01, so the attacks below fail for their fault only', () => {
    const card = fresh(blankImage);
    const host = new HandmadeHost(PERSO_KEYS);
    expect(host.initializeUpdate(card, 0x30)).toBe(0x9000);
    expect(send(card, host.externalAuthenticate(0x01))).toBe(0x9000);
    expect(send(card, host.macOnly(blockParts(0)))).toBe(0x9000);
    expect(send(card, host.macOnly(blockParts(1)))).toBe(0x9000);
    expect(card.memory.record(dgiKey('fci'))).toBeDefined();
  });
});

describe('secure messaging with command chaining', () => {
  it('accepts a STORE DATA of four clear DGIs chained over wrapped blocks, each block with its own C-MAC', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    const names: DgiName[] = ['cardRecord', 'fci', 'trustAnchors', 'riskDefaults'];
    const dgis = names.map((n) => {
      const value = stage1.find(([m]) => m === n)![1];
      return { dgi: DGIS[n].dgi, value: (DGIS[n].coder as { encode(v: unknown): Uint8Array }).encode(value) };
    });
    const plain = cmd('storeData').encode({ flags: STORE_DATA_P1.DGI_FORMAT, block: 0, dgis }, { secure: false });
    // GP 2.3 11.1.4: chain first, then wrap every block (room left for C-DEC padding and the C-MAC).
    const blocks = chainCommand(plain, 200);
    expect(blocks.length).toBeGreaterThan(1);
    for (const b of blocks) expect(sendSecure(card, host, encodeCommandApdu(b)).sw).toBe(0x9000);
    for (const n of names) expect(card.memory.record(dgiKey(n))).toEqual(dgis[names.indexOf(n)].value);
  });
});

describe('attacks on an open session: rejected with 6982, the session closed, nothing stored', () => {
  it('a tampered C-MAC', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    const before = text(card.toImage());
    const wrapped = host.wrap(block(0));
    wrapped[wrapped.length - 1] ^= 0x01;
    expect(send(card, wrapped)).toBe(0x6982);
    // The host's next command is correctly wrapped, but the card closed the session.
    expect(sendSecure(card, host, block(0)).sw).toBe(0x6982);
    expect(sendSecure(card, host, block(1)).sw).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
    expect(card.memory.authFailures).toBe(0);
  });

  it('a tampered data byte under a correct-length C-MAC', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x01);
    const before = text(card.toImage());
    const wrapped = host.wrap(block(0));
    wrapped[7] ^= 0x80;
    expect(send(card, wrapped)).toBe(0x6982);
    expect(sendSecure(card, host, block(1)).sw).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
  });

  it('a replayed wrapped STORE DATA', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    const first = host.wrap(block(0));
    expect(send(card, first)).toBe(0x9000);
    const afterFirst = text(card.toImage());
    expect(send(card, first)).toBe(0x6982);
    expect(sendSecure(card, host, block(1)).sw).toBe(0x6982);
    expect(text(card.toImage())).toBe(afterFirst);
    expect(card.memory.record(dgiKey('fci'))).toBeUndefined();
  });

  it('a skipped command (two wrapped, only the second sent)', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    const before = text(card.toImage());
    const w0 = host.wrap(block(0));
    const w1 = host.wrap(block(1));
    expect(send(card, w1)).toBe(0x6982);
    expect(send(card, w0)).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
  });

  it('a command without C-MAC at a level that requires it (01)', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x01);
    const before = text(card.toImage());
    expect(send(card, block(0))).toBe(0x6982);
    expect(sendSecure(card, host, block(0)).sw).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
  });

  it('a command with C-MAC but without the C-DEC encryption level 03 requires', () => {
    const card = fresh(blankImage);
    const host = new HandmadeHost(PERSO_KEYS);
    expect(host.initializeUpdate(card, 0x30)).toBe(0x9000);
    expect(send(card, host.externalAuthenticate(0x03))).toBe(0x9000);
    const before = text(card.toImage());
    // The MAC verifies, but the clear DGI data is not a C-DEC cryptogram (Amd D 6.2.6).
    expect(send(card, host.macOnly(blockParts(0)))).toBe(0x6982);
    expect(send(card, host.macOnly(blockParts(0)))).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
  });

  it('a plain command of another kind (GET DATA), which the session does not protect either', () => {
    const card = fresh(blankImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x01);
    // GP Amd D 6.2.4: at a level with C-MAC every command of the session must carry one.
    expect(send(card, encodeCommandApdu({ cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x36, data: new Uint8Array(0), le: 256 }))).toBe(0x6982);
    expect(sendSecure(card, host, block(0)).sw).toBe(0x6982);
    expect(card.memory.record(dgiKey('cardRecord'))).toBeUndefined();
  });

  it('a stage-2 DGI over the stage-1 key set (key version 30 on a PREPARED card)', () => {
    const card = fresh(preparedImage);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    const before = text(card.toImage());
    const [name, value] = stage2Dgis(identityFor(CARD_ID))[0];
    expect(sendSecure(card, host, storeDataApdu(name, value, 0, false, PERSO_KEYS.dek)).sw).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
    expect(card.memory.state).toBe('PREPARED');
  });
});

describe('secure messaging required', () => {
  it('STORE DATA without secure messaging and no session: 6982, nothing stored', () => {
    const card = fresh(blankImage);
    const before = text(card.toImage());
    expect(send(card, block(0))).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
  });

  it('STORE DATA with the secure-messaging bit but no session: 6982, nothing stored', () => {
    const card = fresh(blankImage);
    const before = text(card.toImage());
    const b = blockParts(0);
    const fake = concatBytes(Uint8Array.of(0x84, b.ins, b.p1, b.p2, b.data.length + 8), b.data, new Uint8Array(8));
    expect(send(card, fake)).toBe(0x6982);
    expect(text(card.toImage())).toBe(before);
  });

  it('a session ends with a reset and with a new SELECT', () => {
    for (const end of ['reset', 'select'] as const) {
      const card = fresh(blankImage);
      const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
      if (end === 'reset') card.reset();
      expect(selectApplet(card)).toBe(0x9000);
      expect(sendSecure(card, host, block(0)).sw).toBe(0x6982);
      expect(card.memory.record(dgiKey('cardRecord'))).toBeUndefined();
    }
  });
});

describe('mutual authentication (Amd D 7.1.1, 7.1.2)', () => {
  it('answers 6300 to a wrong host cryptogram, counts the failure persistently and opens no session', () => {
    const card = fresh(blankImage);
    const before = records(card);
    const host = new Scp03HostSession(PERSO_KEYS, { kvn: 0x30 });
    const iu = exchange(card, initializeUpdate.encodeBytes(host.initializeUpdate()));
    host.processInitializeUpdateResponse(initializeUpdate.decodeResponse(iu.data));
    const ea = externalAuthenticate.encodeBytes(host.externalAuthenticate(0x33));
    ea[5] ^= 0x01; // first byte of the host cryptogram
    expect(send(card, ea)).toBe(0x6300);
    expect(card.memory.authFailures).toBe(1);
    // Only the failure counter changed, and it survives a power cycle and a saved image.
    expect(records(card, ['scp/failures'])).toEqual(before);
    card.powerOff();
    card.powerOn();
    expect(SimulatedCard.fromImage(card.toImage()).memory.authFailures).toBe(1);
    // No session: a wrapped command is refused.
    selectApplet(card);
    const fake = blockParts(0);
    expect(send(card, concatBytes(Uint8Array.of(0x84, fake.ins, fake.p1, fake.p2, fake.data.length + 8), fake.data, new Uint8Array(8)))).toBe(0x6982);
    expect(records(card, ['scp/failures'])).toEqual(before);
  });

  it('answers 6300 to a host that derives its cryptogram from other static keys', () => {
    const card = fresh(blankImage);
    const before = records(card);
    const wrong = { enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16) };
    const host = new HandmadeHost(wrong);
    expect(host.initializeUpdate(card, 0x30)).toBe(0x9000);
    expect(send(card, host.externalAuthenticate(0x33))).toBe(0x6300);
    expect(card.memory.authFailures).toBe(1);
    expect(records(card, ['scp/failures'])).toEqual(before);
    // The library host sees the impostor from the other side: the card cryptogram does not verify.
    const libraryHost = new Scp03HostSession(wrong, { kvn: 0x30 });
    const iu = exchange(card, initializeUpdate.encodeBytes(libraryHost.initializeUpdate()));
    expect(() => libraryHost.processInitializeUpdateResponse(initializeUpdate.decodeResponse(iu.data))).toThrow(/card cryptogram/);
  });

  it(`blocks INITIALIZE UPDATE with 6983 after ${MAX_AUTH_FAILURES} consecutive failures, also for the right keys and after power-off`, () => {
    const card = fresh(blankImage);
    const wrong = { enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16) };
    for (let i = 1; i <= MAX_AUTH_FAILURES; i++) {
      const host = new HandmadeHost(wrong);
      expect(host.initializeUpdate(card, 0x30)).toBe(0x9000);
      expect(send(card, host.externalAuthenticate(0x01))).toBe(0x6300);
      expect(card.memory.authFailures).toBe(i);
    }
    const before = text(card.toImage());
    expect(new HandmadeHost(PERSO_KEYS).initializeUpdate(card, 0x30)).toBe(0x6983);
    card.powerOff();
    const again = SimulatedCard.fromImage(card.toImage());
    selectApplet(again);
    expect(new HandmadeHost(PERSO_KEYS).initializeUpdate(again, 0x30)).toBe(0x6983);
    expect(text(again.toImage())).toBe(before);
  });

  it('resets the failure counter on a successful authentication', () => {
    const card = fresh(blankImage);
    const wrong = { enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16) };
    for (let i = 0; i < 2; i++) {
      const host = new HandmadeHost(wrong);
      host.initializeUpdate(card, 0x30);
      expect(send(card, host.externalAuthenticate(0x01))).toBe(0x6300);
    }
    expect(card.memory.authFailures).toBe(2);
    openChannel(card, PERSO_KEYS, 0x30, 0x33);
    expect(card.memory.authFailures).toBe(0);
  });

  it('refuses a security level the card does not define (02) with 6A86, leaving no session', () => {
    const card = fresh(blankImage);
    const host = new HandmadeHost(PERSO_KEYS);
    expect(host.initializeUpdate(card, 0x30)).toBe(0x9000);
    expect(send(card, host.externalAuthenticate(0x02))).toBe(0x6a86);
    expect(send(card, host.macOnly(blockParts(0)))).toBe(0x6982);
    expect(card.memory.record(dgiKey('cardRecord'))).toBeUndefined();
  });

  it('refuses EXTERNAL AUTHENTICATE that does not directly follow INITIALIZE UPDATE (6985), and a replayed one (6982)', () => {
    const card = fresh(blankImage);
    const host = new HandmadeHost(PERSO_KEYS);
    expect(host.initializeUpdate(card, 0x30)).toBe(0x9000);
    const ea = host.externalAuthenticate(0x01);
    expect(send(card, ea)).toBe(0x9000);
    // In the open session the replay is one more command whose C-MAC does not continue the chain.
    expect(send(card, ea)).toBe(0x6982);
    const other = new HandmadeHost(PERSO_KEYS);
    expect(other.initializeUpdate(card, 0x30)).toBe(0x9000);
    expect(send(card, encodeCommandApdu({ cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x36, data: new Uint8Array(0), le: 256 }))).toBe(0x9000);
    expect(send(card, other.externalAuthenticate(0x01))).toBe(0x6985);
    expect(card.memory.authFailures).toBe(0);
  });

  it('a plain INITIALIZE UPDATE in an open session closes it and starts a new one', () => {
    const card = fresh(blankImage);
    const first = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    const second = openChannel(card, PERSO_KEYS, 0x30, 0x01);
    expect(sendSecure(card, second, block(0)).sw).toBe(0x9000);
    expect(card.memory.record(dgiKey('cardRecord'))).toBeDefined();
    // The first session's keys are gone: its next command does not verify.
    expect(sendSecure(card, first, block(1)).sw).toBe(0x6982);
    expect(card.memory.record(dgiKey('fci'))).toBeUndefined();
  });

  it('answers 6A88 for the issuance key version on a BLANK card, which has none yet', () => {
    const card = fresh(blankImage);
    expect(new HandmadeHost(PERSO_KEYS).initializeUpdate(card, 0x31)).toBe(0x6a88);
    expect(decodeResponseApdu(card.transmit(Uint8Array.of(0x80, 0x50, 0x31, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00))).sw).toBe(0x6a88);
  });
});

