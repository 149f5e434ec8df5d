/**
 * @module The withdrawal code end to end through the drmb program, as a payer, a payee and two banks use
 * it: the code travels only inside the payee-encrypted body; the payee's card or the payee's own terminal
 * opens the packet; a code pays out once, and never for coins the payee's card also took (caught with a
 * signed proof and the card blacklisted). Slow: real SM9 cards.
 */
import { EXIT } from '../../base/exit-codes.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bankOwner, cardOwner } from '../../bank/registry.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { openRegistry } from '../bank/registry-options.js';
import { runDrmb } from '../../test/run-drmb.js';
import { runIssue } from '../perso/issue.js';
import { runPrepare } from '../perso/prepare.js';
import { collectPersoPsam } from '../perso/psam.js';
import { projectPath } from '../project-path.js';
import { createSimCard } from '../sim/create.js';

const A = '62120000000000008201';
const B = '62120000000000008202';
const IDENTITY_B = `${B}|2036`;
const CODE = '4711000047110000';
const VAULT = '102100000001';
const CASH = '103100000002';
const MERCHANT_BANK = '104100000003';

let base: string;

/** Runs `drmb ARGS` in this process; its exit code and what it printed. */
const drmb = runDrmb;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'drmb-code-cli-'));
  initKeyDirectory(join(base, 'keys'));
  writeFileSync(join(base, 'pin'), '864213\n', { mode: 0o600 });
  for (const id of [A, B]) {
    const common = { keys: join(base, 'keys'), manifest: join(base, 'm.jsonl'), audit: join(base, 'a.log'), operator: 'test', sim: join(base, `${id}.json`) };
    await createSimCard({ image: common.sim, cardId: id, keys: common.keys });
    await runPrepare({ ...common, profile: projectPath('examples', 'profiles', 'prepare.json') }, false);
    await runIssue({ ...common, profile: projectPath('examples', 'profiles', 'issue.json'), pinFile: join(base, 'pin') }, false);
  }
  // The merchant terminal's PSAM, for drmb pos pay --psam-sim.
  await createSimCard({ image: join(base, 'psam.json'), psam: true, keys: join(base, 'keys') });
  await collectPersoPsam({ sim: join(base, 'psam.json'), keys: join(base, 'keys'), terminalId: '202611220001' });
}, 180_000);

/** A world of its own: registry, card images, journal; A holds 200.00 yuan, B nothing. */
async function world(name: string, o: { bFen?: string } = {}) {
  const dir = join(base, name);
  mkdirSync(dir);
  for (const id of [A, B]) writeFileSync(join(dir, `${id}.json`), readFileSync(join(base, `${id}.json`)), { mode: 0o600 });
  const reg = ['--keys', join(base, 'keys'), '--registry', join(dir, 'registry')];
  const journal = ['--journal', join(dir, 'journal')];
  const a = join(dir, `${A}.json`);
  const b = join(dir, `${B}.json`);
  expect((await drmb('bank', 'mint', '--yes', ...reg, '--amount', '2450.00', '--to-bank', VAULT)).code).toBe(0);
  expect((await drmb('bank', 'withdraw', ...reg, ...journal, '--amount', '200.00', '--bank-code', VAULT, '--sim', a, '--terminal-id', '100000000001')).code).toBe(0);
  if (o.bFen) {
    const wb = await drmb('bank', 'withdraw', ...reg, ...journal, '--amount', o.bFen, '--bank-code', VAULT, '--sim', b, '--terminal-id', '100000000001');
    expect(wb.code, wb.stderr).toBe(0);
  }
  const pay = await drmb('peer', 'pay', ...journal, '--amount', '100.00', '--from-sim', a, '--to-sim', b, '--packet-out', join(dir, 'p.bin'), '--code', CODE, '--pin-file', join(base, 'pin'), '--trace');
  const balances = () => ({ a: SimulatedCard.fromFile(a).memory.balanceFen, b: SimulatedCard.fromFile(b).memory.balanceFen });
  if (!o.bFen) {
    expect(pay.code, pay.stderr).toBe(0);
    expect(balances()).toEqual({ a: 10_000, b: 10_000 });
  }
  const ownerOfPaidCoins = async () => {
    const r = await openRegistry({ keys: join(base, 'keys'), registry: join(dir, 'registry') }, 'drmb bank deposit', { settles: true });
    try {
      const coins = SimulatedCard.fromFile(b).memory.coins;
      return await Promise.all(coins.map((c) => r.ownerOf(c.body.serial)));
    } finally {
      await r.close();
    }
  };
  return { dir, reg, journal, a, b, pay, balances, ownerOfPaidCoins, packet: join(dir, 'p.bin') };
}

