/**
 * @module The POS terminal's upload queue: an append-only JSON-lines file (mode 0600) of the payment
 * packets the terminal took, keyed by (card ID, counter), with their state (queued / uploaded), the
 * change packets it paid out, and the "problem card" records of debits whose answer was lost (the
 * terminal sequence numbers are the PSAM's). Reloads from disk after a restart; every append is fsynced.
 */
import { OperationalError } from '../../base/operational-error.js';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync, chmodSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '../../base/bytes.js';

/** A payment packet taken at this terminal (type PURCHASE), or change paid into a card (type CHANGE). */
export interface QueuedPacket {
  cardId: string;
  /** the payer card's counter for PURCHASE; the payee card's receive counter for CHANGE */
  counter: number;
  type: 'PURCHASE' | 'CHANGE';
  amountFen: number;
  /** the packet exactly as signed */
  packet: Uint8Array;
  /** PURCHASE: TAC and MAC2 of the card (the bank checks the TAC) */
  tac?: Uint8Array;
  mac2?: Uint8Array;
  /** CHANGE: the payee card's signed receipt */
  receipt?: Uint8Array;
  terminalSequence: number;
  state: 'queued' | 'uploaded';
  /** true when taken from GET TRANSACTION PROVE after a lost answer */
  recovered?: boolean;
}

/**
 * A debit the terminal sent (or was about to send) whose answer it has not yet stored: written before
 * DEBIT FOR PURCHASE goes out, cleared once the outcome is known. Everything needed to verify the
 * card's stored response later (MAC2 needs the card random).
 */
export interface ProblemCard {
  cardId: string;
  counter: number;
  amountFen: number;
  terminalSequence: number;
  cardRandom: Uint8Array;
  unpredictableNumber: Uint8Array;
  payeeIdentity: string;
  date: string;
  time: string;
}

/** A change packet built for a card and not yet known to be imported (kept to retry with the same packet). */
export interface PendingChange {
  cardId: string;
  /** the card's counter at INITIALIZE FOR RECEIVE: the import takes this counter */
  receiveCounter: number;
  amountFen: number;
  packet: Uint8Array;
  terminalSequence: number;
}

type Line =
  | { kind: 'packet'; cardId: string; counter: number; type: 'PURCHASE' | 'CHANGE'; amountFen: number; packet: string; tac?: string; mac2?: string; receipt?: string; terminalSequence: number; recovered?: boolean; at: string }
  | { kind: 'uploaded'; cardId: string; counter: number; type: 'PURCHASE' | 'CHANGE'; at: string }
  | { kind: 'problem'; cardId: string; counter: number; amountFen: number; terminalSequence: number; cardRandom: string; unpredictableNumber: string; payeeIdentity: string; date: string; time: string; at: string }
  | { kind: 'resolved'; cardId: string; counter: number; outcome: 'debited' | 'not-debited' | 'rejected'; reason?: string; at: string }
  | { kind: 'change'; cardId: string; receiveCounter: number; amountFen: number; packet: string; terminalSequence: number; at: string }
  | { kind: 'change-resolved'; cardId: string; receiveCounter: number; outcome: 'imported' | 'not-imported'; at: string }
  | { kind: 'sequence'; value: number; at: string }
  | { kind: 'conflict'; cardId: string; counter: number; type: 'PURCHASE' | 'CHANGE'; packet: string; at: string };

/**
 * The queue refuses: a line of its file is not JSON, a counter comes back with a different packet, no
 * such packet is queued, or the card already has an unresolved debit.
 */
export class UploadQueueError extends OperationalError {
  override name = 'UploadQueueError';
}

const key = (type: string, cardId: string, counter: number) => `${type}:${cardId}:${counter}`;

/** Queue file mode: payments are not secret but belong to the merchant only. */
export const UPLOAD_QUEUE_MODE = 0o600;

/**
 * The terminal's durable queue of payment and change packets, and of debits whose answer was lost, in
 * one JSON-lines file reloaded after a restart.
 */
export class UploadQueue {
  private readonly packets = new Map<string, QueuedPacket>();
  private readonly problems = new Map<string, ProblemCard>();
  private readonly changes = new Map<string, PendingChange>();
  private readonly conflicts: { cardId: string; counter: number; type: 'PURCHASE' | 'CHANGE'; packet: Uint8Array }[] = [];

