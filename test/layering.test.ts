/**
 * @module The import order of the library folders, as the README's layer block declares it: every
 * relative import of a library file must stay in its folder or go to a folder its line allows, and no
 * library file imports `test/`, `scripts/`, `bench/` or vitest; benchmarks live in `bench/`, none in a
 * library folder. There are no exceptions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The README's layer block: folder -> the folders it may import. */
function declaredLayers(): Map<string, Set<string>> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```text\n((?:[a-z-]+ ->.*\n)+)```/.exec(readme);
  if (!block) throw new Error('README.md has no layer block (lines "folder -> a, b" in a ```text fence)');
  const layers = new Map<string, Set<string>>();
  for (const line of block[1].trim().split('\n')) {
    const [folder, allowed] = line.split('->').map((x) => x.trim());
    layers.set(folder, new Set(allowed ? allowed.split(',').map((x) => x.trim()) : []));
  }
  return layers;
}

/** Every .ts file under a folder, relative to the project root. */
function tsFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) out.push(path);
    }
  };
  walk(folder);
  return out;
}

/** The module specifiers a file imports or re-exports, statically or with import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

/** Test files may import anything: they wire the layers together. */
const isTest = (file: string): boolean => file.endsWith('.test.ts');

describe('layering', () => {
  const layers = declaredLayers();
  const libraryFolders = [...layers.keys()];
  const forbiddenTops = new Set(['test', 'scripts', 'bench']);

  /** Every import of a library file that its layer does not allow, as "file -> target (specifier)". */
  function violations(): string[] {
    const found: string[] = [];
    for (const folder of libraryFolders) {
      for (const file of tsFiles(folder)) {
        if (isTest(file)) continue;
        for (const spec of importsOf(file)) {
          let target: string | undefined;
          if (spec === 'vitest' || spec.startsWith('vitest/')) target = 'vitest';
          else if (spec.startsWith('.')) {
            const top = relative(ROOT, resolve(ROOT, dirname(file), spec)).split(sep)[0];
            if (top === folder) continue;
            if (!layers.get(folder)!.has(top) || forbiddenTops.has(top)) target = top;
          }
          if (target) found.push(`${file} -> ${target} (${spec})`);
        }
      }
    }
    return found;
  }

  it('declares every library folder once, and each allowed folder is a declared one', () => {
    for (const [folder, allowed] of layers) {
      expect(readdirSync(ROOT)).toContain(folder);
      for (const a of allowed) expect(layers.has(a), `${folder} -> ${a}`).toBe(true);
    }
  });

  it('type-checks every library folder and every folder of tests, scripts and benchmarks (tsconfig.json include), and builds every library folder (tsconfig.build.json)', () => {
    const include = (file: string): string[] => JSON.parse(readFileSync(join(ROOT, file), 'utf8')).include;
    expect(include('tsconfig.json')).toEqual(expect.arrayContaining([...libraryFolders, 'test', 'scripts', 'bench']));
    expect(include('tsconfig.build.json')).toEqual(expect.arrayContaining(libraryFolders));
  });

  it('has no import against the declared order, and no exception', () => {
    expect(violations()).toEqual([]);
  });

  it('keeps benchmark code out of the library folders (it lives in bench/)', () => {
    expect(libraryFolders.flatMap((folder) => tsFiles(folder).filter((f) => f.endsWith('.bench.ts')))).toEqual([]);
  });

  it('catches an import that goes against the order (the checker itself)', () => {
    expect(importsOf('test/layering.test.ts')).toContain('vitest');
    expect(layers.get('simulator')!.has('host')).toBe(false);
    expect(layers.get('host')!.has('simulator')).toBe(false);
  });
});
