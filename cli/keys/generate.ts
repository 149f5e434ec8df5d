/** @module `drmb keys generate`: one fresh key (pair) of a kind into a new owner-only key file; prints its KCVs, never the secret. */
import type { Command as Cli } from 'commander';
import { generateKey } from '../../personalization/key-ceremony.js';
import { describeKind, isKeyKind, KEY_KINDS, type KeySummary, kindHasKeyIndex, publicSummary, wipeKeyFile, writeKeyFile } from '../../keys/key-files.js';
import { withJson } from '../options.js';
import { emit, UsageError } from '../output.js';
import { formatKeySummary } from './show.js';

export interface GeneratedKey extends KeySummary {
  path: string;
}

/** Parses a --index value: an integer 1..255. */
export function parseKeyIndex(text: string): number {
  if (!/^\d+$/.test(text) || +text < 1 || +text > 255) throw new UsageError(`key index "${text}" must be an integer 1..255`);
  return Number(text);
}

/** Generates a key of `kind` into `out` (mode 0600, refusing to overwrite unless asked); returns its public summary. */
export function generateKeyFile(kind: string, out: string, opts: { index?: number; label?: string; overwrite?: boolean } = {}): GeneratedKey {
  if (!isKeyKind(kind)) throw new UsageError(`unknown key kind "${kind}"; expected one of ${KEY_KINDS.join(', ')}`);
  if (opts.index !== undefined && !kindHasKeyIndex(kind)) throw new UsageError(`--index applies to coin-signing and cert-signing keys only, not ${kind}`);
  const key = generateKey(kind, { keyIndex: opts.index, label: opts.label });
  try {
    writeKeyFile(out, key, { overwrite: !!opts.overwrite });
    return { path: out, ...publicSummary(key) };
  } finally {
    wipeKeyFile(key);
  }
}

export function registerKeysGenerate(keys: Cli): void {
  withJson(
    keys
      .command('generate')
      .description('generate one key (pair) into a new key file (mode 0600)')
      .argument('<kind>', `key kind: ${KEY_KINDS.map((k) => `${k} (${describeKind(k)})`).join('; ')}`)
      .requiredOption('--out <file>', 'key file to create')
      .option('--index <n>', 'key index of coin-signing / cert-signing keys (1..255, default 1)', parseKeyIndex)
      .option('--label <label>', 'label recorded in the file')
      .option('--overwrite', 'replace an existing file (the old key is lost)'),
  ).action((kind: string, opts: { out: string; index?: number; label?: string; overwrite?: boolean; json?: boolean }) => {
    emit(generateKeyFile(kind, opts.out, opts), !!opts.json, (r) => `${r.path}\n${formatKeySummary(r)}`);
  });
}
