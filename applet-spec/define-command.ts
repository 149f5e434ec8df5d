/**
 * @module defineCommand: the one definition of an APDU command (header, request and response layouts,
 * states, security condition, status words, examples) from which the host encodes, the simulator
 * dispatches, the reference is generated and the conformance tests are derived.
 */
import { type CommandApdu, decodeCommandApdu, encodeCommandApdu } from './codec/apdu.js';
import type { Coder } from './codec/fields.js';
import { fromHex, hex } from '../base/hex.js';
import { FormatError } from './errors.js';
import type { ApplicationKeyName } from './dgis.js';
import type { AppState } from './lifecycle.js';
import { SW } from './status-words.js';

/** A header byte (P1 or P2, or P1P2 together) that carries a request parameter. */
export interface ParamDefinition<N extends string = string> {
  name: N;
  description: string;
  /** allowed values; any other value is answered 6A86 (6A88 for data-object tags) */
  allowed?: readonly number[];
}

/** Security condition checked before the command runs (card-commands.md "Security states"). */
export interface SecurityCondition {
  /** GP secure channel at least at this level (SCP03 security level bits) */
  channel?: 'C-MAC' | 'C-MAC+C-DEC';
  /** PIN verified since SELECT: always, or only when the amount exceeds the PIN threshold (DF09) */
  pin?: 'always' | 'above-threshold';
  /** PBOC line MAC (CLA 84/04, SM4 MAC algorithm 1, IV = the challenge from GET CHALLENGE) under this key */
  lineMac?: ApplicationKeyName;
  /** PBOC transaction MAC checked inside the data (MAC1 for purchase, MAC2 for load) under this key */
  transactionMac?: ApplicationKeyName;
  /** must immediately follow this command (by id), or one of these, in the same session */
  after?: string | readonly string[];
  /** any further condition, in words */
  note?: string;
}

/** The ids of the commands `security.after` allows directly before (none when the command may come any time). */
export function commandsBefore(security: { after?: string | readonly string[] }): readonly string[] {
  return security.after === undefined ? [] : typeof security.after === 'string' ? [security.after] : security.after;
}

/**
 * A worked example of a command, its request value and APDU with the response value and bytes, checked
 * both ways by the tests and printed in the reference.
 */
export interface CommandExample<Req, Res> {
  title: string;
  request: Req;
  /** the command APDU, hex */
  apdu: string;
  /** the response APDU including SW1 SW2, hex */
  response: string;
  /** the decoded response data, for 9000 responses */
  responseValue?: Res;
  /** Ne of this example when it differs from the definition's `le` */
  le?: number;
}

/** Header byte: a fixed value, or a named parameter. */
export type HeaderByte<N extends string> = number | ParamDefinition<N>;

/** The request fields a header byte contributes: { name: number } for a parameter, nothing for a fixed byte. */
export type ParamFields<H> = H extends { name: infer N extends string } ? Record<N, number> : Record<never, never>;

/**
 * What defineCommand takes for one command: header, parameters, request and response coders, the
 * lifecycle states and security it requires, the status words it may answer, and its examples.
 */
export interface CommandSpec<Data, Res, P1 extends HeaderByte<string>, P2 extends HeaderByte<string>> {
  /** the command's name in its specification's own words, e.g. "DEBIT FOR PURCHASE" */
  name: string;
  /** camelCase identifier; also the file and export name */
  id: string;
  summary: string;
  /** the specification clause this mirrors, e.g. "JR/T 0025.2 purchase" */
  mirrors: string;
  /** where and why this command departs from the starting command table the project was given (PBOC/GP/ISO conventions) */
  departs?: string;
  /** plain class byte; secure messaging sets b3 (0x04) where `secureMessaging` allows it */
  cla: number;
  /** further plain class bytes the command is accepted with (e.g. GET RESPONSE under a proprietary class) */
  otherClasses?: readonly number[];
  secureMessaging: 'never' | 'optional' | 'required';
  ins: number;
  p1: P1;
  p2: P2;
  /** P1 and P2 together carry one 16-bit parameter (e.g. a data-object tag); then p1 and p2 must be params of the same name */
  p1p2?: boolean;
  /** layout of the command data field; `empty` for none */
  request: Coder<Data>;
  /** expected response length Ne sent as Le: 256 for "00", undefined for no Le */
  le?: number;
  /** layout of the response data field; `empty` for none */
  response: Coder<Res>;
  /** states in which the command is accepted; in any other state the card answers 6985 */
  states: readonly AppState[];
  security: SecurityCondition;
  /** lifecycle transitions the command performs */
  transitions?: readonly { from: AppState; to: AppState }[];
  /** command-specific status words (the generic ones are added from the definition, see statusWords) */
  sw: readonly number[];
  /** the command moves value or writes keys: it commits atomically and is subject to tearing tests */
  persistent?: 'value' | 'keys' | 'data' | 'counters' | 'nonces';
  examples: readonly CommandExample<Data & ParamFields<P1> & ParamFields<P2>, Res>[];
}

