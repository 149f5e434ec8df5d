/** @module EXPORT COINS (D-RMB, 80 54 07 00): the signed, payee-encrypted peer payment packet. */
import { bytes, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { exportPacketCoder } from '../value-formats.js';
import { EXAMPLE_HEADER, EXAMPLE_HEADER_HEX } from './example-values.js';

const header = { ...EXAMPLE_HEADER, type: 'TRANSFER' as const };
const headerHex = EXAMPLE_HEADER_HEX.replace(/^02 06/, '02 07');

/**
 * EXPORT COINS. The confirmation echoes the card random of INITIALIZE FOR TRANSFER (6A80 otherwise),
 * so the export belongs to the session the holder confirmed. In one atomic commit the card marks the
 * coins spent, increments the counter, logs, and stores the packet for GET TRANSACTION PROVE. The
 * packet's body (coins, the payer's SM9 signature, and the withdrawal seal: the code with a fresh
 * random salt) is SM9-encrypted to the payee identity; the signed header carries only the seal's
 * commitment (value-formats.ts withdrawalSealCoder), so only the payee can read the code.
 * Departs from card-commands.md: 9414 is answered by INITIALIZE FOR TRANSFER (the coins cannot change
 * in between), so EXPORT COINS does not list it.
 */
export const exportCoins = defineCommand({
  name: 'EXPORT COINS',
  id: 'exportCoins',
  summary: 'Exports coins for the amount as a packet SM9-signed by the payer and SM9-encrypted to the payee.',
  mirrors: 'D-RMB signed coin export (PBOC-style second step)',
  departs: '9414 is answered by INITIALIZE FOR TRANSFER or INITIALIZE FOR RENEWAL, which this command must directly follow. The withdrawal code travels in the encrypted body, with only its salted SM3 commitment in the header.',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x54,
  p1: 0x07,
  p2: 0x00,
  request: struct({ confirmation: bytes(4, 'card random of INITIALIZE FOR TRANSFER') }),
  le: 256,
  response: exportPacketCoder,
  states: ['ISSUED'],
  security: { after: ['initializeForTransfer', 'initializeForRenewal'] },
  sw: [SW.INCORRECT_DATA],
  persistent: 'value',
  examples: [
    {
      title: 'confirm the transfer',
      request: { confirmation: Uint8Array.of(0x0a, 0x0b, 0x0c, 0x0d) },
      apdu: '80 54 07 00 04 0A0B0C0D 00',
      response: `${headerHex} E1E2E3E4E5E6E7E8 9000`,
      responseValue: { header, body: Uint8Array.of(0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8) },
    },
  ],
});
