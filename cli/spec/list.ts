/** @module `drmb spec list`: every command of the D-RMB applet (or, with --psam, of the PSAM) with its header, states and security. */
import type { Command as Cli } from 'commander';
import { COMMANDS } from '../../applet-spec/commands.js';
import { PSAM_COMMANDS } from '../../applet-spec/psam-commands.js';
import { headerByteText } from '../../applet-spec/define-command.js';
import { emit } from '../output.js';
import { withJson } from '../options.js';

export interface CommandSummary {
  name: string;
  id: string;
  header: string;
  states: string[];
  summary: string;
}

const h2 = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();

/** Collects the command table of the user card, or of the PSAM. */
export function listCommands(o: { psam?: boolean } = {}): CommandSummary[] {
  return (o.psam ? PSAM_COMMANDS : COMMANDS).map((c) => ({
    name: c.name,
    id: c.id,
    header: `${h2(c.secureMessaging === 'required' ? c.cla | 0x04 : c.cla)} ${h2(c.ins)} ${headerByteText(c.p1)} ${headerByteText(c.p2)}`,
    states: [...c.states],
    summary: c.summary,
  }));
}

export function registerList(spec: Cli): void {
  withJson(
    spec
      .command('list')
      .description('list every command of the D-RMB applet')
      .option('--psam', "the commands of the POS terminal's PSAM instead"),
  ).action((opts: { json?: boolean; psam?: boolean }) => {
    emit(listCommands(opts), !!opts.json, (rows) =>
      rows.map((r) => `${r.header.padEnd(24)} ${r.name.padEnd(24)} ${r.summary}`).join('\n'),
    );
  });
}
