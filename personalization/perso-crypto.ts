/**
 * @module The host's computation for one card of personalization, apart from the exchange with the
 * card: the stage-1 plan (the card's SCP03 keys, its application and issuance keys, its SM2 key pair
 * and certificate, the STORE DATA script with key DGIs encrypted), the stage-2 plan, the certificate
 * check, and an in-process KGC's extraction and SM2 encryption of the holder's SM9 keys. PersoCrypto is
 * where it runs: in this thread (inThreadPersoCrypto), or in worker threads (PersoCryptoPool), with the
 * same bytes out for the same inputs.
 */
import { OperationalError } from '../base/operational-error.js';
import { concatBytes, wipe } from '../base/bytes.js';
import { hex } from '../base/hex.js';
import type { DgiName } from '../applet-spec/dgis.js';
import type { CardCertificate } from '../applet-spec/value-formats.js';
import type { Scp03StaticKeys } from '../crypto/scp03.js';
import { sm2GenerateKeyPair, sm2GetPublicKey, sm2IsValidPrivateKey } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { applicationKeyKcvs, cardApplicationKeys, cardIdToBytes, cardIssuanceKeys, cardScpKeys, issuanceKeyKcvs } from '../keys/card-keys.js';
import type { KeyFile } from '../keys/key-files.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { issueCardCertificate, verifyCardCertificate } from './card-certificate.js';
import { trustAnchorsDgiValue } from './key-ceremony.js';
import { type EncryptedUserKeys, type KeyExtractionRequest, kgcAnswer, type KgcComputer, type KgcMasterKeys, type KgcNonces } from './kgc.js';
import {
  cardRecordValue,
  fciValue,
  type HolderData,
  holderRecordValue,
  type IssueProfile,
  pinTryLimitValue,
  type PrepareProfile,
  riskDefaultsValue,
  tierCapsValue,
} from './profiles.js';
import { type PreEncrypted, type StoreDataStep, storeDataScript } from './store-data-script.js';

/** The keys stage 1 needs: the central bank's masters and the ceremony's public anchors. */
export interface PrepareKeys {
  cbMaster: KeyFile<'cb-master'>;
  issuanceMaster: KeyFile<'issuance-master'>;
  certSigning: KeyFile<'cert-signing'>;
  anchors: TrustAnchors;
}

/**
 * What a stage sends inside its secure channel, worked out before the channel opens: the card's SCP03
 * static keys of the stage (the caller wipes them once the channel is closed), the plain STORE DATA
 * commands with key DGIs already encrypted, and the key check values written (stage 1).
 */
export interface StagePlan {
  scpKeys: Scp03StaticKeys;
  steps: StoreDataStep[];
  kcvs?: Record<string, string>;
}

/**
 * Options of a plan. `knownAnswerSeed` is for known-answer tests ONLY: the plan's random values (the
 * card's SM2 key, the certificate's and the KGC's SM2 nonces) derive from it instead of the CSPRNG,
 * so that two runs can be compared byte for byte; one seed on two cards gives both the same key.
 */
export interface PlanOptions {
  knownAnswerSeed?: Uint8Array;
}

/** What the stage-2 plan of a card is made of, besides the issuance masters. */
export interface IssuePlanInput {
  cardId: string;
  identity: string;
  /** the holder's SM9 keys as the KGC sent them, encrypted to the card's certified key */
  userKeys: EncryptedUserKeys;
  /** the card's SM2 public key from its verified certificate */
  cardPublicKey: Uint8Array;
  profile: IssueProfile;
  holder: HolderData;
  /** the initial PIN, which the profile's policy allows (checked by the caller) */
  pin: string;
  kgcKeyVersion: number;
}

/**
 * A value derived from a known-answer seed and a label, valid as an SM2 private key or nonce (in
 * [1, n-2]): SM3(seed || label || counter) for the first counter that lands there.
 */
function seededScalar(seed: Uint8Array, label: string): Uint8Array {
  for (let counter = 0; ; counter++) {
    const v = sm3(concatBytes(seed, new TextEncoder().encode(label), Uint8Array.of(counter)));
    if (sm2IsValidPrivateKey(v)) return v;
  }
}

