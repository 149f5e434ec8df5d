/** @module INITIALIZE FOR RENEWAL (D-RMB, PBOC style 80 50 09 02): starts the export of coins near their expiry to the bank that renews them. */
import { bcdDate, bcdTime, bytes, struct, u32, utf8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/**
 * INITIALIZE FOR RENEWAL. As INITIALIZE FOR TRANSFER, to the renewing bank's identity and with no
 * withdrawal code, except that the exact coin set is drawn only from the coins whose expiry date is
 * before `expiringBefore`: the EXPORT COINS that follows exports those coins and no others, so that the
 * bank retires the old serials and loads fresh coins of the same total. Checks as INITIALIZE FOR
 * PURCHASE (balance, single limit, offline quota; 9414 when no set of such coins makes the amount);
 * above the PIN threshold the PIN must be verified. Nothing persistent changes.
 */
export const initializeForRenewal = defineCommand({
  name: 'INITIALIZE FOR RENEWAL',
  id: 'initializeForRenewal',
  summary: "Starts exporting coins that expire before a date to the renewing bank; returns balance, counter and card random.",
  mirrors: 'D-RMB; shaped like JR/T 0025.2 INITIALIZE FOR PURCHASE',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x50,
  p1: 0x09,
  p2: 0x02,
  request: struct({
    amountFen: u32,
    expiringBefore: bcdDate,
    payeeIdentity: utf8('renewing bank SM9 identity', 64),
    payeeNonce: bytes(8, 'bank nonce'),
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
      title: 'renew 50.00 yuan of coins expiring before 2027-01-01 at bank "bank"',
      request: {
        amountFen: 5000,
        expiringBefore: '20270101',
        payeeIdentity: 'bank',
        payeeNonce: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1),
        date: '20261122',
        time: '120000',
      },
      apdu: '80 50 09 02 1C 00001388 20270101 04 62616E6B 0807060504030201 20261122 120000 00',
      response: '00002710 00000006 0A0B0C0D 9000',
      responseValue: { balanceFen: 10000, counter: 6, cardRandom: Uint8Array.of(0x0a, 0x0b, 0x0c, 0x0d) },
    },
  ],
});
