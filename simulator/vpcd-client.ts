/** @module Puts a VirtualCard into a vsmartcard vpcd reader slot over TCP (vpcd protocol: 2-byte big-endian length + payload). */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { PowerLossError } from './persistent-store.js';
import type { VirtualCard } from './virtual-card.js';

/** vpcd's first slot ("Virtual PCD 00 00"); the second slot is on the next port. */
export const VPCD_DEFAULT_PORT = 35963;
/** The host vpcd listens on by default. */
export const VPCD_DEFAULT_HOST = '127.0.0.1';

/** vpcd 1-byte control messages (vsmartcard vpcd protocol). */
export const VPCD_POWER_OFF = 0x00;
export const VPCD_POWER_ON = 0x01;
export const VPCD_RESET = 0x02;
export const VPCD_GET_ATR = 0x04;

/** SW 6F00 (ISO/IEC 7816-4 5.6: no precise diagnosis), answered when the card code throws something other than a power loss. */
const SW_NO_PRECISE_DIAGNOSIS = Uint8Array.of(0x6f, 0x00);
const MAX_PAYLOAD = 0xffff;

/** Where a VpcdClient connects (host, port of the reader slot), and whether and how soon it reconnects. */
export interface VpcdClientOptions {
  host?: string;
  /** TCP port of the reader slot: 35963 for "Virtual PCD 00 00", 35964 for "Virtual PCD 00 01" */
  port?: number;
  /** reconnect after the reader drops the connection (pcscd restart); default true */
  reconnect?: boolean;
  /** first reconnect delay, doubled on each failed attempt up to `reconnectMaxMs` */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
}

/** Why the connection ended. */
export type DisconnectReason = 'removed' | 'power-loss' | 'connection-lost';

/** One APDU the VpcdClient passed to its card: command, response, and the time spent in the card. */
export interface ApduEvent {
  command: Uint8Array;
  response: Uint8Array;
  /** time spent inside the card's transmit */
  cardMs: number;
}

/** Events of a VpcdClient. */
export interface VpcdClientEvents {
  /** TCP connection to the reader is up: the card is in the slot (pcscd notices it on its next poll) */
  connected: [];
  disconnected: [reason: DisconnectReason, error?: Error];
  /** a control message (power off/on, reset, get ATR) was handled */
  control: [code: number];
  apdu: [event: ApduEvent];
  /** the card threw something other than PowerLossError; the reader got SW 6F00 (or nothing, for a control message) */
  'card-error': [error: unknown];
  /** a failed connect attempt; another follows after `delayMs` */
  retry: [error: Error, delayMs: number];
  /** a framing error from the reader side (unknown control byte); the message was ignored */
  'protocol-error': [detail: string];
}

/** True for the simulator's fault-injection power cut (`PowerLossError`; also matched by name, across module copies). */
export function isPowerLoss(e: unknown): boolean {
  return e instanceof PowerLossError || (e instanceof Error && e.name === 'PowerLossError');
}

/** Encodes one vpcd message: 2-byte big-endian length then the payload. */
export function encodeVpcdFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`vpcd payload of ${payload.length} bytes exceeds 65535`);
  const out = new Uint8Array(2 + payload.length);
  out[0] = payload.length >>> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

/**
 * Reassembles vpcd messages from a TCP byte stream: accepts chunks cut anywhere (inside the length,
 * inside the payload, several messages in one chunk) and yields whole payloads in order.
 */
export class VpcdFrameReader {
  private buffer: Uint8Array = new Uint8Array(0);

  /** Appends a chunk and returns every payload now complete. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.buffer.length === 0) this.buffer = chunk;
    else {
      const joined = new Uint8Array(this.buffer.length + chunk.length);
      joined.set(this.buffer);
      joined.set(chunk, this.buffer.length);
      this.buffer = joined;
    }
    const frames: Uint8Array[] = [];
    let at = 0;
    while (this.buffer.length - at >= 2) {
      const len = (this.buffer[at] << 8) | this.buffer[at + 1];
      if (this.buffer.length - at - 2 < len) break;
      // copy: the socket may reuse its chunk buffer, and the card may keep the command
      frames.push(this.buffer.slice(at + 2, at + 2 + len));
      at += 2 + len;
    }
    this.buffer = at === 0 ? this.buffer : this.buffer.slice(at);
    return frames;
  }

  /** bytes held back waiting for the rest of a message */
  get pending(): number {
    return this.buffer.length;
  }

