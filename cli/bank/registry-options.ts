/**
 * @module Options shared by `drmb bank ...`: the registry (embedded PGlite in a folder, by default
 * under the user's data directory, or a PostgreSQL server from --registry-url / DRMB_REGISTRY_URL) and
 * the keys it checks coins with; or, for a commercial bank's commands, the registry service (--central
 * URL) asked with the bank's own key. A registry that cannot be opened is one line: a bad location is
 * bad input (exit 2), a server that does not answer a refusal (exit 1).
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command as Cli } from 'commander';
import { OperationalError } from '../../base/operational-error.js';
import { Registry, type RegistryOpenOptions } from '../../bank/registry.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { fileErrorText, UsageError } from '../output.js';
import { withProgress } from '../progress.js';

export interface RegistryOptions {
  registry?: string;
  registryUrl?: string;
  /** the central bank's registry service (drmb registry serve), for a bank's commands */
  central?: string;
  keys?: string;
  json?: boolean;
}

/** The variable naming the embedded registry's folder. */
export const REGISTRY_ENV = 'DRMB_REGISTRY';
/** The variable naming a PostgreSQL registry. */
export const REGISTRY_URL_ENV = 'DRMB_REGISTRY_URL';

/** The default registry folder: $XDG_DATA_HOME/drmb/registry, else ~/.local/share/drmb/registry (XDG Base Directory spec). */
export function defaultRegistryDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'drmb', 'registry');
}

/** The embedded registry's folder: --registry, else $DRMB_REGISTRY, else the default under the user's data directory. */
export function registryDirOf(o: RegistryOptions, env: Record<string, string | undefined> = process.env): string {
  return resolve(o.registry ?? (env[REGISTRY_ENV] || defaultRegistryDir(env)));
}

/** The PostgreSQL connection string of --registry-url or $DRMB_REGISTRY_URL, if any. */
export function registryUrlOf(o: RegistryOptions, env: Record<string, string | undefined> = process.env): string | undefined {
  return o.registryUrl ?? (env[REGISTRY_URL_ENV] || undefined);
}

/** A connection string without its password, for messages (each of a comma-separated list of servers). */
export function shownUrl(url: string): string {
  if (url.includes(',')) return url.split(',').map(shownUrl).join(',');
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** Adds --registry, --registry-url, --keys and --json. */
export function addRegistryOptions(cmd: Cli): Cli {
  cmd
    .option('--registry <dir>', `embedded registry (PGlite) folder (default $${REGISTRY_ENV}, else $XDG_DATA_HOME/drmb/registry, else ~/.local/share/drmb/registry)`)
    .option('--registry-url <url>', `PostgreSQL connection string instead of the embedded registry, or several comma-separated for a registry across servers, always in the same order (default $${REGISTRY_URL_ENV})`);
  return withJson(withKeys(cmd));
}

/** Why a folder cannot hold the embedded registry, or undefined when it can (missing folders are created). */
function whyNotRegistryDir(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `${dir} is a file, not a registry folder`;
  const files = readdirSync(dir);
  if (files.length && !files.includes('PG_VERSION')) return `${dir} is a folder of other files, not a registry (no PG_VERSION): name an empty or new folder`;
  return undefined;
}

/** Opens the registry at `url` or in `dir`, turning a failure into one line (UsageError for a bad location). */
export async function openRegistryAt(where: { url?: string; dir: string }, rest: Omit<RegistryOpenOptions, 'connectionString' | 'shards' | 'dataDir'>): Promise<Registry> {
  if (where.url) {
    // Several servers: the coins split across them by serial range (bank/sharded-db.ts).
    const urls = where.url.split(',').map((u) => u.trim());
    for (const u of urls) if (!/^postgres(ql)?:\/\//.test(u)) throw new UsageError(`--registry-url must be a PostgreSQL connection string, postgres://user@host:port/database, or several separated by commas (got ${shownUrl(u)})`);
    const at = urls.length > 1 ? { shards: urls } : { connectionString: urls[0] };
    try {
      return await withProgress(`connecting to the registry at ${shownUrl(where.url)}`, () => Registry.open({ ...at, ...rest }));
    } catch (e) {
      if (e instanceof OperationalError) throw e;
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new OperationalError(`the registry at ${shownUrl(where.url)} cannot be used (${why}): is PostgreSQL running there, and are --registry-url / $${REGISTRY_URL_ENV} right?`, { cause: e });
    }
  }
  const why = whyNotRegistryDir(where.dir);
  if (why) throw new UsageError(`--registry: ${why}`);
  try {
    mkdirSync(where.dir, { recursive: true, mode: 0o700 });
    return await withProgress(`opening the registry in ${where.dir}`, () => Registry.open({ dataDir: where.dir, ...rest }));
  } catch (e) {
    if (e instanceof OperationalError) throw e;
    throw new UsageError(`--registry: the registry in ${where.dir} cannot be opened (${fileErrorText(e)})`, { cause: e });
  }
}

/**
 * Opens the registry for `command` ("drmb bank deposit") with the trust anchors of its role's bundle
 * (or the ceremony directory); with `settles`, also the mint master, so that settlement checks each
 * coin's m, and with `verifyWorkers`, that many worker threads check deposits' signatures. A bundle of
 * a role that does not run the command is refused (keys/role-bundles.ts).
 */
export async function openRegistry(o: RegistryOptions, command: string, use: { settles: boolean; verifyWorkers?: number }): Promise<Registry> {
  const dir = keyDirOf(o);
  if (!dir) throw new UsageError('--keys <dir> (or DRMB_KEY_DIR) is needed: the registry checks coins against the trust anchors');
  const keys = RoleKeys.open(dir, command);
  const trust = keys.trustAnchors();
  const mintMaster = use.settles ? keys.key('mint-master').secret.master : undefined;
  return openRegistryAt({ url: registryUrlOf(o), dir: registryDirOf(o) }, { trust, mintMaster, ...(use.verifyWorkers ? { verifyWorkers: use.verifyWorkers } : {}) });
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
