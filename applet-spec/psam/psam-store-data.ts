/** @module STORE DATA of the PSAM (GP 2.3 11.11, EMV CPS 4.3.4): writes the PSAM's personalization DGIs through the secure channel. */
import { struct, empty } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';
import { dgiListCoder } from '../commands/store-data.js';

/**
 * STORE DATA on the PSAM. P1: b8 last block, b6-b5 encryption (00 none, 11 DEK), b4-b3 = 01 DGI format.
 * P2: block number from 00, one more per command (else 6A86). Accepted in BLANK only, through an SCP03
 * session over key version 30 (the PSAM's personalization keys, diversified like a card's by its serial
 * number). The DGIs are PSAM_DGIS; the completion DGI 7FFF checks that the terminal number and the
 * purchase master are stored and moves the PSAM to ISSUED. Departs from the card's STORE DATA: one stage
 * only, no SM2 encryption (the PSAM holds no device key).
 */
export const psamStoreData = defineCommand({
  name: 'STORE DATA',
  id: 'psamStoreData',
  summary: "Writes the PSAM's terminal number and purchase master key (DGIs) in numbered blocks through the secure channel.",
  mirrors: 'GlobalPlatform Card Specification 2.3 11.11; EMV CPS v1.1 4.3.4',
  departs: 'One personalization stage (BLANK -> ISSUED) over key version 30; no SM2 encryption.',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0xe2,
  p1: { name: 'flags', description: 'b8 last block (80), b6-b5 encryption (60 DEK), b4-b3 DGI format (08)' },
  p2: { name: 'block', description: 'block number 00..FF, consecutive' },
  request: struct({ dgis: dgiListCoder }),
  response: empty,
  states: ['BLANK'],
  security: { channel: 'C-MAC', note: 'over key version 30' },
  transitions: [{ from: 'BLANK', to: 'ISSUED' }],
  sw: [SW.INCORRECT_DATA, SW.INCORRECT_P1P2, SW.REFERENCED_DATA_NOT_FOUND],
  persistent: 'keys',
  examples: [
    {
      title: 'write the terminal number 202611220001 (DGI 0116) as block 00',
      request: { flags: 0x08, block: 0x00, dgis: [{ dgi: 0x0116, value: Uint8Array.of(0x20, 0x26, 0x11, 0x22, 0x00, 0x01) }] },
      apdu: '84 E2 08 00 09 0116 06 202611220001',
      response: '9000',
      responseValue: {},
    },
  ],
});
