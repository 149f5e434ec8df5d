/** @module `drmb spec show`: the reference section of one command, from its definition. */
import type { Command as Cli } from 'commander';
import { COMMANDS } from '../../applet-spec/commands.js';
import { renderReference } from '../../applet-spec/render-reference.js';
import { emit, UsageError } from '../output.js';
import { withJson } from '../options.js';

/** The Markdown section of the command named (by spec name or id, case-insensitive). */
export function showCommand(name: string): { name: string; section: string } {
  const wanted = name.toLowerCase();
  const cmd = COMMANDS.find((c) => c.name.toLowerCase() === wanted || c.id.toLowerCase() === wanted);
  if (!cmd) throw new UsageError(`unknown command "${name}" (see drmb spec list)`);
  const text = renderReference();
  const start = text.indexOf(`### ${cmd.name}\n`);
  const end = text.indexOf('\n### ', start + 4);
  const sectionEnd = text.indexOf('\n## ', start);
  const stop = [end, sectionEnd].filter((i) => i > 0).reduce((a, b) => Math.min(a, b), text.length);
  return { name: cmd.name, section: text.slice(start, stop).trimEnd() };
}

export function registerShow(spec: Cli): void {
  withJson(
    spec
      .command('show')
      .description('show one command: header, layouts, states, security, status words, examples')
      .argument('<command>', 'command name ("DEBIT FOR PURCHASE") or id (debitForPurchase)'),
  ).action((name: string, opts: { json?: boolean }) => {
    emit(showCommand(name), !!opts.json, (r) => r.section);
  });
}
