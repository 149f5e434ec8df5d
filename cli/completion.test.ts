/** @module Shell completion made from the program tree: bash completes command words, options and file names as a user types them; the zsh script is valid zsh. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './drmb.js';
import { bashCompletion, completionScript, zshCompletion } from './completion.js';
import { UsageError } from './output.js';

const hasShell = (shell: string) => spawnSync(shell, ['-c', 'true']).status === 0;

/** What bash's completion function offers for the words typed so far (the last being completed). */
function bashComplete(script: string, ...words: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-completion-'));
  writeFileSync(join(dir, 'drmb.bash'), script);
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const r = spawnSync('bash', ['-c', `source ${join(dir, 'drmb.bash')}; COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _drmb; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('drmb completion', () => {
  const program = buildProgram();

  it.runIf(hasShell('bash'))('completes command words at each level, then the options of the command', () => {
    const script = bashCompletion(program);
    expect(bashComplete(script, 'drmb', 'po')).toEqual(['pos']);
    expect(bashComplete(script, 'drmb', 'pos', '')).toEqual(['pay', 'float', '--help']);
    expect(bashComplete(script, 'drmb', 'pos', 'pay', '--sim', 'card.json', '--psam-')).toEqual(['--psam-reader', '--psam-sim']);
  });

  it.runIf(hasShell('bash'))('offers nothing of its own after an option that takes a value, so bash completes file names', () => {
    expect(bashComplete(bashCompletion(program), 'drmb', 'pos', 'pay', '--sim', '')).toEqual([]);
  });

  it('follows the program: a command added to the tree is completed', () => {
    const p = buildProgram();
    p.command('extra-command-for-test').option('--only-here');
    expect(bashCompletion(p)).toContain("'extra-command-for-test') candidates='--only-here --help'");
    expect(zshCompletion(p)).toContain("'--only-here:'");
  });

  it.runIf(hasShell('zsh'))('writes a zsh script that zsh parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-completion-'));
    writeFileSync(join(dir, '_drmb'), zshCompletion(program));
    const r = spawnSync('zsh', ['-n', join(dir, '_drmb')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('refuses a shell it does not know as bad input', () => {
    expect(() => completionScript(program, 'fish')).toThrow(UsageError);
  });
});
