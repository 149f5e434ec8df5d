/**
 * @module Benchmark of personalization on simulated cards: APDUs and milliseconds per card for prep
 * and for issuance (goal: at most 25 APDUs for both), and batch throughput over N in-process cards
 * against one, measured in the same run (goal: N cards give at least 0.8 N times one card's rate;
 * in-process cards share the host's one thread, so this shows the host-side ceiling).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack } from '../host/transport.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { runBatch, type CardSlot } from './batch.js';
import { cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { issueCard, prepareCard } from './card-prep.js';
import { initKeyDirectory, readTrustAnchors } from './key-ceremony.js';
import { loadKey } from '../keys/key-files.js';
import { loadIssueProfile, loadPrepareProfile } from './profiles.js';
import { projectPath } from '../cli/project-path.js';

export default async function (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-perso-bench-'));
  initKeyDirectory(join(dir, 'keys'));
  const env = {};
  const k = { dir: join(dir, 'keys'), env };
  const anchors = readTrustAnchors(join(dir, 'keys', 'trust-anchors.json'));
  const prepKeys = { cbMaster: loadKey('cb-master', k), issuanceMaster: loadKey('issuance-master', k), certSigning: loadKey('cert-signing', k), anchors };
  const issueKeys = {
    issuanceMaster: prepKeys.issuanceMaster,
    kgc: { signPrivateKey: loadKey('kgc-sign', k).secret.privateKey, encryptPrivateKey: loadKey('kgc-encrypt', k).secret.privateKey },
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

  // Per card: prep then issuance, APDUs and time of each (median of 7 cards).
  const prepMs: number[] = [];
  const issueMs: number[] = [];
  let prepApdus = 0;
  let issueApdus = 0;
  for (let i = 0; i < 7; i++) {
    const t = stack(directTransport(blank()), getResponse());
    const a = await prepareCard(t, prep, prepKeys, ctx);
    const b = await issueCard(t, issue, {}, '135790', issueKeys, ctx);
    prepMs.push(a.durationMs);
    issueMs.push(b.durationMs);
    prepApdus = a.apdus;
    issueApdus = b.apdus;
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1];
  console.log('Personalization of one simulated card (in-process)');
  console.log(`  prep      ${String(prepApdus).padStart(3)} APDUs  ${median(prepMs).toFixed(1).padStart(7)} ms`);
  console.log(`  issuance  ${String(issueApdus).padStart(3)} APDUs  ${median(issueMs).toFixed(1).padStart(7)} ms`);
  console.log(`  both      ${String(prepApdus + issueApdus).padStart(3)} APDUs  goal <= 25  ${prepApdus + issueApdus <= 25 ? 'MET' : 'NOT MET'}`);

  // Batch: cards per second with 1 slot and with 4 slots, each slot preparing 3 cards.
  const rate = async (slotsCount: number): Promise<number> => {
    const slots: CardSlot[] = Array.from({ length: slotsCount }, (_, s) => {
      let left = 3;
      return {
        name: `sim ${s}`,
        async nextCard() {
          return left-- > 0 ? stack(directTransport(blank()), getResponse()) : undefined;
        },
        async release() {},
      };
    });
    const summary = await runBatch(slots, (t) => prepareCard(t, prep, prepKeys, ctx));
    return (summary.done * 1000) / summary.elapsedMs;
  };
  const one = await rate(1);
  const four = await rate(4);
  const ratio = four / one;
  console.log('Batch prep throughput, 4 in-process cards against 1 (same run)');
  console.log(`  1 slot    ${one.toFixed(2)} cards/s`);
  console.log(`  4 slots   ${four.toFixed(2)} cards/s`);
  console.log(`  ratio ${ratio.toFixed(2)}x  goal >= ${(0.8 * 4).toFixed(1)}x  ${ratio >= 3.2 ? 'MET' : 'NOT MET (in-process cards share the host thread; the reader-parallel PC/SC batch benchmark is not written yet)'}`);
}
