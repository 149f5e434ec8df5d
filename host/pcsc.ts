/**
 * @module The PC/SC backend (PC/SC Workgroup spec part 5, pcsc-lite / WinSCard): lists readers, picks
 * one by name fragment, index or DRMB_READER, connects a Transport to its card through the optional
 * `smartcard` N-API binding (loaded lazily), maps binding errors to TransportError, and builds the
 * default host stack (GET RESPONSE, Le retry, chaining or extended length, trace, recorder, serialized
 * access) over it.
 *
 * Exclusive access. The binding has no SCardBeginTransaction, and SCardReconnect to
 * SCARD_SHARE_EXCLUSIVE for a lease and back to SCARD_SHARE_SHARED afterwards is not usable with
 * pcsc-lite 1.9.9: after the reconnect back to shared, every other application's SCardConnect to the
 * reader blocks ("Waiting for release of lock" in pcscd's debug log) until our handle disconnects
 * (measured with vpcd 0.8: a second process's connect waited 1.5 s, exactly until our disconnect).
 * So leases serialize the callers of this process (ExclusiveTransport, no hooks), and
 * `share: 'exclusive'` connects in SCARD_SHARE_EXCLUSIVE for the whole session when other processes
 * must be kept off the card (issuance desks, POS).
 */
import { TransportError } from './errors.js';
import { ExclusiveTransport } from './exclusive-transport.js';
import { atrAllowsExtendedLength, commandChaining } from './middleware/chaining.js';
import { completeResponse } from './middleware/complete-response.js';
import { recorder, type RecorderOptions } from './middleware/recorder.js';
import { trace, type TraceOptions } from './middleware/trace.js';
import { stack, type Middleware, type Transport, wrapTransport } from './transport.js';

// ---------------------------------------------------------------------------------------------
// The parts of the `smartcard` binding used here, typed locally: the package is an optional
// dependency (native, built at install), imported by a computed name so that typechecking and every
// other module work where it is not installed.

/** A connected card handle of the binding. `disconnect` and `getStatus` are synchronous. */
export interface PcscCardHandle {
  readonly protocol: number;
  readonly atr: Uint8Array | null;
  transmit(command: Uint8Array, options?: { maxRecvLength?: number }): Promise<Uint8Array>;
  getStatus(): { state: number; protocol: number; atr: Uint8Array };
  disconnect(disposition?: number): void;
  reconnect(shareMode?: number, protocol?: number, initialization?: number): Promise<number>;
}

export interface PcscReaderHandle {
  readonly name: string;
  readonly state: number;
  readonly atr: Uint8Array | null;
  connect(shareMode: number, protocol: number): Promise<PcscCardHandle>;
}

/** Reader state as SCardGetStatusChange reports it. */
export interface PcscReaderState {
  name: string;
  state: number;
  changed?: boolean;
  atr?: Uint8Array | null;
}

/** A PC/SC context. `listReaders` is synchronous; run one `waitForChange` per context at a time. */
export interface PcscContext {
  readonly isValid: boolean;
  listReaders(): PcscReaderHandle[];
  /** resolves with the states, [] on timeout, null when cancelled */
  waitForChange(readers?: PcscReaderState[], timeoutMs?: number): Promise<PcscReaderState[] | null>;
  cancel(): void;
  close(): void;
}

export interface PcscBinding {
  Context: new () => PcscContext;
  SCARD_SHARE_SHARED: number;
  SCARD_SHARE_EXCLUSIVE: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_LEAVE_CARD: number;
  SCARD_STATE_CHANGED: number;
  SCARD_STATE_UNKNOWN: number;
  SCARD_STATE_UNAVAILABLE: number;
  SCARD_STATE_EMPTY: number;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_EXCLUSIVE: number;
  SCARD_STATE_INUSE: number;
  SCARD_STATE_MUTE: number;
}

/** The binding's package name; a variable, so TypeScript does not resolve the optional module. */
const BINDING_MODULE = 'smartcard';

