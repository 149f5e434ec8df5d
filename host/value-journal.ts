/** @module The host's value journal: an intent written durably before a card commits a value-moving command, closed once the result is durable where it belongs, so that a crash, a kill or a pulled reader in between is finished later from GET TRANSACTION PROVE. */
import { OperationalError } from '../base/operational-error.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isAtomicTempName, unlinkDurably, whyNotWritable, writeFileAtomic } from '../io/atomic-file.js';

/** Format tag of a journal file. */
export const INTENT_FORMAT = 'drmb-value-intent';
const INTENT_VERSION = 1;

/**
 * The command that commits each journalled transaction type, in the spec's words. The intent's type
 * and counter are what GET TRANSACTION PROVE takes to answer that command's stored response.
 */
export const COMMITTING_COMMAND = { TRANSFER: 'EXPORT COINS', PURCHASE: 'DEBIT FOR PURCHASE', LOAD: 'CREDIT FOR LOAD' } as const;
/** The value-moving command types the journal covers (TRANSFER, PURCHASE, LOAD). */
export type JournalledType = keyof typeof COMMITTING_COMMAND;

/** An open intent: this card, at this counter, is about to commit this command; its result goes to `destination`. */
export interface ValueIntent {
  format: typeof INTENT_FORMAT;
  version: typeof INTENT_VERSION;
  /** also the journal file name, without .json */
  id: string;
  cardId: string;
  type: JournalledType;
  /** the counter of the INITIALIZE step's response: the one the commit is stored under */
  counter: number;
  command: (typeof COMMITTING_COMMAND)[JournalledType];
  amountFen: number;
  /** where the result goes: an absolute file path, or a description of the party that records it */
  destination: string;
  /** what finishing needs besides (receipt file, payee, coin serials...); no secrets */
  detail: Record<string, string | number | string[]>;
  openedAt: string;
}

/** How an intent ended: result delivered, never committed by the card (no value moved), or proof no longer on the card. */
export type IntentOutcome = 'delivered' | 'not-committed' | 'proof-gone';

/** An intent once closed: when, with which outcome, and a line for the holder. */
export interface ClosedIntent extends ValueIntent {
  closedAt: string;
  outcome: IntentOutcome;
  /** one line for the holder: where the result is, or why there is none */
  note: string;
}

/** The journal cannot be used (directory not writable, a file that is not an intent). */
export class JournalError extends OperationalError {
  override readonly name = 'JournalError';
}

/** $DRMB_HOME/journal, DRMB_HOME defaulting to ~/.drmb. */
export function defaultJournalDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.DRMB_HOME || join(homedir(), '.drmb'), 'journal');
}

const DIR_MODE = 0o700;
const TYPES = Object.keys(COMMITTING_COMMAND) as JournalledType[];

/**
 * A journal directory: `open/` holds one file per open intent, `closed/` the same record with its
 * outcome once closed (kept as the history of what happened to each value command). Every file is
 * written with writeFileAtomic (mode 0600; they hold no secrets, but say what a card paid to whom).
 * Closing writes `closed/<id>.json` before removing `open/<id>.json`, so a crash in between leaves an
 * intent that openIntents() sees as closed.
 */
