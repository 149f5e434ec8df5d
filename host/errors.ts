/**
 * @module The host's error classes: a status-word error (command, SW, name, meaning), a transport
 * error (reader gone, service down, timeout) and a response-format error (9000 but the data does not
 * decode), plus the domain errors mapped from status words in one place (statusWordError).
 */
import { OperationalError } from '../base/operational-error.js';
import { describeSw, formatSw, SW } from '../applet-spec/status-words.js';

/** The card answered a status word other than success. */
export class StatusWordError extends OperationalError {
  override name = 'StatusWordError';
  readonly swName: string;
  readonly meaning: string;
  constructor(
    /** the command, in the spec's words ("DEBIT FOR PURCHASE") */
    readonly command: string,
    readonly sw: number,
    /** response data that came with the SW, if any */
    readonly data: Uint8Array = new Uint8Array(0),
  ) {
    const info = describeSw(sw);
    super(`${command}: ${formatSw(sw)}: ${info.meaning}`);
    this.swName = info.name;
    this.meaning = info.meaning;
  }
}

/** 63Cx: wrong PIN, with the tries left. */
export class WrongPinError extends StatusWordError {
  override name = 'WrongPinError';
  constructor(command: string, sw: number) {
    super(command, sw);
  }
  get triesLeft(): number {
    return this.sw & 0x0f;
  }
}

/** 6983: the PIN is blocked (RELOAD PIN by the issuer unblocks it). */
export class PinBlockedError extends StatusWordError {
  override name = 'PinBlockedError';
}

/** 9401: the balance does not cover the amount. */
export class InsufficientBalanceError extends StatusWordError {
  override name = 'InsufficientBalanceError';
}

/** 6283 / 9303 / state 6985 on a locked card: the application is blocked. */
export class CardLockedError extends StatusWordError {
  override name = 'CardLockedError';
}

/** 9302: a MAC or TAC did not verify (wrong keys, or tampering). */
export class MacError extends StatusWordError {
  override name = 'MacError';
}

/** 9414: the card has no coins adding up to exactly the amount; pay change in first. */
export class NoExactCoinSetError extends StatusWordError {
  override name = 'NoExactCoinSetError';
}

/** Limits: 9412 over balance cap, 9413 over single limit, 9415 offline quota used. */
export class LimitError extends StatusWordError {
  override name = 'LimitError';
}

/**
 * The one place status words become domain errors. Commands that answer 6985 because the card is
 * LOCKED are mapped by the caller that knows the state (DrmbCard), not guessed here.
 */
export function statusWordError(command: string, sw: number, data?: Uint8Array): StatusWordError {
  if ((sw & 0xfff0) === 0x63c0) return new WrongPinError(command, sw);
  switch (sw) {
    case SW.AUTHENTICATION_METHOD_BLOCKED:
      return new PinBlockedError(command, sw, data);
    case SW.INSUFFICIENT_BALANCE:
      return new InsufficientBalanceError(command, sw, data);
    case SW.SELECTED_FILE_INVALIDATED:
    case SW.APPLICATION_PERMANENTLY_LOCKED:
      return new CardLockedError(command, sw, data);
    case SW.MAC_INVALID:
      return new MacError(command, sw, data);
    case SW.NO_EXACT_COIN_SET:
      return new NoExactCoinSetError(command, sw, data);
    case SW.OVER_BALANCE_CAP:
    case SW.OVER_SINGLE_LIMIT:
    case SW.OFFLINE_QUOTA_EXHAUSTED:
      return new LimitError(command, sw, data);
  }
  return new StatusWordError(command, sw, data);
}

/** The reader, the card or the PC/SC service failed (removed card, stopped pcscd, timeout, closed). */
export class TransportError extends OperationalError {
  override name = 'TransportError';
  constructor(
    message: string,
    /** the underlying error (binding error, socket error), when there is one */
    override readonly cause?: unknown,
    /** a short machine-readable kind */
    readonly kind: 'removed' | 'unavailable' | 'timeout' | 'closed' | 'cancelled' | 'protocol' | 'replay' = 'unavailable',
  ) {
    super(message);
  }
}

/** The card answered success but the data does not decode under the command's definition. */
export class ResponseFormatError extends OperationalError {
  override name = 'ResponseFormatError';
  constructor(
    readonly command: string,
    readonly data: Uint8Array,
    override readonly cause: unknown,
  ) {
    super(`${command}: response data does not decode: ${(cause as Error)?.message ?? String(cause)}`);
  }
}
