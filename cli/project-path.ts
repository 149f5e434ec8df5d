/** @module Locates files shipped with the project (example profiles) from source (tsx) or from dist/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project folder: the nearest ancestor of this module holding package.json and examples/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('drmb: cannot find the project folder (package.json and examples/)');
    dir = up;
  }
}

/** A path inside the project folder. */
export function projectPath(...segments: string[]): string {
  return join(projectRoot(), ...segments);
}
