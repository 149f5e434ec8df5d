/** @module Benchmark harness: a benchmark records named figures (timings, rates, counts) in a BenchRun, full size or as a tiny smoke run, and prints each as it is measured. */
import { performance } from 'node:perf_hooks';

/** What a figure counts; timings are in milliseconds per call ('us/coin': CPU microseconds per coin). */
export type FigureUnit = 'ms' | 'coins/s' | 'cards/s' | 'cases/s' | 'APDUs' | '%' | 'us/coin' | 'SQL/coin';

export interface Figure {
  /** unique within its benchmark; goals name figures by it */
  id: string;
  label: string;
  value: number;
  unit: FigureUnit;
  /** timings: how many samples the median was taken over */
  samples?: number;
}

/** A benchmark: one file of `bench/`, run by name (`npm run bench -- sm3`). */
export interface Benchmark {
  /** the name typed on the command line, and the `benchmark` of its goals in goals.ts */
  name: string;
  /** one line: what it measures against what */
  title: string;
  /** needs pcscd and vsmartcard-vpcd: its smoke test lives in test/pcsc/ with the PC/SC fixture */
  pcsc?: boolean;
  /** needs PostgreSQL servers it is given in the environment: outside CI, its smoke run may skip, saying why */
  postgresServers?: boolean;
  run(b: BenchRun): Promise<void>;
}

export interface BenchResult {
  name: string;
  title: string;
  /** 'skipped' only when the benchmark said why (a PC/SC stack that is not installed) */
  status: 'done' | 'skipped';
  skipReason?: string;
  smoke: boolean;
  durationMs: number;
  figures: Figure[];
  ratios: Ratio[];
}

/** A figure against the baseline measured in the same run: ratio = figure / baseline. */
export interface Ratio {
  figure: string;
  baseline: string;
  ratio: number;
}

export interface BenchOptions {
  /** a tiny budget: every step runs, the figures mean nothing (the smoke tests) */
  smoke?: boolean;
  /** where progress lines go; default console.log, () => {} for none */
  print?: (line: string) => void;
}

export interface TimeOptions {
  /** how long to keep sampling after the warm-up; default 500 ms (none in a smoke run) */
  budgetMs?: number;
  /** instead of a budget, exactly this many calls, one per sample, the first a warm-up (at least 2) */
  calls?: number;
}

/** One batch of calls must last at least this long for performance.now() to time it well. */
const BATCH_MS = { full: 2, smoke: 0.05 };
/** Fewest samples a median is taken over. */
const MIN_SAMPLES = { full: 5, smoke: 2 };
const MAX_SAMPLES = 1000;

const fmtMs = (ms: number): string => (ms >= 1 ? `${ms.toFixed(3)} ms` : `${(ms * 1000).toFixed(2)} us`);

/** A figure's value with its unit, as printed in tables. */
export function formatFigure(f: Pick<Figure, 'value' | 'unit'>): string {
  if (f.unit === 'ms') return fmtMs(f.value);
  if (f.unit === 'APDUs') return `${f.value} APDUs`;
  return `${f.value.toFixed(f.value >= 100 ? 0 : 2)} ${f.unit}`;
}

/** The state of one benchmark while it runs: its budget and the figures it has recorded. */
export class BenchRun {
  readonly smoke: boolean;
  readonly figures: Figure[] = [];
  readonly ratios: Ratio[] = [];
  skipReason: string | undefined;
  readonly #print: (line: string) => void;

  constructor(options: BenchOptions = {}) {
    this.smoke = options.smoke ?? false;
    this.#print = options.print ?? ((line) => console.log(line));
  }

  /** The full-size value of a loop count or pool size, or the tiny one of a smoke run. */
  size<T>(full: T, smoke: T): T {
    return this.smoke ? smoke : full;
  }

  log(line: string): void {
    this.#print(line);
  }

  /** Ends the benchmark early, saying why (it must `return` after calling this). */
  skip(reason: string): void {
    this.skipReason = reason;
    this.log(`  skipped: ${reason}`);
  }

