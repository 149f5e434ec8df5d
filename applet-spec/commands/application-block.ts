/** @module APPLICATION BLOCK (JR/T 0025.2 / EMV issuer script, 84 1E 00 00): locks the application. */
import { bytes, empty, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/** APPLICATION BLOCK: ISSUED -> LOCKED (reversible). MAC = line MAC under the issuer MAC key. */
export const applicationBlock = defineCommand({
  name: 'APPLICATION BLOCK',
  id: 'applicationBlock',
  summary: 'Locks the application by issuer script; SELECT then answers 6283 and payments stop.',
  mirrors: 'JR/T 0025.2 / EMV Book 3 6.5.1 APPLICATION BLOCK (84 1E 00 00)',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0x1e,
  p1: 0x00,
  p2: 0x00,
  request: struct({ mac: bytes(4, 'line MAC') }),
  response: empty,
  states: ['ISSUED'],
  security: { lineMac: 'issuerMac', after: 'getChallenge' },
  transitions: [{ from: 'ISSUED', to: 'LOCKED' }],
  sw: [],
  persistent: 'data',
  examples: [
    {
      title: 'block the application',
      request: { mac: Uint8Array.of(0x11, 0x22, 0x33, 0x44) },
      apdu: '84 1E 00 00 04 11223344',
      response: '9000',
      responseValue: {},
    },
  ],
});
