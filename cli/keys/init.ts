/** @module `drmb keys init`: a full key ceremony into a directory (key files 0600, trust anchors 0644); prints KCVs, never secrets. */
import type { Command as Cli } from 'commander';
import { type CeremonyFile, initKeyDirectory, type InitKeyDirectoryResult } from '../../personalization/key-ceremony.js';
import { withJson } from '../options.js';
import { emit } from '../output.js';

/** Runs the ceremony; the result lists each file with kind, key index and KCVs. */
export function initKeys(dir: string, opts: { overwrite?: boolean } = {}): InitKeyDirectoryResult {
  return initKeyDirectory(dir, { overwrite: !!opts.overwrite });
}

/** One line per file: path, kind, index, mode and KCVs. */
export function formatCeremonyFile(f: CeremonyFile): string {
  const kcvs = Object.entries(f.kcv)
    .map(([n, v]) => `${n}=${v}`)
    .join(' ');
  const index = f.keyIndex !== undefined ? ` #${f.keyIndex}` : '';
  return `${f.path}  ${f.kind}${index}  mode ${f.mode.toString(8).padStart(4, '0')}  KCV ${kcvs}`;
}

export function registerKeysInit(keys: Cli): void {
  withJson(
    keys
      .command('init')
      .description('key ceremony: create every master key, signing key pair and KGC master key, plus trust-anchors.json')
      .requiredOption('--dir <dir>', 'key directory (created 0700 if missing)')
      .option('--overwrite', 'replace existing key files (the old keys are lost)'),
  ).action((opts: { dir: string; overwrite?: boolean; json?: boolean }) => {
    process.stderr.write(`drmb: generating keys in ${opts.dir} (SM9 master keys take a moment)\n`);
    emit(initKeys(opts.dir, opts), !!opts.json, (r) => [`key directory ${r.dir}`, ...r.files.map(formatCeremonyFile)].join('\n'));
  });
}
