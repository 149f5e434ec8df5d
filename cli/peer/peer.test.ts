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
    const r = await runPeerPay({ amount: '100.00', fromSim: join(dir, `${A}.json`), toSim: join(dir, `${B}.json`), packetOut: join(dir, 'p1.bin'), pinFile: join(dir, 'pin') });
    expect(r).toMatchObject({ payerCardId: A, payeeCardId: B, payeeIdentity: `${B}|2036`, amountFen: 10_000 });
    expect(statSync(join(dir, 'p1.bin')).mode & 0o777).toBe(0o600);
    expect(SimulatedCard.fromFile(join(dir, `${A}.json`)).memory.balanceFen).toBe(10_000);
    expect(SimulatedCard.fromFile(join(dir, `${B}.json`)).memory.balanceFen).toBe(10_000);
    const d = await runPacketDeposit({ ...reg, packet: join(dir, 'p1.bin'), toCard: B });
    expect(d).toMatchObject({ cardId: A, amountFen: 10_000, owner: `card:${B}`, replayed: false });
    expect((await runPacketDeposit({ ...reg, packet: join(dir, 'p1.bin'), toCard: B })).replayed).toBe(true);
  }, 120_000);

  it('leaves a payment with a withdrawal code to the code, and the payee redeems it through a bank', async () => {
    await runPeerPay({ amount: '100.00', fromSim: join(dir, `${A}.json`), toSim: join(dir, `${B}.json`), packetOut: join(dir, 'p2.bin'), code: '1234567812345678', pinFile: join(dir, 'pin') });
    const d = await runPacketDeposit({ ...reg, packet: join(dir, 'p2.bin') });
    expect(d.owner).toMatch(/^code:/);
    expect(await runRedeem({ ...reg, code: '1234567812345678', bankCode: '103100000002' })).toEqual({ amountFen: 10_000, coins: 1, owner: 'bank:103100000002' });
    await expect(runRedeem({ ...reg, code: '1234567812345678', bankCode: '103100000002' })).rejects.toThrow();
  }, 120_000);

  it('names a bad withdrawal code or a missing card option', async () => {
    await expect(runPeerPay({ amount: '1.00', fromSim: 'x', toSim: 'y', packetOut: join(dir, 'x'), code: '12' })).rejects.toThrow(/--code/);
    await expect(runPeerPay({ amount: '1.00', toSim: 'y', packetOut: join(dir, 'x') })).rejects.toThrow(/--from-reader or --from-sim/);
  });
});
