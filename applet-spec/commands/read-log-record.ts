/** @module READ RECORD of the transaction log, SFI 18 (ISO/IEC 7816-4 11.3.3, PBOC/EMV log file). */
import { empty } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { logRecordCoder } from '../value-formats.js';

/** Short file identifier of the cyclic transaction log. */
export const LOG_SFI = 0x18;

/**
 * READ RECORD (log). Cyclic file: record 1 is the most recent transaction. A record never written
 * answers 6A83. Readable without PIN, as the PBOC log is.
 */
export const readLogRecord = defineCommand({
  name: 'READ RECORD (log)',
  id: 'readLogRecord',
  summary: 'Reads one transaction log record, most recent first.',
  mirrors: 'ISO/IEC 7816-4 11.3.3 READ RECORD; JR/T 0025.2 / EMV transaction log (9F4D)',
  cla: 0x00,
  secureMessaging: 'never',
  ins: 0xb2,
  p1: { name: 'record', description: 'record number, 1 = most recent' },
  p2: (LOG_SFI << 3) | 0x04,
  request: empty,
  le: 256,
  response: logRecordCoder,
  states: ['ISSUED', 'LOCKED'],
  security: {},
  sw: [SW.RECORD_NOT_FOUND],
  examples: [
    {
      title: 'the latest record: a 100-yuan load',
      request: { record: 1 },
      apdu: '00 B2 01 C4 00',
      response: '00000005 02 00002710 00002710 00000000112233445566 20261122 101500 0102030405060708 9000',
      responseValue: {
        counter: 5,
        type: 'LOAD',
        amountFen: 10000,
        balanceAfterFen: 10000,
        counterparty: Uint8Array.of(0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66),
        date: '20261122',
        time: '101500',
        coinSetHash: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
      },
    },
  ],
});
