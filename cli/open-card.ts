/**
 * @module Opens the card a drmb command works on: the PC/SC reader of --reader (or DRMB_READER, or the
 * first with a card), or the in-process simulated card of a --sim image file, under the host stack,
 * with the image kept as the command needs: untouched (reading commands), saved when the command ends
 * (personalization, POS), or saved after every command that changed the card's persistent memory
 * (value commands), as a real card's EEPROM holds a commit the moment it answers.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { type DirectCard, directTransport } from '../host/direct-transport.js';
import type { ExclusiveTransport } from '../host/exclusive-transport.js';
import { hostStack, openReader } from '../host/pcsc.js';
import type { Transport } from '../host/transport.js';
import type { SimulatedCard } from '../simulator/simulated-card.js';
import type { SimulatedPsam } from '../simulator/simulated-psam.js';
import { UsageError } from './output.js';
import { loadPsamImage, loadSimImage, saveSimImage } from './sim/load-sim-image.js';

/**
 * What happens to a --sim image:
 * - 'read-only': never written (drmb card info, balance, log, apdu, recover);
 * - 'save-at-end': written when the card is closed, whatever happened (drmb perso, drmb pos pay);
 * - 'save-every-commit': written after every command that changed the card's persistent memory, so a
 *   host killed after a commit finds it on the card next time (drmb peer, drmb bank withdraw; see
 *   host/value-journal.ts).
 */
export type ImageSaving = 'read-only' | 'save-at-end' | 'save-every-commit';

/** The card options as commander parses them (cli/options.ts declares them). */
export interface CardTargetOptions {
  /** reader name fragment or index (default: DRMB_READER, else the first reader with a card) */
  reader?: string;
  /** card image file of an in-process simulated card, instead of a reader */
  sim?: string;
  /** every APDU on stderr, PINs and keys redacted */
  trace?: boolean;
  /** transcript file ("=> hex" / "<= hex" lines, secrets redacted) */
  record?: string;
  /** SCARD_SHARE_EXCLUSIVE for the session */
  exclusive?: boolean;
}

/** How to open the card. */
export interface OpenCardHow {
  image: ImageSaving;
  /** the option names, for messages ({ reader: '--from-reader', sim: '--from-sim' }); default --reader and --sim */
  names?: { reader: string; sim: string };
  /** where --trace lines go (default stderr) */
  traceSink?: (line: string) => void;
  /** the environment openReader reads DRMB_READER from (default process.env) */
  env?: Record<string, string | undefined>;
  /** the card is the terminal's PSAM: a --sim image is a PSAM image (SimulatedPsam), and a reader must be named */
  psam?: boolean;
}

/** An open card: the serialized host stack, what it is, and its ATR. */
export interface OpenedCard {
  transport: ExclusiveTransport;
  /** "PC/SC Virtual PCD 00 00" or "simulated card card.json" */
  source: string;
  atr: Uint8Array;
  /** closes the reader or the host stack; a 'save-at-end' image is saved first */
  close(): Promise<void>;
}

/**
 * Opens the card the options name. Throws UsageError for contradictory options or a missing, unreadable
 * or damaged image (before any card exists, so a damaged image is never written back), TransportError
 * when the reader or PC/SC is not there. The simulator is loaded only for --sim.
 */
export async function openCard(o: CardTargetOptions, how: OpenCardHow): Promise<OpenedCard> {
  const names = how.names ?? { reader: '--reader', sim: '--sim' };
  if (o.sim !== undefined && o.reader !== undefined) throw new UsageError(`${names.sim} and ${names.reader} exclude each other`);
  if (o.sim !== undefined && o.exclusive) throw new UsageError(`--exclusive applies to readers, not to ${names.sim}`);
  const trace = o.trace ? { sink: how.traceSink ?? ((line: string) => void process.stderr.write(`${line}\n`)) } : undefined;
  if (o.sim !== undefined) {
    const image = o.sim;
    if (!existsSync(image)) throw new UsageError(`${names.sim}: card image ${image} does not exist (create one with drmb sim create${how.psam ? ' --psam' : ''})`);
    const card = how.psam ? await loadPsamImage(image) : await loadSimImage(image);
    const atr = card.powerOn();
    const source = `simulated ${how.psam ? 'PSAM' : 'card'} ${image}`;
    const record = o.record ? { sink: transcriptSink(o.record, source) } : undefined;
    const base = how.image === 'save-every-commit' ? writeThrough(card, image) : card;
    const transport = hostStack(directTransport(base, source), atr, { trace, record });
    const close =
      how.image === 'save-at-end'
        ? async () => {
            try {
              saveSimImage(card, image);
            } finally {
              await transport.close();
            }
          }
        : () => transport.close();
    return { transport, source, atr, close };
  }
  // A PSAM's reader is always named: the default (the first reader with a card) would be the user's card.
  if (how.psam && o.reader === undefined) throw new UsageError(`${names.sim} IMAGE or ${names.reader} NAME is required`);
  const reader = await openReader(o.reader, {
    share: o.exclusive ? 'exclusive' : 'shared',
    trace,
    // the header names the reader, known only once picked: a lazy sink
    record: o.record ? { sink: lazyRecord(o.record) } : undefined,
    env: how.env,
  });
  return { transport: reader, source: reader.description, atr: reader.atr, close: () => reader.close() };
}

/**
 * Opens the card, runs `collect` holding it (one lease: no other caller's APDU in between) and closes
 * it, also when `collect` fails.
 */
export async function withCard<T>(o: CardTargetOptions, how: OpenCardHow, collect: (t: Transport, card: OpenedCard) => Promise<T>): Promise<T> {
  const card = await openCard(o, how);
  try {
    return await card.transport.lease((t) => collect(t, card));
  } finally {
    await card.close();
  }
}

/** The simulated card or PSAM, its image saved after every APDU that changed its persistent memory. */
function writeThrough(card: SimulatedCard | SimulatedPsam, image: string): DirectCard {
  return {
    get atr() {
      return card.atr;
    },
    transmit(command: Uint8Array): Uint8Array {
      const before = card.store.writeCount;
      try {
        return card.transmit(command);
      } finally {
        if (card.store.writeCount !== before) saveSimImage(card, image);
      }
    },
  };
}

/** Transcript sink for --record: truncates the file, writes a header, appends each line as it comes. */
function transcriptSink(file: string, source: string): (line: string) => void {
  try {
    writeFileSync(file, `# drmb card transcript, ${source}, ${new Date().toISOString()}\n`);
  } catch (e) {
    throw new UsageError(`cannot write the transcript ${file}: ${(e as Error).message}`);
  }
  return (line) => appendFileSync(file, `${line}\n`);
}

function lazyRecord(file: string): (line: string) => void {
  let sink: ((line: string) => void) | undefined;
  return (line) => {
    sink ??= transcriptSink(file, 'PC/SC reader');
    sink(line);
  };
}
