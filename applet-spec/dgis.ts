/**
 * @module Data groups (EMV CPS v1.1 DGIs) of both personalization stages: number, content layout,
 * stage, whether mandatory, and how the value is protected in STORE DATA (GP 2.3 11.11.2.1 P1 b6-b5).
 * Key DGIs are marked sensitive so traces redact them.
 */
import {
  bytes,
  type Coder,
  constant,
  empty,
  type Infer,
  pinBlockFormat2,
  struct,
  tlv,
  tlvFields,
  u8,
} from './codec/fields.js';
import { DATA_OBJECTS } from './data-objects.js';

/**
 * How a DGI value travels in STORE DATA:
 * - `clear`: P1 b6-b5 = 00;
 * - `dek`: P1 b6-b5 = 11 (0x60), value AES-CBC encrypted under the SCP03 static DEK (GP 2.3 11.11.2.1);
 * - `sm2`: P1 b6-b5 = 01 (0x20, application-dependent encryption), value is an SM2 ciphertext
 *   (GB/T 32918.4, C1||C3||C2) to the card's device key, so the issuing bank never sees it in clear.
 */
export type DgiProtection = 'clear' | 'dek' | 'sm2';

/**
 * One DGI of personalization (STORE DATA): its number, name, stage, value coder and how it is
 * protected in transit.
 */
export interface DgiDefinition<T = unknown> {
  dgi: number;
  name: string;
  /** 1 = central-bank card prep (BLANK -> PREPARED), 2 = commercial-bank issuance (PREPARED -> ISSUED) */
  stage: 1 | 2;
  mandatory: boolean;
  protection: DgiProtection;
  /** value layout in clear (after decryption) */
  coder: Coder<T>;
  /** never shown in traces or logs */
  sensitive: boolean;
  description: string;
}

function dgi<T>(d: DgiDefinition<T>): DgiDefinition<T> {
  return d;
}

const D = DATA_OBJECTS;
/** A TLV member of a DGI template: mandatory, or optional (`true` kept as a literal type). */
function f<T>(o: { tag: number; coder: Coder<any> }): { tag: number; coder: Coder<T>; optional: false };
function f<T>(o: { tag: number; coder: Coder<any> }, optional: true): { tag: number; coder: Coder<T>; optional: true };
function f<T>(o: { tag: number; coder: Coder<any> }, optional = false): { tag: number; coder: Coder<T>; optional: boolean } {
  return { tag: o.tag, coder: o.coder as Coder<T>, optional };
}

/** The six SM4 application keys of DGI 8000, in order; each 16 bytes. */
export const APPLICATION_KEY_NAMES = ['load', 'purchase', 'tac', 'issuerMac', 'pinReload', 'pinUnblock'] as const;
/**
 * The name of one of the card's six SM4 application keys (load, purchase, TAC, issuer MAC, PIN reload,
 * PIN unblock).
 */
export type ApplicationKeyName = (typeof APPLICATION_KEY_NAMES)[number];

const appKeys = struct(
  Object.fromEntries(APPLICATION_KEY_NAMES.map((k) => [k, bytes(16, `SM4 ${k} key`)])) as Record<ApplicationKeyName, Coder<Uint8Array>>,
  'SM4 application keys',
);
const appKeyKcvs = struct(
  Object.fromEntries(APPLICATION_KEY_NAMES.map((k) => [k, bytes(3, `KCV of the ${k} key`)])) as Record<ApplicationKeyName, Coder<Uint8Array>>,
  'key check values',
);