describe('a payment the payee card refused', () => {
  it('stays importable: drmb peer receive takes the same packet once the card has room, and the bank settles it on the receipt', async () => {
    const w = await world('refused', { bFen: '1950.00' });
    // B is 50.00 yuan under its 2000.00 cap: the 100.00 yuan payment is refused (9412); A has paid, the packet is in its file.
    expect(w.pay.code).toBe(1);
    // One error line (the others are the --trace of the APDUs).
    expect(w.pay.stderr.trim().split('\n').filter((l) => l.startsWith('drmb:'))).toHaveLength(1);
    expect(w.pay.stderr).toContain(`import it again with drmb peer receive --packet ${w.packet}`);
    expect(w.balances()).toEqual({ a: 10_000, b: 195_000 });
    const early = await drmb('peer', 'receive', '--packet', w.packet, '--sim', w.b);
    expect(early.code).toBe(1);
    expect(w.balances().b).toBe(195_000);
    // B spends at a POS, then receives the same packet; a second receive credits nothing more.
    const pos = await drmb('pos', 'pay', '--keys', join(base, 'keys'), '--sim', w.b, '--amount', '100.00', '--queue', join(w.dir, 'q.jsonl'), '--psam-sim', join(base, 'psam.json'), '--merchant', 'shop@merchant', '--pin-file', join(base, 'pin'));
    expect(pos.code, pos.stderr).toBe(0);
    const r = await drmb('peer', 'receive', '--packet', w.packet, '--sim', w.b, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ payeeCardId: B, payerCardId: A, amountFen: 10_000, receiptFile: `${w.packet}.receipt` });
    expect(w.balances()).toEqual({ a: 10_000, b: 195_000 });
    expect((await drmb('peer', 'receive', '--packet', w.packet, '--sim', w.b)).code).toBe(0);
    expect(w.balances().b).toBe(195_000);
    const d = await drmb('bank', 'deposit', ...w.reg, '--packet', w.packet, '--receipt', `${w.packet}.receipt`, '--json');
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).line).toMatchObject({ result: 'settled', owner: cardOwner(B) });
  }, 180_000);
});

