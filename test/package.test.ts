/**
 * @module The published package, as an integrator gets it: `npm pack` of the project (in a copy of
 * its tracked files, so that the build of the pack never touches this checkout's dist/ that other
 * suites run), installed from the tarball into a project outside the tree without the optional
 * `smartcard` binding, then examples/pos-integration/ type-checked against it with the project's
 * TypeScript and run on simulated cards until it has paid, and every subpath imported.
 *
 * Needs npm and the npm cache of the project's own install (`npm ci`), or the npm registry.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
  devDependencies: Record<string, string>;
};
/** The code subpaths of the exports map (those with a types entry), as `drmb-toolchain/host`. */
const SUBPATHS = Object.entries(PKG.exports)
  .filter(([, target]) => typeof target === 'object')
  .map(([key]) => `${PKG.name}${key.slice(1)}`);
const EXAMPLE = join(ROOT, 'examples', 'pos-integration');
const SLOW = 300_000;

/** npm's environment without what the `npm test` around this run set for the project itself. */
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package_|lifecycle_|config_local_prefix$)/.test(k) && k !== 'INIT_CWD'));
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, env: npmEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);

let work: string;
let tarball: string;
/** The tarball's files, relative to the package folder. */
let packed: string[];
let project: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'drmb-package-'));
  // A copy of the project's files (tracked or not ignored), so `npm pack` builds its own dist/.
  const stage = join(work, 'stage');
  const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], ROOT).split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    cpSync(join(ROOT, f), join(stage, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const out = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], stage)) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, out[0].filename);
  packed = out[0].files.map((f) => f.path);

  // The integrator's project: the example's sources and tsconfig, the package from the tarball, no smartcard.
  project = join(work, 'integrator');
  mkdirSync(project);
  cpSync(join(EXAMPLE, 'src'), join(project, 'src'), { recursive: true });
  cpSync(join(EXAMPLE, 'tsconfig.json'), join(project, 'tsconfig.json'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'integrator', private: true, type: 'module' }));
  run('npm', ['install', tarball, `@types/node@${PKG.devDependencies['@types/node']}`, '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], project);
}, SLOW);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds the program, the compiled library with its declarations and the shipped profiles, and no tests, benchmarks, scripts or sources', () => {
    const outside = packed.filter((f) => !/^(bin\/drmb\.js|dist\/.+\.(js|d\.ts)|examples\/(profiles|conformance)\/[^/]+|README\.md|LICEN[CS]E(\.\w+)?|package\.json)$/.test(f));
    expect(outside).toEqual([]);
    expect(packed.filter((f) => /\.test\.|^dist\/(test|bench|scripts)\//.test(f))).toEqual([]);
    for (const target of Object.values(PKG.exports)) {
      const paths = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const p of paths.filter((x) => !x.includes('*'))) expect(packed).toContain(p.replace(/^\.\//, ''));
    }
  });

  it('is installed outside the repository, without the optional smartcard binding', () => {
    expect(relative(ROOT, project).startsWith('..')).toBe(true);
    expect(readdirSync(join(project, 'node_modules'))).not.toContain('smartcard');
  });

  it('imports every subpath without smartcard, and only opening a reader says what to install', () => {
    const script = `
      for (const s of ${JSON.stringify(SUBPATHS)}) {
        const m = await import(s);
        if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing');
      }
      const { openReader } = await import('${PKG.name}/host');
      try { await openReader('any'); console.log('opened'); } catch (e) { console.log(JSON.stringify({ name: e.name, kind: e.kind, message: e.message })); }`;
    const r = JSON.parse(node(['--input-type=module', '-e', script], project)) as { name: string; kind: string; message: string };
    expect(r).toMatchObject({ name: 'TransportError', kind: 'unavailable' });
    expect(r.message).toMatch(/"smartcard".*not installed.*libpcsclite-dev.*npm install/);
  }, SLOW);

  it('type-checks examples/pos-integration against the installed declarations, and the example pays on simulated cards and queues the packet', () => {
    node([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project);
    const made = node(['build/make-test-cards.js', 'material'], project);
    expect(made).toMatch(/with 88\.00 yuan/);
    const queue = join(project, 'material', 'queue.jsonl');
    const paid = node(['build/pay.js', '--amount', '17.00', '--sim', 'material/card.json', '--psam-sim', 'material/psam.json', '--anchors', 'material/ceremony/trust-anchors.json', '--queue', queue], project);
    expect(paid).toMatch(/^paid 17\.00 yuan by card \d{20} /m);
    expect(paid).toMatch(/^card balance now 71\.00 yuan$/m);
    const lines = readFileSync(queue, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; amountFen: number });
    expect(lines.filter((l) => l.type === 'PURCHASE').map((l) => l.amountFen)).toEqual([1700]);
  }, SLOW);

  it('runs the drmb program installed in a project, from another folder', () => {
    const out = node([join(project, 'node_modules', '.bin', 'drmb'), 'spec', 'list', '--json'], work);
    expect((JSON.parse(out) as unknown[]).length).toBeGreaterThan(20);
  }, SLOW);

  it('runs the drmb program installed globally (npm install -g, here under a private prefix)', () => {
    const prefix = join(work, 'global');
    run('npm', ['install', '--global', '--prefix', prefix, tarball, '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], work);
    const out = node([join(prefix, 'bin', 'drmb'), 'spec', 'show', 'GET BALANCE'], tmpdir());
    expect(out).toMatch(/^### GET BALANCE$/m);
  }, SLOW);
});
