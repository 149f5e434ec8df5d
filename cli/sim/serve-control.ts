/**
 * @module Control lines of `drmb sim serve`, on stdin or a Unix domain socket: remove, insert, status,
 * work (the APDUs the card in the slot has answered and its time on them), quit, `cut-after K` (cut the card's power right after its K-th persistent write from now, as pulling
 * it would), `power-up` (power back, the card reinserted) and `load PATH` (another card, from an image
 * file, in the reader's slot; kept in memory only). Each line gets one answer line,
 * `ok ...` or `error ...`; the parser, the handler and the socket client live here so the protocol has
 * one home.
 */
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { PersistentStore } from '../../simulator/persistent-store.js';
import { UsageError } from '../output.js';

/** One control command. */
export type ControlCommand =
  | { readonly name: 'remove' | 'insert' | 'status' | 'work' | 'quit' | 'power-up' }
  | { readonly name: 'cut-after'; readonly writes: number }
  | { readonly name: 'load'; readonly path: string };

/** What the control lines act on: the reader slot of serve and the card's persistent memory. */
export interface ControlledCard {
  /** e.g. "vpcd 127.0.0.1:35963" */
  readonly where: string;
  readonly slot: {
    readonly connected: boolean;
    readonly inserted: boolean;
    insert(options?: { timeoutMs?: number }): Promise<void>;
    remove(): Promise<void>;
  };
  readonly store: Pick<PersistentStore, 'cutPowerAfterWrites' | 'disarm' | 'powerUp' | 'powered'>;
  /** the image file the card in the slot was loaded from by `load`, kept in memory only; undefined for the served card */
  readonly loadedFrom?: string;
  /** APDUs the card in the slot has answered since it was put there, and the milliseconds it spent on them */
  readonly work?: { readonly apdus: number; readonly cardMs: number };
  /**
   * Checks and loads the image file at `path` (a missing or damaged image throws, leaving the current
   * card in place), then takes the current card out of the slot and puts the loaded one in its place,
   * not inserted yet.
   */
  load(path: string): Promise<void>;
  stop(): Promise<void>;
}

export const CONTROL_COMMANDS = 'remove, insert, status, work, cut-after K, power-up, load PATH, quit';

/** How long `power-up` and `load` wait for the reader to take the card before answering an error. */
const INSERT_TIMEOUT_MS = 10_000;

/** Parses one control line (case and surrounding blanks ignored); undefined for a blank line, a string for an error. */
export function parseControlLine(line: string): ControlCommand | string | undefined {
  const words = line.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return undefined;
  const [name, ...args] = words;
  if (name === 'load') {
    // the path keeps its case and inner blanks: everything after the word "load"
    const path = line.trim().slice(4).trim();
    return path ? { name, path } : 'load needs the path of a card image file';
  }
  const simple = { remove: 'remove', insert: 'insert', status: 'status', work: 'work', quit: 'quit', exit: 'quit', 'power-up': 'power-up' } as const;
  if (name in simple && !args.length) return { name: simple[name as keyof typeof simple] };
  if (name === 'cut-after') {
    const writes = Number(args[0]);
    if (args.length !== 1 || !/^\d+$/.test(args[0]) || !Number.isSafeInteger(writes) || writes < 1) {
      return `cut-after needs one whole number of persistent writes >= 1, not "${args.join(' ')}"`;
    }
    return { name, writes };
  }
  if (name in simple) return `${name} takes no argument`;
  return `unknown control command "${line.trim()}" (${CONTROL_COMMANDS})`;
}

/** Where the card is, as `status` answers it. */
export function describeSlot(card: ControlledCard): string {
  const place = card.slot.connected ? 'inserted in' : card.slot.inserted ? 'waiting for' : 'out of';
  const memoryOnly = card.loadedFrom === undefined ? '' : `, loaded from ${card.loadedFrom} (memory only, never saved)`;
  return `card ${place} ${card.where}, ${card.store.powered ? 'powered' : 'without power (cut; power-up restores it)'}${memoryOnly}`;
}

/**
 * Carries out one control line and returns its answer line (`ok ...` / `error ...`), or undefined for
 * a blank line. A cut leaves the card out of the reader with its memory as the cut left it; `power-up`
 * powers the memory again, which rolls an interrupted transaction back (JCRE 3.0.5 7.6), and puts the
 * card back in the slot, answering once the reader has taken it. `load PATH` answers once the reader
 * has the loaded card; a missing or damaged image is an error that leaves the current card in place.
 */
export async function serveControl(line: string, card: ControlledCard): Promise<string | undefined> {
  const command = parseControlLine(line);
  if (command === undefined) return undefined;
  if (typeof command === 'string') return `error ${command}`;
  switch (command.name) {
    case 'remove':
      await card.slot.remove();
      return `ok ${describeSlot(card)}`;
    case 'insert':
      // the reader may not listen yet: progress is reported by serve's connected / retry events
      card.slot.insert().catch(() => {});
      return `ok inserting the card into ${card.where}`;
    case 'status':
      return `ok ${describeSlot(card)}`;
    case 'work':
      if (!card.work) return 'error this card does not count its work';
      return `ok ${card.work.apdus} APDUs in ${card.work.cardMs.toFixed(1)} ms of card time since the card was put in the slot`;
    case 'quit':
      void card.stop();
      return 'ok stopping';
    case 'cut-after':
      if (!card.store.powered) return 'error the card has no power: power-up first';
      card.store.cutPowerAfterWrites(command.writes);
      return `ok armed: power cut after the card's persistent write ${command.writes} from now`;
    case 'power-up':
      card.store.disarm();
      if (!card.store.powered) card.store.powerUp();
      try {
        await card.slot.insert({ timeoutMs: INSERT_TIMEOUT_MS });
      } catch (e) {
        return `error powered up, but not back in ${card.where}: ${(e as Error).message}`;
      }
      return `ok ${describeSlot(card)}`;
    case 'load':
      try {
        await card.load(command.path);
      } catch (e) {
        return `error ${(e as Error).message}`;
      }
      try {
        await card.slot.insert({ timeoutMs: INSERT_TIMEOUT_MS });
      } catch (e) {
        return `error loaded ${command.path}, but not in ${card.where}: ${(e as Error).message}`;
      }
      return `ok loaded ${command.path}`;
  }
}

