/**
 * @module `drmb card replay`: sends the commands of a recorded transcript (`--record`, "=> hex" /
 * "<= hex") to a card in a reader or a simulated card, and reports the first response that differs
 * from the record (host/replay-transport.ts replayTranscript); exit 1 when one does.
 */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { OperationalError } from '../../base/operational-error.js';
import { hex } from '../../base/hex.js';
import { describeSw } from '../../applet-spec/status-words.js';
import { TransportError } from '../../host/errors.js';
import { parseTranscript, replayTranscript, type TranscriptExchange } from '../../host/replay-transport.js';
import { withCard } from '../open-card.js';
import type { CardOptions } from '../options.js';
import { emit, UsageError } from '../output.js';
import { addCardOptions, CARD_IMAGE } from './connect.js';

/** The card answered other than the transcript records. */
export class ReplayDifferenceError extends OperationalError {
  override readonly name = 'ReplayDifferenceError';
}

export interface ReplayReport {
  transcript: string;
  exchanges: number;
  replayed: number;
  /** the first exchange that differs, bytes as hex */
  difference?: { line: number; command: string; expected: string; actual: string; expectedSw: string; actualSw: string };
}

const swText = (r: Uint8Array) => (r.length >= 2 ? hex(r.subarray(-2)) : '----');

/** Replays the transcript file against the card of `o`. */
export async function runReplay(file: string, o: CardOptions & { swOnly?: boolean }): Promise<ReplayReport> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the transcript ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let exchanges: TranscriptExchange[];
  try {
    exchanges = parseTranscript(text, file);
  } catch (e) {
    if (e instanceof TransportError) throw new UsageError(e.message);
    throw e;
  }
  if (!exchanges.length) throw new UsageError(`${file} records no exchange ("=> hex" then "<= hex")`);
  const r = await withCard(o, { image: CARD_IMAGE }, (t) => replayTranscript(t, exchanges, { swOnly: o.swOnly }));
  const d = r.difference;
  return {
    transcript: file,
    exchanges: exchanges.length,
    replayed: r.replayed,
    ...(d ? { difference: { line: d.line, command: d.command, expected: hex(d.expected), actual: hex(d.actual), expectedSw: swText(d.expected), actualSw: swText(d.actual) } } : {}),
  };
}

function formatReplay(r: ReplayReport): string {
  if (!r.difference) return `${r.transcript}: all ${r.exchanges} exchange(s) answered as recorded`;
  const d = r.difference;
  const name = (sw: string) => (/^[0-9A-F]{4}$/.test(sw) ? describeSw(parseInt(sw, 16)).name : 'no status word');
  return [
    `${r.transcript}: ${r.replayed} of ${r.exchanges} exchange(s) answered as recorded; line ${d.line} differs`,
    `=> ${d.command}`,
    `recorded <= ${d.expected} (${name(d.expectedSw)})`,
    `card     <= ${d.actual} (${name(d.actualSw)})`,
  ].join('\n');
}

export function registerReplay(card: Cli): void {
  addCardOptions(
    card
      .command('replay')
      .description('send the commands of a recorded transcript (--record) to a card and report the first response that differs; exit 1 if one does')
      .argument('<transcript>', 'a transcript written by --record ("=> hex" / "<= hex" lines)')
      .option('--sw-only', 'compare the status words only (challenges and MACs differ on every run)'),
  ).action(async (file: string, o: CardOptions & { swOnly?: boolean }) => {
    const r = await runReplay(file, o);
    emit(r, !!o.json, formatReplay);
    if (r.difference) throw new ReplayDifferenceError(`line ${r.difference.line} of ${file}: the card answered ${r.difference.actualSw}, the transcript records ${r.difference.expectedSw}${r.difference.actual !== r.difference.expected && r.difference.actualSw === r.difference.expectedSw ? ' with other data' : ''}`);
  });
}
