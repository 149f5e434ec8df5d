/** @module Conformance tests of the simulated card OS (ISO/IEC 7816-3 ATR, ISO/IEC 7816-4 SELECT, chaining, GET RESPONSE, 6Cxx, extended length, class and instruction errors, reset). */
import { beforeAll, describe, expect, it } from 'vitest';
import { chainCommand, decodeResponseApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { fromHex } from '../base/hex.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { fciCoder } from '../applet-spec/commands/select.js';
import { TRANSACTION_TYPES, coinListCoder } from '../applet-spec/value-formats.js';
import { concatBytes } from '../base/bytes.js';
import { loadMac2Data } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac } from '../crypto/pboc.js';
import { sm3 } from '../crypto/sm3.js';
import {
  cmd,
  exchange,
  identityFor,
  issueCard,
  lineMac,
  loadCoins,
  mintCoin,
  openChannel,
  prepareCard,
  PERSO_KEYS,
  purchase,
  selectApplet,
  send,
  sendSecure,
  storeDataApdu,
  systemKeys,
  TERMINAL_ID,
} from '../test/card-fixture.js';
import { MAX_CHAINED_DATA } from './card-os.js';
import { SimulatedCard } from './simulated-card.js';

const CARD_ID = '62000000000000000101';
const ascii = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

let blankImage: Uint8Array;
let preparedImage: Uint8Array;
/** issued, holding 100, 50, 20 and 10 yuan (counter 1) */
let fundedImage: Uint8Array;
/** issued, no coins */
let emptyImage: Uint8Array;

beforeAll(() => {
  const card = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
  blankImage = card.toImage();
  const { cardKey } = prepareCard(card, CARD_ID);
  preparedImage = card.toImage();
  issueCard(card, identityFor(CARD_ID), cardKey.publicKey);
  emptyImage = card.toImage();
  selectApplet(card);
  expect(loadCoins(card, [mintCoin(10_000), mintCoin(5_000), mintCoin(2_000), mintCoin(1_000)]).sw).toBe(0x9000);
  fundedImage = card.toImage();
});

/** A card from an image, with a counting random source when `seed` is given (twin cards agree byte for byte). */
function fresh(image: Uint8Array, seed?: number): SimulatedCard {
  if (seed === undefined) return SimulatedCard.fromImage(image);
  let n = seed;
  return SimulatedCard.fromImage(image, { random: (len) => Uint8Array.from({ length: len }, () => n++ & 0xff) });
}

/** Raw exchange without following 61xx. */
function raw(card: SimulatedCard, apdu: Uint8Array | string): { data: Uint8Array; sw: number } {
  return decodeResponseApdu(card.transmit(typeof apdu === 'string' ? fromHex(apdu) : apdu));
}

const selectApdu = (aid: Uint8Array, p2 = 0x00): Uint8Array => encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2, data: aid, le: 256 });
const GET_BALANCE = '805C000204';

function balanceOf(card: SimulatedCard): number {
  const r = raw(card, GET_BALANCE);
  expect(r.sw).toBe(0x9000);
  return new DataView(r.data.buffer, r.data.byteOffset).getUint32(0);
}

/** APPLICATION BLOCK by issuer script (GET CHALLENGE, then the command with its line MAC). */
function blockApplication(card: SimulatedCard): void {
  const challenge = send(card, cmd('getChallenge'), {}).value.challenge as Uint8Array;
  const mac = lineMac(systemKeys().appKeys.issuerMac, challenge, [0x84, 0x1e, 0x00, 0x00], new Uint8Array(0));
  expect(send(card, cmd('applicationBlock'), { mac }).sw).toBe(0x9000);
}

/** SET STATUS (terminate) through an SCP03 session with the issuance keys; the card must hold no coins. */
function terminate(card: SimulatedCard): void {
  const host = openChannel(card, systemKeys().issuanceKeys, 0x31);
  expect(sendSecure(card, host, cmd('setStatus').encodeBytes({ aid: DRMB_AID }, { secure: false })).sw).toBe(0x9000);
}

