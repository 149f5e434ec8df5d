/** @module APPLICATION UNBLOCK (JR/T 0025.2 / EMV issuer script, 84 18 00 00): unlocks the application. */
import { bytes, empty, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/** APPLICATION UNBLOCK: LOCKED -> ISSUED. MAC = line MAC under the issuer MAC key. */
export const applicationUnblock = defineCommand({
  name: 'APPLICATION UNBLOCK',
  id: 'applicationUnblock',
  summary: 'Unlocks a locked application by issuer script.',
  mirrors: 'JR/T 0025.2 / EMV Book 3 6.5.2 APPLICATION UNBLOCK (84 18 00 00)',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0x18,
  p1: 0x00,
  p2: 0x00,
  request: struct({ mac: bytes(4, 'line MAC') }),
  response: empty,
  states: ['LOCKED'],
  security: { lineMac: 'issuerMac', after: 'getChallenge' },
  transitions: [{ from: 'LOCKED', to: 'ISSUED' }],
  sw: [],
  persistent: 'data',
  examples: [
    {
      title: 'unblock the application',
      request: { mac: Uint8Array.of(0x11, 0x22, 0x33, 0x44) },
      apdu: '84 18 00 00 04 11223344',
      response: '9000',
      responseValue: {},
    },
  ],
});
