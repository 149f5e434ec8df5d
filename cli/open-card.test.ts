/** @module Opening the card of a drmb command: a --sim image is left alone, saved at the end, or saved after every commit, as the command asks; option errors name the option. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { fromHex } from '../base/hex.js';
import * as C from '../applet-spec/commands.js';
import { swOf } from '../host/transport.js';
import { stateImages } from '../test/state-images.js';
import { type ImageSaving, openCard } from './open-card.js';
import { UsageError } from './output.js';

let dir: string;
let issued: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-open-card-'));
  issued = join(dir, 'issued.json');
  writeFileSync(issued, stateImages('62120000000000000889').ISSUED);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const SELECT = fromHex('00A4040006F044524D420100');
// a wrong PIN: the card commits the lower try counter to its persistent memory before it answers 63Cx
const WRONG_PIN = encodeCommandApdu(C.verify.encode({ pin: '999999' }));

/** The image bytes after a committing command (card still open) and after close. */
async function imageAfterCommit(image: ImageSaving): Promise<{ open: string; closed: string; before: string }> {
  const file = join(dir, `${image}.json`);
  copyFileSync(issued, file);
  const before = readFileSync(file, 'utf8');
  const card = await openCard({ sim: file }, { image });
  const open = await card.transport.lease(async (t) => {
    await t.transmit(SELECT);
    expect(swOf(await t.transmit(WRONG_PIN)) & 0xfff0).toBe(0x63c0);
    return readFileSync(file, 'utf8');
  });
  await card.close();
  return { before, open, closed: readFileSync(file, 'utf8') };
}

describe('openCard on a --sim image', () => {
  it("'read-only' never writes the image, not even after a commit", async () => {
    const r = await imageAfterCommit('read-only');
    expect(r.open).toBe(r.before);
    expect(r.closed).toBe(r.before);
  });

  it("'save-at-end' writes the image when the card is closed, not before", async () => {
    const r = await imageAfterCommit('save-at-end');
    expect(r.open).toBe(r.before);
    expect(r.closed).not.toBe(r.before);
  });

  it("'save-every-commit' writes the image as soon as the card commits, as EEPROM holds it", async () => {
    const r = await imageAfterCommit('save-every-commit');
    expect(r.open).not.toBe(r.before);
    expect(r.closed).toBe(r.open);
  });

  it('names the options of the side it opens in its refusals', async () => {
    const names = { reader: '--to-reader', sim: '--to-sim' };
    await expect(openCard({ sim: issued, reader: '0' }, { image: 'save-every-commit', names })).rejects.toThrow(new UsageError('--to-sim and --to-reader exclude each other'));
    const none = join(dir, 'none.json');
    await expect(openCard({ sim: none }, { image: 'save-every-commit', names })).rejects.toThrow(new UsageError(`--to-sim: card image ${none} does not exist (create one with drmb sim create)`));
  });
});
