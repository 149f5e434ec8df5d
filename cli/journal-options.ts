/** @module The --journal option of value-moving drmb commands: where the host's value journal lives, checked before any coin moves. */
import type { Command as Cli } from 'commander';
import { defaultJournalDir, ValueJournal } from '../host/value-journal.js';
import { UsageError } from './output.js';

export function addJournalOption(cmd: Cli): Cli {
  return cmd.option('--journal <dir>', 'value journal directory: intents of value commands, finished by the next command or drmb card recover (default $DRMB_HOME/journal, DRMB_HOME defaulting to ~/.drmb)');
}

/** Opens the journal of --journal (or the default), creating it; UsageError naming --journal when it cannot be written. */
export function openJournal(dir: string | undefined, env: Record<string, string | undefined> = process.env): ValueJournal {
  const journal = new ValueJournal(dir ?? defaultJournalDir(env));
  const why = journal.prepare();
  if (why) throw new UsageError(`--journal: ${why}`);
  return journal;
}
