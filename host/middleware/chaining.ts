/**
 * @module Middleware: sends commands whose data exceeds a short Lc either as one extended-length APDU
 * (when the card's ATR announces extended Lc/Le) or as a command chain (ISO 7816-4 5.3.3, CLA b5).
 */
import { chainCommand, decodeCommandApdu, encodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { type Middleware, swOf, wrapTransport } from '../transport.js';

/** How commandChaining sends long data: extended length, or chained blocks of a given size. */
export interface ChainingOptions {
  /** use extended length instead of chaining (see atrAllowsExtendedLength) */
  extended?: boolean;
  /** data bytes per chained block (default 255) */
  blockSize?: number;
}

/**
 * Middleware that sends a command whose data exceeds a short Lc as one extended APDU or as a command
 * chain (ISO 7816-4 5.3.3).
 */
export function commandChaining(options: ChainingOptions = {}): Middleware {
  const blockSize = options.blockSize ?? 255;
  return (next) =>
    wrapTransport(next, async (command) => {
      const apdu = decodeCommandApdu(command);
      if (apdu.data.length <= blockSize || apdu.cla & 0x10) return next.transmit(command);
      if (options.extended) return next.transmit(encodeCommandApdu({ ...apdu, extended: true }));
      // Blocks are short APDUs: an extended Ne becomes the short maximum 256 on the last block.
      const blocks = chainCommand({ ...apdu, extended: false, le: apdu.le === undefined ? undefined : Math.min(apdu.le, 256) }, blockSize);
      let response: Uint8Array = new Uint8Array(0);
      for (const b of blocks) {
        response = await next.transmit(encodeCommandApdu(b));
        // A block refused ends the chain: the card's answer goes back to the caller.
        if (b !== blocks[blocks.length - 1] && swOf(response) !== 0x9000) return response;
      }
      return response;
    });
}

/**
 * True when the ATR's historical bytes carry the card capabilities object (compact-TLV tag 7) with
 * "extended Lc and Le fields" (third software function byte, b7; ISO 7816-4 8.1.1.2.7).
 */
export function atrAllowsExtendedLength(atr: Uint8Array): boolean {
  const hist = historicalBytes(atr);
  if (!hist || hist[0] !== 0x80) return false;
  for (let i = 1; i < hist.length; ) {
    const tag = hist[i] >> 4;
    const len = hist[i] & 0x0f;
    if (tag === 7 && len >= 3) return (hist[i + 3] & 0x40) !== 0;
    i += 1 + len;
  }
  return false;
}

/** The historical bytes of an ATR (ISO 7816-3 8.2), or undefined when the ATR is malformed. */
export function historicalBytes(atr: Uint8Array): Uint8Array | undefined {
  if (atr.length < 2) return undefined;
  const k = atr[1] & 0x0f;
  let y = atr[1] >> 4;
  let i = 2;
  for (;;) {
    const td = y & 0x8 ? i + (y & 1 ? 1 : 0) + (y & 2 ? 1 : 0) + (y & 4 ? 1 : 0) : -1;
    i += (y & 1 ? 1 : 0) + (y & 2 ? 1 : 0) + (y & 4 ? 1 : 0);
    if (td < 0) break;
    if (td >= atr.length) return undefined;
    y = atr[td] >> 4;
    i = td + 1;
  }
  return i + k <= atr.length ? atr.subarray(i, i + k) : undefined;
}
