/** @module `drmb keys show`: the public view of a key file or trust-anchors file (kind, label, key index, KCVs, public keys), validated; never a secret. */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { parseTrustAnchors, TRUST_ANCHORS_FORMAT } from '../../personalization/key-ceremony.js';
import { keyFilePermissionProblem, type KeySummary, publicKeyCheckValue, publicSummary, readKeyFile, wipeKeyFile } from '../../keys/key-files.js';
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

function isTrustAnchorsFile(path: string): boolean {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))?.format === TRUST_ANCHORS_FORMAT;
  } catch {
    return false;
  }
}

/** Reads and checks a key file (lengths, KCVs, key pair) or a trust-anchors file, and returns its public view. */
export function showKeyFile(path: string): ShownKeyFile | ShownTrustAnchors {
  if (isTrustAnchorsFile(path)) {
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

function formatShown(r: ShownKeyFile | ShownTrustAnchors): string {
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
      .description('check a key file (format, lengths, KCVs) and show its kind, label, key index, KCVs and public keys')
      .argument('<file>', 'key file or trust-anchors.json'),
  ).action((file: string, opts: { json?: boolean }) => {
    const r = showKeyFile(file);
    if ('warning' in r && r.warning) process.stderr.write(`drmb: warning: ${r.warning}\n`);
    emit(r, !!opts.json, formatShown);
  });
}
