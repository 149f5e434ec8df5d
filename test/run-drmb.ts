/**
 * @module Runs the drmb program for tests: in this process (`runDrmb`, output captured, exit code
 * returned and process.exitCode restored), or as a child process through tsx (`spawnDrmb`, with
 * standard input), as a user's shell would run it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/drmb.js';

/** What a run printed and its exit code. */
export interface DrmbRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `drmb ...args` in this process (stdin is not a terminal here). */
export async function runDrmb(...args: string[]): Promise<DrmbRun> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write, err: process.stderr.write };
  const exitCode = process.exitCode;
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    await main(['node', 'drmb', ...args]);
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = exitCode;
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** The project's root folder. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The node arguments that run drmb from its sources (tsx's ESM loader by path, so that any working folder will do); the command's own arguments follow. */
function nodeArgs(): string[] {
  const entry = new URL('../cli/drmb.ts', import.meta.url).href;
  const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  return ['--import', tsx, '--input-type=module', '-e', `const { main } = await import(${JSON.stringify(entry)}); await main(['node', 'drmb', ...process.argv.slice(1)]);`];
}

/** A bash function `drmb` that runs this project's drmb from its sources, for scripts that run commands as a user types them. */
export function drmbShellFunction(): string {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  return `drmb() { ${quote(process.execPath)} ${nodeArgs().map(quote).join(' ')} "$@"; }`;
}

/** Runs `drmb ...args` as a child process (the TypeScript sources through tsx), in `cwd`, with `input` on its standard input. */
export function spawnDrmb(args: readonly string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): DrmbRun {
  const r = spawnSync(process.execPath, [...nodeArgs(), ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
