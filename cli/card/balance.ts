/**
 * @module `drmb card balance`: the card's balance (SELECT, then GET BALANCE; JR/T 0025 e-purse style,
 * in fen). With --central, also the wallet's two kinds of coin of the seed design: coins the registry
 * already records as this card's (loaded by its bank, or received and settled online), and coins
 * received offline whose payment the payee's bank has not settled yet. The registry is the one record
 * of ownership, so the mark follows every withdrawal, deposit and online payment without the card
 * storing it: the card lists its coins (READ RECORD, after VERIFY) and the registry says whose each is.
 */
import type { Command as Cli } from 'commander';
import { cardOwner } from '../../bank/registry.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { DrmbCard } from '../../host/drmb-card.js';
import type { Transport } from '../../host/transport.js';
import { centralUrlOf } from '../bank/registry-options.js';
import { emit } from '../output.js';
import { withCard } from '../open-card.js';
import { type CardOptions, pinOf, withPinFile } from '../options.js';
import { promptPin } from '../terminal-prompt.js';
import { addCardOptions, CARD_IMAGE, yuan } from './connect.js';

export interface BalanceReport {
  cardId?: string;
  balanceFen: number;
  /** the same in yuan, "171.00" */
  balance: string;
  /** with a registry to ask: the coins it records as this card's */
  registeredFen?: number;
  /** with a registry to ask: coins received offline, their payment not yet settled by the registry */
  unsettledFen?: number;
  coins?: { serial: string; denominationFen: number; registered: boolean }[];
}

/** What splitting the balance by kind of coin needs: the holder's PIN (to list the coins) and the registry's owners. */
export interface CoinKinds {
  pin: string;
  ownerOf: (serial: Uint8Array) => Promise<string | undefined>;
}

/**
 * SELECT then GET BALANCE; with `kinds`, VERIFY and READ RECORD of the coins, each asked of the
 * registry. Security: none for the balance; the PIN for the coin list. The card must be ISSUED or
 * LOCKED (else 6985, thrown).
 */
export async function collectBalance(t: Transport, kinds?: CoinKinds): Promise<BalanceReport> {
  const card = new DrmbCard(t);
  const info = await card.select();
  const balanceFen = await card.balance();
  const report: BalanceReport = { ...(info.cardId !== undefined ? { cardId: info.cardId } : {}), balanceFen, balance: yuan(balanceFen) };
  if (!kinds || info.cardId === undefined) return report;
  await card.verifyPin(kinds.pin);
  const own = cardOwner(info.cardId);
  const coins = [];
  for (const c of await card.listCoins()) {
    coins.push({ serial: Buffer.from(c.body.serial).toString('hex').toUpperCase(), denominationFen: c.body.denominationFen, registered: (await kinds.ownerOf(c.body.serial)) === own });
  }
  const registeredFen = coins.filter((c) => c.registered).reduce((s, c) => s + c.denominationFen, 0);
  return { ...report, registeredFen, unsettledFen: balanceFen - registeredFen, coins };
}

interface BalanceOptions extends CardOptions {
  central?: string;
  pinFile?: string;
}

function formatBalance(r: BalanceReport): string {
  if (r.registeredFen === undefined) return `${r.balance} yuan`;
  return [`${r.balance} yuan`, `  registered online   ${yuan(r.registeredFen)} yuan`, `  received offline    ${yuan(r.unsettledFen!)} yuan, not yet settled`].join('\n');
}

export function registerBalance(card: Cli): void {
  const cmd = addCardOptions(card.command('balance').description("show the balance of the card; with --central, split into coins registered online and coins received offline, not yet settled")).option(
    '--central <url>',
    "the registry service (drmb registry serve) to ask whose each coin is: the balance is split into registered and not yet settled",
  );
  withPinFile(cmd, 'with --central: the card lists its coins after VERIFY; without it, asked on the terminal').action(async (opts: BalanceOptions) => {
    let kinds: CoinKinds | undefined;
    if (opts.central !== undefined) {
      const registry = new RemoteRegistry(centralUrlOf(opts.central));
      const pin = pinOf(opts) ?? (await promptPin({ question: 'PIN: ', why: 'no PIN: the card lists its coins only after VERIFY; give --pin-file <file>, or run on a terminal to be asked' }));
      kinds = { pin, ownerOf: (s) => registry.ownerOf(s) };
    }
    emit(await withCard(opts, { image: CARD_IMAGE }, (t) => collectBalance(t, kinds)), !!opts.json, formatBalance);
  });
}