/** Every DGI the card accepts, each defined once. */
export const DGIS = {
  cardRecord: dgi({
    dgi: 0x0101,
    name: 'Card record',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'EMV record template 70 with card ID, validity, institution, card form and version',
    coder: tlv(
      D.recordTemplate.tag,
      tlvFields({
        cardId: f<string>(D.cardId),
        effectiveDate: f<string>(D.effectiveDate),
        expiryDate: f<string>(D.expiryDate),
        institution: f<string>(D.institution),
        cardForm: f<number>(D.cardForm),
        applicationVersion: f<Uint8Array>(D.applicationVersion),
      }),
      'card record',
    ),
  }),
  cardCertificate: dgi({
    dgi: 0x0102,
    name: 'Card certificate',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Record template 70 holding tag 7F21: the card SM2 public key signed by the central bank (value-formats cardCertificateCoder)',
    coder: tlv(D.recordTemplate.tag, tlv(D.cardCertificate.tag, D.cardCertificate.coder as Coder<Uint8Array>, 'card certificate'), 'certificate record'),
  }),
  fci: dgi({
    dgi: 0x9102,
    name: 'FCI proprietary data',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Contents of the A5 template returned by SELECT (EMV CPS 9102)',
    coder: tlvFields({ applicationLabel: f<Uint8Array>(D.applicationLabel) }),
  }),
  trustAnchors: dgi({
    dgi: 0xe001,
    name: 'Trust anchors',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Central-bank coin-verification SM2 keys with key indexes and the KGC SM9 master public keys',
    coder: tlvFields({
      coinKeys: f<{ keyIndex: number; publicKey: Uint8Array }[]>(D.coinKeys),
      kgcSignMasterPublicKey: f<Uint8Array>(D.kgcSignMasterPublicKey),
      kgcEncryptMasterPublicKey: f<Uint8Array>(D.kgcEncryptMasterPublicKey),
      kgcKeyVersion: f<number>(D.kgcKeyVersion),
    }),
  }),
  riskDefaults: dgi({
    dgi: 0xe002,
    name: 'Risk defaults',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Currency, single payment limit (at most 100000 fen), balance cap, offline limits, coin slots, PIN threshold',
    coder: tlvFields({
      currency: f<string>(D.currency),
      singleLimit: f<number>(D.singleLimit),
      balanceCap: f<number>(D.balanceCap),
      offlineCountLimit: f<number>(D.offlineCountLimit),
      offlineAmountLimit: f<number>(D.offlineAmountLimit),
      maxCoins: f<number>(D.maxCoins),
      pinThreshold: f<number>(D.pinThreshold),
    }),
  }),
  applicationKeys: dgi({
    dgi: 0x8000,
    name: 'SM4 application keys',
    stage: 1,
    mandatory: true,
    protection: 'dek',
    sensitive: true,
    description: 'Load, purchase, TAC, issuer MAC (PUT DATA, block/unblock), PIN reload and PIN unblock keys, 16 bytes each',
    coder: appKeys,
  }),
  applicationKeyKcvs: dgi({
    dgi: 0x9000,
    name: 'Application key check values',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'KCV (SM4 of 16 zero bytes, leftmost 3 bytes) of each key of DGI 8000, same order; the card checks them',
    coder: appKeyKcvs,
  }),
  issuanceKeys: dgi({
    dgi: 0x8001,
    name: 'Issuance secure channel keys',
    stage: 1,
    mandatory: true,
    protection: 'dek',
    sensitive: true,
    description: 'AES-128 SCP03 ENC, MAC and DEK keys of key version 31, used by the commercial bank for issuance',
    coder: struct({ enc: bytes(16, 'S-ENC static key'), mac: bytes(16, 'S-MAC static key'), dek: bytes(16, 'DEK') }, 'SCP03 key set'),
  }),
  issuanceKeyKcvs: dgi({
    dgi: 0x9001,
    name: 'Issuance key check values',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'KCV (AES of 16 bytes 01, leftmost 3 bytes; GP Amendment D) of each key of DGI 8001',
    coder: struct({ enc: bytes(3, 'KCV'), mac: bytes(3, 'KCV'), dek: bytes(3, 'KCV') }, 'key check values'),
  }),
  cardPrivateKey: dgi({
    dgi: 0x8101,
    name: 'Card SM2 private key',
    stage: 1,
    mandatory: true,
    protection: 'dek',
    sensitive: true,
    description: 'Device key d (32 bytes); its public key is in the card certificate',
    coder: bytes(32, 'SM2 private key d'),
  }),
  holderRecord: dgi({
    dgi: 0x0201,
    name: 'Holder record',
    stage: 2,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Record template 70: real-name data, or only its SM3 hash for anonymous cards; bank and wallet',
    coder: tlv(
      D.recordTemplate.tag,
      tlvFields({
        holderName: f<string>(D.holderName, true),
        holderIdType: f<number>(D.holderIdType, true),
        holderIdNumber: f<string>(D.holderIdNumber, true),
        holderHash: f<Uint8Array>(D.holderHash, true),
        holderPhone: f<string>(D.holderPhone, true),
        bankCode: f<string>(D.bankCode),
        walletId: f<string>(D.walletId),
        realNameTier: f<number>(D.realNameTier),
      }),
      'holder record',
    ),
  }),
  tierCaps: dgi({
    dgi: 0xe101,
    name: 'Tier caps',
    stage: 2,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Limits for the holder tier; each must not exceed the central-bank default (else 6A80)',
    coder: tlvFields({
      balanceCap: f<number>(D.balanceCap),
      singleLimit: f<number>(D.singleLimit),
      offlineCountLimit: f<number>(D.offlineCountLimit),
      offlineAmountLimit: f<number>(D.offlineAmountLimit),
      pinThreshold: f<number>(D.pinThreshold, true),
    }),
  }),
  ibcIdentity: dgi({
    dgi: 0x0a01,
    name: 'IBC identity',
    stage: 2,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Record template 70: SM9 identity string of the holder and the KGC key version',
    coder: tlv(D.recordTemplate.tag, tlvFields({ ibcIdentity: f<string>(D.ibcIdentity), kgcKeyVersion: f<number>(D.kgcKeyVersion) }), 'identity record'),
  }),
  sm9SignKey: dgi({
    dgi: 0x8a01,
    name: 'SM9 signing user key',
    stage: 2,
    mandatory: true,
    protection: 'sm2',
    sensitive: true,
    description: 'SM2 ciphertext (C1||C3||C2, 162 bytes) of the G1 point dsA (65 bytes), hid 01',
    coder: bytes(65, 'SM9 signing key dsA (G1)'),
  }),
  sm9EncryptKey: dgi({
    dgi: 0x8a02,
    name: 'SM9 encryption user key',
    stage: 2,
    mandatory: true,
    protection: 'sm2',
    sensitive: true,
    description: 'SM2 ciphertext (C1||C3||C2, 226 bytes) of the G2 point deB (129 bytes), hid 03',
    coder: bytes(129, 'SM9 encryption key deB (G2)'),
  }),
  referencePin: dgi({
    dgi: 0x8010,
    name: 'Reference PIN',
    stage: 2,
    mandatory: true,
    protection: 'dek',
    sensitive: true,
    description: 'ISO 9564 format 2 PIN block padded to one AES block with 80 00 .. 00',
    coder: struct({ pinBlock: pinBlockFormat2, pad: constant(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0), 'padding method 2') }, 'reference PIN'),
  }),
  pinTryLimit: dgi({
    dgi: 0x9010,
    name: 'PIN try limit',
    stage: 2,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Number of wrong PIN presentations before the PIN blocks (1..15)',
    coder: struct({ tryLimit: u8 }, 'PIN try limit'),
  }),
  completion: dgi({
    dgi: 0x7fff,
    name: 'Completion',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'Empty; closes the current stage (stage 1 in BLANK, stage 2 in PREPARED) once every mandatory DGI of it is stored',
    coder: empty,
  }),
} as const;

