/** @module Loads the official test vectors from test/vectors/ (copied verbatim, with their sources, never retyped into tests). */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Directory holding the vector files; DRMB_VECTORS overrides the default test/vectors. */
export const vectorsDir = process.env.DRMB_VECTORS ?? resolve(here, 'vectors');

/** Parsed JSON of `<name>.json` from the vectors folder, e.g. loadVectors('sm3'). */
export function loadVectors<T = any>(name: 'sm2' | 'sm3' | 'sm4' | 'sm9' | 'scp03'): T {
  return JSON.parse(readFileSync(resolve(vectorsDir, `${name}.json`), 'utf8')) as T;
}
