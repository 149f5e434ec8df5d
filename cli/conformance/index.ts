/**
 * @module `drmb conformance`: runs the conformance suite against a simulated card (`--sim`, in process,
 * the image file never written) or any PC/SC reader (`--reader`, with `--power-control` the control
 * socket of the `drmb sim serve` in it, for the tear cases, and `--fresh-images` for a fresh card per
 * case put in the reader through that socket), with what the tester knows of the card
 * in `--profile`; `--list`, `--only`/`--skip` by ID (trailing `*`), `--destructive` (confirmed on a
 * terminal, `--yes` otherwise), `--json` and `--junit` reports. Progress and the summary go to stderr;
 * the exit status is 1 when any case fails.
 */
import { existsSync } from 'node:fs';
import { whyNotWritable, writeFileAtomic } from '../../io/atomic-file.js';
import { askLine } from '../terminal-prompt.js';
import type { Command as Cli } from 'commander';
import { describeNeeds, type ConformanceCase } from '../../conformance/conformance-case.js';
import { EMPTY_PROFILE, loadProfile } from '../../conformance/profile.js';
import { formatSummary, junitReport, jsonReport, progressLine } from '../../conformance/report.js';
import { type CaseResult, runCases, selectCases } from '../../conformance/runner.js';
import { conformanceSuite } from '../../conformance/suite.js';
import type { ConformanceTarget } from '../../conformance/target.js';
import { UsageError } from '../output.js';
import { loadSimImage } from '../sim/load-sim-image.js';
import { checkPowerControlPath, freshImagesByState, readerTarget } from './reader-target.js';
import { simTarget } from './sim-target.js';
import { formatCoverageLine, formatCoverageTable, specCoverage } from '../../conformance/spec-coverage.js';

export interface ConformanceOptions {
  /** one image, or several in different lifecycle states (each case gets a fresh card in the state it needs) */
  sim?: string | string[];
  reader?: string;
  /** the control socket of the `drmb sim serve --control-socket` whose card is in the reader: power-cut control */
  powerControl?: string;
  /** with `powerControl`: card images, one per lifecycle state, that serve loads into the reader as each case's fresh card */
  freshImages?: string | string[];
  profile?: string;
  list?: boolean;
  only?: string[];
  skip?: string[];
  destructive?: boolean;
  yes?: boolean;
  json?: string;
  junit?: string;
  coverage?: boolean;
}

/** Where the command talks: stderr lines, the confirmation question, whether stdin is a terminal. */
export interface ConformanceIo {
  err(line: string): void;
  out(text: string): void;
  isTty: boolean;
  ask(question: string): Promise<string>;
}

const stdio: ConformanceIo = {
  err: (line) => void process.stderr.write(`${line}\n`),
  out: (text) => void process.stdout.write(text),
  isTty: !!process.stdin.isTTY,
  ask: (question) => askLine(question),
};

/** The listing of `--list`: ID, clause, needs and rule of each case. */
export function formatCaseList(cases: readonly ConformanceCase[]): string {
  return `${cases.map((c) => `${c.id}\n  clause: ${c.clause}\n  needs:  ${describeNeeds(c.needs)}\n  rule:   ${c.rule}`).join('\n')}\n`;
}

/** Checks the options before anything touches a card; every problem is one UsageError naming the option. */
export function checkConformanceOptions(o: ConformanceOptions): void {
  if (o.sim !== undefined && o.reader !== undefined) throw new UsageError('--sim and --reader exclude each other');
  if (!o.list && o.sim === undefined && o.reader === undefined) throw new UsageError('give the card under test: --sim <image> or --reader <name>');
  for (const image of simImages(o)) if (!existsSync(image)) throw new UsageError(`--sim: card image ${image} does not exist`);
  if (o.powerControl !== undefined) {
    if (o.reader === undefined) throw new UsageError('--power-control is for --reader (a --sim card has its power cut in process)');
    checkPowerControlPath(o.powerControl);
  }
  if (o.freshImages !== undefined) {
    if (o.reader === undefined) throw new UsageError('--fresh-images is for --reader (give a --sim card one --sim image per state instead)');
    if (o.powerControl === undefined) throw new UsageError('--fresh-images needs --power-control, the control socket of the drmb sim serve that loads them into the reader');
    for (const image of [o.freshImages].flat()) if (!existsSync(image)) throw new UsageError(`--fresh-images: card image ${image} does not exist`);
  }
  if (o.profile !== undefined && !existsSync(o.profile)) throw new UsageError(`--profile: ${o.profile} does not exist`);
  if (o.yes && !o.destructive) throw new UsageError('--yes confirms --destructive, which is not given');
  for (const [name, file] of [['--json', o.json], ['--junit', o.junit]] as const) {
    if (file !== undefined && (file === '' || file.startsWith('-'))) throw new UsageError(`${name} needs a file name`);
    const why = file === undefined ? undefined : whyNotWritable(file);
    if (why) throw new UsageError(`${name} ${file}: cannot be written (${why})`);
  }
  for (const [name, ids] of [['--only', o.only], ['--skip', o.skip]] as const) {
    for (const id of ids ?? []) if (!/^[A-Z0-9-]+\*?$/.test(id)) throw new UsageError(`${name} ${id}: a case ID, or an ID prefix ending in *`);
  }
}

