/**
 * @module Batch personalization: one worker per card slot (a reader, or a simulated card image), cards
 * processed as they come, progress reported as it happens, and a summary at the end. A card that
 * fails, or a slot that cannot give its card, is recorded and the batch goes on; the manifest lets an
 * interrupted batch resume. The host's per-card computation may run in a pool of worker threads that
 * the batch starts and stops, so that the cards of several slots keep every core busy.
 */
import type { Transport } from '../host/transport.js';
import type { PersoResult } from './card-prep.js';
import { PersoCryptoPool } from './perso-crypto-pool.js';

/** Where cards come from: a reader that cards are inserted into, or a fixed set of simulated cards. */
export interface CardSlot {
  readonly name: string;
  /** the next card to work on, or undefined when the slot has no more (or the batch is stopping); a throw is recorded as a failed item and ends the slot */
  nextCard(signal: AbortSignal): Promise<Transport | undefined>;
  /** done with the card (save a simulated card, close a reader connection, wait for removal) */
  release(card: Transport): Promise<void>;
}

/** The outcome of one card of a batch: its slot, card ID, result, APDUs, time and error. */
export interface BatchItem {
  slot: string;
  cardId?: string;
  result: 'done' | 'skipped' | 'failed';
  apdus?: number;
  ms: number;
  error?: string;
}

/** Counts of a batch so far (done, skipped, failed) and its throughput. */
export interface BatchProgress {
  done: number;
  skipped: number;
  failed: number;
  /** cards per minute since the start */
  ratePerMinute: number;
  elapsedMs: number;
}

/** A finished batch: its counts, every card's item, and the number of slots it ran on. */
export interface BatchSummary extends BatchProgress {
  items: BatchItem[];
  slots: number;
}

/** How runBatch runs: a limit on cards, a signal to stop, a progress callback per card, and where the host's crypto runs. */
export interface BatchOptions {
  /** stop taking new cards after this many (all slots together) */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress, item: BatchItem) => void;
  /**
   * worker threads of a PersoCryptoPool that the batch starts, hands each job (for its PersoContext's
   * `crypto`) and stops at the end; 0 or absent: none, the jobs compute in this thread
   */
  cryptoWorkers?: number;
}

/** One card's work in a batch: the card, its slot's name, and the batch's crypto pool when it has one. */
export type BatchJob = (card: Transport, slot: string, crypto: PersoCryptoPool | undefined) => Promise<PersoResult>;

/**
 * Runs `job` on every card of every slot, one worker per slot, in parallel. A job that fails (its
 * crypto worker too) is one failed item of the summary; the batch goes on, and stops its pool at the end.
 */
export async function runBatch(slots: readonly CardSlot[], job: BatchJob, options: BatchOptions = {}): Promise<BatchSummary> {
  const crypto = options.cryptoWorkers ? new PersoCryptoPool({ size: options.cryptoWorkers }) : undefined;
  try {
    return await runSlots(slots, (card, slot) => job(card, slot, crypto), options);
  } finally {
    await crypto?.close();
  }
}

async function runSlots(slots: readonly CardSlot[], job: (card: Transport, slot: string) => Promise<PersoResult>, options: BatchOptions): Promise<BatchSummary> {
  const t0 = performance.now();
  const items: BatchItem[] = [];
  const stop = new AbortController();
  options.signal?.addEventListener('abort', () => stop.abort(options.signal?.reason), { once: true });
  let taken = 0;
  const progress = (): BatchProgress => {
    const elapsedMs = performance.now() - t0;
    const count = (r: BatchItem['result']) => items.filter((i) => i.result === r).length;
    return { done: count('done'), skipped: count('skipped'), failed: count('failed'), elapsedMs, ratePerMinute: elapsedMs > 0 ? (items.length * 60_000) / elapsedMs : 0 };
  };
  const worker = async (slot: CardSlot) => {
    while (!stop.signal.aborted) {
      if (options.limit !== undefined && taken >= options.limit) return;
      let card: Transport | undefined;
      try {
        card = await slot.nextCard(stop.signal);
      } catch (e) {
        // A slot that cannot give its card (a damaged image, a reader gone) is recorded and stops; the others go on.
        items.push({ slot: slot.name, result: 'failed', ms: 0, error: (e as Error).message });
        options.onProgress?.(progress(), items[items.length - 1]);
        return;
      }
      if (!card) return;
      taken++;
      const started = performance.now();
      let item: BatchItem;
      try {
        const r = await job(card, slot.name);
        item = { slot: slot.name, cardId: r.cardId, result: r.result, apdus: r.apdus, ms: Math.round(performance.now() - started) };
      } catch (e) {
        item = { slot: slot.name, result: 'failed', ms: Math.round(performance.now() - started), error: (e as Error).message, cardId: (e as { cardId?: string }).cardId };
      }
      try {
        await slot.release(card);
      } catch (e) {
        item.error ??= `release: ${(e as Error).message}`;
      }
      items.push(item);
      options.onProgress?.(progress(), item);
      if (options.limit !== undefined && taken >= options.limit) stop.abort('limit reached');
    }
  };
  await Promise.all(slots.map(worker));
  return { ...progress(), items, slots: slots.length };
}

/** Summary table for people: one line per card, then the totals. */
export function formatBatch(s: BatchSummary): string {
  const rows = s.items.map((i) => `${(i.cardId ?? '?').padEnd(20)}  ${i.slot.padEnd(28).slice(0, 28)}  ${i.result.padEnd(7)}  ${String(i.apdus ?? '').padStart(5)}  ${String(i.ms).padStart(6)}  ${i.error ?? ''}`);
  return [
    `${'card ID'.padEnd(20)}  ${'slot'.padEnd(28)}  ${'result'.padEnd(7)}  APDUs      ms  error`,
    ...rows,
    '',
    `${s.done} done, ${s.skipped} skipped, ${s.failed} failed over ${s.slots} slot(s) in ${(s.elapsedMs / 1000).toFixed(1)} s (${s.ratePerMinute.toFixed(1)} cards/min)`,
  ].join('\n');
}

/** The failures of a batch in one line, for the error that ends it: "1 of 3 cards failed: simulated card b.json (card image ... is damaged)". */
export function batchFailures(s: BatchSummary): string {
  const failed = s.items.filter((i) => i.result === 'failed');
  return `${failed.length} of ${s.items.length} cards failed: ${failed.map((i) => `${i.cardId ?? i.slot} (${i.error ?? 'failed'})`).join('; ')}`;
}

/** Progress line for stderr. */
export function progressLine(p: BatchProgress): string {
  return `[batch] ${p.done} done, ${p.skipped} skipped, ${p.failed} failed, ${p.ratePerMinute.toFixed(1)} cards/min`;
}
