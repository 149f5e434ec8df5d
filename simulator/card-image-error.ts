/** @module The one error of card image files: damaged, of a refused format version, unreadable or not saved, in one line naming the file. */
import { OperationalError } from '../base/operational-error.js';

/**
 * A card image that cannot be used or written. `problem` completes the sentence "card image <path> ...",
 * e.g. "is damaged: checksum mismatch"; the message never holds record contents (they include keys).
 */
export class CardImageError extends OperationalError {
  override readonly name = 'CardImageError';
  constructor(
    readonly problem: string,
    /** the image file, when the image came from or went to one */
    readonly path?: string,
  ) {
    super(`card image${path === undefined ? '' : ` ${path}`} ${problem}`);
  }

  /** The same problem, naming the file. */
  at(path: string): CardImageError {
    return new CardImageError(this.problem, path);
  }

  /** An image whose bytes are not what a writer of this format writes. */
  static damaged(reason: string): CardImageError {
    return new CardImageError(`is damaged: ${reason}`);
  }
}
