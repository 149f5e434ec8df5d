/** @module GET RESPONSE (ISO/IEC 7816-4 11.6.1): collects response bytes announced by SW 61xx. */
import { empty, rest, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW, swWrongLe } from '../status-words.js';

/**
 * GET RESPONSE, handled by the card OS for every command whose response exceeds the short Le. Hosts
 * may send it with the class byte of the command whose response they collect (00 or 80, with its
 * secure-messaging bits, as apdu4j and GlobalPlatformPro do); it is never wrapped itself.
 */
export const getResponse = defineCommand({
  name: 'GET RESPONSE',
  id: 'getResponse',
  summary: 'Returns the next part of a long response after 61xx (card OS, any state).',
  mirrors: 'ISO/IEC 7816-4 11.6.1 (T=0 style response chaining, also used on T=1 for short Le)',
  cla: 0x00,
  otherClasses: [0x80],
  secureMessaging: 'optional',
  ins: 0xc0,
  p1: 0x00,
  p2: 0x00,
  request: empty,
  le: 256,
  response: struct({ data: rest('next response bytes') }),
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED', 'TERMINATED'],
  security: { note: 'only directly after a response that ended 61xx; otherwise 6985' },
  sw: [SW.CONDITIONS_OF_USE_NOT_SATISFIED, swWrongLe(256)],
  examples: [
    {
      title: 'fetch the last 3 bytes announced by 6103',
      request: {},
      le: 3,
      apdu: '00 C0 00 00 03',
      response: 'A1A2A3 9000',
      responseValue: { data: Uint8Array.of(0xa1, 0xa2, 0xa3) },
    },
  ],
});
