/** @module Middleware: collects long responses by GET RESPONSE on 61xx (ISO 7816-4 11.6.1), keeping the command's class, with a cap on rounds. */
import { concatBytes } from '../../base/bytes.js';
import { decodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { TransportError } from '../errors.js';
import { dataOf, type Middleware, swOf, type Transport, wrapTransport } from '../transport.js';

/** The cap on GET RESPONSE rounds for one command. */
export interface GetResponseOptions {
  /** most GET RESPONSE rounds for one command (a card that keeps answering 61xx is broken) */
  maxRounds?: number;
}

/**
 * Middleware that collects a long response by GET RESPONSE on 61xx (ISO 7816-4 11.6.1) and returns it
 * as one.
 */
export function getResponse(options: GetResponseOptions = {}): Middleware {
  const maxRounds = options.maxRounds ?? 64;
  // a plain reaction on the common answer (no 61xx), no async frame: the host's share of a PC/SC round trip
  return (next) => wrapTransport(next, (command) => next.transmit(command).then((response) => (swOf(response) >> 8 === 0x61 ? collect(next, command, response, maxRounds) : response)));
}

/** GET RESPONSE until the card has given all it announced (`first` is its 61xx), and the parts as one response. */
export async function collect(next: Transport, command: Uint8Array, first: Uint8Array, maxRounds: number): Promise<Uint8Array> {
  let response = first;
  // The class of the command, without its chaining bit (apdu4j practice; keeps the logical channel).
  let cla = 0x00;
  try {
    cla = decodeCommandApdu(command).cla & ~0x10;
  } catch {
    // not a command this host encoded: the basic class
  }
  const parts: Uint8Array[] = [];
  for (let round = 0; swOf(response) >> 8 === 0x61; round++) {
    if (round >= maxRounds) throw new TransportError(`card still announced more data after ${maxRounds} GET RESPONSE rounds`, undefined, 'protocol');
    parts.push(dataOf(response));
    response = await next.transmit(Uint8Array.of(cla, 0xc0, 0x00, 0x00, swOf(response) & 0xff));
  }
  parts.push(response);
  return concatBytes(...parts);
}
