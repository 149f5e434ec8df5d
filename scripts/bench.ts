/** @module Runs every *.bench.ts under the project folders (or those matching argv filters), one after another. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const folders = ['crypto', 'applet-spec', 'simulator', 'host', 'personalization', 'bank', 'bench'];

function findBenches(dir: string, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) findBenches(path, out);
    else if (name.endsWith('.bench.ts')) out.push(path);
  }
}

const files: string[] = [];
for (const f of folders) findBenches(join(root, f), files);
files.sort();
const filters = process.argv.slice(2);
for (const file of files) {
  const rel = relative(root, file);
  if (filters.length && !filters.some((f) => rel.includes(f))) continue;
  console.log(`\n=== ${rel}`);
  const mod = await import(pathToFileURL(file).href);
  if (typeof mod.default === 'function') await mod.default();
}
