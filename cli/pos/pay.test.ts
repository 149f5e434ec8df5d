/** @module `drmb pos pay` on a simulated card image with a simulated PSAM image: payment through the command with no master key, images saved back, queue file, blacklist, option errors; `drmb sim create --psam` and `drmb perso psam`. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { hex } from '../../base/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { issuedCard, posWorld, transportOf, type PosWorld } from '../../test/pos-fixture.js';
import { BlacklistedCardError } from '../../host/pos/pos-terminal.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { editCardImage, rewriteCardImage } from '../../test/edit-card-image.js';
import { main } from '../drmb.js';
import { UsageError } from '../output.js';
import { openCard } from '../open-card.js';
import { positiveFenOf } from '../options.js';
import { collectPosPay, registerPosPay } from './pay.js';
import { createSimCard } from '../sim/create.js';
import { collectPersoPsam } from '../perso/psam.js';

const CARD_ID = '62120000000000007001';
let w: PosWorld;
let dir: string;
let image: string;
/** the PSAM image: made by drmb sim create --psam, personalized by drmb perso psam */
let psamImage: string;
/** a key directory with trust-anchors.json alone: the terminal needs no master key */
let terminalKeys: string;

beforeAll(async () => {
  w = posWorld();
  dir = mkdtempSync(join(tmpdir(), 'drmb-pos-cli-'));
  image = join(dir, 'card.json');
  (await issuedCard(w, CARD_ID, [5000, 2000, 1000, 1000])).saveToFile(image);
  psamImage = join(dir, 'psam.json');
  await createSimCard({ image: psamImage, psam: true, cardId: '88000000000000007001', keys: join(w.dir, 'keys') });
  await collectPersoPsam({ sim: psamImage, keys: join(w.dir, 'keys'), terminalId: '202611220001' });
  terminalKeys = join(dir, 'terminal-keys');
  mkdirSync(terminalKeys);
  copyFileSync(join(w.dir, 'keys', 'trust-anchors.json'), join(terminalKeys, 'trust-anchors.json'));
}, 120_000);

const balanceOfImage = async (path: string) => {
  const card = new DrmbCard(transportOf(SimulatedCard.fromFile(path)));
  await card.select();
  return card.balance();
};

