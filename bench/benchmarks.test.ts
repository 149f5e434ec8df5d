/**
 * @module Smoke tests of the benchmarks: each one runs to the end with a tiny budget and records the
 * figures its goals judge, finite and positive; and the goal table and the benchmark list agree with
 * each other and with the files in bench/. Speed is for `npm run bench`; nothing here checks a goal is
 * met. The PC/SC benchmarks' smoke test is test/pcsc/perf-smoke.test.ts.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { benchmarks, selectBenchmarks } from './benchmarks.js';
import { GOALS, judgeGoals, type Goal } from './goals.js';
import { type BenchResult, runBenchmark } from './harness.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

describe('the goal table and the benchmark list', () => {
  it('lists every bench/*.bench.ts file as a benchmark named for its file', () => {
    const files = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.bench.ts'));
    expect(files.sort()).toEqual(benchmarks.map((b) => `${b.name}.bench.ts`).sort());
  });

  it('names each goal once, for a benchmark that exists, with a baseline whenever a ratio is judged', () => {
    const ids = GOALS.map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const g of GOALS) {
      expect(benchmarks.map((b) => b.name), g.id).toContain(g.benchmark);
      if (g.judged === 'ratio') expect(g.baseline, g.id).toBeDefined();
    }
  });

  it('selects benchmarks by exact name and refuses an unknown name with the list of names', () => {
    expect(selectBenchmarks(['perso']).map((b) => b.name)).toEqual(['perso']);
    expect(selectBenchmarks([])).toHaveLength(benchmarks.length);
    expect(() => selectBenchmarks(['sm5'])).toThrow(/no benchmark named "sm5".*sm3, sm4/);
  });

  it('judges the ratio or the figure against at-most and at-least targets, and a goal without its figures as NOT RUN', () => {
    const goal = (judged: Goal['judged'], target: Goal['target']): Goal => ({ id: `${judged}`, benchmark: 'x', description: '', figure: 'a', baseline: 'b', judged, target, computed: '' });
    const result: BenchResult = {
      name: 'x',
      title: '',
      status: 'done',
      smoke: false,
      durationMs: 1,
      ratios: [],
      figures: [
        { id: 'a', label: 'a', value: 3, unit: 'ms' },
        { id: 'b', label: 'b', value: 2, unit: 'ms' },
      ],
    };
    const verdicts = judgeGoals([result], [goal('ratio', { atMost: 1.5 }), goal('ratio', { atMost: 1.4 }), goal('figure', { atLeast: 3 }), goal('figure', { atLeast: 3.1 }), { ...goal('figure', { atMost: 9 }), figure: 'c' }]);
    expect(verdicts.map((v) => v.verdict)).toEqual(['MET', 'NOT MET', 'MET', 'NOT MET', 'NOT RUN']);
    expect(verdicts[0].ratio).toBe(1.5);
    expect(judgeGoals([{ ...result, status: 'skipped' }], [goal('figure', { atLeast: 1 })])[0].verdict).toBe('NOT RUN');
  });
});

describe('every benchmark runs to the end (smoke: tiny budget)', () => {
  for (const bench of benchmarks.filter((b) => !b.pcsc)) {
    it(`${bench.name}: runs to the end and records the figures of its goals, figures and ratios finite and positive`, async (ctx) => {
      const result = await runBenchmark(bench, { smoke: true, print: () => {} });
      // A benchmark on PostgreSQL servers skips without them, visibly; CI starts them (.ci/run), so there it fails.
      if (result.status === 'skipped' && bench.postgresServers && !(process.env.CI && process.env.CI !== 'false')) return ctx.skip(result.skipReason);
      expect(result.status, result.skipReason).toBe('done');
      expect(result.figures.length).toBeGreaterThan(0);
      expect(result.figures.filter((f) => !(Number.isFinite(f.value) && f.value > 0))).toEqual([]);
      expect(result.ratios.filter((r) => !(Number.isFinite(r.ratio) && r.ratio > 0))).toEqual([]);
      const unjudged = judgeGoals([result]).filter((v) => v.goal.benchmark === bench.name && v.verdict === 'NOT RUN');
      expect(unjudged.map((v) => v.goal.id)).toEqual([]);
    });
  }
});