let bindingPromise: Promise<PcscBinding> | undefined;

/**
 * Loads the `smartcard` binding once. Rejects with TransportError('unavailable') saying how to install
 * it when it is missing or its native part did not build.
 */
export function loadPcsc(): Promise<PcscBinding> {
  bindingPromise ??= (async () => {
    try {
      const mod = (await import(BINDING_MODULE)) as PcscBinding & { default?: PcscBinding };
      // a CommonJS module: its exports arrive as the default export
      return mod.default?.Context ? mod.default : mod;
    } catch (e) {
      bindingPromise = undefined; // let a later call retry (e.g. after npm install)
      throw new TransportError(
        `the PC/SC binding "${BINDING_MODULE}" (optional dependency) is not installed or did not build: ` +
          `install libpcsclite-dev (Debian/Ubuntu; pcsc-lite-devel elsewhere) and run npm install (${(e as Error).message})`,
        e,
        'unavailable',
      );
    }
  })();
  return bindingPromise;
}

// ---------------------------------------------------------------------------------------------
// Error mapping

/**
 * The binding rejects with plain Errors whose message is pcsc-lite's error text (pcsc_errors.h of
 * the binding); its JS error classes carry the SCARD_* code. Both are matched here.
 */
const KIND_BY_MESSAGE: [RegExp, TransportError['kind']][] = [
  [/card was removed|no smart card present|card was reset|card is unpowered|card is unresponsive|transaction failed|card is not supported/i, 'removed'],
  [/service not running|service stopped|communication error|no readers available|reader unavailable|unknown reader|sharing violation|context is not valid|invalid handle/i, 'unavailable'],
  [/timed out/i, 'timeout'],
  [/cancelled/i, 'cancelled'],
  [/card is not connected/i, 'closed'],
];

/** SCARD_* codes (PC/SC part 5 / pcsc-lite pcsclite.h) of the binding's error classes. */
const KIND_BY_CODE = new Map<number, TransportError['kind']>([
  [0x80100069, 'removed'], // SCARD_W_REMOVED_CARD
  [0x80100068, 'removed'], // SCARD_W_RESET_CARD
  [0x8010000c, 'removed'], // SCARD_E_NO_SMARTCARD
  [0x80100016, 'removed'], // SCARD_E_NOT_TRANSACTED
  [0x8010001d, 'unavailable'], // SCARD_E_NO_SERVICE
  [0x8010001e, 'unavailable'], // SCARD_E_SERVICE_STOPPED
  [0x8010002e, 'unavailable'], // SCARD_E_NO_READERS_AVAILABLE
  [0x80100017, 'unavailable'], // SCARD_E_READER_UNAVAILABLE
  [0x8010000b, 'unavailable'], // SCARD_E_SHARING_VIOLATION
  [0x8010000a, 'timeout'], // SCARD_E_TIMEOUT
  [0x80100002, 'cancelled'], // SCARD_E_CANCELLED
]);

/** The TransportError kind for an error of the binding; 'unavailable' when it is not recognized. */
export function pcscErrorKind(e: unknown): TransportError['kind'] {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'number') {
    const byCode = KIND_BY_CODE.get(code >>> 0);
    if (byCode) return byCode;
  }
  const name = (e as { name?: unknown })?.name;
  if (name === 'CardRemovedError') return 'removed';
  if (name === 'ServiceNotRunningError' || name === 'NoReadersError' || name === 'SharingViolationError') return 'unavailable';
  if (name === 'TimeoutError') return 'timeout';
  const message = e instanceof Error ? e.message : String(e);
  for (const [re, kind] of KIND_BY_MESSAGE) if (re.test(message)) return kind;
  return 'unavailable';
}

