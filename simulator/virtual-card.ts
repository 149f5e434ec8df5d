/** @module The contact interface of a card as a reader sees it: power, reset, ATR and APDU exchange (ISO/IEC 7816-3). */

/**
 * A card in a (virtual) reader. `transmit` takes one command APDU and returns the response APDU
 * with SW1 SW2; it never throws for bad APDUs (the card answers a status word), but throws
 * `PowerLossError` (simulator/persistent-store) when power is cut by fault injection.
 */
export interface VirtualCard {
  /** answer to reset of the current power-up */
  readonly atr: Uint8Array;
  powerOn(): Uint8Array;
  powerOff(): void;
  /** warm reset: clears transient state, keeps persistent memory; returns the ATR */
  reset(): Uint8Array;
  transmit(command: Uint8Array): Uint8Array;
}