/** The KGC's SM2 nonces of a plan's options (none without a known-answer seed). */
export function kgcNoncesOf(options: PlanOptions = {}): KgcNonces | undefined {
  const seed = options.knownAnswerSeed;
  return seed ? { signKey: seededScalar(seed, 'kgc sign key k'), encryptKey: seededScalar(seed, 'kgc encrypt key k') } : undefined;
}

/**
 * The stage-1 data of a card: its DGIs (key material still clear; storeDataScript encrypts it) and the
 * KCVs written. Security: cb-master, issuance-master, cert-signing; call wipe() when done.
 */
export function prepareDgis(cardId: string, profile: PrepareProfile, keys: PrepareKeys, options: PlanOptions = {}): { dgis: [DgiName, unknown][]; kcvs: Record<string, string>; wipe(): void } {
  const id = cardIdToBytes(cardId);
  const appKeys = cardApplicationKeys(keys.cbMaster, id);
  const issuance = cardIssuanceKeys(keys.issuanceMaster, id);
  const seed = options.knownAnswerSeed;
  const cardKey = seed ? ((d) => ({ privateKey: d, publicKey: sm2GetPublicKey(d) }))(seededScalar(seed, 'card key')) : sm2GenerateKeyPair();
  const certificate = issueCardCertificate(
    { privateKey: keys.certSigning.secret.privateKey, keyIndex: keys.certSigning.keyIndex },
    cardId,
    profile.validity.expiry,
    cardKey.publicKey,
    seed ? seededScalar(seed, 'certificate k') : undefined,
  );
  const appKcvs = applicationKeyKcvs(appKeys);
  const scpKcvs = issuanceKeyKcvs(issuance);
  // Clear DGIs first so they share STORE DATA commands; each encrypted one travels alone; 7FFF last.
  const dgis: [DgiName, unknown][] = [
    ['cardRecord', cardRecordValue(profile, cardId)],
    ['fci', fciValue(profile)],
    ['trustAnchors', trustAnchorsDgiValue(keys.anchors)],
    ['riskDefaults', riskDefaultsValue(profile)],
    ['applicationKeyKcvs', appKcvs],
    ['issuanceKeyKcvs', scpKcvs],
    ['cardCertificate', certificate],
    ['applicationKeys', appKeys],
    ['issuanceKeys', issuance],
    ['cardPrivateKey', cardKey.privateKey],
    ['completion', {}],
  ];
  const kcvs: Record<string, string> = {};
  for (const [k, v] of Object.entries(appKcvs)) kcvs[k] = hex(v);
  for (const [k, v] of Object.entries(scpKcvs)) kcvs[`issuance.${k}`] = hex(v);
  return {
    dgis,
    kcvs,
    wipe: () => wipe(...Object.values(appKeys), issuance.enc, issuance.mac, issuance.dek, cardKey.privateKey),
  };
}

/** The stage-2 DGIs of a card, with the SM9 user keys the KGC encrypted to the card's certified key. */
export function issueDgis(
  cardId: string,
  identity: string,
  userKeys: EncryptedUserKeys,
  profile: IssueProfile,
  holder: HolderData,
  pin: string,
  anchors: Pick<TrustAnchors, 'kgcKeyVersion'>,
): [DgiName, unknown | PreEncrypted][] {
  return [
    // Registering the holder: the bank's wallet ID, or one derived from bank and card when none is given.
    ['holderRecord', holderRecordValue(profile, holder, holder.walletId ?? `${profile.bankCode.slice(0, 4)}${cardId}`)],
    ['tierCaps', tierCapsValue(profile)],
    ['ibcIdentity', { ibcIdentity: identity, kgcKeyVersion: anchors.kgcKeyVersion }],
    ['pinTryLimit', pinTryLimitValue(profile)],
    ['sm9SignKey', { preEncrypted: userKeys.signKey }],
    ['sm9EncryptKey', { preEncrypted: userKeys.encryptKey }],
    ['referencePin', { pinBlock: pin }],
    ['completion', {}],
  ];
}

