/**
 * @module The D-RMB data objects: every BER-TLV tag the card or its data groups use, written once with
 * its coder, its origin (ISO 7816-4, EMV, PBOC electronic cash, or this project's private DFxx range)
 * and whether GET DATA may read it and PUT DATA may change it.
 */
import {
  bcd,
  bcdAmount,
  bcdShortDate,
  bytes,
  countedList,
  list,
  type Coder,
  coder,
  rest,
  struct,
  u16,
  u32,
  u8,
  utf8Rest,
} from './codec/fields.js';
import { APP_STATES, type AppState, appStateFromByte } from './lifecycle.js';
import { FormatError } from './errors.js';

/** Card identifier: 20 decimal digits, packed BCD in 10 bytes; also the GP key diversification data. */
export const cardIdCoder = bcd(20, 'card ID, n20 BCD (10 bytes)');

/** SM2 public key, uncompressed 04 || x || y (GB/T 32918.1 4.2.9). */
export const sm2PublicKeyCoder = bytes(65, 'SM2 public key 04||x||y');
/** SM2 signature r || s (64 bytes). */
export const sm2SignatureCoder = bytes(64, 'SM2 signature r||s');
/** SM9 G1 point 04 || x || y (65 bytes, GM/T 0044 part 1). */
export const sm9G1Coder = bytes(65, 'SM9 G1 point 04||x||y');
/** SM9 G2 point 04 || x || y with Fp2 coordinates as c1 || c0 (129 bytes). */
export const sm9G2Coder = bytes(129, 'SM9 G2 point 04||x||y');
/** SM9 signature h (32) || S (65, G1 point) per GM/T 0044 part 2 6.2. */
export const sm9SignatureCoder = bytes(97, 'SM9 signature h||S');

/** Application state byte, decoded to its name. */
export const appStateCoder: Coder<AppState> = coder<AppState>({
  size: 1,
  describe: 'application state (07 BLANK, 0F PREPARED, 1F ISSUED, 9F LOCKED, FF TERMINATED)',
  write(v, out) {
    if (!Object.hasOwn(APP_STATES, v)) throw new FormatError('application state', `unknown state ${String(v)}`);
    out.push(APP_STATES[v]);
  },
  read(r, field) {
    const b = r.take(1, field)[0];
    const s = appStateFromByte(b);
    if (!s) throw new FormatError(`${r.what} ${field}`, `unknown application state ${b.toString(16)}`);
    return s;
  },
});

/** Coins held per denomination (DF20). */
export const coinSummaryCoder = countedList(
  struct({ denominationFen: u32, count: u16 }, 'denomination and count'),
  64,
  'coins held per denomination',
);

/** Central-bank coin-verification key with its key index (inside E001). */
export const coinKeyCoder = struct({ keyIndex: u8, publicKey: sm2PublicKeyCoder }, 'coin-verification key');

/**
 * Who may read or write a data object: anyone ('none'), only after PIN verification ('PIN'), or nobody
 * ('never').
 */
export type Access = 'none' | 'PIN' | 'never';

/**
 * One data object of the card (GET DATA / PUT DATA): its tag, name, value coder, the specification it
 * comes from and who may read and write it.
 */
export interface DataObject {
  tag: number;
  name: string;
  coder: Coder<any>;
  origin: 'ISO 7816-4' | 'EMV' | 'PBOC' | 'GlobalPlatform' | 'D-RMB';
  description: string;
  /** GET DATA access condition; 'never' means the tag cannot be read by GET DATA */
  getData: Access;
  /** PUT DATA (issuer script with line MAC) may update it */
  putData?: boolean;
}

function obj(d: DataObject): DataObject {
  return d;
}

