/**
 * @module Benchmark of batch card prep through PC/SC: cards per second over both vpcd readers against
 * one reader, in the same run (goal: N readers give at least 0.8 N times one reader's rate). Each
 * simulated card runs in its own `drmb sim serve` process, as each real card computes on its own chip.
 * Skips with the reason when pcscd / vpcd are not installed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readerSlots } from '../cli/perso/batch-slots.js';
import { projectPath } from '../cli/project-path.js';
import { createSimCard } from '../cli/sim/create.js';
import { startPcscd } from '../scripts/pcsc-harness.js';
import { type CardChild, missing, READER, READER_2, skipReason, spawnServe, waitReader } from '../test/pcsc/pcsc-fixture.js';
import type { CardSlot } from './batch.js';
import { runBatch } from './batch.js';
import { prepareCard } from './card-prep.js';
import { initKeyDirectory, readTrustAnchors } from './key-ceremony.js';
import { loadKey } from '../keys/key-files.js';
import { loadPrepareProfile } from './profiles.js';

/** Cards prepared per reader per round. */
const CARDS_PER_READER = 4;

export default async function (): Promise<void> {
  if (missing.length) {
    console.log(`Batch prep through PC/SC: skipped, ${skipReason}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'drmb-perso-pcsc-bench-'));
  initKeyDirectory(join(dir, 'keys'));
  const env = {};
  const k = { dir: join(dir, 'keys'), env };
  const keys = { cbMaster: loadKey('cb-master', k), issuanceMaster: loadKey('issuance-master', k), certSigning: loadKey('cert-signing', k), anchors: readTrustAnchors(join(dir, 'keys', 'trust-anchors.json')) };
  const profile = loadPrepareProfile(projectPath('examples', 'profiles', 'prepare.json'));
  const pcscd = await startPcscd();
  let serial = 0;
  try {
    /** One reader slot that serves CARDS_PER_READER fresh blank cards, one after the other. */
    const slot = async (reader: string, port: number): Promise<CardSlot> => {
      const [base] = await readerSlots(reader, 20);
      let left = CARDS_PER_READER;
      let child: CardChild | undefined;
      return {
        name: reader,
        async nextCard(signal) {
          if (left-- <= 0) return undefined;
          const image = join(dir, `${++serial}.json`);
          await createSimCard({ image, cardId: `6212${String(serial).padStart(16, '0')}`, keys: join(dir, 'keys') });
          child = spawnServe(image, port);
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
    const rate = async (readers: [string, number][]): Promise<{ perSecond: number; cardMs: number }> => {
      const slots = await Promise.all(readers.map(([r, p]) => slot(r, p)));
      let cardMs = 0;
      const summary = await runBatch(slots, async (t) => {
        const t0 = performance.now();
        const r = await prepareCard(t, profile, keys, { operator: 'bench' });
        cardMs += performance.now() - t0;
        return r;
      });
      if (summary.failed) throw new Error(`batch failed: ${summary.items.map((i) => i.error).join('; ')}`);
      return { perSecond: (summary.done * 1000) / summary.elapsedMs, cardMs: cardMs / summary.done };
    };
    const one = await rate([[READER, 35963]]);
    const two = await rate([
      [READER, 35963],
      [READER_2, 35964],
    ]);
    const ratio = two.perSecond / one.perSecond;
    console.log('Batch prep through PC/SC (card insertion and removal included), 2 readers against 1 (same run)');
    console.log(`  1 reader   ${one.perSecond.toFixed(2)} cards/s  (${one.cardMs.toFixed(0)} ms of prep per card)`);
    console.log(`  2 readers  ${two.perSecond.toFixed(2)} cards/s  (${two.cardMs.toFixed(0)} ms of prep per card)`);
    console.log(`  ratio ${ratio.toFixed(2)}x  goal >= ${(0.8 * 2).toFixed(1)}x  ${ratio >= 1.6 ? 'MET' : 'NOT MET'}`);
  } finally {
    await pcscd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
