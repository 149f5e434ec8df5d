/**
 * @module Key files of the personalization system (docs/key-files.md): one JSON document per key or
 * key pair, written owner-only (0600), identified by key check values (GP Amendment D AES KCV, SM4 KCV,
 * SM3 of the public key), read back with every length and KCV checked, and resolvable from environment
 * variables for automation. Secret bytes never appear in an error message or a summary.
 */
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../io/atomic-file.js';
import { hex } from '../base/hex.js';
import { APPLICATION_KEY_NAMES } from '../applet-spec/dgis.js';
import { FormatError } from '../applet-spec/errors.js';
import { equalBytes, wipe } from '../base/bytes.js';
import { keyCheckValue } from '../crypto/key-diversification.js';
import { sm2GetPublicKey, sm2IsValidPrivateKey } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9GenerateEncryptMasterKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';

// ---------------------------------------------------------------------------------------------
// Kinds and their shapes

/** The kinds a key ceremony creates (personalization/key-ceremony.ts), in the order it creates them. */
export const CEREMONY_KINDS = ['cb-master', 'issuance-master', 'mint-master', 'coin-signing', 'cert-signing', 'kgc-sign', 'kgc-encrypt'] as const;

/**
 * Every kind of key file: the ceremony's, then the narrower kinds a role bundle holds instead of the
 * whole cb-master (keys/role-bundles.ts), and the issuance desk's own key that signs its KGC requests.
 */
export const KEY_KINDS = [...CEREMONY_KINDS, 'load-master', 'purchase-master', 'desk-signing', 'bank-signing', 'issuer-master'] as const;
/** A kind of key file: what it holds and which role may load it (KEY_KINDS). */
export type KeyKind = (typeof KEY_KINDS)[number];

/** Secrets of a 'cb-master' file: the AES-128 masters of the personalization key set (kvn 30) and the six SM4 application masters. */
export const CB_MASTER_KEY_NAMES = ['scpEnc', 'scpMac', 'scpDek', ...APPLICATION_KEY_NAMES] as const;
/** The name of one secret in a 'cb-master' key file. */
export type CbMasterKeyName = (typeof CB_MASTER_KEY_NAMES)[number];

/** Secrets of an 'issuance-master' file: the AES-128 masters of the issuance key set (kvn 31). */
export const ISSUANCE_MASTER_KEY_NAMES = ['enc', 'mac', 'dek'] as const;
/** The name of one secret in an 'issuance-master' key file. */
export type IssuanceMasterKeyName = (typeof ISSUANCE_MASTER_KEY_NAMES)[number];

/** Secrets of a 'load-master' file: the two cb-master application masters a withdrawal counter derives a card's load and TAC keys from. */
export const LOAD_MASTER_KEY_NAMES = ['load', 'tac'] as const;
/** The name of one secret in a 'load-master' key file. */
export type LoadMasterKeyName = (typeof LOAD_MASTER_KEY_NAMES)[number];

/**
 * Secrets of a 'purchase-master' file: the one cb-master application master a PSAM derives a card's
 * purchase key from, and the masters of the PSAMs' own personalization key set (SCP03 kvn 30 of a PSAM,
 * AES-128), a one-way derivative of cb-master's SCP masters (keys/card-keys.ts psamPersonalizationMasters).
 */
export const PURCHASE_MASTER_KEY_NAMES = ['purchase', 'psamEnc', 'psamMac', 'psamDek'] as const;
/** The name of one secret in a 'purchase-master' key file. */
export type PurchaseMasterKeyName = (typeof PURCHASE_MASTER_KEY_NAMES)[number];

/**
 * Secrets of an 'issuer-master' file: the two cb-master application masters an issuance desk derives a
 * card's issuer-script keys from, the line MAC keys of APPLICATION BLOCK/UNBLOCK and PUT DATA
 * (issuerMac) and of RELOAD PIN (pinReload), JR/T 0025.2 issuer scripts. The card's pinUnblock key is
 * not among them: no command of the card uses it.
 */
export const ISSUER_MASTER_KEY_NAMES = ['issuerMac', 'pinReload'] as const;
/** The name of one secret in an 'issuer-master' key file. */
export type IssuerMasterKeyName = (typeof ISSUER_MASTER_KEY_NAMES)[number];

export const KEY_FILE_FORMAT = 'drmb-key';
export const KEY_FILE_VERSION = 1;

/** Largest key index: coin-verification key indexes and the certificate key index are one byte on the card (tags DF12, DF15). */
export const MAX_KEY_INDEX = 255;

