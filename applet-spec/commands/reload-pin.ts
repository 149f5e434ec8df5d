/** @module RELOAD PIN (JR/T 0025.2 PIN reload): resets a blocked or forgotten PIN by issuer script. */
import { bcdPin, bytes, empty, leaving, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/**
 * RELOAD PIN. The MAC is a line MAC under the PIN reload key, over CLA INS P1 P2 Lc and the new PIN,
 * with the IV from GET CHALLENGE. It also resets the try counter to the limit of DGI 9010.
 * Departs from card-commands.md: CLA 84 (not 80) because the MAC covers the header like the other
 * issuer-script commands, and the challenge makes a captured command useless later.
 */
export const reloadPin = defineCommand({
  name: 'RELOAD PIN',
  id: 'reloadPin',
  summary: 'Sets a new PIN and resets its try counter, authorised by an issuer line MAC.',
  mirrors: 'JR/T 0025.2 RELOAD PIN (80 5E 00 00)',
  departs: 'CLA 84 with a line MAC over the header (card-commands.md has CLA 80 and a MAC over the PIN only).',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0x5e,
  p1: 0x00,
  p2: 0x00,
  request: struct({ pin: leaving(bcdPin(4, 12), 4), mac: bytes(4, 'line MAC') }),
  response: empty,
  states: ['ISSUED'],
  security: { lineMac: 'pinReload', after: 'getChallenge' },
  sw: [],
  persistent: 'keys',
  examples: [
    {
      title: 'reload PIN 123456',
      request: { pin: '123456', mac: Uint8Array.of(0x11, 0x22, 0x33, 0x44) },
      apdu: '84 5E 00 00 07 123456 11223344',
      response: '9000',
      responseValue: {},
    },
  ],
});
