/** @module INITIALIZE FOR LOAD (JR/T 0025.2 load, 80 50 00 02): starts a coin load from the bank. */
import { bytes, struct, u32, u8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** Algorithm identifier returned by the INITIALIZE FOR commands: 04 = SM4 (PBOC 3.0 SM4 e-purse). */
export const ALGORITHM_SM4 = 0x04;

/** Key index of the application keys the INITIALIZE FOR commands accept (only 01 exists; else 9403). */
export const APPLICATION_KEY_INDEX = 0x01;

/** Key version of the application keys (DGI 8000) answered by the INITIALIZE FOR commands. */
export const APPLICATION_KEY_VERSION = 0x01;

/**
 * INITIALIZE FOR LOAD. The card draws a random, derives the load session key from the load key, the
 * random, the next counter value and 8000 (crypto/pboc), and returns MAC1 over balance, amount, type 02
 * and terminal ID, proving it to the bank. Nothing persistent changes.
 * Departs from card-commands.md / JR/T 0025.2: the counter is 4 bytes (the D-RMB transaction counter)
 * and the key index selects one of the card's load keys (only 01 exists).
 */
export const initializeForLoad = defineCommand({
  name: 'INITIALIZE FOR LOAD',
  id: 'initializeForLoad',
  summary: 'Starts a load: the card returns balance, counter, random and MAC1 for the bank.',
  mirrors: 'JR/T 0025.2 INITIALIZE FOR LOAD (80 50 00 02)',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x50,
  p1: 0x00,
  p2: 0x02,
  request: struct({ keyIndex: u8, amountFen: u32, terminalId: bytes(6, 'terminal ID') }),
  le: 256,
  response: struct({
    balanceFen: u32,
    counter: u32,
    keyVersion: u8,
    algorithmId: u8,
    cardRandom: bytes(4, 'card random'),
    mac1: bytes(4, 'MAC1'),
  }),
  states: ['ISSUED'],
  security: { note: 'none; the bank proves itself with MAC2 in CREDIT FOR LOAD' },
  sw: [SW.KEY_INDEX_NOT_SUPPORTED, SW.OVER_BALANCE_CAP, SW.INCORRECT_DATA],
  examples: [
    {
      title: 'load 100.00 yuan at terminal 112233445566',
      request: { keyIndex: 1, amountFen: 10000, terminalId: Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66) },
      apdu: '80 50 00 02 0B 01 00002710 112233445566 00',
      response: '00000000 00000005 01 04 A1B2C3D4 11223344 9000',
      responseValue: {
        balanceFen: 0,
        counter: 5,
        keyVersion: 1,
        algorithmId: 4,
        cardRandom: Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4),
        mac1: Uint8Array.of(0x11, 0x22, 0x33, 0x44),
      },
    },
  ],
});