  clear(): void {
    this.buffer = new Uint8Array(0);
  }
}

/**
 * Connects a VirtualCard to vpcd as its virtual ICC. `insert()` connects (the card enters the slot),
 * `remove()` closes (the card leaves). The card's methods run synchronously on this thread, in message
 * order, so keep the client off any thread that also makes blocking PC/SC calls to the same reader
 * (see shared/reference/pcsc-testing.md: deadlock when both sides share a thread).
 *
 * A `PowerLossError` thrown by the card drops the connection like a pulled card and leaves the client
 * removed (no reconnect); call `insert()` again to put the card back.
 */
export class VpcdClient extends EventEmitter<VpcdClientEvents> {
  readonly host: string;
  readonly port: number;
  private readonly reconnect: boolean;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private socket: Socket | undefined;
  private wanted = false;
  private isConnected = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private readonly waiters = new Set<(err?: Error) => void>();
  /** sockets being closed by remove(), so their close is reported as a removal */
  private readonly removing = new WeakSet<Socket>();

  constructor(
    readonly card: VirtualCard,
    options: VpcdClientOptions = {},
  ) {
    super();
    this.host = options.host ?? VPCD_DEFAULT_HOST;
    this.port = options.port ?? VPCD_DEFAULT_PORT;
    this.reconnect = options.reconnect ?? true;
    this.reconnectInitialMs = options.reconnectInitialMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 2000;
    this.retryDelayMs = this.reconnectInitialMs;
  }

  /** true while the TCP connection to the reader is up */
  get connected(): boolean {
    return this.isConnected;
  }

  /** true between insert() and remove() (or a power loss), whether or not the connection is up right now */
  get inserted(): boolean {
    return this.wanted;
  }

