/**
 * @module `drmb peer pay --online` against `drmb bank serve` started in the test on port 0: the payee card
 * imports only after the bank confirms the owner change; a refusal (a registered payee naming no account,
 * a bank that cannot be reached) leaves the payee card untouched, the packet on disk and the coins the
 * payer's in the registry. Slow: real SM9 cards.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchConfirmations } from '../../bank/online-bank-client.js';
import type { OnlineBankService } from '../../bank/online-bank-service.js';
import { cardOwner } from '../../bank/registry.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { startBankFromOptions } from '../bank/serve.js';
import { runMint } from '../bank/mint.js';
import { openRegistry } from '../bank/registry-options.js';
import { runWithdraw } from '../bank/withdraw.js';
import { runDrmb } from '../../test/run-drmb.js';
import { runUserKey } from '../keys/user-key.js';
import { runIssue } from '../perso/issue.js';
import { runPrepare } from '../perso/prepare.js';
import { projectPath } from '../project-path.js';
import { createSimCard } from '../sim/create.js';

const A = '62120000000000008301';
const B = '62120000000000008302';
const C = '62120000000000008303';
const BANK = '105100000007';
let dir: string;
let reg: { keys: string; registry: string };
let service: OnlineBankService;
let closed = false;
const image = (id: string) => join(dir, `${id}.json`);
const balance = (id: string) => SimulatedCard.fromFile(image(id)).memory.balanceFen;

/** Runs `drmb ARGS` in this process; its exit code and what it printed. */
const drmb = runDrmb;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-online-cli-'));
  initKeyDirectory(join(dir, 'keys'));
  writeFileSync(join(dir, 'pin'), '864213\n', { mode: 0o600 });
  reg = { keys: join(dir, 'keys'), registry: join(dir, 'registry') };
  for (const id of [A, B, C]) {
    const common = { keys: reg.keys, manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'test', sim: image(id) };
    await createSimCard({ image: common.sim, cardId: id, keys: reg.keys });
    await runPrepare({ ...common, profile: projectPath('examples', 'profiles', 'prepare.json') }, false);
    await runIssue({ ...common, profile: projectPath('examples', 'profiles', 'issue.json'), pinFile: join(dir, 'pin') }, false);
  }
  // A holds three 100.00 yuan notes and one of 10.00, so each payment below has its exact coins.
  await runMint({ ...reg, amount: '310.00', toBank: '102100000001' });
  await runWithdraw({ ...reg, amount: '300.00', bankCode: '102100000001', sim: image(A), terminalId: '100000000001' });
  await runWithdraw({ ...reg, amount: '10.00', bankCode: '102100000001', sim: image(A), terminalId: '100000000001' });
  for (const id of [B, C]) runUserKey({ keys: reg.keys, identity: `${id}|2036`, out: join(dir, `${id}.key`) });
  // C is a registered user of the payee's bank: paid only under its account.
  service = await startBankFromOptions({ ...reg, port: '0', bankCode: BANK, bankData: join(dir, 'bank'), user: [`${C}|2036=ACC-C`] });
}, 240_000);
afterAll(async () => {
  if (!closed) await service?.close();
});

const pay = (to: string, packet: string, ...more: string[]) =>
  drmb('peer', 'pay', '--online', '--bank', service.url, '--trust-anchors', join(dir, 'keys', 'trust-anchors.json'), '--payee-key', join(dir, `${to}.key`), '--amount', '100.00', '--from-sim', image(A), '--to-sim', image(to), '--packet-out', join(dir, packet), '--pin-file', join(dir, 'pin'), '--journal', join(dir, 'journal'), ...more);

