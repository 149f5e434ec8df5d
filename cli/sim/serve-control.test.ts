/**
 * @module `drmb sim serve` control lines: the parser, and the control socket of a serve session over an
 * ISSUED simulated card in a stand-in vpcd reader on a local TCP port (no pcscd): a cut after the card's
 * first persistent write of a wrong-PIN VERIFY takes the card out of the reader without an answer, and
 * `power-up` puts it back with the try spent; `load PATH` puts the card of another image in the reader,
 * kept in memory only, and refuses a missing or damaged image with the current card left in place; and
 * `--psam`, which serves a PSAM image in the same way.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../applet-spec/commands.js';
import { DRMB_AID, PSAM_AID } from '../../applet-spec/commands/aid.js';
import { nextTerminalSequence } from '../../applet-spec/psam-commands.js';
import { directTransport } from '../../host/direct-transport.js';
import { personalizePsam } from '../../personalization/personalize-psam.js';
import { SW } from '../../applet-spec/status-words.js';
import { swOf } from '../../host/transport.js';
import { DEFAULT_PERSONALIZATION_KEY, SimulatedCard } from '../../simulator/simulated-card.js';
import { VPCD_GET_ATR } from '../../simulator/vpcd-client.js';
import { StandInReader } from '../../test/stand-in-vpcd-reader.js';
import { stateImages } from '../../test/state-images.js';
import { startServe, type ServeSession } from './serve.js';
import { connectControl, parseControlLine, type ControlClient } from './serve-control.js';

describe('parseControlLine', () => {
  it.each([
    ['status', { name: 'status' }],
    ['  REMOVE ', { name: 'remove' }],
    ['exit', { name: 'quit' }],
    ['power-up', { name: 'power-up' }],
    ['cut-after 3', { name: 'cut-after', writes: 3 }],
    [' load /tmp/My Cards/Blank.json ', { name: 'load', path: '/tmp/My Cards/Blank.json' }],
    ['', undefined],
  ])('reads %j as %j', (line, command) => {
    expect(parseControlLine(line)).toEqual(command);
  });

  it.each([
    ['cut-after', /cut-after needs one whole number of persistent writes >= 1, not ""/],
    ['cut-after 0', /not "0"/],
    ['cut-after -2', /not "-2"/],
    ['cut-after 1.5', /not "1.5"/],
    ['cut-after 1 2', /not "1 2"/],
    ['status now', /status takes no argument/],
    ['load', /load needs the path of a card image file/],
    ['unplug', /unknown control command "unplug" \(remove, insert, status, work, cut-after K, power-up, load PATH, quit\)/],
  ])('refuses %j with a one-line reason', (line, reason) => {
    const r = parseControlLine(line);
    expect(typeof r).toBe('string');
    expect(r).toMatch(reason);
  });
});

const SELECT = C.select.encodeBytes({ aid: DRMB_AID });
const WRONG_PIN = C.verify.encodeBytes({ pin: '999999' });

/** The lifecycle state in the FCI a SELECT answered. */
function stateInFci(response: Uint8Array | 'closed'): string {
  if (response === 'closed') throw new Error('the card left instead of answering SELECT');
  expect(swOf(response)).toBe(SW.OK);
  return C.select.decodeResponse(response.subarray(0, -2)).proprietary.issuerData.appState;
}

