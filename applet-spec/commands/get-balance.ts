/** @module GET BALANCE (JR/T 0025.2, 80 5C 00 02): the purse balance in fen. */
import { empty, struct, u32 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';

/** GET BALANCE: the sum of the coins on the card, 4 bytes binary, fen. */
export const getBalance = defineCommand({
  name: 'GET BALANCE',
  id: 'getBalance',
  summary: 'Returns the balance (sum of coins held), in fen.',
  mirrors: 'JR/T 0025.2 GET BALANCE (80 5C 00 02)',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x5c,
  p1: 0x00,
  p2: 0x02,
  request: empty,
  le: 4,
  response: struct({ balanceFen: u32 }),
  states: ['ISSUED', 'LOCKED'],
  security: {},
  sw: [],
  examples: [
    {
      title: 'balance 100.00 yuan',
      request: {},
      apdu: '80 5C 00 02 04',
      response: '00002710 9000',
      responseValue: { balanceFen: 10000 },
    },
  ],
});
