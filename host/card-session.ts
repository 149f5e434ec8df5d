/**
 * @module Typed exchange with a card: `send(command, request)` encodes from the applet-spec definition,
 * transmits, maps a non-success status word to the error classes and decodes the response data.
 */
import { encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import type { Command } from '../applet-spec/define-command.js';
import { ResponseFormatError, statusWordError } from './errors.js';
import { dataOf, swOf, type Transport } from './transport.js';

/**
 * Per-call options of CardSession.send: secure-messaging bit, Le, and status words to accept instead
 * of throwing.
 */
export interface SendOptions {
  /** set the secure-messaging CLA bit (PBOC line MAC commands); defaults from the definition */
  secure?: boolean;
  le?: number;
  /** status words to return instead of throwing (e.g. 63Cx when only asking for PIN tries) */
  accept?: readonly number[];
}

/**
 * A response as CardSession.exchange returns it: the status word, the decoded value when it is a
 * success, and the raw data.
 */
export interface Answer<Res> {
  sw: number;
  value?: Res;
  data: Uint8Array;
}

/**
 * The typed exchange with one card over a transport: encodes a command from its definition, maps a
 * failing status word to an error, decodes the answer.
 */
export class CardSession {
  constructor(readonly transport: Transport) {}

  /**
   * Sends a command and returns its decoded response. Throws StatusWordError (or its domain
   * subclass) for a status word other than 9000 / 62xx / 63xx warnings not accepted, ResponseFormatError
   * when 9000 data does not decode, TransportError when the card or reader fails.
   */
  async send<Req, Res>(cmd: Command<Req, Res>, request: Req, options?: SendOptions): Promise<Res> {
    const response = await this.transport.transmit(encodeCommandApdu(cmd.encode(request, options)));
    const sw = swOf(response);
    // the common answer decoded at once, without an Answer around it
    if (sw === 0x9000 || sw === 0x6283) return decoded(cmd, dataOf(response));
    return answerOf(cmd, response, options).value as Res;
  }

  /** Like send, but returns the SW and value without throwing for the accepted SWs. */
  async exchange<Req, Res>(cmd: Command<Req, Res>, request: Req, options?: SendOptions): Promise<Answer<Res>> {
    const response = await this.transport.transmit(encodeCommandApdu(cmd.encode(request, options)));
    return answerOf(cmd, response, options);
  }

  /** Raw APDU exchange (for `drmb card apdu`): returns data and SW, never throws for a status word. */
  async raw(command: Uint8Array): Promise<{ data: Uint8Array; sw: number }> {
    const response = await this.transport.transmit(command);
    return { data: dataOf(response), sw: swOf(response) };
  }
}

/**
 * The answer to `cmd` in `response`: its value on success (9000, or the 6283 warning), the status word
 * and data for a word `options.accept` lists, else the status word's error; ResponseFormatError when
 * success data does not decode.
 */
function answerOf<Req, Res>(cmd: Command<Req, Res>, response: Uint8Array, options: SendOptions | undefined): Answer<Res> {
  const sw = swOf(response);
  const data = dataOf(response);
  if (sw !== 0x9000 && sw !== 0x6283) {
    if (options?.accept?.includes(sw) || options?.accept?.includes(sw & 0xfff0)) return { sw, data };
    throw statusWordError(cmd.name, sw, data);
  }
  return { sw, data, value: decoded(cmd, data) };
}

/** The success data of `cmd` decoded; ResponseFormatError when it does not decode. */
function decoded<Req, Res>(cmd: Command<Req, Res>, data: Uint8Array): Res {
  try {
    return cmd.decodeResponse(data);
  } catch (e) {
    throw new ResponseFormatError(cmd.name, data, e);
  }
}