  /**
   * Puts the card in the slot: connects, and keeps reconnecting with backoff while the reader is not
   * listening (pcscd not started yet or restarting). Resolves once connected; rejects when `timeoutMs`
   * passes first (the client stays inserted and keeps trying), when remove() is called first, or, with
   * `reconnect: false`, when the one attempt fails.
   */
  insert(options: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.wanted) {
      this.wanted = true;
      this.retryDelayMs = this.reconnectInitialMs;
      if (!this.socket) this.connect();
    }
    return this.waitConnected(options.timeoutMs);
  }

  /**
   * Takes the card out: closes the connection, powers the card off (as leaving a reader does) and
   * stops reconnecting. Resolves when the socket is closed.
   */
  async remove(): Promise<void> {
    this.wanted = false;
    this.clearRetry();
    this.settleWaiters(new Error('vpcd client: card removed before it connected'));
    const socket = this.socket;
    if (!socket) return;
    this.removing.add(socket);
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  /** Resolves when connected (at once if already); rejects on timeout or if the card is removed first. */
  waitConnected(timeoutMs?: number): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (!this.wanted) return Promise.reject(new Error('vpcd client: the card is not inserted'));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (err?: Error): void => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(settle);
        if (err) reject(err);
        else resolve();
      };
      this.waiters.add(settle);
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () =>
            settle(
              new Error(
                `vpcd client: no connection to ${this.host}:${this.port} within ${timeoutMs} ms (is pcscd running with the vpcd driver?)`,
              ),
            ),
          timeoutMs,
        );
      }
    });
  }

  /** Resolves when the connection is down (at once if it is), with the reason. */
  waitDisconnected(timeoutMs?: number): Promise<DisconnectReason | undefined> {
    if (!this.isConnected) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const on = (reason: DisconnectReason): void => {
        if (timer) clearTimeout(timer);
        resolve(reason);
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.off('disconnected', on);
              reject(new Error(`vpcd client: still connected after ${timeoutMs} ms`));
            }, timeoutMs);
      this.once('disconnected', on);
    });
  }

  private settleWaiters(err?: Error): void {
    for (const settle of [...this.waiters]) settle(err);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private connect(): void {
    this.clearRetry();
    const socket = new Socket();
    const frames = new VpcdFrameReader(); // per connection: a new one starts on a message boundary
    this.socket = socket;
    let opened = false;
    let powerLoss: Error | undefined;
    let lastError: Error | undefined;
    socket.setNoDelay(true); // each R-APDU leaves at once in one segment (no Nagle wait for an ACK)
    socket.on('connect', () => {
      opened = true;
      this.isConnected = true;
      this.retryDelayMs = this.reconnectInitialMs;
      this.emit('connected');
      this.settleWaiters();
    });
    socket.on('data', (chunk: Buffer) => {
      if (powerLoss || socket.destroyed) return;
      for (const payload of frames.push(chunk)) {
        let reply: Uint8Array | undefined;
        try {
          reply = this.handle(payload);
        } catch (e) {
          // the card lost power: it answers nothing more and leaves the slot, like a pulled card
          powerLoss = e as Error;
          this.wanted = false;
          this.clearRetry();
          socket.destroy();
          return;
        }
        // one write per reply: length and R-APDU in one segment
        if (reply) socket.write(encodeVpcdFrame(reply));
      }
    });
    socket.on('error', (e) => {
      lastError = e; // the 'close' that follows reports it
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (opened) {
        this.isConnected = false;
        const reason: DisconnectReason = powerLoss
          ? 'power-loss'
          : this.removing.has(socket) || !this.wanted
            ? 'removed'
            : 'connection-lost';
        if (!powerLoss) this.powerOffQuietly(); // leaving the reader cuts the card's supply
        this.emit('disconnected', reason, powerLoss ?? lastError);
        if (powerLoss) this.settleWaiters(new Error('vpcd client: the card lost power'));
      } else if (this.wanted) {
        const error = lastError ?? new Error('connection closed');
        this.emit('retry', error, this.reconnect ? this.retryDelayMs : 0);
        if (!this.reconnect) {
          this.wanted = false;
          this.settleWaiters(new Error(`vpcd client: cannot connect to ${this.host}:${this.port}: ${error.message}`));
        }
      }
      if (!this.wanted) return;
      if (!this.reconnect) {
        this.wanted = false; // the reader dropped us and we were told not to come back
        return;
      }
      const delay = opened ? this.reconnectInitialMs : this.retryDelayMs;
      if (!opened) this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.reconnectMaxMs);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.wanted && !this.socket) this.connect();
      }, delay);
    });
    socket.connect({ host: this.host, port: this.port });
  }

  private powerOffQuietly(): void {
    try {
      this.card.powerOff();
    } catch (e) {
      if (!isPowerLoss(e)) this.emit('card-error', e);
    }
  }

  /** Handles one message from the reader; returns the reply payload, or undefined for none. Rethrows a power loss. */
  private handle(payload: Uint8Array): Uint8Array | undefined {
    if (payload.length === 0) {
      this.emit('protocol-error', 'empty message');
      return undefined;
    }
    if (payload.length === 1) return this.control(payload[0]);
    const start = performance.now();
    let response: Uint8Array;
    try {
      response = this.card.transmit(payload);
    } catch (e) {
      if (isPowerLoss(e)) throw e;
      this.emit('card-error', e);
      response = SW_NO_PRECISE_DIAGNOSIS;
    }
    if (response.length > MAX_PAYLOAD) {
      this.emit('card-error', new RangeError(`R-APDU of ${response.length} bytes does not fit a vpcd message`));
      response = SW_NO_PRECISE_DIAGNOSIS;
    }
    this.emit('apdu', { command: payload, response, cardMs: performance.now() - start });
    return response;
  }

  private control(code: number): Uint8Array | undefined {
    let reply: Uint8Array | undefined;
    try {
      switch (code) {
        case VPCD_POWER_OFF:
          this.card.powerOff();
          break;
        case VPCD_POWER_ON:
          this.card.powerOn();
          break;
        case VPCD_RESET:
          this.card.reset(); // vpcd expects no reply; it asks for the ATR next
          break;
        case VPCD_GET_ATR:
          // also pcscd's presence check, about every 400 ms
          reply = this.card.atr;
          break;
        default:
          this.emit('protocol-error', `unknown control byte 0x${code.toString(16).padStart(2, '0')}`);
          return undefined;
      }
    } catch (e) {
      if (isPowerLoss(e)) throw e;
      this.emit('card-error', e);
      return undefined;
    }
    this.emit('control', code);
    return reply;
  }
}
