/**
 * @module `drmb registry serve`: the central bank's registry as its own process. It holds the registry
 * database and the registry bundle's keys (the mint master and the coin-signing key, which mint here and
 * sign the online confirmations), and answers the commercial banks over HTTP on 127.0.0.1
 * (bank/registry-service.ts): mint into a vault, record withdrawals, settle deposits, take forwarded
 * online transfers, and read the ledger.
 */
import type { Command as Cli } from 'commander';
import { CentralBankOnline } from '../../bank/central-bank-online.js';
import { startRegistryService } from '../../bank/registry-service.js';
import type { LocalService } from '../../io/local-service.js';
import { type KeyKind, keyShown, wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from '../bank/registry-options.js';
import { keyDirOf, portOf, untilSignal } from '../options.js';
import { emit } from '../output.js';

/** The command, as the role table names it. */
export const REGISTRY_SERVE = 'drmb registry serve';

export interface RegistryServeOptions extends RegistryOptions {
  port: string;
}

/** The registry's service with the keys it loaded, by kind and KCV (no secret). */
export interface RegistryServiceWithKeys extends LocalService {
  keys: { kind: KeyKind; kcv: Record<string, string> }[];
}

/**
 * Opens the registry and starts its service with the registry bundle's keys; `log` gets one line per
 * request. Security: the mint master and the coin-signing key stay in this process and are wiped when
 * the service closes.
 */
export async function startRegistryFromOptions(o: RegistryServeOptions, log?: (line: string) => void): Promise<RegistryServiceWithKeys> {
  const port = portOf(o.port);
  const keys = RoleKeys.open(keyDirOf(o), REGISTRY_SERVE);
  const mintMaster = keys.key('mint-master');
  const signing = keys.key('coin-signing');
  const wipeKeys = () => {
    wipeKeyFile(signing);
    wipeKeyFile(mintMaster);
  };
  let registry;
  try {
    registry = await openRegistry(o, REGISTRY_SERVE, { settles: true });
  } catch (e) {
    wipeKeys();
    throw e;
  }
  try {
    const signingKey = { privateKey: signing.secret.privateKey, keyIndex: signing.keyIndex };
    const central = await CentralBankOnline.open(registry, signingKey);
    const service = await startRegistryService({ registry, central, mint: { signingKey, mintMaster: mintMaster.secret.master }, port, log });
    return {
      ...service,
      keys: [mintMaster, signing].map(keyShown),
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

export function registerRegistryServe(group: Cli): void {
  const cmd = group
    .command('serve')
    .description("run the central bank's registry on 127.0.0.1 until interrupted: mint into bank vaults, record withdrawals, settle deposits, take online transfers")
    .option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)', '8792');
  addRegistryOptions(cmd).action(async (o: RegistryServeOptions) => {
    const service = await startRegistryFromOptions(o, (line) => process.stderr.write(`${line}\n`));
    emit({ url: service.url, port: service.port, pid: process.pid, keys: service.keys }, !!o.json, (r) => `registry listening on ${r.url} with ${r.keys.map((k) => k.kind).join(', ')}; Ctrl-C stops it`);
    await untilSignal();
    await service.close();
  });
}