/** A defined command. Request values carry the data fields plus any header parameters. */
export interface Command<Req, Res> extends Omit<CommandSpec<any, Res, HeaderByte<string>, HeaderByte<string>>, 'examples' | 'request'> {
  request: Coder<any>;
  examples: readonly CommandExample<Req, Res>[];
  /** every status word the command can return: 9000, its own, and the generic ones its definition implies */
  statusWords: readonly number[];
  /** true when `sw` is listed exactly or through its family (61xx, 6Cxx, 63Cx) */
  allows(sw: number): boolean;
  /**
   * Builds the command APDU from a request value. `secure` sets the secure-messaging CLA bit; it
   * defaults to true for commands that require secure messaging; pass false for the plain command
   * that a secure channel layer wraps.
   */
  encode(req: Req, opts?: { secure?: boolean; le?: number; extended?: boolean }): CommandApdu;
  /** the APDU bytes */
  encodeBytes(req: Req, opts?: { secure?: boolean; le?: number; extended?: boolean }): Uint8Array;
  /** parses a command APDU addressed to this command back into its request value (card side) */
  decode(apdu: CommandApdu): Req;
  /** true when the header (CLA without SM/chaining bits, INS, fixed P1/P2) selects this command */
  matches(apdu: Pick<CommandApdu, 'cla' | 'ins' | 'p1' | 'p2'>): boolean;
  decodeResponse(data: Uint8Array): Res;
  encodeResponse(res: Res): Uint8Array;
}

/** The request value of a defined command: its data fields plus its header parameters. */
export type RequestOf<C> = C extends Command<infer Req, infer _Res> ? Req : never;

/** The response value of a defined command, as its response coder reads and writes it. */
export type ResponseOf<C> = C extends Command<infer _Req, infer Res> ? Res : never;

/**
 * Status words the card OS and the secure-messaging layer may answer to any command, whatever its
 * definition (listed once here, and in the reference): 6700 a length no layout can hold or a
 * malformed APDU, 6881 a logical channel other than the basic one, 6883 a broken command chain,
 * 6E00 a class byte the command does not take (e.g. secure-messaging bits outside a session),
 * 6982 a command without the C-MAC an open SCP03 session requires (GP Amd D 6.2.4), 61xx more
 * response bytes for GET RESPONSE, 6Cxx the exact Le of a short answer that may be recomputed.
 */
export const CARD_OS_STATUS_WORDS: readonly number[] = [0x6700, 0x6881, 0x6883, 0x6e00, 0x6982, 0x6100, 0x6c00];

/** CLA bits that do not select a command: b5 chaining (0x10) and b3-b4 secure messaging (0x0C). */
export const CLA_CHAINING = 0x10;
export const CLA_SECURE_MESSAGING = 0x04;

function isParam<N extends string>(b: HeaderByte<N>): b is ParamDefinition<N> {
  return typeof b === 'object';
}

/** Names a header byte for docs: "00" or "<kvn>". */
export function headerByteText(b: HeaderByte<string>): string {
  return isParam(b) ? `<${b.name}>` : b.toString(16).padStart(2, '0').toUpperCase();
}

