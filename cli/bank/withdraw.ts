/** @module `drmb bank withdraw`: loads coins from a bank vault onto a card; the registry records the card as owner after the TAC, and the value journal finishes a load whose recording was cut off. */
import { resolve } from 'node:path';
import type { Command as Cli } from 'commander';
import { loadRecording, withdraw, WithdrawalError } from '../../bank/withdraw.js';
import { hex } from '../../base/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { JournalError, type ValueIntent } from '../../host/value-journal.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { deliveryFor, finishOpenIntents, recoverCommand, type RecoveredIntent } from '../card/recover.js';
import { type ImageSaving, openCard } from '../open-card.js';
import { bankCodeOf, keyDirOf, openJournal, withAmount, withBankCode, withCardTarget, positiveFenOf, withJournal, withTrace } from '../options.js';
import { emit, UsageError } from '../output.js';
import { testKillPoint } from '../test-kill-point.js';
import { addRegistryOptions, centralUrlOf, openBankLedger, registryDirOf, registryUrlOf, type RegistryOptions, shownUrl, withCentral } from './registry-options.js';

export interface WithdrawCliOptions extends RegistryOptions {
  amount: string;
  bankCode: string;
  reader?: string;
  sim?: string;
  terminalId: string;
  journal?: string;
  trace?: boolean;
}

/** The command, as the role table names it. */
const WITHDRAW_COMMAND = 'drmb bank withdraw';

/** What a load does to a --sim image: written as the card commits, so the value journal finds the load on the card. */
const WITHDRAW_IMAGE: ImageSaving = 'save-every-commit';

export interface WithdrawReport {
  cardId: string;
  counter: number;
  amountFen: number;
  tac: string;
  coins: number;
  /** earlier interrupted value commands of the card, finished first */
  recovered: RecoveredIntent[];
}

/** Where a load's coins are recorded, for the journal: the registry folder, or the server without its credentials. */
function registryDestination(o: RegistryOptions): { destination: string; detail: Record<string, string> } {
  const url = registryUrlOf(o);
  const keys = keyDirOf(o);
  const keyDetail: Record<string, string> = keys ? { keys: resolve(keys) } : {};
  if (o.central !== undefined) return { destination: `registry service ${centralUrlOf(o.central)}`, detail: { central: centralUrlOf(o.central), ...keyDetail } };
  if (url) return { destination: `registry ${shownUrl(url)}`, detail: keyDetail };
  const dir = registryDirOf(o);
  return { destination: `registry ${dir}`, detail: { registry: dir, ...keyDetail } };
}

export async function runWithdraw(o: WithdrawCliOptions): Promise<WithdrawReport> {
  const amountFen = positiveFenOf(o.amount);
  bankCodeOf(o.bankCode);
  if (!/^[0-9a-fA-F]{12}$/.test(o.terminalId)) throw new UsageError('--terminal-id must be 12 hex digits (6 bytes)');
  const journal = openJournal(o.journal);
  // The vault's bundle holds the load and TAC masters only (keys/role-bundles.ts).
  const loadMasters = RoleKeys.open(keyDirOf(o), WITHDRAW_COMMAND).key('load-master');
  const registry = await openBankLedger(o, WITHDRAW_COMMAND, WITHDRAW_COMMAND, { settles: false });
  const side = { reader: o.reader, sim: o.sim };
  const rerun = (i: ValueIntent) => recoverCommand(side, journal.dir, i.type === 'TRANSFER' ? ` --counter ${i.counter} --out <new file>` : ` --counter ${i.counter}`);
  try {
    const card = await openCard(o, { image: WITHDRAW_IMAGE });
    try {
      return await card.transport.lease(async (t) => {
        const drmb = new DrmbCard(t);
        const info = await drmb.select();
        const recovered = info.cardId ? await finishOpenIntents(drmb, info.cardId, journal, deliveryFor(undefined, async () => loadRecording(registry, loadMasters)), rerun) : [];
        const stuck = recovered.find((r) => r.result === 'undeliverable');
        if (stuck) throw new JournalError(`an earlier value command is unfinished: ${stuck.message}`);
        if (!o.json) for (const r of recovered) process.stderr.write(`drmb: finished an earlier value command first: ${r.message}\n`);
        const now = new Date().toISOString();
        try {
          const r = await withdraw(drmb, registry, {
            bankCode: o.bankCode,
            amountFen,
            loadMasters,
            terminalId: Uint8Array.from(Buffer.from(o.terminalId, 'hex')),
            date: now.slice(0, 10).replace(/-/g, ''),
            time: now.slice(11, 19).replace(/:/g, ''),
            journal: { journal, ...registryDestination(o) },
            onCredited: () => testKillPoint('after-credit'),
          });
          return { cardId: r.cardId, counter: r.counter, amountFen: r.amountFen, tac: hex(r.tac), coins: r.serials.length, recovered };
        } catch (e) {
          const open = info.cardId ? journal.openIntents(info.cardId) : [];
          if (e instanceof WithdrawalError && open.length > 0) throw new JournalError(`${e.message}; run: ${recoverCommand(side, journal.dir)}`);
          throw e;
        }
      });
    } finally {
      await card.close();
    }
  } finally {
    await registry.close();
  }
}

export function registerWithdraw(bank: Cli): void {
  const cmd = bank.command('withdraw').description("load coins from the bank's vault onto a card (INITIALIZE FOR LOAD / CREDIT FOR LOAD, TAC checked)");
  withBankCode(withAmount(cmd, 'amount'), 'the bank whose vault pays', true).option('--terminal-id <hex>', 'terminal ID of the bank counter, 6 bytes', '100000000001');
  withJournal(withCentral(addRegistryOptions(withTrace(withCardTarget(cmd, { image: WITHDRAW_IMAGE }))))).action(async (o: WithdrawCliOptions) => {
    emit(await runWithdraw(o), !!o.json, (r) => `card ${r.cardId}: ${(r.amountFen / 100).toFixed(2)} yuan loaded in ${r.coins} coins (counter ${r.counter}, TAC ${r.tac})`);
  });
}
