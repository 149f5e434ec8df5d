/**
 * @module A transport that replays a text transcript ("=> command" / "<= response" lines, "#" comments):
 * each command must equal the next recorded one (redacted lines are compared after redacting the
 * live command), else it fails with expected vs actual and the line number; assertDone() fails when
 * recorded APDUs are left over.
 */
import { fromHex, hex } from '../base/hex.js';
import { TransportError } from './errors.js';
import { redactCommand } from './redact.js';
import type { Transport } from './transport.js';

interface Exchange {
  line: number;
  command: string;
  redacted: boolean;
  response: Uint8Array;
}

const norm = (s: string): string => s.replace(/\s+/g, '').toUpperCase();

/**
 * A transport that answers from a recorded transcript, failing when a command differs from the
 * recorded one.
 */
export class ReplayTransport implements Transport {
  readonly description: string;
  private next = 0;
  private closed = false;

  private constructor(
    private readonly exchanges: Exchange[],
    name: string,
  ) {
    this.description = `replay of ${name}`;
  }

  /** Parses a transcript; throws TransportError naming the line of a malformed entry. */
  static fromText(text: string, name = 'transcript'): ReplayTransport {
    const exchanges: Exchange[] = [];
    const lines = text.split(/\r?\n/);
    let pending: { line: number; command: string; redacted: boolean } | undefined;
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const body = line.slice(2).trim();
      if (line.startsWith('=>')) {
        if (pending) throw new TransportError(`${name} line ${pending.line}: command without a response`, undefined, 'replay');
        const redacted = body.includes('<');
        pending = { line: i + 1, command: redacted ? body : norm(body), redacted };
      } else if (line.startsWith('<=')) {
        if (!pending) throw new TransportError(`${name} line ${i + 1}: response without a command`, undefined, 'replay');
        let response: Uint8Array;
        try {
          response = fromHex(body);
        } catch {
          throw new TransportError(`${name} line ${i + 1}: response is not hex`, undefined, 'replay');
        }
        exchanges.push({ ...pending, response });
        pending = undefined;
      } else {
        throw new TransportError(`${name} line ${i + 1}: expected "=> hex" or "<= hex", got "${line.slice(0, 20)}"`, undefined, 'replay');
      }
    });
    if (pending) throw new TransportError(`${name} line ${pending.line}: command without a response`, undefined, 'replay');
    return new ReplayTransport(exchanges, name);
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new TransportError('replay transport is closed', undefined, 'closed');
    const e = this.exchanges[this.next];
    const actual = hex(command);
    if (!e) throw new TransportError(`transcript ended, but got => ${actual}`, undefined, 'replay');
    const same = e.redacted ? redactCommand(command).text === e.command : norm(actual) === e.command;
    if (!same) {
      const shown = e.redacted ? redactCommand(command).text : actual;
      throw new TransportError(`transcript line ${e.line}: expected => ${e.command}, got => ${shown}`, undefined, 'replay');
    }
    this.next++;
    return e.response.slice();
  }

  /** Number of recorded exchanges not replayed yet. */
  get remaining(): number {
    return this.exchanges.length - this.next;
  }

  /** Fails when recorded APDUs are left over. */
  assertDone(): void {
    if (this.remaining) {
      throw new TransportError(`${this.remaining} recorded APDU(s) left over, next at transcript line ${this.exchanges[this.next].line}`, undefined, 'replay');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
