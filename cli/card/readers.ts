/** @module `drmb card readers`: the PC/SC readers (PC/SC part 5 SCardListReaders), whether each holds a card, and its ATR. */
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { listReaders, type ReaderInfo } from '../../host/pcsc.js';
import { emit } from '../output.js';
import { withJson } from '../options.js';

/** Collects the reader list (TransportError('unavailable') without the binding or pcscd). */
export async function collectReaders(): Promise<ReaderInfo[]> {
  return listReaders();
}

/** One line per reader: index, name, card or not, ATR, and whether another application uses it. */
export function formatReaders(readers: readonly ReaderInfo[]): string {
  if (!readers.length) return 'no PC/SC readers';
  return readers
    .map((r) => {
      const use = r.exclusive ? ' (in exclusive use)' : r.inUse ? ' (in use)' : '';
      return `${String(r.index).padStart(2)}  ${r.name}  ${r.cardPresent ? `card ${r.atr ? hex(r.atr) : ''}`.trimEnd() : 'no card'}${use}`;
    })
    .join('\n');
}

export function registerReaders(card: Cli): void {
  withJson(
    card
      .command('readers')
      .description('list the PC/SC readers and whether each holds a card'),
  ).action(async (opts: { json?: boolean }) => {
    emit(await collectReaders(), !!opts.json, formatReaders);
  });
}
