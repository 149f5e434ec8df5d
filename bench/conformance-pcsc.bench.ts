/**
 * @module Benchmark (issue 12): how fast the conformance suite runs through pcscd and vpcd against an
 * ISSUED card served by `drmb sim serve`, the cases a reader can run (the rest skip: a reader cannot
 * give a card in another state). Skips, saying why, when pcscd, vpcd or the binding is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runConformance } from '../cli/conformance/index.js';
import { loadPcsc } from '../host/pcsc.js';
import { startPcscd, type PcscdHandle } from '../scripts/pcsc-harness.js';
import { conformanceCards } from '../test/conformance-cards.js';
import { missing, READER, skipReason, spawnServe, waitReader } from '../test/pcsc/pcsc-fixture.js';
import { quiet } from './conformance.bench.js';
import type { Benchmark } from './harness.js';

const PORT = 35963;

export const conformancePcscBench: Benchmark = {
  name: 'conformance-pcsc',
  title: 'drmb conformance through pcscd: cases per second against an ISSUED card served by drmb sim serve (the cases a reader can run)',
  pcsc: true,
  async run(b) {
    if (missing.length) return b.skip(skipReason);
    try {
      await loadPcsc();
    } catch (e) {
      return b.skip((e as Error).message);
    }
    const cards = await conformanceCards();
    const dir = mkdtempSync(join(tmpdir(), 'drmb-conformance-pcsc-bench-'));
    let pcscd: PcscdHandle | undefined;
    try {
      const image = join(dir, 'issued.json');
      writeFileSync(image, cards.images.ISSUED!);
      pcscd = await startPcscd();
      const child = spawnServe(image, PORT);
      try {
        await child.waitFor(`card inserted in vpcd 127.0.0.1:${PORT}`, 20_000);
        await waitReader(true, READER, 20_000);
        // a smoke run takes one command's cases; a full run every case the served card can run, twice
        const only = b.size<string[]>([], ['GETBAL-*']);
        let ran = 0;
        let ms = 0;
        for (let i = 0, n = b.size(2, 1); i < n; i++) {
          const t0 = performance.now();
          const results = await runConformance({ reader: READER, profile: cards.profilePath, only }, quiet);
          ms += performance.now() - t0;
          const failed = results.filter((r) => r.verdict === 'fail');
          if (failed.length) throw new Error(`the served card failed ${failed.map((r) => r.id).join(', ')}`);
          ran += results.filter((r) => r.verdict === 'pass').length;
        }
        b.record('cases-per-s', `conformance cases per second through pcscd (${READER})`, (1000 * ran) / ms, 'cases/s');
      } finally {
        await child.quit();
      }
    } finally {
      await pcscd?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
