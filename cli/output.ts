/** @module Output helpers for drmb commands: JSON with bytes as hex, and errors reported without process.exit. */
import { OperationalError } from '../base/operational-error.js';
import { hex } from '../base/hex.js';

/** JSON-safe copy of a value: Uint8Array -> uppercase hex string, bigint -> decimal string. */
export function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return hex(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}

/** Prints a result as JSON (for --json) or through the human formatter. */
export function emit<T>(result: T, json: boolean, human: (r: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(toJsonValue(result), null, 2)}\n` : `${human(result)}\n`);
}

/** An error in the user's input, reported as "drmb: <message>" with exit code 2. */
export class UsageError extends OperationalError {
  override readonly name = 'UsageError';
  override readonly exitCode = 2;
}
