/** @module Middleware: fails a transmit that takes longer than a limit with TransportError('timeout'). */
import { TransportError } from '../errors.js';
import { type Middleware, wrapTransport } from '../transport.js';

/** Middleware that fails a transmit taking longer than `limitMs` with TransportError('timeout'). */
export function timeout(limitMs: number): Middleware {
  return (next) =>
    wrapTransport(next, (command) => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        next.transmit(command).finally(() => clearTimeout(timer)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TransportError(`no answer from ${next.description} within ${limitMs} ms`, undefined, 'timeout')), limitMs);
        }),
      ]);
    });
}