/** INITIALIZE FOR LOAD for `coins`, then the CREDIT FOR LOAD command (not sent) with a correct MAC2. */
function creditForLoadCommand(card: SimulatedCard, count: number, opts: { le?: number; extended?: boolean } = {}) {
  const coins = Array.from({ length: count }, () => mintCoin(100));
  const amountFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
  const init = send(card, cmd('initializeForLoad'), { keyIndex: 1, amountFen, terminalId: TERMINAL_ID });
  expect(init.sw).toBe(0x9000);
  const { counter, cardRandom } = init.value as { counter: number; cardRandom: Uint8Array };
  const sk = pbocLoadSessionKey(systemKeys().appKeys.load, cardRandom, Uint8Array.of(counter >>> 24, counter >>> 16, counter >>> 8, counter));
  const date = '20261122';
  const time = '101500';
  const mac2 = pbocMac(sk, concatBytes(loadMac2Data({ amountFen, transactionType: 2, terminalId: TERMINAL_ID, date, time }), sm3(coinListCoder.encode(coins))));
  return { apdu: cmd('creditForLoad').encode({ date, time, coins, mac2 }, opts), amountFen, counter };
}

/** The ISO 7816-3 8.2 structure of an ATR: protocols announced by TD bytes, historical bytes, TCK. */
function parseAtr(atr: Uint8Array): { protocols: number[]; historical: Uint8Array; tck?: number; length: number } {
  let i = 1;
  let y = atr[i] >> 4;
  const k = atr[i] & 0x0f;
  i++;
  const protocols: number[] = [];
  for (;;) {
    if (y & 1) i++; // TA
    if (y & 2) i++; // TB
    if (y & 4) i++; // TC
    if (!(y & 8)) break;
    const td = atr[i++];
    protocols.push(td & 0x0f);
    y = td >> 4;
  }
  const historical = atr.subarray(i, i + k);
  i += k;
  const needsTck = protocols.some((p) => p !== 0);
  return { protocols, historical, tck: needsTck ? atr[i] : undefined, length: i + (needsTck ? 1 : 0) };
}

describe('ATR (ISO/IEC 7816-3 8.2)', () => {
  it('is direct convention, offers T=1, names the card in its historical bytes and has a correct TCK', () => {
    const card = fresh(blankImage);
    const atr = card.powerOn();
    expect(atr).toEqual(card.atr);
    expect(atr[0]).toBe(0x3b);
    const p = parseAtr(atr);
    expect(p.protocols).toContain(1);
    expect(p.length).toBe(atr.length);
    // ISO 7816-4 8.1.1: category indicator 80 (compact-TLV), then the card issuer's data naming the card.
    expect(p.historical[0]).toBe(0x80);
    expect(Buffer.from(p.historical).includes(Buffer.from(ascii.encode('DRMB-SIM')))).toBe(true);
    // ISO 7816-3 8.2.5: the exclusive-or of T0 .. TCK is zero.
    expect(p.tck).toBeDefined();
    expect(atr.subarray(1).reduce((a, b) => a ^ b, 0)).toBe(0);
  });

  it('is the same after a warm reset', () => {
    const card = fresh(blankImage);
    expect(card.reset()).toEqual(card.powerOn());
  });
});

