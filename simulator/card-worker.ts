/**
 * @module The simulator's card worker, for the host's workerCardTransport (host/worker-card-transport.ts,
 * whose protocol it answers; `simulatedCardWorker` is its URL): holds one SimulatedCard at a time, made from an image, an image file or manufacture options, and answers the
 * host's APDUs with the card's responses and the time the card took; its image on request.
 */
import { serveWorkerTasks } from '../io/worker-pool.js';
import type { CardFaultName } from './card-faults.js';
import { type ManufactureOptions, SimulatedCard } from './simulated-card.js';

/** The card a worker holds: from an image's bytes, from an image file, or a fresh one manufactured. */
export type WorkerCardSource = ({ image: Uint8Array } | { file: string } | { manufacture: ManufactureOptions }) & {
  /** a deliberately faulty variant (card-faults.ts) */
  fault?: CardFaultName;
  /** cut the card's power after this many persistent writes (PersistentStore.cutPowerAfterWrites), for torn-write tests */
  cutPowerAfterWrites?: number;
};

/** One request to the card's worker (the host's CardWorkerTask, written here as the simulator may not import the host). */
type CardWorkerTask = { kind: 'insert'; source: WorkerCardSource } | { kind: 'transmit'; command: Uint8Array } | { kind: 'image' } | { kind: 'save'; path: string };

/** The worker's answer: the ATR of an inserted card, a response with the ms the card spent on it, or an image. */
type CardWorkerAnswer = { atr: Uint8Array } | { response: Uint8Array; cardMs: number } | { image: Uint8Array } | null;

function cardOf(source: WorkerCardSource): SimulatedCard {
  const options = source.fault ? { fault: source.fault } : {};
  const card =
    'image' in source ? SimulatedCard.fromImage(source.image, options) : 'file' in source ? SimulatedCard.fromFile(source.file, options) : new SimulatedCard({ ...options, manufacture: source.manufacture });
  if (source.cutPowerAfterWrites !== undefined) card.store.cutPowerAfterWrites(source.cutPowerAfterWrites);
  return card;
}

serveWorkerTasks(
  () => ({ card: undefined as SimulatedCard | undefined }),
  (state, task: CardWorkerTask): CardWorkerAnswer => {
    if (task.kind === 'insert') {
      state.card = cardOf(task.source);
      return { atr: state.card.powerOn() };
    }
    const card = state.card;
    if (!card) throw new Error('no card in the worker');
    switch (task.kind) {
      case 'transmit': {
        const t0 = performance.now();
        const response = card.transmit(task.command);
        return { response, cardMs: performance.now() - t0 };
      }
      case 'image':
        return { image: card.toImage() };
      case 'save':
        card.saveToFile(task.path);
        return null;
    }
  },
);
