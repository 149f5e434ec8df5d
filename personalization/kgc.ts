/**
 * @module The IBC key-generation centre (KGC) service of issuance: extracts the holder's SM9 signing
 * (hid 01) and encryption (hid 03) user keys for an identity (GM/T 0044 part 2 5.2, part 4 5.2) and
 * hands them out only SM2-encrypted to the card's device key (GB/T 32918.4), so the issuing bank
 * never holds them in clear.
 */
import { wipe } from '../base/bytes.js';
import { sm2Encrypt } from '../crypto/sm2.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey } from '../crypto/sm9/sm9.js';

export interface KgcMasterKeys {
  signPrivateKey: Uint8Array;
  encryptPrivateKey: Uint8Array;
}

export interface EncryptedUserKeys {
  /** SM2 ciphertext (C1||C3||C2) of dsA, the 65-byte G1 signing key: the value of DGI 8A01 */
  signKey: Uint8Array;
  /** SM2 ciphertext of deB, the 129-byte G2 encryption key: the value of DGI 8A02 */
  encryptKey: Uint8Array;
}

/**
 * Extracts both user keys for `identity` and returns them encrypted to `cardPublicKey` (which the
 * caller has taken from a card certificate it verified). Security: KGC only; the clear keys are wiped
 * before returning; throws Sm9MasterKeyError in the (negligible) case the identity hits t1 = 0.
 */
export function kgcIssueUserKeys(master: KgcMasterKeys, identity: string, cardPublicKey: Uint8Array): EncryptedUserKeys {
  const id = new TextEncoder().encode(identity);
  const ds = sm9ExtractSignKey(master.signPrivateKey, id);
  const de = sm9ExtractEncryptKey(master.encryptPrivateKey, id);
  try {
    return { signKey: sm2Encrypt(cardPublicKey, ds), encryptKey: sm2Encrypt(cardPublicKey, de) };
  } finally {
    wipe(ds, de);
  }
}
