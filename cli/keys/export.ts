/** @module `drmb keys export`: one role's key bundle out of a ceremony directory (keys/role-bundles.ts says what each role holds); prints KCVs, never secrets. */
import type { Command as Cli } from 'commander';
import { isRole, ROLES } from '../../keys/role-bundles.js';
import { type ExportResult, exportRoleBundle } from '../../personalization/role-bundle-export.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface ExportOptions {
  role: string;
  out: string;
  keys?: string;
  overwrite?: boolean;
  json?: boolean;
}

/** Checks the role and the source directory, then writes the bundle. */
export function runExport(o: ExportOptions): ExportResult {
  if (!isRole(o.role)) throw new UsageError(`unknown role "${o.role}"; the roles are ${ROLES.join(', ')}`);
  const src = keyDirOf(o);
  if (!src) throw new UsageError('--keys <dir> (or DRMB_KEY_DIR) is needed: the ceremony directory to export from');
  return exportRoleBundle(src, o.role, o.out, { overwrite: !!o.overwrite });
}

export function formatExport(r: ExportResult): string {
  const lines = [`${r.role} bundle ${r.dir}`];
  for (const f of r.files) {
    const kcvs = f.kcv ? `  KCV ${Object.entries(f.kcv).map(([n, v]) => `${n}=${v}`).join(' ')}` : '';
    lines.push(`${f.path}  ${f.kind}  mode ${f.mode.toString(8).padStart(4, '0')}  ${f.origin}${kcvs}`);
  }
  if (r.deskPublicKey) lines.push(`desk public key (give it to the KGC: drmb kgc authorize --desk-key ${r.dir}): ${r.deskPublicKey}`);
  if (r.bankPublicKey) lines.push(`bank public key (give it to the registry: drmb registry authorize --bank-key ${r.dir} --bank-code CODE): ${r.bankPublicKey}`);
  return lines.join('\n');
}

export function registerKeysExport(keys: Cli): void {
  const cmd = keys
    .command('export')
    .description("write one role's key bundle: exactly the keys that role needs, the trust anchors, and bundle.json")
    .requiredOption('--role <role>', `the role: ${ROLES.join(', ')}`)
    .requiredOption('--out <dir>', 'bundle directory to write (created 0700)')
    .option('--overwrite', 'replace the files of an existing bundle');
  withJson(withKeys(cmd, 'the ceremony directory to export from')).action((o: ExportOptions) => {
    emit(runExport(o), !!o.json, formatExport);
  });
}
