/** @module The base class of operational errors: a refusal or failure the user can act on (bad input, the card, the reader, the keys or the registry said no), which drmb prints as one line with its exit code, never as a crash. */
import { EXIT } from './exit-codes.js';

/** Options of an operational error: ErrorOptions (cause) and the exit code drmb ends with. */
export interface OperationalErrorOptions extends ErrorOptions {
  /** the process exit code for this error (default EXIT.refused, 1; base/exit-codes.ts) */
  exitCode?: number;
}

/**
 * An error that is not a fault of drmb itself. The CLI prints its message alone, on one line, and
 * exits with `exitCode` (base/exit-codes.ts): 1 when the card, the reader, the keys, the journal or
 * the registry refused, 2 for bad input, 3 for a double spend caught (subclasses set it). Any other error is a bug and goes to the CLI's catch-all.
 * The message must not hold key or PIN material: it is shown as it is.
 */
export class OperationalError extends Error {
  override readonly name: string = 'OperationalError';
  /** the process exit code drmb ends with when this error stops a command */
  readonly exitCode: number;
  constructor(message?: string, options?: OperationalErrorOptions) {
    super(message, options);
    this.exitCode = options?.exitCode ?? EXIT.refused;
  }
}
