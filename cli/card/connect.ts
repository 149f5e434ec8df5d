/** @module `drmb card`: the options every card subcommand shares (--reader, --sim, --exclusive, --record, --trace, --json); the card commands only read, so a --sim image is never written. */
import type { Command as Cli } from 'commander';
import type { ImageSaving } from '../open-card.js';
import { withCardTarget, withJson, withRecord, withTrace } from '../options.js';

/** What `drmb card` commands do to a --sim image: nothing (recover reads proofs, it commits nothing). */
export const CARD_IMAGE: ImageSaving = 'read-only';

/** Adds the shared options to a subcommand. */
export function addCardOptions(cmd: Cli): Cli {
  return withJson(withRecord(withTrace(withCardTarget(cmd, { image: CARD_IMAGE, exclusive: true }))));
}

/** Yuan text of an amount in fen: 17100 -> "171.00". */
export function yuan(amountFen: number): string {
  const sign = amountFen < 0 ? '-' : '';
  const abs = Math.abs(amountFen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