/** True when the error says pcscd is not running or went away (the context must be recreated). */
export function isServiceGone(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'number' && (code >>> 0 === 0x8010001d || code >>> 0 === 0x8010001e)) return true;
  if ((e as { name?: unknown })?.name === 'ServiceNotRunningError') return true;
  const message = e instanceof Error ? e.message : String(e);
  return /service not running|service stopped|communication error|context is not valid|invalid handle/i.test(message);
}

/** Wraps an error of the binding in a TransportError with a message saying what failed and what to do. */
export function pcscTransportError(e: unknown, what: string): TransportError {
  if (e instanceof TransportError) return e;
  const kind = pcscErrorKind(e);
  const detail = e instanceof Error ? e.message : String(e);
  const hint =
    isServiceGone(e) && /service/i.test(detail)
      ? ' (is pcscd running? start it with "systemctl start pcscd.socket" or "pcscd")'
      : /no smart card present/i.test(detail)
        ? ' (no card in the reader)'
        : kind === 'removed'
          ? ' (card removed or reset: the outcome of the last command is unknown; reconnect and check, e.g. with GET TRANSACTION PROVE)'
          : /sharing violation/i.test(detail)
            ? ' (another application holds the card exclusively)'
            : '';
  return new TransportError(`${what}: ${detail}${hint}`, e, kind);
}

/** Opens a context, mapping "service not running" to a TransportError with advice. */
export function openContext(binding: PcscBinding): PcscContext {
  try {
    return new binding.Context();
  } catch (e) {
    throw pcscTransportError(e, 'cannot open a PC/SC context');
  }
}

// ---------------------------------------------------------------------------------------------
// Readers

/** One reader as `listReaders` reports it. */
export interface ReaderInfo {
  name: string;
  /** position in the PC/SC reader list (what `--reader 0` selects) */
  index: number;
  /** a card is in the reader and answered reset (not mute) */
  cardPresent: boolean;
  /** the card's ATR, when a card is present */
  atr?: Uint8Array;
  /** another application has the card connected */
  inUse?: boolean;
  /** another application has the card connected exclusively */
  exclusive?: boolean;
}

/** Reader flags (SCARD_STATE_*) as a ReaderInfo; pure. */
export function readerInfo(binding: Pick<PcscBinding, 'SCARD_STATE_PRESENT' | 'SCARD_STATE_MUTE' | 'SCARD_STATE_INUSE' | 'SCARD_STATE_EXCLUSIVE'>, name: string, index: number, state: number, atr: Uint8Array | null | undefined): ReaderInfo {
  const cardPresent = (state & binding.SCARD_STATE_PRESENT) !== 0 && (state & binding.SCARD_STATE_MUTE) === 0;
  const info: ReaderInfo = { name, index, cardPresent };
  if (cardPresent && atr && atr.length) info.atr = new Uint8Array(atr);
  if (state & binding.SCARD_STATE_INUSE) info.inUse = true;
  if (state & binding.SCARD_STATE_EXCLUSIVE) info.exclusive = true;
  return info;
}

/** The readers of a context; [] when pcsc-lite has none (SCARD_E_NO_READERS_AVAILABLE may be thrown). */
export function contextReaders(ctx: PcscContext): PcscReaderHandle[] {
  try {
    return ctx.listReaders();
  } catch (e) {
    if (/no readers available/i.test((e as Error)?.message ?? '') || (e as { name?: string })?.name === 'NoReadersError') return [];
    throw e;
  }
}

/** Lists the PC/SC readers and whether each has a card. Throws TransportError('unavailable') without binding or pcscd. */
export async function listReaders(): Promise<ReaderInfo[]> {
  const binding = await loadPcsc();
  const ctx = openContext(binding);
  try {
    return contextReaders(ctx).map((r, i) => readerInfo(binding, r.name, i, r.state, r.atr));
  } catch (e) {
    throw pcscTransportError(e, 'cannot list the PC/SC readers');
  } finally {
    ctx.close();
  }
}

/** The environment variable naming the default reader (fragment or index), as GlobalPlatformPro's GP_READER. */
export const READER_ENV = 'DRMB_READER';

