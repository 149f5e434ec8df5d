/**
 * @module The issuer's side of an issuer script's line MAC (JR/T 0025.2 issuer scripts: APPLICATION
 * BLOCK/UNBLOCK, PUT DATA, RELOAD PIN): SM4 MAC algorithm 1 over header || Lc || data without the MAC,
 * the IV being the card's 4-byte challenge (GET CHALLENGE) padded with zeros, the key the card's own
 * application key (keys/card-keys.ts cardApplicationKey).
 */
import { concatBytes } from '../base/bytes.js';
import { sm4Mac } from '../crypto/sm4-mac.js';
import type { LineMacSigner } from './drmb-card.js';

/** The line MAC length in bytes (the last 4 bytes of the command data). */
export const LINE_MAC_BYTES = 4;

/** A LineMacSigner under `key`, the card's diversified issuerMac or pinReload key. Security: holds the key; wipe it when done. */
export function issuerLineMacSigner(key: Uint8Array): LineMacSigner {
  return (challenge, header, dataWithoutMac) => {
    const iv = new Uint8Array(16);
    iv.set(challenge);
    return sm4Mac(key, concatBytes(header, Uint8Array.of(dataWithoutMac.length + LINE_MAC_BYTES), dataWithoutMac), { iv, length: LINE_MAC_BYTES });
  };
}
