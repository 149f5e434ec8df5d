/** @module Per-card static key diversification from issuer master keys by the card's key diversification data: GlobalPlatformPro "KDF3" (counter-mode AES-CMAC), EMV CPS-style AES-ECB diversification, and key check values (AES per GP Amd D, SM4). */
import { ecb } from '@noble/ciphers/aes.js';
import { FormatError } from '../base/format-error.js';
import { AES_BLOCK_BYTES, aesCmac, assertAesKey } from './aes-cmac.js';
import type { Scp03StaticKeys } from './scp03.js';
import { sm4EncryptBlock, sm4KeySchedule } from './sm4.js';

/** Master keys (or card keys): one key per purpose, as in a GP keyset. */
export type DiversifiedKeys = Scp03StaticKeys;

/** Key purposes in GP order, with the number GP uses for each (ENC 1, MAC 2, DEK 3). */
const PURPOSES = [
  ['enc', 0x01],
  ['mac', 0x02],
  ['dek', 0x03],
] as const;

/**
 * Fixed input of the GlobalPlatformPro KDF3 scheme for each key (PlaintextKeys.SCP03_KDF_CONSTANTS):
 * 00 00 00 0k 00 with k = 1 (ENC), 2 (MAC), 3 (DEK).
 */
export const KDF3_CONSTANTS: Readonly<Record<'enc' | 'mac' | 'dek', Uint8Array>> = Object.freeze({
  enc: Uint8Array.of(0x00, 0x00, 0x00, 0x01, 0x00),
  mac: Uint8Array.of(0x00, 0x00, 0x00, 0x02, 0x00),
  dek: Uint8Array.of(0x00, 0x00, 0x00, 0x03, 0x00),
});

/**
 * One key of the KDF3 scheme: NIST SP 800-108 counter mode with AES-CMAC as PRF and an 8-bit counter
 * before the fixed input, i.e. block_i = AES-CMAC(master, i || constant || kdd) for i = 1, 2, ...,
 * output = the leftmost master.length bytes. This is the exact input GlobalPlatformPro builds
 * (BouncyCastle KDFCounterBytesGenerator, empty prefix, r = 8, suffix = constant || KDD); unlike the
 * SCP03 session KDF (Amd D 4.1.5) it has no 11-byte label and no L field.
 */
export function kdf3DiversifyKey(master: Uint8Array, constant: Uint8Array, kdd: Uint8Array): Uint8Array {
  assertAesKey(master, 'KDF3 master key');
  if (kdd.length === 0) throw new FormatError('key diversification data', 'is empty');
  const blocks = Math.ceil(master.length / AES_BLOCK_BYTES);
  const out = new Uint8Array(blocks * AES_BLOCK_BYTES);
  for (let i = 1; i <= blocks; i++) out.set(aesCmac(master, Uint8Array.of(i), constant, kdd), (i - 1) * AES_BLOCK_BYTES);
  const key = out.slice(0, master.length);
  out.fill(0);
  return key;
}

/**
 * Card static keys from master keys with the GlobalPlatformPro "KDF3" scheme: each key is
 * {@link kdf3DiversifyKey}(master of that purpose, KDF3_CONSTANTS[purpose], kdd). `kdd` is the key
 * diversification data the card returns in INITIALIZE UPDATE (10 bytes). Each card key has the
 * length of its master key. Security: the masters must never be loaded into a card; the outputs are
 * secrets the caller wipes after use.
 */
export function diversifyKdf3(masterKeys: DiversifiedKeys, kdd: Uint8Array): DiversifiedKeys {
  const out = {} as Record<'enc' | 'mac' | 'dek', Uint8Array>;
  for (const [purpose] of PURPOSES) out[purpose] = kdf3DiversifyKey(masterKeys[purpose], KDF3_CONSTANTS[purpose], kdd);
  return out;
}