const readerList = (readers: readonly ReaderInfo[]): string =>
  readers.length ? readers.map((r) => `${r.index}: ${r.name}${r.cardPresent ? '' : ' (no card)'}`).join('; ') : 'none';

/**
 * Chooses a reader. `selector` is a numeric index (a number, or a string of digits), or a name
 * fragment matched case-insensitively (an exact name wins over longer names containing it; a fragment
 * matching several readers is an error listing them). Without a selector, the environment variable
 * DRMB_READER is used the same way; without that, the first reader with a card. Pure; throws
 * TransportError('unavailable') naming the readers when nothing (or more than one) fits.
 */
export function pickReader(readers: readonly ReaderInfo[], selector?: string | number, env: Record<string, string | undefined> = process.env): ReaderInfo {
  let source = 'reader';
  let sel: string | number | undefined = selector;
  if (sel === undefined || sel === '') {
    const fromEnv = env[READER_ENV];
    if (fromEnv !== undefined && fromEnv.trim() !== '') {
      sel = fromEnv.trim();
      source = `${READER_ENV} reader`;
    }
  }
  if (sel === undefined || sel === '') {
    if (!readers.length) throw new TransportError('no PC/SC reader found (is the reader plugged in and pcscd running?)', undefined, 'unavailable');
    const withCard = readers.find((r) => r.cardPresent);
    if (!withCard) throw new TransportError(`no reader has a card; readers: ${readerList(readers)}`, undefined, 'removed');
    return withCard;
  }
  if (typeof sel === 'number' || /^\d+$/.test(sel)) {
    const index = Number(sel);
    const r = readers.find((x) => x.index === index);
    if (!r) throw new TransportError(`${source} index ${index} does not exist; readers: ${readerList(readers)}`, undefined, 'unavailable');
    return r;
  }
  const want = sel.toLowerCase();
  const exact = readers.filter((r) => r.name.toLowerCase() === want);
  if (exact.length === 1) return exact[0];
  const matches = readers.filter((r) => r.name.toLowerCase().includes(want));
  if (matches.length === 1) return matches[0];
  if (!matches.length) throw new TransportError(`no ${source} matches "${sel}"; readers: ${readerList(readers)}`, undefined, 'unavailable');
  throw new TransportError(`${source} "${sel}" is ambiguous, it matches: ${matches.map((r) => `${r.index}: ${r.name}`).join('; ')}`, undefined, 'unavailable');
}

// ---------------------------------------------------------------------------------------------
// The transport

/** How connectPcsc shares the card with other applications. */
export interface PcscConnectOptions {
  /** 'shared' (default): other applications may use the card between our APDUs; 'exclusive': SCARD_SHARE_EXCLUSIVE for the whole session */
  share?: 'shared' | 'exclusive';
}

/** A Transport to the card in a PC/SC reader. */
export interface PcscTransport extends Transport {
  readonly atr: Uint8Array;
  readonly readerName: string;
  /** 'T=0' or 'T=1', as negotiated by the reader */
  readonly protocol: string;
  readonly share: 'shared' | 'exclusive';
  /**
   * The binding's own handle of this connection, for what the transport does not do (SCardControl,
   * SCardStatus) and for measuring the host against the bare binding on the same connection.
   * Transmitting through it bypasses the host stack's serialization and its checks.
   */
  readonly handle: PcscCardHandle;
}

/** Receive buffer for an APDU: 258 for short Le, 65538 for an extended one (ISO 7816-4 5.1: Lc or Le field starting 00 after a 5th byte). */
export function receiveLength(command: Uint8Array): number {
  return command.length > 5 && command[4] === 0 ? 65538 : 258;
}