export class ValueJournal {
  readonly dir: string;
  private readonly openDir: string;
  private readonly closedDir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.openDir = join(this.dir, 'open');
    this.closedDir = join(this.dir, 'closed');
  }

  /** Creates the directories (0700) and checks files can be written there; returns why not, or undefined. */
  prepare(): string | undefined {
    try {
      mkdirSync(this.openDir, { recursive: true, mode: DIR_MODE });
      mkdirSync(this.closedDir, { recursive: true, mode: DIR_MODE });
    } catch (e) {
      return `cannot create ${this.dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    return whyNotWritable(join(this.openDir, 'probe')) ?? whyNotWritable(join(this.closedDir, 'probe'));
  }

  /**
   * Writes the intent durably and returns it. Call after the INITIALIZE step (whose response gives
   * the counter) and before the committing command.
   */
  open(fields: Pick<ValueIntent, 'cardId' | 'type' | 'counter' | 'amountFen' | 'destination'> & { detail?: ValueIntent['detail'] }, now = new Date()): ValueIntent {
    const stamp = now.toISOString().replace(/[-:.]/g, '');
    const intent: ValueIntent = {
      format: INTENT_FORMAT,
      version: INTENT_VERSION,
      // the same counter comes back after a command the card refused: the stamp keeps the ids apart
      id: `${fields.cardId}-${fields.type}-${fields.counter}-${stamp}-${randomBytes(2).toString('hex')}`,
      cardId: fields.cardId,
      type: fields.type,
      counter: fields.counter,
      command: COMMITTING_COMMAND[fields.type],
      amountFen: fields.amountFen,
      destination: fields.destination,
      detail: fields.detail ?? {},
      openedAt: now.toISOString(),
    };
    this.write(join(this.openDir, `${intent.id}.json`), intent);
    return intent;
  }

  /** Records the outcome under closed/ and removes the open intent. */
  close(intent: ValueIntent, outcome: IntentOutcome, note: string, now = new Date()): ClosedIntent {
    const closed: ClosedIntent = { ...intent, closedAt: now.toISOString(), outcome, note };
    this.write(join(this.closedDir, `${intent.id}.json`), closed);
    const open = join(this.openDir, `${intent.id}.json`);
    if (existsSync(open)) unlinkDurably(open);
    return closed;
  }

  /** Open intents, of one card or all, oldest first. Throws JournalError for a file that is not an intent. */
  openIntents(cardId?: string): ValueIntent[] {
    const out: ValueIntent[] = [];
    for (const name of this.names(this.openDir)) {
      if (cardId !== undefined && !name.startsWith(`${cardId}-`)) continue;
      const file = join(this.openDir, name);
      if (existsSync(join(this.closedDir, name))) {
        // a close interrupted after its closed record was durable
        unlinkDurably(file);
        continue;
      }
      const intent = readIntent(file);
      if (cardId === undefined || intent.cardId === cardId) out.push(intent);
    }
    return out.sort((a, b) => (a.openedAt < b.openedAt ? -1 : a.openedAt > b.openedAt ? 1 : 0));
  }

  /** The closed record of an intent, if it was closed. */
  closedIntent(id: string): ClosedIntent | undefined {
    const file = join(this.closedDir, `${id}.json`);
    return existsSync(file) ? (readIntent(file) as ClosedIntent) : undefined;
  }

  private names(dir: string): string[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new JournalError(`cannot read the journal ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    // temp files are what a writer killed before its rename leaves: never a record
    return names.filter((n) => n.endsWith('.json') && !isAtomicTempName(n)).sort();
  }

  private write(file: string, record: ValueIntent): void {
    try {
      mkdirSync(resolve(file, '..'), { recursive: true, mode: DIR_MODE });
      writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
    } catch (e) {
      throw new JournalError(`cannot write the journal file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
}

/** Reads and checks one journal file. */
function readIntent(file: string): ValueIntent {
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new JournalError(`journal file ${file} is not readable JSON (${(e as Error).message}); check it and move it out of the journal`);
  }
  const r = record as Partial<ValueIntent>;
  const ok =
    r.format === INTENT_FORMAT &&
    r.version === INTENT_VERSION &&
    typeof r.id === 'string' &&
    typeof r.cardId === 'string' &&
    TYPES.includes(r.type as JournalledType) &&
    Number.isInteger(r.counter) &&
    Number.isInteger(r.amountFen) &&
    typeof r.destination === 'string' &&
    typeof r.openedAt === 'string' &&
    typeof r.detail === 'object';
  if (!ok) throw new JournalError(`journal file ${file} is not a ${INTENT_FORMAT} record; check it and move it out of the journal`);
  return r as ValueIntent;
}
