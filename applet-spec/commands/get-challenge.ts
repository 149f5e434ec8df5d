/** @module GET CHALLENGE (ISO/IEC 7816-4 11.5.3): a random number for the PBOC line MAC IV. */
import { empty, rest, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/**
 * GET CHALLENGE. The card answers 4 or 8 random bytes as Le asks; the challenge is the IV of the next
 * line MAC only (forgotten after that command or on deselect). Any other Le is answered 6700.
 */
export const getChallenge = defineCommand({
  name: 'GET CHALLENGE',
  id: 'getChallenge',
  summary: 'Returns 4 or 8 random bytes used as the IV of the next line-MAC-protected command.',
  mirrors: 'ISO/IEC 7816-4 11.5.3; PBOC issuer scripts',
  cla: 0x00,
  secureMessaging: 'never',
  ins: 0x84,
  p1: 0x00,
  p2: 0x00,
  request: empty,
  le: 8,
  response: struct({ challenge: rest('random bytes', { min: 4, max: 8 }) }),
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED'],
  security: {},
  sw: [],
  examples: [
    {
      title: 'an 8-byte challenge',
      request: {},
      apdu: '00 84 00 00 08',
      response: '1122334455667788 9000',
      responseValue: { challenge: Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88) },
    },
  ],
});
