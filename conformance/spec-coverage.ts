/**
 * @module How much of the command set a conformance run exercised, measured from what went over the
 * wire rather than from the case list: for each command of applet-spec, whether it was sent, which of
 * the status words its definition lists the card answered, and the lifecycle states it was sent in.
 * The state of each exchange is the one the card last showed: the state the case began in, then what
 * every SELECT answers (the FCI's application state, ISO 7816-4 11.1.1; 6A81 for a terminated card).
 */
import { type CommandApdu, decodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { COMMANDS, commandForHeader } from '../applet-spec/commands.js';
import { fciCoder, select } from '../applet-spec/commands/select.js';
import { CLA_CHAINING, CLA_SECURE_MESSAGING, swFamilyBase } from '../applet-spec/define-command.js';
import { APP_STATE_NAMES, type AppState } from '../applet-spec/lifecycle.js';
import { SW } from '../applet-spec/status-words.js';
import { dataOf, type Middleware, swOf, wrapTransport } from '../host/transport.js';

/** One command the card answered: the command's id (from its header), the final status word, the state it was sent in. */
export interface Exchange {
  command: string;
  sw: number;
  state?: AppState;
}

/**
 * Middleware recording every exchange into `into`; `state` is the card's state when the case begins, if
 * known; `about` the command the case is about, which an APDU that could be meant for several (a P1
 * changed on purpose under an INS several commands share) is counted for.
 */
export function exchangeRecorder(into: Exchange[], state?: AppState, about?: string): Middleware {
  let current = state;
  return (next) =>
    wrapTransport(next, async (command) => {
      const response = await next.transmit(command);
      let id = NO_COMMAND;
      try {
        id = commandOf(decodeCommandApdu(command), about);
      } catch {
        // a malformed APDU sent on purpose: attributed to no command
      }
      const sw = swOf(response);
      into.push({ command: id, sw, state: current });
      if (id === select.id) current = stateAfterSelect(response, sw) ?? current;
      return response;
    });
}

const NO_COMMAND = '(no command)';

/**
 * The command a header was meant for: the one it selects, or else the only command with this class and
 * INS, or else the one the case is about among those (a P1 or P2 changed on purpose to provoke 6A86
 * selects no definition).
 */
function commandOf(apdu: CommandApdu, about?: string): string {
  const exact = commandForHeader(apdu);
  if (exact) return exact.id;
  const cla = apdu.cla & ~(CLA_SECURE_MESSAGING | CLA_CHAINING);
  const same = COMMANDS.filter((c) => c.ins === apdu.ins && (c.cla === cla || c.otherClasses?.includes(cla)));
  if (same.length === 1) return same[0].id;
  return same.find((c) => c.id === about)?.id ?? NO_COMMAND;
}

function stateAfterSelect(response: Uint8Array, sw: number): AppState | undefined {
  if (sw === SW.FUNCTION_NOT_SUPPORTED) return 'TERMINATED';
  if (sw !== SW.OK && sw !== SW.SELECTED_FILE_INVALIDATED) return undefined;
  try {
    return fciCoder.decode(dataOf(response)).proprietary?.issuerData?.appState;
  } catch {
    return undefined;
  }
}

export interface CommandCoverage {
  id: string;
  name: string;
  sent: boolean;
  /** the status words the definition lists (61xx/6Cxx/63Cx as their family) */
  listed: number[];
  /** the listed ones the card answered */
  answered: number[];
  /** the states the definition accepts the command in */
  states: AppState[];
  /** every state the command was sent in, accepted or not */
  sentIn: AppState[];
}

export interface SpecCoverage {
  commands: { sent: number; total: number };
  statusWords: { answered: number; listed: number };
  /** (command, state) pairs over all lifecycle states: how many were tried */
  states: { tried: number; total: number };
  perCommand: CommandCoverage[];
}

/** Coverage of the command set by these exchanges. */
export function specCoverage(exchanges: readonly Exchange[]): SpecCoverage {
  const perCommand = COMMANDS.map((c): CommandCoverage => {
    const mine = exchanges.filter((e) => e.command === c.id);
    const listed = [...new Set(c.statusWords.map(swFamilyBase))].sort((a, b) => a - b);
    // 61xx is success with more to collect (ISO/IEC 7816-4 5.1.3): the command answered 9000 as far as its own status words go.
    const seen = new Set(mine.map((e) => (e.sw >> 8 === 0x61 ? SW.OK : swFamilyBase(e.sw))));
    return {
      id: c.id,
      name: c.name,
      sent: mine.length > 0,
      listed,
      answered: listed.filter((sw) => seen.has(sw)),
      states: [...c.states],
      sentIn: APP_STATE_NAMES.filter((s) => mine.some((e) => e.state === s)),
    };
  });
  return {
    commands: { sent: perCommand.filter((c) => c.sent).length, total: perCommand.length },
    statusWords: { answered: perCommand.reduce((n, c) => n + c.answered.length, 0), listed: perCommand.reduce((n, c) => n + c.listed.length, 0) },
    states: { tried: perCommand.reduce((n, c) => n + c.sentIn.length, 0), total: perCommand.length * APP_STATE_NAMES.length },
    perCommand,
  };
}

const pct = (a: number, b: number) => (b === 0 ? '-' : `${Math.round((100 * a) / b)}%`);
/** A status word as the coverage prints it: 4 hex digits, families as 61xx, 6Cxx, 63Cx. */
export const swText = (sw: number) => sw.toString(16).toUpperCase().padStart(4, '0').replace(/^(61|6C)00$/, '$1xx').replace(/^63C0$/, '63Cx');

/** One summary line, e.g. "coverage: 28/28 commands, 180/231 listed status words (78%), 96/140 command-state pairs (69%)". */
export function formatCoverageLine(c: SpecCoverage): string {
  return (
    `coverage: ${c.commands.sent}/${c.commands.total} commands, ` +
    `${c.statusWords.answered}/${c.statusWords.listed} listed status words (${pct(c.statusWords.answered, c.statusWords.listed)}), ` +
    `${c.states.tried}/${c.states.total} command-state pairs (${pct(c.states.tried, c.states.total)})`
  );
}

/** The per-command table: listed status words not answered in this run, and the states tried. */
export function formatCoverageTable(c: SpecCoverage): string {
  const rows = c.perCommand.map((p) => {
    const missing = p.listed.filter((sw) => !p.answered.includes(sw)).map(swText);
    return `${p.name.padEnd(26)} ${String(p.answered.length).padStart(2)}/${String(p.listed.length).padEnd(2)} SWs  states ${p.sentIn.join(',') || '-'}${missing.length ? `  not answered: ${missing.join(' ')}` : ''}`;
  });
  return `${formatCoverageLine(c)}\n${rows.join('\n')}\n`;
}
