/** @module INITIALIZE FOR TRANSFER (D-RMB, PBOC style 80 50 07 02): starts an offline peer payment. */
import { bcd, bcdDate, bcdTime, bytes, struct, u32, utf8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/**
 * INITIALIZE FOR TRANSFER. Names the payee identity, the payee's nonce (from its INITIALIZE FOR
 * RECEIVE, or the payee terminal) and a withdrawal code for a payee with no bank account (it goes
 * into the payee-encrypted body of EXPORT COINS, never into the header). Checks as
 * INITIALIZE FOR PURCHASE; above the PIN threshold the PIN must be verified. Nothing persistent changes.
 */
export const initializeForTransfer = defineCommand({
  name: 'INITIALIZE FOR TRANSFER',
  id: 'initializeForTransfer',
  summary: 'Starts a peer payment to a payee identity; returns balance, counter and card random.',
  mirrors: 'D-RMB; shaped like JR/T 0025.2 INITIALIZE FOR PURCHASE',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x50,
  p1: 0x07,
  p2: 0x02,
  request: struct({
    amountFen: u32,
    payeeIdentity: utf8('payee SM9 identity', 64),
    payeeNonce: bytes(8, 'payee nonce'),
    withdrawalCode: bcd(16, 'withdrawal code n16, zeros when unused'),
    date: bcdDate,
    time: bcdTime,
  }),
  le: 256,
  response: struct({ balanceFen: u32, counter: u32, cardRandom: bytes(4, 'card random') }),
  states: ['ISSUED'],
  security: { pin: 'above-threshold' },
  sw: [SW.INSUFFICIENT_BALANCE, SW.OVER_SINGLE_LIMIT, SW.NO_EXACT_COIN_SET, SW.OFFLINE_QUOTA_EXHAUSTED],
  examples: [
    {
      title: 'send 50.00 yuan to "bob" with withdrawal code 1234567890123456',
      request: {
        amountFen: 5000,
        payeeIdentity: 'bob',
        payeeNonce: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1),
        withdrawalCode: '1234567890123456',
        date: '20261122',
        time: '120000',
      },
      apdu: '80 50 07 02 1F 00001388 03 626F62 0807060504030201 1234567890123456 20261122 120000 00',
      response: '00002710 00000006 0A0B0C0D 9000',
      responseValue: { balanceFen: 10000, counter: 6, cardRandom: Uint8Array.of(0x0a, 0x0b, 0x0c, 0x0d) },
    },
  ],
});
