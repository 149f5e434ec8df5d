/** @module Output helpers for drmb commands: JSON with bytes as hex, and errors reported without process.exit. */
import { EXIT } from '../base/exit-codes.js';
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

/** Whether this run has printed its result: an error after it (a deposit with a refused packet) then adds no second JSON document on stdout. */
let resultPrinted = false;

/** Prints a result as JSON (for --json) or through the human formatter. */
export function emit<T>(result: T, json: boolean, human: (r: T) => string): void {
  process.stdout.write(json ? `${JSON.stringify(toJsonValue(result), null, 2)}\n` : `${human(result)}\n`);
  resultPrinted = true;
}

/** Whether emit printed a result since the last reset (cli/drmb.ts main resets it per run). */
export function wasResultPrinted(reset = false): boolean {
  const was = resultPrinted;
  if (reset) resultPrinted = false;
  return was;
}

/** An error in the user's input, reported as "drmb: <message>" with exit code EXIT.usage (2). */
export class UsageError extends OperationalError {
  override readonly name = 'UsageError';
  override readonly exitCode = EXIT.usage;
}

/** What a file system error means, in words, for a one-line message: "ENOENT: the folder does not exist". */
export function fileErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const words: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'it is a folder',
    EEXIST: 'it exists already',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
  };
  if (code && words[code]) return `${code}: ${words[code]}`;
  return code ?? (e instanceof Error ? e.message.split('\n')[0] : String(e));
}
