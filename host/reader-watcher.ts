/**
 * @module Reader and card events from PC/SC (SCardGetStatusChange, PC/SC part 5): reader attached or
 * detached, card inserted or removed, service down or up. Survives pcscd restarts (the context is
 * recreated with backoff) and an empty reader list.
 *
 * How: one loop per watcher, one context, one waitForChange at a time on it (the binding runs it on a
 * worker thread; two at once on one context are not supported). Each round lists the readers (with
 * their states), reports the differences from the previous round, then waits for a change on every
 * reader plus pcsc-lite's "\\?PnP?\Notification" pseudo-reader, which fires when a reader is added or
 * removed, so reader attach is seen as well as card events. The wait has a timeout (`pollMs`), after
 * which the list is compared again: a safety net for drivers that do not signal. When the service
 * goes away the wait rejects (SCARD_F_COMM_ERROR / SCARD_E_NO_SERVICE): the watcher reports
 * 'service-down' and the readers as detached, closes the context, and tries a new one with doubling
 * delays until pcscd answers again ('service-up', then the readers as attached).
 */
import { TransportError } from './errors.js';
import { contextReaders, isServiceGone, loadPcsc, type PcscContext, type PcscReaderState, readerInfo, type ReaderInfo } from './pcsc.js';

/** The kinds of change watchReaders reports. */
export type ReaderEventType = 'reader-attached' | 'reader-detached' | 'card-inserted' | 'card-removed' | 'service-down' | 'service-up';

/**
 * One change watchReaders reports: a reader or card came or went, or the PC/SC service went down or
 * came back.
 */
export interface ReaderEvent {
  type: ReaderEventType;
  /** the reader, for reader and card events */
  reader?: string;
  /** the card's ATR, for card-inserted */
  atr?: Uint8Array;
  /** why the service is considered down */
  error?: string;
}

/**
 * A running watch of the PC/SC readers: the readers as last seen, whether the service answers, and how
 * to stop.
 */
export interface ReaderWatcher {
  /** the readers as last seen (empty while the service is down) */
  readonly readers: readonly ReaderInfo[];
  /** true while pcscd answers; undefined before the first attempt */
  readonly serviceUp: boolean | undefined;
  /** stops watching: cancels the pending wait and closes the context; resolves when the loop has ended */
  stop(): Promise<void>;
}

/**
 * Timing of watchReaders: how often the reader list is compared, and the back-off after the service
 * goes away.
 */
export interface WatchOptions {
  /** longest wait before the reader list is compared again (default 1000 ms) */
  pollMs?: number;
  /** first delay before recreating a context after the service went away (default 100 ms), doubled per failure */
  retryInitialMs?: number;
  /** longest such delay (default 2000 ms) */
  retryMaxMs?: number;
}

/** pcsc-lite's pseudo reader whose state changes when a reader is added or removed. */
export const PNP_NOTIFICATION = '\\\\?PnP?\\Notification';

/**
 * The events that turn the reader list `before` into `after`, in order: for each reader gone, its card
 * removed then the reader detached; for each reader new, attached then its card inserted; for each
 * reader kept, its card removed or inserted (a different ATR counts as removal then insertion). Pure.
 */
export function diffReaders(before: readonly ReaderInfo[], after: readonly ReaderInfo[]): ReaderEvent[] {
  const events: ReaderEvent[] = [];
  const now = new Map(after.map((r) => [r.name, r]));
  const was = new Map(before.map((r) => [r.name, r]));
  for (const r of before) {
    if (now.has(r.name)) continue;
    if (r.cardPresent) events.push({ type: 'card-removed', reader: r.name });
    events.push({ type: 'reader-detached', reader: r.name });
  }
  for (const r of after) {
    const old = was.get(r.name);
    if (!old) {
      events.push({ type: 'reader-attached', reader: r.name });
      if (r.cardPresent) events.push(inserted(r));
      continue;
    }
    const swapped = old.cardPresent && r.cardPresent && !sameAtr(old.atr, r.atr);
    if ((old.cardPresent && !r.cardPresent) || swapped) events.push({ type: 'card-removed', reader: r.name });
    if ((!old.cardPresent && r.cardPresent) || swapped) events.push(inserted(r));
  }
  return events;
}

