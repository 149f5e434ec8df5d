/** @module `drmb peer pay`, `drmb bank deposit --packet` and `drmb bank redeem` on simulated card images and a registry folder. */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { runPacketDeposit } from '../bank/deposit.js';
import { runMint } from '../bank/mint.js';
import { runRedeem } from '../bank/redeem.js';
import { runWithdraw } from '../bank/withdraw.js';
import { runIssue } from '../perso/issue.js';
import { runPrepare } from '../perso/prepare.js';
import { projectPath } from '../project-path.js';
import { createSimCard } from '../sim/create.js';
import { runPeerPay } from './pay.js';

const A = '62120000000000008001';
const B = '62120000000000008002';
let dir: string;
let reg: { keys: string; registry: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-peer-cli-'));
  initKeyDirectory(join(dir, 'keys'));
  writeFileSync(join(dir, 'pin'), '864213\n', { mode: 0o600 });
  reg = { keys: join(dir, 'keys'), registry: join(dir, 'registry') };
  for (const id of [A, B]) {
    const common = { keys: reg.keys, manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'test', sim: join(dir, `${id}.json`) };
    await createSimCard({ image: common.sim, cardId: id, keys: reg.keys });
    await runPrepare({ ...common, profile: projectPath('examples', 'profiles', 'prepare.json') }, false);
    await runIssue({ ...common, profile: projectPath('examples', 'profiles', 'issue.json'), pinFile: join(dir, 'pin') }, false);
  }
  await runMint({ ...reg, amount: '300.00', toBank: '102100000001' });
  await runWithdraw({ ...reg, amount: '200.00', bankCode: '102100000001', sim: join(dir, `${A}.json`), terminalId: '100000000001' });
}, 180_000);

describe('drmb peer pay and deposit of its packet', () => {
  it('pays card to card offline, and the packet settles to the payee card', async () => {
    const r = await runPeerPay({ amount: '100.00', fromSim: join(dir, `${A}.json`), toSim: join(dir, `${B}.json`), packetOut: join(dir, 'p1.bin'), pinFile: join(dir, 'pin'), journal: join(dir, 'journal') });
    expect(r).toMatchObject({ payerCardId: A, payeeCardId: B, payeeIdentity: `${B}|2036`, amountFen: 10_000 });
    expect(statSync(join(dir, 'p1.bin')).mode & 0o777).toBe(0o600);
    expect(SimulatedCard.fromFile(join(dir, `${A}.json`)).memory.balanceFen).toBe(10_000);
    expect(SimulatedCard.fromFile(join(dir, `${B}.json`)).memory.balanceFen).toBe(10_000);
    const d = await runPacketDeposit({ ...reg, packet: join(dir, 'p1.bin'), receipt: join(dir, 'p1.bin.receipt') });
    expect(d.line).toMatchObject({ cardId: A, amountFen: 10_000, owner: `card:${B}`, result: 'settled' });
    expect((await runPacketDeposit({ ...reg, packet: join(dir, 'p1.bin'), receipt: join(dir, 'p1.bin.receipt') })).line.result).toBe('already-settled');
  }, 120_000);

  it('gives a payment with a withdrawal code that the payee card took to the card; the code then pays nothing', async () => {
    await runPeerPay({ amount: '100.00', fromSim: join(dir, `${A}.json`), toSim: join(dir, `${B}.json`), packetOut: join(dir, 'p2.bin'), code: '1234567812345678', pinFile: join(dir, 'pin'), journal: join(dir, 'journal') });
    expect(SimulatedCard.fromFile(join(dir, `${B}.json`)).memory.balanceFen).toBe(20_000);
    await expect(runPacketDeposit({ ...reg, packet: join(dir, 'p2.bin') })).rejects.toThrow(/--receipt .*--opened/);
    const d = await runPacketDeposit({ ...reg, packet: join(dir, 'p2.bin'), receipt: join(dir, 'p2.bin.receipt') });
    expect(d.line.owner).toBe(`card:${B}`);
    await expect(runRedeem({ ...reg, code: '1234567812345678', bankCode: '103100000002' })).rejects.toThrow(/no coins wait/);
  }, 120_000);

  it('names a bad withdrawal code or a missing card option', async () => {
    await expect(runPeerPay({ amount: '1.00', fromSim: 'x', toSim: 'y', packetOut: join(dir, 'x'), code: '12' })).rejects.toThrow(/--code/);
    await expect(runPeerPay({ amount: '1.00', toSim: 'y', packetOut: join(dir, 'x') })).rejects.toThrow(/--from-reader or --from-sim/);
  });
});
