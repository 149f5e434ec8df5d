/**
 * @module Text transcripts ("=> command" / "<= response" lines, "#" comments), both ways: a transport
 * that replays one in place of a card (ReplayTransport: each command must equal the next recorded one,
 * redacted lines compared after redacting the live command, else it fails with expected vs actual and
 * the line number; assertDone() fails when recorded APDUs are left over), and replayTranscript, which
 * sends a transcript's commands to a card and reports the first response that differs from the record.
 */
import { fromHex, hex } from '../base/hex.js';
import { TransportError } from './errors.js';
import { redactCommand } from './redact.js';
import type { Transport } from './transport.js';

/** One recorded exchange: its line, the command (normalized hex, or the redacted text), the response. */
export interface TranscriptExchange {
  line: number;
  command: string;
  redacted: boolean;
  response: Uint8Array;
}

const norm = (s: string): string => s.replace(/\s+/g, '').toUpperCase();

/** The exchanges of a transcript; throws TransportError naming the line of a malformed entry. */
export function parseTranscript(text: string, name = 'transcript'): TranscriptExchange[] {
  const exchanges: TranscriptExchange[] = [];
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
  return exchanges;
}

export class ReplayTransport implements Transport {
  readonly description: string;
  private next = 0;
  private closed = false;

  private constructor(
    private readonly exchanges: TranscriptExchange[],
    name: string,
  ) {
    this.description = `replay of ${name}`;
  }

  /** Parses a transcript; throws TransportError naming the line of a malformed entry. */
  static fromText(text: string, name = 'transcript'): ReplayTransport {
    return new ReplayTransport(parseTranscript(text, name), name);
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

/** The first exchange whose live response differs from the record. */
export interface TranscriptDifference {
  line: number;
  command: string;
  expected: Uint8Array;
  actual: Uint8Array;
}

/**
 * Sends the transcript's commands to `transport` in order and compares each response with the record
 * (the status words only, with `swOnly`: a challenge or a MAC differs on every run). Stops at the first
 * difference. A redacted command (a PIN, a key DGI) cannot be sent again: it stops there with a
 * TransportError naming its line, after the exchanges before it.
 */
export async function replayTranscript(transport: Transport, exchanges: readonly TranscriptExchange[], o: { swOnly?: boolean } = {}): Promise<{ replayed: number; difference?: TranscriptDifference }> {
  let replayed = 0;
  for (const e of exchanges) {
    if (e.redacted) throw new TransportError(`transcript line ${e.line}: the command was recorded redacted (${e.command}) and cannot be sent again; ${replayed} exchange(s) matched before it`, undefined, 'replay');
    const actual = await transport.transmit(fromHex(e.command));
    const same = o.swOnly ? actual.length >= 2 && e.response.length >= 2 && hex(actual.subarray(-2)) === hex(e.response.subarray(-2)) : hex(actual) === hex(e.response);
    if (!same) return { replayed, difference: { line: e.line, command: e.command, expected: e.response, actual } };
    replayed++;
  }
  return { replayed };
}