/** The name of a DGI in DGIS. */
export type DgiName = keyof typeof DGIS;

/** The clear value of a DGI, as its coder reads and writes it. */
export type DgiValue<N extends DgiName> = Infer<(typeof DGIS)[N]['coder']>;

/** SM2 ciphertext overhead C1 (65) + C3 (32) for DGIs protected with `sm2`. */
export const SM2_CIPHERTEXT_OVERHEAD = 65 + 32;

/** Stages a DGI may be written in; completion 7FFF belongs to both. */
export function dgiStages(d: DgiDefinition): (1 | 2)[] {
  return d.dgi === DGIS.completion.dgi ? [1, 2] : [d.stage];
}

const byNumber = new Map<number, DgiDefinition & { key: DgiName }>();
for (const [key, d] of Object.entries(DGIS) as [DgiName, DgiDefinition][]) byNumber.set(d.dgi, { ...d, key });

/** Looks a DGI up by number. */
export function dgiByNumber(n: number): (DgiDefinition & { key: DgiName }) | undefined {
  return byNumber.get(n);
}

/** The DGIs of one stage, in the order personalization writes them (completion last). */
export function stageDgis(stage: 1 | 2): (DgiDefinition & { key: DgiName })[] {
  return [...byNumber.values()].filter((d) => d.dgi !== DGIS.completion.dgi && d.stage === stage).concat([byNumber.get(DGIS.completion.dgi)!]);
}

/** STORE DATA P1 bits (GP 2.3 11.11.2.1). */
export const STORE_DATA_P1 = {
  /** b8: last block */
  LAST_BLOCK: 0x80,
  /** b6-b5 = 01: application-dependent encryption (here SM2 to the card key) */
  ENC_APPLICATION: 0x20,
  /** b6-b5 = 11: encrypted under the secure channel DEK */
  ENC_DEK: 0x60,
  /** b4-b3 = 01: DGI format */
  DGI_FORMAT: 0x08,
} as const;

/** P1 encryption bits for a protection kind. */
export function storeDataEncryptionBits(p: DgiProtection): number {
  return p === 'dek' ? STORE_DATA_P1.ENC_DEK : p === 'sm2' ? STORE_DATA_P1.ENC_APPLICATION : 0;
}
