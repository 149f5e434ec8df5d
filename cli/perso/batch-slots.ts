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
import { fileErrorText, UsageError } from '../output.js';
import type { SimulatedCard } from '../../simulator/simulated-card.js';
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
 * One slot per *.json card image in `dir`; each image is worked on once and saved back. An image is
 * loaded when its slot's turn comes: a damaged one fails that slot alone (recorded in the batch's
 * summary, never written back) and the other images go on.
 */
export async function simImageSlots(dir: string): Promise<CardSlot[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (e) {
    throw new UsageError(`--sim-dir: cannot list ${dir} (${fileErrorText(e)})`);
  }
  if (!files.length) throw new UsageError(`--sim-dir ${dir} holds no card images (*.json)`);
  return files.map((f) => {
    const path = join(dir, f);
    let given: { transport: Transport; card: SimulatedCard } | undefined;
    let taken = false;
    return {
      name: `simulated card ${f}`,
      async nextCard() {
        if (taken) return undefined;
        taken = true;
        const card = await loadSimImage(path);
        given = { transport: hostStack(directTransport(card, path), card.powerOn()), card };
        return given.transport;
      },
      async release(t: Transport) {
        if (t === given?.transport) saveSimImage(given.card, path);
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
