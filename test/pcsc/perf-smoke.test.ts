/**
 * @module Smoke test of the PC/SC benchmarks (pcsc, perso-pcsc, conformance-pcsc in bench/): each runs
 * to the end with a tiny budget through pcscd and vsmartcard-vpcd, not skipped, and records the figures
 * its goals judge; figures and ratios are finite and positive. Speed is for `npm run bench`. Slow suite;
 * never skipped in CI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { benchmarks } from '../../bench/benchmarks.js';
import { judgeGoals } from '../../bench/goals.js';
import { runBenchmark } from '../../bench/harness.js';
import { loadPcsc } from '../../host/pcsc.js';
import { maySkip, missing, skipReason } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/perf-smoke.test.ts skipped: ${skipReason}`);

describe.skipIf(maySkip)(`the PC/SC benchmarks run to the end (smoke: tiny budget)${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 120_000 }, () => {
  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
  }, 30_000);

  const pcscBenchmarks = benchmarks.filter((b) => b.pcsc);

  it('covers the PC/SC benchmarks (bench/benchmarks.test.ts runs the others)', () => {
    expect(pcscBenchmarks.map((b) => b.name).sort()).toEqual(['conformance-pcsc', 'pcsc', 'perso-pcsc']);
  });

  // Each benchmark starts and stops its own pcscd, waiting for the PC/SC stack lock like any suite here.
  for (const bench of pcscBenchmarks) {
    it(`${bench.name}: runs to the end through pcscd and records the figures of its goals, figures and ratios finite and positive`, async () => {
      const result = await runBenchmark(bench, { smoke: true, print: () => {} });
      expect(result.skipReason).toBeUndefined();
      expect(result.status).toBe('done');
      expect(result.figures.length).toBeGreaterThan(0);
      expect(result.figures.filter((f) => !(Number.isFinite(f.value) && f.value > 0))).toEqual([]);
      expect(result.ratios.filter((r) => !(Number.isFinite(r.ratio) && r.ratio > 0))).toEqual([]);
      const unjudged = judgeGoals([result]).filter((v) => v.goal.benchmark === bench.name && v.verdict === 'NOT RUN');
      expect(unjudged.map((v) => v.goal.id)).toEqual([]);
    });
  }
});
