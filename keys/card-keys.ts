/**
 * @module Per-card keys derived from the master keys and the 10-byte card ID: SCP03 static keys of
 * kvn 30 and kvn 31 by the GlobalPlatformPro KDF3 scheme (NIST SP 800-108 counter mode, AES-CMAC), and
 * the six SM4 application keys by one SM4 encryption of a card-specific block (in the manner of
 * EMV Book 2 A1.4.1 option A); plus the key check values of DGIs 9000 and 9001.
 */
import { APPLICATION_KEY_NAMES, type ApplicationKeyName } from '../applet-spec/dgis.js';
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { FormatError } from '../applet-spec/errors.js';
import { diversifyKdf3, keyCheckValue } from '../crypto/key-diversification.js';
import type { Scp03StaticKeys } from '../crypto/scp03.js';
import { sm4EncryptBlock, sm4KeySchedule } from '../crypto/sm4.js';
import type { CbMasterKeyFile, IssuanceMasterKeyFile } from './key-files.js';

/** Length of the card ID in bytes (n20 BCD). */
export const CARD_ID_BYTES = 10;

/** The 10-byte BCD card ID (tag DF01, also the SCP03 key diversification data) of a 20-digit card ID; throws FormatError. */
export function cardIdToBytes(cardId: string): Uint8Array {
  return cardIdCoder.encode(cardId);
}

/** The 20-digit card ID of its 10 BCD bytes; throws FormatError. */
export function cardIdFromBytes(bytes: Uint8Array): string {
  return cardIdCoder.decode(bytes, 'card ID');
}

function checkCardId(cardId: Uint8Array): void {
  if (!(cardId instanceof Uint8Array) || cardId.length !== CARD_ID_BYTES) {
    throw new FormatError('card ID', `must be ${CARD_ID_BYTES} bytes (n20 BCD); use cardIdToBytes`);
  }
  cardIdFromBytes(cardId); // BCD check
}

type CbMasterSecret = CbMasterKeyFile['secret'];
type IssuanceMasterSecret = IssuanceMasterKeyFile['secret'];

function cbSecret(m: CbMasterKeyFile | CbMasterSecret): CbMasterSecret {
  return 'kind' in m ? (m as CbMasterKeyFile).secret : (m as CbMasterSecret);
}

/**
 * The card's personalization key set (SCP03 kvn 30, AES-128): each key is
 * KDF3(master, constant, KDD) = AES-CMAC(master, 01 || 00 00 00 0k 00 || KDD) with k = 1 (ENC),
 * 2 (MAC), 3 (DEK) and KDD = the 10-byte card ID, which is what the card returns as key diversification
 * data in INITIALIZE UPDATE (GP Amendment D 7.1.1; GlobalPlatformPro "KDF3"). Masters: cb-master scpEnc,
 * scpMac, scpDek. Security: the result is secret; wipe it after the session.
 */
export function cardScpKeys(cbMaster: CbMasterKeyFile | CbMasterSecret, cardId: Uint8Array): Scp03StaticKeys {
  checkCardId(cardId);
  const s = cbSecret(cbMaster);
  return diversifyKdf3({ enc: s.scpEnc, mac: s.scpMac, dek: s.scpDek }, cardId);
}

/**
 * The KDD that turns cb-master's SCP masters into the PSAMs' personalization masters: "PSAM-PERSO" in
 * ASCII, 10 bytes like a card ID but not BCD, so that no card's keys are these masters.
 */
const PSAM_MASTER_KDD = new TextEncoder().encode('PSAM-PERSO');

/**
 * The masters of every PSAM's personalization key set: cb-master's SCP masters diversified (KDF3) by
 * PSAM_MASTER_KDD. One-way, so the pos role holding them learns nothing of the cards' SCP keys.
 * Security: secret; the caller wipes them.
 */
export function psamPersonalizationMasters(cbMaster: CbMasterKeyFile | CbMasterSecret): Scp03StaticKeys {
  const s = cbSecret(cbMaster);
  return diversifyKdf3({ enc: s.scpEnc, mac: s.scpMac, dek: s.scpDek }, PSAM_MASTER_KDD);
}

/**
 * A PSAM's personalization key set (SCP03 kvn 30): the PSAM masters (a purchase-master key file's
 * psamEnc, psamMac, psamDek) diversified by KDF3 with the PSAM's 20-digit serial number as KDD, as a
 * card's from cb-master by its card ID. Security: secret; the caller wipes them.
 */
export function psamScpKeys(masters: { psamEnc: Uint8Array; psamMac: Uint8Array; psamDek: Uint8Array }, psamId: Uint8Array): Scp03StaticKeys {
  checkCardId(psamId);
  return diversifyKdf3({ enc: masters.psamEnc, mac: masters.psamMac, dek: masters.psamDek }, psamId);
}