function inserted(r: ReaderInfo): ReaderEvent {
  return r.atr ? { type: 'card-inserted', reader: r.name, atr: r.atr } : { type: 'card-inserted', reader: r.name };
}

function sameAtr(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Starts watching. `onEvent` gets each event in order (exceptions it throws are ignored). The first
 * events describe the current situation: 'service-up' and one 'reader-attached' (and 'card-inserted')
 * per reader, or 'service-down'. Rejects with TransportError('unavailable') when the binding is not
 * installed; a missing pcscd is not an error here (the watcher waits for it).
 */
export async function watchReaders(onEvent: (event: ReaderEvent) => void, options: WatchOptions = {}): Promise<ReaderWatcher> {
  const binding = await loadPcsc();
  const pollMs = options.pollMs ?? 1000;
  const retryInitialMs = options.retryInitialMs ?? 100;
  const retryMaxMs = options.retryMaxMs ?? 2000;

  let known: ReaderInfo[] = [];
  let serviceUp: boolean | undefined;
  let stopped = false;
  let ctx: PcscContext | undefined;
  let sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  const emit = (e: ReaderEvent): void => {
    try {
      onEvent(e);
    } catch {
      // a listener's failure must not stop the watcher
    }
  };
  const update = (next: ReaderInfo[]): void => {
    const events = diffReaders(known, next);
    known = next;
    events.forEach(emit);
  };
  const markUp = (): void => {
    if (serviceUp !== true) {
      serviceUp = true;
      emit({ type: 'service-up' });
    }
  };
  const markDown = (error: unknown): void => {
    if (serviceUp !== false) {
      serviceUp = false;
      emit({ type: 'service-down', error: error instanceof Error ? error.message : String(error) });
    }
    update([]);
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        sleeping = undefined;
        resolve();
      };
      sleeping = { timer: setTimeout(wake, ms), wake };
    });

  /** One context's life: list, report, wait; returns when the service is gone or on stop. */
  const watchContext = async (c: PcscContext): Promise<void> => {
    let pnpState = 0;
    while (!stopped) {
      const handles = contextReaders(c);
      update(handles.map((r, i) => readerInfo(binding, r.name, i, r.state, r.atr)));
      const states: PcscReaderState[] = handles.map((r) => ({ name: r.name, state: r.state }));
      states.push({ name: PNP_NOTIFICATION, state: pnpState });
      const changes = await c.waitForChange(states, pollMs);
      if (changes === null) return; // cancelled by stop()
      const pnp = changes.find((s) => s.name === PNP_NOTIFICATION);
      if (pnp) pnpState = pnp.state & ~binding.SCARD_STATE_CHANGED;
    }
  };

  const loop = async (): Promise<void> => {
    let delay = retryInitialMs;
    while (!stopped) {
      let c: PcscContext;
      try {
        c = new binding.Context();
      } catch (e) {
        markDown(e);
        await sleep(delay);
        delay = Math.min(delay * 2, retryMaxMs);
        continue;
      }
      ctx = c;
      try {
        markUp();
        delay = retryInitialMs;
        await watchContext(c);
      } catch (e) {
        if (stopped) break;
        // service gone, or a context error: report and start over with a new context
        markDown(isServiceGone(e) ? e : new TransportError(`PC/SC: ${(e as Error)?.message ?? e}`, e, 'unavailable'));
        await sleep(delay);
        delay = Math.min(delay * 2, retryMaxMs);
      } finally {
        ctx = undefined;
        try {
          c.close();
        } catch {
          // already invalid
        }
      }
    }
  };

  const done = loop();
  return {
    get readers() {
      return known;
    },
    get serviceUp() {
      return serviceUp;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (sleeping) {
        clearTimeout(sleeping.timer);
        sleeping.wake();
      }
      try {
        ctx?.cancel(); // the pending wait resolves null
      } catch {
        // the context is already gone
      }
      await done;
    },
  };
}
