/** @module INITIALIZE FOR RECEIVE (D-RMB, 80 50 08 02): the payee card's identity, nonce and room. */
import { bytes, empty, struct, u32, utf8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** Receive nonces a card keeps outstanding; a newer one pushes the oldest out (the packet made for it is then refused). */
export const RECEIVE_NONCE_SLOTS = 8;

/**
 * INITIALIZE FOR RECEIVE. The card draws a fresh payee nonce and reports how much more it can hold
 * (balance cap minus balance). 9412 when it can hold nothing more, 6A84 when every coin slot is used.
 * The nonce is kept persistently among the card's outstanding receive nonces (the newest
 * RECEIVE_NONCE_SLOTS; a newer one pushes the oldest out) until a packet carrying it is imported, so a
 * refused or torn import can be retried after a reset or power loss.
 */
export const initializeForReceive = defineCommand({
  name: 'INITIALIZE FOR RECEIVE',
  id: 'initializeForReceive',
  summary: 'Starts receiving coins: returns the payee identity, a nonce, the room under the cap and the counter.',
  mirrors: 'D-RMB; shaped like JR/T 0025.2 INITIALIZE FOR LOAD',
  departs: 'The nonce is written persistently (one of the newest RECEIVE_NONCE_SLOTS outstanding nonces), not kept for the session only.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x50,
  p1: 0x08,
  p2: 0x02,
  request: empty,
  le: 256,
  response: struct({
    payeeIdentity: utf8('payee SM9 identity', 64),
    nonce: bytes(8, 'payee nonce'),
    roomFen: u32,
    counter: u32,
  }),
  states: ['ISSUED'],
  security: {},
  sw: [SW.OVER_BALANCE_CAP, SW.NOT_ENOUGH_MEMORY],
  persistent: 'nonces',
  examples: [
    {
      title: 'bob gets ready to receive',
      request: {},
      apdu: '80 50 08 02 00',
      response: '03 626F62 0807060504030201 000F4240 00000002 9000',
      responseValue: { payeeIdentity: 'bob', nonce: Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1), roomFen: 1_000_000, counter: 2 },
    },
  ],
});
