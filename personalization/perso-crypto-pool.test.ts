/**
 * @module Tests of PersoCryptoPool: the host's per-card computation in worker threads gives the same
 * bytes as in the calling thread (STORE DATA scripts and card images of prep and issuance, random
 * values fixed by a known-answer seed), fails a computation with the same message, and a worker that
 * stops fails its card in a batch's summary instead of hanging it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack } from '../host/transport.js';
import { cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { type KeyKind, loadKey } from '../keys/key-files.js';
import { projectPath } from '../cli/project-path.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { sm3 } from '../crypto/sm3.js';
import { uintToBytes } from '../base/bytes.js';
import { runBatch, type CardSlot } from './batch.js';
import { issueCard, type IssueKeys, prepareCard, type PrepareKeys } from './card-prep.js';
import { inProcessKgc } from './kgc.js';
import { initKeyDirectory, readTrustAnchors } from './key-ceremony.js';
import { Manifest } from './manifest.js';
import { inThreadPersoCrypto, type PersoCrypto, type StagePlan } from './perso-crypto.js';
import { PersoCryptoPool } from './perso-crypto-pool.js';
import { loadIssueProfile, loadPrepareProfile } from './profiles.js';

const SEED = new TextEncoder().encode('perso-crypto-pool known-answer test');
const prep = loadPrepareProfile(projectPath('examples', 'profiles', 'prepare.json'));
const issue = loadIssueProfile(projectPath('examples', 'profiles', 'issue.json'));
let dir: string;
let prepKeys: PrepareKeys;
let issueKeys: IssueKeys;
let pool: PersoCryptoPool;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-perso-crypto-'));
  initKeyDirectory(join(dir, 'keys'));
  const k = <K extends KeyKind>(kind: K) => loadKey(kind, { dir: join(dir, 'keys'), env: {} });
  const anchors = readTrustAnchors(join(dir, 'keys', 'trust-anchors.json'));
  prepKeys = { cbMaster: k('cb-master'), issuanceMaster: k('issuance-master'), certSigning: k('cert-signing'), anchors };
  issueKeys = { issuanceMaster: prepKeys.issuanceMaster, kgc: inProcessKgc({ signPrivateKey: k('kgc-sign').secret.privateKey, encryptPrivateKey: k('kgc-encrypt').secret.privateKey }, anchors), anchors };
  pool = new PersoCryptoPool({ size: 2 });
}, 60_000);

afterAll(() => pool.close());

/** The card's own randomness from a counter, so that two cards given the same commands answer the same bytes. */
function countingRandom(): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => sm3(uintToBytes(counter++, 4)).slice(0, n);
}

function blankCard(cardId: string): SimulatedCard {
  return new SimulatedCard({ random: countingRandom(), manufacture: { cardId, personalizationKeys: cardScpKeys(prepKeys.cbMaster, cardIdToBytes(cardId)) } });
}

const transportOf = (card: SimulatedCard) => stack(directTransport(card), getResponse());

/** `crypto` with the known-answer seed fixing its random values, keeping the STORE DATA commands of each plan it makes. */
function seeded(crypto: PersoCrypto, scripts: string[][]): PersoCrypto {
  const kept = (plan: StagePlan) => {
    scripts.push(plan.steps.map((s) => hex(s.apdu)));
    return plan;
  };
  return {
    preparePlan: async (cardId, profile, keys) => kept(await crypto.preparePlan(cardId, profile, keys, { knownAnswerSeed: SEED })),
    issuePlan: async (input, master) => kept(await crypto.issuePlan(input, master)),
    verifyCertificate: (value, certSigning, cardId) => crypto.verifyCertificate(value, certSigning, cardId),
    kgcAnswer: (master, anchors, request, today) => crypto.kgcAnswer(master, anchors, request, today, { knownAnswerSeed: SEED }),
  };
}

