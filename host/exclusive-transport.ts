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
  /** resolves when the current holder releases the card */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: Transport,
    private readonly hooks: ExclusiveHooks = {},
  ) {
    this.description = inner.description;
  }

  /** Waits for the card (in arrival order) and returns the release function. */
  private async acquire(opts: LeaseOptions): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => mine);
    if (opts.signal?.aborted) {
      void before.then(release);
      throw new TransportError('cancelled before the card was free', opts.signal.reason, 'cancelled');
    }
    // Fast path (every plain transmit): nothing to race against, just wait our turn.
    if (opts.timeoutMs === undefined && !opts.signal) {
      await before;
      return release;
    }
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        before,
        new Promise<never>((_, reject) => {
          if (opts.timeoutMs !== undefined) {
            timer = setTimeout(() => reject(new TransportError(`card busy for more than ${opts.timeoutMs} ms`, undefined, 'timeout')), opts.timeoutMs);
          }
          if (opts.signal) {
            onAbort = () => reject(new TransportError('cancelled while waiting for the card', opts.signal!.reason, 'cancelled'));
            opts.signal.addEventListener('abort', onAbort, { once: true });
          }
        }),
      ]);
    } catch (e) {
      // Give up our place without blocking those behind: release as soon as our turn would come.
      void before.then(release);
      throw e;
    } finally {
      if (timer) clearTimeout(timer);
      if (onAbort) opts.signal!.removeEventListener('abort', onAbort);
    }
    return release;
  }

  /** One APDU, queued behind any lease in progress. */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
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
