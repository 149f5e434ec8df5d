/**
 * @module The import order of the library folders, as the README's layer block declares it: every
 * relative import of a library file must stay in its folder or go to a folder its line allows, and no
 * library file imports `test/`, `scripts/`, `bench/` or vitest. Imports that break the order today are
 * listed below with the reason, each to be removed by the layout work of issue 11; the test fails when
 * one of them is no longer needed, so the list only shrinks.
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

/** Test and benchmark files may import anything: they wire the layers together. */
const isTestOrBench = (file: string): boolean => /\.(test|bench)\.ts$/.test(file);

/**
 * Imports against the declared order on today's main, as "from-file -> imported top folder", each with
 * the reason it is still here (issue 11 removes them).
 */
const KNOWN_EXCEPTIONS: Record<string, string> = {
  'host/pos/secure-module.ts -> personalization': 'key material below host is issue 11 (a keys module under personalization, bank and host)',
  'bank/* -> personalization': 'key material and trust anchors below bank is issue 11',
};

/** The exception key that covers an import, if any: an exact file, or every file of a folder ("folder/*"). */
function exceptionFor(file: string, target: string): string | undefined {
  const exact = `${file} -> ${target}`;
  if (exact in KNOWN_EXCEPTIONS) return exact;
  const folderWide = `${file.split(sep)[0]}/* -> ${target}`;
  return folderWide in KNOWN_EXCEPTIONS ? folderWide : undefined;
}

describe('layering', () => {
  const layers = declaredLayers();
  const libraryFolders = [...layers.keys()];
  const forbiddenTops = new Set(['test', 'scripts', 'bench']);

  /** Every import of a library file that its layer does not allow, as "file -> target". */
  function violations(): { found: string[]; excepted: Set<string> } {
    const found: string[] = [];
    const excepted = new Set<string>();
    for (const folder of libraryFolders) {
      for (const file of tsFiles(folder)) {
        if (isTestOrBench(file)) continue;
        for (const spec of importsOf(file)) {
          let target: string | undefined;
          if (spec === 'vitest' || spec.startsWith('vitest/')) target = 'vitest';
          else if (spec.startsWith('.')) {
            const top = relative(ROOT, resolve(ROOT, dirname(file), spec)).split(sep)[0];
            if (top === folder) continue;
            if (!layers.get(folder)!.has(top) || forbiddenTops.has(top)) target = top;
          }
          if (!target) continue;
          const key = exceptionFor(file, target);
          if (key) excepted.add(key);
          else found.push(`${file} -> ${target} (${spec})`);
        }
      }
    }
    return { found, excepted };
  }

  it('declares every library folder once, and each allowed folder is a declared one', () => {
    for (const [folder, allowed] of layers) {
      expect(readdirSync(ROOT)).toContain(folder);
      for (const a of allowed) expect(layers.has(a), `${folder} -> ${a}`).toBe(true);
    }
  });

  it('has no import against the declared order, apart from the listed exceptions', () => {
    expect(violations().found).toEqual([]);
  });

  it('lists only exceptions that are still needed', () => {
    const { excepted } = violations();
    expect(Object.keys(KNOWN_EXCEPTIONS).filter((k) => !excepted.has(k))).toEqual([]);
  });

  it('catches an import that goes against the order (the checker itself)', () => {
    expect(importsOf('test/layering.test.ts')).toContain('vitest');
    expect(exceptionFor('bank/registry.ts', 'personalization')).toBe('bank/* -> personalization');
    expect(exceptionFor('crypto/sm3.ts', 'host')).toBeUndefined();
    expect(layers.get('simulator')!.has('host')).toBe(false);
    expect(layers.get('host')!.has('simulator')).toBe(false);
  });
});
