/** @module INIT SAM FOR PURCHASE (PBOC PSAM MAC1 generation, 80 70 00 00): MAC1 for a card's INITIALIZE FOR PURCHASE answer. */
import { bcdDate, bcdTime, bytes, struct, u32, u8 } from '../codec/fields.js';
import { cardIdCoder } from '../data-objects.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** The request fields INIT SAM FOR PURCHASE and VERIFY PURCHASE MAC2 share: what the card answered and what the terminal will send. */
export const purchaseSamFields = {
  cardRandom: bytes(4, "card random (the card's INITIALIZE FOR PURCHASE answer)"),
  counter: u32,
  amountFen: u32,
  transactionType: u8,
  date: bcdDate,
  time: bcdTime,
  keyVersion: u8,
  algorithmId: u8,
  cardId: cardIdCoder,
} as const;

/**
 * INIT SAM FOR PURCHASE. The PSAM derives the card's purchase key from its purchase master and the card
 * ID (keys/card-keys.ts scheme, key number 2), increments its terminal transaction sequence number and
 * commits it before anything else, then derives the session key from card random || counter || the last
 * two bytes of the new sequence number and returns the sequence number and MAC1 over the D-RMB purchase
 * MAC1 data (amount, type 06, its own terminal number, date, time: applet-spec/mac-data.ts). The session
 * key stays for the CREDIT SAM FOR PURCHASE that follows.
 * Departs from the PBOC PSAM: 4-byte counter, 10-byte BCD card ID in place of the 8-byte application
 * serial, one diversification level only (so Lc is fixed at 0x20); key version must be 01 and algorithm
 * 04 (SM4) (else 9403 / 6A80); a sequence number at FFFFFFFF answers 9402 and is never wrapped.
 */
export const initSamForPurchase = defineCommand({
  name: 'INIT SAM FOR PURCHASE',
  id: 'initSamForPurchase',
  summary: "Computes MAC1 for a card's purchase: takes the next terminal sequence number and returns it with MAC1.",
  mirrors: 'JR/T 0025 PSAM MAC1 generation (80 70 00 00), "INIT SAM FOR PURCHASE"',
  departs: 'Counter on 4 bytes; 10-byte BCD card ID in place of the 8-byte serial; one diversification level (Lc 20); SM4 only.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x70,
  p1: 0x00,
  p2: 0x00,
  request: struct(purchaseSamFields),
  le: 8,
  response: struct({ terminalSequence: u32, mac1: bytes(4, 'MAC1') }),
  states: ['ISSUED'],
  security: { note: 'none; the sequence number is committed before MAC1 is returned' },
  sw: [SW.INCORRECT_DATA, SW.KEY_INDEX_NOT_SUPPORTED, SW.TRANSACTION_COUNTER_MAX],
  persistent: 'counters',
  examples: [
    {
      title: 'MAC1 for 30.00 yuan from card 62120000000000000001 (counter 5)',
      request: {
        cardRandom: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4),
        counter: 5,
        amountFen: 3000,
        transactionType: 6,
        date: '20261122',
        time: '101500',
        keyVersion: 1,
        algorithmId: 4,
        cardId: '62120000000000000001',
      },
      apdu: '80 70 00 00 20 A1B2C3D4 00000005 00000BB8 06 20261122 101500 01 04 62120000000000000001 08',
      response: '00000001 11223344 9000',
      responseValue: { terminalSequence: 1, mac1: Uint8Array.of(0x11, 0x22, 0x33, 0x44) },
    },
  ],
});