describe('drmb sim serve --control-socket', { timeout: 60_000 }, () => {
  let dir: string;
  let socketPath: string;
  let reader: StandInReader;
  let session: ServeSession;
  let control: ControlClient;
  let issued: Uint8Array;
  let servedImage: string;

  beforeAll(async () => {
    issued = stateImages().ISSUED;
    dir = mkdtempSync(join(tmpdir(), 'drmb-serve-control-'));
    socketPath = join(dir, 'control.sock');
    servedImage = join(dir, 'served.json');
    const server = createServer();
    reader = new StandInReader(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    session = await startServe({ image: servedImage, host: '127.0.0.1', port: reader.port, control: 'none', controlSocket: socketPath }, async () => ({
      card: SimulatedCard.fromImage(issued),
      created: false,
    }));
    await session.client.waitConnected(10_000);
    control = await connectControl(socketPath);
  });

  afterAll(async () => {
    control?.close();
    await session?.stop();
    await new Promise<void>((r) => reader.server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes the socket its owner\'s only (mode 0600): it can cut power and load other images', () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
  });

  it('answers every line with one line: ok for a command done, error with the reason otherwise', async () => {
    await expect(control.request('status')).resolves.toMatch(/^card inserted in vpcd 127\.0\.0\.1:\d+, powered$/);
    await expect(control.request('cut-after none')).rejects.toThrow('drmb sim serve: cut-after needs one whole number of persistent writes >= 1, not "none"');
    await expect(control.request('unplug')).rejects.toThrow(/unknown control command "unplug"/);
  });

  it('cut-after 1 takes the card out of the reader with no answer to the VERIFY whose first write it cut; power-up puts it back with that try spent', async () => {
    // what a wrong PIN answers on this card when nothing is cut: 63Cx, x tries left
    const uncut = SimulatedCard.fromImage(issued);
    uncut.powerOn();
    uncut.transmit(SELECT);
    const triesAfterOne = swOf(uncut.transmit(WRONG_PIN)) & 0x0f;
    expect(triesAfterOne).toBeGreaterThan(0);

    const first = await reader.connection(0);
    expect(await reader.exchange(first, Uint8Array.of(VPCD_GET_ATR))).toEqual(session.card.atr);
    await expect(control.request('work')).resolves.toMatch(/^0 APDUs in 0\.0 ms of card time since the card was put in the slot$/);
    expect(swOf((await reader.exchange(first, SELECT)) as Uint8Array)).toBe(SW.OK);
    await expect(control.request('work')).resolves.toMatch(/^1 APDUs in \d+\.\d ms of card time/);
    await expect(control.request('cut-after 1')).resolves.toBe("armed: power cut after the card's persistent write 1 from now");
    expect(await reader.exchange(first, WRONG_PIN)).toBe('closed');
    await expect(control.request('status')).resolves.toBe(`card out of vpcd 127.0.0.1:${reader.port}, without power (cut; power-up restores it)`);
    await expect(control.request('cut-after 1')).rejects.toThrow('the card has no power: power-up first');

    await expect(control.request('power-up')).resolves.toBe(`card inserted in vpcd 127.0.0.1:${reader.port}, powered`);
    const second = await reader.connection(1);
    await reader.exchange(second, Uint8Array.of(VPCD_GET_ATR));
    expect(swOf((await reader.exchange(second, SELECT)) as Uint8Array)).toBe(SW.OK);
    // the cut VERIFY cost its try (ISO/IEC 7816-4 11.5.6): this wrong PIN leaves one fewer than the first did
    expect(swOf((await reader.exchange(second, WRONG_PIN)) as Uint8Array)).toBe(0x63c0 | (triesAfterOne - 1));
  });

  it('load refuses a missing or damaged image with the card in the reader left as it was', async () => {
    const second = await reader.connection(1);
    const missingImage = join(dir, 'missing.json');
    await expect(control.request(`load ${missingImage}`)).rejects.toThrow(`drmb sim serve: no card image at ${missingImage}`);
    const damaged = join(dir, 'damaged.json');
    writeFileSync(damaged, '{"not": "a card image"}');
    await expect(control.request(`load ${damaged}`)).rejects.toThrow(`drmb sim serve: card image ${damaged}`);
    await expect(control.request('status')).resolves.toBe(`card inserted in vpcd 127.0.0.1:${reader.port}, powered`);
    expect(stateInFci(await reader.exchange(second, SELECT))).toBe('ISSUED');
  });

  it('load PATH takes the card out of the reader and puts the card of that image in, kept in memory only', async () => {
    const blank = join(dir, 'blank.json');
    writeFileSync(blank, stateImages().BLANK);
    const blankBytes = readFileSync(blank);
    const second = await reader.connection(1);
    await expect(control.request(`load ${blank}`)).resolves.toBe(`loaded ${blank}`);
    expect(await reader.exchange(second, SELECT)).toBe('closed');
    const third = await reader.connection(2);
    await reader.exchange(third, Uint8Array.of(VPCD_GET_ATR));
    expect(stateInFci(await reader.exchange(third, SELECT))).toBe('BLANK');
    await expect(control.request('status')).resolves.toBe(`card inserted in vpcd 127.0.0.1:${reader.port}, powered, loaded from ${blank} (memory only, never saved)`);
    // the served image holds the served card, saved as it left the reader; the loaded image is untouched
    await expect(control.request('remove')).resolves.toMatch(/^card out of/);
    expect(SimulatedCard.fromFile(servedImage).memory.state).toBe('ISSUED');
    expect(readFileSync(blank)).toEqual(blankBytes);
    await expect(control.request(`load ${blank}`)).resolves.toBe(`loaded ${blank}`);
    const fourth = await reader.connection(3);
    await reader.exchange(fourth, Uint8Array.of(VPCD_GET_ATR));
    expect(stateInFci(await reader.exchange(fourth, SELECT))).toBe('BLANK');
  });

  it('quit answers, ends the session and removes the socket file; a loaded card is not saved', async () => {
    await expect(control.request('quit')).resolves.toBe('stopping');
    await session.done;
    expect(existsSync(socketPath)).toBe(false);
    expect(SimulatedCard.fromFile(servedImage).memory.state).toBe('ISSUED');
  });
});

describe('drmb sim serve --psam', { timeout: 60_000 }, () => {
  it('serves the PSAM of a --psam image: SELECT by the PSAM AID answers its FCI, the user card AID is not found, and a sequence number taken before the end is in the saved image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-serve-psam-'));
    const image = join(dir, 'psam.json');
    const psam = SimulatedCard.psam({ psamId: '88000000000000000042' });
    const k = DEFAULT_PERSONALIZATION_KEY;
    await personalizePsam(directTransport(psam), { enc: k, mac: k, dek: k }, { terminalNumber: Uint8Array.of(0x20, 0x26, 0x11, 0x22, 0, 1), purchaseMaster: new Uint8Array(16).fill(0x11) });
    psam.saveToFile(image);
    const server = createServer();
    const reader = new StandInReader(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const session = await startServe({ image, host: '127.0.0.1', port: reader.port, control: 'none', psam: true });
    try {
      await session.client.waitConnected(10_000);
      const conn = await reader.connection(0);
      await reader.exchange(conn, Uint8Array.of(VPCD_GET_ATR));
      expect(swOf((await reader.exchange(conn, SELECT)) as Uint8Array)).toBe(SW.FILE_NOT_FOUND);
      const fci = (await reader.exchange(conn, C.select.encodeBytes({ aid: PSAM_AID }))) as Uint8Array;
      expect(swOf(fci)).toBe(SW.OK);
      expect(C.select.decodeResponse(fci.subarray(0, -2)).proprietary.issuerData).toEqual({ cardId: '88000000000000000042', appState: 'ISSUED' });
      const r = (await reader.exchange(conn, nextTerminalSequence.encodeBytes({}))) as Uint8Array;
      expect(swOf(r)).toBe(SW.OK);
    } finally {
      await session.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(SimulatedCard.psamFromFile(image).memory.sequence).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
