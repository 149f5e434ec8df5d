/**
 * @module Card slots for `drmb perso ... --batch`: every reader whose name matches a fragment (cards
 * processed as they are inserted, one worker per reader), or every simulated card image in a folder.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { directTransport } from '../../host/direct-transport.js';
import { hostStack, listReaders, openReader } from '../../host/pcsc.js';
import type { Transport } from '../../host/transport.js';
import type { CardSlot } from '../../personalization/batch.js';
import { UsageError } from '../output.js';
import { loadSimImage, saveSimImage } from '../sim/load-sim-image.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * One slot per *.json card image in `dir`; each image is worked on once and saved back. Every image is
 * loaded and validated first, so a damaged one stops the batch (UsageError naming it) before any card
 * is worked on, and no damaged image is ever written back.
 */
export async function simImageSlots(dir: string): Promise<CardSlot[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (!files.length) throw new UsageError(`--sim-dir ${dir} holds no card images (*.json)`);
  const loaded = [];
  for (const f of files) loaded.push({ f, path: join(dir, f), card: await loadSimImage(join(dir, f)) });
  return loaded.map(({ f, path, card }) => {
    let given: Transport | undefined;
    return {
      name: `simulated card ${f}`,
      async nextCard() {
        if (given) return undefined;
        given = hostStack(directTransport(card, path), card.powerOn());
        return given;
      },
      async release(t: Transport) {
        if (t === given) saveSimImage(card, path);
        await t.close();
      },
    };
  });
}

/** One slot per reader matching `fragment`: waits for a card, hands it out, waits for its removal. */
export async function readerSlots(fragment: string | undefined, pollMs = 250): Promise<CardSlot[]> {
  const readers = (await listReaders()).filter((r) => !fragment || r.name.toLowerCase().includes(fragment.toLowerCase()));
  if (!readers.length) throw new UsageError(`no reader matches "${fragment ?? ''}"`);
  return readers.map((r) => {
    let previousAtrPresent = false;
    return {
      name: r.name,
      async nextCard(signal: AbortSignal) {
        // A card left in the reader after its turn is not taken again: wait for removal, then insertion.
        while (!signal.aborted) {
          const now = (await listReaders()).find((x) => x.name === r.name);
          const present = !!now?.cardPresent;
          if (present && !previousAtrPresent) {
            previousAtrPresent = true;
            return openReader(r.name);
          }
          if (!present) previousAtrPresent = false;
          await sleep(pollMs, signal);
        }
        return undefined;
      },
      async release(t: Transport) {
        await t.close();
      },
    };
  });
}
