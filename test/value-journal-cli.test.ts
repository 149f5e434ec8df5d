/** @module drmb value commands lose no value: `drmb peer pay` checks its arguments before a coin leaves the card, and the value journal finishes a payment or a withdrawal whose host was killed (`drmb card recover`, or the next command on the card). Slow: real SM9 cards, child processes. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportPacketCoder } from '../applet-spec/value-formats.js';
import { DrmbCard } from '../host/drmb-card.js';
import { JournalError, ValueJournal } from '../host/value-journal.js';
import { initKeyDirectory } from '../personalization/key-ceremony.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { runPacketDeposit } from '../cli/bank/deposit.js';
import { runMint } from '../cli/bank/mint.js';
import { runWithdraw } from '../cli/bank/withdraw.js';
import { openRegistry } from '../cli/bank/registry-options.js';
import { bankOwner, cardOwner } from '../bank/registry.js';
import { runRecover } from '../cli/card/recover.js';
import { openCard } from '../cli/open-card.js';
import { UsageError } from '../cli/output.js';
import { runIssue } from '../cli/perso/issue.js';
import { runPrepare } from '../cli/perso/prepare.js';
import { projectPath } from '../cli/project-path.js';
import { createSimCard } from '../cli/sim/create.js';
import { PeerPayError, runPeerPay } from '../cli/peer/pay.js';

const A = '62120000000000008101';
const B = '62120000000000008102';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Runs the drmb program from source in a child process (so that it can be killed) with the arguments after `--`. */
const ENTRY = `const { main } = await import(${JSON.stringify(join(ROOT, 'cli', 'drmb.ts'))}); await main(['node', 'drmb', ...process.argv.slice(1)]);`;

let base: string;
let reg: { keys: string; registry: string };

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'drmb-pay-journal-'));
  initKeyDirectory(join(base, 'keys'));
  writeFileSync(join(base, 'pin'), '864213\n', { mode: 0o600 });
  reg = { keys: join(base, 'keys'), registry: join(base, 'registry') };
  for (const id of [A, B]) {
    const common = { keys: reg.keys, manifest: join(base, 'm.jsonl'), audit: join(base, 'a.log'), operator: 'test', sim: join(base, `${id}.json`) };
    await createSimCard({ image: common.sim, cardId: id, keys: reg.keys });
    await runPrepare({ ...common, profile: projectPath('examples', 'profiles', 'prepare.json') }, false);
    await runIssue({ ...common, profile: projectPath('examples', 'profiles', 'issue.json'), pinFile: join(base, 'pin') }, false);
  }
  await runMint({ ...reg, amount: '300.00', toBank: '102100000001' });
  await runWithdraw({ ...reg, amount: '200.00', bankCode: '102100000001', sim: join(base, `${A}.json`), terminalId: '100000000001', journal: join(base, 'journal') });
}, 180_000);

/** A fresh pair of cards for one test: A holding 200.00 yuan, B empty, and an empty journal. */
function scenario(name: string) {
  const dir = join(base, name);
  mkdirSync(dir);
  const a = join(dir, 'A.json');
  const b = join(dir, 'B.json');
  copyFileSync(join(base, `${A}.json`), a);
  copyFileSync(join(base, `${B}.json`), b);
  const journal = join(dir, 'journal');
  return { dir, a, b, journal, pinFile: join(base, 'pin') };
}

const balance = (image: string) => SimulatedCard.fromFile(image).memory.balanceFen;

function drmb(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DRMB_HOME: join(base, 'home'), ...env },
  });
}

/** `drmb peer pay` of 100.00 yuan from A to B killed by SIGKILL at a named point (test-only fault injection). */
function payKilledAt(point: string, s: ReturnType<typeof scenario>, packetOut: string) {
  const r = drmb(['peer', 'pay', '--amount', '100.00', '--from-sim', s.a, '--to-sim', s.b, '--packet-out', packetOut, '--pin-file', s.pinFile, '--journal', s.journal], { DRMB_TEST_KILL_AT: point });
  expect(r.signal).toBe('SIGKILL');
  return r;
}

/** The card's GET TRANSACTION PROVE answer, read from a copy of the image (nothing written back). */
async function proofOf(image: string, counter: number): Promise<Uint8Array | undefined> {
  const card = await openCard({ sim: image }, { image: 'save-every-commit' });
  try {
    return await card.transport.lease(async (t) => {
      const c = new DrmbCard(t);
      await c.select();
      return c.transactionProof('TRANSFER', counter);
    });
  } finally {
    await card.close();
  }
}

const oneLine = (stderr: string) => stderr.trimEnd().split('\n');

