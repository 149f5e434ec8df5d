/**
 * @module The card under test, as the runner sees it: a transport to the card as it is, and for
 * simulated cards a fresh card in a given lifecycle state for each case (a reader cannot give one, so
 * cases that need another state skip there unless the card is already in it).
 */
import type { AppState } from '../applet-spec/lifecycle.js';
import type { Transport } from '../host/transport.js';

export interface ConformanceTarget {
  /** what the suite runs against, e.g. "PC/SC Virtual PCD 00 00" or "simulated card card.json" */
  readonly description: string;
  /** the card as it is (the host stack: GET RESPONSE, Le retry, chaining below) */
  transport(): Promise<Transport>;
  /**
   * A fresh card in `state` replacing the current one, from then on what transport() answers; undefined
   * when the target has no card in that state. Absent on targets that cannot reset (readers).
   */
  fresh?(state: AppState): Promise<Transport | undefined>;
  /** releases the card */
  close(): Promise<void>;
}
