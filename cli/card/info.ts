/** @module `drmb card info`: SELECT of the D-RMB applet, card ID, state, label, balance and coins when issued, PIN tries (GET BALANCE, GET DATA DF20, 9F17). */
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import type { AppState } from '../../applet-spec/lifecycle.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError } from '../../host/errors.js';
import type { Transport } from '../../host/transport.js';
import { emit } from '../output.js';
import { withCard } from '../open-card.js';
import type { CardOptions } from '../options.js';
import { addCardOptions, CARD_IMAGE, yuan } from './connect.js';

export interface CardInfoReport {
  /** the reader or simulated card */
  source: string;
  atr: Uint8Array;
  aid: Uint8Array;
  /** absent while the card is BLANK */
  cardId?: string;
  state: AppState;
  label?: string;
  /** when ISSUED or LOCKED */
  balanceFen?: number;
  /** the coins by denomination (GET DATA DF20), when ISSUED or LOCKED */
  coins?: { denominationFen: number; count: number }[];
  /** when the card has a PIN (GET DATA 9F17) */
  pinTriesLeft?: number;
}

/**
 * Reads what `info` shows. Security: none (SELECT, GET BALANCE and GET DATA need no PIN); SELECT
 * resets the applet's PIN and session state. Status words other than the expected refusals throw.
 */
export async function collectInfo(t: Transport, source: string, atr: Uint8Array): Promise<CardInfoReport> {
  const card = new DrmbCard(t);
  const info = await card.select();
  const report: CardInfoReport = { source, atr, aid: info.aid, state: info.state };
  if (info.cardId !== undefined) report.cardId = info.cardId;
  if (info.label !== undefined) report.label = info.label;
  if (info.state === 'ISSUED' || info.state === 'LOCKED') {
    report.balanceFen = await card.balance();
    report.coins = (await card.getData('coinSummary')) as { denominationFen: number; count: number }[];
  }
  try {
    report.pinTriesLeft = await card.pinTriesLeft();
  } catch (e) {
    // no PIN yet (BLANK, PREPARED) or not readable in this state
    if (!(e instanceof StatusWordError)) throw e;
  }
  return report;
}

export function formatInfo(r: CardInfoReport): string {
  const lines = [
    `source      ${r.source}`,
    `ATR         ${hex(r.atr)}`,
    `AID         ${hex(r.aid)}${r.label ? ` (${r.label})` : ''}`,
    `card ID     ${r.cardId ?? '(none yet)'}`,
    `state       ${r.state}`,
  ];
  if (r.balanceFen !== undefined) lines.push(`balance     ${yuan(r.balanceFen)} yuan`);
  if (r.coins?.length) lines.push(`coins       ${r.coins.map((g) => `${g.count} x ${yuan(g.denominationFen)}`).join(', ')}`);
  if (r.pinTriesLeft !== undefined) lines.push(`PIN tries   ${r.pinTriesLeft}`);
  return lines.join('\n');
}

export function registerInfo(card: Cli): void {
  addCardOptions(card.command('info').description('select the D-RMB applet and show card ID, state, label, balance, coins and PIN tries')).action(
    async (opts: CardOptions) => {
      const report = await withCard(opts, { image: CARD_IMAGE }, (t, conn) => collectInfo(t, conn.source, conn.atr));
      emit(report, !!opts.json, formatInfo);
    },
  );
}