describe('SELECT by AID (ISO/IEC 7816-4 11.1.1)', () => {
  const selectFci = (image: Uint8Array) => {
    const card = fresh(image);
    const r = exchange(card, selectApdu(DRMB_AID));
    return { sw: r.sw, fci: r.data.length ? fciCoder.decode(r.data) : undefined, data: r.data };
  };

  it('answers the FCI without a card ID while BLANK', () => {
    const { sw, fci } = selectFci(blankImage);
    expect(sw).toBe(0x9000);
    expect(fci!.aid).toEqual(DRMB_AID);
    expect(fci!.proprietary.issuerData).toEqual({ cardId: undefined, appState: 'BLANK' });
  });

  it('answers the FCI with card ID, label and state PREPARED after card prep', () => {
    const { sw, fci } = selectFci(preparedImage);
    expect(sw).toBe(0x9000);
    expect(fci!.proprietary.issuerData).toEqual({ cardId: CARD_ID, appState: 'PREPARED' });
    expect(new TextDecoder().decode(fci!.proprietary.applicationLabel)).toBe('D-RMB');
  });

  it('answers the FCI with card ID and state ISSUED after issuance', () => {
    const { sw, fci } = selectFci(fundedImage);
    expect(sw).toBe(0x9000);
    expect(fci!.proprietary.issuerData).toEqual({ cardId: CARD_ID, appState: 'ISSUED' });
  });

  it('answers 6283 with the FCI (state LOCKED) for a blocked application, which stays selected', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    blockApplication(card);
    const r = exchange(card, selectApdu(DRMB_AID));
    expect(r.sw).toBe(0x6283);
    expect(fciCoder.decode(r.data).proprietary.issuerData).toEqual({ cardId: CARD_ID, appState: 'LOCKED' });
    expect(balanceOf(card)).toBe(18_000);
  });

  it('answers 6A81 without data for a terminated application and leaves nothing selected', () => {
    const card = fresh(emptyImage);
    selectApplet(card);
    terminate(card);
    const r = raw(card, selectApdu(DRMB_AID));
    expect(r).toEqual({ data: new Uint8Array(0), sw: 0x6a81 });
    expect(card.memory.state).toBe('TERMINATED');
    expect(raw(card, GET_BALANCE).sw).toBe(0x6d00);
  });

  it('answers 6A82 for an unknown AID and keeps the previous selection and its session state', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(send(card, cmd('verify'), { pin: '123456' }).sw).toBe(0x9000);
    expect(raw(card, selectApdu(fromHex('A000000003000000'))).sw).toBe(0x6a82);
    expect(balanceOf(card)).toBe(18_000);
    // The PIN stays verified: the coin records (PIN always) are still readable.
    expect(send(card, cmd('readCoinRecord'), { record: 1 }).sw).toBe(0x9000);
  });

  it('answers 6A80 for an AID shorter than 5 or longer than 16 bytes', () => {
    const card = fresh(fundedImage);
    expect(raw(card, selectApdu(DRMB_AID.subarray(0, 4))).sw).toBe(0x6a80);
    expect(raw(card, selectApdu(new Uint8Array(17))).sw).toBe(0x6a80);
  });

  it('answers 6A86 for the D-RMB AID with P2 other than 00', () => {
    const card = fresh(fundedImage);
    expect(raw(card, selectApdu(DRMB_AID, 0x0c)).sw).toBe(0x6a86);
    expect(raw(card, GET_BALANCE).sw).toBe(0x6d00);
  });
});

