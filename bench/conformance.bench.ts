/**
 * @module Benchmark (issue 12): how fast the conformance suite runs in process, every case on a fresh
 * simulated card in the state it needs, and how much of the command set one run covers (commands sent,
 * listed status words answered, command-state pairs tried), measured from the wire.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runConformance, type ConformanceIo } from '../cli/conformance/index.js';
import { specCoverage } from '../conformance/spec-coverage.js';
import { conformanceCards } from '../test/conformance-cards.js';
import type { Benchmark } from './harness.js';

/** The command's terminal, silent: the benchmark prints only its figures. */
export const quiet: ConformanceIo = { err: () => {}, out: () => {}, isTty: false, ask: async () => 'n' };

export const conformanceBench: Benchmark = {
  name: 'conformance',
  title: 'drmb conformance in process: cases per second on fresh simulated cards, and the spec coverage of one run',
  async run(b) {
    const cards = await conformanceCards();
    const dir = mkdtempSync(join(tmpdir(), 'drmb-conformance-bench-'));
    try {
      const images = (['BLANK', 'PREPARED', 'ISSUED'] as const).map((state) => {
        const file = join(dir, `${state.toLowerCase()}.json`);
        writeFileSync(file, cards.images[state]!);
        return file;
      });
      // a smoke run takes one command's cases; a full run the whole suite, several times
      const only = b.size<string[]>([], ['GETBAL-*']);
      const rounds = b.size(3, 1);
      let cases = 0;
      let ms = 0;
      let last: Awaited<ReturnType<typeof runConformance>> = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        last = await runConformance({ sim: images, profile: cards.profilePath, only }, quiet);
        ms += performance.now() - t0;
        cases += last.length;
        const failed = last.filter((r) => r.verdict === 'fail');
        if (failed.length) throw new Error(`the conforming card failed ${failed.map((r) => r.id).join(', ')}`);
      }
      b.record('cases-per-s', 'conformance cases per second, in process', (1000 * cases) / ms, 'cases/s');
      const c = specCoverage(last.flatMap((r) => r.exchanges));
      b.record('commands-covered', 'commands of the set sent at least once', (100 * c.commands.sent) / c.commands.total, '%');
      b.record('status-words-covered', 'listed status words the card answered', (100 * c.statusWords.answered) / c.statusWords.listed, '%');
      b.record('states-covered', 'command-state pairs tried', (100 * c.states.tried) / c.states.total, '%');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
