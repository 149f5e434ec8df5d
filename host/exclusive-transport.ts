/**
 * @module Serialized access to one card: concurrent callers never interleave APDUs; a multi-APDU
 * operation (secure channel, debit and proof) holds a lease during which only its holder transmits.
 * Waiting is bounded by a timeout and can be cancelled with an AbortSignal.
 */
import { TransportError } from './errors.js';
import type { Transport } from './transport.js';

/** How long a lease may wait for the card, and a signal to stop waiting. */
export interface LeaseOptions {
  /** longest wait for the card before failing with TransportError('timeout') */
  timeoutMs?: number;
  /** aborts the wait (TransportError('cancelled')); an operation already holding the lease runs on */
  signal?: AbortSignal;
}

/**
 * Calls made when a lease of an ExclusiveTransport starts and ends (a backend's own transaction, if it
 * has one).
 */
export interface ExclusiveHooks {
  /** called when a lease starts (e.g. PC/SC SCardBeginTransaction) */
  begin?: () => Promise<void>;
  /** called when it ends (SCardEndTransaction) */
  end?: () => Promise<void>;
}

/**
 * A transport that serializes its callers: concurrent transmits never interleave, and lease() holds
 * the card for a multi-APDU operation.
 */
export class ExclusiveTransport implements Transport {
  readonly description: string;
  /** callers waiting for the card, in arrival order; each is woken with the card given to it */
  readonly #waiting: (() => void)[] = [];
  /** true while a transmit, a lease or close holds the card */
  #held = false;

  constructor(
    private readonly inner: Transport,
    private readonly hooks: ExclusiveHooks = {},
  ) {
    this.description = inner.description;
  }

  /** Hands the card to the next waiter, or marks it free. */
  #release = (): void => {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held = false;
  };

  /** Waits for the card (in arrival order) and returns the release function. */
  private async acquire(opts: LeaseOptions): Promise<() => void> {
    if (opts.signal?.aborted) throw new TransportError('cancelled before the card was free', opts.signal.reason, 'cancelled');
    if (!this.#held) {
      this.#held = true;
      return this.#release;
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const turn = (): void => resolve();
        this.#waiting.push(turn);
        // Giving up takes our place out of the line, so that those behind are not held up by it.
        const leave = (e: TransportError): void => {
          const i = this.#waiting.indexOf(turn);
          if (i < 0) return; // the card was handed to us just before: we hold it, and resolve() wins
          this.#waiting.splice(i, 1);
          reject(e);
        };
        if (opts.timeoutMs !== undefined) {
          timer = setTimeout(() => leave(new TransportError(`card busy for more than ${opts.timeoutMs} ms`, undefined, 'timeout')), opts.timeoutMs);
        }
        if (opts.signal) {
          onAbort = () => leave(new TransportError('cancelled while waiting for the card', opts.signal!.reason, 'cancelled'));
          opts.signal.addEventListener('abort', onAbort, { once: true });
        }
      });
    } finally {
      if (timer) clearTimeout(timer);
      if (onAbort) opts.signal!.removeEventListener('abort', onAbort);
    }
    return this.#release;
  }

  /**
   * One APDU, queued behind any lease in progress. On an idle card it goes straight through: no
   * promise of its own beyond the call, since the host's time per APDU is what the PC/SC benchmark
   * holds to 5% of a round trip (issue 15).
   */
  transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.#held) return this.#transmitWhenFree(command);
    this.#held = true;
    let answer: Promise<Uint8Array>;
    try {
      answer = this.inner.transmit(command);
    } catch (e) {
      this.#release();
      return Promise.reject(e);
    }
    // released before the caller's continuation runs (its reaction is registered after this one)
    answer.then(this.#release, this.#release);
    return answer;
  }

  /** transmit() behind the lease or APDU that holds the card. */
  async #transmitWhenFree(command: Uint8Array): Promise<Uint8Array> {
    const release = await this.acquire({});
    try {
      return await this.inner.transmit(command);
    } finally {
      release();
    }
  }

  /**
   * Runs `operation` with the card to itself. The transport it receives works only during the
   * lease; afterwards it rejects with TransportError('closed').
   */
  async lease<T>(operation: (t: Transport) => Promise<T>, opts: LeaseOptions = {}): Promise<T> {
    const release = await this.acquire(opts);
    let active = true;
    const leased: Transport = {
      description: this.description,
      transmit: (command) => (active ? this.inner.transmit(command) : Promise.reject(new TransportError('lease already ended', undefined, 'closed'))),
      close: async () => {
        active = false;
      },
    };
    try {
      await this.hooks.begin?.();
      try {
        return await operation(leased);
      } finally {
        await this.hooks.end?.();
      }
    } finally {
      active = false;
      release();
    }
  }

  async close(): Promise<void> {
    const release = await this.acquire({});
    try {
      await this.inner.close();
    } finally {
      release();
    }
  }
}
