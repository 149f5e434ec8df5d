/**
 * @module docs/walkthrough.md runs as written: every command of its `sh` blocks, in order, in a new
 * folder, with `drmb` being this project's program; the money ends where the text says it does.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from './project-path.js';
import { drmbShellFunction } from '../test/run-drmb.js';

/** The lines of the walkthrough's sh blocks. */
export function shellLines(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => m[1].split('\n')).filter((l) => l.trim());
}

describe('docs/walkthrough.md', () => {
  const lines = shellLines(readFileSync(projectPath('docs', 'walkthrough.md'), 'utf8'));

  it('is one command per line: a variable, or drmb (with the PIN piped in)', () => {
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(l, l).toMatch(/^(export [A-Z_]+=\S+|(echo \d+ \| )?drmb [a-z-]+ .*)$/);
  });

  it('runs every command in a new folder and ends with the balances and the log it describes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-walkthrough-'));
    // `drmb` is this project's program, run from its sources; each line runs as typed, stopping at the first failure.
    const script = [
      drmbShellFunction(),
      'set -eo pipefail',
      ...lines.flatMap((l) => [`echo ${JSON.stringify(`$ ${l}`)}`, l]),
    ].join('\n');
    writeFileSync(join(dir, '.walkthrough.sh'), script);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DRMB_') && k !== 'XDG_DATA_HOME'));
    const r = spawnSync('bash', [join(dir, '.walkthrough.sh')], { cwd: dir, env: { ...env, XDG_DATA_HOME: join(dir, 'xdg') }, encoding: 'utf8', timeout: 540_000 });
    expect(r.status, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/\$ drmb pos pay [^\n]*\npaid 30\.00 yuan [^\n]*\nchange 70\.00 yuan paid into the card; card paid 100\.00\n/);
    expect(out).toMatch(/\$ drmb card balance --sim bob\.json\n50\.00 yuan\n/);
    expect(out).toMatch(/CHANGE 10000000000000000001 #1 70\.00 settled \(card:10000000000000000001\)\nPURCHASE 10000000000000000001 #2 100\.00 settled \(bank:104100000003\)/);
    expect(out).toMatch(/TRANSFER 10000000000000000001 #3 50\.00 settled \(card:10000000000000000002\)/);
    expect(out).toMatch(/ 3 {2}TRANSFER +50\.00 +220\.00 [\s\S]* 2 {2}PURCHASE +100\.00 +270\.00 [\s\S]* 1 {2}RECEIVE +70\.00 +370\.00 [\s\S]* 0 {2}LOAD +300\.00 +300\.00 /);
    expect(out).toMatch(/\$ drmb card balance --sim alice\.json\n220\.00 yuan\n/);
    // section 8: renewed, blocked and unblocked, returned with the balance paid in cash, the audit chain intact
    expect(out).toMatch(/card 10000000000000000001: 220\.00 yuan of coins expiring before 20991231 renewed; balance 220\.00 yuan/);
    expect(out).toMatch(/card 10000000000000000001: returned and TERMINATED\n {2}paid out in cash {3}220\.00 yuan/);
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^perso-audit\.log: \d+ line\(s\), chain intact/);
  }, 600_000);
});
