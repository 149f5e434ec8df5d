/** @module `drmb card recover`: finishes the card's open value intents from its own GET TRANSACTION PROVE (a packet written where it was going, or to --out; a load recorded in the registry) and closes them; a command the card never committed is closed as "no value moved". */
import { resolve } from 'node:path';
import type { Command as Cli } from 'commander';
import { loadRecording } from '../../bank/withdraw.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { type Deliver, type FinishResult, finishIntent, packetFileDelivery, UndeliverableError } from '../../host/finish-intent.js';
import type { Transport } from '../../host/transport.js';
import type { ValueIntent, ValueJournal } from '../../host/value-journal.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { type BankLedger, openBankLedger, REGISTRY_ENV, registryUrlOf, type RegistryOptions } from '../bank/registry-options.js';
import { emit, UsageError } from '../output.js';
import { withCard } from '../open-card.js';
import { type CardOptions, keyDirOf, openJournal, withJournal, withKeys } from '../options.js';
import { addCardOptions, CARD_IMAGE, yuan } from './connect.js';

export interface RecoverOptions extends CardOptions {
  journal?: string;
  out?: string;
  counter?: string;
  registry?: string;
  registryUrl?: string;
  keys?: string;
}

/** What became of one open intent. */
export interface RecoveredIntent {
  id: string;
  type: ValueIntent['type'];
  counter: number;
  command: string;
  amountFen: number;
  result: FinishResult['result'];
  /** the file the result was written to */
  file?: string;
  /** one line for the holder */
  message: string;
}

/** The command, as the role table names it: a load is recorded after its TAC checks under the load-master. */
const RECOVER_COMMAND = 'drmb card recover';

export interface RecoverReport {
  cardId: string;
  journal: string;
  intents: RecoveredIntent[];
}

/** The command line that finishes a card's intents, for messages that must say exactly what to run. */
export function recoverCommand(card: { reader?: string; sim?: string }, journalDir: string, extra = ''): string {
  const source = card.sim !== undefined ? ` --sim ${shellWord(card.sim)}` : card.reader !== undefined ? ` --reader ${shellWord(card.reader)}` : '';
  return `drmb card recover${source} --journal ${shellWord(journalDir)}${extra}`;
}

