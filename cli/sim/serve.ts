/**
 * @module `drmb sim serve`: puts a simulated card into the vsmartcard vpcd reader of pcscd, so any PC/SC
 * client can use it, controlled from stdin or a Unix domain socket (cli/sim/serve-control.ts), which can
 * also cut the card's power after its k-th persistent write and power it up again, or put another card
 * from an image file in the slot (`load PATH`; such a card is kept in memory only, so the served image
 * file only ever holds the served card). With --psam it serves a D-RMB PSAM, the POS terminal's second
 * card, usually into the second vpcd slot (port 35964, "Virtual PCD 00 01"). With --slots N it serves N
 * cards from one process, one worker thread each (cli/sim/serve-slots.ts).
 */
import { existsSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { CARD_FAULT_NAMES, CARD_FAULTS, type CardFaultName } from '../../simulator/card-faults.js';
import type { PersistentStore } from '../../simulator/persistent-store.js';
import type { VirtualCard } from '../../simulator/virtual-card.js';
import { VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, VpcdClient } from '../../simulator/vpcd-client.js';
import type { DisconnectReason } from '../../simulator/vpcd-client.js';
import { withJson } from '../options.js';
import { toJsonValue, UsageError } from '../output.js';
import { loadPsamImage, loadSimImage } from './load-sim-image.js';
import { CONTROL_COMMANDS, type ControlInputs, type ControlledCard, openControlInputs, parseControlLine, serveControl } from './serve-control.js';

export interface ServeOptions {
  /** card image file: loaded if it exists, else a fresh card is created and saved there */
  image?: string;
  host?: string;
  port?: number;
  /** save the image after every APDU (crash safety); otherwise on removal and on exit only */
  saveEveryApdu?: boolean;
  /** read control lines (cli/sim/serve-control.ts) from stdin; 'auto' = when stdin is a TTY */
  control?: 'stdin' | 'none' | 'auto';
  /** also take control lines on this Unix domain socket, each answered with one line (`ok ...` / `error ...`) */
  controlSocket?: string;
  /** lifecycle events as JSON lines on stdout */
  json?: boolean;
  /** serve a deliberately faulty variant of the card (simulator/card-faults.ts), to show that a conformance suite catches it */
  fault?: CardFaultName;
  /** serve a D-RMB PSAM (simulator/simulated-psam.ts) instead of a user card; `load` then takes PSAM images */
  psam?: boolean;
  /** stop on SIGINT and SIGTERM (default true; a worker thread of a multi-slot serve leaves them to its parent) */
  signals?: boolean;
}

/** A card serve can put in the reader and save. */
export interface ServedCard extends VirtualCard {
  /** writes the card image (persistent memory) atomically */
  saveToFile(path: string): void;
  /** the card's persistent memory, where `cut-after` arms a power cut and `power-up` restores power */
  readonly store: Pick<PersistentStore, 'cutPowerAfterWrites' | 'disarm' | 'powerUp' | 'powered'>;
}

/** How serve gets its card; the default is the simulator's SimulatedCard. */
export type CardSource = (image: string | undefined, fault?: CardFaultName) => Promise<{ card: ServedCard; created: boolean }>;

/**
 * SimulatedCard from the image file if it exists, else a freshly manufactured one. Loaded lazily, so
 * other drmb commands do not load the simulator. Throws UsageError for an unreadable or damaged image,
 * before serve could save anything over it.
 */
export const simulatedCardSource: CardSource = async (image, fault) => {
  if (image !== undefined && existsSync(image)) return { card: await loadSimImage(image, { fault }), created: false };
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  return { card: new SimulatedCard({ fault }), created: true };
};

/**
 * SimulatedPsam from the image file if it exists (made by `drmb sim create --psam`, its personalization
 * keys diversified from the central bank's master), else a blank PSAM with a random serial number and
 * the GP test keys of a development card. Throws UsageError for an unreadable or damaged image.
 */
export const simulatedPsamSource: CardSource = async (image) => {
  if (image !== undefined && existsSync(image)) return { card: await loadPsamImage(image), created: false };
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  return { card: SimulatedCard.psam({ psamId: `88${Array.from({ length: 18 }, () => Math.floor(Math.random() * 10)).join('')}` }), created: true };
};

/** A running serve session: stop() removes the card, saves the image and releases stdin and signals. */
export interface ServeSession {
  readonly client: VpcdClient;
  /** the card in the slot: the served one, or the last one `load` put there */
  readonly card: ServedCard;
  /** resolves when the session has ended (quit command, signal, or stop()) */
  readonly done: Promise<void>;
  /** carries out one control line (cli/sim/serve-control.ts) and returns its answer line */
  control(line: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** Parses --slots: a whole number of slots from 1 to 16. */
export function parseSlots(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 16) throw new UsageError(`--slots "${text}" must be a whole number of slots from 1 to 16`);
  return n;
}

/** Parses a TCP port given on the command line. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new UsageError(`port "${text}" is not a TCP port number (1-65535)`);
  }
  return n;
}

/**
 * Starts serving: opens (or creates) the card, inserts it into vpcd (retrying until pcscd listens),
 * saves the image on every removal and at the end, and ends on 'quit' (stdin), end of stdin in control
 * mode, SIGINT or SIGTERM. Progress goes to stderr; with `json`, events also go to stdout as JSON lines.
 */
export async function startServe(options: ServeOptions, source: CardSource = options.psam ? simulatedPsamSource : simulatedCardSource): Promise<ServeSession> {
  const host = options.host ?? VPCD_DEFAULT_HOST;
  const port = options.port ?? VPCD_DEFAULT_PORT;
  const where = `vpcd ${host}:${port}`;
  const say = (text: string): void => {
    process.stderr.write(`${text}\n`);
  };
  const event = (name: string, fields: Record<string, unknown> = {}): void => {
    if (options.json) process.stdout.write(`${JSON.stringify(toJsonValue({ event: name, ...fields }))}\n`);
  };

  const { card, created } = await source(options.image, options.fault);
  if (options.fault) say(`serving the faulty variant ${options.fault}: ${CARD_FAULTS[options.fault]}`);
  if (options.image !== undefined) {
    say(created ? `created a fresh card; its image will be saved to ${options.image}` : `loaded card image ${options.image}`);
  } else {
    say('fresh card in memory (no --image: nothing is saved)');
  }

  /** the image file of the card `load` put in the slot last; such a card is never saved, to --image or anywhere */
  let loadedFrom: string | undefined;
  let current: ServedCard = card;
  const save = (why: string): void => {
    if (options.image === undefined || loadedFrom !== undefined) return;
    try {
      card.saveToFile(options.image);
      event('saved', { path: options.image, why });
    } catch (e) {
      say(`drmb: could not save the card image to ${options.image}: ${(e as Error).message}`);
      event('save-failed', { path: options.image, error: (e as Error).message });
    }
  };

  // a fresh card's identity (random card ID) is kept from the start, even if this process is killed
  if (created) save('created');

  // the reader's slot: whichever card is in it now, so `load` can change the card under one vpcd client
  const inSlot: ServedCard = {
    get atr() {
      return current.atr;
    },
    get store() {
      return current.store;
    },
    powerOn: () => current.powerOn(),
    powerOff: () => current.powerOff(),
    reset: () => current.reset(),
    transmit: (command) => current.transmit(command),
    saveToFile: (path) => current.saveToFile(path),
  };
  const client = new VpcdClient(inSlot, { host, port });
  let waitingShown = false;
  client.on('connected', () => {
    waitingShown = false;
    say(`card inserted in ${where}`);
    event('inserted', { host, port });
  });
  client.on('retry', (e) => {
    if (!waitingShown) say(`waiting for ${where} (${e.message}); is pcscd running with the vpcd driver?`);
    waitingShown = true;
  });
  client.on('disconnected', (reason: DisconnectReason, error?: Error) => {
    const text: Record<DisconnectReason, string> = {
      removed: `card removed from ${where}`,
      'power-loss': `card lost power (${error?.message ?? 'power cut'}); removed from ${where}`,
      'connection-lost': `connection to ${where} lost; reconnecting`,
    };
    say(text[reason]);
    event('removed', { reason });
    save(reason);
  });
  // what the card in the slot has done since it was put there, for `status`
  const work = { apdus: 0, cardMs: 0 };
  client.on('apdu', (e) => {
    work.apdus++;
    work.cardMs += e.cardMs;
  });
  client.on('card-error', (e) => say(`drmb: the card failed on a command (answered 6F00): ${(e as Error)?.message ?? e}`));
  client.on('protocol-error', (detail) => say(`drmb: vpcd protocol: ${detail}`));
  if (options.saveEveryApdu) client.on('apdu', () => save('apdu'));

  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let stopping: Promise<void> | undefined;
  let stopRequested = false;
  let inputs: ControlInputs | undefined;

  const stop = (): Promise<void> => {
    if (stopRequested) return stopping ?? done;
    stopRequested = true; // set before anything below can re-enter (closing stdin emits 'close' at once)
    stopping = (async () => {
      await inputs?.close();
      const wasConnected = client.connected;
      await client.remove(); // reports 'removed' (and saves) if it was connected
      if (!wasConnected) save('exit');
      event('stopped');
      finish();
    })();
    return stopping;
  };
  /** `load PATH`: the image is checked before the card in the slot is touched; the served card is saved as it leaves. */
  const load = async (path: string): Promise<void> => {
    if (!existsSync(path)) throw new Error(`no card image at ${path}`);
    const next = options.psam ? await loadPsamImage(path) : await loadSimImage(path, { fault: options.fault });
    const wasConnected = client.connected;
    await client.remove(); // reports 'removed' (and saves the served card) if it was connected
    if (!wasConnected) save('load');
    current = next;
    loadedFrom = path;
    work.apdus = 0;
    work.cardMs = 0;
    say(`loaded card image ${path} (memory only, never saved)`);
    event('loaded', { path });
  };
  const controlled: ControlledCard = {
    where,
    slot: client,
    get store() {
      return current.store;
    },
    get loadedFrom() {
      return loadedFrom;
    },
    work,
    load,
    stop,
  };
  /** One control line from stdin or the socket; `status` is also a JSON event. */
  const handle = async (line: string): Promise<string | undefined> => {
    const answer = await serveControl(line, controlled);
    const command = parseControlLine(line);
    if (typeof command === 'object' && command.name === 'status') {
      event('status', { connected: client.connected, inserted: client.inserted, powered: current.store.powered, loadedFrom, apdus: work.apdus, cardMs: work.cardMs });
    }
    return answer;
  };

  inputs = await openControlInputs(options, handle, stop, say);

  client.insert().catch(() => {});
  return { client, card: inSlot, done, control: handle, stop };
}

/** Runs a serve session to its end. */
export async function serve(options: ServeOptions, source?: CardSource): Promise<void> {
  const session = await startServe(options, source);
  await session.done;
}

export function registerServe(sim: Cli): void {
  const cmd = sim
    .command('serve')
    .description('put a simulated card into the vpcd reader of pcscd ("Virtual PCD 00 00"), for any PC/SC client')
    .option(
      '--image <file>',
      'card image: loaded if it exists, else a fresh card is created and saved there; repeat it to give each slot of --slots its image, in slot order',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--port <n>', `vpcd TCP port (${VPCD_DEFAULT_PORT} = "Virtual PCD 00 00", ${VPCD_DEFAULT_PORT + 1} = "Virtual PCD 00 01"); with --slots, the port of slot 0`)
    .option(
      '--slots <n>',
      'serve N cards from this one process into N consecutive vpcd ports from --port, each card in a worker thread of its own; control lines take "slot K " before them (default: one slot, or one per --image)',
    )
    .option('--host <h>', 'vpcd host', VPCD_DEFAULT_HOST)
    .option('--save-every-apdu', 'save the image after every APDU (crash safety), not only on removal and exit')
    .option('--control <mode>', `read control lines from stdin (${CONTROL_COMMANDS}): stdin, none, or auto (when stdin is a terminal)`, 'auto')
    .option(
      '--control-socket <path>',
      `also take control lines on this Unix domain socket, each answered with one line "ok ..." or "error ...": ${CONTROL_COMMANDS}; "cut-after K" cuts the card's power right after its K-th persistent write from now (the card leaves the reader, its memory as the cut left it), "power-up" powers it again (an interrupted transaction rolls back) and reinserts it; "load PATH" replaces the card in the reader with the card of that image file (a missing or damaged image leaves the current card), which is kept in memory only and never saved, to --image or anywhere; drmb conformance --power-control (and --fresh-images) uses them`,
    )
    .option('--fault <name>', `serve a deliberately faulty card, to check that a conformance suite catches it: ${CARD_FAULT_NAMES.join(', ')}`)
    .option('--psam', `serve a D-RMB PSAM, the POS terminal's second card (image from drmb sim create --psam), usually with --port ${VPCD_DEFAULT_PORT + 1} ("Virtual PCD 00 01")`);
  withJson(cmd, 'lifecycle events as JSON lines on stdout').action(
    async (opts: { image?: string[]; slots?: string; port?: string; host: string; saveEveryApdu?: boolean; control: string; controlSocket?: string; json?: boolean; fault?: string; psam?: boolean }) => {
      if (!['stdin', 'none', 'auto'].includes(opts.control)) {
        throw new UsageError(`--control must be stdin, none or auto, not "${opts.control}"`);
      }
      if (opts.fault !== undefined && !(CARD_FAULT_NAMES as string[]).includes(opts.fault)) {
        throw new UsageError(`--fault must be one of ${CARD_FAULT_NAMES.join(', ')}, not "${opts.fault}"`);
      }
      if (opts.fault !== undefined && opts.psam) throw new UsageError('--fault applies to user cards, not to --psam');
      const images = opts.image ?? [];
      const slots = opts.slots === undefined ? Math.max(1, images.length) : parseSlots(opts.slots);
      if (images.length > slots) throw new UsageError(`--image given ${images.length} times for --slots ${slots}: give at most one image per slot`);
      const common = {
        host: opts.host,
        port: opts.port === undefined ? undefined : parsePort(opts.port),
        saveEveryApdu: !!opts.saveEveryApdu,
        control: opts.control as ServeOptions['control'],
        controlSocket: opts.controlSocket,
        json: !!opts.json,
        fault: opts.fault as CardFaultName | undefined,
        psam: !!opts.psam,
      };
      if (slots > 1) {
        const { startServeSlots } = await import('./serve-slots.js');
        await (await startServeSlots({ ...common, slots, images })).done;
        return;
      }
      await serve({ ...common, image: images[0] });
    },
  );
}
