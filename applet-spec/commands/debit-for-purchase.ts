/** @module DEBIT FOR PURCHASE (JR/T 0025.2 purchase, 80 54 01 00): pays coins to a POS terminal. */
import { bcdDate, bcdTime, bytes, struct, u32, utf8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { exportPacketCoder } from '../value-formats.js';
import { EXAMPLE_COIN, EXAMPLE_COIN_HEX, EXAMPLE_HEADER, EXAMPLE_HEADER_HEX } from './example-values.js';

const bodyHex = `01 ${EXAMPLE_COIN_HEX} ${'9B'.repeat(97)} ${'00'.repeat(24)}`;
const bodyBytes = Uint8Array.from(bodyHex.replace(/ /g, '').match(/../g)!.map((x) => parseInt(x, 16)));

/**
 * DEBIT FOR PURCHASE. The card checks MAC1 (purchase session key over amount, type 06, terminal ID,
 * date, time), selects coins adding up to exactly the amount, and in one atomic commit marks them
 * spent, increments the counter, appends the log record and stores this whole response for GET
 * TRANSACTION PROVE. The response is TAC, MAC2 and the export packet (type 06, body in clear, signed by
 * the holder's SM9 key); it is longer than 256 bytes and comes through 61xx / GET RESPONSE.
 * Departs from JR/T 0025.2: the data adds the terminal's unpredictable number and the payee identity,
 * and the response carries the coins.
 */
export const debitForPurchase = defineCommand({
  name: 'DEBIT FOR PURCHASE',
  id: 'debitForPurchase',
  summary: 'Pays exactly the amount in coins: MAC1 in; TAC, MAC2 and the SM9-signed export packet out.',
  mirrors: 'JR/T 0025.2 DEBIT FOR PURCHASE (80 54 01 00) plus a D-RMB signed coin export',
  departs: 'Adds unpredictable number and payee identity to the data; the response carries the export packet; 9414 is answered by INITIALIZE FOR PURCHASE (the coins cannot change in between).',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x54,
  p1: 0x01,
  p2: 0x00,
  request: struct({
    terminalSequence: u32,
    date: bcdDate,
    time: bcdTime,
    unpredictableNumber: bytes(8, 'terminal unpredictable number'),
    payeeIdentity: utf8('merchant SM9 identity', 64),
    mac1: bytes(4, 'MAC1'),
  }),
  le: 256,
  response: struct({ tac: bytes(4, 'TAC'), mac2: bytes(4, 'MAC2'), packet: exportPacketCoder }),
  states: ['ISSUED'],
  security: { after: 'initializeForPurchase', transactionMac: 'purchase' },
  sw: [],
  persistent: 'value',
  examples: [
    {
      title: 'pay 30.00 yuan to merchant "shop"',
      request: {
        terminalSequence: 1,
        date: '20261122',
        time: '101500',
        unpredictableNumber: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
        payeeIdentity: 'shop',
        mac1: Uint8Array.of(0x11, 0x22, 0x33, 0x44),
      },
      apdu: '80 54 01 00 1C 00000001 20261122 101500 0102030405060708 04 73686F70 11223344 00',
      response: `55667788 99AABBCC ${EXAMPLE_HEADER_HEX} ${bodyHex} 9000`,
      responseValue: {
        tac: Uint8Array.of(0x55, 0x66, 0x77, 0x88),
        mac2: Uint8Array.of(0x99, 0xaa, 0xbb, 0xcc),
        packet: { header: EXAMPLE_HEADER, body: bodyBytes },
      },
    },
  ],
});

export { EXAMPLE_COIN };
