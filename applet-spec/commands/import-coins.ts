/** @module IMPORT COINS (D-RMB, 80 52 08 00): receives a packet and answers a signed receipt. */
import { struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { exportPacketCoder, importResponseCoder } from '../value-formats.js';
import { EXAMPLE_COIN, EXAMPLE_COIN_HEX, EXAMPLE_HEADER, EXAMPLE_HEADER_HEX } from './example-values.js';

const header = { ...EXAMPLE_HEADER, type: 'TRANSFER' as const, payeeIdentity: 'bob' };
const headerHex = EXAMPLE_HEADER_HEX.replace(/^02 06/, '02 07').replace('04 73686F70', '03 626F62');

/**
 * IMPORT COINS. Sent chained. The card checks the packet is addressed to its identity (9417) with one
 * of its outstanding receive nonces (6A80 otherwise), decrypts a TRANSFER body with its SM9 encryption key, verifies the payer's
 * SM9 signature and the coin-list hash (9416), every coin's central-bank signature (9410) and expiry
 * (9418), serials not already held (9411), the amount, the cap (9412) and free slots (6A84). In one
 * atomic commit it stores the coins, increments the counter, retires the nonce, logs, and stores the
 * response under the packet hash. The same packet imported again returns the stored response and
 * credits nothing. A refused or torn import changes nothing, so the same packet can be sent again, in
 * this or any later session, until it is taken. The response is the receipt followed by the packet's
 * settlement body (coins and payer signature, decrypted; never the withdrawal seal) for the payee's bank.
 */
export const importCoins = defineCommand({
  name: 'IMPORT COINS',
  id: 'importCoins',
  summary: 'Receives an export packet (peer payment or terminal change); returns the payee-signed receipt.',
  mirrors: 'D-RMB; shaped like JR/T 0025.2 CREDIT FOR LOAD',
  departs: 'The receive nonce is retired only by a successful import, not by a refused or torn one, and any outstanding nonce is accepted in any session (no command order), so a packet can be retried until it is taken; the response adds the settlement body after the receipt.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x52,
  p1: 0x08,
  p2: 0x00,
  request: struct({ packet: exportPacketCoder }),
  le: 256,
  response: importResponseCoder,
  states: ['ISSUED'],
  security: { note: 'the packet must carry an outstanding receive nonce of this card (INITIALIZE FOR RECEIVE); a packet already imported is answered with its stored response' },
  sw: [
    SW.COIN_SIGNATURE_INVALID,
    SW.DUPLICATE_COIN_SERIAL,
    SW.OVER_BALANCE_CAP,
    SW.PACKET_SIGNATURE_INVALID,
    SW.WRONG_PAYEE,
    SW.COIN_EXPIRED,
    SW.NOT_ENOUGH_MEMORY,
  ],
  persistent: 'value',
  examples: [
    {
      title: 'bob imports a transfer packet',
      request: { packet: { header, body: Uint8Array.of(0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8) } },
      apdu: `80 52 08 00 A1 ${headerHex} E1E2E3E4E5E6E7E8 00`,
      response:
        '01 62120000000000000002 03 626F62 00000003 62120000000000000001 00000006 00000BB8 ' +
        'D1'.repeat(32) +
        ' 20261122 120500 ' +
        '9C'.repeat(97) +
        ` 01 ${EXAMPLE_COIN_HEX} ` +
        '9B'.repeat(97) +
        ' 9000',
      responseValue: {
        receipt: {
          body: {
            version: 1,
            payeeCardId: '62120000000000000002',
            payeeIdentity: 'bob',
            payeeCounter: 3,
            payerCardId: '62120000000000000001',
            payerCounter: 6,
            amountFen: 3000,
            packetHash: new Uint8Array(32).fill(0xd1),
            date: '20261122',
            time: '120500',
          },
          signature: new Uint8Array(97).fill(0x9c),
        },
        settlement: { coins: [EXAMPLE_COIN], signature: new Uint8Array(97).fill(0x9b) },
      },
    },
  ],
});
