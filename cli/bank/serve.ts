/**
 * @module `drmb bank serve`: the payee's commercial bank as a service on 127.0.0.1 for online peer
 * payments (bank/online-bank-service.ts), forwarding each transfer to the central bank's registry desk
 * (bank/central-bank-online.ts), which runs in the same process as a separate role: the message between
 * the two is the OnlineTransferForward object, logged on stderr each way.
 */
import type { Command as Cli } from 'commander';
import { CentralBankOnline } from '../../bank/central-bank-online.js';
import { type OnlineBankService, startOnlineBankService } from '../../bank/online-bank-service.js';
import { PayeeBank } from '../../bank/payee-bank.js';
import { PgliteDb } from '../../bank/pglite-db.js';
import { wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { bankCodeOf, keyDirOf, portOf, untilSignal, withBankCode } from '../options.js';
import { emit, UsageError } from '../output.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from './registry-options.js';

export interface BankServeOptions extends RegistryOptions {
  port: string;
  bankCode: string;
  bankData?: string;
  user?: string[];
}

export const BANK_SERVE = 'drmb bank serve';

/** IDENTITY=ACCOUNT of --user. */
function userOf(text: string): { identity: string; account: string } {
  const at = text.lastIndexOf('=');
  if (at <= 0 || at === text.length - 1) throw new UsageError(`--user ${text}: write IDENTITY=ACCOUNT`);
  return { identity: text.slice(0, at), account: text.slice(at + 1) };
}

/**
 * Starts the payee bank's service with the central bank's desk over the registry; `log` gets one line
 * per message between the banks and per refusal. Security: the coin-signing key, which signs the central
 * bank's confirmations, stays in this process and is wiped when the service closes.
 */
export async function startBankFromOptions(o: BankServeOptions, log: (line: string) => void = () => {}): Promise<OnlineBankService> {
  const port = portOf(o.port);
  const bankCode = bankCodeOf(o.bankCode);
  const users = (o.user ?? []).map(userOf);
  const keys = RoleKeys.open(keyDirOf(o), BANK_SERVE);
  const signing = keys.key('coin-signing');
  const registry = await openRegistry(o, BANK_SERVE, { settles: true });
  let bankDb: PgliteDb | undefined;
  try {
    const central = await CentralBankOnline.open(registry, { privateKey: signing.secret.privateKey, keyIndex: signing.keyIndex });
    bankDb = await PgliteDb.open({ dataDir: o.bankData ?? `drmb-bank-${bankCode}` });
    const bank = await PayeeBank.open(bankDb, {
      bankCode,
      anchors: keys.trustAnchors(),
      centralBank: async (forward) => {
        log(`central bank: received ${JSON.stringify({ ...forward, withdrawal: forward.withdrawal ? '(sealed code)' : undefined })}`);
        return central.transfer(forward);
      },
      log,
    });
    for (const u of users) await bank.registerUser(u.identity, u.account);
    const service = await startOnlineBankService(bank, port, log);
    return {
      ...service,
      close: async () => {
        await service.close();
        await bankDb?.close();
        await registry.close();
        wipeKeyFile(signing);
      },
    };
  } catch (e) {
    await bankDb?.close();
    await registry.close();
    wipeKeyFile(signing);
    throw e;
  }
}

export function registerBankServe(bank: Cli): void {
  const cmd = bank
    .command('serve')
    .description("run the payee's bank for online peer payments on 127.0.0.1, with the central bank's registry desk behind it, until interrupted")
    .option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)', '8791')
    .option('--bank-data <dir>', "the payee bank's own database (PGlite folder: its registered users and confirmations; default drmb-bank-<code>)")
    .option('--user <identity=account>', 'register a user of this bank (repeatable)', (v: string, all: string[] = []) => [...all, v]);
  withBankCode(cmd, "the payee's bank", true);
  addRegistryOptions(cmd).action(async (o: BankServeOptions) => {
    const service = await startBankFromOptions(o, (line) => process.stderr.write(`${line}\n`));
    emit({ url: service.url, port: service.port }, !!o.json, (r) => `bank listening on ${r.url} (POST /v1/online-transfers, GET /v1/confirmations/<packet hash>); Ctrl-C stops it`);
    await untilSignal();
    await service.close();
  });
}