/**
 * The card's issuance key set (SCP03 kvn 31, AES-128, DGI 8001): the same KDF3 scheme as
 * {@link cardScpKeys} with the issuance masters enc, mac, dek and the card ID as KDD. The central bank
 * writes these keys at prep; the commercial bank derives them again at issuance from the same masters.
 */
export function cardIssuanceKeys(issuanceMaster: IssuanceMasterKeyFile | IssuanceMasterSecret, cardId: Uint8Array): Scp03StaticKeys {
  checkCardId(cardId);
  const s = 'kind' in issuanceMaster ? (issuanceMaster as IssuanceMasterKeyFile).secret : (issuanceMaster as IssuanceMasterSecret);
  return diversifyKdf3({ enc: s.enc, mac: s.mac, dek: s.dek }, cardId);
}

/** Number of each application key in the diversification block: its position in DGI 8000 plus one (load 1 ... pinUnblock 6). */
export function applicationKeyNumber(name: ApplicationKeyName): number {
  return APPLICATION_KEY_NAMES.indexOf(name) + 1;
}

/**
 * The 16-byte diversification block of application key `name` for this card:
 *   D = cardId (10 bytes BCD) || FF FF FF FF FF || k,   k = {@link applicationKeyNumber}(name).
 * The card ID is unique, so D is unique per card and key; the FF filler follows the EMV habit of
 * padding numeric data with F, and k separates the six purposes even if two masters were equal.
 */
export function applicationDiversificationBlock(cardId: Uint8Array, name: ApplicationKeyName): Uint8Array {
  checkCardId(cardId);
  const d = new Uint8Array(16).fill(0xff);
  d.set(cardId, 0);
  d[15] = applicationKeyNumber(name);
  return d;
}

/**
 * The six SM4 application keys of DGI 8000 for this card:
 *   key_name = SM4-ECB(master_name, D_name),  D_name = {@link applicationDiversificationBlock}.
 * This is EMV Book 2 A1.4.1 option A (card key = encryption of the card's PAN block under the issuer
 * master key) fitted to a 128-bit block cipher: DES needs two encryptions (Y and Y XOR FF..FF) for a
 * 16-byte key, SM4's 16-byte block gives the whole key in one. SM4 is a permutation under each master,
 * so distinct cards always get distinct keys. No PBOC or D-RMB clause fixes this derivation for the
 * card; it is this project's scheme (docs/key-files.md), so a terminal or host deriving the same keys
 * must use it exactly. Security: the outputs are secrets; wipe them once written.
 */
export function cardApplicationKeys(cbMaster: CbMasterKeyFile | CbMasterSecret, cardId: Uint8Array): Record<ApplicationKeyName, Uint8Array> {
  const s = cbSecret(cbMaster);
  return Object.fromEntries(APPLICATION_KEY_NAMES.map((name) => [name, cardApplicationKey(s[name], cardId, name)])) as Record<ApplicationKeyName, Uint8Array>;
}

/**
 * One SM4 application key of this card, key_name = SM4-ECB(master_name, D_name), the same derivation
 * as {@link cardApplicationKeys}: what a role holding only some application masters (a load-master or
 * purchase-master key file, keys/role-bundles.ts) derives. Security: the output is secret; wipe it.
 */
export function cardApplicationKey(master: Uint8Array, cardId: Uint8Array, name: ApplicationKeyName): Uint8Array {
  checkCardId(cardId);
  const rk = sm4KeySchedule(master);
  try {
    return sm4EncryptBlock(rk, applicationDiversificationBlock(cardId, name));
  } finally {
    rk.fill(0);
  }
}

/** Some application masters by name: the secrets of a cb-master, load-master or purchase-master key file. */
export type ApplicationMasters<N extends ApplicationKeyName> = { secret: Record<N, Uint8Array> };

/** The application keys `names` of this card from masters holding at least those ({@link cardApplicationKey} each). */
export function cardApplicationKeysOf<N extends ApplicationKeyName>(masters: ApplicationMasters<N>, cardId: Uint8Array, names: readonly N[]): Record<N, Uint8Array> {
  return Object.fromEntries(names.map((name) => [name, cardApplicationKey(masters.secret[name], cardId, name)])) as Record<N, Uint8Array>;
}

/** DGI 9000 value: SM4 KCV (first 3 bytes of SM4(key, 16 x 00)) of each application key. */
export function applicationKeyKcvs(keys: Record<ApplicationKeyName, Uint8Array>): Record<ApplicationKeyName, Uint8Array> {
  return Object.fromEntries(APPLICATION_KEY_NAMES.map((n) => [n, keyCheckValue(keys[n], 'sm4')])) as Record<ApplicationKeyName, Uint8Array>;
}

/** DGI 9001 value: AES KCV (GP Amendment D, first 3 bytes of AES(key, 16 x 01)) of each issuance key. */
export function issuanceKeyKcvs(keys: Scp03StaticKeys): { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array } {
  return { enc: keyCheckValue(keys.enc, 'aes'), mac: keyCheckValue(keys.mac, 'aes'), dek: keyCheckValue(keys.dek, 'aes') };
}
