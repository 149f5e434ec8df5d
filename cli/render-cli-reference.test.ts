/** @module docs/cli.md is the program's own reference: fresh, every command with examples that name only its options and give its required ones. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliReferencePath } from '../scripts/generate-docs.js';
import { COMMAND_EXAMPLES } from './command-examples.js';
import { buildProgram } from './drmb.js';
import { leafCommands, renderCliReference } from './render-cli-reference.js';
import { commandPath } from './required-options.js';

/** The long options an example line gives, in order. */
const flagsOf = (line: string) => [...line.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1]);

describe('docs/cli.md', () => {
  it('is what npm run docs renders from the program now', () => {
    expect(readFileSync(cliReferencePath, 'utf8'), 'run npm run docs').toBe(renderCliReference(buildProgram()));
  });

  it('has examples for every command, naming only options the command has, each required one given', () => {
    const leaves = leafCommands(buildProgram());
    expect(Object.keys(COMMAND_EXAMPLES).sort()).toEqual(leaves.map((c) => commandPath(c).replace(/^drmb /, '')).sort());
    for (const cmd of leaves) {
      const name = commandPath(cmd).replace(/^drmb /, '');
      const own = new Set(cmd.options.map((o) => o.long));
      const required = cmd.options.filter((o) => / \(required\)$/.test(o.description)).map((o) => o.long);
      for (const e of COMMAND_EXAMPLES[name]) {
        expect(e.line.startsWith(`${name} `) || e.line === name, e.line).toBe(true);
        for (const flag of flagsOf(e.line)) expect(own.has(flag), `${e.line}: ${flag}`).toBe(true);
        for (const flag of required) expect(flagsOf(e.line), `${e.line} lacks the required ${flag}`).toContain(flag);
      }
    }
  });

  it('shows the examples at the end of each --help', () => {
    const pay = leafCommands(buildProgram()).find((c) => commandPath(c) === 'drmb pos pay')!;
    let help = '';
    pay.configureOutput({ writeOut: (s) => (help += s) });
    pay.outputHelp();
    expect(help).toMatch(/\nExamples:\n {2}# [^\n]+\n {2}\$ drmb pos pay --amount 30 /);
  });
});
