/**
 * @module Benchmark of personalization on simulated cards. Per card, one at a time: wall time, host CPU
 * (the main thread's busy time, event-loop utilisation, less the time inside the card, plus the crypto
 * pool's task time), card CPU (time inside the card's transmit) and APDUs, for prep and for issuance,
 * with the host crypto in this thread and in a PersoCryptoPool. Batch throughput of prep: 4 in-process
 * cards against 1 (they share the host's one thread, so this shows the host-side ceiling), the same 4
 * with the host crypto in a pool of N workers (what `drmb perso prepare --batch --sim-dir` does), and
 * N worker cards (one worker thread per card, workerCardTransport) against 1 with that pool, N the
 * cores; all informational: the main thread, N cards and N pool workers share N cores, and one
 * worker card alone waits on a message hop per APDU.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectPath } from '../cli/project-path.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack } from '../host/transport.js';
import { allCores } from '../io/worker-pool.js';
import { cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { loadKey } from '../keys/key-files.js';
import { runBatch, type BatchSummary, type CardSlot } from '../personalization/batch.js';
import { issueCard, type PersoContext, type PersoResult, prepareCard } from '../personalization/card-prep.js';
import { inProcessKgc } from '../personalization/kgc.js';
import { initKeyDirectory, readTrustAnchors } from '../personalization/key-ceremony.js';
import { PersoCryptoPool } from '../personalization/perso-crypto-pool.js';
import { loadIssueProfile, loadPrepareProfile } from '../personalization/profiles.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { workerCardTransport, type WorkerCardTransport } from '../host/worker-card-transport.js';
import { simulatedCardWorker } from '../simulator/simulated-card-worker.js';
import type { Benchmark, BenchRun } from './harness.js';

/** One stage on one card: its wall time, the host's busy time (main thread less the card, plus the pool), the card's own time, and APDUs. */
interface StageFigures {
  wallMs: number;
  hostCpuMs: number;
  cardMs: number;
  apdus: number;
}

/**
 * A meter of the host's busy milliseconds from now: the main thread's event-loop activity (in-process
 * cards included: the caller subtracts their time) and the task time of `pool`'s workers.
 */
function hostMeter(pool?: PersoCryptoPool): () => number {
  const elu0 = performance.eventLoopUtilization();
  const pool0 = pool?.usage.workerMs ?? 0;
  return () => performance.eventLoopUtilization(elu0).active + (pool ? pool.usage.workerMs - pool0 : 0);
}

/** Records the medians of one stage's per-card figures under `id`-prefixed names. */
function recordStage(b: BenchRun, id: string, label: string, figures: StageFigures[]): void {
  b.recordMedian(`${id}-ms`, `${label}, wall time per card`, figures.map((f) => f.wallMs));
  b.recordMedian(`${id}-host-cpu-ms`, `${label}, host CPU per card (main thread + pool)`, figures.map((f) => f.hostCpuMs));
  b.recordMedian(`${id}-card-ms`, `${label}, card CPU per card (inside transmit)`, figures.map((f) => f.cardMs));
}

/** Cards per second of a batch that must not have failed. */
function ratePerSecond(summary: BatchSummary): number {
  if (summary.failed) throw new Error(`batch failed: ${summary.items.map((i) => i.error).join('; ')}`);
  return (summary.done * 1000) / summary.elapsedMs;
}

const median = (xs: number[]): number => [...xs].sort((a, c) => a - c)[xs.length >> 1];

