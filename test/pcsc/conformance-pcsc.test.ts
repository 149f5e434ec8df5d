/**
 * @module `drmb conformance --reader "Virtual PCD 00 00" --profile … --junit …` against an ISSUED
 * card served by `drmb sim serve` through pcscd + vpcd: the non-destructive suite passes with no
 * failure, the cases that need a fresh card in another state skip with their reason (a reader cannot
 * give one), and the JUnit file counts what ran; with `--power-control` on the control socket of that
 * serve, every tear case runs through pcscd and passes; with `--fresh-images` as well, every case gets
 * a fresh card loaded by that serve and the whole suite passes, none skipped. Skipped outside CI only
 * when pcscd / vpcd are not installed, never in CI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConformance, type ConformanceIo } from '../../cli/conformance/index.js';
import { loadPcsc } from '../../host/pcsc.js';
import { startPcscd, waitExit, type PcscdHandle } from '../../scripts/pcsc-harness.js';
import { type ConformanceCards, conformanceCards } from '../conformance-cards.js';
import { type CardChild, maySkip, missing, READER, skipReason, spawnServe, waitReader } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/conformance-pcsc.test.ts skipped: ${skipReason}`);

describe.skipIf(maySkip)(`drmb conformance through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 120_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let serve: CardChild | undefined;
  let dir: string;
  let profilePath: string;
  let imageFile: string;
  let issued: Uint8Array;
  let cards: ConformanceCards;

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    cards = await conformanceCards();
    profilePath = cards.profilePath;
    dir = mkdtempSync(join(tmpdir(), 'drmb-conformance-pcsc-'));
    imageFile = join(dir, 'issued.json');
    issued = cards.images.ISSUED!;
    pcscd = await startPcscd();
    await insert();
  }, 120_000);

  /** Serves the ISSUED image afresh (optionally as a faulty variant) once the previous card is gone. */
  const insert = async (extraArgs: string[] = []): Promise<void> => {
    if (serve?.alive) {
      serve.send('quit');
      if ((await waitExit(serve.child, 5000)) === undefined) serve.child.kill('SIGKILL');
      await waitReader(false);
    }
    writeFileSync(imageFile, issued);
    serve = spawnServe(imageFile, 35963, extraArgs);
    await serve.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await waitReader(true);
  };

  afterAll(async () => {
    try {
      if (serve?.alive) {
        serve.send('quit');
        if ((await waitExit(serve.child, 5000)) === undefined) serve.child.kill('SIGKILL');
      }
    } finally {
      await pcscd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('passes every case the served card can run, skips the rest with a reason, and writes a JUnit file that counts them', async () => {
    const lines: string[] = [];
    const io: ConformanceIo = { err: (l) => lines.push(l), out: () => {}, isTty: false, ask: async () => 'n' };
    const junit = join(dir, 'out.xml');
    const results = await runConformance({ reader: READER, profile: profilePath, junit }, io);
    const failed = results.filter((r) => r.verdict === 'fail');
    expect(failed.map((r) => `${r.id}: ${r.reason ?? ''}`)).toEqual([]);
    const passed = results.filter((r) => r.verdict === 'pass');
    expect(passed.length).toBeGreaterThan(50);
    for (const r of results.filter((x) => x.verdict === 'skip')) expect(r.reason, r.id).toBeTruthy();
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(`tests="${results.length}"`);
    expect(xml).toContain('failures="0"');
  });

  it('fails the 6700 cases against a card served by `drmb sim serve --fault wrong-length-sw`', async () => {
    await insert(['--fault', 'wrong-length-sw']);
    const io: ConformanceIo = { err: () => {}, out: () => {}, isTty: false, ask: async () => 'n' };
    const results = await runConformance({ reader: READER, profile: profilePath, only: ['GETBAL-SW-6700-*', 'INITPUR-SW-6700-*'] }, io);
    // the ISSUED card in the reader fails each; the LOCKED variants skip, as a reader cannot give a card in another state
    expect(results.filter((r) => r.verdict !== 'skip').map((r) => `${r.id} ${r.verdict}`)).toEqual(['GETBAL-SW-6700-LONG fail', 'INITPUR-SW-6700-LONG fail', 'INITPUR-SW-6700-SHORT fail']);
  });

  it('runs every tear case through pcscd and passes it, with power cut through `drmb sim serve --control-socket`', async () => {
    const socketPath = join(dir, 'serve.sock');
    await insert(['--control-socket', socketPath]);
    const io: ConformanceIo = { err: () => {}, out: () => {}, isTty: false, ask: async () => 'n' };
    // TEAR-VERIFY spends PIN tries, so it needs --destructive (confirmed with --yes)
    const results = await runConformance({ reader: READER, profile: profilePath, powerControl: socketPath, only: ['TEAR-*'], destructive: true, yes: true }, io);
    expect(results.map((r) => `${r.id} ${r.verdict}${r.reason ? `: ${r.reason}` : ''}`)).toEqual(
      ['TEAR-LOAD', 'TEAR-PURCHASE', 'TEAR-TRANSFER', 'TEAR-IMPORT', 'TEAR-VERIFY'].map((id) => `${id} pass`),
    );
  }, 600_000);

  it('passes every case, none skipped, with a fresh card per case loaded by `drmb sim serve` through its control socket (--fresh-images)', async () => {
    const socketPath = join(dir, 'serve-fresh.sock');
    await insert(['--control-socket', socketPath]);
    const states = ['BLANK', 'PREPARED', 'ISSUED'] as const;
    const freshImages = states.map((state) => {
      const file = join(dir, `fresh-${state.toLowerCase()}.json`);
      writeFileSync(file, cards.images[state]!);
      return file;
    });
    const junit = join(dir, 'fresh.xml');
    const io: ConformanceIo = { err: () => {}, out: () => {}, isTty: false, ask: async () => 'n' };
    const results = await runConformance({ reader: READER, profile: profilePath, powerControl: socketPath, freshImages, junit }, io);
    expect(results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id} ${r.verdict}: ${r.reason ?? ''}`)).toEqual([]);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain(`tests="${results.length}"`);
    expect(xml).toContain('failures="0"');
    expect(xml).toContain('skipped="0"');
    // the images were only read: serve keeps the cards it loads in memory
    states.forEach((state, i) => expect(new Uint8Array(readFileSync(freshImages[i]))).toEqual(cards.images[state]));
  }, 900_000);
});
