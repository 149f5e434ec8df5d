/**
 * @module The card under test, as the runner sees it: a transport to the card as it is, and for
 * simulated cards a fresh card in a given lifecycle state for each case (a reader cannot give one unless
 * its card is served by `drmb sim serve`, which loads images on request, so elsewhere cases that need
 * another state skip unless the card is already in it), and for targets that can
 * cut the card's power (the simulator in process, or a reader holding a card served by `drmb sim serve`
 * with a control socket) the control the tear cases need.
 */
import type { AppState } from '../applet-spec/lifecycle.js';
import type { Transport } from '../host/transport.js';

export interface ConformanceTarget {
  /** what the suite runs against, e.g. "PC/SC Virtual PCD 00 00" or "simulated card card.json" */
  readonly description: string;
  /** the card as it is (chaining below; 61xx and 6Cxx left to the case, see CaseContext) */
  transport(): Promise<Transport>;
  /**
   * A fresh card in `state` replacing the current one, from then on what transport() answers; undefined
   * when the target has no card in that state. Absent on targets that cannot reset (readers, unless a
   * `drmb sim serve` with images to load holds the card).
   */
  fresh?(state: AppState): Promise<Transport | undefined>;
  /** power-cut control over the current card; absent where the target cannot cut power (a reader with a real card) */
  readonly powerCut?: PowerCut;
  /** releases the card */
  close(): Promise<void>;
}

/**
 * Cutting the card's power in the middle of a command, as pulling the card from the reader would, at a
 * point the host names: after the card's k-th persistent write (EEPROM/flash page write) from now.
 */
export interface PowerCut {
  /** Arms a cut right after the k-th persistent write from now (k >= 1); the command in flight then fails as a removed card. */
  cutAfterWrites(k: number): void;
  /**
   * Disarms any cut not reached, powers the card up again (the persistent memory being what the cut
   * left, an interrupted transaction rolled back by the card) and returns a fresh transport to it,
   * from then on what transport() answers.
   */
  restore(): Promise<Transport>;
}
