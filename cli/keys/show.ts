/** @module `drmb keys show`: the public view of a key file, trust-anchors file, bundle manifest or the KGC's list of authorised desks (kind, label, key index, KCVs, public keys), validated; never a secret. */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { parseTrustAnchors, TRUST_ANCHORS_FORMAT } from '../../personalization/key-ceremony.js';
import { keyFilePermissionProblem, type KeySummary, publicKeyCheckValue, publicSummary, readKeyFile, wipeKeyFile } from '../../keys/key-files.js';
import { AUTHORIZED_DESKS_FORMAT, parseAuthorizedDesks } from '../../keys/authorized-desks.js';
import { BUNDLE_FORMAT, parseBundleManifest } from '../../keys/role-bundles.js';
import { emit } from '../output.js';
import { withJson } from '../options.js';

export interface ShownKeyFile extends KeySummary {
  path: string;
  /** set when group or others may read the file */
  warning?: string;
}

export interface ShownTrustAnchors {
  path: string;
  kind: 'trust-anchors';
  coinKeys: { keyIndex: number; publicKey: string; kcv: string }[];
  certSigning: { keyIndex: number; publicKey: string; kcv: string };
  kgcSign: { publicKey: string; kcv: string };
  kgcEncrypt: { publicKey: string; kcv: string };
  kgcKeyVersion: number;
}

/** A role bundle's manifest (bundle.json). */
export interface ShownBundle {
  path: string;
  kind: 'bundle';
  role: string;
  created: string;
  files: { name: string; kind: string; kcv?: Record<string, string> }[];
  deskPublicKey?: string;
  bankPublicKey?: string;
}

/** A list of authorised requesters: the KGC's (authorized-desks.json) or the registry's (authorized-banks.json). */
export interface ShownDesks {
  path: string;
  kind: 'authorized-desks';
  /** identity: a terminal's entry, bound to that identity; bankCode: a bank's */
  desks: { name: string; publicKey: string; kcv: string; added: string; identity?: string; bankCode?: string }[];
}

export type Shown = ShownKeyFile | ShownTrustAnchors | ShownBundle | ShownDesks;

/** The format member of a JSON file, or undefined (then it is read as a key file, whose errors say what is wrong). */
function formatOf(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))?.format;
  } catch {
    return undefined;
  }
}

/** Reads and checks a key file (lengths, KCVs, key pair) or a trust-anchors file, and returns its public view. */
export function showKeyFile(path: string): Shown {
  const format = formatOf(path);
  if (format === BUNDLE_FORMAT) {
    const m = parseBundleManifest(readFileSync(path, 'utf8'), path);
    return { path, kind: 'bundle', role: m.role, created: m.created, files: m.files, ...(m.deskPublicKey ? { deskPublicKey: hex(m.deskPublicKey) } : {}), ...(m.bankPublicKey ? { bankPublicKey: hex(m.bankPublicKey) } : {}) };
  }
  if (format === AUTHORIZED_DESKS_FORMAT) {
    const desks = parseAuthorizedDesks(readFileSync(path, 'utf8'), path);
    return { path, kind: 'authorized-desks', desks: desks.map((d) => ({ name: d.name, publicKey: hex(d.publicKey), kcv: hex(publicKeyCheckValue(d.publicKey)), added: d.added, ...(d.identity !== undefined ? { identity: d.identity } : {}), ...(d.bankCode !== undefined ? { bankCode: d.bankCode } : {}) })) };
  }
  if (format === TRUST_ANCHORS_FORMAT) {
    const a = parseTrustAnchors(readFileSync(path, 'utf8'), path);
    const pk = (publicKey: Uint8Array) => ({ publicKey: hex(publicKey), kcv: hex(publicKeyCheckValue(publicKey)) });
    return {
      path,
      kind: 'trust-anchors',
      coinKeys: a.coinKeys.map((k) => ({ keyIndex: k.keyIndex, ...pk(k.publicKey) })),
      certSigning: { keyIndex: a.certSigning.keyIndex, ...pk(a.certSigning.publicKey) },
      kgcSign: pk(a.kgcSignMasterPublicKey),
      kgcEncrypt: pk(a.kgcEncryptMasterPublicKey),
      kgcKeyVersion: a.kgcKeyVersion,
    };
  }
  const key = readKeyFile(path);
  try {
    const out: ShownKeyFile = { path, ...publicSummary(key) };
    const warning = keyFilePermissionProblem(path);
    if (warning) out.warning = warning;
    return out;
  } finally {
    wipeKeyFile(key);
  }
}

