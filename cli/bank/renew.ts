/**
 * @module `drmb bank renew`: a holder exchanges coins near their expiry at the bank's vault counter in
 * one visit. The card exports the coins that expire before a date (INITIALIZE FOR RENEWAL + EXPORT
 * COINS to the bank's SM9 identity, under the host's value journal); the bank opens the packet with
 * its own key, checks that every coin in it expires before the date, and the registry retires those
 * serials (owner `retired`: no deposit of them settles again); then the vault loads fresh coins of the
 * same total onto the card (a normal withdrawal, of coins not expiring before the date), so the card's
 * balance and its cap are where they were. A coin list carries at most 64 coins and a payment at most
 * the card's single limit: more coins are renewed in several rounds, each loaded before the next.
 *
 * Each round is written down before its next step (`<renewals>/<card ID>.json`): a renewal torn or
 * killed anywhere finishes on the next run. An export the card committed but the host never saw is
 * read back with GET TRANSACTION PROVE; a packet already retired settles again as a replay; a round
 * whose load the card committed is recognised by the card's balance, and its registry record finished
 * from the load's journal intent.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command as Cli } from 'commander';
import { MAX_COINS_PER_TRANSFER, settlementBodyCoder } from '../../applet-spec/value-formats.js';
import { exportToBank } from './export-to-bank.js';
import { hex, fromHex } from '../../base/hex.js';
import { OperationalError } from '../../base/operational-error.js';
import { bankOwner, RETIRED } from '../../bank/registry.js';
import { loadRecording, withdraw } from '../../bank/withdraw.js';
import { selectExactCoins } from '../../coins/select-exact-coins.js';
import { sm3 } from '../../crypto/sm3.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { openTransfer } from '../../host/open-transfer.js';
import type { Transport } from '../../host/transport.js';
import type { ValueJournal } from '../../host/value-journal.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { type KeyFile, wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { readUserKey } from '../keys/user-key.js';
import { appendAudit } from '../../personalization/audit-log.js';
import { userInfo } from 'node:os';
import { withCard } from '../open-card.js';
import { bankCodeOf, type CardOptions, keyDirOf, openJournal, pinOf, withBankCode, withCardTarget, withJournal, withPinFile, withTrace } from '../options.js';
import { emit, UsageError } from '../output.js';
import { promptPin } from '../terminal-prompt.js';
import { testKillPoint } from '../test-kill-point.js';
import { deliveryFor, finishOpenIntents, recoverCommand } from '../card/recover.js';
import { addRegistryOptions, type BankLedger, openBankLedger, type RegistryOptions, withCentral } from './registry-options.js';

/** The command, as the role table names it (bank-vault: load-master, and bank-signing for --central). */
const RENEW_COMMAND = 'drmb bank renew';
/** Its settlement on a registry opened here (--registry, --registry-url), with the registry's bundle. */
const RENEW_REGISTRY_COMMAND = 'drmb bank renew --registry';

export interface RenewOptions extends CardOptions, RegistryOptions {
  bankCode: string;
  bankKey: string;
  /** coins expiring before this date (YYYYMMDD) are renewed */
  before: string;
  terminalId: string;
  renewals: string;
  journal?: string;
  pinFile?: string;
  /** with --registry / --registry-url: the registry bundle that checks the coins (default --keys) */
  registryKeys?: string;
  /** the bank's hash-chained audit log */
  audit?: string;
  operator?: string;
}

/** One round: the coins exported, retired, and the fresh coins loaded. */
export interface RenewalRound {
  file: string;
  amountFen: number;
  /** the card's balance right after the export: the load is done when the balance is this plus the amount */
  balanceAfterExportFen?: number;
  packetHash?: string;
  /** `retired`, or the bank's vault when a coin in the packet did not expire before the date */
  owner?: string;
  /** the card's counter of the load of fresh coins, when this run loaded them */
  loadCounter?: number;
  loaded?: boolean;
}

export interface RenewalRecord {
  format: 'drmb-coin-renewal';
  version: 1;
  cardId: string;
  bankCode: string;
  before: string;
  rounds: RenewalRound[];
}

export interface RenewReport {
  cardId: string;
  before: string;
  renewedFen: number;
  rounds: RenewalRound[];
  /** coins still expiring before the date that no round could take (over the single limit) */
  leftFen: number;
  balanceFen: number;
  record: string;
}

