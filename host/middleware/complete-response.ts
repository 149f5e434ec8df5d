/**
 * @module Middleware: getResponse and leRetry in one layer, as the host stack stacks them (ISO 7816-4
 * 11.6.1 GET RESPONSE on 61xx, 5.6 the exact Le on 6Cxx, a resent command's 61xx collected too), with
 * one reaction per APDU on the common answer instead of two: through pcscd every step the host takes
 * between the card's answer and its next command counts several times its in-process cost, which the
 * PC/SC benchmark holds to 5% of a round trip (issue 15).
 */
import { type Middleware, type Transport, wrapTransport } from '../transport.js';
import { collect, type GetResponseOptions } from './get-response.js';
import { resend } from './le-retry.js';

/** Middleware that completes a response: GET RESPONSE on 61xx, the command again with the exact Le on 6Cxx. */
export function completeResponse(options: GetResponseOptions = {}): Middleware {
  const maxRounds = options.maxRounds ?? 64;
  return (next) => {
    /** next with 61xx collected: what getResponse() gives */
    const collecting: Transport = wrapTransport(next, (command) => next.transmit(command).then((r) => (r[r.length - 2] === 0x61 && r.length >= 2 ? collect(next, command, r, maxRounds) : r)));
    return wrapTransport(next, (command) =>
      next.transmit(command).then((r) => {
        if (r.length < 2) return r;
        const sw1 = r[r.length - 2];
        if (sw1 === 0x61) return collect(next, command, r, maxRounds).then((all) => (all[all.length - 2] === 0x6c ? resend(collecting, command, all) : all));
        if (sw1 === 0x6c) return resend(collecting, command, r);
        return r;
      }),
    );
  };
}
