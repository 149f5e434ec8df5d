/**
 * @module `drmb card return` on simulated cards against the registry service, each party with its own
 * bundle (issuance desk, bank vault, registry) and the bank's own SM9 key: the coins go to the bank's
 * vault through the registry, the cash paid out is audited once, the card ends TERMINATED. Killed by
 * the host at every step between the card's commits and the desk's records, or torn by a power cut at
 * every persistent write of the card's commands, a second run finishes the return: the card's value
 * reaches the vault once and is paid out once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../applet-spec/commands.js';
import { SW } from '../../applet-spec/status-words.js';
import { bankOwner, cardOwner } from '../../bank/registry.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError } from '../../host/errors.js';
import { verifyAuditLog } from '../../personalization/audit-log.js';
import { directTransport } from '../../host/direct-transport.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { drmbChild, tornTransport } from '../../test/torn-card.js';
import { issuedCard, posWorld, type PosWorld, CARD_PIN } from '../../test/pos-fixture.js';
import { runExport } from '../keys/export.js';
import { runUserKey } from '../keys/user-key.js';
import { runRegistryAuthorize } from '../registry/authorize.js';
import { type RegistryServiceWithKeys, startRegistryFromOptions } from '../registry/serve.js';
import { runWithdraw } from '../bank/withdraw.js';
import { runDeskOperation } from './desk.js';
import { returnCardOn, runCardReturn, type ReturnOptions } from './return.js';

const BANK = '102100000001';
const BANK_IDENTITY = `vault@${BANK}`;
let w: PosWorld;
let dir: string;
let service: RegistryServiceWithKeys;
const bundle = (name: string) => join(dir, 'bundles', name);
const ledger = () => new RemoteRegistry(service.url);


beforeAll(async () => {
  w = posWorld();
  dir = mkdtempSync(join(w.dir, 'return-'));
  for (const [name, role] of [['registry', 'registry'], ['vault', 'bank-vault'], ['desk', 'issuance-desk'], ['kgc', 'kgc']] as const) runExport({ role, out: bundle(name), keys: join(w.dir, 'keys') });
  runRegistryAuthorize({ keys: bundle('registry'), bankKey: bundle('vault'), bankCode: BANK, name: 'issuing bank' });
  runUserKey({ identity: BANK_IDENTITY, out: join(dir, 'bank.key'), keys: bundle('kgc') });
  writeFileSync(join(dir, 'pin'), `${CARD_PIN}\n`);
  service = await startRegistryFromOptions({ keys: bundle('registry'), registry: join(dir, 'registry'), port: '0', operatorToken: join(dir, 'operator.token') });
  const operator = new RemoteRegistry(service.url, { operatorToken: readFileSync(join(dir, 'operator.token'), 'utf8').trim() });
  await operator.mint({ denominationsFen: Array(40).fill(10_000).concat(Array(40).fill(5_000)), toBank: BANK, issueDate: '20261101', expiryDate: '20361231' });
}, 180_000);

afterAll(async () => {
  await service?.close();
});

/** An issued card image holding `fen` withdrawn from the bank's vault, and where its return writes. */
async function cardWith(cardId: string, fen: number): Promise<{ image: string; o: ReturnOptions }> {
  const image = join(dir, `${cardId}.json`);
  (await issuedCard(w, cardId, [])).saveToFile(image);
  const journal = join(dir, `journal-${cardId}`);
  if (fen > 0) await runWithdraw({ central: service.url, keys: bundle('vault'), amount: (fen / 100).toFixed(2), bankCode: BANK, sim: image, terminalId: '100000000001', journal });
  const o: ReturnOptions = {
    sim: image,
    keys: bundle('desk'),
    vaultKeys: bundle('vault'),
    central: service.url,
    bankCode: BANK,
    bankKey: join(dir, 'bank.key'),
    returns: join(dir, `returns-${cardId}`),
    journal,
    pinFile: join(dir, 'pin'),
    manifest: join(dir, 'manifest.jsonl'),
    audit: join(dir, `audit-${cardId}.log`),
    operator: 'desk test',
    yes: true,
  };
  return { image, o };
}

const balanceOf = async (owner: string) => (await ledger().ledger([owner])).balances[0].balanceFen;
const cashPaid = (audit: string, cardId: string) =>
  readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; cardId: string; detail: { amountFen?: number } })
    .filter((e) => e.action === 'cash-out' && e.cardId === cardId)
    .reduce((s, e) => s + e.detail.amountFen!, 0);

async function expectTerminated(image: string): Promise<void> {
  const e = await new DrmbCard(directTransport(SimulatedCard.fromFile(image), 'card')).select().catch((x: unknown) => x);
  expect((e as StatusWordError).sw).toBe(SW.FUNCTION_NOT_SUPPORTED);
}

/** The return's value rule: what left the card reached the vault once and was paid out in cash once. */
async function expectConserved(cardId: string, fen: number, vaultBefore: number, o: ReturnOptions): Promise<void> {
  expect(await balanceOf(cardOwner(cardId))).toBe(0);
  expect((await balanceOf(bankOwner(BANK))) - vaultBefore).toBe(fen);
  expect(cashPaid(o.audit, cardId)).toBe(fen);
  expect(verifyAuditLog(o.audit)).toBe(0);
}