/**
 * The 16-byte EMV CPS diversification block for key number `keyNumber` (1 ENC, 2 MAC, 3 DEK), as GP
 * tools build it from the 10-byte INITIALIZE UPDATE KDD (EMV CPS 1.1 / GP "EMV" method):
 * KDD[4..9] || F0 || keyNumber || KDD[4..9] || 0F || keyNumber.
 */
export function emvDiversificationBlock(kdd: Uint8Array, keyNumber: number): Uint8Array {
  if (kdd.length !== 10) throw new FormatError('key diversification data', `length ${kdd.length} is not 10`);
  const block = new Uint8Array(16);
  block.set(kdd.subarray(4, 10), 0);
  block[6] = 0xf0;
  block[7] = keyNumber;
  block.set(kdd.subarray(4, 10), 8);
  block[14] = 0x0f;
  block[15] = keyNumber;
  return block;
}

/**
 * Card static keys from master keys, EMV CPS style, for AES masters. For each key, D =
 * {@link emvDiversificationBlock}(kdd, k) and
 *  - AES-128: card key = AES-ECB(master, D)  (16 bytes);
 *  - AES-192/256: card key = leftmost bytes of AES-ECB(master, D) || AES-ECB(master, D XOR FF..FF).
 * The 16-byte case is the GP "EMV" method with AES in place of 3DES. For longer keys no GP or EMV CPS
 * rule exists; this project lengthens the output with the complemented block as EMV Book 2 A1.4.1
 * (option A master key derivation) does, so other tools may differ for AES-192/256: confirm with
 * the key ceremony before relying on it. Security: as for {@link diversifyKdf3}.
 */
export function diversifyEmv(masterKeys: DiversifiedKeys, kdd: Uint8Array): DiversifiedKeys {
  const out = {} as Record<'enc' | 'mac' | 'dek', Uint8Array>;
  for (const [purpose, keyNumber] of PURPOSES) {
    const master = masterKeys[purpose];
    assertAesKey(master, `EMV master key ${purpose}`);
    const d = emvDiversificationBlock(kdd, keyNumber);
    // @noble/ciphers refuses to reuse one cipher object, hence one ecb() per block.
    const encrypt = (block: Uint8Array): Uint8Array => ecb(master, { disablePadding: true }).encrypt(block);
    if (master.length === 16) {
      out[purpose] = encrypt(d);
    } else {
      const z = new Uint8Array(32);
      z.set(encrypt(d), 0);
      z.set(encrypt(d.map((b) => b ^ 0xff)), 16);
      out[purpose] = z.slice(0, master.length);
      z.fill(0);
    }
  }
  return out;
}

/** Block ciphers whose keys have a key check value here. */
export type KcvAlgorithm = 'aes' | 'sm4';

/**
 * Key check value: the first 3 bytes of
 *  - 'aes' (default): AES(key, 16 bytes 01) - the GP Amendment D KCV of AES keys (PUT KEY key check value);
 *  - 'sm4': SM4(key, 16 bytes 00) - the usual KCV of SM4 keys (as for DES/3DES: encrypt zeros).
 * The algorithm cannot be told from a 16-byte key, hence the parameter. A KCV identifies a key; it
 * is not secret, but it does let anyone test a guessed key, so do not compute it for low-entropy keys.
 */
export function keyCheckValue(key: Uint8Array, algorithm: KcvAlgorithm = 'aes'): Uint8Array {
  if (algorithm === 'aes') {
    assertAesKey(key, 'KCV key');
    return ecb(key, { disablePadding: true }).encrypt(new Uint8Array(16).fill(0x01)).slice(0, 3);
  }
  if (algorithm === 'sm4') {
    const rk = sm4KeySchedule(key);
    const block = sm4EncryptBlock(rk, new Uint8Array(16));
    rk.fill(0);
    return block.slice(0, 3);
  }
  throw new RangeError(`keyCheckValue: unknown algorithm ${String(algorithm)}`);
}