/**
 * Stage 1 of a card before any APDU: its personalization SCP03 keys (key version 30, diversified from
 * cb-master by card ID) and the STORE DATA script of prepareDgis, key DGIs encrypted under the card's
 * DEK. The clear per-card keys are wiped before returning, except `scpKeys`, which the caller wipes.
 */
export function preparePlan(cardId: string, profile: PrepareProfile, keys: PrepareKeys, options: PlanOptions = {}): StagePlan {
  const scpKeys = cardScpKeys(keys.cbMaster, cardIdToBytes(cardId));
  const plan = prepareDgis(cardId, profile, keys, options);
  try {
    return { scpKeys, steps: storeDataScript(plan.dgis, { dek: scpKeys.dek }), kcvs: plan.kcvs };
  } catch (e) {
    wipe(scpKeys.enc, scpKeys.mac, scpKeys.dek);
    throw e;
  } finally {
    plan.wipe();
  }
}

/**
 * Stage 2 of a card before any APDU: its issuance SCP03 keys (key version 31, diversified from
 * issuance-master) and the STORE DATA script of issueDgis. The caller wipes `scpKeys`.
 */
export function issuePlan(input: IssuePlanInput, issuanceMaster: KeyFile<'issuance-master'>): StagePlan {
  const { cardId, identity, userKeys, profile, holder, pin, kgcKeyVersion, cardPublicKey } = input;
  const dgis = issueDgis(cardId, identity, userKeys, profile, holder, pin, { kgcKeyVersion });
  const scpKeys = cardIssuanceKeys(issuanceMaster, cardIdToBytes(cardId));
  try {
    return { scpKeys, steps: storeDataScript(dgis, { dek: scpKeys.dek, cardPublicKey }) };
  } catch (e) {
    wipe(scpKeys.enc, scpKeys.mac, scpKeys.dek);
    throw e;
  }
}

/**
 * Where the host's per-card computation runs. Every method gives the same bytes for the same inputs
 * wherever it runs (random values aside, unless PlanOptions fixes them), and fails with the same
 * message; a worker that stops fails with PersoCryptoError.
 */
export interface PersoCrypto extends KgcComputer {
  /** preparePlan */
  preparePlan(cardId: string, profile: PrepareProfile, keys: PrepareKeys, options?: PlanOptions): Promise<StagePlan>;
  /** issuePlan */
  issuePlan(input: IssuePlanInput, issuanceMaster: KeyFile<'issuance-master'>): Promise<StagePlan>;
  /** verifyCardCertificate under the central bank's certificate key, for card `cardId` */
  verifyCertificate(value: Uint8Array, certSigning: TrustAnchors['certSigning'], cardId: string): Promise<CardCertificate>;
  /** The KGC's rule (kgc.ts kgcAnswer) for an in-process KGC: the keys, encrypted to the certified card key. Security: the KGC master keys. */
  kgcAnswer(master: KgcMasterKeys, anchors: Pick<TrustAnchors, 'certSigning'>, request: KeyExtractionRequest, today: string, options?: PlanOptions): Promise<EncryptedUserKeys>;
}

/** The host's per-card computation in the calling thread: the library's default. */
export const inThreadPersoCrypto: PersoCrypto = {
  preparePlan: async (cardId, profile, keys, options) => preparePlan(cardId, profile, keys, options),
  issuePlan: async (input, issuanceMaster) => issuePlan(input, issuanceMaster),
  verifyCertificate: async (value, certSigning, cardId) => verifyCardCertificate(value, [certSigning], cardId),
  kgcAnswer: async (master, anchors, request, today, options) => kgcAnswer(master, anchors, request, today, kgcNoncesOf(options)).keys,
};

/** The host's per-card computation could not run: a worker of the pool stopped, or the pool was closed. */
export class PersoCryptoError extends OperationalError {
  override readonly name = 'PersoCryptoError';
}
