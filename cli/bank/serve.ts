/**
 * @module `drmb bank serve`: the payee's commercial bank as a service on 127.0.0.1 for online peer
 * payments (bank/online-bank-service.ts), forwarding each transfer to the central bank's desk
 * (bank/central-bank-online.ts). With --central URL the desk is the registry's own process (`drmb
 * registry serve`) and the bank holds its own key only, the bank-signing key of its bank-vault
 * bundle, which signs what it forwards; without it, the desk runs in this process over the registry,
 * with the registry bundle's coin-signing key.
 * The message between the two is the OnlineTransferForward object, logged on stderr each way.
 */
import type { Command as Cli } from 'commander';
import { CentralBankOnline, type OnlineTransferForward } from '../../bank/central-bank-online.js';
import type { Confirmation } from '../../bank/online-confirmation.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { type OnlineBankService, startOnlineBankService } from '../../bank/online-bank-service.js';
import { PayeeBank } from '../../bank/payee-bank.js';
import { PgliteDb } from '../../bank/pglite-db.js';
import { wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { bankCodeOf, keyDirOf, portOf, untilSignal, withBankCode } from '../options.js';
import { emit, UsageError } from '../output.js';
import { addRegistryOptions, centralUrlOf, openRegistry, type RegistryOptions } from './registry-options.js';

export interface BankServeOptions extends RegistryOptions {
  port: string;
  bankCode: string;
  bankData?: string;
  user?: string[];
}

export const BANK_SERVE = 'drmb bank serve';
/** The command with the central bank's desk in the registry's own process, as the role table names it. */
export const BANK_SERVE_CENTRAL = 'drmb bank serve --central';

/** IDENTITY=ACCOUNT of --user. */
function userOf(text: string): { identity: string; account: string } {
  const at = text.lastIndexOf('=');
  if (at <= 0 || at === text.length - 1) throw new UsageError(`--user ${text}: write IDENTITY=ACCOUNT`);
  return { identity: text.slice(0, at), account: text.slice(at + 1) };
}

/**
 * Starts the payee bank's service, forwarding to the registry service at --central, or to the central
 * bank's desk over the registry in this process; `log` gets one line per message between the banks and
 * per refusal. Security: with --central this process loads its bank-signing key only; without it, the coin-signing key,
 * which signs the central bank's confirmations, stays in this process and is wiped when the service closes.
 */
export async function startBankFromOptions(o: BankServeOptions, log: (line: string) => void = () => {}): Promise<OnlineBankService> {
  const port = portOf(o.port);
  const bankCode = bankCodeOf(o.bankCode);
  const users = (o.user ?? []).map(userOf);
  const centralUrl = o.central === undefined ? undefined : centralUrlOf(o.central);
  const keys = RoleKeys.open(keyDirOf(o), centralUrl ? BANK_SERVE_CENTRAL : BANK_SERVE);
  const anchors = keys.trustAnchors();
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    let forward: (f: OnlineTransferForward) => Promise<Confirmation>;
    if (centralUrl) {
      // The bank signs what it forwards with its own key; the registry knows it by that key and its code.
      const signing = keys.key('bank-signing');
      closers.push(() => wipeKeyFile(signing));
      const remote = new RemoteRegistry(centralUrl, { bank: { privateKey: signing.secret.privateKey, publicKey: signing.public.publicKey } });
      forward = (f) => remote.centralTransfer(f);
    } else {
      const signing = keys.key('coin-signing');
      closers.push(() => wipeKeyFile(signing));
      const registry = await openRegistry(o, BANK_SERVE, { settles: true });
      closers.push(() => registry.close());
      const central = await CentralBankOnline.open(registry, { privateKey: signing.secret.privateKey, keyIndex: signing.keyIndex });
      forward = (f) => central.transfer(f);
    }
    const bankDb = await PgliteDb.open({ dataDir: o.bankData ?? `drmb-bank-${bankCode}` });
    closers.push(() => bankDb.close());
    const bank = await PayeeBank.open(bankDb, {
      bankCode,
      anchors,
      centralBank: async (f) => {
        log(`central bank: received ${JSON.stringify({ ...f, withdrawal: f.withdrawal ? '(sealed code)' : undefined })}`);
        return forward(f);
      },
      log,
    });
    for (const u of users) await bank.registerUser(u.identity, u.account);
    const service = await startOnlineBankService(bank, port, log);
    return {
      ...service,
      close: async () => {
        await service.close();
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

export function registerBankServe(bank: Cli): void {
  const cmd = bank
    .command('serve')
    .description("run the payee's bank for online peer payments on 127.0.0.1, with the central bank's registry desk behind it, until interrupted")
    .option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)', '8791')
    .option('--central <url>', "the central bank's registry service (drmb registry serve), asked with the bank-signing key of a bank-vault bundle, which the registry authorised for --bank-code")
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
