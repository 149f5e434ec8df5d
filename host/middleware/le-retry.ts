/** @module Middleware: resends a command with the exact Le the card names in 6Cxx (ISO 7816-4 5.6). */
import { decodeCommandApdu, encodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { type Middleware, swOf, wrapTransport } from '../transport.js';

/** Middleware that resends a command with the Le the card names in 6Cxx (ISO 7816-4 5.6). */
export function leRetry(): Middleware {
  return (next) =>
    wrapTransport(next, async (command) => {
      const response = await next.transmit(command);
      if (swOf(response) >> 8 !== 0x6c) return response;
      const exact = swOf(response) & 0xff || 256;
      const apdu = decodeCommandApdu(command);
      // One retry only: a second 6Cxx goes back to the caller.
      return next.transmit(encodeCommandApdu({ ...apdu, le: exact, extended: apdu.extended && exact > 256 }));
    });
}
