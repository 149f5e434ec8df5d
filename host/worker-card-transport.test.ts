/**
 * @module Tests of workerCardTransport: a simulated card in a worker thread answers as the same card in
 * this thread does, takes the next card, saves its image when closed, and fails as a pulled card.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { TransportError } from '../host/errors.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack, type Transport, wrapTransport } from '../host/transport.js';
import { openSecureChannel } from '../host/secure-channel.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { PERSO_KEYS, stage1Dgis, storeDataApdu } from '../test/card-fixture.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { workerCardTransport } from './worker-card-transport.js';
import { simulatedCardWorker } from '../simulator/simulated-card-worker.js';

/** A transport that keeps "command response" in hex for every APDU. */
function transcribed(t: Transport, lines: string[]): Transport {
  return wrapTransport(t, async (command) => {
    const response = await t.transmit(command);
    lines.push(`${hex(command)} ${hex(response)}`);
    return response;
  });
}

/** SELECT of the D-RMB applet and GET DATA of the card ID, through the host library. */
async function selectAndReadId(t: Transport): Promise<string> {
  const card = new DrmbCard(stack(t, getResponse()));
  await card.select();
  return (await card.getData('cardId')) as string;
}

describe('workerCardTransport', () => {
  it('answers every APDU as the same card in this thread does, counting APDUs and card time', async () => {
    const image = new SimulatedCard({ manufacture: { cardId: '62120000000000004001' } }).toImage();
    const remote = await workerCardTransport(simulatedCardWorker, { image });
    try {
      const [inWorker, inThread]: string[][] = [[], []];
      expect(await selectAndReadId(transcribed(remote, inWorker))).toBe('62120000000000004001');
      expect(await selectAndReadId(transcribed(directTransport(SimulatedCard.fromImage(image)), inThread))).toBe('62120000000000004001');
      expect(inWorker).toEqual(inThread);
      expect(remote.apdus).toBe(inWorker.length);
      expect(remote.cardMs).toBeGreaterThan(0);
      expect(hex(await remote.image())).toBe(hex(image));
    } finally {
      await remote.close();
    }
  });

  it('takes the next card in place of the first, and saves it to its file when closed', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'drmb-worker-card-')), 'card.json');
    const t = await workerCardTransport(simulatedCardWorker, { manufacture: { cardId: '62120000000000004002' } }, { saveTo: file });
    await t.insert({ manufacture: { cardId: '62120000000000004003' } });
    expect(await selectAndReadId(t)).toBe('62120000000000004003');
    await t.close();
    expect(await selectAndReadId(directTransport(SimulatedCard.fromFile(file)))).toBe('62120000000000004003');
    await expect(t.transmit(Uint8Array.of(0x00, 0xca, 0x00, 0x00, 0x00))).rejects.toMatchObject({ name: 'TransportError', kind: 'closed' });
  });

  it('refuses a damaged image with the simulator message, and fails transmit as a pulled card when the card loses power', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-worker-card-'));
    writeFileSync(join(dir, 'bad.json'), '{"not": "a card image"}\n');
    await expect(workerCardTransport(simulatedCardWorker, { file: join(dir, 'bad.json') })).rejects.toThrow(/bad\.json is not a drmb card image/);
    const t = await workerCardTransport(simulatedCardWorker, { manufacture: { cardId: '62120000000000004004' }, cutPowerAfterWrites: 1 }, { description: 'card 4004' });
    try {
      // The first STORE DATA of prep writes a DGI: the power goes with it.
      const wire = stack(t, getResponse());
      await new DrmbCard(wire).select();
      const channel = await openSecureChannel(wire, PERSO_KEYS, { kvn: KEY_VERSIONS.PERSONALIZATION });
      const [name, value] = stage1Dgis('62120000000000004004', sm2GenerateKeyPair())[0];
      const e = await channel.transmit(storeDataApdu(name, value, 0, false, PERSO_KEYS.dek)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TransportError);
      expect(e).toMatchObject({ kind: 'removed', message: expect.stringMatching(/^card 4004: card lost \(/) });
    } finally {
      await t.close();
    }
  });
});
