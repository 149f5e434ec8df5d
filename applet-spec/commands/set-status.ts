/** @module SET STATUS (GP 2.3 11.10): terminates the D-RMB application. */
import { empty, rest, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/**
 * SET STATUS. P1 = 40 (application), P2 = FF (TERMINATED), data = the applet AID (6A88 for another
 * AID). Refused with 6985 while coins remain on the card: they must be redeemed first.
 * Departs from GP 2.3, where an application cannot be set to FF: terminating is this applet's own end
 * state, signalled with the card-level TERMINATED value.
 */
export const setStatus = defineCommand({
  name: 'SET STATUS',
  id: 'setStatus',
  summary: 'Terminates the application irreversibly (only with no coins left).',
  mirrors: 'GlobalPlatform Card Specification 2.3 11.10 SET STATUS',
  departs: 'P2 = FF terminates the application (GP reserves FF for the card).',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0xf0,
  p1: 0x40,
  p2: 0xff,
  request: struct({ aid: rest('AID', { min: 5, max: 16 }) }),
  response: empty,
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED'],
  security: { channel: 'C-MAC' },
  transitions: [
    { from: 'BLANK', to: 'TERMINATED' },
    { from: 'PREPARED', to: 'TERMINATED' },
    { from: 'ISSUED', to: 'TERMINATED' },
    { from: 'LOCKED', to: 'TERMINATED' },
  ],
  sw: [SW.REFERENCED_DATA_NOT_FOUND],
  persistent: 'data',
  examples: [
    {
      title: 'terminate the applet',
      request: { aid: Uint8Array.of(0xf0, 0x44, 0x52, 0x4d, 0x42, 0x01) },
      apdu: '84 F0 40 FF 06 F044524D4201',
      response: '9000',
      responseValue: {},
    },
  ],
});
