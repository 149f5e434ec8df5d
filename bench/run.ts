/**
 * @module `npm run bench [-- NAME...] [--smoke] [--out FILE]`: runs the benchmarks (all, or those
 * named), prints each figure with the baseline measured in the same run and their ratio, then the goal
 * table (MET / NOT MET), and writes every figure, ratio and verdict as JSON (default
 * bench/results/latest.json, git-ignored). Exit code 1 when a benchmark failed; a goal not met is a
 * result, not a failure. Each benchmark of a run of several runs in a fresh process of its own (as
 * JMH forks), so that one benchmark's heap, compiled code and leftover threads do not weigh on the
 * next one's figures; `--in-process` runs them all in this one.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectBenchmarks } from './benchmarks.js';
import { formatTarget, GOALS, type GoalVerdict, judgeGoals } from './goals.js';
import { type Benchmark, type BenchResult, formatFigure, runBenchmark } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_OUT = resolve(ROOT, 'bench', 'results', 'latest.json');

/** One row of the goal table. */
function goalLine(v: GoalVerdict): string {
  const dash = '-';
  const cols = [
    v.verdict.padEnd(7),
    v.goal.id.padEnd(28),
    (v.figure ? formatFigure(v.figure) : dash).padStart(14),
    (v.baseline ? formatFigure(v.baseline) : dash).padStart(14),
    (v.ratio !== undefined ? `${v.ratio.toFixed(3)}x` : dash).padStart(9),
    formatTarget(v.goal, v.figure?.unit).padEnd(22),
    v.goal.description,
  ];
  return cols.join('  ');
}

/** What a benchmark's own process hands back: its result, or the error it failed with. */
type ChildOutcome = { result: BenchResult } | { error: string };

/** Runs one benchmark in a child process of this runner (same node flags), its output on ours. */
async function runInChild(bench: Benchmark, smoke: boolean): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-bench-'));
  const file = join(dir, 'result.json');
  try {
    const args = [...process.execArgv, fileURLToPath(import.meta.url), bench.name, '--result-file', file, ...(smoke ? ['--smoke'] : [])];
    const code = await new Promise<number | null>((resolveExit, reject) => {
      const child = spawn(process.execPath, args, { stdio: 'inherit' });
      child.once('error', reject);
      child.once('exit', (c) => resolveExit(c));
    });
    let outcome: ChildOutcome;
    try {
      outcome = JSON.parse(readFileSync(file, 'utf8')) as ChildOutcome;
    } catch {
      throw new Error(`its process ended (exit ${code}) without a result`);
    }
    if ('error' in outcome) throw new Error(outcome.error);
    return outcome.result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { smoke: { type: 'boolean', default: false }, out: { type: 'string' }, 'in-process': { type: 'boolean', default: false }, 'result-file': { type: 'string' } },
  });
  let selected;
  try {
    selected = selectBenchmarks(positionals);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
    return;
  }
  const smoke = values.smoke ?? false;
  const resultFile = values['result-file'];
  if (resultFile !== undefined) {
    // a benchmark's own process (runInChild): one benchmark, its outcome to the file, no table
    let outcome: ChildOutcome;
    try {
      outcome = { result: await runBenchmark(selected[0], { smoke }) };
    } catch (e) {
      outcome = { error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    writeFileSync(resultFile, JSON.stringify(outcome));
    return;
  }
  const ownProcess = selected.length > 1 && !values['in-process'];
  const results: BenchResult[] = [];
  const failures: { name: string; error: string }[] = [];
  for (const bench of selected) {
    console.log(`\n=== ${bench.name}: ${bench.title}${smoke ? ' (smoke: tiny budget, figures mean nothing)' : ''}`);
    try {
      results.push(ownProcess ? await runInChild(bench, smoke) : await runBenchmark(bench, { smoke }));
    } catch (e) {
      // the other benchmarks still run: one broken benchmark must not hide the rest
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      failures.push({ name: bench.name, error });
      console.log(`  FAILED: ${error}`);
    }
  }

  const names = new Set(selected.map((b) => b.name));
  const verdicts = judgeGoals(results, GOALS.filter((g) => names.has(g.benchmark)));
  if (verdicts.length) {
    console.log(`\nGoals (ratio = figure / baseline, both measured in this run)${smoke ? ': a smoke run, the verdicts mean nothing' : ''}`);
    console.log(['verdict'.padEnd(7), 'goal'.padEnd(28), 'figure'.padStart(14), 'baseline'.padStart(14), 'ratio'.padStart(9), 'target'.padEnd(22), 'description'].join('  '));
    for (const v of verdicts) console.log(goalLine(v));
  }
  for (const r of results) if (r.status === 'skipped') console.log(`skipped: ${r.name}: ${r.skipReason}`);
  for (const f of failures) console.log(`FAILED: ${f.name}`);

  const out = values.out ? resolve(values.out) : DEFAULT_OUT;
  mkdirSync(dirname(out), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    smoke,
    machine: { node: process.version, platform: `${process.platform} ${process.arch}`, cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism() },
    benchmarks: results,
    failures,
    goals: verdicts.map((v) => ({
      id: v.goal.id,
      benchmark: v.goal.benchmark,
      description: v.goal.description,
      computed: v.goal.computed,
      target: v.goal.target,
      judged: v.goal.judged,
      verdict: v.verdict,
      figure: v.figure ? { id: v.figure.id, value: v.figure.value, unit: v.figure.unit } : null,
      baseline: v.baseline ? { id: v.baseline.id, value: v.baseline.value, unit: v.baseline.unit } : null,
      ratio: v.ratio ?? null,
    })),
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
  if (failures.length) process.exitCode = 1;
}

await main();
