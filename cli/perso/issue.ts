/** @module `drmb perso issue`: commercial-bank issuance with SM9 keys from the KGC; the PIN from a file or a prompt, never from the command line. */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { OperationalError } from '../../base/operational-error.js';
import { issueCard, type PersoResult } from '../../personalization/card-prep.js';
import { type HolderData, loadIssueProfile } from '../../personalization/profiles.js';
import { emit, UsageError } from '../output.js';
import { openCard } from '../open-card.js';
import { readPinFile, withPinFile } from '../options.js';
import { promptPin } from '../terminal-prompt.js';
import { addPersoOptions, PERSO_IMAGE, type PersoOptions, persoContext, persoKeys, runBatchJob } from './perso-options.js';
import type { IssueKeys } from '../../personalization/card-prep.js';
import { inProcessKgc, type UserKeySource } from '../../personalization/kgc.js';
import { remoteKgc } from '../../personalization/kgc-client.js';
import { batchFailures, formatBatch } from '../../personalization/batch.js';
import { formatResult } from './prepare.js';

/** The command, as the role table names it. */
const ISSUE_COMMAND = 'drmb perso issue';

export interface IssueCliOptions extends PersoOptions {
  holder?: string;
  pinFile?: string;
  /** URL of the KGC service (drmb kgc serve) */
  kgc?: string;
}

function readHolder(path?: string): HolderData {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as HolderData;
  } catch (e) {
    throw new UsageError(`--holder: cannot read ${path} as JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * The keys of issuance, from the desk's bundle (or a ceremony directory), and its KGC: the service at
 * --kgc, asked with the desk's own key. The KGC's master keys are not the desk's: only a ceremony
 * directory (development, tests, the demo) lends them to an in-process KGC when --kgc is not given.
 */
function issueKeys(o: IssueCliOptions): IssueKeys {
  const keys = persoKeys(o, ISSUE_COMMAND);
  const anchors = keys.trustAnchors();
  let kgc: UserKeySource;
  if (o.kgc !== undefined) {
    kgc = remoteKgc(o.kgc, keys.key('desk-signing'));
  } else {
    const instead = "the KGC master keys are the KGC's; give --kgc URL of a drmb kgc serve";
    const sign = keys.ceremonyKey('kgc-sign', instead);
    const encrypt = keys.ceremonyKey('kgc-encrypt', instead);
    kgc = inProcessKgc({ signPrivateKey: sign.secret.privateKey, encryptPrivateKey: encrypt.secret.privateKey }, anchors);
  }
  return { issuanceMaster: keys.key('issuance-master'), kgc, anchors };
}

export async function runIssue(o: IssueCliOptions, progress = true): Promise<PersoResult & { identity?: string; source: string }> {
  const profile = loadIssueProfile(o.profile);
  const holder = readHolder(o.holder);
  const pin = o.pinFile ? readPinFile(o.pinFile) : await promptPin({ question: 'new PIN: ', confirm: true, why: 'no PIN: give --pin-file <file>, or run on a terminal to be asked for it' });
  const keys = issueKeys(o);
  const card = await openCard(o, { image: PERSO_IMAGE });
  try {
    const ctx = { ...persoContext(o, progress), reader: card.source };
    return { ...(await card.transport.lease((t) => issueCard(t, profile, holder, pin, keys, ctx))), source: card.source };
  } finally {
    await card.close();
  }
}

export function registerIssue(perso: Cli): void {
  addPersoOptions(
    withPinFile(
      perso
        .command('issue')
        .description('commercial-bank issuance (PREPARED -> ISSUED): holder data, SM9 keys from the KGC encrypted to the card key, PIN')
        .option('--holder <file>', 'holder data (JSON: name, idType, idNumber, phone, walletId); anonymous cards may omit it')
        .option('--kgc <url>', "the KGC service (drmb kgc serve), asked with the desk's desk-signing key; without it only a ceremony directory's in-process KGC (development)"),
      'else asked on the terminal',
    ),
    'issue',
  ).action(async (o: IssueCliOptions) => {
    if (o.batch) {
      const profile = loadIssueProfile(o.profile);
      const holder = readHolder(o.holder);
      if (!o.pinFile) throw new UsageError('--batch issuance needs --pin-file (the initial PIN of every card)');
      const pin = readPinFile(o.pinFile);
      const keys = issueKeys(o);
      const ctx = persoContext(o, false);
      const summary = await runBatchJob(o, (t, slot, crypto) => issueCard(t, profile, holder, pin, keys, { ...ctx, reader: slot, crypto }));
      emit(summary, !!o.json, formatBatch);
      if (summary.failed) throw new OperationalError(batchFailures(summary));
      return;
    }
    const r = await runIssue(o, !o.json);
    emit(r, !!o.json, (x) => `${formatResult(x)}${x.identity ? `\n  SM9 identity: ${x.identity}` : ''}`);
  });
}
