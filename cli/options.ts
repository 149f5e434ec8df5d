/**
 * @module The options drmb subcommands share, each declared once (flags, help, default, check): --json,
 * the card (--reader, --sim, --exclusive), --trace, --record, --keys, --journal, --pin-file, --amount,
 * --bank-code and --card-id; small functions add them to a subcommand, and typed accessors read them.
 * Options whose meaning differs per command (--out, --packet, --image, --overwrite) stay with their
 * command.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { UploadQueue } from '../host/pos/upload-queue.js';
import { defaultJournalDir, ValueJournal } from '../host/value-journal.js';
import { KEY_DIR_ENV } from '../keys/key-files.js';
import type { CardTargetOptions, ImageSaving } from './open-card.js';
import { fileErrorText, UsageError } from './output.js';

/** --json, as commander parses it. */
export interface JsonOptions {
  json?: boolean;
}

/** The options of a `drmb card` subcommand. */
export type CardOptions = CardTargetOptions & JsonOptions;

/** Adds --json: the command's result as JSON on stdout (bytes as hex), progress still on stderr. */
export function withJson(cmd: Cli, description = 'machine-readable output'): Cli {
  return cmd.option('--json', description);
}

/** Adds --trace: every APDU on stderr, secrets redacted by host/redact.ts. */
export function withTrace(cmd: Cli): Cli {
  return cmd.option('--trace', 'trace every APDU on stderr (PINs, codes and keys redacted)');
}

/** What --sim does to the image file, for its help. */
const SIM_IMAGE_HELP: Record<ImageSaving, string> = {
  'read-only': 'the file is not changed',
  'save-at-end': 'saved back when the command ends',
  'save-every-commit': 'written back as the card commits',
};

/** The card options of one side of a command. */
export interface CardTargetSpec {
  /** what the command does to a --sim image (open it with the same, cli/open-card.ts) */
  image: ImageSaving;
  /** 'from' / 'to' for two cards: --from-reader, --from-sim */
  prefix?: string;
  /** whose card it is ('payer'), for the help; such a card has no default reader */
  holder?: string;
  /** also --exclusive (drmb card) */
  exclusive?: boolean;
}

/** The option names of a side, for messages: { reader: '--from-reader', sim: '--from-sim' }. */
export function cardOptionNames(prefix?: string): { reader: string; sim: string } {
  const p = prefix ? `${prefix}-` : '';
  return { reader: `--${p}reader`, sim: `--${p}sim` };
}

/** Adds the card options: --reader and --sim (the simulated card of an image file), and --exclusive when asked. */
export function withCardTarget(cmd: Cli, spec: CardTargetSpec): Cli {
  const names = cardOptionNames(spec.prefix);
  const holder = spec.holder ? `${spec.holder}: ` : '';
  cmd
    .option(
      `${names.reader} <name|index>`,
      spec.holder ? `the reader holding the ${spec.holder} card (name fragment or index)` : 'reader name fragment or index (default: $DRMB_READER, else the first reader with a card)',
    )
    .option(`${names.sim} <image>`, `${holder}use an in-process simulated card loaded from this image file instead of a reader (${SIM_IMAGE_HELP[spec.image]})`);
  if (spec.exclusive) cmd.option('--exclusive', 'connect in exclusive mode: no other application uses the card until the command ends');
  return cmd;
}

/** Adds --record: a transcript of the session that host/replay-transport.ts replays. */
export function withRecord(cmd: Cli): Cli {
  return cmd.option('--record <file>', 'write a transcript ("=> hex" / "<= hex", secrets redacted) that ReplayTransport replays');
}

/** Adds --keys; `note` says what the command reads from the directory, or another default. */
export function withKeys(cmd: Cli, note?: string): Cli {
  return cmd.option('--keys <dir>', `key directory of the ceremony (default $${KEY_DIR_ENV})${note ? `; ${note}` : ''}`);
}

/** The key directory of --keys, else DRMB_KEY_DIR; undefined when neither is set. */
export function keyDirOf(o: { keys?: string }, env: Record<string, string | undefined> = process.env): string | undefined {
  return o.keys ?? env[KEY_DIR_ENV];
}

/** Adds --journal, the directory of the host's value journal (host/value-journal.ts). */
export function withJournal(cmd: Cli): Cli {
  return cmd.option('--journal <dir>', 'value journal directory: intents of value commands, finished by the next command or drmb card recover (default $DRMB_HOME/journal, DRMB_HOME defaulting to ~/.drmb)');
}

