/**
 * @module The simulated card's operating system: ATR, APDU decoding, basic logical channel, SELECT by
 * AID, command chaining (ISO/IEC 7816-4 5.3.3), response chaining with 61xx / GET RESPONSE and 6Cxx,
 * extended length, and routing to the selected applet. Applet-specific checks live in the applet.
 */
import { type CommandApdu, decodeCommandApdu, encodeResponseApdu } from '../applet-spec/codec/apdu.js';
import { select as selectCommand } from '../applet-spec/commands/select.js';
import { FormatError } from '../applet-spec/errors.js';
import { SW, swBytesAvailable, swWrongLe } from '../applet-spec/status-words.js';
import { IsoException } from './iso-exception.js';
import { PowerLossError } from './persistent-store.js';

/** What the card OS needs from an applet. */
export interface Applet {
  readonly aid: Uint8Array;
  /** SELECT: returns the FCI and the status word to answer it with (9000 or a warning) */
  select(): { data: Uint8Array; sw: number };
  /** the applet loses selection (another SELECT, reset, power off) */
  deselect(): void;
  /**
   * Secure messaging on the wire, before command chaining is undone (GP: each block is wrapped):
   * returns the command in clear; throws IsoException on a bad MAC.
   */
  unwrapCommand?(command: Uint8Array, apdu: CommandApdu): Uint8Array;
  /** secure messaging of a response (data + SW) */
  wrapResponse?(response: Uint8Array, command: CommandApdu): Uint8Array;
  /** processes a complete command; returns the response data (SW 9000) or throws IsoException */
  process(apdu: CommandApdu): Uint8Array;
  /** true for commands whose response must not be recomputed: 6Cxx is never used for them */
  hasPersistentEffect(apdu: CommandApdu): boolean;
}

/** Largest command data accepted through chaining (bytes). */
export const MAX_CHAINED_DATA = 8192;

/**
 * T=1 ATR: TS 3B, T0 8E (TD1 present, 14 historical bytes), TD1 80 (TD2 present, T=0), TD2 01 (T=1),
 * historical bytes 80 (compact-TLV) 73 00 00 C0 (card capabilities: chaining and extended Lc/Le,
 * ISO 7816-4 8.1.1.2.7) 58 "DRMB-SIM" (card issuer's data), then TCK.
 */
export function buildAtr(): Uint8Array {
  const body = [0x8e, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xc0, 0x58, ...new TextEncoder().encode('DRMB-SIM')];
  const tck = body.reduce((a, b) => a ^ b, 0);
  return Uint8Array.from([0x3b, ...body, tck]);
}

const swOnly = (sw: number): Uint8Array => Uint8Array.of(sw >> 8, sw & 0xff);

interface ChainState {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  parts: Uint8Array[];
  length: number;
}

/** The card OS of one contact interface with the basic logical channel only. */
export class CardOs {
  readonly atr = buildAtr();
  private selected: Applet | undefined;
  private pending: Uint8Array | undefined;
  private chain: ChainState | undefined;
  private powered = false;

  constructor(private readonly applets: readonly Applet[]) {}

  powerOn(): Uint8Array {
    this.powered = true;
    this.clearSession();
    return this.atr;
  }

  powerOff(): void {
    this.powered = false;
    this.clearSession();
  }

  reset(): Uint8Array {
    return this.powerOn();
  }

  private clearSession(): void {
    this.selected?.deselect();
    this.selected = undefined;
    this.pending = undefined;
    this.chain = undefined;
  }

  /** One command APDU in, one response APDU out. Only PowerLossError escapes. */
  transmit(bytes: Uint8Array): Uint8Array {
    if (!this.powered) this.powerOn();
    try {
      return this.handle(bytes);
    } catch (e) {
      if (e instanceof PowerLossError) {
        this.powered = false;
        this.selected = undefined;
        this.pending = undefined;
        this.chain = undefined;
        throw e;
      }
      if (e instanceof IsoException) return swOnly(e.sw);
      // A fault in the card's own code: a real card answers 6F00 and keeps going.
      return swOnly(SW.NO_PRECISE_DIAGNOSIS);
    }
  }

