/** @module The codec-level error, at the bottom of the layers so that every folder can throw it: bytes that do not decode under a definition (wrong length, bad TLV, inconsistent header). */
import { EXIT } from './exit-codes.js';
import { OperationalError } from './operational-error.js';

/**
 * Thrown when bytes do not match the layout they are decoded against, or a value does not fit the
 * layout it is encoded into. `what` names the field or structure at fault; the message never
 * contains key or PIN material, only lengths, tags and offsets.
 */
export class FormatError extends OperationalError {
  override readonly name = 'FormatError';
  /** bytes the user gave (an APDU, a file) that do not decode: bad input */
  override readonly exitCode = EXIT.usage;
  constructor(
    /** the field, structure or rule that was violated, e.g. "APDU Lc" or "TLV 9F79 length" */
    readonly what: string,
    detail: string,
  ) {
    super(`${what}: ${detail}`);
  }
}
