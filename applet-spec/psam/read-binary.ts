/** @module READ BINARY (ISO 7816-4 11.2.3, 00 B0 with a short EF identifier): the PSAM's terminal number and sequence number files. */
import { empty, rest, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/** P1 of READ BINARY by short EF identifier: b8 set, b5-b1 the SFI (ISO 7816-4 11.2.3). */
export const PSAM_FILES = {
  /** SFI 16: the 6-byte terminal number, as PBOC terminals read it (00 B0 96 00 06) */
  terminalNumber: 0x96,
  /** SFI 17: the 4-byte terminal transaction sequence number last taken, big-endian */
  terminalSequence: 0x97,
} as const;

/**
 * READ BINARY. P1 = 80 | SFI selects the file (96: terminal number, 97: last sequence number); P2 = 00
 * (offset 0: each file is read whole). Other files are answered 6A86; a PSAM not yet personalized has
 * neither file (6985). The purchase master has no file and cannot be read.
 * Departs from PBOC: the sequence number file (SFI 17) is a D-RMB addition; offsets other than 0 are not supported.
 */
export const readBinary = defineCommand({
  name: 'READ BINARY',
  id: 'readBinary',
  summary: 'Reads the terminal number (SFI 16) or the last terminal sequence number (SFI 17) of the PSAM.',
  mirrors: 'ISO/IEC 7816-4 11.2.3 READ BINARY by short EF identifier; JR/T 0025 PSAM terminal number 00 B0 96 00 06',
  departs: 'SFI 17 (sequence number) added; offset must be 0.',
  cla: 0x00,
  secureMessaging: 'never',
  ins: 0xb0,
  p1: { name: 'file', description: '80 | short EF identifier: 96 terminal number, 97 sequence number', allowed: Object.values(PSAM_FILES) },
  p2: 0x00,
  request: empty,
  le: 256,
  response: struct({ contents: rest('file contents') }),
  states: ['ISSUED'],
  security: {},
  sw: [],
  examples: [
    {
      title: 'read the terminal number, as PBOC terminals do',
      request: { file: 0x96 },
      le: 6,
      apdu: '00 B0 96 00 06',
      response: '202611220001 9000',
      responseValue: { contents: Uint8Array.of(0x20, 0x26, 0x11, 0x22, 0x00, 0x01) },
    },
    { title: 'read the last sequence number', request: { file: 0x97 }, apdu: '00 B0 97 00 00', response: '00000007 9000', responseValue: { contents: Uint8Array.of(0, 0, 0, 7) } },
  ],
});
