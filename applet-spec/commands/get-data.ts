/** @module GET DATA for one data object by tag (ISO/IEC 7816-4 11.4.3, EMV Book 3 6.5.7). */
import { coder, empty } from '../codec/fields.js';
import { parseTlvOne } from '../codec/tlv.js';
import { GET_DATA_TAGS } from '../data-objects.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** The response: the data object as one TLV (tag, length, value), as EMV GET DATA returns it. */
export const dataObjectResponse = coder<{ tag: number; value: Uint8Array }>({
  size: undefined,
  describe: 'the requested data object as one BER-TLV; decode its value with the data-object table',
  write(v, out) {
    const tagBytes = v.tag > 0xff ? [v.tag >> 8, v.tag & 0xff] : [v.tag];
    out.push(...tagBytes);
    const n = v.value.length;
    if (n < 0x80) out.push(n);
    else if (n <= 0xff) out.push(0x81, n);
    else out.push(0x82, n >> 8, n & 0xff);
    out.push(...v.value);
  },
  read(r) {
    // parseTlvOne's value is already a copy, not a view of the response
    const t = parseTlvOne(r.rest());
    return { tag: t.tag, value: t.value };
  },
});

/**
 * GET DATA. P1P2 is the tag. Departs from card-commands.md: 9F36 is 4 bytes (the D-RMB transaction
 * counter), and amounts use EMV's n12 BCD.
 */
export const getData = defineCommand({
  name: 'GET DATA',
  id: 'getData',
  summary: 'Reads one data object (balance, limits, counter, PIN tries, card ID, identity, certificate, coin summary).',
  mirrors: 'ISO/IEC 7816-4 11.4.3; EMV Book 3 6.5.7 / PBOC electronic cash tags',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0xca,
  p1: { name: 'tag', description: 'tag of the data object (P1P2)', allowed: GET_DATA_TAGS },
  p2: { name: 'tag', description: 'tag of the data object (P1P2)' },
  p1p2: true,
  request: empty,
  le: 256,
  response: dataObjectResponse,
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED'],
  security: {},
  sw: [SW.REFERENCED_DATA_NOT_FOUND],
  examples: [
    {
      title: 'read the balance (9F79): 123.45 yuan',
      request: { tag: 0x9f79 },
      apdu: '80 CA 9F 79 00',
      response: '9F79 06 000000012345 9000',
      responseValue: { tag: 0x9f79, value: Uint8Array.of(0, 0, 0, 1, 0x23, 0x45) },
    },
  ],
});
