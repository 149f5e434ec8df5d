/**
 * @module Key ceremonies: fresh central-bank, issuance and KGC keys from the CSPRNG (SM2 per GB/T 32918.1
 * 6.1, SM9 masters per GM/T 0044-2016 part 2/4 clause 5), a whole key directory at once, and its
 * public trust-anchors file (keys/trust-anchors.ts, DGI E001 content) that anyone may read.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hex } from '../base/hex.js';
import { randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm9GenerateEncryptMasterKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import {
  CB_MASTER_KEY_NAMES,
  computeKcvs,
  defaultKeyFileName,
  ISSUANCE_MASTER_KEY_NAMES,
  KEY_FILE_FORMAT,
  KEY_FILE_VERSION,
  CEREMONY_KINDS,
  KEY_KINDS,
  type KeyFile,
  KeyFileError,
  type KeyKind,
  kindHasKeyIndex,
  MAX_KEY_INDEX,
  publicKeyCheckValue,
  secretNames,
  wipeKeyFile,
  writeKeyFile,
} from '../keys/key-files.js';
import { TRUST_ANCHORS_FILE, TRUST_ANCHORS_MODE, trustAnchorsFromKeys, writeTrustAnchors } from '../keys/trust-anchors.js';

/** The trust-anchor API lives in keys/ (below personalization, bank and host); ceremonies write the file. */
export * from '../keys/trust-anchors.js';

export interface GenerateKeyOptions {
  /** default: "<kind>" or "<kind> <index>", with the creation date */
  label?: string;
  /** coin-signing / cert-signing only: 1..255, default 1 */
  keyIndex?: number;
  /** creation time (default now); for reproducible tests */
  now?: Date;
}

/**
 * A fresh key (pair) of this kind from the CSPRNG, with its KCVs: 16-byte random AES/SM4 keys for
 * 'cb-master', 'issuance-master', 'mint-master', 'load-master' and 'purchase-master', an SM2 key pair
 * (d uniform in [1, n-2]) for 'coin-signing', 'cert-signing', 'desk-signing' and 'bank-signing', an SM9 master key pair (s uniform in [1, n-1]) for 'kgc-sign' and 'kgc-encrypt'.
 * Security: the result holds secrets; write it with writeKeyFile and wipe it (wipeKeyFile).
 */
export function generateKey<K extends KeyKind>(kind: K, opts: GenerateKeyOptions = {}): KeyFile<K> {
  const hasIndex = kindHasKeyIndex(kind);
  if (!hasIndex && opts.keyIndex !== undefined) throw new KeyFileError(`${kind} key`, 'keyIndex', `a ${kind} key has no key index`);
  const keyIndex = hasIndex ? (opts.keyIndex ?? 1) : undefined;
  if (keyIndex !== undefined && (!Number.isInteger(keyIndex) || keyIndex < 1 || keyIndex > MAX_KEY_INDEX)) {
    throw new KeyFileError(`${kind} key`, 'keyIndex', `must be an integer 1..${MAX_KEY_INDEX}`);
  }
  const created = (opts.now ?? new Date()).toISOString();
  const label = opts.label ?? `${kind}${keyIndex !== undefined ? ` ${keyIndex}` : ''} ${created.slice(0, 10)}`;
  let secret: Record<string, Uint8Array>;
  let publicPart: Record<string, Uint8Array> | undefined;
  switch (kind) {
    case 'cb-master':
      secret = Object.fromEntries(CB_MASTER_KEY_NAMES.map((n) => [n, randomBytes(16)]));
      break;
    case 'issuance-master':
      secret = Object.fromEntries(ISSUANCE_MASTER_KEY_NAMES.map((n) => [n, randomBytes(16)]));
      break;
    case 'mint-master':
      secret = { master: randomBytes(16) };
      break;
    // A role bundle copies these from cb-master (keys/role-bundles.ts); fresh ones are for tests.
    case 'load-master':
    case 'purchase-master':
      secret = Object.fromEntries(secretNames(kind).map((n) => [n, randomBytes(16)]));
      break;
    case 'coin-signing':
    case 'cert-signing':
    case 'desk-signing':
    case 'bank-signing': {
      const pair = sm2GenerateKeyPair();
      secret = { privateKey: pair.privateKey };
      publicPart = { publicKey: pair.publicKey };
      break;
    }
    case 'kgc-sign':
    case 'kgc-encrypt': {
      const pair = kind === 'kgc-sign' ? sm9GenerateSignMasterKey() : sm9GenerateEncryptMasterKey();
      secret = { privateKey: pair.privateKey };
      publicPart = { publicKey: pair.publicKey };
      break;
    }
    default:
      throw new KeyFileError(String(kind), 'kind', `must be one of ${KEY_KINDS.join(', ')}`);
  }
  const out: Record<string, unknown> = { format: KEY_FILE_FORMAT, version: KEY_FILE_VERSION, kind, label, created };
  if (keyIndex !== undefined) out.keyIndex = keyIndex;
  out.kcv = computeKcvs(kind, secret, publicPart);
  if (publicPart) out.public = publicPart;
  out.secret = secret;
  return out as unknown as KeyFile<K>;
}

