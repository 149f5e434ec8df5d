/**
 * @module Trust anchors: the public half of a key ceremony, what a card (DGI E001) and every verifier
 * (terminal, bank, registry) need: coin-verification SM2 keys, the certificate key, the KGC's SM9
 * master public keys. Public data in a world-readable file (trust-anchors.json).
 */
import { hex } from '../base/hex.js';
import { sm2IsValidPublicKey } from '../crypto/sm2.js';
import { g1FromBytes, g2FromBytes } from '../crypto/sm9/sm9.js';
import { type KeyFile, KeyFileError, MAX_KEY_INDEX, publicKeyCheckValue, readKeyText, writeFileExclusive } from './key-files.js';

export const TRUST_ANCHORS_FORMAT = 'drmb-trust-anchors';
/** File name of the trust anchors in a ceremony directory or a role's bundle. */
export const TRUST_ANCHORS_FILE = 'trust-anchors.json';
/** Mode of the trust-anchors file: public data, readable by anyone. */
export const TRUST_ANCHORS_MODE = 0o644;

/** The public half of a ceremony: what a card (DGI E001) and a verifier need. */
export interface TrustAnchors {
  /** coin-verification SM2 public keys (65 bytes) with their key indexes */
  coinKeys: { keyIndex: number; publicKey: Uint8Array }[];
  /** SM2 public key that verifies card certificates, with the certificate key index (tag DF15) */
  certSigning: { keyIndex: number; publicKey: Uint8Array };
  /** SM9 Ppub-s, G2, 129 bytes */
  kgcSignMasterPublicKey: Uint8Array;
  /** SM9 Ppub-e, G1, 65 bytes */
  kgcEncryptMasterPublicKey: Uint8Array;
  /** version of the KGC master keys (tag DF13), 1..255 */
  kgcKeyVersion: number;
}

/** Trust anchors from the ceremony's key files (public parts only are copied). */
export function trustAnchorsFromKeys(keys: {
  coinSigning: KeyFile<'coin-signing'>[];
  certSigning: KeyFile<'cert-signing'>;
  kgcSign: KeyFile<'kgc-sign'>;
  kgcEncrypt: KeyFile<'kgc-encrypt'>;
  kgcKeyVersion?: number;
}): TrustAnchors {
  return {
    coinKeys: keys.coinSigning.map((k) => ({ keyIndex: k.keyIndex, publicKey: k.public.publicKey.slice() })),
    certSigning: { keyIndex: keys.certSigning.keyIndex, publicKey: keys.certSigning.public.publicKey.slice() },
    kgcSignMasterPublicKey: keys.kgcSign.public.publicKey.slice(),
    kgcEncryptMasterPublicKey: keys.kgcEncrypt.public.publicKey.slice(),
    kgcKeyVersion: keys.kgcKeyVersion ?? 1,
  };
}

/** The value of DGI E001 (applet-spec DGIS.trustAnchors coder) for these anchors. */
export function trustAnchorsDgiValue(a: TrustAnchors): {
  coinKeys: { keyIndex: number; publicKey: Uint8Array }[];
  kgcSignMasterPublicKey: Uint8Array;
  kgcEncryptMasterPublicKey: Uint8Array;
  kgcKeyVersion: number;
} {
  return {
    coinKeys: a.coinKeys.map((k) => ({ keyIndex: k.keyIndex, publicKey: k.publicKey })),
    kgcSignMasterPublicKey: a.kgcSignMasterPublicKey,
    kgcEncryptMasterPublicKey: a.kgcEncryptMasterPublicKey,
    kgcKeyVersion: a.kgcKeyVersion,
  };
}

