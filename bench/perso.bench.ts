/**
 * @module Benchmark of personalization on simulated cards: APDUs and milliseconds per card for prep and
 * for issuance, and batch throughput over 4 in-process cards against one in the same run (in-process
 * cards share the host's one thread, so this shows the host-side ceiling; the reader-parallel goal is
 * perso-pcsc's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../cli/project-path.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack } from '../host/transport.js';
import { cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { loadKey } from '../keys/key-files.js';
import { runBatch, type CardSlot } from '../personalization/batch.js';
import { issueCard, prepareCard } from '../personalization/card-prep.js';
import { inProcessKgc } from '../personalization/kgc.js';
import { initKeyDirectory, readTrustAnchors } from '../personalization/key-ceremony.js';
import { loadIssueProfile, loadPrepareProfile } from '../personalization/profiles.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import type { Benchmark } from './harness.js';

export const persoBench: Benchmark = {
  name: 'perso',
  title: 'card prep and issuance of in-process simulated cards: APDUs, time, batch throughput',
  async run(b) {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-perso-bench-'));
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
      const ctx = { operator: 'bench' };

      // Per card: prep then issuance, APDUs and time of each (median over the cards).
      const prepMs: number[] = [];
      const issueMs: number[] = [];
      let prepApdus = 0;
      let issueApdus = 0;
      for (let i = 0, n = b.size(7, 1); i < n; i++) {
        const t = stack(directTransport(blank()), getResponse());
        const a = await prepareCard(t, prep, prepKeys, ctx);
        const c = await issueCard(t, issue, {}, '135790', issueKeys, ctx);
        prepMs.push(a.durationMs);
        issueMs.push(c.durationMs);
        prepApdus = a.apdus;
        issueApdus = c.apdus;
      }
      b.log('Personalization of one simulated card (in-process)');
      b.recordMedian('prep-ms', 'prep, time per card', prepMs);
      b.recordMedian('issue-ms', 'issuance, time per card', issueMs);
      b.record('prep-apdus', 'prep, APDUs per card', prepApdus, 'APDUs');
      b.record('issue-apdus', 'issuance, APDUs per card', issueApdus, 'APDUs');
      b.record('apdus-per-card', 'prep + issuance, APDUs per card', prepApdus + issueApdus, 'APDUs');

      // Batch: cards per second with 1 slot and with 4 slots, each slot preparing the same number of cards.
      const perSlot = b.size(3, 1);
      const rate = async (slotsCount: number): Promise<number> => {
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
        const summary = await runBatch(slots, (t) => prepareCard(t, prep, prepKeys, ctx));
        if (summary.failed) throw new Error(`batch failed: ${summary.items.map((i) => i.error).join('; ')}`);
        return (summary.done * 1000) / summary.elapsedMs;
      };
      b.log('Batch prep throughput, 4 in-process cards against 1 (same run; informational: they share the host thread)');
      const one = b.record('batch-1-slot', '1 slot', await rate(1), 'cards/s');
      const four = b.record('batch-4-slots', '4 slots', await rate(4), 'cards/s');
      b.ratio(four, one);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
