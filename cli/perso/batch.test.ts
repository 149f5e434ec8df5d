/** @module Batch card prep over several simulated cards, one worker each, with the manifest checked line by line. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareCard, type PersoResult } from '../../personalization/card-prep.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { directTransport } from '../../host/direct-transport.js';
import { formatBatch, runBatch } from '../../personalization/batch.js';
import { initKeyDirectory, readTrustAnchors } from '../../personalization/key-ceremony.js';
import { loadKey } from '../../keys/key-files.js';
import { Manifest } from '../../personalization/manifest.js';
import { loadPrepareProfile } from '../../personalization/profiles.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { projectPath } from '../project-path.js';
import { createSimCard } from '../sim/create.js';
import { editCardImage } from '../../test/edit-card-image.js';
import { UsageError } from '../output.js';
import { simImageSlots } from './batch-slots.js';
import { runDrmb } from '../../test/run-drmb.js';

describe('batch prep', () => {
  it('prepares every card of 5 slots in parallel, records a line per card, and carries on past a failing card', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-batch-'));
    const keysDir = join(dir, 'keys');
    initKeyDirectory(keysDir);
    const cards = join(dir, 'cards');
    mkdirSync(cards);
    const ids = ['62120000000000002001', '62120000000000002002', '62120000000000002003', '62120000000000002004'];
    for (const id of ids) await createSimCard({ image: join(cards, `${id}.json`), cardId: id, keys: keysDir });
    // A fifth card from another factory: its personalization keys are not ours.
    new SimulatedCard({ manufacture: { cardId: '62120000000000002999' } }).saveToFile(join(cards, 'foreign.json'));

    const profile = loadPrepareProfile(projectPath('examples', 'profiles', 'prepare.json'));
    const env = {};
    const keys = {
      cbMaster: loadKey('cb-master', { dir: keysDir, env }),
      issuanceMaster: loadKey('issuance-master', { dir: keysDir, env }),
      certSigning: loadKey('cert-signing', { dir: keysDir, env }),
      anchors: readTrustAnchors(join(keysDir, 'trust-anchors.json')),
    };
    const manifest = new Manifest(join(dir, 'm.jsonl'));
    const seen: number[] = [];
    const summary = await runBatch(await simImageSlots(cards), (t, slot) => prepareCard(t, profile, keys, { operator: 'batch', manifest, reader: slot }), {
      onProgress: (p) => seen.push(p.done + p.failed + p.skipped),
    });
    expect(summary).toMatchObject({ slots: 5, done: 4, failed: 1, skipped: 0 });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(formatBatch(summary)).toContain('4 done, 0 skipped, 1 failed over 5 slot(s)');

    const lines = manifest.entries();
    expect(lines).toHaveLength(5);
    for (const id of ids) {
      const line = lines.find((l) => l.cardId === id)!;
      expect(line).toMatchObject({ stage: 'prepare', result: 'done', operator: 'batch', profileHash: profile.hash, reader: `simulated card ${id}.json` });
      expect(line.steps.at(-1)).toBe('verify');
      expect(Object.keys(line.kcvs!)).toHaveLength(9);
      expect(SimulatedCard.fromFile(join(cards, `${id}.json`)).memory.state).toBe('PREPARED');
    }
    expect(lines.find((l) => l.cardId === '62120000000000002999')).toMatchObject({ result: 'failed', cryptogramFailure: true });

    // Run again: the prepared cards are reported as skipped; the foreign card is refused without trying.
    const again = await runBatch(await simImageSlots(cards), (t, slot) => prepareCard(t, profile, keys, { operator: 'batch', manifest, reader: slot }));
    expect(again).toMatchObject({ done: 0, skipped: 4, failed: 1 });
    expect(again.items.find((i) => i.result === 'failed')!.error).toMatch(/failed card cryptogram is on record/);
  });
});

describe('batch over a folder of images', () => {
  it('fails the slot of a damaged image alone, naming it, goes on with the others, and never writes the damaged image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-batch-damaged-'));
    const good = join(dir, 'a.json');
    const bad = join(dir, 'b.json');
    new SimulatedCard({ manufacture: { cardId: '62120000000000002101' } }).saveToFile(good);
    writeFileSync(bad, editCardImage(readFileSync(good), (j) => (j.records.state = '1F')));
    const damaged = readFileSync(bad);
    const selected: string[] = [];
    const summary = await runBatch(await simImageSlots(dir), async (t, slot) => {
      const info = await new DrmbCard(t).select();
      selected.push(slot);
      const r: PersoResult = { cardId: info.cardId ?? '?', stage: 'prepare', result: 'done', apdus: 1, durationMs: 0 };
      return r;
    });
    expect(selected).toEqual(['simulated card a.json']);
    expect(summary).toMatchObject({ slots: 2, done: 1, failed: 1 });
    expect(summary.items.find((i) => i.result === 'failed')).toMatchObject({ slot: 'simulated card b.json', error: `card image ${bad} is damaged: checksum mismatch` });
    expect(readFileSync(bad)).toEqual(damaged);
  });

  it('refuses a --sim-dir that does not exist, naming it, as bad input', async () => {
    await expect(simImageSlots('/nonexistent-drmb-dir')).rejects.toThrow(new UsageError('--sim-dir: cannot list /nonexistent-drmb-dir (ENOENT: no such file or folder)'));
  });
});

describe('drmb perso prepare and issue --batch with crypto workers', () => {
  it('prepares and issues every image of a folder with the host crypto and the in-process KGC in worker threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-batch-workers-'));
    const keysDir = join(dir, 'keys');
    initKeyDirectory(keysDir);
    const cards = join(dir, 'cards');
    mkdirSync(cards);
    const ids = ['62120000000000002201', '62120000000000002202', '62120000000000002203'];
    for (const id of ids) await createSimCard({ image: join(cards, `${id}.json`), cardId: id, keys: keysDir });
    writeFileSync(join(dir, 'pin'), '975310\n', { mode: 0o600 });
    const common = ['--batch', '--sim-dir', cards, '--keys', keysDir, '--manifest', join(dir, 'm.jsonl'), '--audit', join(dir, 'a.log'), '--crypto-workers', '2', '--json'];
    const prepared = await runDrmb('perso', 'prepare', ...common);
    expect(prepared.code, prepared.stderr).toBe(0);
    expect(JSON.parse(prepared.stdout)).toMatchObject({ done: 3, failed: 0, slots: 3 });
    const issued = await runDrmb('perso', 'issue', ...common, '--pin-file', join(dir, 'pin'));
    expect(issued.code, issued.stderr).toBe(0);
    expect(JSON.parse(issued.stdout)).toMatchObject({ done: 3, failed: 0, slots: 3 });
    for (const id of ids) {
      const card = new DrmbCard(directTransport(SimulatedCard.fromFile(join(cards, `${id}.json`))));
      expect(await card.select()).toMatchObject({ state: 'ISSUED', cardId: id });
      await card.verifyPin('975310');
    }
  });

  it('refuses a --crypto-workers that is not a number of threads, before any card is touched', async () => {
    const keysDir = join(mkdtempSync(join(tmpdir(), 'drmb-batch-workers-')), 'keys');
    initKeyDirectory(keysDir);
    const r = await runDrmb('perso', 'prepare', '--batch', '--sim-dir', '/nonexistent-drmb-dir', '--keys', keysDir, '--crypto-workers', 'many');
    expect([r.code, r.stderr.trim()]).toEqual([2, 'drmb: --crypto-workers must be a number of threads from 0 to 64 (got many)']);
  });
});
