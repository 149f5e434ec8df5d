/** @module `drmb perso prepare`: central-bank card prep of a card in a reader or a simulated card, or its dry-run script. */
import { writeFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { OperationalError } from '../../base/operational-error.js';
import { prepareCard, type PersoResult, scriptText } from '../../personalization/card-prep.js';
import { preparePlan } from '../../personalization/perso-crypto.js';
import { wipe } from '../../base/bytes.js';
import { loadPrepareProfile } from '../../personalization/profiles.js';
import { emit, UsageError } from '../output.js';
import { openCard } from '../open-card.js';
import { isCardId, withCardId } from '../options.js';
import { addPersoOptions, PERSO_IMAGE, type PersoOptions, persoContext, persoKeys, runBatchJob } from './perso-options.js';
import type { PrepareKeys } from '../../personalization/card-prep.js';
import { batchFailures, formatBatch } from '../../personalization/batch.js';
import { KEY_VERSIONS } from '../../applet-spec/commands/initialize-update.js';

export interface PrepareCliOptions extends PersoOptions {
  dryRun?: boolean;
  cardId?: string;
  scriptOut?: string;
}

/** The keys of prep, from the prep centre's bundle (or a ceremony directory). */
function prepareKeys(o: PrepareCliOptions): PrepareKeys {
  const keys = persoKeys(o, 'drmb perso prepare');
  return { cbMaster: keys.key('cb-master'), issuanceMaster: keys.key('issuance-master'), certSigning: keys.key('cert-signing'), anchors: keys.trustAnchors() };
}

/** The dry run: the script the card would receive inside the secure channel, keys redacted. */
export function prepareDryRun(o: PrepareCliOptions): { cardId: string; script: string; fullScript: string } {
  if (!o.cardId || !isCardId(o.cardId)) throw new UsageError('--card-id <20 digits> is needed for --dry-run (no card is read)');
  const profile = loadPrepareProfile(o.profile);
  const keys = prepareKeys(o);
  const { scpKeys, steps, kcvs = {} } = preparePlan(o.cardId, profile.profile, keys);
  wipe(scpKeys.enc, scpKeys.mac, scpKeys.dek);
  const header = [`drmb perso prepare --dry-run for card ${o.cardId}`, `profile ${o.profile} SM3 ${profile.hash}`, `key check values ${Object.entries(kcvs).map(([k, v]) => `${k}=${v}`).join(' ')}`];
  return { cardId: o.cardId, script: scriptText(header, KEY_VERSIONS.PERSONALIZATION, steps, true), fullScript: scriptText(header, KEY_VERSIONS.PERSONALIZATION, steps, false) };
}

/** Prepares the card the options name. */
export async function runPrepare(o: PrepareCliOptions, progress = true): Promise<PersoResult & { source: string }> {
  const profile = loadPrepareProfile(o.profile);
  const keys = prepareKeys(o);
  const card = await openCard(o, { image: PERSO_IMAGE });
  try {
    const ctx = { ...persoContext(o, progress), reader: card.source };
    return { ...(await card.transport.lease((t) => prepareCard(t, profile, keys, ctx))), source: card.source };
  } finally {
    await card.close();
  }
}

export function formatResult(r: PersoResult & { source?: string }): string {
  const lines = [`${r.stage} ${r.cardId}: ${r.result}${r.reason ? ` (${r.reason})` : ''}${r.source ? ` on ${r.source}` : ''}`, `  ${r.apdus} APDUs, ${Math.round(r.durationMs)} ms`];
  if (r.kcvs) lines.push(`  key check values: ${Object.entries(r.kcvs).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return lines.join('\n');
}

export function registerPrepare(perso: Cli): void {
  addPersoOptions(
    withCardId(
      perso
        .command('prepare')
        .description('central-bank card prep (BLANK -> PREPARED): keys diversified by card ID, SCP03, data groups, read-back check')
        .option('--dry-run', 'print the APDU script (keys redacted) instead of using a card; needs --card-id'),
      'for --dry-run',
    ).option('--script-out <file>', 'with --dry-run: also write the replayable script (encrypted key DGIs kept) to this file, mode 0600'),
    'prepare',
  ).action(async (o: PrepareCliOptions) => {
    if (o.dryRun) {
      const r = prepareDryRun(o);
      if (o.scriptOut) writeFileSync(o.scriptOut, r.fullScript, { mode: 0o600 });
      emit({ cardId: r.cardId, script: r.script }, !!o.json, (x) => x.script.trimEnd());
      return;
    }
    if (o.batch) {
      const profile = loadPrepareProfile(o.profile);
      const keys = prepareKeys(o);
      const ctx = persoContext(o, false);
      const summary = await runBatchJob(o, (t, slot, crypto) => prepareCard(t, profile, keys, { ...ctx, reader: slot, crypto }));
      emit(summary, !!o.json, formatBatch);
      if (summary.failed) throw new OperationalError(batchFailures(summary));
      return;
    }
    emit(await runPrepare(o, !o.json), !!o.json, formatResult);
  });
}