describe('drmb peer pay --online', () => {
  it('imports on the payee card only once the bank confirms the owner change, with the confirmation in the report', async () => {
    const r = await pay(B, 'online-1.bin', '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.online.toPayee).toMatchObject({ outcome: 'owner-changed', newOwner: cardOwner(B), to: `payee:${B}|2036` });
    expect(balance(B)).toBe(10_000);
    const forPayer = await fetchConfirmations(service.url, report.packetHash, `payer:${A}`);
    expect(forPayer.map((c) => c.outcome)).toEqual(['owner-changed']);
    // Either side fetches them with the packet; the central bank's signature checks with the trust anchors.
    const asPayee = await drmb('peer', 'confirmations', '--bank', service.url, '--packet', join(dir, 'online-1.bin'), '--as', 'payee', '--json');
    expect(asPayee.code, asPayee.stderr).toBe(0);
    expect(JSON.parse(asPayee.stdout).confirmations.map((c: { to: string }) => c.to)).toEqual([`payee:${B}|2036`]);
    const all = await drmb('peer', 'confirmations', '--bank', service.url, '--packet', join(dir, 'online-1.bin'), '--trust-anchors', join(dir, 'keys', 'trust-anchors.json'));
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain('central-bank -> bank:105100000007: owner-changed');
    expect(all.stdout).toContain('[signature verified]');
  }, 60_000);

  it('refuses, in one line, a registered payee that names no account: the payee card does not import and the packet stays on disk', async () => {
    const before = balance(C);
    const r = await pay(C, 'online-2.bin');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('drmb:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('the bank refused it (registered-user');
    expect(lines[0]).toContain(`drmb peer receive --packet ${join(dir, 'online-2.bin')}`);
    expect(balance(C)).toBe(before);
    expect(existsSync(join(dir, 'online-2.bin'))).toBe(true);
    // With its account, the same payee is paid.
    const named = await pay(C, 'online-3.bin', '--payee-account', 'ACC-C');
    expect(named.code, named.stderr).toBe(0);
    expect(balance(C)).toBe(before + 10_000);
  }, 60_000);

  it('says in one line that the bank cannot be reached, and the payee card does not import', async () => {
    const before = balance(B);
    const r = await drmb('peer', 'pay', '--online', '--bank', 'http://127.0.0.1:1', '--trust-anchors', join(dir, 'keys', 'trust-anchors.json'), '--payee-key', join(dir, `${B}.key`), '--amount', '10.00', '--from-sim', image(A), '--to-sim', image(B), '--packet-out', join(dir, 'online-4.bin'), '--journal', join(dir, 'journal'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot be reached');
    expect(r.stderr).toContain(`still shows the coins as card ${A}'s`);
    expect(balance(B)).toBe(before);
    expect(existsSync(join(dir, 'online-4.bin'))).toBe(true);
  }, 60_000);

  it('submits a packet the bank could not be reached for again with drmb peer receive --online: the payee imports once confirmed, and only once', async () => {
    const before = balance(B);
    const receive = () =>
      drmb('peer', 'receive', '--online', '--bank', service.url, '--trust-anchors', join(dir, 'keys', 'trust-anchors.json'), '--payee-key', join(dir, `${B}.key`), '--packet', join(dir, 'online-4.bin'), '--sim', image(B), '--json');
    const r = await receive();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).online.toPayee).toMatchObject({ outcome: 'owner-changed', newOwner: cardOwner(B) });
    expect(balance(B)).toBe(before + 1_000);
    // Again: the bank answers the same confirmation and the card its stored response; nothing is credited twice.
    const again = await receive();
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).online.toPayee.id).toBe(JSON.parse(r.stdout).online.toPayee.id);
    expect(balance(B)).toBe(before + 1_000);
    // --online without --bank is refused before the card is touched.
    const bad = await drmb('peer', 'receive', '--online', '--packet', join(dir, 'online-4.bin'), '--sim', image(B));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--online needs --bank URL');
  }, 60_000);

  it('refuses --bank without --online, and --online without --payee-key, before any card is touched', async () => {
    const a = await drmb('peer', 'pay', '--bank', service.url, '--amount', '1.00', '--from-sim', image(A), '--to-sim', image(B), '--packet-out', join(dir, 'x.bin'));
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('go with --online');
    const b = await drmb('peer', 'pay', '--online', '--bank', service.url, '--amount', '1.00', '--from-sim', image(A), '--to-sim', image(B), '--packet-out', join(dir, 'x.bin'));
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--payee-key');
  });
});

describe('the registry after the online payments', () => {
  it('shows the paid coins owned by the payee cards, and the refused ones still the payer card\'s', async () => {
    await service.close();
    closed = true;
    const r = await openRegistry(reg, 'drmb bank deposit', { settles: true });
    try {
      expect(await r.balanceOf(cardOwner(B))).toBe(11_000);
      expect(await r.balanceOf(cardOwner(C))).toBe(10_000);
      // The refused 100.00 left card A (its packet is on disk) but is still its coins; the 10.00 went to B once submitted again.
      expect(await r.balanceOf(cardOwner(A))).toBe(10_000);
    } finally {
      await r.close();
    }
  });
});