/** Human lines of a key summary. */
export function formatKeySummary(s: KeySummary): string {
  const lines = [`kind:     ${s.kind}${s.keyIndex !== undefined ? ` (key index ${s.keyIndex})` : ''}`, `label:    ${s.label}`, `created:  ${s.created}`];
  for (const [n, v] of Object.entries(s.kcv)) lines.push(`KCV ${n.padEnd(11)} ${v}`);
  for (const [n, v] of Object.entries(s.public ?? {})) lines.push(`public ${n}: ${v}`);
  return lines.join('\n');
}

function formatShown(r: Shown): string {
  if (r.kind === 'bundle') {
    const b = r as ShownBundle;
    const lines = [`${b.path}: ${b.role} bundle, exported ${b.created}`];
    for (const f of b.files) lines.push(`${f.name.padEnd(22)} ${f.kind}${f.kcv ? `  KCV ${Object.entries(f.kcv).map(([n, v]) => `${n}=${v}`).join(' ')}` : ''}`);
    if (b.deskPublicKey) lines.push(`desk public key ${b.deskPublicKey}`);
    if (b.bankPublicKey) lines.push(`bank public key ${b.bankPublicKey}`);
    return lines.join('\n');
  }
  if (r.kind === 'authorized-desks') {
    const d = r as ShownDesks;
    return [`${d.path}: ${d.desks.length} authorised requester(s)`, ...d.desks.map((x) => `KCV ${x.kcv}  ${x.name}${x.identity !== undefined ? `  terminal of identity ${x.identity}` : ''}${x.bankCode !== undefined ? `  bank ${x.bankCode}` : ''}  added ${x.added}  ${x.publicKey}`)].join('\n');
  }
  if (r.kind === 'trust-anchors') {
    const t = r as ShownTrustAnchors;
    const lines = [`${t.path}: trust anchors (public), KGC key version ${t.kgcKeyVersion}`];
    for (const k of t.coinKeys) lines.push(`coin key ${k.keyIndex}     KCV ${k.kcv}  ${k.publicKey}`);
    lines.push(`cert key ${t.certSigning.keyIndex}     KCV ${t.certSigning.kcv}  ${t.certSigning.publicKey}`);
    lines.push(`KGC sign       KCV ${t.kgcSign.kcv}  ${t.kgcSign.publicKey}`);
    lines.push(`KGC encrypt    KCV ${t.kgcEncrypt.kcv}  ${t.kgcEncrypt.publicKey}`);
    return lines.join('\n');
  }
  const k = r as ShownKeyFile;
  return `${k.path}\n${formatKeySummary(k)}`;
}

export function registerKeysShow(keys: Cli): void {
  withJson(
    keys
      .command('show')
      .description('check a key file (format, lengths, KCVs) and show its kind, label, key index, KCVs and public keys; or a public file of the keys')
      .argument('<file>', 'key file, trust-anchors.json, a bundle.json or authorized-desks.json'),
  ).action((file: string, opts: { json?: boolean }) => {
    const r = showKeyFile(file);
    if ('warning' in r && r.warning) process.stderr.write(`drmb: warning: ${r.warning}\n`);
    emit(r, !!opts.json, formatShown);
  });
}
