/**
 * @module Options shared by `drmb bank ...`: the registry (embedded PGlite in a folder by default, or a
 * PostgreSQL server from --registry-url / DRMB_REGISTRY_URL) and the keys it checks coins with.
 */
import { join } from 'node:path';
import type { Command as Cli } from 'commander';
import { Registry } from '../../bank/registry.js';
import { readTrustAnchors, TRUST_ANCHORS_FILE } from '../../personalization/key-ceremony.js';
import { loadKey } from '../../keys/key-files.js';
import { UsageError } from '../output.js';

export interface RegistryOptions {
  registry?: string;
  registryUrl?: string;
  keys?: string;
  json?: boolean;
}

export function addRegistryOptions(cmd: Cli): Cli {
  return cmd
    .option('--registry <dir>', 'embedded registry (PGlite) folder', 'drmb-registry')
    .option('--registry-url <url>', 'PostgreSQL connection string instead of the embedded registry (default $DRMB_REGISTRY_URL)')
    .option('--keys <dir>', 'key directory of the ceremony (default $DRMB_KEY_DIR)')
    .option('--json', 'machine-readable output');
}

/** Opens the registry with the ceremony's trust anchors and mint master (so settlement checks m). */
export async function openRegistry(o: RegistryOptions): Promise<Registry> {
  const dir = o.keys ?? process.env.DRMB_KEY_DIR;
  if (!dir) throw new UsageError('--keys <dir> (or DRMB_KEY_DIR) is needed: the registry checks coins against the trust anchors');
  const trust = readTrustAnchors(join(dir, TRUST_ANCHORS_FILE));
  const mintMaster = loadKey('mint-master', { dir }).secret.master;
  const url = o.registryUrl ?? process.env.DRMB_REGISTRY_URL;
  return url ? Registry.open({ connectionString: url, trust, mintMaster }) : Registry.open({ dataDir: o.registry, trust, mintMaster });
}

/** Yuan text ("171.00") to fen, naming the option on a bad value. */
export function fenOf(text: string, option: string): number {
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(text)) throw new UsageError(`${option} must be an amount in yuan such as 171.00`);
  const [y, f = ''] = text.split('.');
  return Number(y) * 100 + Number(f.padEnd(2, '0'));
}