const FORMAT = 'drmb-coin-renewal';

function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
const yuan = (fen: number) => (fen / 100).toFixed(2);

interface RenewPlan {
  /** appends an event of this card's renewal to the audit log */
  audit: (cardId: string, action: string, detail: Record<string, unknown>) => void;
  bankCode: string;
  before: string;
  terminalId: Uint8Array;
  payeeKey: { identity: string; privateKey: Uint8Array };
  loadMaster: KeyFile<'load-master'>;
  dir: string;
  journal: ValueJournal;
}

function planRenew(o: RenewOptions): RenewPlan {
  const bankCode = bankCodeOf(o.bankCode);
  if (!/^\d{8}$/.test(o.before)) throw new UsageError('--before must be a date YYYYMMDD: coins expiring before it are renewed');
  if (!/^[0-9a-fA-F]{12}$/.test(o.terminalId)) throw new UsageError('--terminal-id must be 12 hex digits (6 bytes)');
  try {
    mkdirSync(o.renewals, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UsageError(`--renewals: cannot make ${o.renewals} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const journal = openJournal(o.journal);
  const loadMaster = RoleKeys.open(keyDirOf(o), RENEW_COMMAND).key('load-master');
  const payeeKey = readUserKey(o.bankKey, '--bank-key');
  const auditPath = o.audit ?? 'perso-audit.log';
  const operator = o.operator ?? operatorName();
  const audit = (cardId: string, action: string, detail: Record<string, unknown>) => appendAudit(auditPath, { time: new Date().toISOString(), operator, action, cardId, detail });
  return { audit, bankCode, before: o.before, terminalId: fromHex(o.terminalId), payeeKey, loadMaster, dir: resolve(o.renewals), journal };
}

/** Renews the card's coins that expire before --before; run again after any interruption, it finishes. */
export async function runRenew(o: RenewOptions): Promise<RenewReport> {
  return withRenewPlan(o, (plan, ledger) => withCard(o, { image: 'save-every-commit' }, (t) => renew(t, plan, o, ledger)));
}

/** runRenew on a transport the caller opened. */
export async function renewOn(t: Transport, o: RenewOptions): Promise<RenewReport> {
  return withRenewPlan(o, (plan, ledger) => renew(t, plan, o, ledger));
}

async function withRenewPlan<T>(o: RenewOptions, run: (plan: RenewPlan, ledger: BankLedger) => Promise<T>): Promise<T> {
  const plan = planRenew(o);
  try {
    const ledger = await openBankLedger(o.central === undefined ? { ...o, keys: o.registryKeys ?? o.keys } : o, RENEW_REGISTRY_COMMAND, RENEW_COMMAND, { settles: true });
    try {
      return await run(plan, ledger);
    } finally {
      await ledger.close();
    }
  } finally {
    plan.payeeKey.privateKey.fill(0);
    wipeKeyFile(plan.loadMaster);
  }
}

function readRecord(path: string): RenewalRecord | undefined {
  if (!existsSync(path)) return undefined;
  let r: RenewalRecord;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as RenewalRecord;
  } catch (e) {
    throw new UsageError(`--renewals: ${path} is not a renewal record (${(e as Error).message})`);
  }
  if (r.format !== FORMAT) throw new UsageError(`--renewals: ${path} is not a renewal record`);
  return r;
}

const save = (path: string, r: RenewalRecord) => writeFileAtomic(path, JSON.stringify(r, null, 2));

async function renew(t: Transport, plan: RenewPlan, o: RenewOptions, ledger: BankLedger): Promise<RenewReport> {
  const card = new DrmbCard(t);
  const info = await card.select();
  if (!info.cardId || info.state !== 'ISSUED') throw new UsageError(`the card is ${info.state}: coins are renewed on an issued card that is not blocked`);
  const cardId = info.cardId;
  const path = join(plan.dir, `${cardId}.json`);
  const record: RenewalRecord = readRecord(path) ?? { format: FORMAT, version: 1, cardId, bankCode: plan.bankCode, before: plan.before, rounds: [] };
  if (record.bankCode !== plan.bankCode || record.before !== plan.before) {
    const open = record.rounds.some((r) => !r.loaded);
    if (open) throw new UsageError(`a renewal of card ${cardId} for bank ${record.bankCode} before ${record.before} is unfinished (${path}): finish it with the same --bank-code and --before`);
    Object.assign(record, { bankCode: plan.bankCode, before: plan.before, rounds: [] });
  }
  save(path, record);

  // What an earlier run left on the card: an export's packet, a load's registry record.
  const recovered = await finishOpenIntents(card, cardId, plan.journal, deliveryFor(undefined, async () => loadRecording(ledger, plan.loadMaster)), () => recoverCommand(o, plan.journal.dir));
  const stuck = recovered.find((r) => r.result === 'undeliverable');
  if (stuck) throw new OperationalError(`an earlier value command of card ${cardId} is unfinished: ${stuck.message}`);
  record.rounds = record.rounds.filter((r) => existsSync(r.file) || r.packetHash !== undefined);
  save(path, record);
  for (const round of record.rounds) await finishRound(card, cardId, round, record, path, plan, ledger);

  // READ RECORD of the coins needs the PIN verified since SELECT, and each load selects again
  const pin = pinOf(o) ?? (await promptPin({ question: 'PIN: ', why: "no PIN: the card lists its coins only after VERIFY; give --pin-file <file>, or run on a terminal to be asked" }));
  let leftFen = 0;
  for (;;) {
    await card.select();
    await card.verifyPin(pin);
    const expiring = (await card.listCoins()).filter((c) => c.body.expiryDate < plan.before).map((c) => c.body.denominationFen).sort((a, b) => b - a);
    const single = (await card.getData('singleLimit')) as number;
    let amountFen = 0;
    let taken = 0;
    for (const d of expiring) {
      if (taken < MAX_COINS_PER_TRANSFER && amountFen + d <= single) {
        amountFen += d;
        taken++;
      }
    }
    leftFen = expiring.reduce((s, d) => s + d, 0) - amountFen;
    if (amountFen === 0) break;
    // The fresh coins must be in the vault before a coin leaves the card.
    const fresh = (await ledger.coinsOf(bankOwner(plan.bankCode))).filter((c) => c.body.expiryDate >= plan.before);
    if (!selectExactCoins(fresh, amountFen)) throw new OperationalError(`the vault of bank ${plan.bankCode} holds no coins expiring on or after ${plan.before} adding up to ${yuan(amountFen)} yuan: nothing was renewed this round`);
    const round: RenewalRound = { file: join(plan.dir, `${cardId}-${record.rounds.length + 1}.bin`), amountFen };
    record.rounds.push(round);
    save(path, record);
    try {
      await exportToBank(card, plan.journal, { cardId, amountFen, bankIdentity: plan.payeeKey.identity, packetFile: round.file, expiringBefore: plan.before, detail: { renewal: path } });
    } catch (e) {
      if (!existsSync(round.file) && plan.journal.openIntents(cardId).length === 0) {
        record.rounds.pop();
        save(path, record);
      }
      throw e;
    }
    round.balanceAfterExportFen = await card.balance();
    save(path, record);
    await finishRound(card, cardId, round, record, path, plan, ledger);
  }
  const renewedFen = record.rounds.reduce((s, r) => s + (r.loaded ? r.amountFen : 0), 0);
  return { cardId, before: plan.before, renewedFen, rounds: record.rounds, leftFen, balanceFen: await card.balance(), record: path };
}

/**
 * Finishes one round from where it stopped: the packet retired in the registry (once: a second settle
 * is a replay), then fresh coins of the same total loaded, unless the card's balance shows the load
 * already happened.
 */
async function finishRound(card: DrmbCard, cardId: string, round: RenewalRound, record: RenewalRecord, path: string, plan: RenewPlan, ledger: BankLedger): Promise<void> {
  if (round.loaded) return;
  if (round.packetHash === undefined) {
    const packet = new Uint8Array(readFileSync(round.file));
    const opened = openTransfer(packet, plan.payeeKey.privateKey);
    // The bank's check: every coin it retires expires before the date (the card chose them).
    const coins = settlementBodyCoder.decode(opened.settlementBody).coins;
    const owner = coins.every((c) => c.body.expiryDate < plan.before) ? RETIRED : bankOwner(plan.bankCode);
    const s = await ledger.settle(packet, { payeeIdentity: opened.payeeIdentity, payeeOwner: owner, settlementBody: opened.settlementBody });
    testKillPoint('after-settle');
    round.packetHash = hex(sm3(packet));
    round.owner = s.payeeOwner;
    round.amountFen = opened.amountFen;
    save(path, record);
    plan.audit(cardId, 'renewal settled', { packetHash: round.packetHash, amountFen: round.amountFen, owner: round.owner, serials: coins.map((c) => hex(c.body.serial)) });
  }
  const balance = await card.balance();
  // No balance written after the export: the run stopped before the load began.
  round.balanceAfterExportFen ??= balance;
  if (balance === round.balanceAfterExportFen + round.amountFen) {
    // the load committed in an earlier run (its registry record was finished from the journal)
    round.loaded = true;
    save(path, record);
    plan.audit(cardId, 'renewal loaded', { packetHash: round.packetHash, amountFen: round.amountFen, finished: 'from the journal' });
    return;
  }
  if (balance !== round.balanceAfterExportFen) {
    throw new OperationalError(`card ${cardId} holds ${yuan(balance)} yuan, neither what it held after the renewal export (${yuan(round.balanceAfterExportFen)}) nor that plus the fresh coins: ${path} does not describe this card's last visit`);
  }
  const now = new Date().toISOString();
  const r = await withdraw(card, ledger, {
    bankCode: plan.bankCode,
    amountFen: round.amountFen,
    loadMasters: plan.loadMaster,
    terminalId: plan.terminalId,
    date: now.slice(0, 10).replace(/-/g, ''),
    time: now.slice(11, 19).replace(/:/g, ''),
    journal: { journal: plan.journal, destination: `registry of bank ${plan.bankCode}`, detail: { renewal: path } },
    notExpiringBefore: plan.before,
    onCredited: () => testKillPoint('after-credit'),
  });
  round.loadCounter = r.counter;
  round.loaded = true;
  save(path, record);
  plan.audit(cardId, 'renewal loaded', { packetHash: round.packetHash, amountFen: round.amountFen, counter: r.counter });
}

export function formatRenew(r: RenewReport): string {
  return [
    `card ${r.cardId}: ${yuan(r.renewedFen)} yuan of coins expiring before ${r.before} renewed; balance ${yuan(r.balanceFen)} yuan`,
    ...r.rounds.map((x) => `  ${x.packetHash ?? '?'} ${yuan(x.amountFen)} yuan -> ${x.owner ?? '?'}${x.loaded ? ', fresh coins loaded' : ''}`),
    ...(r.leftFen > 0 ? [`  ${yuan(r.leftFen)} yuan of such coins are each above the card's single limit and stay on the card`] : []),
  ].join('\n');
}

export function registerRenew(bank: Cli): void {
  const cmd = bank
    .command('renew')
    .description("exchange a card's coins near their expiry in one visit: the card exports them to the bank, the registry retires their serials, the vault loads fresh coins of the same total");
  withCardTarget(cmd, { image: 'save-every-commit' });
  withBankCode(cmd, 'the bank whose vault loads the fresh coins', true)
    .requiredOption('--bank-key <file>', "the bank's SM9 encryption key for its own identity (drmb keys user-key): the card exports to it, and the bank opens the packet with it")
    .requiredOption('--before <YYYYMMDD>', 'renew the coins that expire before this date')
    .option('--terminal-id <hex12>', 'the vault terminal ID in the load (6 bytes)', '100000000001')
    .option('--renewals <dir>', "the bank's renewal records and packets", 'coin-renewals')
    .option('--registry-keys <dir>', 'with --registry or --registry-url: the registry bundle that checks the coins (default: --keys, a ceremony directory)')
    .option('--audit <file>', "the hash-chained audit log of the renewals (serials retired, fresh coins loaded)", 'perso-audit.log')
    .option('--operator <name>', 'operator recorded in the audit log (default: the login name)');
  withPinFile(cmd, "the holder's: the card lists its coins only after VERIFY; without it, asked on the terminal");
  withTrace(withJournal(withCentral(addRegistryOptions(cmd)))).action(async (o: RenewOptions) => {
    emit(await runRenew(o), !!o.json, formatRenew);
  });
}