export const persoBench: Benchmark = {
  name: 'perso',
  title: 'card prep and issuance of simulated cards: per-card wall, host CPU, card CPU and APDUs; batch throughput in process and over worker cards',
  async run(b) {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-perso-bench-'));
    const cores = allCores();
    let pool: PersoCryptoPool | undefined;
    const workerCards: WorkerCardTransport[] = [];
    try {
      initKeyDirectory(join(dir, 'keys'));
      const env = {};
      const k = { dir: join(dir, 'keys'), env };
      const anchors = readTrustAnchors(join(dir, 'keys', 'trust-anchors.json'));
      const prepKeys = { cbMaster: loadKey('cb-master', k), issuanceMaster: loadKey('issuance-master', k), certSigning: loadKey('cert-signing', k), anchors };
      const issueKeys = {
        issuanceMaster: prepKeys.issuanceMaster,
        kgc: inProcessKgc({ signPrivateKey: loadKey('kgc-sign', k).secret.privateKey, encryptPrivateKey: loadKey('kgc-encrypt', k).secret.privateKey }, anchors),
        anchors,
      };
      const prep = loadPrepareProfile(projectPath('examples', 'profiles', 'prepare.json'));
      const issue = loadIssueProfile(projectPath('examples', 'profiles', 'issue.json'));
      let serial = 0;
      const blank = () => {
        const cardId = `6212${String(++serial).padStart(16, '0')}`;
        return new SimulatedCard({ manufacture: { cardId, personalizationKeys: cardScpKeys(prepKeys.cbMaster, cardIdToBytes(cardId)) } });
      };
      const ctx: PersoContext = { operator: 'bench' };

      // Per card, one at a time: prep then issuance of an in-process card, the card's time counted inside its transmit.
      const perCard = async (cardCtx: PersoContext, cards: number) => {
        const stages = { prep: [] as StageFigures[], issue: [] as StageFigures[] };
        for (let i = 0; i < cards; i++) {
          const sim = blank();
          let cardMs = 0;
          const timed = {
            transmit(command: Uint8Array): Uint8Array {
              const t0 = performance.now();
              try {
                return sim.transmit(command);
              } finally {
                cardMs += performance.now() - t0;
              }
            },
          };
          const t = stack(directTransport(timed), getResponse());
          const stage = async (figures: StageFigures[], run: () => Promise<PersoResult>): Promise<void> => {
            cardMs = 0;
            const host = hostMeter(pool);
            const t0 = performance.now();
            const r = await run();
            const wallMs = performance.now() - t0;
            figures.push({ wallMs, hostCpuMs: host() - cardMs, cardMs, apdus: r.apdus });
          };
          await stage(stages.prep, () => prepareCard(t, prep, prepKeys, cardCtx));
          await stage(stages.issue, () => issueCard(t, issue, {}, '135790', issueKeys, cardCtx));
        }
        return stages;
      };
      const n = b.size(7, 2);
      const inThread = await perCard(ctx, n);
      const prepApdus = inThread.prep[0].apdus;
      const issueApdus = inThread.issue[0].apdus;
      b.log('Personalization of one simulated card (in-process), host crypto in this thread');
      b.recordMedian('prep-ms', 'prep, time per card', inThread.prep.map((f) => f.wallMs));
      b.recordMedian('issue-ms', 'issuance, time per card', inThread.issue.map((f) => f.wallMs));
      b.recordMedian('prep-host-cpu-ms', 'prep, host CPU per card', inThread.prep.map((f) => f.hostCpuMs));
      b.recordMedian('prep-card-ms', 'prep, card CPU per card (inside transmit)', inThread.prep.map((f) => f.cardMs));
      b.recordMedian('issue-host-cpu-ms', 'issuance, host CPU per card', inThread.issue.map((f) => f.hostCpuMs));
      b.recordMedian('issue-card-ms', 'issuance, card CPU per card (inside transmit)', inThread.issue.map((f) => f.cardMs));
      b.record('prep-apdus', 'prep, APDUs per card', prepApdus, 'APDUs');
      b.record('issue-apdus', 'issuance, APDUs per card', issueApdus, 'APDUs');
      b.record('apdus-per-card', 'prep + issuance, APDUs per card', prepApdus + issueApdus, 'APDUs');

      // Batch: cards per second with 1 slot and with 4 slots, each slot preparing the same number of cards.
      const rate = async (slotsCount: number, perSlot: number, cardCtx: PersoContext = ctx): Promise<number> => {
        const slots: CardSlot[] = Array.from({ length: slotsCount }, (_, s) => {
          let left = perSlot;
          return {
            name: `sim ${s}`,
            async nextCard() {
              return left-- > 0 ? stack(directTransport(blank()), getResponse()) : undefined;
            },
            async release() {},
          };
        });
        return ratePerSecond(await runBatch(slots, (t) => prepareCard(t, prep, prepKeys, cardCtx)));
      };
      const perSlot = b.size(10, 1);
      await rate(4, perSlot); // warm-up
      b.log('Batch prep throughput, 4 in-process cards against 1 (same run; informational: they share the host thread)');
      const one = b.record('batch-1-slot', '1 slot', await rate(1, perSlot), 'cards/s');
      const four = b.record('batch-4-slots', '4 slots', await rate(4, perSlot), 'cards/s');
      b.ratio(four, one);

      // Started only now, so that its workers' start does not share the cores with the figures above.
      pool = new PersoCryptoPool({ size: cores });
      const crypto = pool;
      // Warm-up: each worker of the pool compiles its code, over a few dozen cards.
      for (let i = 0, rounds = b.size(3, 1); i < rounds; i++) await rate(4, perSlot, { ...ctx, crypto });
      // What drmb perso prepare --batch --sim-dir does: in-process cards, the host crypto in the pool.
      const fourPooled = b.record('batch-4-slots-pool', `4 slots, host crypto in a pool of ${cores} workers`, await rate(4, perSlot, { ...ctx, crypto }), 'cards/s');
      b.ratio(fourPooled, one);

      await perCard({ ...ctx, crypto }, n); // warm-up of the issuance tasks (the KGC's) in the pool
      const inPool = await perCard({ ...ctx, crypto }, n);
      b.log(`Personalization of one simulated card (in-process), host crypto in a pool of ${cores} workers`);
      recordStage(b, 'pool-prep', 'prep', inPool.prep);
      recordStage(b, 'pool-issue', 'issuance', inPool.issue);

      // Worker cards: each slot's card computes in a worker thread of its own, the host's crypto in the pool,
      // the host's thread only talking to the cards. Blank images are made before the clock starts, as
      // cards come blank from their manufacturer; each next card goes into its slot's worker (insert).
      for (let s = 0; s < cores; s++) workerCards.push(await workerCardTransport(simulatedCardWorker, { image: blank().toImage() }, { description: `worker card ${s}` }));
      const workerRate = async (slotsCount: number, cardsPerSlot: number) => {
        const blanks = Array.from({ length: slotsCount * cardsPerSlot }, () => blank().toImage());
        const cards = workerCards.slice(0, slotsCount);
        const slots: CardSlot[] = cards.map((w) => {
          let left = cardsPerSlot;
          return {
            name: w.description,
            async nextCard() {
              if (left-- <= 0) return undefined;
              await w.insert({ image: blanks.shift()! });
              return stack(w, getResponse());
            },
            async release() {},
          };
        });
        const card0 = cards.map((w) => ({ ms: w.cardMs, apdus: w.apdus }));
        const host = hostMeter(crypto);
        const summary = await runBatch(slots, (t) => prepareCard(t, prep, prepKeys, { ...ctx, crypto }));
        const hostMs = host();
        const cardMs = cards.reduce((sum, w, i) => sum + w.cardMs - card0[i].ms, 0);
        const apdus = cards.reduce((sum, w, i) => sum + w.apdus - card0[i].apdus, 0);
        return { perSecond: ratePerSecond(summary), wallMs: summary.items.map((i) => i.ms), hostCpuMs: hostMs / summary.done, cardMs: cardMs / summary.done, apdus: apdus / summary.done };
      };
      // Warm-up: every card worker and pool worker compiles its code. Then 1 card and N cards in turn,
      // a few times, each rate the median of its runs.
      for (let i = 0, rounds = b.size(3, 1); i < rounds; i++) await workerRate(cores, b.size(6, 1));
      const cardsPerWorker = b.size(16, 1);
      const rates = { one: [] as number[], n: [] as number[] };
      let last: Awaited<ReturnType<typeof workerRate>> | undefined;
      for (let i = 0, reps = b.size(3, 1); i < reps; i++) {
        rates.one.push((await workerRate(1, cardsPerWorker)).perSecond);
        last = await workerRate(cores, cardsPerWorker);
        rates.n.push(last.perSecond);
      }
      b.log(`Batch prep throughput, ${cores} worker cards against 1 (same run, median of ${rates.one.length}), host crypto in a pool of ${cores} workers (informational)`);
      const r1 = b.record('worker-batch-1-card', '1 worker card', median(rates.one), 'cards/s');
      const rn = b.record('worker-batch-n-cards', `${cores} worker cards (one per core)`, median(rates.n), 'cards/s');
      b.ratio(rn, r1);
      b.log(`Per card, ${cores} worker cards, last run (wall: median; host and card CPU: batch totals / cards)`);
      b.recordMedian('worker-prep-ms', 'prep wall time per card', last!.wallMs);
      b.record('worker-prep-host-cpu-ms', 'host CPU per card (main thread + pool)', last!.hostCpuMs, 'ms');
      b.record('worker-prep-card-ms', "card CPU per card (the card worker's time in transmit)", last!.cardMs, 'ms');
      b.record('worker-prep-apdus', 'APDUs per card', Math.round(last!.apdus), 'APDUs');
    } finally {
      await Promise.all(workerCards.map((w) => w.close()));
      await pool?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
