/**
 * @module `drmb card`: the options every card subcommand shares (--reader, --sim, --trace, --record,
 * --exclusive, --json) and opening the host stack they describe over a PC/SC reader or an in-process
 * simulated card.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import type { ExclusiveTransport } from '../../host/exclusive-transport.js';
import { directTransport } from '../../host/direct-transport.js';
import { hostStack, openReader } from '../../host/pcsc.js';
import type { Transport } from '../../host/transport.js';
import { UsageError } from '../output.js';
import { loadSimImage } from '../sim/load-sim-image.js';

/** The shared options, as commander parses them. */
export interface CardOptions {
  /** reader name fragment or index (default: DRMB_READER, else the first reader with a card) */
  reader?: string;
  /** card image file of an in-process simulated card, instead of a reader */
  sim?: string;
  trace?: boolean;
  /** transcript file ("=> hex" / "<= hex" lines, secrets redacted) */
  record?: string;
  /** SCARD_SHARE_EXCLUSIVE for the session */
  exclusive?: boolean;
  json?: boolean;
}

/** Where trace lines go (stderr unless a test says otherwise). */
export interface CardIo {
  traceSink?: (line: string) => void;
  env?: Record<string, string | undefined>;
}

/** An open card: the serialized host stack, what it is, and its ATR. */
export interface CardConnection {
  transport: ExclusiveTransport;
  /** "PC/SC Virtual PCD 00 00" or "simulated card card.json" */
  source: string;
  atr: Uint8Array;
  close(): Promise<void>;
}

/** Adds the shared options to a subcommand. */
export function addCardOptions(cmd: Cli): Cli {
  return cmd
    .option('--reader <name|index>', 'reader name fragment or index (default: $DRMB_READER, else the first reader with a card)')
    .option('--sim <image>', 'use an in-process simulated card loaded from this image file instead of a reader (the file is not changed)')
    .option('--exclusive', 'connect in exclusive mode: no other application uses the card until the command ends')
    .option('--trace', 'trace every APDU on stderr (PINs and keys redacted)')
    .option('--record <file>', 'write a transcript ("=> hex" / "<= hex", secrets redacted) that ReplayTransport replays')
    .option('--json', 'machine-readable output');
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

/**
 * Opens the card the options name: the simulated card of --sim (loaded lazily, so reader use never
 * loads the simulator), or the reader of --reader / DRMB_READER / the first with a card. Throws
 * UsageError for contradictory options or an unreadable or damaged image, TransportError when the reader or
 * PC/SC is not there.
 */
export async function openCard(opts: CardOptions, io: CardIo = {}): Promise<CardConnection> {
  if (opts.sim !== undefined && opts.reader !== undefined) throw new UsageError('--sim and --reader exclude each other');
  if (opts.sim !== undefined && opts.exclusive) throw new UsageError('--exclusive applies to readers, not to --sim');
  const trace = opts.trace ? { sink: io.traceSink ?? ((line: string) => void process.stderr.write(`${line}\n`)) } : undefined;
  if (opts.sim !== undefined) {
    const image = opts.sim;
    if (!existsSync(image)) throw new UsageError(`card image ${image} does not exist`);
    const card = await loadSimImage(image);
    const atr = card.powerOn();
    const source = `simulated card ${image}`;
    const record = opts.record ? { sink: transcriptSink(opts.record, source) } : undefined;
    const transport = hostStack(directTransport(card, source), atr, { trace, record });
    return { transport, source, atr, close: () => transport.close() };
  }
  const reader = await openReader(opts.reader, {
    share: opts.exclusive ? 'exclusive' : 'shared',
    trace,
    // the header names the reader, known only once picked: a lazy sink
    record: opts.record ? { sink: lazyRecord(opts.record) } : undefined,
    env: io.env,
  });
  return { transport: reader, source: reader.description, atr: reader.atr, close: () => reader.close() };
}

function lazyRecord(file: string): (line: string) => void {
  let sink: ((line: string) => void) | undefined;
  return (line) => {
    sink ??= transcriptSink(file, 'PC/SC reader');
    sink(line);
  };
}

/**
 * Opens the card, runs `collect` holding the card (one lease: no other caller's APDU in between) and
 * closes it, also when `collect` fails.
 */
export async function withCard<T>(opts: CardOptions, collect: (t: Transport, conn: CardConnection) => Promise<T>, io: CardIo = {}): Promise<T> {
  const conn = await openCard(opts, io);
  try {
    return await conn.transport.lease((t) => collect(t, conn));
  } finally {
    await conn.close();
  }
}

/** Yuan text of an amount in fen: 17100 -> "171.00". */
export function yuan(amountFen: number): string {
  const sign = amountFen < 0 ? '-' : '';
  const abs = Math.abs(amountFen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
