/** @module `drmb perso run-script`: replays a dry-run script (written with --script-out) on a card. */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { runScript } from '../../personalization/run-script.js';
import { emit, UsageError } from '../output.js';
import { openCard } from '../open-card.js';
import { keyDirOf, withCardTarget, withJson, withKeys, withTrace } from '../options.js';
import { PERSO_IMAGE } from './perso-options.js';
import { RoleKeys } from '../../keys/role-bundles.js';

export interface RunScriptOptions {
  keys?: string;
  reader?: string;
  sim?: string;
  trace?: boolean;
  json?: boolean;
}

export async function runScriptFile(file: string, o: RunScriptOptions): Promise<{ cardId: string; commands: number }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`script ${file} cannot be read`);
  }
  // A prep script (kvn 30) runs with the prep centre's bundle, an issuance script (kvn 31) with the desk's.
  const roleKeys = RoleKeys.open(keyDirOf(o), 'drmb perso run-script');
  const keys = { cbMaster: /secure-channel 30/i.test(text) ? roleKeys.key('cb-master') : undefined, issuanceMaster: /secure-channel 31/i.test(text) ? roleKeys.key('issuance-master') : undefined };
  const card = await openCard(o, { image: PERSO_IMAGE });
  try {
    return await card.transport.lease((t) => runScript(t, text, keys));
  } finally {
    await card.close();
  }
}

export function registerRunScript(perso: Cli): void {
  const cmd = perso.command('run-script').description('replay a personalization script written by prepare --dry-run --script-out').argument('<file>', 'script file');
  withJson(withTrace(withCardTarget(withKeys(cmd), { image: PERSO_IMAGE }))).action(async (file: string, o: RunScriptOptions) => {
    emit(await runScriptFile(file, o), !!o.json, (r) => `card ${r.cardId}: ${r.commands} commands sent, all 9000`);
  });
}
