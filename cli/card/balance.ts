/** @module `drmb card balance`: the card's balance (SELECT, then GET BALANCE; JR/T 0025 e-purse style, in fen). */
import type { Command as Cli } from 'commander';
import { DrmbCard } from '../../host/drmb-card.js';
import type { Transport } from '../../host/transport.js';
import { emit } from '../output.js';
import { withCard } from '../open-card.js';
import type { CardOptions } from '../options.js';
import { addCardOptions, CARD_IMAGE, yuan } from './connect.js';

export interface BalanceReport {
  cardId?: string;
  balanceFen: number;
  /** the same in yuan, "171.00" */
  balance: string;
}

/** SELECT then GET BALANCE. Security: none; the card must be ISSUED or LOCKED (else 6985, thrown). */
export async function collectBalance(t: Transport): Promise<BalanceReport> {
  const card = new DrmbCard(t);
  const info = await card.select();
  const balanceFen = await card.balance();
  return { ...(info.cardId !== undefined ? { cardId: info.cardId } : {}), balanceFen, balance: yuan(balanceFen) };
}

export function registerBalance(card: Cli): void {
  addCardOptions(card.command('balance').description('show the balance of the card')).action(async (opts: CardOptions) => {
    emit(await withCard(opts, { image: CARD_IMAGE }, collectBalance), !!opts.json, (r) => `${r.balance} yuan`);
  });
}
