/**
 * @module A card in a worker thread of its own behind the host's Transport: each APDU goes to the
 * worker by postMessage and its response comes back, so that several (simulated) cards compute on
 * several cores while the host's thread only talks to them. The worker module answers the card worker
 * protocol below; the simulator's is `simulatedCardWorker` (simulator/card-worker.ts). The worker can
 * take the next card (insert), give its image, and save it when the transport closes.
 */
import { TransportError } from './errors.js';
import type { Transport } from './transport.js';
import { WorkerPool, WorkerTaskError } from '../io/worker-pool.js';

/** One request to a card worker: put in the card of `source`, one APDU, the card's image, save it. */
export type CardWorkerTask<S> = { kind: 'insert'; source: S } | { kind: 'transmit'; command: Uint8Array } | { kind: 'image' } | { kind: 'save'; path: string };

/** A card worker's answer: the ATR of an inserted card, a response with the ms the card spent on it, or an image. */
export type CardWorkerAnswer = { atr: Uint8Array } | { response: Uint8Array; cardMs: number } | { image: Uint8Array } | null;

/** A Transport to a simulated card running in its own worker thread. */
export interface WorkerCardTransport extends Transport {
  /** the answer to reset of the card now in the worker */
  readonly atr: Uint8Array;
  /** milliseconds the cards of this worker spent inside transmit so far (the card's CPU time) */
  readonly cardMs: number;
  /** APDUs the cards of this worker answered so far */
  readonly apdus: number;
  /** Puts another card in the worker in place of the one there (the next card into the same reader). */
  insert(source: unknown): Promise<void>;
  /** The image of the card now in the worker (persistent memory only). */
  image(): Promise<Uint8Array>;
  /** Saves the card's image to `saveTo` when it was given, then stops the worker; transmit after close rejects. */
  close(): Promise<void>;
}

/** How workerCardTransport names the card and whether close saves it. */
export interface WorkerCardOptions {
  /** for messages and traces (default "worker card") */
  description?: string;
  /** the image file close() writes the card to (atomically), e.g. the file it was loaded from */
  saveTo?: string;
}

/**
 * Starts a worker thread of the card worker module `worker` (the simulator's: `simulatedCardWorker`)
 * holding the card of `source`, and returns a Transport to it. A card the worker cannot make (a
 * damaged image) rejects with the worker's message; a card that throws while answering (a simulated
 * power cut), or a worker that stops, rejects transmit with TransportError('removed'), as a pulled
 * card would.
 */
export async function workerCardTransport<S>(worker: URL, source: S, options: WorkerCardOptions = {}): Promise<WorkerCardTransport> {
  const description = options.description ?? 'worker card';
  const pool = new WorkerPool<CardWorkerTask<S>, CardWorkerAnswer>(worker, { size: 1 });
  let atr: Uint8Array = new Uint8Array(0);
  let cardMs = 0;
  let apdus = 0;
  let closed = false;
  const insert = async (s: unknown) => {
    try {
      atr = ((await pool.run({ kind: 'insert', source: s as S })) as { atr: Uint8Array }).atr;
    } catch (e) {
      throw e instanceof WorkerTaskError ? new Error(e.message) : e;
    }
  };
  try {
    await insert(source);
  } catch (e) {
    await pool.close();
    throw e;
  }
  return {
    description,
    get atr() {
      return atr;
    },
    get cardMs() {
      return cardMs;
    },
    get apdus() {
      return apdus;
    },
    insert,
    async transmit(command: Uint8Array): Promise<Uint8Array> {
      if (closed) throw new TransportError(`${description} is closed`, undefined, 'closed');
      let answer: { response: Uint8Array; cardMs: number };
      try {
        answer = (await pool.run({ kind: 'transmit', command })) as { response: Uint8Array; cardMs: number };
      } catch (e) {
        throw new TransportError(`${description}: card lost (${(e as Error).message})`, e, 'removed');
      }
      cardMs += answer.cardMs;
      apdus++;
      return answer.response;
    },
    async image(): Promise<Uint8Array> {
      return ((await pool.run({ kind: 'image' })) as { image: Uint8Array }).image;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        if (options.saveTo) await pool.run({ kind: 'save', path: options.saveTo });
      } finally {
        await pool.close();
      }
    },
  };
}