describe('drmb peer pay checks its arguments before a coin leaves the card', () => {
  it('refuses a --packet-out in a missing directory with one line naming it; A and B keep their balances', () => {
    const s = scenario('missing-dir');
    const r = drmb(['peer', 'pay', '--amount', '100', '--from-sim', s.a, '--to-sim', s.b, '--packet-out', '/nonexistent/p.json', '--pin-file', s.pinFile, '--journal', s.journal]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toEqual(['drmb: --packet-out: directory /nonexistent does not exist']);
    expect(balance(s.a)).toBe(20_000);
    expect(balance(s.b)).toBe(0);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 60_000);

  it('refuses the same image as payer and payee with one line; the card keeps its balance', () => {
    const s = scenario('same-image');
    const r = drmb(['peer', 'pay', '--amount', '100', '--from-sim', s.a, '--to-sim', s.a, '--packet-out', join(s.dir, 'p.json'), '--pin-file', s.pinFile, '--journal', s.journal]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toEqual([`drmb: --from-sim and --to-sim name the same card image ${s.a}: the payer and the payee must be two cards`]);
    expect(balance(s.a)).toBe(20_000);
    expect(existsSync(join(s.dir, 'p.json'))).toBe(false);
  }, 60_000);

  it('refuses the same image by another path (a symlink) and a copy of the payer card (same card ID), before INITIALIZE FOR TRANSFER', async () => {
    const s = scenario('same-card');
    symlinkSync(s.a, join(s.dir, 'alias.json'));
    copyFileSync(s.a, join(s.dir, 'copy.json'));
    const o = { amount: '100.00', fromSim: s.a, packetOut: join(s.dir, 'p.bin'), pinFile: s.pinFile, journal: s.journal };
    await expect(runPeerPay({ ...o, toSim: join(s.dir, 'alias.json') })).rejects.toThrow(/--from-sim and --to-sim name the same card image/);
    await expect(runPeerPay({ ...o, toSim: join(s.dir, 'copy.json') })).rejects.toThrow(new RegExp(`the payer and the payee are the same card ${A}`));
    expect(balance(s.a)).toBe(20_000);
    expect(balance(join(s.dir, 'copy.json'))).toBe(20_000);
    expect(SimulatedCard.fromFile(s.a).memory.counter).toBe(SimulatedCard.fromFile(join(base, `${A}.json`)).memory.counter);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 60_000);

  it('refuses a zero amount, a --packet-out that is a directory or an existing file, a --receipt-out in a missing directory and an unusable --journal, each by name', async () => {
    const s = scenario('bad-args');
    writeFileSync(join(s.dir, 'earlier.bin'), 'an earlier packet');
    const o = { amount: '100.00', fromSim: s.a, toSim: s.b, packetOut: join(s.dir, 'p.bin'), pinFile: s.pinFile, journal: s.journal };
    await expect(runPeerPay({ ...o, amount: '0.00' })).rejects.toThrow(/^--amount must be more than 0.00$/);
    await expect(runPeerPay({ ...o, packetOut: s.dir })).rejects.toThrow(`--packet-out: ${s.dir} is a directory`);
    await expect(runPeerPay({ ...o, packetOut: join(s.dir, 'earlier.bin') })).rejects.toThrow(/^--packet-out: .*earlier.bin already exists/);
    await expect(runPeerPay({ ...o, receiptOut: join(s.dir, 'none', 'r.bin') })).rejects.toThrow(/^--receipt-out: directory .*none does not exist$/);
    await expect(runPeerPay({ ...o, journal: join(s.dir, 'earlier.bin', 'journal') })).rejects.toThrow(/^--journal: cannot create .*ENOTDIR/);
    await expect(runPeerPay({ ...o, amount: '0.00' })).rejects.toBeInstanceOf(UsageError);
    expect(readFileSync(join(s.dir, 'earlier.bin'), 'utf8')).toBe('an earlier packet');
    expect(balance(s.a)).toBe(20_000);
    expect(balance(s.b)).toBe(0);
  }, 60_000);
});

describe('drmb peer pay under the value journal', () => {
  it('pays, writes packet and receipt (0600), and closes its intent', async () => {
    const s = scenario('pays');
    const packetOut = join(s.dir, 'p.bin');
    const r = await runPeerPay({ amount: '100.00', fromSim: s.a, toSim: s.b, packetOut, pinFile: s.pinFile, journal: s.journal });
    expect(r).toMatchObject({ payerCardId: A, payeeCardId: B, amountFen: 10_000, packetFile: packetOut, receiptFile: `${packetOut}.receipt`, recovered: [] });
    expect(statSync(packetOut).mode & 0o777).toBe(0o600);
    expect(statSync(`${packetOut}.receipt`).mode & 0o777).toBe(0o600);
    expect([...readFileSync(packetOut)]).toEqual([...(await proofOf(s.a, r.payerCounter))!]);
    expect(balance(s.a)).toBe(10_000);
    expect(balance(s.b)).toBe(10_000);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 60_000);

  it('killed after the export committed: drmb card recover writes the packet from the card, B imports it, the bank settles it; A + B + packet = 200.00', async () => {
    const s = scenario('killed-after-export');
    const packetOut = join(s.dir, 'p.bin');
    payKilledAt('after-export', s, packetOut);
    // The card committed (A debited) and the host died before writing: only the journal knows.
    expect(balance(s.a)).toBe(10_000);
    expect(balance(s.b)).toBe(0);
    expect(existsSync(packetOut)).toBe(false);
    const [intent] = new ValueJournal(s.journal).openIntents(A);
    expect(intent).toMatchObject({ cardId: A, type: 'TRANSFER', command: 'EXPORT COINS', amountFen: 10_000, destination: packetOut });

    const r = drmb(['card', 'recover', '--sim', s.a, '--journal', s.journal]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`card ${A} TRANSFER counter ${intent.counter} (100.00 yuan): packet written to ${packetOut}`);
    const packet = new Uint8Array(readFileSync(packetOut));
    expect(statSync(packetOut).mode & 0o777).toBe(0o600);
    expect([...packet]).toEqual([...(await proofOf(s.a, intent.counter))!]);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
    expect(new ValueJournal(s.journal).closedIntent(intent.id)).toMatchObject({ outcome: 'delivered' });
    expect(balance(s.a) + exportPacketCoder.decode(packet).header.amountFen + balance(s.b)).toBe(20_000);

    // The payee card takes the recovered packet, and its bank settles it with the card's receipt.
    const payee = await openCard({ sim: s.b }, { image: 'save-every-commit' });
    const imported = await payee.transport.lease(async (t) => {
      const card = new DrmbCard(t);
      await card.select();
      return card.importPacket(packet);
    });
    await payee.close();
    expect(balance(s.a)).toBe(10_000);
    expect(balance(s.b)).toBe(10_000);
    writeFileSync(`${packetOut}.receipt`, imported.responseBytes);
    const d = await runPacketDeposit({ ...reg, packet: packetOut, receipt: `${packetOut}.receipt` });
    expect(d.line).toMatchObject({ cardId: A, counter: intent.counter, amountFen: 10_000, result: 'settled', owner: `card:${B}` });
  }, 120_000);

  it('killed after the export: the next peer pay on the card writes the earlier packet first, then pays', async () => {
    const s = scenario('next-pay-finishes');
    const first = join(s.dir, 'p1.bin');
    payKilledAt('after-export', s, first);
    const [intent] = new ValueJournal(s.journal).openIntents(A);
    const r = await runPeerPay({ amount: '100.00', fromSim: s.a, toSim: s.b, packetOut: join(s.dir, 'p2.bin'), pinFile: s.pinFile, journal: s.journal, json: true });
    expect(r.recovered).toEqual([expect.objectContaining({ id: intent.id, result: 'delivered', file: first })]);
    expect([...readFileSync(first)]).toEqual([...(await proofOf(s.a, intent.counter))!]);
    expect(r.payerCounter).toBe(intent.counter + 1);
    expect(balance(s.a)).toBe(0);
    expect(balance(s.b)).toBe(10_000);
    expect(balance(s.a) + balance(s.b) + exportPacketCoder.decode(new Uint8Array(readFileSync(first))).header.amountFen).toBe(20_000);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 120_000);

  it('an earlier packet that still cannot be written stops the next payment with the command to run; recover --out writes it elsewhere', async () => {
    const s = scenario('still-unwritable');
    mkdirSync(join(s.dir, 'out'));
    const first = join(s.dir, 'out', 'p1.bin');
    payKilledAt('after-export', s, first);
    rmSync(join(s.dir, 'out'), { recursive: true });
    const [intent] = new ValueJournal(s.journal).openIntents(A);
    const next = runPeerPay({ amount: '100.00', fromSim: s.a, toSim: s.b, packetOut: join(s.dir, 'p2.bin'), pinFile: s.pinFile, journal: s.journal });
    await expect(next).rejects.toBeInstanceOf(JournalError);
    await expect(next).rejects.toThrow(`; run: drmb card recover --sim ${s.a} --journal ${s.journal} --counter ${intent.counter} --out <new file>`);
    expect(balance(s.a)).toBe(10_000);
    expect(balance(s.b)).toBe(0);
    expect(existsSync(join(s.dir, 'p2.bin'))).toBe(false);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([intent]);

    const moved = join(s.dir, 'p1-recovered.bin');
    const r = await runRecover({ sim: s.a, journal: s.journal, counter: String(intent.counter), out: moved });
    expect(r.intents).toEqual([expect.objectContaining({ result: 'delivered', file: moved })]);
    expect([...readFileSync(moved)]).toEqual([...(await proofOf(s.a, intent.counter))!]);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 120_000);

  it('killed after the packet was written: recover finds it in place, leaves it as it is and closes the intent', async () => {
    const s = scenario('killed-after-packet');
    const packetOut = join(s.dir, 'p.bin');
    payKilledAt('after-packet', s, packetOut);
    const written = readFileSync(packetOut);
    const r = await runRecover({ sim: s.a, journal: s.journal });
    expect(r.intents).toEqual([expect.objectContaining({ result: 'delivered', file: packetOut })]);
    expect(readFileSync(packetOut).equals(written)).toBe(true);
    expect(balance(s.a)).toBe(10_000);
    expect(balance(s.b)).toBe(0);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 120_000);

  it('closes an intent whose export the card never committed (9406) as "no value moved"', async () => {
    const s = scenario('never-committed');
    const journal = new ValueJournal(s.journal);
    journal.prepare();
    const counter = SimulatedCard.fromFile(s.a).memory.counter;
    const intent = journal.open({ cardId: A, type: 'TRANSFER', counter, amountFen: 10_000, destination: join(s.dir, 'p.bin') });
    const r = await runRecover({ sim: s.a, journal: s.journal, json: true });
    expect(r.intents).toEqual([expect.objectContaining({ id: intent.id, result: 'not-committed' })]);
    expect(r.intents[0].message).toMatch(/no value moved/);
    expect(journal.closedIntent(intent.id)?.outcome).toBe('not-committed');
    expect(existsSync(join(s.dir, 'p.bin'))).toBe(false);
    expect(balance(s.a)).toBe(20_000);
  }, 60_000);

  it('a payee card that refuses the import leaves the packet in its file and the export intent closed, in one line', async () => {
    const s = scenario('import-refused');
    await runPeerPay({ amount: '100.00', fromSim: s.a, toSim: s.b, packetOut: join(s.dir, 'p1.bin'), pinFile: s.pinFile, journal: s.journal });
    // A restored image of A spends the same coins again: B already holds them and answers 9411.
    copyFileSync(join(base, `${A}.json`), s.a);
    const second = join(s.dir, 'p2.bin');
    const pay = runPeerPay({ amount: '100.00', fromSim: s.a, toSim: s.b, packetOut: second, pinFile: s.pinFile, journal: s.journal });
    await expect(pay).rejects.toBeInstanceOf(PeerPayError);
    await expect(pay).rejects.toThrow(`the packet is in ${second}: import it again with drmb peer receive --packet ${second}`);
    expect(existsSync(second)).toBe(true);
    expect(existsSync(`${second}.receipt`)).toBe(false);
    expect(balance(s.a)).toBe(10_000);
    expect(balance(s.b)).toBe(10_000);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 120_000);
});

describe('drmb bank withdraw under the value journal', () => {
  it("killed between CREDIT FOR LOAD and the registry record: drmb card recover records the coins from the card's proof", async () => {
    const s = scenario('withdraw-killed');
    const ownerBalances = async () => {
      const registry = await openRegistry(reg, 'drmb bank deposit', { settles: true });
      try {
        return { card: await registry.balanceOf(cardOwner(B)), vault: await registry.balanceOf(bankOwner('102100000001')) };
      } finally {
        await registry.close();
      }
    };
    // the registry is shared with the other tests: B's card may own coins from a deposit already
    const before = await ownerBalances();
    expect(before.vault).toBe(10_000);
    const r = drmb(['bank', 'withdraw', '--amount', '100.00', '--bank-code', '102100000001', '--sim', s.b, '--keys', reg.keys, '--registry', reg.registry, '--journal', s.journal], {
      DRMB_TEST_KILL_AT: 'after-credit',
    });
    expect(r.signal).toBe('SIGKILL');
    // The card holds the coins; the registry still has them in the vault; only the journal knows.
    expect(balance(s.b)).toBe(10_000);
    expect(await ownerBalances()).toEqual(before);
    const [intent] = new ValueJournal(s.journal).openIntents(B);
    expect(intent).toMatchObject({ cardId: B, type: 'LOAD', command: 'CREDIT FOR LOAD', amountFen: 10_000, destination: `registry ${reg.registry}` });

    const rec = drmb(['card', 'recover', '--sim', s.b, '--journal', s.journal]);
    expect(rec.status).toBe(0);
    expect(rec.stdout).toContain(`card ${B} LOAD counter ${intent.counter} (100.00 yuan): coins recorded in the registry as card ${B}'s`);
    expect(await ownerBalances()).toEqual({ card: before.card + 10_000, vault: 0 });
    expect(balance(s.b)).toBe(10_000);
    expect(new ValueJournal(s.journal).openIntents()).toEqual([]);
  }, 120_000);
});
