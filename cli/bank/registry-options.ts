/**
 * @module Options shared by `drmb bank ...`: the registry (embedded PGlite in a folder by default, or a
 * PostgreSQL server from --registry-url / DRMB_REGISTRY_URL) and the keys it checks coins with.
 */
import { join } from 'node:path';
import type { Command as Cli } from 'commander';
import { Registry } from '../../bank/registry.js';
import { readTrustAnchors, TRUST_ANCHORS_FILE } from '../../personalization/key-ceremony.js';
import { loadKey } from '../../keys/key-files.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { UsageError } from '../output.js';

export interface RegistryOptions {
  registry?: string;
  registryUrl?: string;
  keys?: string;
  json?: boolean;
}

/** Adds --registry, --registry-url, --keys and --json. */
export function addRegistryOptions(cmd: Cli): Cli {
  cmd
    .option('--registry <dir>', 'embedded registry (PGlite) folder', 'drmb-registry')
    .option('--registry-url <url>', 'PostgreSQL connection string instead of the embedded registry (default $DRMB_REGISTRY_URL)');
  return withJson(withKeys(cmd));
}

/** Opens the registry with the ceremony's trust anchors and mint master (so settlement checks m). */
export async function openRegistry(o: RegistryOptions): Promise<Registry> {
  const dir = keyDirOf(o);
  if (!dir) throw new UsageError('--keys <dir> (or DRMB_KEY_DIR) is needed: the registry checks coins against the trust anchors');
  const trust = readTrustAnchors(join(dir, TRUST_ANCHORS_FILE));
  const mintMaster = loadKey('mint-master', { dir }).secret.master;
  const url = o.registryUrl ?? process.env.DRMB_REGISTRY_URL;
  return url ? Registry.open({ connectionString: url, trust, mintMaster }) : Registry.open({ dataDir: o.registry, trust, mintMaster });
}
