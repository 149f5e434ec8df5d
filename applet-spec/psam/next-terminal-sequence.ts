/** @module NEXT TERMINAL SEQUENCE (D-RMB PSAM extension, 80 76 00 00): takes a terminal sequence number for a packet the terminal itself signs. */
import { struct, u32, empty } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/**
 * NEXT TERMINAL SEQUENCE. The terminal signs CHANGE packets itself (its own SM9 key), and the registry
 * keys them by terminal and sequence number, so each needs a number no other transaction of the terminal
 * has. The PSAM increments its sequence number, commits it, and returns it: the same counter INIT SAM
 * FOR PURCHASE takes from, so numbers never repeat across purchases and change.
 * Departs from the PBOC PSAM, which advances the number only with MAC1.
 */
export const nextTerminalSequence = defineCommand({
  name: 'NEXT TERMINAL SEQUENCE',
  id: 'nextTerminalSequence',
  summary: 'Takes the next terminal transaction sequence number (committed before it is returned), for a CHANGE packet.',
  mirrors: 'none (D-RMB extension; the PBOC PSAM sequence number)',
  departs: 'D-RMB extension: PBOC PSAMs advance the sequence number only in INIT SAM FOR PURCHASE.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x76,
  p1: 0x00,
  p2: 0x00,
  request: empty,
  le: 4,
  response: struct({ terminalSequence: u32 }),
  states: ['ISSUED'],
  security: { note: 'none; the sequence number is committed before it is returned' },
  sw: [SW.TRANSACTION_COUNTER_MAX],
  persistent: 'counters',
  examples: [{ title: 'take sequence number 2', request: {}, apdu: '80 76 00 00 04', response: '00000002 9000', responseValue: { terminalSequence: 2 } }],
});
