/**
 * @module A multi-slot `drmb sim serve --slots N`: N simulated cards served from one process into N
 * consecutive vpcd ports (readers "Virtual PCD 00 00", "00 01", ...), each card with its vpcd
 * connection in a worker thread of its own (cli/sim/serve-slot-worker.ts). A batch over several
 * readers then starts one process for all its cards, and puts each next card in a slot with
 * `slot K load PATH`, instead of starting a process per card.
 *
 * Control lines are those of one slot (cli/sim/serve-control.ts), addressed with a `slot K ` prefix;
 * a line without one goes to slot 0, except `status` (every slot, one answer line) and `quit` (all).
 */
import { Worker } from 'node:worker_threads';
import { siblingModule, startWorker } from '../../io/worker-pool.js';
import { UsageError } from '../output.js';
import { openControlInputs, parseControlLine } from './serve-control.js';
import type { ServeOptions } from './serve.js';
import type { SlotWorkerMessage } from './serve-slot-worker.js';
import { VPCD_DEFAULT_PORT } from '../../simulator/vpcd-client.js';

/** Options of a multi-slot serve: those of one serve, an image per slot, and the number of slots. */
export interface ServeSlotsOptions extends Omit<ServeOptions, 'image'> {
  /** number of slots (cards), at least 1 */
  slots: number;
  /** the image file of each slot, by slot number; a slot without one gets a fresh card in memory */
  images?: readonly (string | undefined)[];
}

/** A running multi-slot serve. */
export interface ServeSlotsSession {
  readonly slots: number;
  /** resolves when every slot has stopped */
  readonly done: Promise<void>;
  /** carries out one control line (with or without `slot K `) and returns its answer line */
  control(line: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** How long a slot may take to stop before its worker is ended. */
const STOP_TIMEOUT_MS = 10_000;

/** Splits `slot K rest` into the slot and the rest; undefined slot when the line has no prefix. */
export function parseSlotPrefix(line: string): { slot?: number; rest: string } | string {
  const m = /^\s*slot\s+(\S+)\s*(.*)$/i.exec(line);
  if (!m) return { rest: line };
  if (!/^\d+$/.test(m[1])) return `slot needs a slot number, not "${m[1]}"`;
  if (!m[2].trim()) return `slot ${m[1]} needs a control line after it`;
  return { slot: Number(m[1]), rest: m[2] };
}

interface SlotHandle {
  worker: Worker;
  pending: Map<number, (answer: string | undefined) => void>;
  stopped: Promise<void>;
}

/**
 * Starts every slot (each in its worker, on port `port + K`) and resolves once all of them are
 * serving; a slot that cannot start (a damaged image) stops the others and throws UsageError naming it.
 */
export async function startServeSlots(options: ServeSlotsOptions): Promise<ServeSlotsSession> {
  const n = options.slots;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--slots must be a whole number >= 1, not "${n}"`);
  const basePort = options.port ?? VPCD_DEFAULT_PORT;
  if (basePort + n - 1 > 65535) throw new UsageError(`--slots ${n} from port ${basePort} goes past port 65535`);
  const say = (text: string): void => void process.stderr.write(`${text}\n`);
  const module = siblingModule(import.meta.url, 'serve-slot-worker');
  let nextId = 1;
  const slots: SlotHandle[] = [];
  const started: Promise<void>[] = [];
  for (let k = 0; k < n; k++) {
    const image = options.images?.[k];
    const worker = startWorker(module, {
      ...options,
      slots: undefined,
      images: undefined,
      image,
      port: basePort + k,
      control: 'none',
      controlSocket: undefined,
      signals: false,
    } satisfies ServeOptions & { slots: undefined; images: undefined });
    const pending = new Map<number, (answer: string | undefined) => void>();
    let onStart!: { resolve: () => void; reject: (e: Error) => void };
    started.push(new Promise<void>((resolve, reject) => (onStart = { resolve, reject })));
    const stopped = new Promise<void>((resolve) => {
      worker.on('message', (m: SlotWorkerMessage) => {
        if (m.type === 'started') onStart.resolve();
        else if (m.type === 'failed') onStart.reject(new UsageError(`slot ${k}${image ? ` (${image})` : ''}: ${m.message}`));
        else if (m.type === 'answer') {
          pending.get(m.id)?.(m.answer);
          pending.delete(m.id);
        } else if (m.type === 'done') void worker.terminate();
      });
      worker.on('error', (e) => {
        say(`drmb: slot ${k} failed: ${e.message}`);
        onStart.reject(new UsageError(`slot ${k}: ${e.message}`));
      });
      worker.on('exit', () => {
        for (const answer of pending.values()) answer(`error slot ${k} has stopped`);
        pending.clear();
        onStart.reject(new UsageError(`slot ${k} stopped before it started`));
        resolve();
      });
    });
    slots.push({ worker, pending, stopped });
  }

  const ask = (k: number, line: string): Promise<string | undefined> => {
    const slot = slots[k];
    const id = nextId++;
    return new Promise((resolve) => {
      slot.pending.set(id, resolve);
      slot.worker.postMessage({ id, line });
    });
  };

  let stopping: Promise<void> | undefined;
  const done = Promise.all(slots.map((s) => s.stopped)).then(() => {});
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await inputs?.close();
      await Promise.all(
        slots.map(async (s, k) => {
          const answered = ask(k, 'quit');
          const timer = setTimeout(() => void s.worker.terminate(), STOP_TIMEOUT_MS);
          await answered;
          await s.stopped;
          clearTimeout(timer);
        }),
      );
    })());

  const control = async (line: string): Promise<string | undefined> => {
    const addressed = parseSlotPrefix(line);
    if (typeof addressed === 'string') return `error ${addressed}`;
    if (addressed.slot !== undefined) {
      if (addressed.slot >= n) return `error no slot ${addressed.slot}: this serve has slots 0 to ${n - 1}`;
      const command = parseControlLine(addressed.rest);
      if (typeof command === 'object' && command.name === 'quit') return 'error quit stops every slot: send it without "slot K"';
      return ask(addressed.slot, addressed.rest);
    }
    const command = parseControlLine(line);
    if (typeof command === 'object' && command.name === 'quit') {
      void stop();
      return 'ok stopping';
    }
    if (typeof command === 'object' && command.name === 'status') {
      const answers = await Promise.all(slots.map((_, k) => ask(k, line)));
      const failed = answers.find((a) => a?.startsWith('error '));
      if (failed) return failed;
      return `ok ${answers.map((a, k) => `slot ${k}: ${a?.slice(3)}`).join('; ')}`;
    }
    return ask(0, line);
  };

  let inputs: Awaited<ReturnType<typeof openControlInputs>> | undefined;
  try {
    await Promise.all(started);
  } catch (e) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw e;
  }
  inputs = await openControlInputs(options, control, stop, say);
  say(`serving ${n} slots on vpcd ports ${basePort} to ${basePort + n - 1}; address a slot's control lines with "slot K "`);
  return { slots: n, done, control, stop };
}
