/**
 * @module Personalization through the real PC/SC stack: `drmb perso prepare` and `issue` on a simulated
 * card served into pcscd's vpcd reader, read back through the host library, and a batch over both
 * vpcd readers with the manifest checked per card. Slow suite; never skipped in CI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIssue } from '../../cli/perso/issue.js';
import { runPrepare } from '../../cli/perso/prepare.js';
import { readerSlots } from '../../cli/perso/batch-slots.js';
import { projectPath } from '../../cli/project-path.js';
import { createSimCard } from '../../cli/sim/create.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { loadPcsc, openReader } from '../../host/pcsc.js';
import { runBatch } from '../../personalization/batch.js';
import { prepareCard } from '../../personalization/card-prep.js';
import { initKeyDirectory, readTrustAnchors } from '../../personalization/key-ceremony.js';
import { loadKey } from '../../keys/key-files.js';
import { Manifest } from '../../personalization/manifest.js';
import { loadPrepareProfile } from '../../personalization/profiles.js';
import { startPcscd, type PcscdHandle } from '../../scripts/pcsc-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { type CardChild, maySkip, missing, READER, READER_2, skipReason, spawnServe, waitReader } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/perso-pcsc.test.ts skipped: ${skipReason}`);

describe.skipIf(maySkip)(`personalization through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 90_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let dir: string;
  const children: CardChild[] = [];
  const PREP = projectPath('examples', 'profiles', 'prepare.json');
  const ISSUE = projectPath('examples', 'profiles', 'issue.json');

  const serve = async (image: string, port: number, reader: string): Promise<CardChild> => {
    const c = spawnServe(image, port);
    children.push(c);
    await c.waitFor(`card inserted in vpcd 127.0.0.1:${port}`, 20_000);
    await waitReader(true, reader);
    return c;
  };
  const quit = async (c: CardChild, reader: string) => {
    await c.quit();
    await waitReader(false, reader);
  };

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    dir = mkdtempSync(join(tmpdir(), 'drmb-perso-pcsc-'));
    initKeyDirectory(join(dir, 'keys'));
    writeFileSync(join(dir, 'pin'), '975310\n', { mode: 0o600 });
    pcscd = await startPcscd();
  }, 90_000);

  afterAll(async () => {
    try {
      for (const c of children) await c.quit();
    } finally {
      await pcscd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('prepares and issues a card in the reader with the same commands as for a simulated image, and reads it back', async () => {
    const image = join(dir, 'a.json');
    await createSimCard({ image, cardId: '62120000000000003001', keys: join(dir, 'keys') });
    const child = await serve(image, 35963, READER);
    const common = { keys: join(dir, 'keys'), manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'desk-1', reader: READER };
    expect(await runPrepare({ ...common, profile: PREP }, false)).toMatchObject({ result: 'done', cardId: '62120000000000003001', source: `PC/SC ${READER}` });
    expect(await runIssue({ ...common, profile: ISSUE, pinFile: join(dir, 'pin') }, false)).toMatchObject({ result: 'done', identity: '62120000000000003001|2036' });
    const t = await openReader(READER);
    try {
      const card = new DrmbCard(t);
      expect(await card.select()).toMatchObject({ state: 'ISSUED', cardId: '62120000000000003001' });
      expect(await card.getData('ibcIdentity')).toBe('62120000000000003001|2036');
      await card.verifyPin('975310');
    } finally {
      await t.close();
    }
    await quit(child, READER);
    // serve saved the image on exit: the card keeps what was written through the reader
    expect(SimulatedCard.fromFile(image).memory.state).toBe('ISSUED');
  });

  it('runs a batch over both vpcd readers, one worker each, with a manifest line per card', async () => {
    const ids = ['62120000000000003101', '62120000000000003102'];
    const images = ids.map((id) => join(dir, `${id}.json`));
    for (const [i, id] of ids.entries()) await createSimCard({ image: images[i], cardId: id, keys: join(dir, 'keys') });
    const c1 = await serve(images[0], 35963, READER);
    const c2 = await serve(images[1], 35964, READER_2);
    const env = {};
    const k = { dir: join(dir, 'keys'), env };
    const keys = { cbMaster: loadKey('cb-master', k), issuanceMaster: loadKey('issuance-master', k), certSigning: loadKey('cert-signing', k), anchors: readTrustAnchors(join(dir, 'keys', 'trust-anchors.json')) };
    const manifest = new Manifest(join(dir, 'batch.jsonl'));
    const profile = loadPrepareProfile(PREP);
    const summary = await runBatch(await readerSlots('Virtual PCD', 50), (t, slot) => prepareCard(t, profile, keys, { operator: 'bureau', manifest, reader: slot }), { limit: 2 });
    expect(summary).toMatchObject({ slots: 2, done: 2, failed: 0 });
    const lines = manifest.entries();
    expect(lines.map((l) => [l.cardId, l.reader, l.result]).sort()).toEqual([
      [ids[0], READER, 'done'],
      [ids[1], READER_2, 'done'],
    ]);
    await quit(c1, READER);
    await quit(c2, READER_2);
  });
});
