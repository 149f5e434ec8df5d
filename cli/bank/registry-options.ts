/**
 * @module Options shared by `drmb bank ...`: the registry (embedded PGlite in a folder by default, or a
 * PostgreSQL server from --registry-url / DRMB_REGISTRY_URL) and the keys it checks coins with; or, for
 * a commercial bank's commands, the registry service (--central URL) asked with the bank's own key.
 */
import type { Command as Cli } from 'commander';
import { Registry } from '../../bank/registry.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { UsageError } from '../output.js';

export interface RegistryOptions {
  registry?: string;
  registryUrl?: string;
  /** the central bank's registry service (drmb registry serve), for a bank's commands */
  central?: string;
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

/** The http://127.0.0.1:PORT of --central. */
export function centralUrlOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--central ${text}: give the registry service's URL, http://127.0.0.1:PORT`);
  }
  if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') throw new UsageError(`--central ${text}: the registry service answers on http://127.0.0.1 only`);
  return url.origin;
}

/** Adds --central to a commercial bank's command. */
export function withCentral(cmd: Cli): Cli {
  return cmd.option('--central <url>', "the central bank's registry service (drmb registry serve) instead of --registry/--registry-url, asked with the bank-signing key of a bank-vault bundle");
}

/** What a commercial bank's command asks of the registry: a withdrawal's moves, deposits, owners, the blacklist. */
export type BankLedger = Pick<Registry, 'coinsOf' | 'transfer' | 'ownerOf' | 'settle' | 'blacklist' | 'close'>;

/**
 * The registry for a bank's command: the registry service at --central, asked with the bank-signing
 * key of the bank-vault bundle (as `centralCommand` in the role table), which close() wipes; or, without
 * it, the registry opened as openRegistry opens it for `command`.
 */
export async function openBankLedger(o: RegistryOptions, command: string, centralCommand: string, use: { settles: boolean }): Promise<BankLedger> {
  if (o.central === undefined) return openRegistry(o, command, use);
  const url = centralUrlOf(o.central);
  const key = RoleKeys.open(keyDirOf(o), centralCommand).key('bank-signing');
  return new RemoteRegistry(url, { bank: { privateKey: key.secret.privateKey, publicKey: key.public.publicKey }, onClose: () => wipeKeyFile(key) });
}