interface KeyFileHeader<K extends KeyKind> {
  format: typeof KEY_FILE_FORMAT;
  version: typeof KEY_FILE_VERSION;
  kind: K;
  /** free text naming the key for people (ceremony, date, purpose) */
  label: string;
  /** ISO 8601 time of generation */
  created: string;
}

/** Central-bank master keys for per-card diversification (keys/card-keys.ts). */
export interface CbMasterKeyFile extends KeyFileHeader<'cb-master'> {
  keyIndex?: undefined;
  /** AES KCV (GP Amd D) for scpEnc/scpMac/scpDek, SM4 KCV for the application masters */
  kcv: Record<CbMasterKeyName, Uint8Array>;
  public?: undefined;
  secret: Record<CbMasterKeyName, Uint8Array>;
}

/** AES-128 masters of the commercial-bank issuance key set (kvn 31). */
export interface IssuanceMasterKeyFile extends KeyFileHeader<'issuance-master'> {
  keyIndex?: undefined;
  /** AES KCV (GP Amd D) of each key */
  kcv: Record<IssuanceMasterKeyName, Uint8Array>;
  public?: undefined;
  secret: Record<IssuanceMasterKeyName, Uint8Array>;
}

/** The load and TAC application masters only (a copy of those two cb-master secrets), for the bank vault. */
export interface LoadMasterKeyFile extends KeyFileHeader<'load-master'> {
  keyIndex?: undefined;
  /** SM4 KCV of each master, equal to the cb-master's KCV of the same key */
  kcv: Record<LoadMasterKeyName, Uint8Array>;
  public?: undefined;
  secret: Record<LoadMasterKeyName, Uint8Array>;
}

/** The issuer-script application masters only (copies of those cb-master secrets), for an issuance desk. */
export interface IssuerMasterKeyFile extends KeyFileHeader<'issuer-master'> {
  keyIndex?: undefined;
  /** SM4 KCV of each master, equal to the cb-master's KCV of the same key */
  kcv: Record<IssuerMasterKeyName, Uint8Array>;
  public?: undefined;
  secret: Record<IssuerMasterKeyName, Uint8Array>;
}

/** The purchase application master only (a copy of that cb-master secret), for the POS terminal's PSAM. */
export interface PurchaseMasterKeyFile extends KeyFileHeader<'purchase-master'> {
  keyIndex?: undefined;
  /** SM4 KCV, equal to the cb-master's KCV of the purchase master */
  kcv: Record<PurchaseMasterKeyName, Uint8Array>;
  public?: undefined;
  secret: Record<PurchaseMasterKeyName, Uint8Array>;
}

/**
 * A party's own SM2 key pair, made for it at export: an issuance desk's signs its key-extraction
 * requests to the KGC (personalization/kgc-request.ts); a commercial bank's signs its requests to the
 * central bank's registry (bank/signed-request.ts).
 */
export interface OwnSigningKeyFile<K extends 'desk-signing' | 'bank-signing'> extends KeyFileHeader<K> {
  keyIndex?: undefined;
  /** first 3 bytes of SM3(public key) */
  kcv: { publicKey: Uint8Array };
  /** 65 bytes 04||x||y, the key the KGC (desk) or the registry (bank) lists among its authorised requesters */
  public: { publicKey: Uint8Array };
  /** 32-byte d */
  secret: { privateKey: Uint8Array };
}

/** A central-bank SM2 key pair: coin signing, or card-certificate signing. */
export interface Sm2KeyFile<K extends 'coin-signing' | 'cert-signing'> extends KeyFileHeader<K> {
  /** 1..255; the card finds the verification key by it */
  keyIndex: number;
  /** first 3 bytes of SM3(public key) */
  kcv: { publicKey: Uint8Array };
  /** 65 bytes 04||x||y */
  public: { publicKey: Uint8Array };
  /** 32-byte d */
  secret: { privateKey: Uint8Array };
}

/** A KGC SM9 master key pair: signing (Ppub-s in G2, 129 bytes) or encryption (Ppub-e in G1, 65 bytes). */
export interface Sm9KeyFile<K extends 'kgc-sign' | 'kgc-encrypt'> extends KeyFileHeader<K> {
  keyIndex?: undefined;
  /** first 3 bytes of SM3(public key) */
  kcv: { publicKey: Uint8Array };
  public: { publicKey: Uint8Array };
  /** 32-byte ks or ke */
  secret: { privateKey: Uint8Array };
}

