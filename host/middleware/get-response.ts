/** @module Middleware: collects long responses by GET RESPONSE on 61xx (ISO 7816-4 11.6.1), keeping the command's class, with a cap on rounds. */
import { concatBytes } from '../../base/bytes.js';
import { decodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { TransportError } from '../errors.js';
import { dataOf, type Middleware, swOf, wrapTransport } from '../transport.js';

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
  return (next) =>
    wrapTransport(next, async (command) => {
      let response = await next.transmit(command);
      if (swOf(response) >> 8 !== 0x61) return response;
      // The class of the command, without its chaining bit (apdu4j practice; keeps the logical channel).
      const cla = (() => {
        try {
          return decodeCommandApdu(command).cla & ~0x10;
        } catch {
          return 0x00;
        }
      })();
      const parts: Uint8Array[] = [];
      for (let round = 0; swOf(response) >> 8 === 0x61; round++) {
        if (round >= maxRounds) throw new TransportError(`card still announced more data after ${maxRounds} GET RESPONSE rounds`, undefined, 'protocol');
        parts.push(dataOf(response));
        response = await next.transmit(Uint8Array.of(cla, 0xc0, 0x00, 0x00, swOf(response) & 0xff));
      }
      parts.push(response);
      return concatBytes(...parts);
    });
}