  /** Records a figure measured by the benchmark itself (a count, a rate, a median of its own loop), and prints it. */
  record(id: string, label: string, value: number, unit: FigureUnit, samples?: number): Figure {
    if (this.figures.some((f) => f.id === id)) throw new Error(`figure "${id}" recorded twice`);
    const f: Figure = samples === undefined ? { id, label, value, unit } : { id, label, value, unit, samples };
    this.figures.push(f);
    const rate = unit === 'ms' ? `${(1000 / value).toFixed(0).padStart(9)} op/s` : '';
    this.log(`  ${label.padEnd(56)} ${formatFigure(f).padStart(14)}  ${rate}`.trimEnd());
    return f;
  }

  /** Records a timing taken from per-call samples (the median), e.g. of a loop the harness cannot drive. */
  recordMedian(id: string, label: string, samplesMs: number[]): Figure {
    const sorted = [...samplesMs].sort((a, b) => a - b);
    return this.record(id, label, sorted[sorted.length >> 1], 'ms', sorted.length);
  }

  /**
   * Times `fn` for about `budgetMs` after a warm-up that finds a batch of calls lasting >= 2 ms, and
   * records the median time of one call. `calls` instead bounds the number of calls exactly (one per
   * sample, the first a warm-up), for a function that consumes a prepared pool.
   */
  async time(id: string, label: string, fn: () => unknown, opts: TimeOptions = {}): Promise<Figure> {
    const mode = this.smoke ? 'smoke' : 'full';
    if (opts.calls !== undefined) {
      if (opts.calls < 2) throw new RangeError(`time("${id}"): calls must be at least 2 (a warm-up and a sample)`);
      const per: number[] = [];
      for (let i = 0; i < opts.calls; i++) {
        const t0 = performance.now();
        await fn();
        if (i > 0) per.push(performance.now() - t0);
      }
      return this.recordMedian(id, label, per);
    }
    const budgetMs = this.smoke ? 0 : (opts.budgetMs ?? 500);
    let batch = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) await fn();
      if (performance.now() - t0 >= BATCH_MS[mode] || batch >= 1 << 20) break;
      batch *= 2;
    }
    const per: number[] = [];
    const start = performance.now();
    while (performance.now() - start < budgetMs || per.length < MIN_SAMPLES[mode]) {
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) await fn();
      per.push((performance.now() - t0) / batch);
      if (per.length >= MAX_SAMPLES) break;
    }
    return this.recordMedian(id, label, per);
  }

  /**
   * Times a baseline, then the candidate, in the same run, records both and prints the candidate/baseline
   * time ratio. Whether the ratio meets a goal is for goals.ts to say. `baselineOpts` defaults to `opts`.
   */
  async compare(
    title: string,
    candidate: [id: string, label: string, fn: () => unknown],
    baseline: [id: string, label: string, fn: () => unknown],
    opts: TimeOptions = {},
    baselineOpts: TimeOptions = opts,
  ): Promise<{ candidate: Figure; baseline: Figure; ratio: number }> {
    this.log(title);
    const b = await this.time(baseline[0], baseline[1], baseline[2], baselineOpts);
    const c = await this.time(candidate[0], candidate[1], candidate[2], opts);
    return { candidate: c, baseline: b, ratio: this.ratio(c, b) };
  }

  /** Records and prints a figure's ratio to the baseline measured in the same run. */
  ratio(figure: Figure, baseline: Figure): number {
    const ratio = figure.value / baseline.value;
    this.ratios.push({ figure: figure.id, baseline: baseline.id, ratio });
    this.log(`  ratio ${ratio.toFixed(3)}x (${figure.id} / ${baseline.id})`);
    return ratio;
  }
}

/** Runs one benchmark and returns what it recorded; errors propagate (the runner reports them, a smoke test fails on them). */
export async function runBenchmark(bench: Benchmark, options: BenchOptions = {}): Promise<BenchResult> {
  const b = new BenchRun(options);
  const t0 = performance.now();
  await bench.run(b);
  const result: BenchResult = {
    name: bench.name,
    title: bench.title,
    status: b.skipReason === undefined ? 'done' : 'skipped',
    smoke: b.smoke,
    durationMs: performance.now() - t0,
    figures: b.figures,
    ratios: b.ratios,
  };
  if (b.skipReason !== undefined) result.skipReason = b.skipReason;
  return result;
}
