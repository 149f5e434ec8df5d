/**
 * @module The payer's PIN for a payment (drmb pos pay, drmb peer pay): --pin-file when given; else,
 * when the amount is above the card's PIN threshold (GET DATA DF09; JR/T 0025 asks the cardholder's
 * PIN above it), asked on the terminal without echo, or refused with what to do when there is none.
 */
import { OperationalError } from '../base/operational-error.js';
import type { Command } from '../applet-spec/define-command.js';
import { SW } from '../applet-spec/status-words.js';
import type { DrmbCard } from '../host/drmb-card.js';
import { StatusWordError } from '../host/errors.js';
import { pinOf } from './options.js';
import { canPrompt, promptPin } from './terminal-prompt.js';
import { whatToDo } from './what-to-do.js';

/** The card's PIN threshold in fen, or undefined when the card does not tell it (the card then decides alone). */
export async function pinThresholdOf(card: DrmbCard): Promise<number | undefined> {
  try {
    return (await card.getData('pinThreshold')) as number;
  } catch (e) {
    if (e instanceof StatusWordError) return undefined;
    throw e;
  }
}

/**
 * The PIN for paying `amountFen` from `card` (selected) with `command` (the definition that asks for
 * the PIN above the threshold): the --pin-file PIN, else none at or below the threshold, else the PIN
 * typed on the terminal; without a terminal, an OperationalError with the translation of the 6982 the
 * card would answer ("above the PIN threshold of 200.00: give --pin-file or answer the prompt").
 */
export async function paymentPin(card: DrmbCard, amountFen: number, command: Command<any, any>, o: { pinFile?: string }): Promise<string | undefined> {
  const fromFile = pinOf(o);
  if (fromFile !== undefined) return fromFile;
  const thresholdFen = await pinThresholdOf(card);
  if (thresholdFen === undefined || amountFen <= thresholdFen) return undefined;
  const advice = whatToDo(command.name, SW.SECURITY_STATUS_NOT_SATISFIED, { pinThresholdFen: thresholdFen })!;
  if (!canPrompt()) throw new OperationalError(`${(amountFen / 100).toFixed(2)} yuan is ${advice}`);
  return promptPin({ question: `PIN for ${(amountFen / 100).toFixed(2)} yuan: `, why: advice });
}