/** Opens the journal of --journal (or the default), creating it; UsageError naming --journal when it cannot be written. */
export function openJournal(dir: string | undefined, env: Record<string, string | undefined> = process.env): ValueJournal {
  const journal = new ValueJournal(dir ?? defaultJournalDir(env));
  const why = journal.prepare();
  if (why) throw new UsageError(`--journal: ${why}`);
  return journal;
}

/** Adds --pin-file; `when` says when the PIN is needed. The PIN never comes from the command line itself. */
export function withPinFile(cmd: Cli, when: string): Cli {
  return cmd.option('--pin-file <file>', `file whose first line is the PIN, - for standard input (${when})`);
}

/** The text of an input file option, "-" meaning standard input; UsageError naming the option when it cannot be read. */
export function readInput(path: string, option: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new UsageError(`${option}: cannot read ${path === '-' ? 'standard input' : path} (${fileErrorText(e)})`);
  }
}

/** Reads a PIN from a file, "-" for standard input (first line, digits only). */
export function readPinFile(path: string): string {
  const text = readInput(path, '--pin-file');
  const pin = text.split(/\r?\n/)[0].trim();
  if (!/^\d{4,12}$/.test(pin)) throw new UsageError('--pin-file: the first line must be the PIN, 4-12 digits');
  return pin;
}

/** The PIN of --pin-file, or undefined without one. */
export function pinOf(o: { pinFile?: string }): string | undefined {
  return o.pinFile === undefined ? undefined : readPinFile(o.pinFile);
}

/** Adds the required --amount in yuan; `what` says what the amount is. */
export function withAmount(cmd: Cli, what: string): Cli {
  return cmd.requiredOption('--amount <yuan>', `${what} in yuan, e.g. 30 or 30.50`);
}

/** Yuan text ("171.00", "30", "30.5") to fen, naming the option on a bad value. */
export function fenOf(text: string, option: string): number {
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(text)) throw new UsageError(`${option} must be an amount in yuan such as 171.00`);
  const [y, f = ''] = text.split('.');
  return Number(y) * 100 + Number(f.padEnd(2, '0'));
}

/** The fen of the --amount a card pays or is paid: yuan text (spaces around it ignored), more than 0.00. */
export function positiveFenOf(text: string, option = '--amount'): number {
  const fen = fenOf(text.trim(), option);
  if (fen <= 0) throw new UsageError(`${option} must be more than 0.00`);
  return fen;
}

/** Adds --bank-code, the 12-digit code of a commercial bank; `whose` says which bank it names. */
export function withBankCode(cmd: Cli, whose: string, required = false): Cli {
  const flags = '--bank-code <code>';
  const description = `12-digit code of ${whose}`;
  return required ? cmd.requiredOption(flags, description) : cmd.option(flags, description);
}

/** The bank code of --bank-code, checked: 12 digits. */
export function bankCodeOf(code: string): string {
  if (!/^\d{12}$/.test(code)) throw new UsageError('--bank-code must be 12 digits');
  return code;
}

/** Adds --card-id, the 20-digit card ID; `what` says what it is for. */
export function withCardId(cmd: Cli, what: string, required = false): Cli {
  const flags = '--card-id <digits>';
  const description = `20-digit card ID ${what}`;
  return required ? cmd.requiredOption(flags, description) : cmd.option(flags, description);
}

/** Whether a card ID has its 20 digits (n20, 10 BCD bytes in tag DF01: keys/card-keys.ts). */
export function isCardId(text: string): boolean {
  return /^\d{20}$/.test(text);
}

/** The port of --port: 0 (any free port) to 65535. */
export function portOf(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError('--port must be a TCP port, 0 to 65535');
  return Number(text);
}

/** Resolves at SIGINT or SIGTERM: how a service command (drmb kgc serve, drmb bank serve) runs until stopped. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * The upload queue of --queue, created when missing (a terminal's) or required to exist (`existing`,
 * a bank depositing it); UsageError naming --queue when it cannot be created or read.
 */
export function openUploadQueue(path: string, existing = false): UploadQueue {
  if (existing && !existsSync(path)) throw new UsageError(`--queue: ${path} does not exist`);
  try {
    return new UploadQueue(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === undefined) throw e;
    throw new UsageError(`--queue: cannot open ${path} (${fileErrorText(e)})`);
  }
}