describe('drmb card return', () => {
  it("pays the card's coins to the bank's vault through the registry, records the cash paid out, and terminates the card", async () => {
    const cardId = '62120000000000007001';
    const { image, o } = await cardWith(cardId, 15_000);
    const vaultBefore = await balanceOf(bankOwner(BANK));
    const r = await runCardReturn(o);
    expect(r).toMatchObject({ cardId, paidOutFen: 15_000, paidNowFen: 15_000, state: 'TERMINATED' });
    expect(r.exports.map((x) => x.owner)).toEqual([bankOwner(BANK)]);
    await expectTerminated(image);
    await expectConserved(cardId, 15_000, vaultBefore, o);
    expect(readFileSync(o.manifest, 'utf8')).toContain(`"cardId":"${cardId}","stage":"return","result":"done"`);
    // run again: the card is terminated and its return finished, nothing is paid twice
    await expect(runCardReturn(o)).rejects.toThrow(/terminated \(6A81\).*nothing to do/);
    expect(cashPaid(o.audit, cardId)).toBe(15_000);
  });

  it('asks first and changes nothing without the confirmation; a card with no coins is terminated with nothing paid', async () => {
    const cardId = '62120000000000007002';
    const { image, o } = await cardWith(cardId, 0);
    const before = readFileSync(image, 'hex');
    await expect(runCardReturn({ ...o, yes: false })).rejects.toThrow(/needs a confirmation: add --yes/);
    expect(readFileSync(image, 'hex')).toBe(before);
    expect(await runCardReturn(o)).toMatchObject({ paidOutFen: 0, exports: [] });
    await expectTerminated(image);
  });

  it("lifts the card's single-payment limit by what the return needs, audited, when the balance is above it", async () => {
    const cardId = '62120000000000007003';
    const { image, o } = await cardWith(cardId, 30_000);
    await runDeskOperation('set-limits', { sim: image, keys: bundle('desk'), yes: true, singleLimit: '100.00', manifest: o.manifest, audit: o.audit, operator: 'desk test' });
    const vaultBefore = await balanceOf(bankOwner(BANK));
    expect(await runCardReturn(o)).toMatchObject({ paidOutFen: 30_000 });
    expect(readFileSync(o.audit, 'utf8')).toContain('"action":"lift limit for return","cardId":"62120000000000007003","detail":{"name":"singleLimit","before":10000,"after":30000}');
    await expectConserved(cardId, 30_000, vaultBefore, o);
  });

  it('refuses a bundle of another role, a missing bank key and a bad bank code before the card is touched', async () => {
    const { image, o } = await cardWith('62120000000000007004', 5_000);
    const before = readFileSync(image, 'hex');
    await expect(runCardReturn({ ...o, keys: bundle('vault') })).rejects.toThrow('is a bank-vault bundle; drmb card return needs an issuance-desk bundle');
    await expect(runCardReturn({ ...o, bankKey: join(dir, 'missing.key') })).rejects.toThrow('--bank-key: cannot read');
    await expect(runCardReturn({ ...o, bankCode: '12' })).rejects.toThrow('--bank-code');
    expect(readFileSync(image, 'hex')).toBe(before);
  });
});

describe('drmb card return, interrupted, finishes on the next run without losing or doubling value', () => {
  const points = ['after-export', 'after-packet', 'after-settle', 'after-cash-out', 'after-terminate'] as const;
  points.forEach((point, i) => {
    it(`killed ${point}: the second run finishes; the vault got the coins once and the holder was paid once`, { timeout: 90_000 }, async () => {
      const cardId = `6212000000000000710${i}`;
      const { image, o } = await cardWith(cardId, 15_000);
      const vaultBefore = await balanceOf(bankOwner(BANK));
      const args = ['card', 'return', '--sim', image, '--keys', o.keys!, '--vault-keys', o.vaultKeys!, '--central', o.central!, '--bank-code', BANK, '--bank-key', o.bankKey];
      args.push('--returns', o.returns, '--journal', o.journal!, '--pin-file', o.pinFile!, '--manifest', o.manifest, '--audit', o.audit, '--operator', 'desk test', '--yes');
      const killed = await drmbChild(args, { DRMB_TEST_KILL_AT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const r = await runCardReturn(o);
      expect(r.paidOutFen).toBe(15_000);
      await expectTerminated(image);
      await expectConserved(cardId, 15_000, vaultBefore, o);
    });
  });

  // EXPORT COINS (80 54) moves the value, SET STATUS (F0) ends the card: a cut after each of their writes
  for (const [name, ins] of [[C.exportCoins.name, C.exportCoins.ins], [C.setStatus.name, C.setStatus.ins]] as const) {
    it(`torn by a power cut at every write of ${name}: the next run finishes the return, value conserved`, { timeout: 180_000 }, async () => {
      for (let k = 1; ; k++) {
        const cardId = `62120000000000007${ins === C.exportCoins.ins ? 2 : 3}${String(k).padStart(2, '0')}`;
        const { image, o } = await cardWith(cardId, 15_000);
        const vaultBefore = await balanceOf(bankOwner(BANK));
        const sim = SimulatedCard.fromFile(image);
        const cut = tornTransport(sim, ins, k);
        const outcome = await returnCardOn(cut.transport, { ...o, sim: undefined }).then(
          () => undefined,
          (e: unknown) => e,
        );
        const torn = cut.fired();
        // a run the cut did not reach must have finished; one it reached fails, whatever the host made of the lost card
        if (!torn && outcome !== undefined) throw outcome;
        sim.store.disarm();
        sim.saveToFile(image);
        if (torn) await runCardReturn(o);
        await expectTerminated(image);
        await expectConserved(cardId, 15_000, vaultBefore, o);
        if (!torn) break;
        expect(k).toBeLessThan(30);
      }
    });
  }
});
