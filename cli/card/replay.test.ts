/** @module `drmb card replay`: a transcript recorded from a card replays against the same card, and the first response that differs is reported with its line, exit code 1. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stateImages } from '../../test/state-images.js';
import { main } from '../drmb.js';
import { UsageError } from '../output.js';
import { withCard } from '../open-card.js';
import { collectInfo } from './info.js';
import { runReplay } from './replay.js';

let dir: string;
let issued: string;
let blank: string;
let transcript: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-card-replay-'));
  const images = stateImages('62120000000000000889');
  issued = join(dir, 'issued.json');
  blank = join(dir, 'blank.json');
  writeFileSync(issued, images.ISSUED);
  writeFileSync(blank, images.BLANK);
  transcript = join(dir, 'info.transcript');
  await withCard({ sim: issued, record: transcript }, { image: 'read-only' }, (t, conn) => collectInfo(t, conn.source, conn.atr));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs drmb in-process; returns stdout, stderr and the exit code. */
async function drmb(...args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  const err: string[] = [];
  const out: string[] = [];
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  try {
    await main(['node', 'drmb', ...args]);
    return { stdout: out.join(''), stderr: err.join(''), exitCode: process.exitCode === undefined ? undefined : Number(process.exitCode) };
  } finally {
    e.mockRestore();
    o.mockRestore();
    process.exitCode = undefined;
  }
}

describe('drmb card replay', () => {
  it('replays a transcript against the card it was recorded from: every exchange answered as recorded', async () => {
    const r = await runReplay(transcript, { sim: issued });
    expect(r.difference).toBeUndefined();
    expect(r.replayed).toBe(r.exchanges);
    expect(r.exchanges).toBeGreaterThan(2);
  });

  it('reports the first exchange another card answers differently, with its line and both responses, and exits 1', async () => {
    const r = await runReplay(transcript, { sim: blank });
    expect(r.difference).toBeDefined();
    const recordedLines = readFileSync(transcript, 'utf8').split('\n');
    expect(recordedLines[r.difference!.line - 1]).toBe(`=> ${r.difference!.command}`);
    expect(r.difference!.actual).not.toBe(r.difference!.expected);
    const cli = await drmb('card', 'replay', transcript, '--sim', blank);
    expect(cli.exitCode).toBe(1);
    expect(cli.stdout).toContain(`line ${r.difference!.line} differs`);
    expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^drmb: line ${r.difference!.line} of .*: the card answered [0-9A-F]{4}, the transcript records [0-9A-F]{4}`))]);
  });

  it('refuses a transcript that cannot be read or parsed, naming the line, and one with a redacted command where it stands', async () => {
    await expect(runReplay(join(dir, 'none'), { sim: issued })).rejects.toThrow(UsageError);
    const bad = join(dir, 'bad.transcript');
    writeFileSync(bad, '=> 00A4040000\n=> 00B0000000\n');
    await expect(runReplay(bad, { sim: issued })).rejects.toThrow(`${bad} line 1: command without a response`);
    const redacted = join(dir, 'redacted.transcript');
    writeFileSync(redacted, `${readFileSync(transcript, 'utf8')}=> 00200000 03 <3 bytes of PIN data redacted>\n<= 9000\n`);
    await expect(runReplay(redacted, { sim: issued })).rejects.toThrow(/was recorded redacted .* cannot be sent again; \d+ exchange\(s\) matched before it/);
  });
});
