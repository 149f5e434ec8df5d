/**
 * @module `drmb card return`: a holder gives the card back at the bank's desk. The card pays all its
 * coins to the bank through the normal value path (INITIALIZE FOR TRANSFER + EXPORT COINS to the
 * bank's SM9 identity, under the host's value journal); the desk opens each packet with the bank's own
 * key and the registry moves the coins to the bank's vault on that proof (as `drmb bank deposit
 * --opened`); the amount is paid to the holder in cash, recorded in the desk's hash-chained audit log;
 * then SET STATUS terminates the card through the issuance channel.
 *
 * Each step is written down before the next one starts, in the return's own record
 * (`<returns>/<card ID>.json`), so that a return torn or killed at any point resumes where it stopped
 * when run again: an export the card committed but the host never saw is read back with GET
 * TRANSACTION PROVE (the value journal), a packet already settled settles again as a replay, and cash
 * is paid once per packet (the audit log tells). Nothing is paid in cash before the registry has the
 * coins.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { Command as Cli } from 'commander';
import { KEY_VERSIONS } from '../../applet-spec/commands/initialize-update.js';
import { initializeForTransfer } from '../../applet-spec/commands.js';
import { DATA_OBJECTS, type DataObjectName } from '../../applet-spec/data-objects.js';
import { SW } from '../../applet-spec/status-words.js';
import { MAX_COINS_PER_TRANSFER } from '../../applet-spec/value-formats.js';
import { exportToBank } from '../bank/export-to-bank.js';
import { wipe } from '../../base/bytes.js';
import { hex } from '../../base/hex.js';
import { OperationalError } from '../../base/operational-error.js';
import { bankOwner } from '../../bank/registry.js';
import { sm3 } from '../../crypto/sm3.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError } from '../../host/errors.js';
import { issuerLineMacSigner } from '../../host/line-mac.js';
import { openTransfer } from '../../host/open-transfer.js';
import { openSecureChannel } from '../../host/secure-channel.js';
import type { Transport } from '../../host/transport.js';
import type { ValueJournal } from '../../host/value-journal.js';
import { whyNotWritable, writeFileAtomic } from '../../io/atomic-file.js';
import { cardApplicationKeysOf, cardIdToBytes, cardIssuanceKeys } from '../../keys/card-keys.js';
import { type KeyFile, wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { appendAudit } from '../../personalization/audit-log.js';
import { Manifest } from '../../personalization/manifest.js';
import { type BankLedger, openBankLedger, type RegistryOptions, withCentral } from '../bank/registry-options.js';
import { readUserKey } from '../keys/user-key.js';
import { withCard } from '../open-card.js';
import { bankCodeOf, type CardOptions, keyDirOf, openJournal, withBankCode, withCardTarget, withJournal, withJson, withKeys, withPinFile, withTrace } from '../options.js';
import { emit, UsageError } from '../output.js';
import { paymentPin } from '../payment-pin.js';
import { withProgress } from '../progress.js';
import { confirm } from '../terminal-prompt.js';
import { testKillPoint } from '../test-kill-point.js';
import { deliveryFor, finishOpenIntents, recoverCommand } from './recover.js';

/** The desk's part, as the role table names it: issuer scripts and SET STATUS under its bundle. */
const RETURN_COMMAND = 'drmb card return';
/** The settlement part through the central bank's registry service, with the bank-vault bundle. */
const RETURN_CENTRAL_COMMAND = 'drmb card return --central';
/** The settlement part on a registry opened here, with the registry's own bundle. */
const RETURN_REGISTRY_COMMAND = 'drmb card return --registry';

export interface ReturnOptions extends CardOptions {
  keys?: string;
  /** the bundle that settles: bank-vault (with --central) or registry (with --registry / --registry-url) */
  vaultKeys?: string;
  bankCode: string;
  /** the bank's SM9 encryption key for its own identity (drmb keys user-key): the payee of the return */
  bankKey: string;
  returns: string;
  journal?: string;
  pinFile?: string;
  manifest: string;
  audit: string;
  operator?: string;
  yes?: boolean;
  registry?: string;
  registryUrl?: string;
  central?: string;
}

