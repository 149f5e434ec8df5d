/** @module INITIALIZE UPDATE (GP 2.3 11.7, Amendment D 7.1.1): opens an SCP03 session. */
import { bytes, optional, struct, u24, u8 } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** SCP03 key versions the applet knows. */
export const KEY_VERSIONS = {
  /** central-bank personalization keys, diversified per card from the central bank's master keys */
  PERSONALIZATION: 0x30,
  /** commercial-bank issuance keys, written in DGI 8001 during card prep */
  ISSUANCE: 0x31,
} as const;

/**
 * INITIALIZE UPDATE. P1 = key version (00 = the personalization key set), P2 = 00 (key identifier).
 * The response is Amd D 7.1.1.6 Table 7-3 in S8 mode: key diversification data, key information
 * (key version, SCP identifier 03, the "i" parameter of Amd D 5.1), card challenge, card cryptogram,
 * and the sequence counter when i b5 asks for pseudo-random card challenges.
 * Shares INS 50 with the PBOC INITIALIZE FOR ... commands; they differ by P2 (00 here, 02 there).
 * Departs from card-commands.md: accepted in every state but TERMINATED (SET STATUS needs a secure
 * channel on issued cards); key version 31 exists only once DGI 8001 is stored (else 6A88).
 */
export const initializeUpdate = defineCommand({
  name: 'INITIALIZE UPDATE',
  id: 'initializeUpdate',
  summary: 'Starts SCP03 mutual authentication: host challenge in, card challenge and cryptogram out.',
  mirrors: 'GlobalPlatform Card Specification 2.3 11.7; Amendment D (SCP03) 7.1.1',
  cla: 0x80,
  secureMessaging: 'never',
  ins: 0x50,
  p1: { name: 'keyVersion', description: 'key version number (00 = default, 30 personalization, 31 issuance)', allowed: [0x00, 0x30, 0x31] },
  p2: 0x00,
  request: struct({ hostChallenge: bytes(8, 'host challenge') }),
  le: 256,
  response: struct({
    keyDiversificationData: bytes(10, 'key diversification data (the card ID)'),
    keyVersion: u8,
    scpId: u8,
    iParameter: u8,
    cardChallenge: bytes(8, 'card challenge'),
    cardCryptogram: bytes(8, 'card cryptogram'),
    sequenceCounter: optional(u24),
  }),
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED'],
  security: { note: 'none; any open secure channel is closed first' },
  sw: [SW.REFERENCED_DATA_NOT_FOUND, SW.AUTHENTICATION_METHOD_BLOCKED],
  persistent: 'counters',
  examples: [
    {
      title: 'open a session with the personalization keys',
      request: { keyVersion: 0x30, hostChallenge: Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88) },
      apdu: '80 50 30 00 08 1122334455667788 00',
      response: '62120000000000000001 30 03 70 A1A2A3A4A5A6A7A8 C1C2C3C4C5C6C7C8 9000',
      responseValue: {
        keyDiversificationData: Uint8Array.of(0x62, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x01),
        keyVersion: 0x30,
        scpId: 0x03,
        iParameter: 0x70,
        cardChallenge: Uint8Array.of(0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8),
        cardCryptogram: Uint8Array.of(0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8),
      },
    },
  ],
});

/** The request value of INITIALIZE UPDATE: key version (P1) and host challenge. */
export type InitializeUpdateRequest = Parameters<typeof initializeUpdate.encode>[0];

/** The response data of INITIALIZE UPDATE, decoded. */
export type InitializeUpdateResponse = ReturnType<typeof initializeUpdate.decodeResponse>;
