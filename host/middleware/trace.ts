/**
 * @module Middleware: one log line per APDU, close to GlobalPlatformPro's -d trace: direction, header,
 * Lc, data, Le, SW and elapsed milliseconds, with the command's name; PINs and key DGIs redacted.
 * Put one trace inside the secure channel layer (prefix "P") and one outside ("A") to see the
 * plaintext beside the wire bytes.
 */
import { decodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { hex } from '../../base/hex.js';
import { describeSw } from '../../applet-spec/status-words.js';
import { redactCommand } from '../redact.js';
import { dataOf, type Middleware, swOf, wrapTransport } from '../transport.js';

/**
 * Where trace writes its lines, their prefix ("A" on the wire, "P" inside a secure channel) and the
 * clock for elapsed times.
 */
export interface TraceOptions {
  /** receives each line; console.error by default */
  sink?: (line: string) => void;
  /** "A" for the wire (default), "P" for plaintext inside a secure channel */
  prefix?: string;
  now?: () => number;
}

/**
 * Middleware that logs one line per APDU (header, data, SW, milliseconds, command name), PINs and key
 * DGIs redacted.
 */
export function trace(options: TraceOptions = {}): Middleware {
  const sink = options.sink ?? ((line: string) => console.error(line));
  const prefix = options.prefix ?? 'A';
  const now = options.now ?? (() => performance.now());
  return (next) =>
    wrapTransport(next, async (command) => {
      const r = redactCommand(command);
      let lc = 0;
      try {
        lc = decodeCommandApdu(command).data.length;
      } catch {
        lc = Math.max(0, command.length - 4);
      }
      sink(`${prefix}>> (4+${lc.toString().padStart(4, '0')}) ${r.text}${r.name ? `  # ${r.name}` : ''}`);
      const t0 = now();
      try {
        const response = await next.transmit(command);
        const ms = Math.round(now() - t0);
        const sw = swOf(response);
        const data = dataOf(response);
        sink(`${prefix}<< (${data.length.toString().padStart(4, '0')}+2) (${ms}ms) ${data.length ? `${hex(data)} ` : ''}${sw.toString(16).toUpperCase().padStart(4, '0')}${sw === 0x9000 ? '' : `  # ${describeSw(sw).name}`}`);
        return response;
      } catch (e) {
        sink(`${prefix}<< (${Math.round(now() - t0)}ms) failed: ${(e as Error).message}`);
        throw e;
      }
    });
}
