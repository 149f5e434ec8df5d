/** @module INITIALIZE FOR PURCHASE (JR/T 0025.2 purchase, 80 50 01 02): starts a POS purse debit. */
import { bytes, struct, u32, u8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { TERMINAL_ID } from './example-values.js';

/**
 * INITIALIZE FOR PURCHASE. Checks the amount against balance (9401), the single payment limit (9413),
 * the offline count and amount quota (9415) and whether coins adding up to exactly the amount exist
 * (9414: the terminal then pays change into the card first, or asks for a larger amount). Above the
 * PIN threshold the PIN must have been verified (6982). Nothing persistent changes.
 * Departs from JR/T 0025.2: 4-byte counter, no overdraft limit field, 9414 reported here already.
 */
export const initializeForPurchase = defineCommand({
  name: 'INITIALIZE FOR PURCHASE',
  id: 'initializeForPurchase',
  summary: 'Starts a POS payment: limits and exact-coin check; returns balance, counter and card random.',
  mirrors: 'JR/T 0025.2 INITIALIZE FOR PURCHASE (80 50 01 02)',
  departs: 'Counter on 4 bytes; no overdraft limit; 9414 (no exact coin set) already reported here.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x50,
  p1: 0x01,
  p2: 0x02,
  request: struct({ keyIndex: u8, amountFen: u32, terminalId: bytes(6, 'terminal ID') }),
  le: 256,
  response: struct({
    balanceFen: u32,
    counter: u32,
    keyVersion: u8,
    algorithmId: u8,
    cardRandom: bytes(4, 'card random'),
  }),
  states: ['ISSUED'],
  security: { pin: 'above-threshold' },
  sw: [SW.INCORRECT_DATA, SW.INSUFFICIENT_BALANCE, SW.KEY_INDEX_NOT_SUPPORTED, SW.OVER_SINGLE_LIMIT, SW.NO_EXACT_COIN_SET, SW.OFFLINE_QUOTA_EXHAUSTED],
  examples: [
    {
      title: 'pay 30.00 yuan at terminal 112233445566',
      request: { keyIndex: 1, amountFen: 3000, terminalId: TERMINAL_ID },
      apdu: '80 50 01 02 0B 01 00000BB8 112233445566 00',
      response: '00002710 00000005 01 04 A1B2C3D4 9000',
      responseValue: { balanceFen: 10000, counter: 5, keyVersion: 1, algorithmId: 4, cardRandom: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4) },
    },
  ],
});
