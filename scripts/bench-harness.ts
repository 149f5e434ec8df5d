/** @module Tiny benchmark harness: times a function, and prints a candidate against a baseline measured in the same run. */
import { performance } from 'node:perf_hooks';

export interface Timing {
  name: string;
  /** median time of one call, in milliseconds */
  medianMs: number;
  /** calls per second derived from the median */
  opsPerSec: number;
  samples: number;
}

/** Times `fn` for about `budgetMs` after a warm-up, taking the median of batched samples. */
export async function measure(name: string, fn: () => unknown | Promise<unknown>, budgetMs = 500): Promise<Timing> {
  // Warm-up: let the JIT settle, and find a batch size that takes >= 2 ms.
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    const dt = performance.now() - t0;
    if (dt >= 2 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const per: number[] = [];
  const start = performance.now();
  while (performance.now() - start < budgetMs || per.length < 5) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    per.push((performance.now() - t0) / batch);
    if (per.length >= 1000) break;
  }
  per.sort((a, b) => a - b);
  const medianMs = per[per.length >> 1];
  return { name, medianMs, opsPerSec: 1000 / medianMs, samples: per.length };
}

export interface Comparison {
  candidate: Timing;
  baseline: Timing;
  /** candidate time / baseline time */
  ratio: number;
  goal: string;
  met: boolean;
}

const fmt = (ms: number): string => (ms >= 1 ? `${ms.toFixed(3)} ms` : `${(ms * 1000).toFixed(2)} us`);

/** Prints one timing line. */
export function report(t: Timing): void {
  console.log(`  ${t.name.padEnd(52)} ${fmt(t.medianMs).padStart(12)}  ${t.opsPerSec.toFixed(0).padStart(9)} op/s`);
}

/**
 * Measures candidate and baseline in the same run and prints the time ratio against a goal.
 * `maxRatio` is the largest acceptable candidate/baseline time ratio (e.g. 1.3 = at most 1.3x the
 * baseline's time; 0.25 = at least 4x faster).
 */
export async function compare(
  title: string,
  candidate: [string, () => unknown],
  baseline: [string, () => unknown],
  maxRatio: number,
  budgetMs = 500,
): Promise<Comparison> {
  const b = await measure(baseline[0], baseline[1], budgetMs);
  const c = await measure(candidate[0], candidate[1], budgetMs);
  const ratio = c.medianMs / b.medianMs;
  const goal = maxRatio >= 1 ? `<= ${maxRatio}x baseline time` : `<= ${maxRatio}x baseline time (>= ${(1 / maxRatio).toFixed(2)}x faster)`;
  const met = ratio <= maxRatio;
  console.log(`${title}`);
  report(c);
  report(b);
  console.log(`  ratio ${ratio.toFixed(3)}x  goal ${goal}  ${met ? 'MET' : 'NOT MET'}`);
  return { candidate: c, baseline: b, ratio, goal, met };
}
