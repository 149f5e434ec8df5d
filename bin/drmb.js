#!/usr/bin/env node
// Entry point of the drmb CLI: runs the compiled program (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/drmb.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('drmb: the compiled CLI is missing; run `npm install` or `npm run build` in the project folder first');
  process.exitCode = 1;
} else {
  const { main } = await import(compiled.href);
  await main(process.argv);
}
