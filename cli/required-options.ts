/**
 * @module Required options of drmb commands, checked all at once: an option declared with commander's
 * `requiredOption`, and groups of which one option must be given (`requireOneOf`: --sim or --reader,
 * --keys or $DRMB_KEY_DIR). Commander would stop at the first missing option; here one UsageError
 * names every missing one, and --help marks each "(required)".
 */
import type { Command as Cli, Option } from 'commander';
import { UsageError } from './output.js';

/** Options of which at least one must be given, or an environment variable that stands in for them. */
export interface OneOf {
  /** the long flags, "--psam-sim" */
  options: readonly string[];
  /** a variable that stands in for them ("DRMB_KEY_DIR") */
  env?: string;
}

/** The groups of each command, beside commander's own per-option `mandatory`. */
const ONE_OF = new WeakMap<Cli, OneOf[]>();
/** The options whose `mandatory` was taken over by enforceRequiredOptions. */
const REQUIRED = new WeakMap<Cli, Option[]>();

/** How an option is named in messages: its flags without the short form ("--queue <file>"). */
const named = (o: Option): string => o.flags.replace(/^-\w, /, '');

/** Declares that one of `group.options` (already added to cmd) must be given; --help says so on each. */
export function requireOneOf(cmd: Cli, group: OneOf): Cli {
  ONE_OF.set(cmd, [...(ONE_OF.get(cmd) ?? []), group]);
  for (const flag of group.options) {
    const o = cmd.options.find((x) => x.long === flag);
    if (!o) throw new TypeError(`requireOneOf: ${flag} is not an option of ${cmd.name()}`);
    const others = [...group.options.filter((f) => f !== flag), ...(group.env ? [`$${group.env}`] : [])];
    o.description += ` (required${others.length ? `, unless ${others.join(' or ')}` : ''})`;
  }
  return cmd;
}

/**
 * Takes over commander's check of required options in every command of the tree: each is marked
 * "(required)" in --help, and a preAction hook on `program` checks every requirement of the command
 * about to run, naming all that are missing in one UsageError.
 */
export function enforceRequiredOptions(program: Cli): void {
  const walk = (cmd: Cli): void => {
    const required = cmd.options.filter((o) => o.mandatory);
    for (const o of required) {
      o.mandatory = false;
      o.description += ' (required)';
    }
    if (required.length) REQUIRED.set(cmd, required);
    cmd.commands.forEach(walk);
  };
  walk(program);
  program.hook('preAction', (_program, command) => {
    const missing = missingOptions(command);
    if (missing.length) throw new UsageError(`${commandPath(command)}: missing ${missing.join('; ')}`);
  });
}

/** What is missing for `cmd` to run: each required option not given, each group none of whose options was given. */
export function missingOptions(cmd: Cli, env: Record<string, string | undefined> = process.env): string[] {
  const given = (o: Option) => cmd.getOptionValue(o.attributeName()) !== undefined;
  const missing = (REQUIRED.get(cmd) ?? []).filter((o) => !given(o)).map(named);
  for (const group of ONE_OF.get(cmd) ?? []) {
    const options = group.options.map((f) => cmd.options.find((o) => o.long === f)!);
    if (options.some(given) || (group.env && env[group.env])) continue;
    missing.push([...options.map(named), ...(group.env ? [`$${group.env}`] : [])].join(' or '));
  }
  return missing;
}

/** "drmb pos pay". */
export function commandPath(cmd: Cli): string {
  const names: string[] = [];
  for (let c: Cli | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
