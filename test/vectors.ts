/** @module Loads the official test vectors from ../shared/vectors (never retyped into tests). */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Directory holding the shared vector files; DRMB_VECTORS overrides the default ../shared/vectors. */
export const vectorsDir = process.env.DRMB_VECTORS ?? resolve(here, '..', '..', 'shared', 'vectors');

/** Parsed JSON of `<name>.json` from the shared vectors folder, e.g. loadVectors('sm3'). */
export function loadVectors<T = any>(name: 'sm2' | 'sm3' | 'sm4' | 'sm9' | 'scp03'): T {
  return JSON.parse(readFileSync(resolve(vectorsDir, `${name}.json`), 'utf8')) as T;
}