/** The mint's master secret: per-denomination base keys derive from it (bank/mint.ts). */
export interface MintMasterKeyFile extends KeyFileHeader<'mint-master'> {
  keyIndex?: undefined;
  /** SM4 KCV of the master */
  kcv: { master: Uint8Array };
  public?: undefined;
  secret: { master: Uint8Array };
}

/** The loaded key file of each key kind: what `KeyFile<K>` is for kind K. */
export interface KeyFileMap {
  'cb-master': CbMasterKeyFile;
  'issuance-master': IssuanceMasterKeyFile;
  'mint-master': MintMasterKeyFile;
  'coin-signing': Sm2KeyFile<'coin-signing'>;
  'cert-signing': Sm2KeyFile<'cert-signing'>;
  'kgc-sign': Sm9KeyFile<'kgc-sign'>;
  'kgc-encrypt': Sm9KeyFile<'kgc-encrypt'>;
  'load-master': LoadMasterKeyFile;
  'issuer-master': IssuerMasterKeyFile;
  'purchase-master': PurchaseMasterKeyFile;
  'desk-signing': OwnSigningKeyFile<'desk-signing'>;
  'bank-signing': OwnSigningKeyFile<'bank-signing'>;
}

/** A key file in memory (bytes as Uint8Array); `KeyFile` alone is the union of every kind, discriminated by `kind`. */
export type KeyFile<K extends KeyKind = KeyKind> = KeyFileMap[K];

type KcvRule = 'aes' | 'sm4' | 'sm3-public';

interface KindSpec {
  /** secret name -> length in bytes and how its KCV is computed */
  secret: Record<string, { bytes: number; kcv: KcvRule }>;
  /** public key length, for asymmetric kinds */
  publicKeyBytes?: number;
  hasKeyIndex: boolean;
  describe: string;
}

const KIND_SPECS: Record<KeyKind, KindSpec> = {
  'cb-master': {
    secret: Object.fromEntries(
      CB_MASTER_KEY_NAMES.map((n) => [n, { bytes: 16, kcv: n.startsWith('scp') ? 'aes' : 'sm4' }]),
    ) as KindSpec['secret'],
    hasKeyIndex: false,
    describe: 'central-bank master keys (SCP03 kvn 30 AES-128 masters, six SM4 application masters)',
  },
  'issuance-master': {
    secret: { enc: { bytes: 16, kcv: 'aes' }, mac: { bytes: 16, kcv: 'aes' }, dek: { bytes: 16, kcv: 'aes' } },
    hasKeyIndex: false,
    describe: 'issuance key set masters (SCP03 kvn 31, AES-128)',
  },
  'mint-master': { secret: { master: { bytes: 16, kcv: 'sm4' } }, hasKeyIndex: false, describe: "the mint's master secret (per-denomination SM4 base keys derive from it)" },
  'coin-signing': { secret: { privateKey: { bytes: 32, kcv: 'sm3-public' } }, publicKeyBytes: 65, hasKeyIndex: true, describe: 'central-bank coin-signing SM2 key pair' },
  'cert-signing': { secret: { privateKey: { bytes: 32, kcv: 'sm3-public' } }, publicKeyBytes: 65, hasKeyIndex: true, describe: 'central-bank card-certificate signing SM2 key pair' },
  'kgc-sign': { secret: { privateKey: { bytes: 32, kcv: 'sm3-public' } }, publicKeyBytes: 129, hasKeyIndex: false, describe: 'KGC SM9 signature master key pair' },
  'kgc-encrypt': { secret: { privateKey: { bytes: 32, kcv: 'sm3-public' } }, publicKeyBytes: 65, hasKeyIndex: false, describe: 'KGC SM9 encryption master key pair' },
  'load-master': {
    secret: { load: { bytes: 16, kcv: 'sm4' }, tac: { bytes: 16, kcv: 'sm4' } },
    hasKeyIndex: false,
    describe: "the load and TAC application masters of cb-master only (the bank vault's withdrawal keys)",
  },
  'purchase-master': {
    secret: { purchase: { bytes: 16, kcv: 'sm4' }, psamEnc: { bytes: 16, kcv: 'aes' }, psamMac: { bytes: 16, kcv: 'aes' }, psamDek: { bytes: 16, kcv: 'aes' } },
    hasKeyIndex: false,
    describe: "the purchase application master of cb-master and the PSAMs' personalization key set masters (what makes and personalizes a POS terminal's PSAM)",
  },
  'desk-signing': { secret: { privateKey: { bytes: 32, kcv: 'sm3-public' } }, publicKeyBytes: 65, hasKeyIndex: false, describe: "an issuance desk's SM2 key pair, signing its requests to the KGC" },
  'bank-signing': { secret: { privateKey: { bytes: 32, kcv: 'sm3-public' } }, publicKeyBytes: 65, hasKeyIndex: false, describe: "a commercial bank's SM2 key pair, signing its requests to the central bank's registry" },
  'issuer-master': {
    secret: { issuerMac: { bytes: 16, kcv: 'sm4' }, pinReload: { bytes: 16, kcv: 'sm4' } },
    hasKeyIndex: false,
    describe: "the issuer-script application masters of cb-master only (an issuance desk's block, unblock, PUT DATA and PIN reload keys)",
  },
};

