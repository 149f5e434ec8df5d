/** @module `drmb bank mint|withdraw|deposit` on a registry folder and a simulated card image, with `drmb pos pay` in between. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runIssue } from '../perso/issue.js';
import { runPrepare } from '../perso/prepare.js';
import { collectPosPay } from '../pos/pay.js';
import { projectPath } from '../project-path.js';
import { createSimCard } from '../sim/create.js';
import { collectPersoPsam } from '../perso/psam.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { runDeposit } from './deposit.js';
import { runMint } from './mint.js';
import { fenOf } from '../options.js';
import { runWithdraw } from './withdraw.js';

let dir: string;
const CARD = '62120000000000006001';
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-bank-cli-'));
  initKeyDirectory(join(dir, 'keys'));
  writeFileSync(join(dir, 'pin'), '864213\n', { mode: 0o600 });
  const common = { keys: join(dir, 'keys'), manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'test', sim: join(dir, 'card.json') };
  await createSimCard({ image: common.sim, cardId: CARD, keys: common.keys });
  await runPrepare({ ...common, profile: projectPath('examples', 'profiles', 'prepare.json') }, false);
  await runIssue({ ...common, profile: projectPath('examples', 'profiles', 'issue.json'), pinFile: join(dir, 'pin') }, false);
  await createSimCard({ image: join(dir, 'psam.json'), psam: true, keys: common.keys });
  await collectPersoPsam({ sim: join(dir, 'psam.json'), keys: common.keys, terminalId: '202611220001' });
}, 120_000);

describe('drmb bank', () => {
  it('mints, withdraws onto the card, and settles a POS payment, in one registry folder', async () => {
    const reg = { keys: join(dir, 'keys'), registry: join(dir, 'registry') };
    expect(await runMint({ ...reg, amount: '500.00', toBank: '102100000001' })).toMatchObject({ coins: 5, amountFen: 50_000, owner: 'bank:102100000001' });
    const w = await runWithdraw({ ...reg, amount: '200.00', bankCode: '102100000001', sim: join(dir, 'card.json'), terminalId: '100000000001' });
    expect(w).toMatchObject({ cardId: CARD, amountFen: 20_000, coins: 2 });
    expect(SimulatedCard.fromFile(join(dir, 'card.json')).memory.balanceFen).toBe(20_000);

    const paid = await collectPosPay({ amount: '100.00', sim: join(dir, 'card.json'), keys: join(dir, 'keys'), queue: join(dir, 'queue.jsonl'), psamSim: join(dir, 'psam.json'), merchant: 'shop@merchant' });
    expect(paid).toMatchObject({ cardId: CARD, amountFen: 10_000 });
    const d = await runDeposit({ ...reg, queue: join(dir, 'queue.jsonl'), payee: 'shop@merchant', bankCode: '103100000002' });
    expect(d.lines).toEqual([expect.objectContaining({ cardId: CARD, amountFen: 10_000, result: 'settled' })]);
    expect(d.settledFen).toBe(10_000);
    // Depositing the queue again settles nothing twice.
    expect((await runDeposit({ ...reg, queue: join(dir, 'queue.jsonl'), payee: 'shop@merchant', bankCode: '103100000002' })).lines).toEqual([]);
  }, 120_000);

  it('names the option of a bad amount or code', async () => {
    expect(() => fenOf('12.345', '--amount')).toThrow(/--amount must be an amount in yuan/);
    expect(fenOf('171.5', '--amount')).toBe(17150);
    await expect(runMint({ keys: join(dir, 'keys'), registry: join(dir, 'registry'), amount: '1.00', toBank: '12' })).rejects.toThrow(/--to-bank/);
    await expect(runWithdraw({ keys: join(dir, 'keys'), registry: join(dir, 'registry'), amount: '1.00', bankCode: '102100000001', terminalId: 'xyz', sim: join(dir, 'card.json') })).rejects.toThrow(/--terminal-id/);
  });
});
