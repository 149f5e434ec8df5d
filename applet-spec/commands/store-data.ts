/** @module STORE DATA (GP 2.3 11.11, EMV CPS 4.3.4): writes personalization DGIs through the secure channel. */
import { coder, empty, struct } from '../codec/fields.js';
import { type Dgi, encodeDgiList, parseDgiList } from '../codec/dgi.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** The data field: one or more DGIs (EMV CPS Annex A format). */
export const dgiListCoder = coder<Dgi[]>({
  size: undefined,
  describe: 'DGIs: 2-byte DGI, length (1 byte, or FF + 2 bytes), value; values encrypted as P1 says',
  write(v, out) {
    out.push(...encodeDgiList(v));
  },
  read: (r) => parseDgiList(r.rest()),
});

/**
 * STORE DATA. P1: b8 last block, b6-b5 encryption (00 none, 01 SM2 to the card key, 11 DEK), b4-b3 = 01
 * DGI format (required). P2: block number, from 00 and incremented by one per command (else 6A86).
 * Stage-1 DGIs are accepted in BLANK over key version 30, stage-2 DGIs in PREPARED over key version 31;
 * the completion DGI 7FFF moves the state on. An encrypted block carries exactly one DGI.
 * Departs from card-commands.md: adds the SM2 application-dependent encryption (P1 b6-b5 = 01) for
 * the SM9 user keys and DGI 8001 (issuance key set); no 6A84, since the card reserves the room for
 * every DGI of its layout at installation.
 */
export const storeData = defineCommand({
  name: 'STORE DATA',
  id: 'storeData',
  summary: 'Writes personalization data groups (DGIs) in numbered blocks through the secure channel.',
  mirrors: 'GlobalPlatform Card Specification 2.3 11.11; EMV CPS v1.1 4.3.4',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0xe2,
  p1: { name: 'flags', description: 'b8 last block (80), b6-b5 encryption (20 SM2, 60 DEK), b4-b3 DGI format (08)' },
  p2: { name: 'block', description: 'block number 00..FF, consecutive' },
  request: struct({ dgis: dgiListCoder }),
  response: empty,
  states: ['BLANK', 'PREPARED'],
  security: { channel: 'C-MAC', note: 'stage-1 DGIs over key version 30 in BLANK; stage-2 DGIs over key version 31 in PREPARED' },
  transitions: [
    { from: 'BLANK', to: 'PREPARED' },
    { from: 'PREPARED', to: 'ISSUED' },
  ],
  sw: [SW.INCORRECT_DATA, SW.INCORRECT_P1P2, SW.REFERENCED_DATA_NOT_FOUND],
  persistent: 'keys',
  examples: [
    {
      title: 'write the PIN try limit (DGI 9010) as block 05',
      request: { flags: 0x08, block: 0x05, dgis: [{ dgi: 0x9010, value: Uint8Array.of(0x03) }] },
      apdu: '84 E2 08 05 04 9010 01 03',
      response: '9000',
      responseValue: {},
    },
  ],
});