/** Defines one command. See CommandSpec for the fields. */
export function defineCommand<Data, Res, const P1 extends HeaderByte<string>, const P2 extends HeaderByte<string>>(
  spec: CommandSpec<Data, Res, P1, P2>,
): Command<Data & ParamFields<P1> & ParamFields<P2>, Res> {
  type Req = Data & ParamFields<P1> & ParamFields<P2>;
  const fixedP1 = isParam(spec.p1) ? undefined : spec.p1;
  const fixedP2 = isParam(spec.p2) ? undefined : spec.p2;

  const generic = new Set<number>([SW.OK]);
  // ISO 7816-4 5.1: an Lc other than a fixed layout's size is answered 6700. A variable layout that
  // does not parse is 6A80 whatever its length (below), unless the command lists 6700 itself.
  if (spec.request.size !== undefined) generic.add(SW.WRONG_LENGTH);
  const params = ([spec.p1, spec.p2] as HeaderByte<string>[]).filter((b): b is ParamDefinition => isParam(b));
  if (spec.p1p2) {
    // P1P2 names a data object: one the card does not have is 6A88.
    if (params.some((p) => p.allowed)) generic.add(SW.REFERENCED_DATA_NOT_FOUND);
  } else if (fixedP1 !== undefined || fixedP2 !== undefined || params.some((p) => p.allowed)) {
    generic.add(SW.INCORRECT_P1P2);
  }
  // A variable layout can be malformed within a valid length (6A80); fixed layouts list 6A80 themselves
  // when some values are refused.
  if (spec.request.size === undefined) generic.add(SW.INCORRECT_DATA);
  if (spec.states.length < 5) generic.add(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
  const sec = spec.security;
  if (sec.channel || sec.pin || sec.lineMac || spec.secureMessaging === 'required') generic.add(SW.SECURITY_STATUS_NOT_SATISFIED);
  if (sec.after) generic.add(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
  if (sec.lineMac || sec.transactionMac) generic.add(SW.MAC_INVALID);
  const statusWords = [...new Set([...generic, ...spec.sw])];

  const responseLabel = `${spec.name} response`;
  const cmd: Command<Req, Res> = {
    ...spec,
    request: spec.request,
    examples: spec.examples as readonly CommandExample<Req, Res>[],
    statusWords,
    allows(sw: number): boolean {
      return statusWords.includes(sw) || statusWords.includes(swFamilyBase(sw)) || CARD_OS_STATUS_WORDS.includes(swFamilyBase(sw));
    },
    encode(req: Req, opts?: { secure?: boolean; le?: number; extended?: boolean }): CommandApdu {
      const r = req as Record<string, unknown>;
      let p1: number;
      let p2: number;
      if (spec.p1p2 && isParam(spec.p1)) {
        const v = r[spec.p1.name];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) {
          throw new FormatError(`${spec.name} ${spec.p1.name}`, `must be a 16-bit value, got ${String(v)}`);
        }
        p1 = v >> 8;
        p2 = v & 0xff;
      } else {
        p1 = headerByte(spec.name, spec.p1, r);
        p2 = headerByte(spec.name, spec.p2, r);
      }
      // `secure: false` gives the plain command for a secure-messaging layer (SCP03) to wrap.
      const secure = opts?.secure ?? spec.secureMessaging === 'required';
      if (secure && spec.secureMessaging === 'never') throw new FormatError(spec.name, 'does not allow secure messaging');
      let cla = spec.cla;
      if (secure) cla |= CLA_SECURE_MESSAGING;
      const data = spec.request.encode(req as unknown as Data);
      const le = opts?.le ?? spec.le;
      return { cla, ins: spec.ins, p1, p2, data, le, extended: opts?.extended };
    },
    encodeBytes(req: Req, opts = {}): Uint8Array {
      return encodeCommandApdu(cmd.encode(req, opts));
    },
    decode(apdu: CommandApdu): Req {
      const value = spec.request.decode(apdu.data, spec.name) as Record<string, unknown>;
      if (spec.p1p2 && isParam(spec.p1)) value[spec.p1.name] = (apdu.p1 << 8) | apdu.p2;
      else {
        if (isParam(spec.p1)) value[spec.p1.name] = apdu.p1;
        if (isParam(spec.p2)) value[spec.p2.name] = apdu.p2;
      }
      return value as Req;
    },
    matches(apdu): boolean {
      return (
        ((apdu.cla & ~(CLA_CHAINING | 0x0c)) === spec.cla || (spec.otherClasses ?? []).includes(apdu.cla & ~(CLA_CHAINING | 0x0c))) &&
        apdu.ins === spec.ins &&
        (fixedP1 === undefined || apdu.p1 === fixedP1) &&
        (fixedP2 === undefined || apdu.p2 === fixedP2)
      );
    },
    decodeResponse(data: Uint8Array): Res {
      return spec.response.decode(data, responseLabel);
    },
    encodeResponse(res: Res): Uint8Array {
      return spec.response.encode(res);
    },
  };
  return cmd;
}

/** The value of a P1 or P2 byte: the fixed byte, or the request's parameter, which must be a byte. */
function headerByte(command: string, b: HeaderByte<string>, request: Record<string, unknown>): number {
  if (!isParam(b)) return b;
  const v = request[b.name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new FormatError(`${command} ${b.name}`, `must be a byte, got ${String(v)}`);
  }
  return v;
}

/** The family code of a status word (6100 for 61xx, 6C00 for 6Cxx, 63C0 for 63Cx), else the word itself. */
export function swFamilyBase(sw: number): number {
  if ((sw & 0xff00) === 0x6100 || (sw & 0xff00) === 0x6c00) return sw & 0xff00;
  if ((sw & 0xfff0) === 0x63c0) return 0x63c0;
  return sw;
}

/** Parses an example's APDU hex into a CommandApdu (helper for tests and docs). */
export function exampleApdu(example: { apdu: string }): CommandApdu {
  return decodeCommandApdu(fromHex(example.apdu));
}

export { hex };
