/** @module VERIFY (ISO/IEC 7816-4 11.5.6, JR/T 0025.2): presents the holder PIN. */
import { bcdPin, empty, optional, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW, swTriesLeft } from '../status-words.js';

/**
 * VERIFY. A wrong PIN answers 63Cx with the tries left and decrements the try counter (persistently,
 * before answering); at zero the PIN is blocked (6983) until RELOAD PIN. An empty data field asks for
 * the tries left without presenting a PIN (ISO 7816-4: 63Cx, or 9000 when already verified).
 */
export const verify = defineCommand({
  name: 'VERIFY',
  id: 'verify',
  summary: 'Checks the holder PIN; the PIN stays verified until deselect or reset.',
  mirrors: 'ISO/IEC 7816-4 11.5.6; JR/T 0025.2 VERIFY',
  cla: 0x00,
  secureMessaging: 'never',
  ins: 0x20,
  p1: 0x00,
  p2: 0x00,
  request: struct({ pin: optional(bcdPin(4, 12)) }),
  response: empty,
  states: ['ISSUED'],
  security: {},
  sw: [swTriesLeft(0), SW.AUTHENTICATION_METHOD_BLOCKED],
  persistent: 'counters',
  examples: [
    {
      title: 'present PIN 12345',
      request: { pin: '12345' },
      apdu: '00 20 00 00 03 12345F',
      response: '9000',
      responseValue: {},
    },
    {
      title: 'ask for the tries left',
      request: {},
      apdu: '00 20 00 00',
      response: '63C3',
    },
  ],
});