describe('PersoCryptoPool', () => {
  it('prepares and issues a card with the same STORE DATA script and the same card image as the calling thread', async () => {
    const cardId = '62120000000000003001';
    const runs = [];
    for (const crypto of [inThreadPersoCrypto, pool]) {
      const scripts: string[][] = [];
      const card = blankCard(cardId);
      const ctx = { operator: 'tester', crypto: seeded(crypto, scripts) };
      const prepared = await prepareCard(transportOf(card), prep, prepKeys, ctx);
      const preparedImage = hex(card.toImage());
      const issued = await issueCard(transportOf(card), issue, { phone: '13800000000' }, '246810', issueKeys, ctx);
      expect([prepared.result, issued.result, card.memory.state]).toEqual(['done', 'done', 'ISSUED']);
      runs.push({ scripts, kcvs: prepared.kcvs, preparedImage, issuedImage: hex(card.toImage()), apdus: [prepared.apdus, issued.apdus] });
    }
    const [inThread, inPool] = runs;
    expect(inThread.scripts).toHaveLength(2);
    expect(inPool.scripts).toEqual(inThread.scripts);
    expect(inPool.kcvs).toEqual(inThread.kcvs);
    expect(inPool.apdus).toEqual(inThread.apdus);
    expect(inPool.preparedImage).toBe(inThread.preparedImage);
    expect(inPool.issuedImage).toBe(inThread.issuedImage);
  });

  it('counts the tasks it answered and the time its workers spent on them', async () => {
    const before = pool.usage;
    await pool.preparePlan('62120000000000003002', prep.profile, prepKeys);
    expect(pool.usage.tasks).toBe(before.tasks + 1);
    expect(pool.usage.workerMs).toBeGreaterThan(before.workerMs);
  });

  it('fails a computation with the message the calling thread gives', async () => {
    const { certSigning } = prepKeys.anchors;
    const card = blankCard('62120000000000003003');
    await prepareCard(transportOf(card), prep, prepKeys, { operator: 'tester' });
    const value = (await new DrmbCard(transportOf(card)).getData('cardCertificate')) as Uint8Array;
    const inThread = await inThreadPersoCrypto.verifyCertificate(value, certSigning, '62120000000000009999').catch((e: Error) => e.message);
    const inPool = await pool.verifyCertificate(value, certSigning, '62120000000000009999').catch((e: Error) => e.message);
    expect(inThread).toBe('card certificate: is for card 62120000000000003003, not 62120000000000009999');
    expect(inPool).toBe(inThread);
  });
});

describe('a batch with a crypto pool', () => {
  it('records a card whose crypto pool stopped as failed, naming the card and the pool, leaves it BLANK, and ends', async () => {
    const ids = ['62120000000000003101', '62120000000000003102', '62120000000000003103'];
    const cards = ids.map(blankCard);
    let next = 0;
    const slot: CardSlot = { name: 'sim', nextCard: async () => (next < cards.length ? transportOf(cards[next++]) : undefined), release: async () => {} };
    const manifest = new Manifest(join(dir, 'stopped.jsonl'));
    let job = 0;
    const summary = await runBatch(
      [slot],
      (t, _slot, crypto) => {
        let c: PersoCrypto | undefined = crypto;
        if (++job === 2) {
          // The pool stops just before the second card's plan is asked of it (stopping it while the
          // worker computes would race with the worker's answer).
          const p = crypto!;
          c = {
            preparePlan: async (...a) => {
              await p.close();
              return p.preparePlan(...a);
            },
            issuePlan: (...a) => p.issuePlan(...a),
            verifyCertificate: (...a) => p.verifyCertificate(...a),
            kgcAnswer: (...a) => p.kgcAnswer(...a),
          };
        }
        return prepareCard(t, prep, prepKeys, { operator: 'batch', manifest, crypto: c });
      },
      { cryptoWorkers: 1 },
    );
    expect(summary).toMatchObject({ done: 1, failed: 2, skipped: 0 });
    expect(summary.items.map((i) => [i.cardId, i.result, i.error])).toEqual([
      [ids[0], 'done', undefined],
      [ids[1], 'failed', `card ${ids[1]}: the host crypto worker failed (worker pool is closed)`],
      [ids[2], 'failed', `card ${ids[2]}: the host crypto worker failed (worker pool is closed)`],
    ]);
    expect(cards.map((c) => c.memory.state)).toEqual(['PREPARED', 'BLANK', 'BLANK']);
    expect(manifest.entries().map((l) => [l.cardId, l.result])).toEqual([
      [ids[0], 'done'],
      [ids[1], 'failed'],
      [ids[2], 'failed'],
    ]);
  });
});
