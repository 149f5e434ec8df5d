/** @module Finishing an open value intent from the card's own GET TRANSACTION PROVE: the committed response is delivered where the intent says and the intent closed, or it is closed as never committed. */
import { OperationalError } from '../base/operational-error.js';
import { SW } from '../applet-spec/status-words.js';
import { exportPacketCoder } from '../applet-spec/value-formats.js';
import { equalBytes } from '../base/bytes.js';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { whyNotWritable, writeFileAtomic } from '../io/atomic-file.js';
import type { DrmbCard } from './drmb-card.js';
import { StatusWordError } from './errors.js';
import type { ClosedIntent, ValueIntent, ValueJournal } from './value-journal.js';

/** A committed response could not be delivered; the intent stays open. The message says why. */
export class UndeliverableError extends OperationalError {
  override readonly name = 'UndeliverableError';
}

/** Where a delivered result went, and one line for the holder. */
export interface Delivery {
  where: string;
  note: string;
}

/** Delivers the card's stored response of an intent; throws UndeliverableError when it cannot. */
export type Deliver = (intent: ValueIntent, storedResponse: Uint8Array) => Delivery | Promise<Delivery>;

/**
 * How finishIntent ended an open intent: the result delivered (and where), never committed by the
 * card, its proof gone from the card, or not deliverable yet (the intent stays open).
 */
export type FinishResult =
  | { result: 'delivered'; closed: ClosedIntent; where: string }
  /** 9406: the card never committed the command: no value moved */
  | { result: 'not-committed'; closed: ClosedIntent }
  /** 6A83: the proof is older than the card keeps; what the command did cannot be read back */
  | { result: 'proof-gone'; closed: ClosedIntent }
  | { result: 'undeliverable'; intent: ValueIntent; reason: string };

/**
 * Asks the card for the stored response of the intent's (type, counter) and ends the intent by it.
 * The card must be the intent's card, selected. Throws TransportError when the card is lost (the
 * intent stays open). Security: none (GET TRANSACTION PROVE is free; its answer is what the card
 * already gave once).
 */
export async function finishIntent(card: DrmbCard, journal: ValueJournal, intent: ValueIntent, deliver: Deliver): Promise<FinishResult> {
  let proof: Uint8Array | undefined;
  try {
    proof = await card.transactionProof(intent.type, intent.counter);
  } catch (e) {
    if (e instanceof StatusWordError && e.sw === SW.RECORD_NOT_FOUND) {
      const note = `the card no longer keeps the proof of ${intent.type} counter ${intent.counter} (6A83): whether it moved ${yuanOf(intent.amountFen)} cannot be read back from the card`;
      return { result: 'proof-gone', closed: journal.close(intent, 'proof-gone', note) };
    }
    throw e;
  }
  if (proof === undefined) {
    const note = `${intent.command} of counter ${intent.counter} never committed (9406): no value moved`;
    return { result: 'not-committed', closed: journal.close(intent, 'not-committed', note) };
  }
  let delivery: Delivery;
  try {
    delivery = await deliver(intent, proof);
  } catch (e) {
    if (e instanceof UndeliverableError) return { result: 'undeliverable', intent, reason: e.message };
    throw e;
  }
  return { result: 'delivered', closed: journal.close(intent, 'delivered', delivery.note), where: delivery.where };
}

/**
 * After the card refused the committing command: a refused command changes nothing (spec invariant),
 * but the intent is closed on the card's own word (9406) only; when the card cannot answer now the
 * intent stays open for the next use of the card.
 */
export async function closeIfNeverCommitted(card: DrmbCard, journal: ValueJournal, intent: ValueIntent): Promise<void> {
  let proof: Uint8Array | undefined;
  try {
    proof = await card.transactionProof(intent.type, intent.counter);
  } catch {
    return;
  }
  if (proof === undefined) journal.close(intent, 'not-committed', `${intent.command} refused by the card: no value moved`);
}

/**
 * Delivery of a TRANSFER's stored response (the packet, byte for byte) to a file: the intent's
 * destination, or `out`. A file already holding these bytes counts as delivered; a file holding
 * anything else is left alone (it may be another payment's packet).
 */
export function packetFileDelivery(out?: string): Deliver {
  return (intent, proof) => {
    if (intent.type !== 'TRANSFER') throw new UndeliverableError(`a ${intent.type} intent is not delivered as a packet file`);
    const path = resolve(out ?? intent.destination);
    let header;
    try {
      header = exportPacketCoder.decode(proof).header;
    } catch (e) {
      throw new UndeliverableError(`the card's proof of counter ${intent.counter} is not a packet (${(e as Error).message})`);
    }
    if (header.payerCardId !== intent.cardId || header.payerCounter !== intent.counter) {
      throw new UndeliverableError(`the card's proof is the packet of card ${header.payerCardId} counter ${header.payerCounter}, not of this intent`);
    }
    const existing = readIfFile(path);
    if (existing) {
      if (equalBytes(existing, proof)) return { where: path, note: `packet in ${path}` };
      throw new UndeliverableError(`${path} already holds other data (left as it is)`);
    }
    const why = whyNotWritable(path);
    if (why) throw new UndeliverableError(why);
    try {
      writeFileAtomic(path, proof);
    } catch (e) {
      throw new UndeliverableError(`cannot write ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return { where: path, note: `packet in ${path}` };
  };
}

function readIfFile(path: string): Uint8Array | undefined {
  try {
    return statSync(path).isFile() ? new Uint8Array(readFileSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

function yuanOf(amountFen: number): string {
  return `${(amountFen / 100).toFixed(2)} yuan`;
}
