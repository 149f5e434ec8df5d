/** @module The shared options of drmb: every subcommand takes --json, a two-card command names each side's options, and amounts, bank codes and PIN files are checked in one place. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './drmb.js';
import { bankCodeOf, cardOptionNames, fenOf, positiveFenOf, readPinFile } from './options.js';
import { UsageError } from './output.js';

/** Every command without subcommands, with its full name ("card info"). */
function leaves(cmd: Command, path: string[] = []): { name: string; cmd: Command }[] {
  if (!cmd.commands.length) return [{ name: path.join(' '), cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

describe('drmb options', () => {
  it('gives every subcommand --json, but completion, whose output is a shell script', () => {
    const without = leaves(buildProgram()).filter(({ cmd }) => !cmd.options.some((o) => o.long === '--json')).map((l) => l.name);
    expect(without).toEqual(['completion']);
  });

  it("names the payer's and the payee's card options apart in peer pay", () => {
    const pay = leaves(buildProgram()).find((l) => l.name === 'peer pay')!.cmd;
    const longs = pay.options.map((o) => o.long);
    for (const side of ['from', 'to']) expect(longs).toEqual(expect.arrayContaining(Object.values(cardOptionNames(side))));
    expect(longs).not.toContain('--reader');
  });

  it('reads yuan amounts to fen, and refuses a payment of 0.00 or a third decimal by the option name', () => {
    expect([fenOf('171.00', '--amount'), fenOf('0', '--amount'), positiveFenOf(' 30.5 ')]).toEqual([17100, 0, 3050]);
    expect(() => positiveFenOf('0.00')).toThrow(new UsageError('--amount must be more than 0.00'));
    expect(() => positiveFenOf('1.001')).toThrow(new UsageError('--amount must be an amount in yuan such as 171.00'));
  });

  it('takes a bank code of exactly 12 digits', () => {
    expect(bankCodeOf('102100099996')).toBe('102100099996');
    expect(() => bankCodeOf('10210009999')).toThrow(new UsageError('--bank-code must be 12 digits'));
  });

  it('reads the PIN from the first line of --pin-file and refuses one that is not 4-12 digits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-options-'));
    try {
      writeFileSync(join(dir, 'pin'), '123456\nignored\n');
      writeFileSync(join(dir, 'bad'), '12a4\n');
      expect(readPinFile(join(dir, 'pin'))).toBe('123456');
      expect(() => readPinFile(join(dir, 'bad'))).toThrow(new UsageError('--pin-file: the first line must be the PIN, 4-12 digits'));
      expect(() => readPinFile(join(dir, 'none'))).toThrow(/^--pin-file: cannot read .* \(ENOENT: no such file or folder\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
