/**
 * @module `drmb registry serve`: the central bank's registry as its own process. It holds the registry
 * database and the registry bundle's keys (the mint master and the coin-signing key, which mint here and
 * sign the online confirmations), and answers over HTTP on 127.0.0.1 (bank/registry-service.ts): the
 * central bank's operator mints into a vault with the token this run writes owner-only; the banks of
 * the bundle's authorized-banks.json record withdrawals, settle deposits and forward online transfers
 * with requests signed by their own keys; anyone on the machine reads the ledger.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command as Cli } from 'commander';
import { randomBytes } from '../../base/bytes.js';
import { hex } from '../../base/hex.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { AUTHORIZED_BANKS_FILE, readAuthorizedDesks } from '../../keys/authorized-desks.js';
import { CentralBankOnline } from '../../bank/central-bank-online.js';
import { startRegistryService } from '../../bank/registry-service.js';
import type { LocalService } from '../../io/local-service.js';
import { type KeyKind, keyShown, wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { addRegistryOptions, openRegistry, type RegistryOptions, registryDirOf } from '../bank/registry-options.js';
import { keyDirOf, portOf, untilSignal } from '../options.js';
import { emit, UsageError } from '../output.js';

/** The command, as the role table names it. */
export const REGISTRY_SERVE = 'drmb registry serve';

export interface RegistryServeOptions extends RegistryOptions {
  port: string;
  /** where to write the operator's token for this run (default: beside the registry folder) */
  operatorToken?: string;
  /** worker threads that check deposits' signatures beside the service's thread (none when absent or 0) */
  verifyWorkers?: string;
}

/** The operator token file of `o`: --operator-token, or <registry folder>.operator-token. */
export function operatorTokenPath(o: RegistryServeOptions): string {
  return resolve(o.operatorToken ?? `${registryDirOf(o)}.operator-token`);
}

/** The registry's service with the keys it loaded, by kind and KCV (no secret). */
export interface RegistryServiceWithKeys extends LocalService {
  keys: { kind: KeyKind; kcv: Record<string, string> }[];
  /** the owner-only file holding this run's operator token (minting) */
  operatorToken: string;
}

/**
 * Opens the registry and starts its service with the registry bundle's keys; `log` gets one line per
 * request. Security: the mint master and the coin-signing key stay in this process and are wiped when
 * the service closes.
 */
export async function startRegistryFromOptions(o: RegistryServeOptions, log?: (line: string) => void): Promise<RegistryServiceWithKeys> {
  const port = portOf(o.port);
  const verifyWorkers = workersOf(o.verifyWorkers);
  const keys = RoleKeys.open(keyDirOf(o), REGISTRY_SERVE);
  const banksPath = keys.file(AUTHORIZED_BANKS_FILE);
  if (!existsSync(banksPath)) throw new UsageError(`${banksPath} does not exist: export a registry bundle (drmb keys export --role registry) and authorise banks with drmb registry authorize`);
  const tokenPath = operatorTokenPath(o);
  // A fresh token each run, owner-only: whoever can read it is the central bank's operator.
  const token = hex(randomBytes(32));
  try {
    writeFileAtomic(tokenPath, `${token}\n`, 0o600);
  } catch (e) {
    throw new UsageError(`--operator-token ${tokenPath}: cannot be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const mintMaster = keys.key('mint-master');
  const signing = keys.key('coin-signing');
  const wipeKeys = () => {
    wipeKeyFile(signing);
    wipeKeyFile(mintMaster);
  };
  let registry;
  try {
    registry = await openRegistry(o, REGISTRY_SERVE, { settles: true, verifyWorkers });
  } catch (e) {
    wipeKeys();
    throw e;
  }
  try {
    const signingKey = { privateKey: signing.secret.privateKey, keyIndex: signing.keyIndex };
    const central = await CentralBankOnline.open(registry, signingKey);
    const service = await startRegistryService({ registry, central, mint: { signingKey, mintMaster: mintMaster.secret.master }, operatorToken: token, banks: () => readAuthorizedDesks(banksPath), port, log });
    return {
      ...service,
      keys: [mintMaster, signing].map(keyShown),
      operatorToken: tokenPath,
      close: async () => {
        await service.close();
        await registry.close();
        wipeKeys();
      },
    };
  } catch (e) {
    await registry.close();
    wipeKeys();
    throw e;
  }
}

/** --verify-workers: a count of worker threads, 0 for none. */
function workersOf(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 64) throw new UsageError(`--verify-workers must be a number of threads from 0 to 64 (got ${text})`);
  return n;
}

export function registerRegistryServe(group: Cli): void {
  const cmd = group
    .command('serve')
    .description("run the central bank's registry on 127.0.0.1 until interrupted: mint into bank vaults, record withdrawals, settle deposits, take online transfers")
    .option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)', '8792')
    .option('--operator-token <file>', "where to write this run's operator token, which a mint request carries (owner-only; default <registry folder>.operator-token)")
    .option('--verify-workers <n>', "worker threads checking deposits' coin and payer signatures while the registry writes (default: one per core; 0: in the service's thread)");
  addRegistryOptions(cmd).action(async (o: RegistryServeOptions) => {
    const service = await startRegistryFromOptions({ ...o, verifyWorkers: o.verifyWorkers ?? String(availableParallelism()) }, (line) => process.stderr.write(`${line}\n`));
    emit({ url: service.url, port: service.port, pid: process.pid, keys: service.keys, operatorToken: service.operatorToken }, !!o.json, (r) => `registry listening on ${r.url} with ${r.keys.map((k) => k.kind).join(', ')}; the operator's token is in ${r.operatorToken}; Ctrl-C stops it`);
    await untilSignal();
    await service.close();
  });
}