/** Every tag, each defined once. Keys are the names used in code. */
export const DATA_OBJECTS = {
  fciTemplate: obj({ tag: 0x6f, name: 'FCI template', coder: rest(), origin: 'ISO 7816-4', description: 'File control information returned by SELECT', getData: 'never' }),
  dfName: obj({ tag: 0x84, name: 'DF name', coder: rest('AID', { min: 5, max: 16 }), origin: 'ISO 7816-4', description: 'Application identifier of the selected application', getData: 'never' }),
  fciProprietary: obj({ tag: 0xa5, name: 'FCI proprietary template', coder: rest(), origin: 'EMV', description: 'EMV Book 1 11.3.4 proprietary template', getData: 'never' }),
  applicationLabel: obj({ tag: 0x50, name: 'Application label', coder: rest('ASCII label', { min: 1, max: 16 }), origin: 'EMV', description: 'Mnemonic of the application', getData: 'never' }),
  fciIssuerData: obj({ tag: 0xbf0c, name: 'FCI issuer discretionary data', coder: rest(), origin: 'EMV', description: 'Holds card ID and state in the SELECT response', getData: 'never' }),
  recordTemplate: obj({ tag: 0x70, name: 'Record template', coder: rest(), origin: 'EMV', description: 'EMV record template wrapping record DGIs', getData: 'never' }),
  cardId: obj({ tag: 0xdf01, name: 'Card ID', coder: cardIdCoder, origin: 'D-RMB', description: '20-digit card identifier; also the SCP03 key diversification data', getData: 'none' }),
  appState: obj({ tag: 0xdf02, name: 'Application state', coder: appStateCoder, origin: 'D-RMB', description: 'Current lifecycle state', getData: 'none' }),
  ibcIdentity: obj({ tag: 0xdf03, name: 'IBC identity', coder: utf8Rest('identity string'), origin: 'D-RMB', description: 'SM9 identity of the holder (card ID or phone number, with a validity suffix)', getData: 'none' }),
  institution: obj({ tag: 0xdf04, name: 'Issuing institution', coder: bcd(8, 'institution code n8'), origin: 'D-RMB', description: 'Code of the institution that had the card prepared', getData: 'none' }),
  cardForm: obj({ tag: 0xdf05, name: 'Card form', coder: u8, origin: 'D-RMB', description: '01 contact card, 02 dual interface, 03 wearable, 04 SIM', getData: 'none' }),
  maxCoins: obj({ tag: 0xdf06, name: 'Maximum coins', coder: u16, origin: 'D-RMB', description: 'Number of coin slots the card holds', getData: 'none' }),
  offlineCountLimit: obj({ tag: 0xdf07, name: 'Offline payment count limit', coder: u16, origin: 'D-RMB', description: 'Payments allowed between online synchronisations', getData: 'none', putData: true }),
  offlineAmountLimit: obj({ tag: 0xdf08, name: 'Offline amount limit', coder: bcdAmount(12), origin: 'D-RMB', description: 'Total amount payable between online synchronisations, fen', getData: 'none', putData: true }),
  pinThreshold: obj({ tag: 0xdf09, name: 'PIN threshold', coder: bcdAmount(12), origin: 'D-RMB', description: 'Payments above this amount (fen) need VERIFY first', getData: 'none', putData: true }),
  kgcSignMasterPublicKey: obj({ tag: 0xdf10, name: 'KGC signing master public key', coder: sm9G2Coder, origin: 'D-RMB', description: 'SM9 Ppub-s, to verify payer signatures', getData: 'none' }),
  kgcEncryptMasterPublicKey: obj({ tag: 0xdf11, name: 'KGC encryption master public key', coder: sm9G1Coder, origin: 'D-RMB', description: 'SM9 Ppub-e, to encrypt peer payments to a payee identity', getData: 'none' }),
  coinKeys: obj({ tag: 0xdf12, name: 'Coin-verification keys', coder: list(coinKeyCoder, { min: 1, max: 8, describe: 'key index (1) and SM2 public key (65), repeated' }), origin: 'D-RMB', description: 'Central-bank SM2 public keys for coin signatures, each with its key index', getData: 'never' }),
  kgcKeyVersion: obj({ tag: 0xdf13, name: 'KGC key version', coder: u8, origin: 'D-RMB', description: 'Version of the KGC master keys the user keys were extracted under', getData: 'none' }),
  certKeyIndex: obj({ tag: 0xdf15, name: 'Certificate key index', coder: u8, origin: 'D-RMB', description: 'Index of the central-bank key that signed the card certificate', getData: 'never' }),
  cardPublicKey: obj({ tag: 0xdf16, name: 'Card SM2 public key', coder: sm2PublicKeyCoder, origin: 'D-RMB', description: 'Public half of the card device key', getData: 'never' }),
  coinSummary: obj({ tag: 0xdf20, name: 'Coin summary', coder: coinSummaryCoder, origin: 'D-RMB', description: 'Count of coins per denomination', getData: 'none' }),
  holderIdType: obj({ tag: 0xdf21, name: 'Holder ID type', coder: u8, origin: 'D-RMB', description: '01 resident identity card, 02 passport, 03 other', getData: 'never' }),
  holderIdNumber: obj({ tag: 0xdf22, name: 'Holder ID number', coder: utf8Rest('ID number'), origin: 'D-RMB', description: 'Real-name cards only', getData: 'never' }),
  holderHash: obj({ tag: 0xdf23, name: 'Holder data hash', coder: bytes(32, 'SM3 hash'), origin: 'D-RMB', description: 'SM3 of the holder data, for anonymous cards', getData: 'never' }),
  holderPhone: obj({ tag: 0xdf24, name: 'Holder phone', coder: utf8Rest('phone number'), origin: 'D-RMB', description: 'Phone number of the holder', getData: 'never' }),
  bankCode: obj({ tag: 0xdf25, name: 'Issuing bank code', coder: bcd(12, 'bank code n12'), origin: 'D-RMB', description: 'Commercial bank that issued the card', getData: 'none' }),
  walletId: obj({ tag: 0xdf26, name: 'Wallet ID', coder: utf8Rest('wallet ID'), origin: 'D-RMB', description: 'Wallet identifier at the issuing bank', getData: 'none' }),
  realNameTier: obj({ tag: 0xdf27, name: 'Real-name tier', coder: u8, origin: 'D-RMB', description: '1 strongest verification ... 4 anonymous', getData: 'none' }),
  transactionCounter: obj({ tag: 0x9f36, name: 'Transaction counter', coder: u32, origin: 'EMV', description: 'Counter of value-moving transactions (4 bytes: departs from EMV ATC, 2 bytes)', getData: 'none' }),
  balance: obj({ tag: 0x9f79, name: 'Balance', coder: bcdAmount(12), origin: 'PBOC', description: 'Electronic cash balance, fen (n12)', getData: 'none' }),
  balanceCap: obj({ tag: 0x9f77, name: 'Balance cap', coder: bcdAmount(12), origin: 'PBOC', description: 'Electronic cash balance limit, fen (n12)', getData: 'none', putData: true }),
  singleLimit: obj({ tag: 0x9f78, name: 'Single transaction limit', coder: bcdAmount(12), origin: 'PBOC', description: 'Largest single payment, fen (n12); at most 100000 (1000.00 yuan)', getData: 'none', putData: true }),
  pinTriesLeft: obj({ tag: 0x9f17, name: 'PIN try counter', coder: u8, origin: 'EMV', description: 'PIN tries remaining', getData: 'none' }),
  applicationVersion: obj({ tag: 0x9f08, name: 'Application version', coder: bytes(2, 'version'), origin: 'EMV', description: 'Application version number', getData: 'none' }),
  currency: obj({ tag: 0x5f2a, name: 'Currency code', coder: bcd(4, 'ISO 4217 numeric n4'), origin: 'EMV', description: 'ISO 4217 currency, 0156 for CNY', getData: 'none' }),
  effectiveDate: obj({ tag: 0x5f25, name: 'Effective date', coder: bcdShortDate, origin: 'EMV', description: 'YYMMDD', getData: 'none' }),
  expiryDate: obj({ tag: 0x5f24, name: 'Expiry date', coder: bcdShortDate, origin: 'EMV', description: 'YYMMDD', getData: 'none' }),
  holderName: obj({ tag: 0x5f20, name: 'Holder name', coder: utf8Rest('name'), origin: 'EMV', description: 'Real-name cards only', getData: 'never' }),
  cardCertificate: obj({ tag: 0x7f21, name: 'Card certificate', coder: rest(), origin: 'ISO 7816-4', description: 'Card SM2 public key certified by the central bank (see value-formats cardCertificate)', getData: 'none' }),
  certificateSignature: obj({ tag: 0x5f37, name: 'Certificate signature', coder: sm2SignatureCoder, origin: 'ISO 7816-4', description: 'Central-bank SM2 signature inside 7F21', getData: 'never' }),
} as const satisfies Record<string, DataObject>;

