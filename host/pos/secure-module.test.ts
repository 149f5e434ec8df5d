/** @module The POS secure module: per-card purchase key by the card-keys.ts scheme, MAC1 / MAC2, wiping. */
import { describe, expect, it } from 'vitest';
import { TRANSACTION_TYPES } from '../../applet-spec/value-formats.js';
import { uintToBytes } from '../../base/bytes.js';
import { purchaseMac1Data, purchaseMac2Data } from '../../applet-spec/mac-data.js';
import { pbocMac, pbocPurchaseSessionKey } from '../../crypto/pboc.js';
import { cardApplicationKeys, cardIdToBytes } from '../../keys/card-keys.js';
import { generateKey } from '../../personalization/key-ceremony.js';
import { SecureModule, SecureModuleError } from './secure-module.js';

const cbMaster = generateKey('cb-master');
const terminalId = Uint8Array.of(1, 2, 3, 4, 5, 6);
const input = { cardId: '62120000000000000901', cardRandom: Uint8Array.of(9, 8, 7, 6), counter: 5, terminalSequence: 0x10203, amountFen: 3000, date: '20261122', time: '101500' };
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The session key the card computes from its personalized purchase key (DGI 8000). */
function cardSessionKey(cardId: string) {
  const dpk = cardApplicationKeys(cbMaster, cardIdToBytes(cardId)).purchase;
  return pbocPurchaseSessionKey(dpk, input.cardRandom, uintToBytes(input.counter, 4), uintToBytes(input.terminalSequence, 4));
}

describe('secure module', () => {
  it("computes MAC1 under the card's purchase key derived from the cb-master purchase master", () => {
    const sm = new SecureModule(cbMaster.secret.purchase, terminalId);
    const expected = pbocMac(cardSessionKey(input.cardId), purchaseMac1Data({ amountFen: 3000, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId, date: input.date, time: input.time }));
    expect(hex(sm.mac1(input))).toBe(hex(expected));
    // Another card gets another key.
    expect(hex(sm.mac1({ ...input, cardId: '62120000000000000902' }))).not.toBe(hex(expected));
  });

  it('accepts the MAC2 of the card and rejects any other', () => {
    const sm = new SecureModule(cbMaster.secret.purchase, terminalId);
    const mac2 = pbocMac(cardSessionKey(input.cardId), purchaseMac2Data({ amountFen: 3000 }));
    expect(sm.verifyMac2(input, mac2)).toBe(true);
    mac2[3] ^= 1;
    expect(sm.verifyMac2(input, mac2)).toBe(false);
    expect(sm.verifyMac2({ ...input, amountFen: 3001 }, pbocMac(cardSessionKey(input.cardId), purchaseMac2Data({ amountFen: 3000 })))).toBe(false);
  });

  it('copies the master key, and refuses to work once wiped', () => {
    const master = cbMaster.secret.purchase.slice();
    const sm = new SecureModule(master, terminalId);
    const mac = sm.mac1(input);
    master.fill(0);
    expect(hex(sm.mac1(input))).toBe(hex(mac));
    sm.wipe();
    expect(() => sm.mac1(input)).toThrow(SecureModuleError);
  });

  it('rejects a master key or terminal ID of the wrong length without echoing it', () => {
    expect(() => new SecureModule(new Uint8Array(15).fill(0x42), terminalId)).toThrow(/16 bytes/);
    expect(() => new SecureModule(new Uint8Array(15).fill(0x42), terminalId)).not.toThrow(/4242/);
    expect(() => new SecureModule(cbMaster.secret.purchase, new Uint8Array(5))).toThrow(/6 bytes/);
  });
});
