/**
 * @module Benchmark of batch card prep through PC/SC: cards per second over both vpcd readers against
 * one reader, in the same run. The cards are served by one multi-slot `drmb sim serve --slots 2`, each
 * slot's card in a worker thread of its own, as each real card computes on its own chip; each next
 * card goes into its reader with `slot K load` and leaves with `slot K remove`, pcscd seeing both. The
 * blank images are made before the clock starts, as cards come blank from their manufacturer. Per
 * card: prep wall time, host CPU, the card's own CPU (from the slot's `work` line) and APDUs. Skips with
 * the reason when pcscd / vpcd are not installed.
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
import { connectControl, type ControlClient } from '../cli/sim/serve-control.js';
import type { Benchmark } from './harness.js';

/** Per card: wall ms of its prep, the host CPU ms the process spent meanwhile, and the card's own APDUs and ms. */
interface CardFigures {
  wallMs: number;
  hostCpuMs: number;
  cardMs: number;
  apdus: number;
}

/** "13 APDUs in 4.2 ms of card time ..." from a slot's `work` answer. */
function cardWork(status: string): { apdus: number; cardMs: number } {
  const m = /(\d+) APDUs in ([\d.]+) ms of card time/.exec(status);
  if (!m) throw new Error(`status without the card's work: ${status}`);
  return { apdus: Number(m[1]), cardMs: Number(m[2]) };
}

export const persoPcscBench: Benchmark = {
  name: 'perso-pcsc',
  title: 'batch card prep through PC/SC: 2 vpcd readers against 1, card insertion and removal included',
  pcsc: true,
  async run(b) {
    if (missing.length) return b.skip(skipReason);
    /** Cards prepared per reader per round. */
    const cardsPerReader = b.size(6, 1);
    const dir = mkdtempSync(join(tmpdir(), 'drmb-perso-pcsc-bench-'));
    let pcscd: PcscdHandle | undefined;
    let serve: CardChild | undefined;
    let control: ControlClient | undefined;
    try {
      initKeyDirectory(join(dir, 'keys'));
      const env = {};
      const k = { dir: join(dir, 'keys'), env };
      const keys = { cbMaster: loadKey('cb-master', k), issuanceMaster: loadKey('issuance-master', k), certSigning: loadKey('cert-signing', k), anchors: readTrustAnchors(join(dir, 'keys', 'trust-anchors.json')) };
      const profile = loadPrepareProfile(projectPath('examples', 'profiles', 'prepare.json'));
      // The cards come blank from the manufacturer: their images are made before the clock starts.
      const blanks: string[] = [];
      for (let i = 1; i <= 4 * cardsPerReader; i++) {
        const image = join(dir, `${i}.json`);
        await createSimCard({ image, cardId: `6212${String(i).padStart(16, '0')}`, keys: join(dir, 'keys') });
        blanks.push(image);
      }
      pcscd = await startPcscd();
      // One multi-slot serve for every card (drmb sim serve --slots 2): a card goes into its reader with
      // `slot K load`, as a card is put into a reader, without a process started for it.
      const socket = join(dir, 'serve.sock');
      serve = spawnServe(join(dir, 'first.json'), 35963, ['--slots', '2', '--control-socket', socket]);
      await serve.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
      await serve.waitFor('card inserted in vpcd 127.0.0.1:35964', 20_000);
      control = await connectControl(socket);
      const ctl = control;
      for (const [slot, reader] of [READER, READER_2].entries()) {
        await ctl.request(`slot ${slot} remove`);
        await waitReader(false, reader);
      }
      /** One reader slot that takes `cardsPerReader` blank cards, one after the other. */
      const slot = async (reader: string, index: number, figures: CardFigures[]): Promise<CardSlot & { slot: number }> => {
        const [base] = await readerSlots(reader, 20);
        let left = cardsPerReader;
        return {
          name: reader,
          slot: index,
          async nextCard(signal) {
            if (left-- <= 0) return undefined;
            await ctl.request(`slot ${index} load ${blanks.shift()!}`);
            return base.nextCard(signal);
          },
          async release(t) {
            await base.release(t);
            const work = cardWork(await ctl.request(`slot ${index} work`));
            Object.assign(figures[figures.length - 1], work);
            await ctl.request(`slot ${index} remove`);
            await waitReader(false, reader);
          },
        };
      };
      const rate = async (readers: string[]): Promise<{ perSecond: number; cards: CardFigures[]; hostCpuMs: number }> => {
        const cards: CardFigures[] = [];
        const slots = await Promise.all(readers.map((r, i) => slot(r, i, cards)));
        const cpu0 = process.cpuUsage();
        const summary = await runBatch(slots, async (t) => {
          const t0 = performance.now();
          const c0 = process.cpuUsage();
          const r = await prepareCard(t, profile, keys, { operator: 'bench' });
          const c = process.cpuUsage(c0);
          cards.push({ wallMs: performance.now() - t0, hostCpuMs: (c.user + c.system) / 1000, cardMs: 0, apdus: 0 });
          return r;
        });
        if (summary.failed) throw new Error(`batch failed: ${summary.items.map((i) => i.error).join('; ')}`);
        const cpu = process.cpuUsage(cpu0);
        return { perSecond: (summary.done * 1000) / summary.elapsedMs, cards, hostCpuMs: (cpu.user + cpu.system) / 1000 / summary.done };
      };
      await rate([READER]); // warm-up: the first cards of each slot worker compile its code
      const one = await rate([READER]);
      const two = await rate([READER, READER_2]);
      b.log('Batch prep through PC/SC (card insertion and removal included), 2 readers against 1 (same run), one multi-slot serve');
      const r1 = b.record('one-reader', '1 reader', one.perSecond, 'cards/s');
      const r2 = b.record('two-readers', '2 readers', two.perSecond, 'cards/s');
      b.ratio(r2, r1);
      b.log('Per card, 1 reader (medians): wall, host CPU, card CPU, APDUs');
      b.recordMedian('prep-ms-one-reader', 'prep wall time per card, 1 reader', one.cards.map((c) => c.wallMs));
      b.recordMedian('host-cpu-ms-one-reader', 'host CPU per card (process, main thread and workers)', one.cards.map((c) => c.hostCpuMs));
      b.recordMedian('card-ms-one-reader', "card CPU per card (the card's own time on its APDUs)", one.cards.map((c) => c.cardMs));
      b.record('apdus-per-card', 'APDUs per card', one.cards[0].apdus, 'APDUs');
      b.log('Per card, 2 readers (medians; host CPU is the batch total per card, the readers overlap)');
      b.recordMedian('prep-ms-two-readers', 'prep wall time per card, 2 readers', two.cards.map((c) => c.wallMs));
      b.record('host-cpu-ms-two-readers', 'host CPU per card, 2 readers (batch total / cards)', two.hostCpuMs, 'ms');
      b.recordMedian('card-ms-two-readers', 'card CPU per card, 2 readers', two.cards.map((c) => c.cardMs));
    } finally {
      control?.close();
      await serve?.quit();
      await pcscd?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