/** JSON text of the trust-anchors file (uppercase hex, each public key with its KCV for cross-checking). */
export function trustAnchorsToJson(a: TrustAnchors, created = new Date().toISOString()): string {
  const withKcv = (publicKey: Uint8Array) => ({ publicKey: hex(publicKey), kcv: hex(publicKeyCheckValue(publicKey)) });
  const doc = {
    format: TRUST_ANCHORS_FORMAT,
    version: 1,
    created,
    coinKeys: a.coinKeys.map((k) => ({ keyIndex: k.keyIndex, ...withKcv(k.publicKey) })),
    certSigning: { keyIndex: a.certSigning.keyIndex, ...withKcv(a.certSigning.publicKey) },
    kgcSign: withKcv(a.kgcSignMasterPublicKey),
    kgcEncrypt: withKcv(a.kgcEncryptMasterPublicKey),
    kgcKeyVersion: a.kgcKeyVersion,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Parses and validates a trust-anchors document (points on their curves, KCVs, indexes). */
export function parseTrustAnchors(text: string, source: string): TrustAnchors {
  const fail = (field: string | undefined, detail: string): never => {
    throw new KeyFileError(source, field, detail);
  };
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(undefined, 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== TRUST_ANCHORS_FORMAT) fail('format', `must be "${TRUST_ANCHORS_FORMAT}"`);
  if (doc.version !== 1) fail('version', 'must be 1');
  const key = (field: string, v: any, bytes: number, check: (b: Uint8Array) => boolean): Uint8Array => {
    if (typeof v?.publicKey !== 'string' || !/^[0-9a-fA-F]*$/.test(v.publicKey) || v.publicKey.length !== 2 * bytes) {
      fail(`${field}.publicKey`, `must be ${2 * bytes} hex digits`);
    }
    const b = Uint8Array.from(v.publicKey.match(/../g), (x: string) => parseInt(x, 16));
    if (!check(b)) fail(`${field}.publicKey`, 'is not a valid point');
    if (typeof v.kcv !== 'string' || v.kcv.toUpperCase() !== hex(publicKeyCheckValue(b))) fail(`${field}.kcv`, 'does not match the public key: the file is corrupted or was altered');
    return b;
  };
  const index = (field: string, v: unknown): number =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_KEY_INDEX ? (v as number) : fail(field, `must be an integer 1..${MAX_KEY_INDEX}`);
  const point = (from: (b: Uint8Array) => unknown) => (b: Uint8Array) => {
    try {
      from(b);
      return true;
    } catch {
      return false;
    }
  };
  if (!Array.isArray(doc.coinKeys) || doc.coinKeys.length < 1 || doc.coinKeys.length > 8) fail('coinKeys', 'must list 1..8 keys');
  const coinKeys = doc.coinKeys.map((k: any, i: number) => ({ keyIndex: index(`coinKeys[${i}].keyIndex`, k?.keyIndex), publicKey: key(`coinKeys[${i}]`, k, 65, sm2IsValidPublicKey) }));
  if (new Set(coinKeys.map((k: { keyIndex: number }) => k.keyIndex)).size !== coinKeys.length) fail('coinKeys', 'has a repeated key index');
  return {
    coinKeys,
    certSigning: { keyIndex: index('certSigning.keyIndex', doc.certSigning?.keyIndex), publicKey: key('certSigning', doc.certSigning, 65, sm2IsValidPublicKey) },
    kgcSignMasterPublicKey: key('kgcSign', doc.kgcSign, 129, point(g2FromBytes)),
    kgcEncryptMasterPublicKey: key('kgcEncrypt', doc.kgcEncrypt, 65, point(g1FromBytes)),
    kgcKeyVersion: index('kgcKeyVersion', doc.kgcKeyVersion),
  };
}

/** Reads trust-anchors.json. */
export function readTrustAnchors(path: string): TrustAnchors {
  return parseTrustAnchors(readKeyText(path), path);
}

/** Writes trust-anchors.json with mode 0644 (public data); refuses to overwrite unless asked. */
export function writeTrustAnchors(path: string, a: TrustAnchors, opts: { overwrite?: boolean; created?: string } = {}): void {
  writeFileExclusive(path, trustAnchorsToJson(a, opts.created), TRUST_ANCHORS_MODE, opts);
}

