/** @module VERIFY PURCHASE MAC2 (D-RMB PSAM extension, 80 74 00 00): checks the MAC2 of an earlier purchase recovered from the card. */
import { bytes, struct, u32, empty } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { purchaseSamFields } from './init-sam-for-purchase.js';

/**
 * VERIFY PURCHASE MAC2. A debit whose answer was lost is recovered from the card's GET TRANSACTION PROVE
 * at a later contact, when the PSAM's session of that purchase is long gone. The terminal sends the
 * fields of that INIT SAM FOR PURCHASE, the sequence number it got, and the recovered MAC2; the PSAM
 * derives the same session key and answers 9000 or 9302. Nothing persistent changes and no MAC1 is
 * produced, so the command cannot authorize a debit.
 * Departs from the PBOC PSAM, which has no such command (PBOC recovers with the TAC at the acquirer).
 */
export const verifyPurchaseMac2 = defineCommand({
  name: 'VERIFY PURCHASE MAC2',
  id: 'verifyPurchaseMac2',
  summary: 'Verifies the MAC2 of an earlier purchase, recovered by GET TRANSACTION PROVE, from its INIT SAM data and sequence number.',
  mirrors: 'none (D-RMB extension beside JR/T 0025 PSAM MAC2 verification)',
  departs: 'D-RMB extension: PBOC PSAMs verify MAC2 only within the session of INIT SAM FOR PURCHASE.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x74,
  p1: 0x00,
  p2: 0x00,
  request: struct({ ...purchaseSamFields, terminalSequence: u32, mac2: bytes(4, 'MAC2') }),
  response: empty,
  states: ['ISSUED'],
  security: { transactionMac: 'purchase' },
  sw: [SW.INCORRECT_DATA, SW.KEY_INDEX_NOT_SUPPORTED],
  examples: [
    {
      title: 'verify the MAC2 of sequence number 1, recovered from card 62120000000000000001',
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
        terminalSequence: 1,
        mac2: Uint8Array.of(0x99, 0xaa, 0xbb, 0xcc),
      },
      apdu: '80 74 00 00 28 A1B2C3D4 00000005 00000BB8 06 20261122 101500 01 04 62120000000000000001 00000001 99AABBCC',
      response: '9000',
      responseValue: {},
    },
  ],
});
