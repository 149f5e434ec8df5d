/** @module AES-CMAC (NIST SP 800-38B, RFC 4493) for AES-128/192/256 keys, built on @noble/ciphers. */
import { cmac } from '@noble/ciphers/aes.js';

/** AES block size in bytes (FIPS 197); also the length of a full CMAC tag. */
export const AES_BLOCK_BYTES = 16;

/** Throws a RangeError unless `key` is an AES-128, AES-192 or AES-256 key (FIPS 197 section 5). */
export function assertAesKey(key: Uint8Array, what = 'AES key'): void {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what}: expected a Uint8Array`);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new RangeError(`${what}: length ${key.length} is not 16, 24 or 32 bytes`);
  }
}

/**
 * AES-CMAC of the concatenation of `parts` under `key` (RFC 4493 section 2.4; SP 800-38B 6.2), full
 * 16-byte tag. Passing the message in parts avoids copying it (e.g. MAC chaining value || APDU).
 * Truncate the tag yourself where a protocol asks for fewer bytes (SP 800-38B 6.2 step 7: the MSBs).
 *
 * Security: a tag must be compared with `equalBytes` (constant time), never with `===` on hex.
 * The key stays the caller's; this function keeps no copy of it once it returns.
 */
export function aesCmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  assertAesKey(key, 'AES-CMAC key');
  // RFC 4493 2.3 subkey generation and 2.4 tag generation are done by @noble/ciphers' CMAC
  // (checked against RFC 4493 section 4 and a from-definition implementation in the tests).
  if (parts.length === 1) return cmac(parts[0], key);
  const mac = cmac.create(key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}