describe('GET RESPONSE and 61xx (ISO/IEC 7816-4 11.6.1)', () => {
  /** A purchase up to DEBIT FOR PURCHASE, returning the first response (61xx) unfollowed. */
  function debitRaw(card: SimulatedCard): { first: { data: Uint8Array; sw: number }; counter: number } {
    selectApplet(card);
    const before = card.memory.counter;
    // fixture purchase() follows 61xx itself; intercept the DEBIT exchange instead.
    const inner = card.transmit.bind(card);
    let first: { data: Uint8Array; sw: number } | undefined;
    card.transmit = (c: Uint8Array) => {
      const r = inner(c);
      if (c[1] === 0x54 && !first) {
        first = decodeResponseApdu(r);
        throw new Error('stop');
      }
      return r;
    };
    expect(() => purchase(card, 3_000)).toThrow('stop');
    card.transmit = inner;
    return { first: first!, counter: before };
  }

  it('delivers a DEBIT FOR PURCHASE response longer than 256 bytes in parts, byte-identical to its proof', () => {
    const card = fresh(fundedImage);
    const { first, counter } = debitRaw(card);
    expect(first.data.length).toBe(256);
    expect(first.sw >> 8).toBe(0x61);
    let data = first.data;
    let sw = first.sw;
    while (sw >> 8 === 0x61) {
      const r = raw(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, sw & 0xff));
      expect(r.data.length).toBe(sw & 0xff || 256);
      data = concatBytes(data, r.data);
      sw = r.sw;
    }
    expect(sw).toBe(0x9000);
    expect(data.length).toBeGreaterThan(256);
    expect(hex(card.memory.proof(TRANSACTION_TYPES.PURCHASE, counter)!)).toBe(hex(data));
    expect(card.memory.balanceFen).toBe(15_000);
  });

  /** Collects full 256-byte chunks (6100) until the card announces the last, shorter one: its SW (61xx, xx > 0). */
  function untilLastChunk(card: SimulatedCard, sw: number): number {
    while (sw === 0x6100) sw = raw(card, '00C0000000').sw;
    expect(sw >> 8).toBe(0x61);
    return sw;
  }

  it('answers 6985 when no response is pending, and after the pending one was collected', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(raw(card, '00C0000000').sw).toBe(0x6985);
    const { first } = debitRaw(card);
    const rest = raw(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, untilLastChunk(card, first.sw) & 0xff));
    expect(rest.sw).toBe(0x9000);
    expect(raw(card, '00C0000000').sw).toBe(0x6985);
  });

  it('drops the pending response when another command comes first', () => {
    const card = fresh(fundedImage);
    const { first } = debitRaw(card);
    expect(raw(card, GET_BALANCE).sw).toBe(0x9000);
    expect(raw(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, first.sw & 0xff)).sw).toBe(0x6985);
    // The purchase itself stays committed and provable.
    expect(card.memory.balanceFen).toBe(15_000);
  });

  it('answers 6Cxx to a GET RESPONSE with a short Le and keeps the bytes for the retry', () => {
    const card = fresh(fundedImage);
    const { first } = debitRaw(card);
    const left = untilLastChunk(card, first.sw) & 0xff;
    expect(raw(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, 0x10)).sw).toBe(0x6c00 | left);
    const r = raw(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, left));
    expect(r.sw).toBe(0x9000);
    expect(r.data.length).toBe(left);
  });

  it('answers 6A86 to a GET RESPONSE with P1P2 other than 0000 and 6700 to one with a data field', () => {
    const card = fresh(fundedImage);
    const { first } = debitRaw(card);
    expect(raw(card, '00C0010000').sw).toBe(0x6a86);
    expect(raw(card, '00C0000001AA00').sw).toBe(0x6700);
    expect(raw(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, untilLastChunk(card, first.sw) & 0xff)).sw).toBe(0x9000);
  });
});

describe('6Cxx and 61xx for a short Le (ISO/IEC 7816-4 5.3.4)', () => {
  it('answers GET BALANCE with Le 02 by 6C04; the retry with Le 04 gets the balance', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(raw(card, '805C000202')).toEqual({ data: new Uint8Array(0), sw: 0x6c04 });
    const r = raw(card, '805C000204');
    expect(r.sw).toBe(0x9000);
    expect(hex(r.data)).toBe('00004650');
  });

  it('answers a persistent command (CREDIT FOR LOAD) with a short Le by 61xx, never 6Cxx, and credits once', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    const { apdu, counter } = creditForLoadCommand(card, 1, { le: 2 });
    const first = raw(card, encodeCommandApdu(apdu));
    expect(first.sw).toBe(0x6102);
    expect(first.data.length).toBe(2);
    const rest = raw(card, '00C0000002');
    expect(rest.sw).toBe(0x9000);
    const tac = concatBytes(first.data, rest.data);
    expect(hex(card.memory.proof(TRANSACTION_TYPES.LOAD, counter)!)).toBe(hex(tac));
    expect(card.memory.balanceFen).toBe(18_100);
    expect(card.memory.counter).toBe(counter + 1);
  });
});

