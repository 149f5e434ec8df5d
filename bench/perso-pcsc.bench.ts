/**
 * @module Benchmark of batch card prep through PC/SC: cards per second over both vpcd readers against
 * one reader, in the same run. Each simulated card runs in its own `drmb sim serve` process, as each
 * real card computes on its own chip. Skips with the reason when pcscd / vpcd are not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readerSlots } from '../cli/perso/batch-slots.js';
import { projectPath } from '../cli/project-path.js';
import { createSimCard } from '../cli/sim/create.js';
import { loadKey } from '../keys/key-files.js';
import { runBatch, type CardSlot } from '../personalization/batch.js';
import { prepareCard } from '../personalization/card-prep.js';
import { initKeyDirectory, readTrustAnchors } from '../personalization/key-ceremony.js';
import { loadPrepareProfile } from '../personalization/profiles.js';
import { startPcscd, type PcscdHandle } from '../scripts/pcsc-harness.js';
import { type CardChild, missing, READER, READER_2, skipReason, spawnServe, waitReader } from '../test/pcsc/pcsc-fixture.js';
import type { Benchmark } from './harness.js';

export const persoPcscBench: Benchmark = {
  name: 'perso-pcsc',
  title: 'batch card prep through PC/SC: 2 vpcd readers against 1, card insertion and removal included',
  pcsc: true,
  async run(b) {
    if (missing.length) return b.skip(skipReason);
    /** Cards prepared per reader per round. */
    const cardsPerReader = b.size(4, 1);
    const dir = mkdtempSync(join(tmpdir(), 'drmb-perso-pcsc-bench-'));
    let pcscd: PcscdHandle | undefined;
    const children: CardChild[] = [];
    try {
      initKeyDirectory(join(dir, 'keys'));
      const env = {};
      const k = { dir: join(dir, 'keys'), env };
      const keys = { cbMaster: loadKey('cb-master', k), issuanceMaster: loadKey('issuance-master', k), certSigning: loadKey('cert-signing', k), anchors: readTrustAnchors(join(dir, 'keys', 'trust-anchors.json')) };
      const profile = loadPrepareProfile(projectPath('examples', 'profiles', 'prepare.json'));
      pcscd = await startPcscd();
      let serial = 0;
      /** One reader slot that serves `cardsPerReader` fresh blank cards, one after the other. */
      const slot = async (reader: string, port: number): Promise<CardSlot> => {
        const [base] = await readerSlots(reader, 20);
        let left = cardsPerReader;
        let child: CardChild | undefined;
        return {
          name: reader,
          async nextCard(signal) {
            if (left-- <= 0) return undefined;
            const image = join(dir, `${++serial}.json`);
            await createSimCard({ image, cardId: `6212${String(serial).padStart(16, '0')}`, keys: join(dir, 'keys') });
            child = spawnServe(image, port);
            children.push(child);
            await child.waitFor(`card inserted in vpcd 127.0.0.1:${port}`, 20_000);
            return base.nextCard(signal);
          },
          async release(t) {
            await base.release(t);
            await child?.quit();
            await waitReader(false, reader);
          },
        };
      };
      const rate = async (readers: [string, number][]): Promise<{ perSecond: number; cardMs: number[] }> => {
        const slots = await Promise.all(readers.map(([r, p]) => slot(r, p)));
        const cardMs: number[] = [];
        const summary = await runBatch(slots, async (t) => {
          const t0 = performance.now();
          const r = await prepareCard(t, profile, keys, { operator: 'bench' });
          cardMs.push(performance.now() - t0);
          return r;
        });
        if (summary.failed) throw new Error(`batch failed: ${summary.items.map((i) => i.error).join('; ')}`);
        return { perSecond: (summary.done * 1000) / summary.elapsedMs, cardMs };
      };
      const one = await rate([[READER, 35963]]);
      const two = await rate([
        [READER, 35963],
        [READER_2, 35964],
      ]);
      b.log('Batch prep through PC/SC (card insertion and removal included), 2 readers against 1 (same run)');
      const r1 = b.record('one-reader', '1 reader', one.perSecond, 'cards/s');
      const r2 = b.record('two-readers', '2 readers', two.perSecond, 'cards/s');
      b.ratio(r2, r1);
      b.recordMedian('prep-ms-one-reader', 'prep time per card, 1 reader', one.cardMs);
      b.recordMedian('prep-ms-two-readers', 'prep time per card, 2 readers', two.cardMs);
    } finally {
      // a failed batch may leave a card child in its reader
      for (const c of children) await c.quit();
      await pcscd?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
