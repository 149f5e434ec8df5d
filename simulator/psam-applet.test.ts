/** @module The simulated PSAM: MAC1 against an independent computation, MAC2 checks, the sequence number across power cuts and reloads, refusals before personalization, malformed APDUs. */
import { describe, expect, it } from 'vitest';
import { decodeResponseApdu } from '../applet-spec/codec/apdu.js';
import { u32 } from '../applet-spec/codec/fields.js';
import { PSAM_AID } from '../applet-spec/commands/aid.js';
import { select } from '../applet-spec/commands/select.js';
import { purchaseMac1Data, purchaseMac2Data } from '../applet-spec/mac-data.js';
import { initSamForPurchase, nextTerminalSequence, psamStoreData, readBinary } from '../applet-spec/psam-commands.js';
import { SW } from '../applet-spec/status-words.js';
import { TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { fromHex, hex } from '../base/hex.js';
import { pbocMac, pbocPurchaseSessionKey } from '../crypto/pboc.js';
import { directTransport } from '../host/direct-transport.js';
import { Psam } from '../host/psam.js';
import { cardApplicationKeys, cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { generateKey } from '../personalization/key-ceremony.js';
import { personalizePsam, PsamPersoError } from '../personalization/personalize-psam.js';
import { CardImageError } from './card-image-error.js';
import { PowerLossError } from './persistent-store.js';
import { SimulatedCard } from './simulated-card.js';
import type { SimulatedPsam } from './simulated-psam.js';

const cbMaster = generateKey('cb-master');
const PSAM_ID = '88000000000000000001';
const TERMINAL_NUMBER = fromHex('202611220001');
const CARD_ID = '62120000000000000901';
const input = {
  cardRandom: fromHex('09080706'),
  counter: 5,
  amountFen: 3000,
  transactionType: TRANSACTION_TYPES.PURCHASE,
  date: '20261122',
  time: '101500',
  keyVersion: 1,
  algorithmId: 4,
  cardId: CARD_ID,
};

function blankPsam(): SimulatedPsam {
  return SimulatedCard.psam({ psamId: PSAM_ID, personalizationKeys: cardScpKeys(cbMaster, cardIdToBytes(PSAM_ID)) });
}

async function issuedPsam(): Promise<SimulatedPsam> {
  const sim = blankPsam();
  await personalizePsam(directTransport(sim), cardScpKeys(cbMaster, cardIdToBytes(PSAM_ID)), { terminalNumber: TERMINAL_NUMBER, purchaseMaster: cbMaster.secret.purchase });
  return sim;
}

/** One APDU to the simulated PSAM: its status word and data. */
function send(sim: SimulatedPsam, apdu: Uint8Array | string): { sw: number; data: Uint8Array } {
  return decodeResponseApdu(sim.transmit(typeof apdu === 'string' ? fromHex(apdu) : apdu));
}

const selectPsam = (sim: SimulatedPsam) => expect(send(sim, select.encodeBytes({ aid: PSAM_AID })).sw).toBe(SW.OK);

/** The card side, computed independently of the PSAM: the card's purchase key as card prep writes it into DGI 8000. */
function cardSessionKey(terminalSequence: number, cardId = CARD_ID): Uint8Array {
  const dpk = cardApplicationKeys(cbMaster, cardIdToBytes(cardId)).purchase;
  return pbocPurchaseSessionKey(dpk, input.cardRandom, u32.encode(input.counter), u32.encode(terminalSequence));
}

describe('PSAM MAC1 and MAC2', () => {
  it("answers sequence number 1, then 2, each with the MAC1 the card's purchase key gives over amount, type 06, its terminal number, date and time", async () => {
    const psam = new Psam(directTransport(await issuedPsam()));
    await psam.select();
    for (const seq of [1, 2]) {
      const r = await psam.initSamForPurchase(input);
      const expected = pbocMac(cardSessionKey(seq), purchaseMac1Data({ amountFen: 3000, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: TERMINAL_NUMBER, date: input.date, time: input.time }));
      expect(r.terminalSequence).toBe(seq);
      expect(hex(r.mac1)).toBe(hex(expected));
    }
    expect(await psam.lastSequence()).toBe(2);
    // Another card gets another key.
    const other = await psam.initSamForPurchase({ ...input, cardId: '62120000000000000902' });
    expect(hex(other.mac1)).not.toBe(hex(pbocMac(cardSessionKey(3), purchaseMac1Data({ amountFen: 3000, transactionType: 6, terminalId: TERMINAL_NUMBER, date: input.date, time: input.time }))));
  });

  it("accepts the card's MAC2 directly after INIT SAM FOR PURCHASE, once; refuses any other MAC2 with 9302", async () => {
    const psam = new Psam(directTransport(await issuedPsam()));
    await psam.select();
    const { terminalSequence } = await psam.initSamForPurchase(input);
    const mac2 = pbocMac(cardSessionKey(terminalSequence), purchaseMac2Data({ amountFen: 3000 }));
    expect(await psam.creditSamForPurchase(mac2)).toBe(true);
    // The session is used up: a second MAC2 check is out of order.
    await expect(psam.creditSamForPurchase(mac2)).rejects.toMatchObject({ sw: SW.CONDITIONS_OF_USE_NOT_SATISFIED });

    const again = await psam.initSamForPurchase(input);
    const bad = pbocMac(cardSessionKey(again.terminalSequence), purchaseMac2Data({ amountFen: 3000 }));
    bad[0] ^= 1;
    expect(await psam.creditSamForPurchase(bad)).toBe(false);
    // After a refusal the session is gone too: the right MAC2 no longer gets a second try.
    await expect(psam.creditSamForPurchase(pbocMac(cardSessionKey(again.terminalSequence), purchaseMac2Data({ amountFen: 3000 })))).rejects.toMatchObject({ sw: SW.CONDITIONS_OF_USE_NOT_SATISFIED });
  });

  it('refuses CREDIT SAM FOR PURCHASE after any command other than INIT SAM FOR PURCHASE with 6985', async () => {
    const psam = new Psam(directTransport(await issuedPsam()));
    await psam.select();
    const { terminalSequence } = await psam.initSamForPurchase(input);
    await psam.terminalNumber();
    await expect(psam.creditSamForPurchase(pbocMac(cardSessionKey(terminalSequence), purchaseMac2Data({ amountFen: 3000 })))).rejects.toMatchObject({ sw: SW.CONDITIONS_OF_USE_NOT_SATISFIED });
  });

  it('verifies the MAC2 of an earlier purchase from its inputs and sequence number, without taking a sequence number', async () => {
    const psam = new Psam(directTransport(await issuedPsam()));
    await psam.select();
    const { terminalSequence } = await psam.initSamForPurchase(input);
    await psam.initSamForPurchase(input);
    const mac2 = pbocMac(cardSessionKey(terminalSequence), purchaseMac2Data({ amountFen: 3000 }));
    expect(await psam.verifyPurchaseMac2({ ...input, terminalSequence, mac2 })).toBe(true);
    expect(await psam.verifyPurchaseMac2({ ...input, terminalSequence: terminalSequence + 1, mac2 })).toBe(false);
    expect(await psam.lastSequence()).toBe(2);
  });

  it('gives NEXT TERMINAL SEQUENCE numbers from the same counter as MAC1', async () => {
    const psam = new Psam(directTransport(await issuedPsam()));
    await psam.select();
    expect((await psam.initSamForPurchase(input)).terminalSequence).toBe(1);
    expect(await psam.nextTerminalSequence()).toBe(2);
    expect((await psam.initSamForPurchase(input)).terminalSequence).toBe(3);
  });
});

describe('PSAM sequence number', () => {
  it('never goes backwards nor repeats when the power is cut at every write of INIT SAM FOR PURCHASE', async () => {
    const sim = await issuedPsam();
    const given: number[] = [];
    for (let k = 1; k <= 6; k++) {
      selectPsam(sim);
      const before = sim.memory.sequence;
      sim.store.cutPowerAfterWrites(k);
      let answered = false;
      try {
        const r = send(sim, initSamForPurchase.encodeBytes(input));
        expect(r.sw).toBe(SW.OK);
        given.push(initSamForPurchase.decodeResponse(r.data).terminalSequence);
        answered = true;
      } catch (e) {
        expect(e).toBeInstanceOf(PowerLossError);
      }
      sim.store.disarm();
      sim.powerOn();
      // All or nothing, and a number that was answered is committed.
      expect([before, before + 1]).toContain(sim.memory.sequence);
      if (answered) expect(sim.memory.sequence).toBe(before + 1);
    }
    selectPsam(sim);
    const after = initSamForPurchase.decodeResponse(send(sim, initSamForPurchase.encodeBytes(input)).data).terminalSequence;
    expect(after).toBeGreaterThan(Math.max(0, ...given));
    expect(new Set([...given, after]).size).toBe(given.length + 1);
  });

  it('continues after the image is saved and loaded again', async () => {
    const sim = await issuedPsam();
    const psam = new Psam(directTransport(sim));
    await psam.select();
    await psam.initSamForPurchase(input);
    await psam.nextTerminalSequence();
    const reloaded = new Psam(directTransport(SimulatedCard.psamFromImage(sim.toImage())));
    await reloaded.select();
    expect(await reloaded.lastSequence()).toBe(2);
    expect((await reloaded.initSamForPurchase(input)).terminalSequence).toBe(3);
  });

  it('answers 9402 at FFFFFFFF and never wraps to 0', async () => {
    const sim = await issuedPsam();
    sim.store.begin();
    sim.memory.setSequence(0xffffffff);
    sim.store.commit();
    selectPsam(sim);
    expect(send(sim, initSamForPurchase.encodeBytes(input)).sw).toBe(SW.TRANSACTION_COUNTER_MAX);
    expect(send(sim, nextTerminalSequence.encodeBytes({})).sw).toBe(SW.TRANSACTION_COUNTER_MAX);
    expect(sim.memory.sequence).toBe(0xffffffff);
  });
});

describe('PSAM personalization and refusals', () => {
  it('refuses MAC1, files and MAC2 with 6985 before personalization, with no sequence number taken', () => {
    const sim = blankPsam();
    selectPsam(sim);
    expect(send(sim, initSamForPurchase.encodeBytes(input)).sw).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(send(sim, readBinary.encodeBytes({ file: 0x96 }, { le: 6 })).sw).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(send(sim, nextTerminalSequence.encodeBytes({})).sw).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(sim.memory.sequence).toBe(0);
    expect(sim.memory.state).toBe('BLANK');
  });

  it('refuses STORE DATA outside the secure channel (6982) and a second personalization', async () => {
    const blank = blankPsam();
    selectPsam(blank);
    expect(send(blank, psamStoreData.encodeBytes({ flags: 0x88, block: 0, dgis: [{ dgi: 0x7fff, value: new Uint8Array(0) }] })).sw).toBe(SW.SECURITY_STATUS_NOT_SATISFIED);
    expect(blank.memory.state).toBe('BLANK');
    const sim = await issuedPsam();
    await expect(personalizePsam(directTransport(sim), cardScpKeys(cbMaster, cardIdToBytes(PSAM_ID)), { terminalNumber: TERMINAL_NUMBER, purchaseMaster: cbMaster.secret.purchase })).rejects.toBeInstanceOf(
      PsamPersoError,
    );
  });

  it('never answers the purchase master: no READ BINARY file holds it', async () => {
    const sim = await issuedPsam();
    selectPsam(sim);
    const master = hex(cbMaster.secret.purchase);
    for (let p1 = 0x80; p1 <= 0x9f; p1++) {
      const r = send(sim, Uint8Array.of(0x00, 0xb0, p1, 0x00, 0x00));
      expect(hex(r.data)).not.toContain(master);
      if (p1 !== 0x96 && p1 !== 0x97) expect(r.sw).toBe(SW.INCORRECT_P1P2);
    }
  });

  it.each([
    ['INIT SAM FOR PURCHASE one byte short', () => initSamForPurchase.encodeBytes(input).subarray(0, 5 + 31).map((b, i) => (i === 4 ? 31 : b)), SW.WRONG_LENGTH],
    ['INIT SAM FOR PURCHASE with P1 01', () => initSamForPurchase.encodeBytes(input).map((b, i) => (i === 2 ? 1 : b)), SW.INCORRECT_P1P2],
    ['INIT SAM FOR PURCHASE for a load (type 02)', () => initSamForPurchase.encodeBytes({ ...input, transactionType: TRANSACTION_TYPES.LOAD }), SW.INCORRECT_DATA],
    ['INIT SAM FOR PURCHASE with algorithm 02', () => initSamForPurchase.encodeBytes({ ...input, algorithmId: 2 }), SW.INCORRECT_DATA],
    ['INIT SAM FOR PURCHASE under key version 02', () => initSamForPurchase.encodeBytes({ ...input, keyVersion: 2 }), SW.KEY_INDEX_NOT_SUPPORTED],
    ['INIT SAM FOR PURCHASE with a date that is no date', () => initSamForPurchase.encodeBytes(input).map((b, i) => (i === 5 + 4 + 4 + 4 + 1 ? 0xaa : b)), SW.INCORRECT_DATA],
    ['INIT SAM FOR PURCHASE with secure-messaging class 84', () => initSamForPurchase.encodeBytes(input).map((b, i) => (i === 0 ? 0x84 : b)), SW.CLA_NOT_SUPPORTED],
    ['CREDIT SAM FOR PURCHASE with a 3-byte MAC2', () => fromHex('80 72 00 00 03 010203'), SW.WRONG_LENGTH],
    ['an instruction the PSAM does not have', () => fromHex('80 7E 00 00 00'), SW.INS_NOT_SUPPORTED],
    ['READ BINARY with an offset', () => fromHex('00 B0 96 01 06'), SW.INCORRECT_P1P2],
  ])('answers %s with its ISO status word and changes nothing', async (_name, apdu, sw) => {
    const sim = await issuedPsam();
    selectPsam(sim);
    const image = hex(sim.toImage());
    expect(send(sim, apdu()).sw.toString(16)).toBe(sw.toString(16));
    expect(hex(sim.toImage())).toBe(image);
    expect(sim.memory.sequence).toBe(0);
  });

  it('refuses a PSAM image with a record a PSAM never writes, and a card image as a PSAM', async () => {
    const sim = await issuedPsam();
    sim.store.begin();
    sim.store.put('purse/coins', new Uint8Array(0));
    sim.store.commit();
    expect(() => SimulatedCard.psamFromImage(sim.toImage())).toThrow(CardImageError);
    const card = new SimulatedCard({ manufacture: { cardId: CARD_ID } });
    expect(() => SimulatedCard.psamFromImage(card.toImage())).toThrow(/psam\/sequence: missing/);
    expect(() => SimulatedCard.fromImage(sim.toImage())).toThrow(CardImageError);
  });
});

