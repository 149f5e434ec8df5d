/** @module A peer-payment (or renewal) export under the value journal: INITIALIZE FOR TRANSFER (or RENEWAL), the intent written with the counter it answered, then EXPORT COINS. */
import type { ExportPacket } from '../applet-spec/value-formats.js';
import type { DrmbCard } from './drmb-card.js';
import { StatusWordError } from './errors.js';
import { closeIfNeverCommitted } from './finish-intent.js';
import type { ValueIntent, ValueJournal } from './value-journal.js';

/**
 * What journalledTransfer needs: the card ID, amount, payee identity and nonce, withdrawal code, date
 * and time, and the file the packet goes to.
 */
export interface JournalledTransferRequest {
  /** the selected card's ID (from SELECT) */
  cardId: string;
  amountFen: number;
  payeeIdentity: string;
  payeeNonce: Uint8Array;
  withdrawalCode: string;
  date: string;
  time: string;
  /** where the caller will write the packet; recorded as the intent's destination */
  packetFile: string;
  detail?: ValueIntent['detail'];
  /** a renewal (INITIALIZE FOR RENEWAL): only coins expiring before this date (YYYYMMDD) leave, withdrawalCode unused */
  expiringBefore?: string;
}

/**
 * A transfer the card committed under an open intent: the intent to close, the counter and the
 * exported packet.
 */
export interface JournalledTransfer {
  /** still open: the caller closes it once the packet is durable in packetFile */
  intent: ValueIntent;
  counter: number;
  packet: ExportPacket;
  /** the packet exactly as the card sent it, which GET TRANSACTION PROVE answers again byte for byte */
  packetBytes: Uint8Array;
}

/**
 * DrmbCard.transfer with the journal intent between its two commands: the intent needs the counter
 * INITIALIZE FOR TRANSFER answers, and must be durable before EXPORT COINS commits. A status word
 * refusing EXPORT COINS closes the intent as not committed once GET TRANSACTION PROVE confirms it; a
 * lost card leaves it open for finishIntent. Security: PIN above the card's threshold, as DrmbCard.transfer.
 */
export async function journalledTransfer(card: DrmbCard, journal: ValueJournal, r: JournalledTransferRequest): Promise<JournalledTransfer> {
  let intent: ValueIntent | undefined;
  try {
    const record = ({ counter }: { counter: number }) => {
      intent = journal.open({ cardId: r.cardId, type: 'TRANSFER', counter, amountFen: r.amountFen, destination: r.packetFile, detail: r.detail });
    };
    const when = { date: r.date, time: r.time };
    const t =
      r.expiringBefore === undefined
        ? await card.transfer(r.amountFen, r.payeeIdentity, r.payeeNonce, r.withdrawalCode, when, record)
        : await card.renewal(r.amountFen, r.expiringBefore, r.payeeIdentity, r.payeeNonce, when, record);
    return { intent: intent!, ...t };
  } catch (e) {
    if (intent && e instanceof StatusWordError) await closeIfNeverCommitted(card, journal, intent);
    throw e;
  }
}
