/** @module GET TRANSACTION PROVE (JR/T 0025.2, 80 5A 00 type): the stored response of a past transaction. */
import { rest, struct, u32 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { TRANSACTION_TYPES } from '../value-formats.js';

/**
 * GET TRANSACTION PROVE. P2 = transaction type, data = counter. Answers, byte for byte, the response
 * data the card committed for that transaction (TAC for a load; TAC, MAC2 and packet for a purchase;
 * the packet for a transfer; the receipt for an import). 9406 when no transaction of that type took
 * that counter (it did not happen, or was rolled back by a tear); 6A83 when it is older than the
 * proofs the card retains.
 * Departs from JR/T 0025.2: 4-byte counter, and the whole stored response instead of MAC2/TAC only.
 */
export const getTransactionProve = defineCommand({
  name: 'GET TRANSACTION PROVE',
  id: 'getTransactionProve',
  summary: 'Returns the stored response of the transaction with this counter, to resolve a torn transaction.',
  mirrors: 'JR/T 0025.2 GET TRANSACTION PROVE (80 5A 00 P2)',
  departs: 'Counter on 4 bytes (Lc 04); returns the whole committed response.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x5a,
  p1: 0x00,
  p2: {
    name: 'transactionType',
    description: 'transaction type: 02 load, 06 purchase, 07 transfer, 08 receive',
    allowed: [TRANSACTION_TYPES.LOAD, TRANSACTION_TYPES.PURCHASE, TRANSACTION_TYPES.TRANSFER, TRANSACTION_TYPES.RECEIVE],
  },
  request: struct({ counter: u32 }),
  le: 256,
  response: struct({ storedResponse: rest('response data as first returned') }),
  states: ['ISSUED', 'LOCKED'],
  security: {},
  sw: [SW.MAC_NOT_AVAILABLE, SW.RECORD_NOT_FOUND],
  examples: [
    {
      title: 'proof of the load with counter 5',
      request: { transactionType: TRANSACTION_TYPES.LOAD, counter: 5 },
      apdu: '80 5A 00 02 04 00000005 00',
      response: '55667788 9000',
      responseValue: { storedResponse: Uint8Array.of(0x55, 0x66, 0x77, 0x88) },
    },
  ],
});
