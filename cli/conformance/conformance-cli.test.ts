/** @module `drmb conformance` argument errors: each is one UsageError line naming the argument, before any card is touched. */
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceCards } from '../../test/conformance-cards.js';
import { stateImages } from '../../test/state-images.js';
import { UsageError } from '../output.js';
import { type ConformanceIo, type ConformanceOptions, runConformance } from './index.js';

const io = (isTty = false): ConformanceIo & { lines: string[]; text: string[] } => {
  const lines: string[] = [];
  const text: string[] = [];
  return { lines, text, err: (l) => void lines.push(l), out: (t) => void text.push(t), isTty, ask: async () => 'n' };
};

/** A socket file left by a serve that is gone: moved away while listening, so closing leaves it behind. */
async function staleSocket(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-power-control-'));
  const server = createServer();
  await new Promise<void>((r) => server.listen(join(dir, 'live.sock'), () => r()));
  renameSync(join(dir, 'live.sock'), join(dir, 'stale.sock'));
  await new Promise<void>((r) => server.close(() => r()));
  return join(dir, 'stale.sock');
}

async function usageError(o: ConformanceOptions, isTty = false): Promise<string> {
  try {
    await runConformance(o, io(isTty));
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('no usage error');
}

describe('drmb conformance arguments', () => {
  it('needs a card unless listing, and --sim and --reader exclude each other', async () => {
    expect(await usageError({})).toMatch(/--sim <image> or --reader/);
    expect(await usageError({ sim: 'a.json', reader: 'x' })).toMatch(/--sim and --reader/);
  });

  it('names a missing image or profile', async () => {
    expect(await usageError({ sim: '/nonexistent/card.json' })).toMatch(/^--sim: card image/);
    expect(await usageError({ list: true, profile: '/nonexistent/p.json' })).toMatch(/^--profile: /);
  });

  it('names a --json or --junit file that cannot be written, before any case runs', async () => {
    expect(await usageError({ sim: 'package.json', json: '/nonexistent/dir/out.json' })).toMatch(/^--json \/nonexistent\/dir\/out.json: cannot be written \(directory \/nonexistent\/dir does not exist\)/);
    expect(await usageError({ sim: 'package.json', junit: '/' })).toMatch(/^--junit \/: cannot be written/);
  });

  it('names an --only or --skip pattern that is malformed or matches no case', async () => {
    expect(await usageError({ list: true, only: ['getbal'] })).toMatch(/^--only getbal/);
    expect(await usageError({ list: true, skip: ['NOPE-*'] })).toMatch(/^--skip NOPE-\*: no case/);
  });

  it('--destructive needs --yes without a terminal, is refused when not confirmed, and --yes alone is an error', async () => {
    expect(await usageError({ sim: 'package.json', destructive: true })).toMatch(/--destructive without a terminal needs --yes/);
    expect(await usageError({ sim: 'package.json', destructive: true }, true)).toMatch(/not confirmed/);
    expect(await usageError({ list: true, yes: true })).toMatch(/^--yes confirms --destructive/);
  });

  it('--power-control is for --reader, and names a missing path, a file that is not a socket, and a socket nothing listens on', async () => {
    expect(await usageError({ sim: 'package.json', powerControl: 'serve.sock' })).toMatch(/^--power-control is for --reader/);
    expect(await usageError({ reader: 'x', powerControl: '' })).toMatch(/^--power-control needs the path/);
    expect(await usageError({ reader: 'x', powerControl: '/nonexistent/serve.sock' })).toMatch(/^--power-control \/nonexistent\/serve.sock: no such socket/);
    expect(await usageError({ reader: 'x', powerControl: 'package.json' })).toMatch(/^--power-control package.json: not a Unix domain socket/);
    expect(await usageError({ reader: 'x', powerControl: await staleSocket() })).toMatch(/^--power-control .*stale.sock: nothing answers there .*is drmb sim serve --control-socket/);
  });

  it('--fresh-images needs --reader and --power-control, and names a missing or damaged image and two images in one state', async () => {
    expect(await usageError({ sim: 'package.json', freshImages: ['blank.json'] })).toMatch(/^--fresh-images is for --reader/);
    expect(await usageError({ reader: 'x', freshImages: ['blank.json'] })).toMatch(/^--fresh-images needs --power-control/);
    // the images are checked before the control socket is connected to, so a socket nothing answers on does here
    const powerControl = await staleSocket();
    expect(await usageError({ reader: 'x', powerControl, freshImages: ['/nonexistent/blank.json'] })).toMatch(/^--fresh-images: card image \/nonexistent\/blank.json does not exist/);
    expect(await usageError({ reader: 'x', powerControl, freshImages: ['package.json'] })).toMatch(/^--fresh-images: card image package.json /);
    const dir = mkdtempSync(join(tmpdir(), 'drmb-fresh-images-'));
    const images = ['a.json', 'b.json'].map((name) => join(dir, name));
    for (const file of images) writeFileSync(file, stateImages().ISSUED);
    expect(await usageError({ reader: 'x', powerControl, freshImages: images })).toBe(`--fresh-images: ${images[0]} and ${images[1]} are both ISSUED (one image per lifecycle state)`);
  });

  it('--list prints the selected cases and runs nothing', async () => {
    const o = io();
    expect(await runConformance({ list: true, only: ['GETBAL-*'] }, o)).toEqual([]);
    expect(o.text.join('')).toContain('GETBAL-EX-1\n  clause: JR/T 0025.2 GET BALANCE');
    expect(o.text.join('')).not.toContain('INV-LOAD');
  });
});

describe('drmb conformance --sim with one image per state', () => {
  it('runs every case, each on a fresh card in the state it needs, none skipped, and reports the coverage of the command set', async () => {
    const cards = await conformanceCards();
    const dir = mkdtempSync(join(tmpdir(), 'drmb-conformance-cli-'));
    const images = (['BLANK', 'PREPARED', 'ISSUED'] as const).map((state) => {
      const file = join(dir, `${state.toLowerCase()}.json`);
      writeFileSync(file, cards.images[state]!);
      return file;
    });
    const out = io();
    const results = await runConformance({ sim: images, profile: cards.profilePath, coverage: true }, out);
    expect(results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id} ${r.verdict}: ${r.reason}`)).toEqual([]);
    const table = out.text.join('');
    expect(table).toMatch(/^coverage: (\d+)\/\1 commands/);
    // cases ran on cards in every lifecycle state: SELECT was answered in each
    expect(table).toMatch(/SELECT +\d+\/\d+ +SWs +states BLANK,PREPARED,ISSUED,LOCKED,TERMINATED/);
  }, 120_000);
});