function shellWord(s: string): string {
  return /^[\w./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The registry and keys a LOAD intent was journalled with (its detail), unless options name others. */
export function loadRegistryOptions(intent: ValueIntent, o: RegistryOptions): RegistryOptions {
  const d = intent.detail;
  return {
    registry: o.registry ?? (typeof d.registry === 'string' ? d.registry : undefined),
    registryUrl: o.registryUrl,
    central: o.central ?? (typeof d.central === 'string' ? d.central : undefined),
    keys: o.keys ?? (typeof d.keys === 'string' ? d.keys : undefined),
  };
}

/**
 * How each kind of intent is delivered: a TRANSFER's packet to its file (or `out`), a LOAD to the
 * registry `load(intent)` opens (undefined: not here).
 */
export function deliveryFor(out: string | undefined, load: (intent: ValueIntent) => Promise<Deliver | undefined>): Deliver {
  const packet = packetFileDelivery(out);
  return async (intent, proof) => {
    if (intent.type === 'TRANSFER') return packet(intent, proof);
    if (intent.type === 'LOAD') {
      const deliver = await load(intent);
      if (!deliver) throw new UndeliverableError('the load is recorded in the registry, which is not open here');
      return deliver(intent, proof);
    }
    throw new UndeliverableError(`${intent.type} intents are finished by the command that opened them`);
  };
}

/** One report line per outcome; `rerun` is the command for an undeliverable result. */
export function describeFinish(r: FinishResult, rerun: (intent: ValueIntent) => string): RecoveredIntent {
  const intent = r.result === 'undeliverable' ? r.intent : r.closed;
  const base = { id: intent.id, type: intent.type, counter: intent.counter, command: intent.command, amountFen: intent.amountFen, result: r.result };
  const what = `card ${intent.cardId} ${intent.type} counter ${intent.counter} (${yuan(intent.amountFen)} yuan)`;
  switch (r.result) {
    case 'delivered':
      return intent.type === 'TRANSFER'
        ? { ...base, file: r.where, message: `${what}: packet written to ${r.where}; the payee card imports it with drmb peer receive --packet ${r.where}` }
        : { ...base, message: `${what}: ${r.closed.note}` };
    case 'not-committed':
      return { ...base, message: `${what}: the card never committed ${intent.command} (9406): no value moved; intent closed` };
    case 'proof-gone':
      return { ...base, message: `${what}: ${r.closed.note}; intent closed` };
    case 'undeliverable':
      return { ...base, message: `${what}: committed by the card, but ${r.reason}; run: ${rerun(intent)}` };
  }
}

/**
 * Finishes the open intents of the selected card (or the one of `counter`) from GET TRANSACTION
 * PROVE, in the order they were opened. Security: none; nothing on the card changes.
 */
export async function finishOpenIntents(
  card: DrmbCard,
  cardId: string,
  journal: ValueJournal,
  deliver: Deliver,
  rerun: (intent: ValueIntent) => string,
  counter?: number,
): Promise<RecoveredIntent[]> {
  const out: RecoveredIntent[] = [];
  for (const intent of journal.openIntents(cardId)) {
    if (counter !== undefined && intent.counter !== counter) continue;
    out.push(describeFinish(await finishIntent(card, journal, intent, deliver), rerun));
  }
  return out;
}

/** SELECT, then the card's open intents finished. */
export async function collectRecover(
  t: Transport,
  journal: ValueJournal,
  o: { out?: string; counter?: number; deliver: Deliver; rerun: (intent: ValueIntent) => string },
): Promise<RecoverReport> {
  const card = new DrmbCard(t);
  const info = await card.select();
  if (!info.cardId) throw new UsageError(`the card is ${info.state}: it has no card ID and has moved no value`);
  if (o.out !== undefined) {
    const open = journal.openIntents(info.cardId).filter((i) => o.counter === undefined || i.counter === o.counter);
    if (open.length > 1) throw new UsageError(`--out: ${open.length} intents are open for card ${info.cardId} (counters ${open.map((i) => i.counter).join(', ')}); choose one with --counter`);
  }
  return { cardId: info.cardId, journal: journal.dir, intents: await finishOpenIntents(card, info.cardId, journal, o.deliver, o.rerun, o.counter) };
}

export async function runRecover(o: RecoverOptions): Promise<RecoverReport> {
  const counter = o.counter === undefined ? undefined : Number(o.counter);
  if (counter !== undefined && !(Number.isInteger(counter) && counter >= 0)) throw new UsageError('--counter must be a counter number, e.g. 7');
  const journal = openJournal(o.journal);
  const rerun = (intent: ValueIntent) =>
    recoverCommand(o, journal.dir, intent.type === 'TRANSFER' ? ` --counter ${intent.counter} --out <new file>` : ` --counter ${intent.counter} --registry <dir> --keys <dir>`);
  // A LOAD finishes in the registry it was journalled with: opened only when one is open, once.
  let registry: BankLedger | undefined;
  const load = async (intent: ValueIntent): Promise<Deliver | undefined> => {
    const ro = loadRegistryOptions(intent, o);
    if (!keyDirOf(ro)) return undefined;
    // never an empty registry made up on the spot: the one the load went to, or none
    if (!ro.registry && !registryUrlOf(ro) && !ro.central && !process.env[REGISTRY_ENV]) return undefined;
    registry ??= await openBankLedger(ro, RECOVER_COMMAND, RECOVER_COMMAND, { settles: false });
    return loadRecording(registry, RoleKeys.open(keyDirOf(ro), RECOVER_COMMAND).key('load-master'));
  };
  try {
    return await withCard(o, { image: CARD_IMAGE }, (t) => collectRecover(t, journal, { out: o.out && resolve(o.out), counter, deliver: deliveryFor(o.out, load), rerun }));
  } finally {
    await registry?.close();
  }
}

export function formatRecover(r: RecoverReport): string {
  return r.intents.length === 0 ? `card ${r.cardId}: no open value intents in ${r.journal}` : r.intents.map((i) => i.message).join('\n');
}

export function registerRecover(card: Cli): void {
  withJournal(
    withKeys(
      addCardOptions(card.command('recover').description("finish the card's interrupted value commands from its transaction proofs (write the packet or record the load, close the intent)"))
        .option('--out <file>', 'write the packet here instead of the journalled destination (mode 0600)')
        .option('--counter <n>', 'only the intent of this counter')
        .option('--registry <dir>', 'for a load: the embedded registry folder (default: the one the load was journalled with)')
        .option('--registry-url <url>', 'for a load: PostgreSQL connection string of the registry (default $DRMB_REGISTRY_URL)'),
      'for a load, the one the load was journalled with comes first',
    ),
  ).action(async (o: RecoverOptions) => {
    const r = await runRecover(o);
    emit(r, !!o.json, formatRecover);
    // the report is printed either way; a result still undelivered is a failure of the command
    if (r.intents.some((i) => i.result === 'undeliverable')) process.exitCode = 1;
  });
}
