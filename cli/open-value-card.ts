/**
 * @module Opens the card of a value-moving command: a reader, or a simulated card image that is
 * written back after every command that changed its persistent memory, as a real card's EEPROM holds
 * a commit the moment it answers (so a host killed after a commit finds it on the card next time).
 */
import { existsSync } from 'node:fs';
import { directTransport } from '../host/direct-transport.js';
import { hostStack, openReader } from '../host/pcsc.js';
import type { OpenedCard } from './perso/perso-options.js';
import { UsageError } from './output.js';
import { loadSimImage, saveSimImage } from './sim/load-sim-image.js';

/**
 * The card of --reader, or of --sim (an image file) with write-through saves; `finish()` closes the
 * reader (the image is already up to date). `names` are the option names for messages (--from-sim...).
 */
export async function openValueCard(o: { reader?: string; sim?: string; trace?: boolean }, names = { reader: '--reader', sim: '--sim' }): Promise<OpenedCard> {
  if (o.sim !== undefined && o.reader !== undefined) throw new UsageError(`${names.sim} and ${names.reader} exclude each other`);
  const trace = o.trace ? { sink: (l: string) => void process.stderr.write(`${l}\n`) } : undefined;
  if (o.sim !== undefined) {
    const image = o.sim;
    if (!existsSync(image)) throw new UsageError(`${names.sim}: card image ${image} does not exist (create one with drmb sim create)`);
    const card = await loadSimImage(image);
    const writeThrough = {
      get atr() {
        return card.atr;
      },
      transmit(command: Uint8Array): Uint8Array {
        const before = card.store.writeCount;
        try {
          return card.transmit(command);
        } finally {
          if (card.store.writeCount !== before) saveSimImage(card, image);
        }
      },
    };
    const source = `simulated card ${image}`;
    const transport = hostStack(directTransport(writeThrough, source), card.powerOn(), { trace });
    return { transport, source, finish: () => transport.close() };
  }
  const reader = await openReader(o.reader, { trace });
  return { transport: reader, source: reader.description, finish: () => reader.close() };
}
