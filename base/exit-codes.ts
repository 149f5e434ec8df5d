/**
 * @module The exit codes of drmb, each written once with its meaning: the CLI's --help, docs/cli.md and
 * the error classes (OperationalError's default, UsageError, DoubleSpendError) all take them from here.
 */

/** One exit code: its number, a short name for JSON errors, and what it means to the user. */
export interface ExitCode {
  code: number;
  name: string;
  meaning: string;
}

/** Every exit code drmb ends with. */
export const EXIT_CODES = [
  { code: 0, name: 'ok', meaning: 'done' },
  {
    code: 1,
    name: 'refused',
    meaning: 'refused by the card, the terminal (its PSAM or reader), the keys, the journal or the registry; the message says why and what to do',
  },
  { code: 2, name: 'usage', meaning: 'usage: a missing, unknown or malformed option, argument or input file; nothing was changed' },
  { code: 3, name: 'double-spend', meaning: 'a double spend was caught: the proof is recorded and the payer card blacklisted' },
  { code: 70, name: 'internal', meaning: 'internal error of drmb (one line; DRMB_DEBUG=1 prints the stack)' },
] as const satisfies readonly ExitCode[];

/** The exit codes by name: EXIT.usage is 2. */
export const EXIT = {
  ok: 0,
  refused: 1,
  usage: 2,
  doubleSpend: 3,
  internal: 70,
} as const satisfies Record<string, (typeof EXIT_CODES)[number]['code']>;

/** The name of an exit code ("usage"), or "refused" for a code not in the table. */
export function exitCodeName(code: number): string {
  return EXIT_CODES.find((c) => c.code === code)?.name ?? 'refused';
}