  private handle(bytes: Uint8Array): Uint8Array {
    let apdu: CommandApdu;
    try {
      apdu = decodeCommandApdu(bytes);
    } catch (e) {
      if (e instanceof FormatError) {
        this.pending = undefined;
        this.chain = undefined;
        return swOnly(SW.WRONG_LENGTH);
      }
      throw e;
    }
    const { cla, ins } = apdu;
    // ISO 7816-4 5.4.1: CLA FF is invalid; 0x and 8x/9x classes are used here, others unsupported.
    if (cla === 0xff || ((cla & 0xe0) !== 0x00 && (cla & 0xe0) !== 0x80)) return this.fail(SW.CLA_NOT_SUPPORTED);
    if (cla & 0x03) return this.fail(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);

    // GET RESPONSE (ISO 7816-4 11.6.1) takes the pending response; any other command drops it. Hosts
    // send it with the class of the command whose response they collect (00, 80, with SM bits).
    if ((cla & 0x73) === 0x00 && ins === 0xc0) {
      if (apdu.p1 !== 0 || apdu.p2 !== 0) return this.fail(SW.INCORRECT_P1P2);
      // GET RESPONSE is case 2 (ISO 7816-4 11.6.1): a data field is a wrong length.
      if (apdu.data.length > 0) return this.fail(SW.WRONG_LENGTH);
      if (!this.pending) return this.fail(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
      const data = this.pending;
      const ne = apdu.le ?? 256;
      // ISO 7816-4 6CXX (wrong Le, SW2 the exact length): the bytes stay pending for the GET RESPONSE that follows with the
      // right Le, so the retry gets them rather than 6985.
      if (data.length <= 256 && ne < data.length) return swOnly(swWrongLe(data.length));
      this.pending = undefined;
      return this.deliver(data, SW.OK, ne, false);
    }
    this.pending = undefined;

    // SELECT by DF name (ISO 7816-4 11.1.1), never secure-messaged: it ends any secure channel
    // (GP 2.3 10.2) by deselecting; an unknown AID keeps the current selection.
    if (apdu.cla === 0x00 && apdu.ins === 0xa4 && apdu.p1 === 0x04) {
      // The SELECT definition's layout (AID of 5..16 bytes, ISO 7816-5) decides 6A80, as for every
      // other command; 6A82 is only for a well-formed AID no applet has.
      try {
        selectCommand.decode(apdu);
      } catch (e) {
        if (e instanceof FormatError) return this.fail(SW.INCORRECT_DATA);
        throw e;
      }
      const applet = this.applets.find((a) => equal(a.aid, apdu.data));
      if (!applet) return this.fail(SW.FILE_NOT_FOUND);
      if (apdu.p2 !== 0x00) return this.fail(SW.INCORRECT_P1P2);
      this.selected?.deselect();
      this.selected = applet;
      const r = applet.select();
      if (r.sw !== SW.OK && r.sw >> 8 !== 0x62 && r.sw >> 8 !== 0x63) {
        this.selected = undefined;
        return swOnly(r.sw);
      }
      return this.deliver(r.data, r.sw, apdu.le ?? 256, false);
    }
    // SELECT is the card OS's whatever is selected, a terminated application included: selection other
    // than by DF name (P1 04) is not supported (ISO 7816-4 11.1.1), so 6A86 rather than 6D00.
    if (apdu.cla === 0x00 && apdu.ins === 0xa4) return this.fail(SW.INCORRECT_P1P2);
    // Secure messaging is the applet's: it unwraps what its open channel protects and passes the rest.
    const sm = this.selected?.unwrapCommand ? this.selected : undefined;
    let plain = apdu;
    if (sm) {
      try {
        plain = decodeCommandApdu(sm.unwrapCommand!(bytes, apdu));
      } catch (e) {
        this.chain = undefined;
        if (e instanceof IsoException) return swOnly(e.sw);
        if (e instanceof FormatError) return swOnly(SW.WRONG_LENGTH);
        throw e;
      }
    }

    // Command chaining (ISO 7816-4 5.3.3): collect blocks, answer 9000, process on the last one.
    if (plain.cla & 0x10) {
      if (this.chain && (this.chain.ins !== plain.ins || this.chain.p1 !== plain.p1 || this.chain.p2 !== plain.p2)) {
        this.chain = undefined;
        return this.fail(SW.LAST_COMMAND_EXPECTED);
      }
      this.chain ??= { cla: plain.cla & ~0x10, ins: plain.ins, p1: plain.p1, p2: plain.p2, parts: [], length: 0 };
      this.chain.parts.push(plain.data);
      this.chain.length += plain.data.length;
      if (this.chain.length > MAX_CHAINED_DATA) {
        this.chain = undefined;
        return this.fail(SW.WRONG_LENGTH);
      }
      return this.respond(swOnly(SW.OK), plain, sm);
    }
    if (this.chain) {
      const c = this.chain;
      this.chain = undefined;
      if (c.ins !== plain.ins || c.p1 !== plain.p1 || c.p2 !== plain.p2) return this.fail(SW.LAST_COMMAND_EXPECTED);
      const data = new Uint8Array(c.length + plain.data.length);
      let off = 0;
      for (const p of [...c.parts, plain.data]) {
        data.set(p, off);
        off += p.length;
      }
      plain = { ...plain, data };
    }

    if (!this.selected) return this.fail(SW.INS_NOT_SUPPORTED);

    const applet = this.selected;
    let data: Uint8Array;
    try {
      data = applet.process(plain);
    } catch (e) {
      if (e instanceof IsoException) return this.respond(swOnly(e.sw), plain, sm);
      throw e;
    }
    const persistent = applet.hasPersistentEffect(plain);
    if (sm && applet.wrapResponse) {
      // The R-MAC covers the whole response; long wrapped responses are then delivered in parts.
      const wrapped = applet.wrapResponse(concat(data, swOnly(SW.OK)), plain);
      return this.deliver(wrapped.subarray(0, wrapped.length - 2), (wrapped[wrapped.length - 2] << 8) | wrapped[wrapped.length - 1], plain.le ?? 256, persistent);
    }
    return this.deliver(data, SW.OK, plain.le ?? 256, persistent);
  }

  private respond(response: Uint8Array, apdu: CommandApdu, sm: Applet | undefined): Uint8Array {
    return sm?.wrapResponse ? sm.wrapResponse(response, apdu) : response;
  }

  private fail(sw: number): Uint8Array {
    return swOnly(sw);
  }

  /**
   * Sends data limited by Ne: whole when it fits; 6Cxx (exact length) when a short response was asked
   * with the wrong Le and recomputing it is harmless; otherwise Ne bytes with 61xx and the rest kept
   * for GET RESPONSE.
   */
  private deliver(data: Uint8Array, sw: number, ne: number, persistent: boolean): Uint8Array {
    if (data.length <= ne) return encodeResponseApdu({ data, sw });
    if (!persistent && data.length <= 256 && ne < 256) return swOnly(swWrongLe(data.length));
    this.pending = data.slice(ne);
    return encodeResponseApdu({ data: data.subarray(0, ne), sw: swBytesAvailable(Math.min(this.pending.length, 256)) });
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