describe('drmb pos pay', () => {
  it('pays 30 yuan from a --sim image through the command: JSON report, image saved back, packet queued', async () => {
    const queue = join(dir, 'q1.jsonl');
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    try {
      const pos = new Command('pos').exitOverride();
      registerPosPay(pos);
      await pos.parseAsync(['pay', '--amount', '30', '--sim', image, '--psam-sim', psamImage, '--keys', terminalKeys, '--queue', queue, '--json'], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    const report = JSON.parse(out.join(''));
    expect(report).toMatchObject({ cardId: CARD_ID, amount: '30.00', amountFen: 3000, paidFen: 3000, queued: 1, recovered: false, terminalSequence: 1 });
    expect(await balanceOfImage(image)).toBe(6000);
    // The PSAM image keeps its sequence number: the next payment takes the next one.
    expect(SimulatedCard.psamFromFile(psamImage).memory.sequence).toBe(1);
    const again = await collectPosPay({ amount: '10', sim: image, psamSim: psamImage, keys: terminalKeys, queue, merchant: 'merchant@pos' });
    expect(again.terminalSequence).toBe(2);
    expect(SimulatedCard.psamFromFile(psamImage).memory.sequence).toBe(2);
    expect(new UploadQueue(queue).pending().map((p) => [p.cardId, p.amountFen])).toEqual([[CARD_ID, 3000], [CARD_ID, 1000]]);
  });

  it('refuses a card on the --blacklist file and leaves its image unchanged', async () => {
    const list = join(dir, 'blacklist.txt');
    writeFileSync(list, `# double spenders\n${CARD_ID}\n`);
    const before = await balanceOfImage(image);
    await expect(collectPosPay({ amount: '10', sim: image, keys: join(w.dir, 'keys'), queue: join(dir, 'q2.jsonl'), psamSim: psamImage, merchant: 'm', blacklist: list })).rejects.toBeInstanceOf(BlacklistedCardError);
    expect(await balanceOfImage(image)).toBe(before);
  });

  it('reads amounts in yuan and rejects bad options before touching the card', async () => {
    expect([positiveFenOf('30'), positiveFenOf('30.5'), positiveFenOf('0.01')]).toEqual([3000, 3050, 1]);
    expect(() => positiveFenOf('30.555')).toThrow(UsageError);
    expect(() => positiveFenOf('0')).toThrow(UsageError);
    await expect(collectPosPay({ amount: '1', sim: image, keys: terminalKeys, queue: join(dir, 'q3.jsonl'), merchant: 'm' })).rejects.toThrow(/--psam-sim IMAGE or --psam-reader NAME is required/);
    await expect(collectPosPay({ amount: '1', sim: image, psamSim: image, keys: terminalKeys, queue: join(dir, 'q3.jsonl'), merchant: 'm' })).rejects.toThrow(/not a record of a PSAM/);
    expect(existsSync(join(dir, 'q3.jsonl')) && new UploadQueue(join(dir, 'q3.jsonl')).pending().length).toBeFalsy();
  });
});

describe('drmb pos pay on a damaged or unsaveable --sim image', () => {
  const payArgs = (sim: string, queue: string) => ['pos', 'pay', '--amount', '10', '--sim', sim, '--psam-sim', psamImage, '--keys', terminalKeys, '--queue', queue];

  it('refuses an image whose coins were emptied by hand (shown as 0.00 yuan before): one line, exit code 2, the file not rewritten, nothing queued', async () => {
    const damaged = join(dir, 'emptied.json');
    writeFileSync(damaged, editCardImage(readFileSync(image), (j) => (j.records['purse/coins'] = '')));
    const before = { bytes: readFileSync(damaged), mtimeMs: statSync(damaged).mtimeMs };
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    let exitCode: number | undefined;
    try {
      await main(['node', 'drmb', ...payArgs(damaged, join(dir, 'q-damaged.jsonl'))]);
      exitCode = Number(process.exitCode);
    } finally {
      spy.mockRestore();
      process.exitCode = undefined;
    }
    expect({ stderr: err.join(''), exitCode }).toEqual({ stderr: `drmb: card image ${damaged} is damaged: checksum mismatch\n`, exitCode: 2 });
    expect(readFileSync(damaged).equals(before.bytes)).toBe(true);
    expect(statSync(damaged).mtimeMs).toBe(before.mtimeMs);
    expect(existsSync(join(dir, 'q-damaged.jsonl')) && new UploadQueue(join(dir, 'q-damaged.jsonl')).pending().length).toBeFalsy();
  });

  it('refuses an image rewritten with a recomputed checksum to state FF (TERMINATED) with coins on it, and leaves it as it was', async () => {
    const damaged = join(dir, 'terminated.json');
    writeFileSync(damaged, rewriteCardImage(readFileSync(image), (s) => s.put('state', Uint8Array.of(0xff))));
    const before = readFileSync(damaged);
    const err = await collectPosPay({ amount: '10', sim: damaged, keys: join(w.dir, 'keys'), queue: join(dir, 'q-ff.jsonl'), psamSim: psamImage, merchant: 'm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^card image .*terminated\.json is damaged: record purse\/coins: \d+ coins on a card in state TERMINATED$/);
    expect(readFileSync(damaged).equals(before)).toBe(true);
  });

  it('reports a save that fails (the image folder is gone) as one line naming the image', async () => {
    const folder = join(dir, 'gone');
    mkdirSync(folder);
    const copy = join(folder, 'card.json');
    copyFileSync(image, copy);
    const opened = await openCard({ sim: copy }, { image: 'save-at-end' });
    rmSync(folder, { recursive: true });
    const err = await opened.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(new RegExp(`^card image ${copy} could not be saved: ENOENT[^\n]*$`));
  });
});

describe('drmb sim create --psam and drmb perso psam', () => {
  it('makes a blank PSAM image and personalizes it once: terminal number readable, a second personalization refused, the image unchanged by it', async () => {
    const f = join(dir, 'psam-2.json');
    expect(await createSimCard({ image: f, psam: true, keys: join(w.dir, 'keys') })).toMatchObject({ image: f, state: 'BLANK', type: 'psam', cardId: expect.stringMatching(/^88\d{18}$/) });
    expect(await collectPersoPsam({ sim: f, keys: join(w.dir, 'keys'), terminalId: '0a0b0c0d0e0f' })).toMatchObject({ state: 'ISSUED', terminalId: '0A0B0C0D0E0F' });
    const psam = SimulatedCard.psamFromFile(f);
    expect(psam.memory.state).toBe('ISSUED');
    expect(hex(psam.memory.terminalNumber!)).toBe('0A0B0C0D0E0F');
    const before = readFileSync(f);
    await expect(collectPersoPsam({ sim: f, keys: join(w.dir, 'keys'), terminalId: '0a0b0c0d0e0f' })).rejects.toThrow(/not BLANK/);
    expect(SimulatedCard.psamFromFile(f).memory.sequence).toBe(0);
    expect(hex(SimulatedCard.psamFromImage(before).memory.terminalNumber!)).toBe('0A0B0C0D0E0F');
    await expect(collectPersoPsam({ sim: f, keys: join(w.dir, 'keys'), terminalId: '0a0b' })).rejects.toThrow(/--terminal-id must be 12 hex digits/);
  });
});
