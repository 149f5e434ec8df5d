/** @module READ RECORD of the coin file, SFI 1A (ISO/IEC 7816-4 11.3.3): one coin per record. */
import { defineCommand } from '../define-command.js';
import { empty } from '../codec/fields.js';
import { SW } from '../status-words.js';
import { coinCoder } from '../value-formats.js';
import { EXAMPLE_COIN, EXAMPLE_COIN_HEX } from './example-values.js';

/** Short file identifier of the coin file. */
export const COIN_SFI = 0x1a;

/**
 * READ RECORD (coins). P1 = record number (1 = first coin held), P2 = SFI 1A << 3 | 4 (D4, "read
 * record P1"). A record number beyond the coins held answers 6A83. ISSUED only: it needs a PIN verified
 * since SELECT, and VERIFY is not taken in LOCKED, so a locked card refuses it 6985 rather than 6982.
 */
export const readCoinRecord = defineCommand({
  name: 'READ RECORD (coins)',
  id: 'readCoinRecord',
  summary: 'Reads one coin held by the card.',
  mirrors: 'ISO/IEC 7816-4 11.3.3 READ RECORD, P2 = SFI << 3 | 100b',
  cla: 0x00,
  secureMessaging: 'never',
  ins: 0xb2,
  p1: { name: 'record', description: 'record number, 1..number of coins' },
  p2: (COIN_SFI << 3) | 0x04,
  request: empty,
  le: 256,
  response: coinCoder,
  states: ['ISSUED'],
  security: { pin: 'always' },
  sw: [SW.RECORD_NOT_FOUND],
  examples: [
    {
      title: 'read the first coin',
      request: { record: 1 },
      apdu: '00 B2 01 D4 00',
      response: `${EXAMPLE_COIN_HEX} 9000`,
      responseValue: EXAMPLE_COIN,
    },
  ],
});