describe('command chaining (ISO/IEC 7816-4 5.3.3) and extended length (5.1)', () => {
  it('accepts a CREDIT FOR LOAD of 4 coins chained by chainCommand: 9000 per block, the TAC on the last', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    const { apdu, amountFen, counter } = creditForLoadCommand(card, 4);
    const blocks = chainCommand(apdu);
    expect(blocks.length).toBe(2);
    for (const b of blocks.slice(0, -1)) {
      expect(b.cla & 0x10).toBe(0x10);
      expect(raw(card, encodeCommandApdu(b))).toEqual({ data: new Uint8Array(0), sw: 0x9000 });
      expect(card.memory.counter).toBe(counter);
    }
    const last = exchange(card, encodeCommandApdu(blocks[blocks.length - 1]));
    expect(last.sw).toBe(0x9000);
    expect(last.data.length).toBe(4);
    expect(card.memory.balanceFen).toBe(18_000 + amountFen);
    expect(card.memory.coins.length).toBe(8);
  });

  it('answers 6883 when another INS breaks the chain, and stores nothing', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    const { apdu } = creditForLoadCommand(card, 4);
    const blocks = chainCommand(apdu);
    const before = card.toImage();
    expect(raw(card, encodeCommandApdu(blocks[0])).sw).toBe(0x9000);
    expect(raw(card, GET_BALANCE).sw).toBe(0x6883);
    expect(card.toImage()).toEqual(before);
    // The broken chain is gone: the last block alone is not the command it was part of.
    expect(raw(card, encodeCommandApdu(blocks[1])).sw).not.toBe(0x9000);
    expect(card.memory.balanceFen).toBe(18_000);
  });

  it('answers 6883 when a block with another P1 continues the chain', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    const { apdu } = creditForLoadCommand(card, 4);
    const blocks = chainCommand(apdu);
    expect(raw(card, encodeCommandApdu(blocks[0])).sw).toBe(0x9000);
    expect(raw(card, encodeCommandApdu({ ...blocks[1], p1: 0x08 })).sw).toBe(0x6883);
    expect(card.memory.balanceFen).toBe(18_000);
  });

  it('answers 6700 once a chain exceeds the 8192 bytes the card collects, and forgets it', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    const block = encodeCommandApdu({ cla: 0x90, ins: 0x52, p1: 0x00, p2: 0x00, data: new Uint8Array(255) });
    for (let i = 0; i < Math.floor(MAX_CHAINED_DATA / 255); i++) expect(raw(card, block).sw).toBe(0x9000);
    expect(raw(card, block).sw).toBe(0x6700);
    expect(balanceOf(card)).toBe(18_000);
  });

  it('processes the same long command sent as one extended APDU exactly as the chained one', () => {
    const chained = fresh(fundedImage, 7);
    const extended = fresh(fundedImage, 7);
    selectApplet(chained);
    selectApplet(extended);
    // Same random source: both cards draw the same card random, so their MAC2 and coins match too.
    const c = creditForLoadCommand(chained, 4);
    const e = { ...c.apdu, extended: true };
    expect(initAgain(extended, c.amountFen)).toBe(0x9000);
    const bytes = encodeCommandApdu(e);
    expect(bytes[4]).toBe(0x00); // extended Lc
    const blocks = chainCommand(c.apdu);
    let viaChain: { data: Uint8Array; sw: number } = { data: new Uint8Array(0), sw: 0 };
    for (const b of blocks) viaChain = exchange(chained, encodeCommandApdu(b));
    const viaExtended = exchange(extended, bytes);
    expect(viaExtended.sw).toBe(0x9000);
    expect(viaChain.sw).toBe(0x9000);
    expect(hex(viaExtended.data)).toBe(hex(viaChain.data));
    expect(new TextDecoder().decode(extended.toImage())).toBe(new TextDecoder().decode(chained.toImage()));
  });

  function initAgain(card: SimulatedCard, amountFen: number): number {
    return send(card, cmd('initializeForLoad'), { keyIndex: 1, amountFen, terminalId: TERMINAL_ID }).sw;
  }
});

