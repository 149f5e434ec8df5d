/**
 * @module Questions asked on the terminal, on stderr: a PIN without echo (issuance asks twice; a
 * payment above a card's PIN threshold once) and a yes/no confirmation before an act that cannot be
 * undone (minting, conformance cases that may terminate a card), which --yes gives without a terminal.
 */
import { createInterface } from 'node:readline';
import { UsageError } from './output.js';
import { pauseProgress } from './progress.js';

/** Whether a PIN can be asked: standard input and standard error are a terminal. */
export function canPrompt(): boolean {
  return !!process.stdin.isTTY && !!process.stderr.isTTY;
}

/** One line read from the terminal, the question on stderr; with `hidden`, the answer is not echoed. */
export function askLine(question: string, hidden = false): Promise<string> {
  const resume = pauseProgress();
  return new Promise<string>((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) {
      // readline echoes what is typed through _writeToOutput: let only the question through.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stderr.write(question);
      };
    }
    rl.question(question, (a) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resume();
      resolve(a.trim());
    });
  });
}

/**
 * Goes on only when confirmed: `yes` (the --yes option), or "y" typed on the terminal to `question`;
 * without a terminal, a UsageError saying to add --yes (`what` names the act: "minting 1000.00 yuan").
 */
export async function confirm(yes: boolean | undefined, question: string, what: string): Promise<void> {
  if (yes) return;
  if (!canPrompt()) throw new UsageError(`${what} needs a confirmation: add --yes (or run on a terminal to be asked)`);
  const a = await askLine(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(a)) throw new UsageError(`${what} not confirmed: nothing was done`);
}

/**
 * Asks for a PIN on the terminal (twice with `confirm`, for a new PIN); `why` is the UsageError's
 * message when there is no terminal to ask on.
 */
export async function promptPin(options: { question?: string; confirm?: boolean; why: string }): Promise<string> {
  if (!canPrompt()) throw new UsageError(options.why);
  const a = await askLine(options.question ?? 'PIN: ', true);
  if (options.confirm && a !== (await askLine('PIN again: ', true))) throw new UsageError('the two PINs differ');
  if (!/^\d{4,12}$/.test(a)) throw new UsageError('the PIN must be 4-12 digits');
  return a;
}
