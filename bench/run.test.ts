/**
 * @module `npm run bench`'s runner: several benchmarks each in a process of their own, their figures and
 * the goals of those benchmarks gathered in one JSON report; a name that is no benchmark is usage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'drmb-bench-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runBench = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

describe('bench/run.ts', { timeout: 120_000 }, () => {
  it('runs the named benchmarks (each in a process of its own) and reports every figure and goal of them in one file', () => {
    const out = join(dir, 'report.json');
    const r = runBench('sm3', 'sm4', '--smoke', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { benchmarks: { name: string; status: string; figures: unknown[] }[]; goals: { id: string }[]; failures: unknown[] };
    expect(report.benchmarks.map((b) => [b.name, b.status])).toEqual([
      ['sm3', 'done'],
      ['sm4', 'done'],
    ]);
    for (const b of report.benchmarks) expect(b.figures.length).toBeGreaterThan(0);
    expect(report.goals.map((g) => g.id)).toEqual(['sm3-64', 'sm4-cbc-1k']);
    expect(report.failures).toEqual([]);
    expect(r.stdout).toMatch(/=== sm3: [\s\S]*=== sm4: [\s\S]*Goals/);
  });

  it('refuses a name that is no benchmark, listing the names, with exit 2', () => {
    const r = runBench('sm5', '--smoke', '--out', join(dir, 'none.json'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no benchmark named "sm5"; the benchmarks are: sm3, /);
  });
});
