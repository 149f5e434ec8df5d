/**
 * @module `drmb sim serve --slots N`: N cards from one process into N consecutive vpcd ports, each in a
 * worker thread of its own, checked against stand-in vpcd readers (no pcscd): every slot answers its
 * own card, `slot K` lines reach slot K only, `load` changes one slot's card, `status` and `quit` act
 * on all, a damaged image names its slot, and the images are saved when the serve ends.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../applet-spec/commands.js';
import { DRMB_AID } from '../../applet-spec/commands/aid.js';
import { SW } from '../../applet-spec/status-words.js';
import { swOf } from '../../host/transport.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { VPCD_GET_ATR } from '../../simulator/vpcd-client.js';
import { StandInReader } from '../../test/stand-in-vpcd-reader.js';
import { stateImages } from '../../test/state-images.js';
import { parseSlotPrefix, startServeSlots, type ServeSlotsSession } from './serve-slots.js';

const SELECT = C.select.encodeBytes({ aid: DRMB_AID });

/** Two stand-in readers listening on consecutive ports (tried from a random base until both are free). */
async function twoReaders(): Promise<StandInReader[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const servers: Server[] = [];
    try {
      for (const port of [base, base + 1]) {
        const server = createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => resolve());
        });
        servers.push(server);
      }
      return servers.map((s) => new StandInReader(s));
    } catch {
      for (const s of servers) s.close();
    }
  }
  throw new Error('no two consecutive free TCP ports');
}

/** The lifecycle state in the FCI the card answers to SELECT on `reader`'s connection `n`. */
async function stateOn(reader: StandInReader, n: number, getAtr: boolean): Promise<string> {
  const socket = await reader.connection(n);
  if (getAtr) await reader.exchange(socket, Uint8Array.of(VPCD_GET_ATR));
  const response = await reader.exchange(socket, SELECT);
  if (response === 'closed') throw new Error('the card left instead of answering SELECT');
  expect(swOf(response)).toBe(SW.OK);
  return C.select.decodeResponse(response.subarray(0, -2)).proprietary.issuerData.appState;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('parseSlotPrefix', () => {
  it.each([
    ['slot 1 load /tmp/My Cards/a.json', { slot: 1, rest: 'load /tmp/My Cards/a.json' }],
    ['  SLOT 0 status', { slot: 0, rest: 'status' }],
    ['status', { rest: 'status' }],
  ])('reads %j as %j', (line, parsed) => {
    expect(parseSlotPrefix(line)).toEqual(parsed);
  });

  it.each([
    ['slot x status', 'slot needs a slot number, not "x"'],
    ['slot 1', 'slot 1 needs a control line after it'],
  ])('refuses %j with a one-line reason', (line, reason) => {
    expect(parseSlotPrefix(line)).toBe(reason);
  });
});

describe('drmb sim serve --slots 2', { timeout: 60_000 }, () => {
  let dir: string;
  let readers: StandInReader[];
  let session: ServeSlotsSession;
  /** slots 0 and 1 serve ISSUED cards; the third image, a PREPARED card, is loaded into slot 1 */
  const images: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'drmb-serve-slots-'));
    const states = stateImages();
    for (const [i, image] of [states.ISSUED, states.ISSUED, states.PREPARED].entries()) {
      images.push(join(dir, `${i}.json`));
      SimulatedCard.fromImage(image).saveToFile(images[i]);
    }
    readers = await twoReaders();
    session = await startServeSlots({ slots: 2, images: images.slice(0, 2), host: '127.0.0.1', port: readers[0].port, control: 'none', signals: false });
  });

  afterAll(async () => {
    await session?.stop();
    for (const r of readers ?? []) await new Promise<void>((resolve) => r.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts each slot\'s card into its own port, and status answers for every slot in one line', async () => {
    for (const reader of readers) expect(await stateOn(reader, 0, true)).toBe('ISSUED');
    const status = await session.control('status');
    expect(status).toBe(`ok slot 0: card inserted in vpcd 127.0.0.1:${readers[0].port}, powered; slot 1: card inserted in vpcd 127.0.0.1:${readers[1].port}, powered`);
    await expect(session.control('slot 1 work')).resolves.toMatch(/^ok 1 APDUs in /);
  });

  it('refuses a slot it does not have, a slot without a line, and quit for one slot, each in one line', async () => {
    await expect(session.control('slot 2 status')).resolves.toBe('error no slot 2: this serve has slots 0 to 1');
    await expect(session.control('slot 1')).resolves.toBe('error slot 1 needs a control line after it');
    await expect(session.control('slot 0 quit')).resolves.toBe('error quit stops every slot: send it without "slot K"');
    await expect(session.control('slot 0 unplug')).resolves.toMatch(/^error unknown control command "unplug"/);
  });

  it('slot 1 load puts another card in slot 1 only; the card in slot 0 stays', async () => {
    const loaded = images[2];
    await expect(session.control(`slot 1 load ${loaded}`)).resolves.toBe(`ok loaded ${loaded}`);
    // slot 1's reader gets a new connection with the loaded card; slot 0's keeps its first, and its card
    expect(await stateOn(readers[1], 1, true)).toBe('PREPARED');
    expect(await stateOn(readers[0], 0, false)).toBe('ISSUED');
    await expect(session.control('slot 1 status')).resolves.toMatch(new RegExp(`loaded from ${escape(loaded)} \\(memory only`));
    await expect(session.control('slot 0 status')).resolves.toBe(`ok card inserted in vpcd 127.0.0.1:${readers[0].port}, powered`);
  });

  it('a damaged image in one slot stops the start and names that slot', async () => {
    const damaged = join(dir, 'damaged.json');
    writeFileSync(damaged, '{"not": "a card"');
    await expect(startServeSlots({ slots: 2, images: [images[0], damaged], host: '127.0.0.1', port: 1, control: 'none', signals: false })).rejects.toThrow(
      new RegExp(`^slot 1 \\(${escape(damaged)}\\): `),
    );
  });

  it('quit stops every slot and saves each slot\'s image file', async () => {
    const fresh = await startServeSlots({ slots: 2, images: [join(dir, 'new-0.json')], host: '127.0.0.1', port: 1, control: 'none', signals: false });
    await expect(fresh.control('quit')).resolves.toBe('ok stopping');
    await fresh.done;
    expect(existsSync(join(dir, 'new-0.json'))).toBe(true);
  });
});