describe('the withdrawal code of a peer payment', () => {
  it('is nowhere in the packet or the trace; the bank cannot settle a transfer without the payee card or the payee', async () => {
    const w = await world('secret');
    const digits = Buffer.from(CODE, 'hex');
    expect(readFileSync(w.packet).includes(digits)).toBe(false);
    expect(readFileSync(`${w.packet}.receipt`).includes(digits)).toBe(false);
    expect(w.pay.stderr).not.toContain(CODE);
    expect(w.pay.stdout).not.toContain(CODE);
    const bare = await drmb('bank', 'deposit', ...w.reg, '--packet', w.packet);
    expect(bare.code).toBe(2);
    expect(bare.stderr.trim().split('\n')).toHaveLength(1);
    expect(bare.stderr).toMatch(/--receipt .*--opened/);
    expect(await w.ownerOfPaidCoins()).toEqual([cardOwner(A)]);
  }, 120_000);

  it('settles to the payee card on its receipt, after which the opened code pays nothing and the card spends normally', async () => {
    const w = await world('card-first');
    const d = await drmb('bank', 'deposit', ...w.reg, '--packet', w.packet, '--receipt', `${w.packet}.receipt`, '--json');
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).line).toMatchObject({ result: 'settled', owner: cardOwner(B) });
    // The payee, who also holds its key outside the card, opens the packet and tries the code too.
    expect((await drmb('keys', 'user-key', '--keys', join(base, 'keys'), '--identity', IDENTITY_B, '--out', join(w.dir, 'b.key'))).code).toBe(0);
    const opened = await drmb('peer', 'open', '--packet', w.packet, '--payee-key', join(w.dir, 'b.key'), '--out', join(w.dir, 'opened.json'));
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain(`withdrawal code: ${CODE}`);
    const again = await drmb('bank', 'deposit', ...w.reg, '--packet', w.packet, '--opened', join(w.dir, 'opened.json'), '--json');
    expect(JSON.parse(again.stdout).line).toMatchObject({ result: 'already-settled', owner: cardOwner(B) });
    const redeem = await drmb('bank', 'redeem', ...w.reg, '--code', CODE, '--bank-code', CASH);
    expect(redeem.code).toBe(1);
    expect(redeem.stderr).toMatch(/no coins wait under this withdrawal code/);
    expect(await w.ownerOfPaidCoins()).toEqual([cardOwner(B)]);
    // Card B pays at a POS; the merchant's bank is paid.
    const pos = await drmb('pos', 'pay', '--keys', join(base, 'keys'), '--sim', w.b, '--amount', '100.00', '--queue', join(w.dir, 'q.jsonl'), '--psam-sim', join(base, 'psam.json'), '--merchant', 'shop@merchant', '--pin-file', join(base, 'pin'));
    expect(pos.code, pos.stderr).toBe(0);
    const m = await drmb('bank', 'deposit', ...w.reg, '--queue', join(w.dir, 'q.jsonl'), '--payee', 'shop@merchant', '--bank-code', MERCHANT_BANK);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/settled 100\.00 yuan/);
  }, 180_000);

  it('catches the payee who had the code paid out and spends the same coins with its card: proof, blacklist, the double-spend exit code', async () => {
    const w = await world('both');
    expect((await drmb('keys', 'user-key', '--keys', join(base, 'keys'), '--identity', IDENTITY_B, '--out', join(w.dir, 'b.key'))).code).toBe(0);
    expect((await drmb('peer', 'open', '--packet', w.packet, '--payee-key', join(w.dir, 'b.key'), '--out', join(w.dir, 'opened.json'))).code).toBe(0);
    const d = await drmb('bank', 'deposit', ...w.reg, '--packet', w.packet, '--opened', join(w.dir, 'opened.json'), '--json');
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout).line.owner).toMatch(/^code:/);
    const redeem = await drmb('bank', 'redeem', ...w.reg, '--code', CODE, '--bank-code', CASH, '--json');
    expect(redeem.code, redeem.stderr).toBe(0);
    expect(JSON.parse(redeem.stdout)).toMatchObject({ amountFen: 10_000, owner: bankOwner(CASH) });
    expect((await drmb('bank', 'redeem', ...w.reg, '--code', CODE, '--bank-code', CASH)).code).toBe(1);
    // Card B still holds the coins it imported, and spends them at a POS that accepts them offline.
    const pos = await drmb('pos', 'pay', '--keys', join(base, 'keys'), '--sim', w.b, '--amount', '100.00', '--queue', join(w.dir, 'q.jsonl'), '--psam-sim', join(base, 'psam.json'), '--merchant', 'shop@merchant', '--pin-file', join(base, 'pin'));
    expect(pos.code, pos.stderr).toBe(0);
    const m = await drmb('bank', 'deposit', ...w.reg, '--queue', join(w.dir, 'q.jsonl'), '--payee', 'shop@merchant', '--bank-code', MERCHANT_BANK);
    expect(m.code, 'the exit code of a double spend caught').toBe(EXIT.doubleSpend);
    expect(m.stdout).toMatch(new RegExp(`PURCHASE ${B} #\\d+ 100\\.00 double-spend`));
    expect(m.stderr).toMatch(/1 of 1 packet\(s\) not settled: PURCHASE .* double-spend/);
    const r = await openRegistry({ keys: join(base, 'keys'), registry: join(w.dir, 'registry') }, 'drmb bank deposit', { settles: true });
    try {
      const [proof] = await r.proofs(B);
      expect(proof).toMatchObject({ reason: 'code-and-card', payerCardId: B, payerIdentity: IDENTITY_B });
      expect(Buffer.from(proof.packetA).equals(readFileSync(w.packet))).toBe(true);
      expect(await r.blacklist()).toEqual([B]);
    } finally {
      await r.close();
    }
  }, 180_000);
});
