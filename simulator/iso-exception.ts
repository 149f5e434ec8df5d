/** @module The card's way of failing a command: an exception carrying the status word (Java Card ISOException style). */
import { formatSw } from '../applet-spec/status-words.js';

/** Thrown inside the card to answer a status word; the card OS turns it into the response. */
export class IsoException extends Error {
  override readonly name = 'IsoException';
  constructor(
    readonly sw: number,
    detail?: string,
  ) {
    super(detail ? `${formatSw(sw)}: ${detail}` : formatSw(sw));
  }
}

/** Throws IsoException(sw) unless the condition holds. */
export function check(condition: unknown, sw: number, detail?: string): asserts condition {
  if (!condition) throw new IsoException(sw, detail);
}