/** One-line description of a kind, for help texts. */
export function describeKind(kind: KeyKind): string {
  return KIND_SPECS[kind].describe;
}

/** True for the kinds that carry a key index (coin-signing, cert-signing). */
export function kindHasKeyIndex(kind: KeyKind): boolean {
  return KIND_SPECS[kind].hasKeyIndex;
}

export function isKeyKind(x: unknown): x is KeyKind {
  return typeof x === 'string' && (KEY_KINDS as readonly string[]).includes(x);
}

/** Names of the secrets of a kind, in file order. */
export function secretNames(kind: KeyKind): string[] {
  return Object.keys(KIND_SPECS[kind].secret);
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * A key file (or key environment variable) that is missing, malformed, or fails its checks.
 * `source` names the file or variable, `field` the member at fault ("kcv.load", "secret.scpEnc").
 * The message names fields and lengths only, never key bytes. A FormatError, so `drmb` reports it as
 * "drmb: <message>" with exit code 2.
 */
export class KeyFileError extends FormatError {
  constructor(
    readonly source: string,
    readonly field: string | undefined,
    detail: string,
  ) {
    super(source, field ? `${field}: ${detail}` : detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Key check values

/**
 * KCV of an asymmetric key (SM2 or SM9 key pair): the first 3 bytes of SM3(public key encoding), the
 * public key as stored in the file (SM2 04||x||y, SM9 G1/G2 04||x||y). It identifies the pair without
 * revealing anything the public key does not already reveal.
 */
export function publicKeyCheckValue(publicKey: Uint8Array): Uint8Array {
  return sm3(publicKey).slice(0, 3);
}

function kcvOf(rule: KcvRule, key: Uint8Array): Uint8Array {
  if (rule === 'sm3-public') return publicKeyCheckValue(key);
  return keyCheckValue(key, rule);
}

/**
 * The KCVs a key file of this kind must carry for these keys: for symmetric kinds one per secret
 * (AES: first 3 bytes of AES(key, 16 x 01), GP Amendment D; SM4: first 3 bytes of SM4(key, 16 x 00));
 * for asymmetric kinds one named publicKey ({@link publicKeyCheckValue}).
 */
export function computeKcvs(kind: KeyKind, secret: Record<string, Uint8Array>, publicPart?: Record<string, Uint8Array>): Record<string, Uint8Array> {
  const spec = KIND_SPECS[kind];
  if (spec.publicKeyBytes !== undefined) {
    if (!publicPart?.publicKey) throw new KeyFileError(kind, 'public.publicKey', 'is missing');
    return { publicKey: publicKeyCheckValue(publicPart.publicKey) };
  }
  const out: Record<string, Uint8Array> = {};
  for (const [name, s] of Object.entries(spec.secret)) out[name] = kcvOf(s.kcv, secret[name]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation

const HEX_RE = /^[0-9a-fA-F]*$/;

/** Hex text to bytes without ever echoing the text (it may be a secret). */
function hexField(source: string, field: string, value: unknown, bytes: number): Uint8Array {
  if (typeof value !== 'string') throw new KeyFileError(source, field, `must be a hex string of ${bytes} bytes`);
  if (!HEX_RE.test(value) || value.length !== 2 * bytes) {
    throw new KeyFileError(source, field, `must be ${2 * bytes} hex digits (${bytes} bytes); found ${HEX_RE.test(value) ? `${value.length} digits` : 'a non-hex character'}`);
  }
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = parseInt(value.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Line and column of a JSON syntax error, from the position V8 reports; never the text around it (it may hold key bytes). */
function jsonErrorPlace(text: string, e: unknown): string {
  const m = /position (\d+)/.exec(e instanceof Error ? e.message : '');
  if (!m) return '';
  const pos = Math.min(Number(m[1]), text.length);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

const TOP_LEVEL_FIELDS = new Set(['format', 'version', 'kind', 'label', 'created', 'keyIndex', 'kcv', 'public', 'secret']);

function bytesRecord(source: string, group: string, value: unknown, expected: Record<string, number>): Record<string, Uint8Array> {
  if (!isPlainObject(value)) throw new KeyFileError(source, group, `must be an object with ${Object.keys(expected).join(', ')}`);
  for (const name of Object.keys(value)) {
    if (!(name in expected)) throw new KeyFileError(source, `${group}.${name}`, 'is not a field of this kind of key file');
  }
  const out: Record<string, Uint8Array> = {};
  for (const [name, len] of Object.entries(expected)) {
    if (!(name in value)) throw new KeyFileError(source, `${group}.${name}`, 'is missing');
    out[name] = hexField(source, `${group}.${name}`, value[name], len);
  }
  return out;
}

/** Checks that the public key belongs to the private key (catches a swapped public key with a matching KCV). */
function checkPair(source: string, kind: KeyKind, privateKey: Uint8Array, publicKey: Uint8Array): void {
  let derived: Uint8Array;
  try {
    if (kind === 'coin-signing' || kind === 'cert-signing' || kind === 'desk-signing' || kind === 'bank-signing') {
      if (!sm2IsValidPrivateKey(privateKey)) throw new Error('range');
      derived = sm2GetPublicKey(privateKey);
    } else if (kind === 'kgc-sign') {
      derived = sm9GenerateSignMasterKey(privateKey).publicKey;
    } else {
      derived = sm9GenerateEncryptMasterKey(privateKey).publicKey;
    }
  } catch {
    throw new KeyFileError(source, 'secret.privateKey', 'is not a valid private key (outside [1, n-1])');
  }
  if (!equalBytes(derived, publicKey)) {
    throw new KeyFileError(source, 'public.publicKey', 'does not belong to secret.privateKey: the file is corrupted or was altered');
  }
}

/**
 * Parses and validates a key file document. `source` names the file or variable in errors.
 * Checks format, version, kind (and `expectedKind`), label, creation time, key index, exact field
 * sets, every length, every KCV (recomputed; a mismatch means a corrupted or tampered file and is
 * reported with the field name), and that an asymmetric public key belongs to its private key.
 */
export function parseKeyFile<K extends KeyKind>(text: string, source: string, expectedKind?: K): KeyFile<K> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the text around the error, which may be key bytes: report only the place.
    throw new KeyFileError(source, undefined, `is not valid JSON${jsonErrorPlace(text, e)}`);
  }
  return keyFileFromDocument(doc, source, expectedKind);
}

/** Validates an already parsed JSON document (see {@link parseKeyFile}). */
export function keyFileFromDocument<K extends KeyKind>(doc: unknown, source: string, expectedKind?: K): KeyFile<K> {
  if (!isPlainObject(doc)) throw new KeyFileError(source, undefined, 'is not a JSON object');
  if (doc.format !== KEY_FILE_FORMAT) throw new KeyFileError(source, 'format', `must be "${KEY_FILE_FORMAT}"`);
  if (doc.version !== KEY_FILE_VERSION) throw new KeyFileError(source, 'version', `must be ${KEY_FILE_VERSION} (this drmb reads version ${KEY_FILE_VERSION} only)`);
  for (const name of Object.keys(doc)) {
    if (!TOP_LEVEL_FIELDS.has(name)) throw new KeyFileError(source, name, 'is not a field of a key file');
  }
  const kind = doc.kind;
  if (!isKeyKind(kind)) throw new KeyFileError(source, 'kind', `must be one of ${KEY_KINDS.join(', ')}`);
  if (expectedKind !== undefined && kind !== expectedKind) {
    throw new KeyFileError(source, 'kind', `is ${kind}, expected ${expectedKind}`);
  }
  if (typeof doc.label !== 'string' || doc.label.length > 200 || /[\u0000-\u001f]/.test(doc.label)) {
    throw new KeyFileError(source, 'label', 'must be a string of at most 200 characters without control characters');
  }
  if (typeof doc.created !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(doc.created) || Number.isNaN(Date.parse(doc.created))) {
    throw new KeyFileError(source, 'created', 'must be an ISO 8601 time, e.g. 2026-01-31T09:00:00.000Z');
  }
  const spec = KIND_SPECS[kind];
  let keyIndex: number | undefined;
  if (spec.hasKeyIndex) {
    if (!Number.isInteger(doc.keyIndex) || (doc.keyIndex as number) < 1 || (doc.keyIndex as number) > MAX_KEY_INDEX) {
      throw new KeyFileError(source, 'keyIndex', `must be an integer 1..${MAX_KEY_INDEX}`);
    }
    keyIndex = doc.keyIndex as number;
  } else if (doc.keyIndex !== undefined) {
    throw new KeyFileError(source, 'keyIndex', `a ${kind} key file has no key index`);
  }
  const secret = bytesRecord(source, 'secret', doc.secret, Object.fromEntries(Object.entries(spec.secret).map(([n, s]) => [n, s.bytes])));
  let publicPart: Record<string, Uint8Array> | undefined;
  let kcv: Record<string, Uint8Array>;
  try {
    if (spec.publicKeyBytes !== undefined) {
      publicPart = bytesRecord(source, 'public', doc.public, { publicKey: spec.publicKeyBytes });
    } else if (doc.public !== undefined) {
      throw new KeyFileError(source, 'public', `a ${kind} key file has no public part`);
    }
    const expectedKcvs = computeKcvs(kind, secret, publicPart);
    kcv = bytesRecord(source, 'kcv', doc.kcv, Object.fromEntries(Object.keys(expectedKcvs).map((n) => [n, 3])));
    for (const name of Object.keys(expectedKcvs)) {
      if (!equalBytes(kcv[name], expectedKcvs[name])) {
        const what = name === 'publicKey' ? 'public.publicKey' : `secret.${name}`;
        throw new KeyFileError(source, `kcv.${name}`, `does not match ${what}: the file is corrupted or was altered`);
      }
    }
    if (publicPart) checkPair(source, kind, secret.privateKey, publicPart.publicKey);
  } catch (e) {
    wipe(...Object.values(secret));
    throw e;
  }
  const out: Record<string, unknown> = { format: KEY_FILE_FORMAT, version: KEY_FILE_VERSION, kind, label: doc.label, created: doc.created };
  if (keyIndex !== undefined) out.keyIndex = keyIndex;
  out.kcv = kcv;
  if (publicPart) out.public = publicPart;
  out.secret = secret;
  return out as unknown as KeyFile<K>;
}

/**
 * The JSON text of a key file (2-space indentation, uppercase hex, trailing newline), after checking
 * it with the same rules as reading. The text holds the secrets: write it only with {@link writeKeyFile}.
 */
export function keyFileToJson(keyFile: KeyFile): string {
  const doc: Record<string, unknown> = {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    kind: keyFile.kind,
    label: keyFile.label,
    created: keyFile.created,
  };
  if (keyFile.keyIndex !== undefined) doc.keyIndex = keyFile.keyIndex;
  const hexRecord = (r: Record<string, Uint8Array> | undefined) =>
    r && Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? hex(v) : v]));
  doc.kcv = hexRecord(keyFile.kcv);
  if (keyFile.public) doc.public = hexRecord(keyFile.public);
  doc.secret = hexRecord(keyFile.secret as Record<string, Uint8Array>);
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  const checked = parseKeyFile(text, `${keyFile.kind} key file being written`);
  wipeKeyFile(checked);
  return text;
}

/** What a key file shows of itself without its secret: its kind and its key check values in hex. */
export function keyShown(k: KeyFile): { kind: KeyKind; kcv: Record<string, string> } {
  return { kind: k.kind, kcv: Object.fromEntries(Object.entries(k.kcv as Record<string, Uint8Array>).map(([n, v]) => [n, hex(v)])) };
}

/** Overwrites the secret bytes of a key file in memory; call once the keys are no longer needed. */
export function wipeKeyFile(keyFile: KeyFile): void {
  wipe(...Object.values(keyFile.secret as Record<string, Uint8Array>));
}

// ---------------------------------------------------------------------------------------------
// Files

export interface WriteKeyFileOptions {
  /** replace an existing file (atomically, through a temporary file and rename); default false */
  overwrite?: boolean;
}

/** Mode of key files: owner read/write only. */
export const KEY_FILE_MODE = 0o600;

function writeNew(path: string, text: string, mode: number): void {
  let fd: number;
  try {
    // 'wx' = O_CREAT|O_EXCL: never follows or truncates an existing file; the mode is then forced
    // with fchmod because open()'s mode is filtered by the umask.
    fd = openSync(path, 'wx', mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new KeyFileError(path, undefined, 'already exists; refusing to overwrite it (use --overwrite to replace it)');
    if (code === 'ENOENT') throw new KeyFileError(path, undefined, `cannot be created: directory ${dirname(path)} does not exist`);
    throw new KeyFileError(path, undefined, `cannot be created (${code ?? 'error'})`);
  }
  try {
    fchmodSync(fd, mode);
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw e;
  }
  closeSync(fd);
  fsyncDirectory(dirname(path));
}

/**
 * Writes text to `path` with `mode`; refuses an existing file unless `overwrite`, in which case the
 * old file is replaced atomically (a reader sees the old or the new file, never a partial one).
 */
export function writeFileExclusive(path: string, text: string, mode: number, opts: WriteKeyFileOptions = {}): void {
  if (!opts.overwrite) {
    writeNew(path, text, mode);
    return;
  }
  try {
    writeFileAtomic(path, text, mode);
  } catch (e) {
    throw new KeyFileError(path, undefined, `cannot be replaced (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Writes a key file with mode 0600 whatever the umask. Refuses to overwrite an existing file unless
 * `{ overwrite: true }`. Validates the document first (KCVs included), so a bad key file is never
 * written. Security: the directory should be owner-only too (initKeyDirectory makes it 0700).
 */
export function writeKeyFile(path: string, keyFile: KeyFile, opts: WriteKeyFileOptions = {}): void {
  writeFileExclusive(path, keyFileToJson(keyFile), KEY_FILE_MODE, opts);
}

/** The text of a key or trust-anchor file; a file that is missing or unreadable is a KeyFileError naming `source`. */
export function readKeyText(path: string, source = path): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeyFileError(source, undefined, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`);
  }
}

/**
 * Reads and validates a key file ({@link parseKeyFile}); with `expectedKind`, a file of another kind
 * is refused. Throws KeyFileError naming the file and field. The caller wipes the secrets
 * ({@link wipeKeyFile}) when done.
 */
export function readKeyFile<K extends KeyKind>(path: string, expectedKind?: K): KeyFile<K> {
  return parseKeyFile(readKeyText(path), path, expectedKind);
}

/**
 * A warning when a key file can be read by group or others (mode & 077), else undefined. Reading does
 * not refuse such files (secrets mounted by orchestration tools are often 0644), but `drmb keys show`
 * reports it.
 */
export function keyFilePermissionProblem(path: string): string | undefined {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `${path} has mode ${mode.toString(8).padStart(4, '0')}; key files should be 0600 (chmod 600 ${path})`;
}

// ---------------------------------------------------------------------------------------------
// Environment and resolution

/** Environment variables for a kind: `DRMB_KEY_<KIND>` holds the JSON document, `DRMB_KEY_<KIND>_FILE` a path. */
export function keyEnvNames(kind: KeyKind): { json: string; file: string } {
  const base = `DRMB_KEY_${kind.toUpperCase().replace(/-/g, '_')}`;
  return { json: base, file: `${base}_FILE` };
}

/** Environment variable naming a default key directory when neither `dir` nor `path` is given. */
export const KEY_DIR_ENV = 'DRMB_KEY_DIR';

/** The default file name of a kind in a key directory: cb-master.json, coin-signing-<index>.json (index 1 default), ... */
export function defaultKeyFileName(kind: KeyKind, keyIndex?: number): string {
  return KIND_SPECS[kind].hasKeyIndex ? `${kind}-${keyIndex ?? 1}.json` : `${kind}.json`;
}

/** Environment variables as key loading reads them (process.env by default). */
export type Env = Record<string, string | undefined>;

/** Where a key came from, for logs and manifests (never the key). */
export interface ResolvedKey<K extends KeyKind> {
  keyFile: KeyFile<K>;
  /** "environment variable DRMB_KEY_CB_MASTER", "file keys/cb-master.json (from DRMB_KEY_CB_MASTER_FILE)", "file keys/cb-master.json" */
  source: string;
}

function resolveFromEnv<K extends KeyKind>(kind: K, env: Env): ResolvedKey<K> | undefined {
  const names = keyEnvNames(kind);
  const json = env[names.json];
  const file = env[names.file];
  if (json !== undefined && json !== '' && file !== undefined && file !== '') {
    throw new KeyFileError(`environment variables ${names.json} and ${names.file}`, undefined, 'are both set; set only one');
  }
  if (json !== undefined && json !== '') {
    const source = `environment variable ${names.json}`;
    return { keyFile: parseKeyFile(json, source, kind), source };
  }
  if (file !== undefined && file !== '') {
    const source = `file ${file} (from ${names.file})`;
    return { keyFile: parseKeyFile(readKeyText(file, source), source, kind), source };
  }
  return undefined;
}

/**
 * The key of this kind from the environment, or undefined when neither `DRMB_KEY_<KIND>` (the JSON
 * document) nor `DRMB_KEY_<KIND>_FILE` (a path) is set. Both set is an error. `env` defaults to
 * process.env.
 */
export function keyFileFromEnv<K extends KeyKind>(kind: K, env: Env = process.env): KeyFile<K> | undefined {
  return resolveFromEnv(kind, env)?.keyFile;
}

/** Where loadKey looks for a key: a directory, an explicit file, the environment. */
export interface LoadKeyOptions {
  /** key directory holding files under their default names */
  dir?: string;
  /** explicit key file path (wins over `dir`, loses to the environment) */
  path?: string;
  /** for coin-signing / cert-signing: the index wanted (default file name and a check of the file's keyIndex) */
  keyIndex?: number;
  /** environment to read (default process.env) */
  env?: Env;
}

/**
 * Finds a key: first the environment (`DRMB_KEY_<KIND>`, then `DRMB_KEY_<KIND>_FILE`), then `path`,
 * then `<dir>/<default file name>` (dir defaulting to `DRMB_KEY_DIR`). When `keyIndex` is given, the
 * key found must have that index. Throws KeyFileError naming every place it looked.
 */
export function resolveKey<K extends KeyKind>(kind: K, opts: LoadKeyOptions = {}): ResolvedKey<K> {
  const env = opts.env ?? process.env;
  const names = keyEnvNames(kind);
  const checkIndex = (r: ResolvedKey<K>): ResolvedKey<K> => {
    if (opts.keyIndex !== undefined && r.keyFile.keyIndex !== opts.keyIndex) {
      wipeKeyFile(r.keyFile);
      throw new KeyFileError(r.source, 'keyIndex', `is ${r.keyFile.keyIndex ?? 'absent'}, expected ${opts.keyIndex}`);
    }
    return r;
  };
  const fromEnv = resolveFromEnv(kind, env);
  if (fromEnv) return checkIndex(fromEnv);
  const looked = `${names.json} and ${names.file} are not set`;
  if (opts.path !== undefined) {
    if (!existsSync(opts.path)) throw new KeyFileError(`${kind} key`, undefined, `not found: ${looked}, and ${opts.path} does not exist`);
    return checkIndex({ keyFile: readKeyFile(opts.path, kind), source: `file ${opts.path}` });
  }
  const dir = opts.dir ?? env[KEY_DIR_ENV];
  if (dir === undefined || dir === '') {
    throw new KeyFileError(`${kind} key`, undefined, `not found: ${looked}, and no key file or key directory was given (--keys, or ${KEY_DIR_ENV})`);
  }
  const path = join(dir, defaultKeyFileName(kind, opts.keyIndex));
  if (!existsSync(path)) throw new KeyFileError(`${kind} key`, undefined, `not found: ${looked}, and ${path} does not exist`);
  return checkIndex({ keyFile: readKeyFile(path, kind), source: `file ${path}` });
}

/** {@link resolveKey} without the source. */
export function loadKey<K extends KeyKind>(kind: K, opts: LoadKeyOptions = {}): KeyFile<K> {
  return resolveKey(kind, opts).keyFile;
}

// ---------------------------------------------------------------------------------------------
// Summaries

/** Everything about a key file except its secrets, with bytes as uppercase hex, for printing. */
export interface KeySummary {
  kind: KeyKind;
  label: string;
  created: string;
  keyIndex?: number;
  kcv: Record<string, string>;
  public?: Record<string, string>;
}

/** The public summary of a key file: kind, label, creation time, key index, KCVs and public keys; never a secret. */
export function publicSummary(keyFile: KeyFile): KeySummary {
  const toHex = (r: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, hex(v)]));
  const out: KeySummary = { kind: keyFile.kind, label: keyFile.label, created: keyFile.created, kcv: toHex(keyFile.kcv) };
  if (keyFile.keyIndex !== undefined) out.keyIndex = keyFile.keyIndex;
  if (keyFile.public) out.public = toHex(keyFile.public);
  return out;
}