// ---------------------------------------------------------------------------------------------
// Whole directory

/** One file written by a ceremony, as printed: no secrets. */
export interface CeremonyFile {
  path: string;
  kind: KeyKind | 'trust-anchors';
  keyIndex?: number;
  label?: string;
  /** KCVs in uppercase hex, by key name (trust anchors: by public key) */
  kcv: Record<string, string>;
  /** file mode as set, e.g. 0o600 */
  mode: number;
}

export interface InitKeyDirectoryResult {
  dir: string;
  files: CeremonyFile[];
}

/** The key files of a full ceremony, in creation order, with their default names. */
export const CEREMONY_KEYS: readonly { kind: KeyKind; keyIndex?: number; file: string }[] = CEREMONY_KINDS.map((kind) => {
  const keyIndex = kindHasKeyIndex(kind) ? 1 : undefined;
  return { kind, keyIndex, file: defaultKeyFileName(kind, keyIndex) };
});

/**
 * A full key ceremony into `dir` (created 0700 if missing): cb-master.json, issuance-master.json,
 * coin-signing-1.json, cert-signing-1.json, kgc-sign.json, kgc-encrypt.json (each 0600) and
 * trust-anchors.json (0644, public parts only, KGC key version 1). Checks every target first and
 * writes nothing if any exists, unless `overwrite`. Returns the files with their KCVs (never secrets).
 */
export function initKeyDirectory(dir: string, opts: { overwrite?: boolean; now?: Date } = {}): InitKeyDirectoryResult {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } else if (!statSync(dir).isDirectory()) {
    throw new KeyFileError(dir, undefined, 'is not a directory');
  }
  const targets = [...CEREMONY_KEYS.map((k) => k.file), TRUST_ANCHORS_FILE].map((f) => join(dir, f));
  if (!opts.overwrite) {
    const existing = targets.filter((p) => existsSync(p));
    if (existing.length) throw new KeyFileError(dir, undefined, `already holds ${existing.join(', ')}; refusing to overwrite (use --overwrite to replace them)`);
  }
  const files: CeremonyFile[] = [];
  const keys: Partial<{ [K in KeyKind]: KeyFile<K> }> = {};
  try {
    for (const { kind, keyIndex, file } of CEREMONY_KEYS) {
      const k = generateKey(kind, { keyIndex, now: opts.now });
      (keys as Record<string, KeyFile>)[kind] = k;
      const path = join(dir, file);
      writeKeyFile(path, k, { overwrite: opts.overwrite });
      files.push({ path, kind, keyIndex: k.keyIndex, label: k.label, kcv: Object.fromEntries(Object.entries(k.kcv).map(([n, v]) => [n, hex(v)])), mode: 0o600 });
    }
    const anchors = trustAnchorsFromKeys({
      coinSigning: [keys['coin-signing']!],
      certSigning: keys['cert-signing']!,
      kgcSign: keys['kgc-sign']!,
      kgcEncrypt: keys['kgc-encrypt']!,
      kgcKeyVersion: 1,
    });
    const path = join(dir, TRUST_ANCHORS_FILE);
    writeTrustAnchors(path, anchors, { overwrite: opts.overwrite, created: (opts.now ?? new Date()).toISOString() });
    files.push({
      path,
      kind: 'trust-anchors',
      kcv: {
        [`coinSigning${anchors.coinKeys[0].keyIndex}`]: hex(publicKeyCheckValue(anchors.coinKeys[0].publicKey)),
        certSigning: hex(publicKeyCheckValue(anchors.certSigning.publicKey)),
        kgcSign: hex(publicKeyCheckValue(anchors.kgcSignMasterPublicKey)),
        kgcEncrypt: hex(publicKeyCheckValue(anchors.kgcEncryptMasterPublicKey)),
      },
      mode: TRUST_ANCHORS_MODE,
    });
  } finally {
    for (const k of Object.values(keys)) if (k) wipeKeyFile(k as KeyFile);
  }
  return { dir, files };
}
