/** @module `drmb card log`: the transaction log (READ RECORD of the cyclic log file, SFI 18; most recent first). */
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import type { LogRecord } from '../../applet-spec/value-formats.js';
import { DrmbCard } from '../../host/drmb-card.js';
import type { Transport } from '../../host/transport.js';
import { emit } from '../output.js';
import { withCard } from '../open-card.js';
import type { CardOptions } from '../options.js';
import { addCardOptions, CARD_IMAGE, yuan } from './connect.js';

export interface LogReport {
  cardId?: string;
  records: LogRecord[];
}

/** SELECT, then the log records until 6A83. Security: none. */
export async function collectLog(t: Transport): Promise<LogReport> {
  const card = new DrmbCard(t);
  const info = await card.select();
  const records = await card.readLog();
  return { ...(info.cardId !== undefined ? { cardId: info.cardId } : {}), records };
}

/** One line per record: counter, type, amount, balance after, date and time, counterparty. */
export function formatLog(r: LogReport): string {
  if (!r.records.length) return 'no transactions';
  const head = 'counter  type      amount      balance     date      time    counterparty';
  const rows = r.records.map(
    (x) =>
      `${String(x.counter).padStart(7)}  ${x.type.padEnd(8)}  ${yuan(x.amountFen).padStart(10)}  ${yuan(x.balanceAfterFen).padStart(10)}  ${x.date}  ${x.time}  ${hex(x.counterparty)}`,
  );
  return [head, ...rows].join('\n');
}

export function registerLog(card: Cli): void {
  addCardOptions(card.command('log').description('show the transaction log, most recent first')).action(async (opts: CardOptions) => {
    emit(await withCard(opts, { image: CARD_IMAGE }, collectLog), !!opts.json, formatLog);
  });
}
