/**
 * @module `drmb keys export`: writes one role's bundle out of a ceremony directory, exactly the keys
 * the role table (keys/role-bundles.ts) gives it: whole key files copied, the load and purchase
 * masters cut out of cb-master, a fresh desk-signing key for an issuance desk, the public trust
 * anchors, and bundle.json written last so that a half-written directory is never a bundle.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hex } from '../base/hex.js';
import { AUTHORIZED_BANKS_FILE, AUTHORIZED_DESKS_FILE, readAuthorizedDesks, writeAuthorizedDesks } from '../keys/authorized-desks.js';
import { defaultKeyFileName, type KeyFile, KeyFileError, type KeyKind, KEY_FILE_MODE, publicKeyCheckValue, readKeyFile, wipeKeyFile, writeKeyFile, writeFileExclusive } from '../keys/key-files.js';
import { BUNDLE_MANIFEST_FILE, bundleFileNames, type BundleManifest, bundleManifestToJson, cutFromCbMaster, ROLE_BUNDLES, type Role } from '../keys/role-bundles.js';
import { readTrustAnchors, TRUST_ANCHORS_FILE, TRUST_ANCHORS_MODE, writeTrustAnchors } from '../keys/trust-anchors.js';
import { generateKey } from './key-ceremony.js';

/** One file written by an export, as printed: no secrets. */
export interface BundleFile {
  path: string;
  kind: string;
  /** KCVs in uppercase hex (key files), none for public files */
  kcv?: Record<string, string>;
  mode: number;
  /** where it came from: "copied", "cut from cb-master", "generated" */
  origin: string;
}

export interface ExportResult {
  dir: string;
  role: Role;
  files: BundleFile[];
  /** issuance-desk: the desk's public key, to give the KGC (`drmb kgc authorize --desk-key`) */
  deskPublicKey?: string;
  /** bank-vault: the bank's public key, to give the registry (`drmb registry authorize --bank-key`) */
  bankPublicKey?: string;
}

/** The key of `kind` for the bundle, from the ceremony directory `src`, and how it was obtained. */
function bundleKey(src: string, kind: KeyKind, now: Date): { key: KeyFile; origin: string } {
  const own = join(src, defaultKeyFileName(kind));
  if (existsSync(own)) return { key: readKeyFile(own, kind), origin: 'copied' };
  if (kind === 'load-master' || kind === 'purchase-master') {
    const cb = readKeyFile(join(src, defaultKeyFileName('cb-master')), 'cb-master');
    try {
      return { key: cutFromCbMaster(cb, kind), origin: 'cut from cb-master' };
    } finally {
      wipeKeyFile(cb);
    }
  }
  // A desk's or a bank's own key is its own, not the ceremony's: a fresh one unless the directory has one.
  if (kind === 'desk-signing' || kind === 'bank-signing') return { key: generateKey(kind, { now }), origin: 'generated' };
  return { key: readKeyFile(own, kind), origin: 'copied' };
}

/**
 * Writes the bundle of `role` into `out` (created 0700) from the ceremony directory `src`. Checks
 * every target first and writes nothing when one exists, unless `overwrite`. Key files 0600 as
 * writeKeyFile writes them, trust-anchors.json 0644, bundle.json last. Returns KCVs, never secrets.
 */
export function exportRoleBundle(src: string, role: Role, out: string, opts: { overwrite?: boolean; now?: Date } = {}): ExportResult {
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new KeyFileError(src, undefined, 'is not a key directory');
  if (existsSync(join(src, BUNDLE_MANIFEST_FILE))) throw new KeyFileError(src, undefined, 'is a role bundle; export from the ceremony directory (drmb keys init)');
  const now = opts.now ?? new Date();
  if (!existsSync(out)) {
    mkdirSync(out, { recursive: true, mode: 0o700 });
    chmodSync(out, 0o700);
  } else if (!statSync(out).isDirectory()) {
    throw new KeyFileError(out, undefined, 'is not a directory');
  }
  if (!opts.overwrite) {
    const existing = [...bundleFileNames(role), BUNDLE_MANIFEST_FILE].map((f) => join(out, f)).filter((p) => existsSync(p));
    if (existing.length) throw new KeyFileError(out, undefined, `already holds ${existing.join(', ')}; refusing to overwrite (use --overwrite to replace them)`);
  }
  const overwrite = { overwrite: !!opts.overwrite };
  const files: BundleFile[] = [];
  const manifestFiles: BundleManifest['files'] = [];
  const own: Partial<Record<'deskPublicKey' | 'bankPublicKey', Uint8Array>> = {};
  for (const { kind } of ROLE_BUNDLES[role].keys) {
    const { key, origin } = bundleKey(src, kind, now);
    try {
      const path = join(out, defaultKeyFileName(kind));
      writeKeyFile(path, key, overwrite);
      const kcv = Object.fromEntries(Object.entries(key.kcv).map(([n, v]) => [n, hex(v)]));
      files.push({ path, kind, kcv, mode: KEY_FILE_MODE, origin });
      manifestFiles.push({ name: defaultKeyFileName(kind), kind, kcv });
      if (key.kind === 'desk-signing') own.deskPublicKey = key.public.publicKey.slice();
      if (key.kind === 'bank-signing') own.bankPublicKey = key.public.publicKey.slice();
    } finally {
      wipeKeyFile(key);
    }
  }
  for (const { name } of ROLE_BUNDLES[role].files) {
    if (name !== AUTHORIZED_DESKS_FILE && name !== AUTHORIZED_BANKS_FILE) throw new TypeError(`no export rule for ${name}`);
    // The list the KGC or the registry already keeps, or an empty one: requesters are added with
    // `drmb kgc authorize` and `drmb registry authorize`.
    const from = join(src, name);
    const path = join(out, name);
    writeAuthorizedDesks(path, existsSync(from) ? readAuthorizedDesks(from) : [], overwrite);
    const kind = name === AUTHORIZED_DESKS_FILE ? 'authorized-desks' : 'authorized-banks';
    files.push({ path, kind, mode: 0o600, origin: existsSync(from) ? 'copied' : 'new, empty' });
    manifestFiles.push({ name, kind });
  }
  const anchorsPath = join(out, TRUST_ANCHORS_FILE);
  const anchors = readTrustAnchors(join(src, TRUST_ANCHORS_FILE));
  writeTrustAnchors(anchorsPath, anchors, { ...overwrite, created: now.toISOString() });
  const anchorKcvs = { certSigning: hex(publicKeyCheckValue(anchors.certSigning.publicKey)), kgcSign: hex(publicKeyCheckValue(anchors.kgcSignMasterPublicKey)) };
  files.push({ path: anchorsPath, kind: 'trust-anchors', kcv: anchorKcvs, mode: TRUST_ANCHORS_MODE, origin: 'copied' });
  manifestFiles.push({ name: TRUST_ANCHORS_FILE, kind: 'trust-anchors' });
  const manifestPath = join(out, BUNDLE_MANIFEST_FILE);
  writeFileExclusive(manifestPath, bundleManifestToJson({ role, created: now.toISOString(), files: manifestFiles, ...own }), TRUST_ANCHORS_MODE, overwrite);
  files.push({ path: manifestPath, kind: 'bundle', mode: TRUST_ANCHORS_MODE, origin: 'written' });
  return { dir: out, role, files, ...(own.deskPublicKey ? { deskPublicKey: hex(own.deskPublicKey) } : {}), ...(own.bankPublicKey ? { bankPublicKey: hex(own.bankPublicKey) } : {}) };
}
