/**
 * @module Middleware: records the exchange as a text transcript, "=> command" and "<= response" lines
 * in hex, replayable by ReplayTransport. PIN data and key DGIs are written redacted (the replayer
 * redacts the live command the same way before comparing), unless `redact: false`.
 */
import { hex } from '../../base/hex.js';
import { redactCommand } from '../redact.js';
import { type Middleware, wrapTransport } from '../transport.js';

/** Where recorder writes its transcript lines, and whether secrets are redacted (default true). */
export interface RecorderOptions {
  /** receives each transcript line (e.g. push to an array, or append to a file) */
  sink: (line: string) => void;
  redact?: boolean;
}

/**
 * Middleware that writes the exchange as a transcript of "=> command" and "<= response" lines,
 * replayable by ReplayTransport.
 */
export function recorder(options: RecorderOptions): Middleware {
  const redact = options.redact ?? true;
  return (next) =>
    wrapTransport(next, async (command) => {
      const r = redactCommand(command);
      options.sink(`=> ${redact && r.redacted ? r.text : hex(command)}`);
      const response = await next.transmit(command);
      options.sink(`<= ${hex(response)}`);
      return response;
    });
}