/** One export of the return: the packet file, and how far it went. */
export interface ReturnExport {
  file: string;
  amountFen: number;
  /** the card's counter of the export, once the packet is in `file` */
  counter?: number;
  /** SM3 of the packet, hex, once settled */
  packetHash?: string;
  /** the registry's new owner of the coins, once settled */
  owner?: string;
  /** when the cash was paid out to the holder */
  paidOutAt?: string;
}

/** The return's record: what was done, step by step, so that a second run goes on from there. */
export interface ReturnRecord {
  format: 'drmb-card-return';
  version: 1;
  cardId: string;
  bankCode: string;
  payeeIdentity: string;
  startedAt: string;
  exports: ReturnExport[];
  /** set just before SET STATUS: a card that then answers 6A81 was terminated by this return */
  terminating?: boolean;
  terminatedAt?: string;
}

export interface ReturnReport {
  cardId: string;
  bankCode: string;
  /** total paid out in cash to the holder by this return, all runs together */
  paidOutFen: number;
  /** paid out by this run */
  paidNowFen: number;
  exports: ReturnExport[];
  state: 'TERMINATED';
  record: string;
}

const RECORD_FORMAT = 'drmb-card-return';
const yuan = (fen: number) => (fen / 100).toFixed(2);

function operatorOf(o: { operator?: string }): string {
  if (o.operator) return o.operator;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function recordPath(dir: string, cardId: string): string {
  return join(dir, `${cardId}.json`);
}

function readRecord(path: string): ReturnRecord | undefined {
  if (!existsSync(path)) return undefined;
  let r: ReturnRecord;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as ReturnRecord;
  } catch (e) {
    throw new UsageError(`--returns: ${path} is not a return record (${(e as Error).message})`);
  }
  if (r.format !== RECORD_FORMAT) throw new UsageError(`--returns: ${path} is not a return record`);
  return r;
}

function writeRecord(path: string, r: ReturnRecord): void {
  writeFileAtomic(path, JSON.stringify(r, null, 2));
}

/** Whether the audit log already records the cash paid for this packet (a run killed between the two writes). */
function cashAlreadyPaid(auditPath: string, packetHash: string): boolean {
  if (!existsSync(auditPath)) return false;
  return readFileSync(auditPath, 'utf8')
    .split('\n')
    .some((l) => l.includes('"action":"cash-out"') && l.includes(`"packetHash":"${packetHash}"`));
}

/** Everything the return needs, checked before the card is touched. */
interface ReturnPlan {
  bankCode: string;
  payeeKey: { identity: string; privateKey: Uint8Array };
  returnsDir: string;
  journal: ValueJournal;
  issuerMaster: KeyFile<'issuer-master'>;
  issuanceMaster: KeyFile<'issuance-master'>;
  operator: string;
}

