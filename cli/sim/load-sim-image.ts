/** @module Simulated card images for drmb commands: loaded strictly and saved atomically, each failure one line (UsageError), never a stack trace. */
import { CardImageError } from '../../simulator/card-image-error.js';
import type { SimulatedCard, SimulatedCardOptions } from '../../simulator/simulated-card.js';
import type { SimulatedPsam } from '../../simulator/simulated-psam.js';
import { UsageError } from '../output.js';

/**
 * The card of an image file, checked (SM3 checksum, strict structure, every record) before anything
 * runs on it. A damaged image throws UsageError "card image X is damaged: ..." and is never written,
 * since the caller has no card to save. The simulator is loaded lazily, so reader use never loads it.
 */
export async function loadSimImage(path: string, options: SimulatedCardOptions = {}): Promise<SimulatedCard> {
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  try {
    return SimulatedCard.fromFile(path, options);
  } catch (e) {
    if (e instanceof CardImageError) throw new UsageError(e.message);
    throw e;
  }
}

/** The PSAM of an image file (SimulatedCard.psamFromFile), checked as loadSimImage checks a card; a damaged image is one UsageError line. */
export async function loadPsamImage(path: string): Promise<SimulatedPsam> {
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  try {
    return SimulatedCard.psamFromFile(path);
  } catch (e) {
    if (e instanceof CardImageError) throw new UsageError(e.message);
    throw e;
  }
}

/** Saves a card or PSAM loaded by loadSimImage or loadPsamImage back to its file atomically; a failure (unwritable directory...) is one UsageError line. */
export function saveSimImage(card: Pick<SimulatedCard | SimulatedPsam, 'saveToFile'>, path: string): void {
  try {
    card.saveToFile(path);
  } catch (e) {
    if (e instanceof CardImageError) throw new UsageError(e.message);
    throw e;
  }
}
