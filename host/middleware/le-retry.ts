/** @module Middleware: resends a command with the exact Le the card names in 6Cxx (ISO 7816-4 5.6). */
import { decodeCommandApdu, encodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { type Middleware, swOf, type Transport, wrapTransport } from '../transport.js';

/** Middleware that resends a command with the Le the card names in 6Cxx (ISO 7816-4 5.6). */
export function leRetry(): Middleware {
  // a plain reaction on the common answer (no 6Cxx), no async frame
  return (next) => wrapTransport(next, (command) => next.transmit(command).then((response) => (swOf(response) >> 8 === 0x6c ? resend(next, command, response) : response)));
}

/** The command again over `next` with the exact Le of its 6Cxx answer `response` (one retry only: a second 6Cxx goes back to the caller). */
export function resend(next: Transport, command: Uint8Array, response: Uint8Array): Promise<Uint8Array> {
  const exact = swOf(response) & 0xff || 256;
  const apdu = decodeCommandApdu(command);
  return next.transmit(encodeCommandApdu({ ...apdu, le: exact, extended: apdu.extended && exact > 256 }));
}