/**
 * Connects to the card in `readerName` (exact name) with T=0 or T=1. The transport's transmit rejects
 * with TransportError('removed') when the card was removed or reset (the outcome of that command is
 * unknown: resolve it with GET TRANSACTION PROVE after reconnecting), 'unavailable' when pcscd went
 * away, 'closed' after close(); close() disconnects with SCARD_LEAVE_CARD (the card stays powered and
 * its applet state is kept). Not safe for concurrent transmits: use openReader's serialized stack.
 */
export async function connectPcsc(readerName: string, options: PcscConnectOptions = {}): Promise<PcscTransport> {
  const binding = await loadPcsc();
  const share = options.share ?? 'shared';
  const ctx = openContext(binding);
  let card: PcscCardHandle;
  try {
    const reader = contextReaders(ctx).find((r) => r.name === readerName);
    if (!reader) throw new TransportError(`PC/SC has no reader named "${readerName}"`, undefined, 'unavailable');
    card = await reader.connect(share === 'exclusive' ? binding.SCARD_SHARE_EXCLUSIVE : binding.SCARD_SHARE_SHARED, binding.SCARD_PROTOCOL_T0 | binding.SCARD_PROTOCOL_T1);
  } catch (e) {
    ctx.close();
    throw pcscTransportError(e, `cannot connect to the card in "${readerName}"`);
  }
  const atrBytes = card.atr ?? (() => {
    try {
      return card.getStatus().atr;
    } catch {
      return null;
    }
  })();
  const atr = atrBytes ? new Uint8Array(atrBytes) : new Uint8Array(0);
  const protocol = card.protocol === binding.SCARD_PROTOCOL_T0 ? 'T=0' : card.protocol === binding.SCARD_PROTOCOL_T1 ? 'T=1' : `protocol ${card.protocol}`;
  const description = `PC/SC ${readerName}`;
  let closed = false;
  let failure: TransportError | undefined;
  const extended = { maxRecvLength: 65538 };
  const sendBuffer = Buffer.alloc(4 + 1 + 255 + 1);
  /** sendBuffer's first n bytes, by n: made once each */
  const sendViews: Buffer[] = [];
  // the reactions of every transmit, made once per connection (no closure per APDU)
  const answered = (r: Uint8Array): Uint8Array => {
    if (r.length < 2) {
      // ISO 7816-4 5.1: every response ends with SW1 SW2. vpcd (and readers whose card loses power
      // mid-command) report success with no bytes; the reader still shows the card for a while.
      failure = new TransportError(
        `${description}: the card answered no status word (removed or lost power during the command; its outcome is unknown, reconnect and check, e.g. with GET TRANSACTION PROVE)`,
        undefined,
        'removed',
      );
      throw failure;
    }
    // a plain Uint8Array view of the Buffer (no copy)
    return new Uint8Array(r.buffer, r.byteOffset, r.length);
  };
  const failed = (e: unknown): Promise<never> => {
    const err = pcscTransportError(e, `${description}: transmit failed`);
    if (err.kind === 'removed' || err.kind === 'unavailable') failure = err;
    return Promise.reject(err);
  };
  return {
    description,
    atr,
    readerName,
    protocol,
    share,
    handle: card,
    transmit(command: Uint8Array): Promise<Uint8Array> {
      if (closed) return Promise.reject(new TransportError(`${description} is closed`, undefined, 'closed'));
      // a removed card's handle stays dead (pcsc-lite answers SCARD_W_REMOVED_CARD from then on)
      if (failure) return Promise.reject(failure);
      try {
        // Short commands go through one send buffer of this connection, whose memory V8 has already
        // moved off its heap: a fresh small Uint8Array would be moved there by the binding on every
        // APDU (an allocation the garbage collector then tracks). The binding copies the bytes before
        // transmit returns, so the buffer is free again at once. Through pcscd every step the host
        // takes per APDU costs several times its in-process time (the PC/SC benchmark, issue 15).
        if (command.length <= sendBuffer.length) {
          sendBuffer.set(command);
          const out = (sendViews[command.length] ??= sendBuffer.subarray(0, command.length));
          // no options for a short answer: the binding's receive buffer is 258 bytes unless told otherwise
          return (receiveLength(command) > 258 ? card.transmit(out, extended) : card.transmit(out)).then(answered, failed);
        }
        return card.transmit(Buffer.from(command.buffer, command.byteOffset, command.length), extended).then(answered, failed);
      } catch (e) {
        return failed(e);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      try {
        card.disconnect(binding.SCARD_LEAVE_CARD);
      } catch {
        // the card or the service is gone: nothing left to release but the context
      }
      try {
        ctx.close();
      } catch {
        // idem
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The default host stack

/** Optional layers of hostStack: an APDU trace and a transcript recorder. */
export interface HostStackOptions {
  /** trace lines (PINs and key DGIs redacted): true = on stderr, or trace options */
  trace?: boolean | TraceOptions;
  /** transcript of the exchange ("=> hex" / "<= hex", redacted) */
  record?: RecorderOptions;
  /** use extended length for long commands instead of chaining; default: as the ATR allows */
  extended?: boolean;
  /**
   * leave 61xx and 6Cxx to the caller instead of sending GET RESPONSE or the command again: for a
   * conformance runner, which checks the card's own answers to both
   */
  rawResponses?: boolean;
}

/**
 * The host's middleware over a base transport (reader or in-process card): GET RESPONSE on 61xx,
 * Le retry on 6Cxx, chaining (or extended length when `atr` announces it), then trace and recorder
 * on the logical APDUs (so a transcript replays without the lower layers, and redaction sees whole
 * commands, not chained blocks), and serialized access on top.
 */
export function hostStack(base: Transport, atr: Uint8Array, options: HostStackOptions = {}): ExclusiveTransport {
  const layers: Middleware[] = [...(options.rawResponses ? [] : [completeResponse()]), chainingWhenLong(options.extended ?? atrAllowsExtendedLength(atr))];
  if (options.trace) layers.push(trace(options.trace === true ? {} : options.trace));
  if (options.record) layers.push(recorder(options.record));
  return new ExclusiveTransport(stack(base, ...layers));
}

/**
 * commandChaining, bypassed without decoding for APDUs of at most 4 + 1 + 255 + 1 bytes: those carry at
 * most 255 data bytes, which commandChaining passes through unchanged anyway. Saves its APDU decode
 * (about 3 us, a third of the host's time per APDU) on the common short command.
 */
function chainingWhenLong(extended: boolean): Middleware {
  const chaining = commandChaining({ extended });
  return (next) => {
    const long = chaining(next);
    return wrapTransport(next, (command) => (command.length <= 261 ? next.transmit(command) : long.transmit(command)));
  };
}

/**
 * Options of openReader: the host stack's layers, the sharing mode, and the environment DRMB_READER is
 * read from.
 */
export interface OpenReaderOptions extends HostStackOptions, PcscConnectOptions {
  /** environment for DRMB_READER (default process.env) */
  env?: Record<string, string | undefined>;
}

/** The transport openReader gives: serialized (lease()), with the card's ATR and the reader's name. */
export type ReaderTransport = ExclusiveTransport & { readonly atr: Uint8Array; readonly readerName: string; readonly protocol: string; readonly handle: PcscCardHandle };

/**
 * Picks a reader (see pickReader), connects and returns the default host stack over it:
 * pcsc transport -> GET RESPONSE -> Le retry -> chaining / extended length -> trace / recorder ->
 * ExclusiveTransport. Close it to disconnect (SCARD_LEAVE_CARD).
 */
export async function openReader(selector?: string | number, options: OpenReaderOptions = {}): Promise<ReaderTransport> {
  const reader = pickReader(await listReaders(), selector, options.env);
  const base = await connectPcsc(reader.name, options);
  const top = hostStack(base, base.atr, options);
  return Object.assign(top, { atr: base.atr, readerName: base.readerName, protocol: base.protocol, handle: base.handle });
}
