/**
 * @module What the user should do when the card refuses: the one table that turns a card command's
 * status word into a next step ("above the PIN threshold of 200.00: give --pin-file or answer the
 * prompt"). Each rule is keyed by the status word and by what the command's applet-spec definition
 * declares (its states, its PIN condition) or by the definition itself; the SW's name stays in the
 * message, so the raw code can still be looked up with `drmb spec sw`.
 */
import { EXIT } from '../base/exit-codes.js';
import { OperationalError } from '../base/operational-error.js';
import { COMMANDS, initializeForLoad, setStatus, verify } from '../applet-spec/commands.js';
import type { Command } from '../applet-spec/define-command.js';
import { describeSw, hex4, SW } from '../applet-spec/status-words.js';
import { StatusWordError } from '../host/errors.js';

/** What a command knew about the card when it was refused, to make the advice precise. */
export interface RefusalFacts {
  /** the card's PIN threshold in fen (GET DATA DF09), when the command read it */
  pinThresholdFen?: number;
}

/** One rule: the status word (or family base, 63C0) and the commands it applies to. */
interface Rule {
  sw: number;
  /** a definition this rule is for, or what a definition must declare; every command when absent */
  command?: Command<any, any> | ((c: Command<any, any>) => boolean);
  advice: (c: Command<any, any>, sw: number, facts: RefusalFacts) => string;
}

const yuan = (fen: number): string => (fen / 100).toFixed(2);

/** The table, most specific rule first. */
const RULES: readonly Rule[] = [
  { sw: SW.CONDITIONS_OF_USE_NOT_SATISFIED, command: setStatus, advice: () => 'the card still holds coins: pay them out first (drmb card return), then terminate it' },
  {
    sw: SW.SECURITY_STATUS_NOT_SATISFIED,
    command: (c) => c.security.pin === 'above-threshold',
    advice: (_c, _sw, f) =>
      `${f.pinThresholdFen === undefined ? "above the card's PIN threshold" : `above the PIN threshold of ${yuan(f.pinThresholdFen)}`}: give --pin-file or answer the prompt`,
  },
  {
    sw: SW.CONDITIONS_OF_USE_NOT_SATISFIED,
    command: (c) => !c.states.includes('BLANK') && !c.states.includes('PREPARED'),
    advice: (c) =>
      `the card is ${c.states.length > 1 ? `neither ${c.states.join(' nor ')}` : `not ${c.states[0]}`}: drmb card info shows its state; a BLANK card needs drmb perso prepare, a PREPARED one drmb perso issue`,
  },
  { sw: 0x63c0, command: verify, advice: (_c, sw) => `wrong PIN: ${sw & 0x0f} ${(sw & 0x0f) === 1 ? 'try' : 'tries'} left before the PIN is blocked` },
  { sw: SW.AUTHENTICATION_METHOD_BLOCKED, advice: () => "the card's PIN is blocked: its issuing bank unblocks it (RELOAD PIN)" },
  { sw: SW.INSUFFICIENT_BALANCE, advice: () => 'the card holds less than the amount: drmb card balance shows what it holds; load it with drmb bank withdraw' },
  {
    sw: SW.NO_EXACT_COIN_SET,
    advice: () => 'no coins on the card add up to exactly this amount: a terminal pays change first with --float FILE --terminal-key FILE (drmb pos float, drmb keys user-key --sign); drmb card info lists the coins',
  },
  { sw: SW.OVER_SINGLE_LIMIT, advice: () => "above the card's single-payment limit: pay in smaller parts" },
  { sw: SW.OFFLINE_QUOTA_EXHAUSTED, advice: () => "the card's offline payments are used up: its bank must reset the quota online before it pays offline again" },
  { sw: SW.OVER_BALANCE_CAP, command: initializeForLoad, advice: () => "the card would hold more than its balance cap: withdraw less" },
  { sw: SW.MAC_INVALID, advice: () => 'a MAC did not verify: the keys of the card, the PSAM or the bank do not belong together (same ceremony?)' },
];

/** The rule's match on a command, by definition or by what the definition declares. */
function applies(rule: Rule, c: Command<any, any>, sw: number): boolean {
  const base = (sw & 0xfff0) === 0x63c0 ? 0x63c0 : sw;
  if (rule.sw !== base) return false;
  if (rule.command === undefined) return true;
  return typeof rule.command === 'function' ? rule.command(c) : rule.command === c;
}

/** The next step for `sw` answered to the card command named `command` ("INITIALIZE FOR PURCHASE"), or undefined when the table has none. */
export function whatToDo(command: string, sw: number, facts: RefusalFacts = {}): string | undefined {
  const c = COMMANDS.find((x) => x.name === command);
  if (!c) return undefined;
  const rule = RULES.find((r) => applies(r, c, sw));
  return rule?.advice(c, sw, facts);
}

/** A card refusal with its next step: "<COMMAND>: <what to do> (SW 6982 SECURITY_STATUS_NOT_SATISFIED)". */
export class CardRefusalError extends OperationalError {
  override readonly name = 'CardRefusalError';
  constructor(
    readonly command: string,
    readonly sw: number,
    advice: string,
    options?: ErrorOptions,
  ) {
    super(`${command}: ${advice} (SW ${hex4(sw)} ${describeSw(sw).name})`, { ...options, exitCode: EXIT.refused });
  }
}

/** A StatusWordError with its next step, when the table has one; else the error as it is. */
export function explainRefusal(e: unknown, facts: RefusalFacts = {}): unknown {
  if (!(e instanceof StatusWordError)) return e;
  const advice = whatToDo(e.command, e.sw, facts);
  return advice === undefined ? e : new CardRefusalError(e.command, e.sw, advice, { cause: e });
}

/** The rules' status words and the definitions they name, for the test that each is one the command can answer. */
export function ruleKeys(): { sw: number; command?: Command<any, any> }[] {
  return RULES.map((r) => ({ sw: r.sw, command: typeof r.command === 'object' ? r.command : undefined }));
}
