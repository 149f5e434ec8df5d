/** @module PUT DATA (ISO/IEC 7816-4 11.4.6, PBOC issuer script 04 DA): updates a risk parameter. */
import { bytes, empty, leaving, rest, struct } from '../codec/fields.js';
import { PUT_DATA_TAGS } from '../data-objects.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/**
 * PUT DATA. P1P2 = tag (one of the updatable risk parameters: 9F77, 9F78, DF07, DF08, DF09), data =
 * new value (the data object's coder) and a line MAC under the issuer MAC key. Values outside the
 * central-bank defaults (e.g. a single limit above 100000 fen) are rejected with 6A80.
 */
export const putData = defineCommand({
  name: 'PUT DATA',
  id: 'putData',
  summary: 'Updates one risk parameter by issuer script with a line MAC.',
  mirrors: 'ISO/IEC 7816-4 11.4.6; EMV/PBOC issuer script PUT DATA (04 DA)',
  cla: 0x00,
  secureMessaging: 'required',
  ins: 0xda,
  p1: { name: 'tag', description: 'tag of the parameter (P1P2)', allowed: PUT_DATA_TAGS },
  p2: { name: 'tag', description: 'tag of the parameter (P1P2)' },
  p1p2: true,
  request: struct({ value: leaving(rest('new value'), 4), mac: bytes(4, 'line MAC') }),
  response: empty,
  states: ['ISSUED', 'LOCKED'],
  security: { lineMac: 'issuerMac', after: 'getChallenge' },
  sw: [SW.REFERENCED_DATA_NOT_FOUND],
  persistent: 'data',
  examples: [
    {
      title: 'set the single payment limit (9F78) to 1000.00 yuan',
      request: { tag: 0x9f78, value: Uint8Array.of(0, 0, 0, 0x10, 0, 0), mac: Uint8Array.of(0x11, 0x22, 0x33, 0x44) },
      apdu: '04 DA 9F 78 0A 000000100000 11223344',
      response: '9000',
      responseValue: {},
    },
  ],
});
