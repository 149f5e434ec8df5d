/** @module CREDIT SAM FOR PURCHASE (PBOC PSAM MAC2 verification, 80 72 00 00): checks the card's MAC2. */
import { bytes, empty, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/**
 * CREDIT SAM FOR PURCHASE. Checks MAC2 (over the amount, applet-spec/mac-data.ts) under the session key
 * of the INIT SAM FOR PURCHASE directly before it. A MAC2 that does not verify answers 9302: the card did
 * not debit as claimed, and the terminal keeps its record and recovers through GET TRANSACTION PROVE.
 * Either way the session key is forgotten, so each MAC2 is checked once.
 */
export const creditSamForPurchase = defineCommand({
  name: 'CREDIT SAM FOR PURCHASE',
  id: 'creditSamForPurchase',
  summary: "Verifies the card's MAC2 of the purchase that INIT SAM FOR PURCHASE started.",
  mirrors: 'JR/T 0025 PSAM MAC2 verification (80 72 00 00 04), "CREDIT SAM FOR PURCHASE"',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x72,
  p1: 0x00,
  p2: 0x00,
  request: struct({ mac2: bytes(4, 'MAC2') }),
  response: empty,
  states: ['ISSUED'],
  security: { after: 'initSamForPurchase', transactionMac: 'purchase' },
  sw: [],
  examples: [
    {
      title: "accept the card's MAC2",
      request: { mac2: Uint8Array.of(0x99, 0xaa, 0xbb, 0xcc) },
      apdu: '80 72 00 00 04 99AABBCC',
      response: '9000',
      responseValue: {},
    },
    { title: 'refuse a MAC2 that does not verify', request: { mac2: Uint8Array.of(0, 0, 0, 0) }, apdu: '80 72 00 00 04 00000000', response: '9302' },
  ],
});
