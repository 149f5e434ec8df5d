/** @module SELECT by DF name (ISO/IEC 7816-4 11.1.1), answering the D-RMB FCI. */
import { rest, struct, tlv, tlvFields, type Coder } from '../codec/fields.js';
import { DATA_OBJECTS as D } from '../data-objects.js';
import { defineCommand } from '../define-command.js';
import type { AppState } from '../lifecycle.js';
import { SW } from '../status-words.js';

/** FCI: 6F { 84 AID, A5 { 50 label, BF0C { DF01 card ID, DF02 state } } } (EMV Book 1 11.3.4). */
export const fciCoder = tlv(
  D.fciTemplate.tag,
  tlvFields({
    aid: { tag: D.dfName.tag, coder: D.dfName.coder as Coder<Uint8Array> },
    proprietary: {
      tag: D.fciProprietary.tag,
      coder: tlvFields({
        applicationLabel: { tag: D.applicationLabel.tag, coder: D.applicationLabel.coder as Coder<Uint8Array>, optional: true },
        issuerData: {
          tag: D.fciIssuerData.tag,
          coder: tlvFields({
            cardId: { tag: D.cardId.tag, coder: D.cardId.coder as Coder<string>, optional: true },
            appState: { tag: D.appState.tag, coder: D.appState.coder as Coder<AppState> },
          }),
        },
      }),
    },
  }),
  'FCI',
);

/**
 * SELECT. Departs from card-commands.md: none in layout; the card ID is absent from the FCI while the
 * card is BLANK (it has none yet). A locked application is still selected and answers 6283 with its
 * FCI (ISO 7816-4 warning "selected file invalidated"); a terminated one answers 6A81.
 */
export const select = defineCommand({
  name: 'SELECT',
  id: 'select',
  summary: 'Selects the D-RMB applet by AID and returns its FCI with card ID and state.',
  mirrors: 'ISO/IEC 7816-4 11.1.1 SELECT, P1 04 (by DF name), P2 00 (first occurrence, FCI returned)',
  cla: 0x00,
  secureMessaging: 'never',
  ins: 0xa4,
  p1: 0x04,
  p2: 0x00,
  request: struct({ aid: rest('AID', { min: 5, max: 16 }) }),
  le: 256,
  response: fciCoder,
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED', 'TERMINATED'],
  security: { note: 'none; resets the security state (PIN, secure channel, pending transaction)' },
  sw: [SW.FILE_NOT_FOUND, SW.SELECTED_FILE_INVALIDATED, SW.FUNCTION_NOT_SUPPORTED],
  examples: [
    {
      title: 'select the D-RMB applet on an issued card',
      request: { aid: Uint8Array.of(0xf0, 0x44, 0x52, 0x4d, 0x42, 0x01) },
      apdu: '00 A4 04 00 06 F044524D4201 00',
      response: '6F 24 84 06 F044524D4201 A5 1A 50 04 44524D42 BF0C 11 DF01 0A 62120000000000000001 DF02 01 1F 9000',
      responseValue: {
        aid: Uint8Array.of(0xf0, 0x44, 0x52, 0x4d, 0x42, 0x01),
        proprietary: {
          applicationLabel: Uint8Array.of(0x44, 0x52, 0x4d, 0x42),
          issuerData: { cardId: '62120000000000000001', appState: 'ISSUED' },
        },
      },
    },
  ],
});
