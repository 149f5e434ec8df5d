/**
 * @module The IBC key-generation centre (KGC) of issuance: for a card whose certificate verifies, it
 * extracts the holder's SM9 signing (hid 01) and encryption (hid 03) user keys for an identity
 * (GM/T 0044 part 2 5.2, part 4 5.2) and hands them out only SM2-encrypted to the certified card key
 * (GB/T 32918.4), so the issuing bank never holds them in clear. The issuance desk asks through a
 * UserKeySource: the KGC service over HTTP (kgc-client.ts), or an in-process KGC for development.
 */
import { wipe } from '../base/bytes.js';
import { FormatError } from '../applet-spec/errors.js';
import type { CardCertificate } from '../applet-spec/value-formats.js';
import { sm2Encrypt } from '../crypto/sm2.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey } from '../crypto/sm9/sm9.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { verifyCardCertificate } from './card-certificate.js';

/** The KGC's SM9 master private keys: the signature master ks and the encryption master ke (GM/T 0044). */
export interface KgcMasterKeys {
  signPrivateKey: Uint8Array;
  encryptPrivateKey: Uint8Array;
}

/** A holder's SM9 keys as the KGC sends them: each SM2-encrypted to the card's (or terminal's) public key. */
export interface EncryptedUserKeys {
  /** SM2 ciphertext (C1||C3||C2) of dsA, the 65-byte G1 signing key: the value of DGI 8A01 */
  signKey: Uint8Array;
  /** SM2 ciphertext of deB, the 129-byte G2 encryption key: the value of DGI 8A02 */
  encryptKey: Uint8Array;
}

/** What an issuance desk asks the KGC for: the keys of `identity`, for the card of this certificate (tag 7F21 value). */
export interface KeyExtractionRequest {
  certificate: Uint8Array;
  identity: string;
}

/** Who answers the desk's requests: the KGC service (remoteKgc), or inProcessKgc in development. */
export type UserKeySource = (request: KeyExtractionRequest) => Promise<EncryptedUserKeys>;

/** Longest identity the KGC extracts for, in UTF-8 bytes (the one-byte length of the card's identity record leaves room; 64 is the toolchain's limit for every identity). */
export const MAX_IDENTITY_BYTES = 64;

/**
 * Fixed SM2 encryption nonces for the two user keys, for known-answer tests ONLY (sm2Encrypt's k):
 * two runs given the same nonces answer the same bytes. Without them k comes from the CSPRNG.
 */
export interface KgcNonces {
  signKey: Uint8Array;
  encryptKey: Uint8Array;
}

/**
 * Extracts both user keys for `identity` and returns them encrypted to `cardPublicKey` (which the
 * caller has taken from a card certificate it verified). Security: KGC only; the clear keys are wiped
 * before returning; throws Sm9MasterKeyError in the (negligible) case the identity hits t1 = 0.
 */
export function kgcIssueUserKeys(master: KgcMasterKeys, identity: string, cardPublicKey: Uint8Array, nonces?: KgcNonces): EncryptedUserKeys {
  const id = new TextEncoder().encode(identity);
  const ds = sm9ExtractSignKey(master.signPrivateKey, id);
  const de = sm9ExtractEncryptKey(master.encryptPrivateKey, id);
  try {
    return {
      signKey: sm2Encrypt(cardPublicKey, ds, nonces ? { k: nonces.signKey } : undefined),
      encryptKey: sm2Encrypt(cardPublicKey, de, nonces ? { k: nonces.encryptKey } : undefined),
    };
  } finally {
    wipe(ds, de);
  }
}

/**
 * The KGC's rule for one request, whoever carries it: the identity is 1..64 bytes of UTF-8, the
 * certificate verifies under the central bank's certificate key of the trust anchors and has not
 * expired on `today` (YYMMDD), and the keys go out encrypted to the key it certifies. Throws
 * FormatError naming what is wrong. Security: the KGC master keys.
 */
export function kgcAnswer(
  master: KgcMasterKeys,
  anchors: Pick<TrustAnchors, 'certSigning'>,
  request: KeyExtractionRequest,
  today: string,
  nonces?: KgcNonces,
): { cert: CardCertificate; keys: EncryptedUserKeys } {
  checkIdentity(request.identity);
  const cert = verifyCardCertificate(request.certificate, [anchors.certSigning]);
  if (cert.expiryDate < today) throw new FormatError('card certificate', `expired on ${cert.expiryDate}`);
  return { cert, keys: kgcIssueUserKeys(master, request.identity, cert.cardPublicKey, nonces) };
}

/**
 * The KGC's rule for a terminal's own keys (a payee without a card): the identity is 1..64 bytes of
 * UTF-8, and the keys go out encrypted to `terminalPublicKey`, the key the KGC lists bound to that
 * identity (the caller has checked the binding and the request's signature). Throws FormatError.
 * Security: the KGC master keys.
 */
export function kgcTerminalAnswer(master: KgcMasterKeys, identity: string, terminalPublicKey: Uint8Array): EncryptedUserKeys {
  checkIdentity(identity);
  return kgcIssueUserKeys(master, identity, terminalPublicKey);
}

function checkIdentity(identity: string): void {
  const bytes = new TextEncoder().encode(identity).length;
  if (bytes < 1 || bytes > MAX_IDENTITY_BYTES) throw new FormatError('identity', `must be 1 to ${MAX_IDENTITY_BYTES} bytes of UTF-8`);
}

/** Today as the certificate writes dates, YYMMDD (UTC). */
export function yymmdd(now: Date): string {
  return now.toISOString().slice(2, 10).replace(/-/g, '');
}

/**
 * Where a KGC in the desk's process may compute: this thread, or a worker of a PersoCryptoPool
 * (personalization/perso-crypto.ts), which is given the master keys by structured clone per request.
 */
export interface KgcComputer {
  kgcAnswer(master: KgcMasterKeys, anchors: Pick<TrustAnchors, 'certSigning'>, request: KeyExtractionRequest, today: string): Promise<EncryptedUserKeys>;
}

/** A KGC in the desk's own process (inProcessKgc): a UserKeySource that can also run its rule elsewhere. */
export interface InProcessKgc extends UserKeySource {
  /** The same KGC, its rule computed by `computer` (a worker pool) instead of this thread. */
  computingOn(computer: KgcComputer): UserKeySource;
}

/**
 * A KGC in the desk's own process: the same rule as the service, without the desk's signature.
 * Development and tests only: it needs the KGC master keys, which no issuance desk holds
 * (keys/role-bundles.ts); `drmb perso issue` uses it only with a whole ceremony directory.
 */
export function inProcessKgc(master: KgcMasterKeys, anchors: Pick<TrustAnchors, 'certSigning'>, now: () => Date = () => new Date()): InProcessKgc {
  const source: UserKeySource = async (request) => kgcAnswer(master, anchors, request, yymmdd(now())).keys;
  return Object.assign(source, {
    computingOn: (computer: KgcComputer): UserKeySource => (request) => computer.kgcAnswer(master, anchors, request, yymmdd(now())),
  });
}
