/** @module EXTERNAL AUTHENTICATE (GP 2.3 11.8, Amendment D 7.1.2): completes SCP03 mutual authentication. */
import { bytes, empty, struct } from '../codec/fields.js';
import { defineCommand } from '../define-command.js';
import { SW } from '../status-words.js';

/** SCP03 security levels (Amendment D 7.1.2.1, P1 of EXTERNAL AUTHENTICATE). */
export const SECURITY_LEVELS = {
  C_MAC: 0x01,
  C_DEC_C_MAC: 0x03,
  R_MAC_C_MAC: 0x11,
  R_MAC_C_DEC_C_MAC: 0x13,
  R_ENC_R_MAC_C_DEC_C_MAC: 0x33,
} as const;

/**
 * EXTERNAL AUTHENTICATE. The data is the host cryptogram and its C-MAC (the first MAC of the session's
 * chain). A wrong cryptogram or MAC answers 6300 and leaves no session open.
 */
export const externalAuthenticate = defineCommand({
  name: 'EXTERNAL AUTHENTICATE',
  id: 'externalAuthenticate',
  summary: 'Proves the host holds the session keys and sets the security level of the secure channel.',
  mirrors: 'GlobalPlatform Card Specification 2.3 11.8; Amendment D (SCP03) 7.1.2',
  cla: 0x80,
  secureMessaging: 'required',
  ins: 0x82,
  p1: { name: 'securityLevel', description: 'security level: 01 C-MAC, 03 +C-DEC, 11/13 +R-MAC, 33 +R-ENC', allowed: Object.values(SECURITY_LEVELS) },
  p2: 0x00,
  request: struct({ hostCryptogram: bytes(8, 'host cryptogram'), cMac: bytes(8, 'C-MAC') }),
  response: empty,
  states: ['BLANK', 'PREPARED', 'ISSUED', 'LOCKED'],
  security: { after: 'initializeUpdate' },
  sw: [SW.AUTHENTICATION_FAILED],
  persistent: 'counters',
  examples: [
    {
      title: 'authenticate at level 33 (C-MAC, C-DEC, R-MAC, R-ENC)',
      request: {
        securityLevel: 0x33,
        hostCryptogram: Uint8Array.of(0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8),
        cMac: Uint8Array.of(0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8),
      },
      apdu: '84 82 33 00 10 B1B2B3B4B5B6B7B8 D1D2D3D4D5D6D7D8',
      response: '9000',
      responseValue: {},
    },
  ],
});

/** The request value of EXTERNAL AUTHENTICATE: security level (P1), host cryptogram and C-MAC. */
export type ExternalAuthenticateRequest = Parameters<typeof externalAuthenticate.encode>[0];
