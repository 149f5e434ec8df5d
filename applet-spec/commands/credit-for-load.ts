/** @module CREDIT FOR LOAD (JR/T 0025.2 load, 80 52 00 00): writes the loaded coins, answering TAC. */
import { bcdDate, bcdTime, bytes, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { coinListCoder } from '../value-formats.js';
import { EXAMPLE_COIN, EXAMPLE_COIN_HEX } from './example-values.js';

/**
 * CREDIT FOR LOAD. Sent chained when longer than 255 bytes. The card checks MAC2 (load session key
 * over amount, type 02, terminal ID, date, time and SM3 of the coin list), then every coin: format,
 * central-bank SM2 signature under the key of its key index (9410), expiry (9418), serial not already
 * on the card or in the list (9411), coins adding up to the amount of INITIALIZE FOR LOAD (6A80;
 * that command already checked the balance cap, 9412), free slots (6A84). Then, in one atomic commit: coins stored, counter + 1, log
 * record, and the response kept for GET TRANSACTION PROVE. TAC covers new balance, counter, amount,
 * type, terminal ID, date and time.
 * Departs from JR/T 0025.2: the data carries the coins, and MAC2 also covers SM3 of the coin list.
 */
export const creditForLoad = defineCommand({
  name: 'CREDIT FOR LOAD',
  id: 'creditForLoad',
  summary: 'Stores the coins the bank loads, after MAC2 and coin signature checks; returns TAC.',
  mirrors: 'JR/T 0025.2 CREDIT FOR LOAD (80 52 00 00)',
  departs: 'Carries the coins themselves; MAC2 additionally covers SM3 of the coin list; 9412 is answered by INITIALIZE FOR LOAD, since the coins must add up to its amount.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x52,
  p1: 0x00,
  p2: 0x00,
  request: struct({
    date: bcdDate,
    time: bcdTime,
    coins: coinListCoder,
    mac2: bytes(4, 'MAC2'),
  }),
  le: 256,
  response: struct({ tac: bytes(4, 'TAC') }),
  states: ['ISSUED'],
  security: { after: 'initializeForLoad', transactionMac: 'load' },
  sw: [SW.COIN_SIGNATURE_INVALID, SW.DUPLICATE_COIN_SERIAL, SW.COIN_EXPIRED, SW.NOT_ENOUGH_MEMORY],
  persistent: 'value',
  examples: [
    {
      title: 'load one 100-yuan coin',
      request: { date: '20261122', time: '101500', coins: [EXAMPLE_COIN], mac2: Uint8Array.of(0x11, 0x22, 0x33, 0x44) },
      apdu: `80 52 00 00 7A 20261122 101500 01 ${EXAMPLE_COIN_HEX} 11223344 00`,
      response: '55667788 9000',
      responseValue: { tac: Uint8Array.of(0x55, 0x66, 0x77, 0x88) },
    },
  ],
});