/** The name of a data object in DATA_OBJECTS (`cardId`, `balanceCap`, `ibcIdentity`, ...). */
export type DataObjectName = keyof typeof DATA_OBJECTS;

/** Tag number of a named data object. */
export const TAG = Object.fromEntries(Object.entries(DATA_OBJECTS).map(([k, v]) => [k, v.tag])) as {
  [K in DataObjectName]: number;
};

const byTag = new Map<number, DataObject & { key: DataObjectName }>();
for (const [key, d] of Object.entries(DATA_OBJECTS) as [DataObjectName, DataObject][]) {
  byTag.set(d.tag, { ...d, key });
}

/** Looks up a tag; undefined when the card does not define it. */
export function dataObjectByTag(tag: number): (DataObject & { key: DataObjectName }) | undefined {
  return byTag.get(tag);
}

/** Tags GET DATA answers (access other than 'never'). */
export const GET_DATA_TAGS: readonly number[] = Object.values(DATA_OBJECTS)
  .filter((d) => d.getData !== 'never')
  .map((d) => d.tag);

/** Tags PUT DATA may update. */
export const PUT_DATA_TAGS: readonly number[] = Object.values(DATA_OBJECTS)
  .filter((d) => 'putData' in d && d.putData)
  .map((d) => d.tag);
