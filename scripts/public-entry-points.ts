/**
 * @module The package's public entry points, read from the `exports` of package.json (the one list of
 * them): each subpath with a `types` entry, as an integrator imports it (`drmb-toolchain/host`), and
 * the TypeScript source it is compiled from (`host/host-library.ts`). The API reference and its
 * completeness test start from here.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder. */
export const PROJECT_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');

/** One public subpath of the package. */
export interface PublicEntryPoint {
  /** the import specifier, e.g. "drmb-toolchain/host/pos" */
  specifier: string;
  /** the source file, relative to the project folder, e.g. "host/pos/pos-library.ts" */
  source: string;
}

/** Every subpath of package.json `exports` that has types, with its source (dist/X.d.ts is compiled from X.ts). */
export function publicEntryPoints(root: string = PROJECT_ROOT): PublicEntryPoint[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  return Object.entries(pkg.exports).flatMap(([key, target]) => {
    const types = (target as { types?: unknown }).types;
    if (typeof types !== 'string') return [];
    const m = /^\.\/dist\/(.+)\.d\.ts$/.exec(types);
    if (!m) throw new Error(`package.json exports["${key}"].types is not ./dist/<path>.d.ts: ${types}`);
    return [{ specifier: `${pkg.name}${key.slice(1)}`, source: `${m[1]}.ts` }];
  });
}