  /** Opens (creating with mode 0600) the queue file and replays it. Throws UploadQueueError on a corrupt line other than a torn last line. */
  constructor(readonly path: string) {
    if (!existsSync(path)) {
      closeSync(openSync(path, 'a', UPLOAD_QUEUE_MODE));
      chmodSync(path, UPLOAD_QUEUE_MODE);
    }
    this.reload();
  }

  /** Re-reads the file from disk (what a restarted terminal sees). */
  reload(): void {
    this.packets.clear();
    this.problems.clear();
    this.changes.clear();
    this.conflicts.length = 0;
    const lines = readFileSync(this.path, 'utf8').split('\n');
    lines.forEach((text, i) => {
      if (!text.trim()) return;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        // A line cut by a power loss while appending can only be the last one; it was never acted on.
        if (i >= lines.length - 2) return;
        throw new UploadQueueError(`${this.path}: line ${i + 1} is not JSON`);
      }
      this.apply(line);
    });
  }

  private apply(l: Line): void {
    switch (l.kind) {
      case 'packet': {
        const k = key(l.type, l.cardId, l.counter);
        if (this.packets.has(k)) return;
        this.packets.set(k, {
          cardId: l.cardId,
          counter: l.counter,
          type: l.type,
          amountFen: l.amountFen,
          packet: hexToBytes(l.packet),
          tac: l.tac === undefined ? undefined : hexToBytes(l.tac),
          mac2: l.mac2 === undefined ? undefined : hexToBytes(l.mac2),
          receipt: l.receipt === undefined ? undefined : hexToBytes(l.receipt),
          terminalSequence: l.terminalSequence,
          state: 'queued',
          ...(l.recovered ? { recovered: true } : {}),
        });
        return;
      }
      case 'uploaded': {
        const p = this.packets.get(key(l.type, l.cardId, l.counter));
        if (p) p.state = 'uploaded';
        return;
      }
      case 'problem':
        this.problems.set(l.cardId, {
          cardId: l.cardId,
          counter: l.counter,
          amountFen: l.amountFen,
          terminalSequence: l.terminalSequence,
          cardRandom: hexToBytes(l.cardRandom),
          unpredictableNumber: hexToBytes(l.unpredictableNumber),
          payeeIdentity: l.payeeIdentity,
          date: l.date,
          time: l.time,
        });
        return;
      case 'resolved': {
        const p = this.problems.get(l.cardId);
        if (p && p.counter === l.counter) this.problems.delete(l.cardId);
        return;
      }
      case 'change':
        this.changes.set(l.cardId, { cardId: l.cardId, receiveCounter: l.receiveCounter, amountFen: l.amountFen, packet: hexToBytes(l.packet), terminalSequence: l.terminalSequence });
        return;
      case 'change-resolved': {
        const c = this.changes.get(l.cardId);
        if (c && c.receiveCounter === l.receiveCounter) this.changes.delete(l.cardId);
        return;
      }
      case 'sequence':
        // Carries no packet state: the terminal sequence number is the PSAM's.
        return;
      case 'conflict':
        this.conflicts.push({ cardId: l.cardId, counter: l.counter, type: l.type, packet: hexToBytes(l.packet) });
        return;
    }
  }

  /** Appends one line and fsyncs before applying it in memory: what is acted on is on disk. */
  private append(l: Line): void {
    const fd = openSync(this.path, 'a', UPLOAD_QUEUE_MODE);
    try {
      writeSync(fd, `${JSON.stringify(l)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.apply(l);
  }

  /**
   * Queues a packet; idempotent on (type, card ID, counter): a packet already queued is not added
   * again (returns false). Two different packets for one (card ID, counter) are kept apart as a
   * conflict: the second packet is kept as evidence (conflicts()) and UploadQueueError is thrown (a
   * card signing two packets with one counter is double spending, e.g. a restored card image).
   */
  add(p: Omit<QueuedPacket, 'state'>): boolean {
    const existing = this.packets.get(key(p.type, p.cardId, p.counter));
    if (existing) {
      if (bytesToHex(existing.packet) !== bytesToHex(p.packet)) {
        this.append({ kind: 'conflict', cardId: p.cardId, counter: p.counter, type: p.type, packet: bytesToHex(p.packet), at: new Date().toISOString() });
        throw new UploadQueueError(`card ${p.cardId} counter ${p.counter}: a different packet is already queued (counter reused: kept as evidence)`);
      }
      return false;
    }
    const hex = (b?: Uint8Array) => (b === undefined ? undefined : bytesToHex(b));
    this.append({
      kind: 'packet',
      cardId: p.cardId,
      counter: p.counter,
      type: p.type,
      amountFen: p.amountFen,
      packet: bytesToHex(p.packet),
      tac: hex(p.tac),
      mac2: hex(p.mac2),
      receipt: hex(p.receipt),
      terminalSequence: p.terminalSequence,
      ...(p.recovered ? { recovered: true } : {}),
      at: new Date().toISOString(),
    });
    return true;
  }

  /** Packets not yet uploaded, in the order taken. */
  pending(): QueuedPacket[] {
    return [...this.packets.values()].filter((p) => p.state === 'queued');
  }

  /** Second packets signed with a (card ID, counter) already queued: double-spending evidence, with the first in all(). */
  conflictingPackets(): { cardId: string; counter: number; type: 'PURCHASE' | 'CHANGE'; packet: Uint8Array }[] {
    return [...this.conflicts];
  }

  /** Every packet, uploaded or not. */
  all(): QueuedPacket[] {
    return [...this.packets.values()];
  }

  /** Marks a packet uploaded (the acquirer acknowledged it); idempotent; throws for an unknown packet. */
  markUploaded(cardId: string, counter: number, type: 'PURCHASE' | 'CHANGE' = 'PURCHASE'): void {
    const p = this.packets.get(key(type, cardId, counter));
    if (!p) throw new UploadQueueError(`no ${type} packet of card ${cardId} counter ${counter}`);
    if (p.state === 'uploaded') return;
    this.append({ kind: 'uploaded', cardId, counter, type, at: new Date().toISOString() });
  }

  /** Records a debit about to be sent (see ProblemCard). One per card at a time. */
  recordProblem(p: ProblemCard): void {
    const open = this.problems.get(p.cardId);
    if (open) throw new UploadQueueError(`card ${p.cardId} already has an unresolved debit (counter ${open.counter})`);
    this.append({
      kind: 'problem',
      cardId: p.cardId,
      counter: p.counter,
      amountFen: p.amountFen,
      terminalSequence: p.terminalSequence,
      cardRandom: bytesToHex(p.cardRandom),
      unpredictableNumber: bytesToHex(p.unpredictableNumber),
      payeeIdentity: p.payeeIdentity,
      date: p.date,
      time: p.time,
      at: new Date().toISOString(),
    });
  }

  /** The unresolved debit of a card, if any. */
  problem(cardId: string): ProblemCard | undefined {
    return this.problems.get(cardId);
  }

  /** Every unresolved debit. */
  problemCards(): ProblemCard[] {
    return [...this.problems.values()];
  }

  /** Clears a card's unresolved debit with its outcome. */
  resolveProblem(cardId: string, counter: number, outcome: 'debited' | 'not-debited' | 'rejected', reason?: string): void {
    this.append({ kind: 'resolved', cardId, counter, outcome, ...(reason ? { reason } : {}), at: new Date().toISOString() });
  }

  /** Records a change packet before IMPORT COINS is sent, so that a retry sends the same packet. */
  recordChange(c: PendingChange): void {
    this.append({ kind: 'change', cardId: c.cardId, receiveCounter: c.receiveCounter, amountFen: c.amountFen, packet: bytesToHex(c.packet), terminalSequence: c.terminalSequence, at: new Date().toISOString() });
  }

  /** The change packet of a card whose import is not known to have happened. */
  pendingChange(cardId: string): PendingChange | undefined {
    return this.changes.get(cardId);
  }

  resolveChange(cardId: string, receiveCounter: number, outcome: 'imported' | 'not-imported'): void {
    this.append({ kind: 'change-resolved', cardId, receiveCounter, outcome, at: new Date().toISOString() });
  }
}