describe('class, instruction and length errors', () => {
  it('answers 6881 to a command on logical channel 1 (basic channel only)', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(raw(card, '815C000204').sw).toBe(0x6881);
    expect(raw(card, selectApdu(DRMB_AID).map((b, i) => (i === 0 ? 0x01 : b))).sw).toBe(0x6881);
  });

  it('answers 6E00 to CLA FF and to the further interindustry class 40', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(raw(card, 'FF5C000204').sw).toBe(0x6e00);
    expect(raw(card, '40B2011C00').sw).toBe(0x6e00);
  });

  it('answers 6D00 to an unknown INS, with or without a selected applet', () => {
    const card = fresh(fundedImage);
    expect(raw(card, '80FE000000').sw).toBe(0x6d00);
    selectApplet(card);
    expect(raw(card, '80FE000000').sw).toBe(0x6d00);
    expect(raw(card, '00FE000000').sw).toBe(0x6d00);
  });

  it('answers 6A86 to a known INS with P1P2 that select no command', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(raw(card, '805C000104').sw).toBe(0x6a86);
    expect(raw(card, '8050000300').sw).toBe(0x6a86);
  });

  it('answers 6700 to a malformed APDU whose Lc does not match the data, and nothing changes', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    const before = card.toImage();
    expect(raw(card, '805C0002050102').sw).toBe(0x6700);
    expect(raw(card, '00A40400').sw).toBe(0x6a80);
    expect(raw(card, '80').sw).toBe(0x6700);
    expect(card.toImage()).toEqual(before);
    expect(balanceOf(card)).toBe(18_000);
  });
});

describe('reset and power-off (ISO/IEC 7816-3 6.2, 6.3)', () => {
  it('clear a verified PIN but keep the coins', () => {
    const card = fresh(fundedImage);
    selectApplet(card);
    expect(send(card, cmd('verify'), { pin: '123456' }).sw).toBe(0x9000);
    expect(send(card, cmd('readCoinRecord'), { record: 1 }).sw).toBe(0x9000);
    card.reset();
    expect(raw(card, GET_BALANCE).sw).toBe(0x6d00); // nothing selected after reset
    selectApplet(card);
    expect(send(card, cmd('readCoinRecord'), { record: 1 }).sw).toBe(0x6982);
    card.powerOff();
    card.powerOn();
    selectApplet(card);
    expect(balanceOf(card)).toBe(18_000);
    expect(card.toImage()).toEqual(fundedImage);
  });

  it('clear an open secure channel: the next wrapped STORE DATA is refused and stores nothing', () => {
    const card = fresh(blankImage);
    selectApplet(card);
    const host = openChannel(card, PERSO_KEYS, 0x30);
    const before = card.toImage();
    card.reset();
    selectApplet(card);
    const r = sendSecure(card, host, storeDataApdu('fci', { applicationLabel: ascii.encode('D-RMB') }, 0, false, PERSO_KEYS.dek));
    expect(r.sw).toBe(0x6982);
    expect(card.memory.dgi('fci')).toBeUndefined();
    expect(card.toImage()).toEqual(before);
  });

  it('clear a pending GET RESPONSE on power-off and on reset', () => {
    for (const cut of ['powerOff', 'reset'] as const) {
      const card = fresh(fundedImage);
      selectApplet(card);
      const { apdu } = creditForLoadCommand(card, 1, { le: 2 });
      expect(raw(card, encodeCommandApdu(apdu)).sw).toBe(0x6102);
      if (cut === 'powerOff') {
        card.powerOff();
        card.powerOn();
      } else card.reset();
      expect(raw(card, '00C0000002').sw).toBe(0x6985);
      // The load committed before the answer: power loss after it keeps the coins.
      expect(card.memory.balanceFen).toBe(18_100);
    }
  });

  it('keep the persistent state through a saved image', () => {
    const card = fresh(fundedImage);
    card.powerOff();
    const again = SimulatedCard.fromImage(card.toImage());
    selectApplet(again);
    expect(balanceOf(again)).toBe(18_000);
    expect(again.memory.counter).toBe(1);
  });
});
