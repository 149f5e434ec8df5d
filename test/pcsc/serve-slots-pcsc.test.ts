/**
 * @module `drmb sim serve --slots 2` through the real PC/SC stack: one process serves a card into each
 * of vpcd's two readers, each answering with its own card ID; `slot 1 remove` and `slot 1 load PATH`
 * take the card out of "Virtual PCD 00 01" and put another in, which pcscd sees as a removal and an
 * insertion while the card in "Virtual PCD 00 00" stays connected; `quit` saves both images.
 * Never skipped in CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimCard } from '../../cli/sim/create.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { loadPcsc, openReader } from '../../host/pcsc.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { startPcscd, type PcscdHandle } from '../../scripts/pcsc-harness.js';
import { type CardChild, maySkip, missing, READER, READER_2, skipReason, spawnServe, waitReader } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/serve-slots-pcsc.test.ts skipped: ${skipReason}`);

/** The card ID of the blank card in `reader` (GET DATA: a blank card's FCI has none yet). */
async function cardIdIn(reader: string): Promise<string> {
  const t = await openReader(reader);
  try {
    const card = new DrmbCard(t);
    await card.select();
    return (await card.getData('cardId')) as string;
  } finally {
    await t.close();
  }
}

describe.skipIf(maySkip)(`drmb sim serve --slots 2 through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 90_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let dir: string;
  let serve: CardChild | undefined;
  const images: string[] = [];

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    dir = mkdtempSync(join(tmpdir(), 'drmb-serve-slots-pcsc-'));
    initKeyDirectory(join(dir, 'keys'));
    for (const [i, id] of ['62120000000000008001', '62120000000000008002', '62120000000000008003'].entries()) {
      images.push(join(dir, `${i}.json`));
      await createSimCard({ image: images[i], cardId: id, keys: join(dir, 'keys') });
    }
    pcscd = await startPcscd();
    serve = spawnServe(images[0], 35963, ['--slots', '2', '--image', images[1]]);
    await serve.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await serve.waitFor('card inserted in vpcd 127.0.0.1:35964', 20_000);
    await waitReader(true, READER, 20_000);
    await waitReader(true, READER_2, 20_000);
  }, 90_000);

  afterAll(async () => {
    try {
      await serve?.quit();
    } finally {
      await pcscd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('serves each slot\'s card into its own reader', async () => {
    expect(await cardIdIn(READER)).toBe('62120000000000008001');
    expect(await cardIdIn(READER_2)).toBe('62120000000000008002');
  });

  it('slot 1 remove and load change the card in the second reader only, as a removal and an insertion pcscd sees', async () => {
    const first = await openReader(READER);
    try {
      const card0 = new DrmbCard(first);
      await card0.select();
      expect(await card0.getData('cardId')).toBe('62120000000000008001');
      await serve!.control('slot 1 remove', 'card out of vpcd 127.0.0.1:35964');
      await waitReader(false, READER_2);
      await serve!.control(`slot 1 load ${images[2]}`, `loaded ${images[2]}`);
      await waitReader(true, READER_2);
      expect(await cardIdIn(READER_2)).toBe('62120000000000008003');
      // the first reader's connection was never disturbed
      expect(await card0.getData('cardId')).toBe('62120000000000008001');
      await serve!.control('slot 1 work', 'APDUs in');
    } finally {
      await first.close();
    }
  });

  it('quit stops both slots and saves the served images', async () => {
    await serve!.quit();
    expect(serve!.child.exitCode).toBe(0);
    expect(existsSync(images[0]) && existsSync(images[1])).toBe(true);
    await waitReader(false, READER);
    await waitReader(false, READER_2);
  });
});