/**
 * Listens for control connections on a Unix domain socket at `path`, answering each line in order.
 * A socket file left by a serve that was killed is replaced; one another serve still listens on is not
 * (UsageError). Resolves once listening; close() stops listening and removes the socket file.
 */
export async function listenControlSocket(path: string, handle: (line: string) => Promise<string | undefined>): Promise<{ close(): Promise<void> }> {
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new UsageError(`--control-socket ${path}: a file that is not a socket is in the way`);
    if (await answers(path)) throw new UsageError(`--control-socket ${path}: another process listens there`);
    unlinkSync(path);
  }
  const connections = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => {}); // a client gone mid-answer ends only its connection
    let queue = Promise.resolve();
    createInterface({ input: socket, terminal: false }).on('line', (line) => {
      queue = queue.then(async () => {
        const answer = await handle(line).catch((e: unknown) => `error ${(e as Error).message}`);
        if (answer !== undefined && !socket.destroyed) socket.write(`${answer}\n`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new UsageError(`--control-socket ${path}: cannot listen: ${e.message}`)));
    server.listen(path, () => resolve());
  });
  // The socket can cut the card's power and load other images: only its owner may connect.
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        // the answer to the line that asked to quit goes out first: end() flushes, destroy() only
        // a client that does not close its side within a second
        setImmediate(() => {
          server.close(() => resolve());
          for (const s of connections) s.end();
          setTimeout(() => {
            for (const s of connections) s.destroy();
          }, 1000).unref();
        });
      }),
  };
}

/** Where control lines come from: stdin, a Unix domain socket, and the signals that stop a serve. */
export interface ControlInputOptions {
  /** read control lines from stdin; 'auto' = when stdin is a TTY */
  control?: 'stdin' | 'none' | 'auto';
  /** also take control lines on this Unix domain socket, each answered with one line */
  controlSocket?: string;
  /** stop on SIGINT and SIGTERM (default true) */
  signals?: boolean;
}

/** The control inputs a serve opened; close() stops reading them (and listening for signals). */
export interface ControlInputs {
  close(): Promise<void>;
}

/**
 * Opens a serve's control inputs: the socket (answers as lines to its client), stdin (answers as
 * progress lines through `say`, an error as drmb's one-line error; end of stdin stops the serve), and
 * SIGINT / SIGTERM, which stop it.
 */
export async function openControlInputs(
  options: ControlInputOptions,
  handle: (line: string) => Promise<string | undefined>,
  stop: () => Promise<void>,
  say: (text: string) => void,
): Promise<ControlInputs> {
  const onSignal = (signal: NodeJS.Signals): void => {
    say(`${signal}: stopping`);
    void stop();
  };
  const socket = options.controlSocket === undefined ? undefined : await listenControlSocket(options.controlSocket, handle);
  if (socket) say(`control socket: ${options.controlSocket} (${CONTROL_COMMANDS})`);
  if (options.signals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const control = options.control ?? 'auto';
  let rl: ReturnType<typeof createInterface> | undefined;
  if (control === 'stdin' || (control === 'auto' && process.stdin.isTTY)) {
    rl = createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      void handle(line).then((answer) => {
        // on stdin the answers are progress lines: "ok " dropped, an error as drmb's one-line errors
        if (answer !== undefined) say(answer.startsWith('error ') ? `drmb: ${answer.slice(6)}` : answer.slice(3));
      });
    });
    // end of the control input (parent gone, or Ctrl-D) ends the session
    rl.on('close', () => void stop());
    say(`control: type ${CONTROL_COMMANDS}`);
  }
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (rl) {
        rl.close();
        process.stdin.pause();
        process.stdin.unref?.();
      }
      await socket?.close();
    },
  };
}

/** True when something accepts a connection on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** A connection to a serve control socket: one line out, its one answer line back. */
export interface ControlClient {
  /** Sends one line and resolves with the text after `ok `; rejects with the text after `error ` or when the connection fails. */
  request(line: string): Promise<string>;
  close(): void;
}

/** Connects to the control socket of a `drmb sim serve --control-socket PATH`; rejects when nothing listens there. */
export function connectControl(path: string): Promise<ControlClient> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      const waiting: { resolve: (answer: string) => void; reject: (e: Error) => void }[] = [];
      const failAll = (e: Error): void => {
        for (const w of waiting.splice(0)) w.reject(e);
      };
      socket.on('error', (e) => failAll(new Error(`control socket ${path}: ${e.message}`)));
      socket.on('close', () => failAll(new Error(`control socket ${path}: closed by drmb sim serve`)));
      createInterface({ input: socket, terminal: false }).on('line', (line) => {
        const w = waiting.shift();
        if (!w) return;
        if (line.startsWith('ok')) w.resolve(line.slice(2).trim());
        else w.reject(new Error(`drmb sim serve: ${line.replace(/^error\s*/, '')}`));
      });
      resolve({
        request: (line) =>
          new Promise<string>((res, rej) => {
            if (socket.destroyed) return rej(new Error(`control socket ${path}: closed`));
            waiting.push({ resolve: res, reject: rej });
            socket.write(`${line}\n`);
          }),
        close: () => void socket.destroy(),
      });
    });
  });
}
