/**
 * @module Options shared by `drmb bank ...`: the registry (embedded PGlite in a folder by default, or a
 * PostgreSQL server from --registry-url / DRMB_REGISTRY_URL) and the keys it checks coins with.
 */
import type { Command as Cli } from 'commander';
import { Registry } from '../../bank/registry.js';
import { RoleKeys } from '../../keys/role-bundles.js';
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

/**
 * Opens the registry for `command` ("drmb bank deposit") with the trust anchors of its role's bundle
 * (or the ceremony directory); with `settles`, also the mint master, so that settlement checks each
 * coin's m. A bundle of a role that does not run the command is refused (keys/role-bundles.ts).
 */
export async function openRegistry(o: RegistryOptions, command: string, use: { settles: boolean }): Promise<Registry> {
  const dir = keyDirOf(o);
  if (!dir) throw new UsageError('--keys <dir> (or DRMB_KEY_DIR) is needed: the registry checks coins against the trust anchors');
  const keys = RoleKeys.open(dir, command);
  const trust = keys.trustAnchors();
  const mintMaster = use.settles ? keys.key('mint-master').secret.master : undefined;
  const url = o.registryUrl ?? process.env.DRMB_REGISTRY_URL;
  return url ? Registry.open({ connectionString: url, trust, mintMaster }) : Registry.open({ dataDir: o.registry, trust, mintMaster });
}
