/**
 * @module Options shared by `drmb perso prepare|issue|run-script`: keys, records, operator, and the card
 * (a PC/SC reader, or an in-process simulated card image that is saved back after the run: cli/open-card.ts).
 */
import { availableParallelism, userInfo } from 'node:os';
import { type Command as Cli, Option } from 'commander';
import { projectPath } from '../project-path.js';
import type { PersoContext } from '../../personalization/card-prep.js';
import type { BatchJob, BatchSummary } from '../../personalization/batch.js';
import { Manifest } from '../../personalization/manifest.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import type { ImageSaving } from '../open-card.js';
import { keyDirOf, withCardTarget, withJson, withKeys, withTrace } from '../options.js';
import { UsageError } from '../output.js';

export interface PersoOptions {
  profile: string;
  batch?: boolean;
  simDir?: string;
  count?: string;
  cryptoWorkers?: string;
  keys?: string;
  reader?: string;
  sim?: string;
  manifest: string;
  audit: string;
  operator?: string;
  force?: boolean;
  trace?: boolean;
  json?: boolean;
}

/** What personalization does to a --sim image: saved when the run ends, whatever happened (the card's state changed). */
export const PERSO_IMAGE: ImageSaving = 'save-at-end';

/**
 * Adds the options of a personalization stage; --profile defaults to the project's example profile of
 * the stage (examples/profiles/prepare.json, issue.json: an anonymous tier-4 card).
 */
export function addPersoOptions(cmd: Cli, stage: 'prepare' | 'issue'): Cli {
  const example = `examples/profiles/${stage}.json`;
  cmd.addOption(new Option('--profile <file>', 'profile file (JSON, see examples/profiles)').default(projectPath('examples', 'profiles', `${stage}.json`), `${example}, an anonymous tier-4 card`));
  withCardTarget(withKeys(cmd, 'single keys may also come from DRMB_KEY_* variables'), { image: PERSO_IMAGE })
    .option('--manifest <file>', 'manifest, one JSON line per card and stage', 'perso-manifest.jsonl')
    .option('--audit <file>', 'hash-chained audit log', 'perso-audit.log')
    .option('--operator <name>', 'operator recorded in the manifest and audit log (default: the login name)')
    .option('--force', 'go on although a failed card cryptogram is on record for the card')
    .option('--batch', 'one worker per reader matching --reader (cards processed as inserted), or per image of --sim-dir')
    .option('--sim-dir <dir>', 'with --batch: every simulated card image (*.json) in this folder')
    .option('--count <n>', 'with --batch: stop after this many cards')
    .option('--crypto-workers <n>', "with --batch: worker threads for the host's per-card crypto (plans, certificate checks, an in-process KGC) (default: one per core when the batch has more than one slot; 0: in this thread)");
  return withJson(withTrace(cmd));
}

export function persoContext(o: PersoOptions, progress: boolean): PersoContext {
  return {
    operator: o.operator ?? safeUser(),
    manifest: new Manifest(o.manifest),
    auditPath: o.audit,
    force: o.force,
    onStep: progress ? (cardId, step) => process.stderr.write(`${cardId}: ${step}\n`) : undefined,
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The keys of a perso command: its role's bundle, or a ceremony directory (--keys or DRMB_KEY_DIR); keys/role-bundles.ts. */
export function persoKeys(o: { keys?: string }, command: string): RoleKeys {
  return RoleKeys.open(keyDirOf(o), command);
}

/** --crypto-workers: a count of worker threads, 0 for none; by default one per core when the batch has more than one slot. */
function cryptoWorkersOf(text: string | undefined, slots: number): number {
  if (text === undefined) return slots > 1 ? availableParallelism() : 0;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 64) throw new UsageError(`--crypto-workers must be a number of threads from 0 to 64 (got ${text})`);
  return n;
}

/** Runs a per-card job as a batch over readers or simulated images, with progress on stderr and the host's crypto in worker threads (--crypto-workers). */
export async function runBatchJob(o: PersoOptions, job: BatchJob): Promise<BatchSummary> {
  const { runBatch, progressLine } = await import('../../personalization/batch.js');
  const { readerSlots, simImageSlots } = await import('./batch-slots.js');
  const limit = o.count === undefined ? undefined : Number(o.count);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError('--count must be a positive integer');
  if (o.cryptoWorkers !== undefined) cryptoWorkersOf(o.cryptoWorkers, 1); // bad input is refused before any reader is listed
  if (!o.simDir && limit === undefined && !process.stdin.isTTY) throw new UsageError('--batch over readers needs --count <n> when not run on a terminal');
  const slots = o.simDir ? await simImageSlots(o.simDir) : await readerSlots(o.reader);
  const stop = new AbortController();
  const onSignal = () => stop.abort('interrupted');
  process.once('SIGINT', onSignal);
  try {
    return await runBatch(slots, job, {
      limit,
      signal: stop.signal,
      cryptoWorkers: cryptoWorkersOf(o.cryptoWorkers, slots.length),
      onProgress: o.json ? undefined : (p, item) => process.stderr.write(`${progressLine(p)}  (${item.cardId ?? '?'} ${item.result})\n`),
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
}
