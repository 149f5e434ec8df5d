/**
 * @module exportToBank: the card pays coins to a bank's own SM9 identity at its counter (a card return,
 * a coin renewal): INITIALIZE FOR TRANSFER (or RENEWAL) and EXPORT COINS under the value journal, the
 * packet written to its file, then the intent closed. A run killed between the card's commit and the
 * file is finished from GET TRANSACTION PROVE by the journal (cli/card/recover.ts).
 */
import { randomBytes } from 'node:crypto';
import { NO_WITHDRAWAL_CODE } from '../../applet-spec/value-formats.js';
import type { DrmbCard } from '../../host/drmb-card.js';
import { journalledTransfer } from '../../host/journalled-transfer.js';
import type { ValueIntent, ValueJournal } from '../../host/value-journal.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { testKillPoint } from '../test-kill-point.js';

/** One export to a bank: the card, the amount, the bank's identity, the packet file, and for a renewal the date. */
export interface BankExport {
  cardId: string;
  amountFen: number;
  bankIdentity: string;
  packetFile: string;
  /** a renewal: only the coins expiring before this date (YYYYMMDD) */
  expiringBefore?: string;
  /** what the journal keeps to finish it (no secrets) */
  detail: ValueIntent['detail'];
}

/**
 * Exports and writes the packet durably; returns the card's counter of the export. A refusal of the
 * card (StatusWordError) moved nothing and propagates; so does a lost card, its intent left open.
 */
export async function exportToBank(card: DrmbCard, journal: ValueJournal, x: BankExport): Promise<number> {
  const now = new Date().toISOString();
  const t = await journalledTransfer(card, journal, {
    cardId: x.cardId,
    amountFen: x.amountFen,
    payeeIdentity: x.bankIdentity,
    // the bank's counter takes no INITIALIZE FOR RECEIVE: its own nonce
    payeeNonce: randomBytes(8),
    withdrawalCode: NO_WITHDRAWAL_CODE,
    date: now.slice(0, 10).replace(/-/g, ''),
    time: now.slice(11, 19).replace(/:/g, ''),
    packetFile: x.packetFile,
    ...(x.expiringBefore !== undefined ? { expiringBefore: x.expiringBefore } : {}),
    detail: x.detail,
  });
  testKillPoint('after-export');
  writeFileAtomic(x.packetFile, t.packetBytes);
  journal.close(t.intent, 'delivered', `packet in ${x.packetFile}`);
  testKillPoint('after-packet');
  return t.counter;
}