/** The --sim images, given once or repeated. */
function simImages(o: ConformanceOptions): string[] {
  return o.sim === undefined ? [] : [o.sim].flat();
}

async function openTarget(o: ConformanceOptions): Promise<ConformanceTarget> {
  const images = simImages(o);
  if (images.length) {
    const cards = await Promise.all(images.map((image) => loadSimImage(image)));
    return simTarget(
      cards.map((card) => card.toImage()),
      `simulated card ${images.join(', ')}`,
    );
  }
  const fresh = o.freshImages === undefined ? undefined : await freshImagesByState([o.freshImages].flat());
  return readerTarget(o.reader, o.powerControl, fresh);
}

/** Runs the command; returns the results (empty for --list) and sets no exit code itself. */
export async function runConformance(o: ConformanceOptions, io: ConformanceIo = stdio): Promise<CaseResult[]> {
  checkConformanceOptions(o);
  const { cases, unmatched } = selectCases(conformanceSuite(), o.only, o.skip);
  if (unmatched.length) throw new UsageError(`${unmatched.map((p) => (o.only?.includes(p) ? '--only' : '--skip')).at(0)} ${unmatched[0]}: no case has this ID (see drmb conformance --list)`);
  if (o.list) {
    io.out(formatCaseList(cases));
    return [];
  }
  const profile = o.profile ? loadProfile(o.profile) : EMPTY_PROFILE;
  if (o.destructive && !o.yes) {
    if (!io.isTty) throw new UsageError('--destructive without a terminal needs --yes: it may use up PIN tries, fill the coin slots, block or terminate the card');
    const a = await io.ask('--destructive may use up PIN tries, fill the coin slots, block or terminate the card under test. Go on? [y/N] ');
    if (!/^y(es)?$/i.test(a.trim())) throw new UsageError('--destructive not confirmed');
  }
  const target = await openTarget(o);
  const startedAt = new Date().toISOString();
  let results: CaseResult[];
  try {
    io.err(`drmb conformance: ${cases.length} cases against ${target.description}`);
    results = await runCases(cases, target, { profile, destructive: !!o.destructive, progress: (r, i, n) => io.err(progressLine(r, i, n)) });
  } finally {
    await target.close();
  }
  // Reports carry redacted APDUs only; written whole or not at all, readable by others (CI collects them).
  if (o.json) writeFileAtomic(o.json, jsonReport(results, target.description, startedAt), 0o644);
  if (o.junit) writeFileAtomic(o.junit, junitReport(results, target.description, startedAt), 0o644);
  io.err(formatSummary(results, target.description));
  const coverage = specCoverage(results.flatMap((r) => r.exchanges));
  if (o.coverage) io.out(formatCoverageTable(coverage));
  else io.err(formatCoverageLine(coverage));
  return results;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerConformance(program: Cli): void {
  program
    .command('conformance')
    .description('run the conformance suite against a card: simulated (--sim) or in any PC/SC reader (--reader)')
    .option('--sim <image>', 'an in-process simulated card loaded from this image (never written); repeatable, one image per lifecycle state, so that cases needing a BLANK, PREPARED or ISSUED card each get a fresh one', collect)
    .option('--reader <name|index>', 'a PC/SC reader: a real card, or one served by drmb sim serve')
    .option('--power-control <socket>', 'with --reader: the --control-socket of the drmb sim serve whose card is in the reader, so the tear cases can cut its power')
    .option(
      '--fresh-images <image>',
      'with --reader and --power-control: a card image the drmb sim serve loads into the reader (memory only, the file never written) whenever a case needs a fresh card in its state; repeatable, one image per lifecycle state, as --sim',
      collect,
    )
    .option('--profile <file>', 'what the tester knows of the card: state, key files, PIN (see docs/conformance.md)')
    .option('--list', 'list the cases (ID, clause, needs, rule) and run nothing')
    .option('--only <id>', 'run only this case; repeatable; a trailing * matches any suffix', collect)
    .option('--skip <id>', 'leave out this case; repeatable; a trailing * matches any suffix', collect)
    .option('--destructive', 'allow cases that use up PIN tries, fill the coin slots, block or terminate the card (asks on a terminal)')
    .option('--yes', 'confirm --destructive without asking (no terminal)')
    .option('--json <file>', 'write the JSON report (ID, clause, verdict, reason, APDUs, ms)')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--coverage', 'print, per command, the listed status words the card answered and the states it was sent in')
    .exitOverride()
    .action(async (o: ConformanceOptions) => {
      const results = await runConformance(o);
      if (results.some((r) => r.verdict === 'fail')) process.exitCode = 1;
    });
}
