/** @module Every benchmark, in the order `npm run bench` runs them; the runner and the smoke tests take them from here, so none can be left out of either. */
import { conformancePcscBench } from './conformance-pcsc.bench.js';
import { conformanceBench } from './conformance.bench.js';
import type { Benchmark } from './harness.js';
import { pcscBench } from './pcsc.bench.js';
import { persoPcscBench } from './perso-pcsc.bench.js';
import { persoBench } from './perso.bench.js';
import { posBench } from './pos.bench.js';
import { registryBench } from './registry.bench.js';
import { registryShardsBench } from './registry-shards.bench.js';
import { scp03Bench } from './scp03.bench.js';
import { sm2Bench } from './sm2.bench.js';
import { sm3Bench } from './sm3.bench.js';
import { sm4Bench } from './sm4.bench.js';
import { sm9Bench } from './sm9.bench.js';

export const benchmarks: readonly Benchmark[] = [sm3Bench, sm4Bench, sm2Bench, sm9Bench, scp03Bench, registryBench, registryShardsBench, posBench, persoBench, conformanceBench, pcscBench, persoPcscBench, conformancePcscBench];

/** The benchmarks named (all when no name is given); throws on a name that is not one, listing the names. */
export function selectBenchmarks(names: readonly string[]): Benchmark[] {
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length) throw new Error(`no benchmark named ${unknown.map((n) => `"${n}"`).join(', ')}; the benchmarks are: ${benchmarks.map((b) => b.name).join(', ')}`);
  return names.length ? benchmarks.filter((b) => names.includes(b.name)) : [...benchmarks];
}