function planReturn(o: ReturnOptions): ReturnPlan {
  const bankCode = bankCodeOf(o.bankCode);
  if (o.vaultKeys === undefined && keyDirOf(o) === undefined) throw new UsageError('--keys (the issuance desk bundle) is needed');
  if (o.vaultKeys === undefined) throw new UsageError('--vault-keys is needed: the bank-vault bundle that settles through --central, or the registry bundle of a registry opened here');
  const why = whyNotWritable(join(resolve(o.returns), 'x'));
  if (why && existsSync(o.returns)) throw new UsageError(`--returns: ${why}`);
  try {
    mkdirSync(o.returns, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UsageError(`--returns: cannot make ${o.returns} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const journal = openJournal(o.journal);
  const keys = RoleKeys.open(keyDirOf(o), RETURN_COMMAND);
  const issuerMaster = keys.key('issuer-master');
  const issuanceMaster = keys.key('issuance-master');
  const payeeKey = readUserKey(o.bankKey, '--bank-key');
  return { bankCode, payeeKey, returnsDir: resolve(o.returns), journal, issuerMaster, issuanceMaster, operator: operatorOf(o) };
}

/**
 * Returns the card: exports all its coins to the bank, settles them into the bank's vault, records the
 * cash paid out, terminates the card. Run again after any interruption, it finishes what is left.
 */
export async function runCardReturn(o: ReturnOptions): Promise<ReturnReport> {
  return withPlan(o, (plan, openLedger) => withCard(o, { image: 'save-every-commit' }, (t) => returnCard(t, plan, o, openLedger)));
}

/** runCardReturn on a transport the caller opened (a reader of its own, a card with faults in a test). */
export async function returnCardOn(t: Transport, o: ReturnOptions): Promise<ReturnReport> {
  return withPlan(o, (plan, openLedger) => returnCard(t, plan, o, openLedger));
}

async function withPlan<T>(o: ReturnOptions, run: (plan: ReturnPlan, openLedger: () => Promise<BankLedger>) => Promise<T>): Promise<T> {
  const plan = planReturn(o);
  let ledger: BankLedger | undefined;
  const openLedger = async () => (ledger ??= await openBankLedger({ ...o, keys: o.vaultKeys }, RETURN_REGISTRY_COMMAND, RETURN_CENTRAL_COMMAND, { settles: true }));
  try {
    return await run(plan, openLedger);
  } finally {
    plan.payeeKey.privateKey.fill(0);
    wipeKeyFile(plan.issuerMaster);
    wipeKeyFile(plan.issuanceMaster);
    await ledger?.close();
  }
}

async function returnCard(t: Transport, plan: ReturnPlan, o: ReturnOptions, openLedger: () => Promise<BankLedger>): Promise<ReturnReport> {
  const card = new DrmbCard(t);
  let info;
  try {
    info = await card.select();
  } catch (e) {
    // 6A81: the card is terminated; a return of ours that stopped right after SET STATUS ends here
    if (e instanceof StatusWordError && e.sw === SW.FUNCTION_NOT_SUPPORTED) return finishTerminated(plan, o, openLedger);
    throw e;
  }
  if (!info.cardId || (info.state !== 'ISSUED' && info.state !== 'LOCKED')) throw new UsageError(`the card is ${info.state}: only an issued card is returned (a card never issued is terminated with drmb card terminate)`);
  const cardId = info.cardId;
  const path = recordPath(plan.returnsDir, cardId);
  const existing = readRecord(path);
  if (existing && existing.bankCode !== plan.bankCode) throw new UsageError(`--bank-code: the return of card ${cardId} was begun for bank ${existing.bankCode} (${path})`);
  if (existing && existing.payeeIdentity !== plan.payeeKey.identity) throw new UsageError(`--bank-key: the return of card ${cardId} was begun to '${existing.payeeIdentity}', this key is for '${plan.payeeKey.identity}'`);
  const balanceFen = await card.balance();
  const owed = (existing?.exports ?? []).filter((x) => !x.paidOutAt).reduce((s, x) => s + x.amountFen, 0);
  const change = `return card ${cardId}: ${existing ? 'go on with the return begun on ' + existing.startedAt + ', ' : ''}pay ${yuan(balanceFen + owed)} yuan out in cash, then terminate the card (it can never be used again)`;
  if (!o.json) process.stderr.write(`${change}\n`);
  await confirm(o.yes, `${change}. Go ahead?`, `returning card ${cardId}`);

  const record: ReturnRecord = existing ?? { format: RECORD_FORMAT, version: 1, cardId, bankCode: plan.bankCode, payeeIdentity: plan.payeeKey.identity, startedAt: new Date().toISOString(), exports: [] };
  writeRecord(path, record);
  const audit = (action: string, detail: Record<string, unknown>) => appendAudit(o.audit, { time: new Date().toISOString(), operator: plan.operator, action, cardId, detail });
  if (!existing) audit('return begun', { bankCode: plan.bankCode, balanceFen });

  // An export killed before its packet was written: the card's own proof writes it now.
  const rerun = () => recoverCommand(o, plan.journal.dir);
  const recovered = await finishOpenIntents(card, cardId, plan.journal, deliveryFor(undefined, async () => undefined), rerun);
  const stuck = recovered.find((r) => r.result === 'undeliverable');
  if (stuck) throw new OperationalError(`an earlier value command of card ${cardId} is unfinished: ${stuck.message}`);
  // An export whose packet never came to be was never committed by the card: nothing left it.
  record.exports = record.exports.filter((x) => existsSync(x.file) || x.packetHash !== undefined);
  writeRecord(path, record);

  let paidNowFen = await settleAndPay(record, path, plan, o, openLedger, audit);

  if (info.state === 'LOCKED') {
    // A blocked card (reported lost, now brought back) pays nothing until unblocked: the desk's own issuer script.
    await withIssuerKey(plan, cardId, 'issuerMac', (sign) => card.unblock(sign));
    audit('unblock for return', {});
  }
  let pin: string | undefined;
  let pinAsked = false;
  for (let balance = await card.balance(); balance > 0; balance = await card.balance()) {
    if (!pinAsked) {
      pin = await paymentPin(card, balance, initializeForTransfer, o);
      if (pin) await card.verifyPin(pin);
      pinAsked = true;
    }
    await exportOnce(card, cardId, balance, record, path, plan, audit, pin);
    paidNowFen += await settleAndPay(record, path, plan, o, openLedger, audit);
  }

  record.terminating = true;
  writeRecord(path, record);
  const scpKeys = cardIssuanceKeys(plan.issuanceMaster.secret, cardIdToBytes(cardId));
  try {
    const channel = await openSecureChannel(t, scpKeys, { kvn: KEY_VERSIONS.ISSUANCE });
    await card.terminate(channel);
  } finally {
    wipe(scpKeys.enc, scpKeys.mac, scpKeys.dek);
  }
  testKillPoint('after-terminate');
  return endReturn(record, path, plan, o, paidNowFen);
}

/** The record's end: terminated, audited, in the manifest. */
function endReturn(record: ReturnRecord, path: string, plan: ReturnPlan, o: ReturnOptions, paidNowFen: number): ReturnReport {
  const time = new Date().toISOString();
  record.terminatedAt = time;
  writeRecord(path, record);
  const paidOutFen = record.exports.reduce((s, x) => s + (x.paidOutAt ? x.amountFen : 0), 0);
  appendAudit(o.audit, { time, operator: plan.operator, action: 'return', cardId: record.cardId, detail: { bankCode: record.bankCode, paidOutFen, packets: record.exports.map((x) => x.packetHash) } });
  new Manifest(o.manifest).append({ cardId: record.cardId, stage: 'return', result: 'done', time, operator: plan.operator, steps: ['export', 'settle', 'cash-out', 'terminate'] });
  return { cardId: record.cardId, bankCode: record.bankCode, paidOutFen, paidNowFen, exports: record.exports, state: 'TERMINATED', record: path };
}

/**
 * A terminated card answers no command: the return that terminated it is the one of --returns whose
 * record says it was terminating. Its packets were all paid before SET STATUS, so only the record's
 * end is left.
 */
async function finishTerminated(plan: ReturnPlan, o: ReturnOptions, openLedger: () => Promise<BankLedger>): Promise<ReturnReport> {
  const candidates = readdirSync(plan.returnsDir)
    .filter((f) => /^\d{20}\.json$/.test(f))
    .map((f) => readRecord(join(plan.returnsDir, f))!)
    .filter((r) => r.terminating && !r.terminatedAt);
  if (candidates.length !== 1) throw new UsageError(`the card is terminated (6A81)${candidates.length ? `, and ${candidates.length} returns in ${plan.returnsDir} were terminating a card` : ` and no return in ${plan.returnsDir} was terminating it`}: nothing to do`);
  const record = candidates[0];
  const path = recordPath(plan.returnsDir, record.cardId);
  const audit = (action: string, detail: Record<string, unknown>) => appendAudit(o.audit, { time: new Date().toISOString(), operator: plan.operator, action, cardId: record.cardId, detail });
  const paidNowFen = await settleAndPay(record, path, plan, o, openLedger, audit);
  return endReturn(record, path, plan, o, paidNowFen);
}

/** Runs `use` with a line-MAC signer of the card's issuer key `name`, wiped after. */
async function withIssuerKey<T>(plan: ReturnPlan, cardId: string, name: 'issuerMac', use: (sign: ReturnType<typeof issuerLineMacSigner>) => Promise<T>): Promise<T> {
  const keys = cardApplicationKeysOf(plan.issuerMaster, cardIdToBytes(cardId), [name]);
  try {
    return await use(issuerLineMacSigner(keys[name]));
  } finally {
    wipe(...Object.values(keys));
  }
}

/**
 * One export of the card's coins to the bank: as much as one coin list carries (the whole balance
 * unless the card holds more coins than that). The card's single-payment limit and offline quota are
 * for payments away from the bank: the desk lifts each by what this export needs when the card
 * refuses for it (PUT DATA under issuerMac, audited), the card being terminated at the end.
 */
async function exportOnce(card: DrmbCard, cardId: string, balanceFen: number, record: ReturnRecord, path: string, plan: ReturnPlan, audit: (a: string, d: Record<string, unknown>) => void, pin: string | undefined): Promise<void> {
  let amountFen = balanceFen;
  const lifted = new Set<number>();
  for (;;) {
    const n = record.exports.length + 1;
    const file = join(plan.returnsDir, `${cardId}-${n}.bin`);
    const entry: ReturnExport = { file, amountFen };
    record.exports.push(entry);
    writeRecord(path, record);
    try {
      entry.counter = await exportToBank(card, plan.journal, { cardId, amountFen, bankIdentity: plan.payeeKey.identity, packetFile: file, detail: { return: path, bankCode: plan.bankCode } });
      writeRecord(path, record);
      return;
    } catch (e) {
      if (!(e instanceof StatusWordError)) throw e;
      // refused: nothing left the card (journalledTransfer closed the intent once the card said so)
      record.exports.pop();
      writeRecord(path, record);
      if (lifted.has(e.sw)) throw e;
      lifted.add(e.sw);
      if (e.sw === SW.NO_EXACT_COIN_SET) {
        // more coins than one list carries: the largest MAX_COINS_PER_TRANSFER of them, an exact set by construction
        if (pin === undefined) throw new OperationalError(`card ${cardId} holds more coins than one export carries: give --pin-file so that the desk can list them`);
        await card.verifyPin(pin);
        const coins = (await card.listCoins()).map((c) => c.body.denominationFen).sort((a, b) => b - a);
        amountFen = coins.slice(0, MAX_COINS_PER_TRANSFER).reduce((s, d) => s + d, 0);
      } else if (e.sw === SW.OVER_SINGLE_LIMIT) {
        await lift(card, cardId, plan, audit, 'singleLimit', amountFen);
      } else if (e.sw === SW.OFFLINE_QUOTA_EXHAUSTED) {
        await lift(card, cardId, plan, audit, 'offlineAmountLimit', ((await card.getData('offlineAmountLimit')) as number) + amountFen);
        await lift(card, cardId, plan, audit, 'offlineCountLimit', Math.min(0xffff, ((await card.getData('offlineCountLimit')) as number) + 1));
      } else {
        throw e;
      }
      // PUT DATA and the list need a fresh session state: the PIN again for the export
      if (pin) await card.verifyPin(pin);
    }
  }
}

async function lift(card: DrmbCard, cardId: string, plan: ReturnPlan, audit: (a: string, d: Record<string, unknown>) => void, name: DataObjectName, value: number): Promise<void> {
  const before = await card.getData(name);
  const def = DATA_OBJECTS[name];
  await withIssuerKey(plan, cardId, 'issuerMac', (sign) => card.putData(def.tag, def.coder.encode(value as never), sign));
  audit('lift limit for return', { name, before, after: value });
}

/**
 * Settles every packet of the record not yet settled (the registry moves its coins to the bank's
 * vault on the packet the bank opened with its own key), then pays out in cash each settled packet not
 * yet paid, once: the audit log's cash-out line is written before the record says so, and a second run
 * that finds it does not pay again. Returns what it paid out.
 */
async function settleAndPay(record: ReturnRecord, path: string, plan: ReturnPlan, o: ReturnOptions, openLedger: () => Promise<BankLedger>, audit: (a: string, d: Record<string, unknown>) => void): Promise<number> {
  let paid = 0;
  for (const x of record.exports) {
    if (x.packetHash === undefined) {
      if (!existsSync(x.file)) continue;
      const packet = new Uint8Array(readFileSync(x.file));
      const opened = openTransfer(packet, plan.payeeKey.privateKey);
      const ledger = await openLedger();
      const s = await withProgress('settling the returned coins in the registry', () =>
        ledger.settle(packet, { payeeIdentity: opened.payeeIdentity, payeeOwner: bankOwner(plan.bankCode), settlementBody: opened.settlementBody }),
      );
      testKillPoint('after-settle');
      x.packetHash = hex(sm3(packet));
      x.owner = s.payeeOwner;
      x.amountFen = opened.amountFen;
      writeRecord(path, record);
    }
    if (!x.paidOutAt) {
      if (!cashAlreadyPaid(o.audit, x.packetHash)) {
        audit('cash-out', { packetHash: x.packetHash, amountFen: x.amountFen, owner: x.owner });
        testKillPoint('after-cash-out');
        paid += x.amountFen;
        if (!o.json) process.stderr.write(`pay the holder ${yuan(x.amountFen)} yuan in cash (packet ${x.packetHash.slice(0, 16)}...)\n`);
      }
      x.paidOutAt = new Date().toISOString();
      writeRecord(path, record);
    }
  }
  return paid;
}

export function formatReturn(r: ReturnReport): string {
  return [
    `card ${r.cardId}: returned and TERMINATED`,
    `  paid out in cash   ${yuan(r.paidOutFen)} yuan${r.paidNowFen !== r.paidOutFen ? ` (${yuan(r.paidNowFen)} by this run)` : ''}`,
    ...r.exports.map((x) => `  packet             ${x.packetHash ?? '?'} ${yuan(x.amountFen)} yuan -> ${x.owner ?? '?'}`),
    `  record             ${r.record}`,
  ].join('\n');
}

export function registerReturn(card: Cli): void {
  const cmd = card
    .command('return')
    .description("take a card back at the desk: its coins paid to the bank's vault through the registry, the holder paid in cash, then the card terminated; run again after any interruption to finish");
  withCentral(withCardTarget(cmd, { image: 'save-every-commit' }));
  withKeys(cmd, "the issuance desk's bundle (issuer-master, issuance-master)");
  withBankCode(cmd, 'the bank whose vault takes the coins', true)
    .requiredOption('--bank-key <file>', "the bank's SM9 encryption key for its own identity (drmb keys user-key): the card pays to it, and the desk opens the packets with it")
    .requiredOption('--vault-keys <dir>', 'the bundle that settles: bank-vault with --central, or the registry bundle with --registry / --registry-url')
    .option('--registry <dir>', 'an embedded registry folder instead of --central')
    .option('--registry-url <url>', 'a PostgreSQL registry instead of --central')
    .option('--returns <dir>', "the desk's return records and packets", 'card-returns')
    .option('--manifest <file>', "the desk's manifest", 'perso-manifest.jsonl')
    .option('--audit <file>', "the desk's hash-chained audit log (the cash paid out)", 'perso-audit.log')
    .option('--operator <name>', 'operator recorded in the manifest and audit log (default: the login name)')
    .option('--yes', 'do not ask before returning the card');
  withPinFile(cmd, "the holder's, for the export above the PIN threshold; without it, asked on the terminal");
  withJson(withTrace(withJournal(cmd))).action(async (o: ReturnOptions & RegistryOptions) => {
    emit(await runCardReturn(o), !!o.json, formatReturn);
  });
}
