/** @module `drmb spec show`: the reference section of one command of the card or the PSAM, from its definition. */
import type { Command as Cli } from 'commander';
import { COMMANDS } from '../../applet-spec/commands.js';
import { PSAM_COMMANDS } from '../../applet-spec/psam-commands.js';
import { renderPsamReference } from '../../applet-spec/render-psam-reference.js';
import { renderReference } from '../../applet-spec/render-reference.js';
import { emit, UsageError } from '../output.js';
import { withJson } from '../options.js';

/**
 * The Markdown section of the command named (by spec name or id, case-insensitive): the user card's,
 * else the PSAM's (a name both have, STORE DATA, is the card's; the PSAM's goes by its id psamStoreData).
 */
export function showCommand(name: string): { name: string; section: string } {
  const wanted = name.toLowerCase();
  const named = (c: { name: string; id: string }) => c.name.toLowerCase() === wanted || c.id.toLowerCase() === wanted;
  const card = COMMANDS.find(named);
  const cmd = card ?? PSAM_COMMANDS.find(named);
  if (!cmd) throw new UsageError(`unknown command "${name}" (see drmb spec list, drmb spec list --psam)`);
  const text = card ? renderReference() : renderPsamReference();
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
