/** @module `drmb card`: the options every card subcommand shares (--reader, --sim, --trace, --record, --exclusive, --json). */
import type { Command as Cli } from 'commander';

/** The shared options, as commander parses them. */
export interface CardOptions {
  /** reader name fragment or index (default: DRMB_READER, else the first reader with a card) */
  reader?: string;
  /** card image file of an in-process simulated card, instead of a reader */
  sim?: string;
  trace?: boolean;
  /** transcript file ("=> hex" / "<= hex" lines, secrets redacted) */
  record?: string;
  /** SCARD_SHARE_EXCLUSIVE for the session */
  exclusive?: boolean;
  json?: boolean;
}

/** Adds the shared options to a subcommand. */
export function addCardOptions(cmd: Cli): Cli {
  return cmd
    .option('--reader <name|index>', 'reader name fragment or index (default: $DRMB_READER, else the first reader with a card)')
    .option('--sim <image>', 'use an in-process simulated card loaded from this image file instead of a reader (the file is not changed)')
    .option('--exclusive', 'connect in exclusive mode: no other application uses the card until the command ends')
    .option('--trace', 'trace every APDU on stderr (PINs and keys redacted)')
    .option('--record <file>', 'write a transcript ("=> hex" / "<= hex", secrets redacted) that ReplayTransport replays')
    .option('--json', 'machine-readable output');
}

/** Yuan text of an amount in fen: 17100 -> "171.00". */
export function yuan(amountFen: number): string {
  const sign = amountFen < 0 ? '-' : '';
  const abs = Math.abs(amountFen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
