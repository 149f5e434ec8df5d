/** @module `drmb pos pay` on a simulated card image: payment through the command, image saved back, queue file, blacklist, option errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { issuedCard, posWorld, transportOf, type PosWorld } from '../../host/pos/pos-fixture.js';
import { BlacklistedCardError } from '../../host/pos/pos-terminal.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { UsageError } from '../output.js';
import { collectPosPay, parseYuan, registerPosPay } from './pay.js';

const CARD_ID = '62120000000000007001';
let w: PosWorld;
let dir: string;
let image: string;

beforeAll(async () => {
  w = posWorld();
  dir = mkdtempSync(join(tmpdir(), 'drmb-pos-cli-'));
  image = join(dir, 'card.json');
  (await issuedCard(w, CARD_ID, [5000, 2000, 1000])).saveToFile(image);
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
      await pos.parseAsync(['pay', '--amount', '30', '--sim', image, '--keys', join(w.dir, 'keys'), '--queue', queue, '--terminal-id', '202611220001', '--json'], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    const report = JSON.parse(out.join(''));
    expect(report).toMatchObject({ cardId: CARD_ID, amount: '30.00', amountFen: 3000, paidFen: 3000, queued: 1, recovered: false });
    expect(await balanceOfImage(image)).toBe(5000);
    expect(new UploadQueue(queue).pending().map((p) => [p.cardId, p.amountFen])).toEqual([[CARD_ID, 3000]]);
  });

  it('refuses a card on the --blacklist file and leaves its image unchanged', async () => {
    const list = join(dir, 'blacklist.txt');
    writeFileSync(list, `# double spenders\n${CARD_ID}\n`);
    const before = await balanceOfImage(image);
    await expect(collectPosPay({ amount: '10', sim: image, keys: join(w.dir, 'keys'), queue: join(dir, 'q2.jsonl'), terminalId: '202611220001', merchant: 'm', blacklist: list })).rejects.toBeInstanceOf(BlacklistedCardError);
    expect(await balanceOfImage(image)).toBe(before);
  });

  it('reads amounts in yuan and rejects bad options before touching the card', async () => {
    expect([parseYuan('30'), parseYuan('30.5'), parseYuan('0.01')]).toEqual([3000, 3050, 1]);
    expect(() => parseYuan('30.555')).toThrow(UsageError);
    expect(() => parseYuan('0')).toThrow(UsageError);
    await expect(collectPosPay({ amount: '1', sim: image, keys: join(w.dir, 'keys'), queue: join(dir, 'q3.jsonl'), terminalId: '12', merchant: 'm' })).rejects.toThrow(/terminal-id/);
  });
});
