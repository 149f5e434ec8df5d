/**
 * @module `drmb bank renew` on simulated cards against the registry service, the bank with its
 * bank-vault bundle and its own SM9 key: the coins expiring before the date leave the card, their
 * serials are retired in the registry, and fresh coins of the same total come back from the vault in
 * the same visit. Killed at every step between the card's commits and the bank's records, or torn by a
 * power cut at every persistent write of EXPORT COINS and CREDIT FOR LOAD, a second run finishes the
 * renewal with the value conserved: card + vault + retired is what it was, each serial in one place.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../applet-spec/commands.js';
import { bankOwner, cardOwner, RETIRED } from '../../bank/registry.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { drmbChild, tornTransport } from '../../test/torn-card.js';
import { CARD_PIN, issuedCard, posWorld, type PosWorld } from '../../test/pos-fixture.js';
import { runExport } from '../keys/export.js';
import { runUserKey } from '../keys/user-key.js';
import { runRegistryAuthorize } from '../registry/authorize.js';
import { type RegistryServiceWithKeys, startRegistryFromOptions } from '../registry/serve.js';
import { runWithdraw } from './withdraw.js';
import { runPacketDeposit } from './deposit.js';
import { collectBalance } from '../card/balance.js';
import { runPeerPay } from '../peer/pay.js';
import { verifyAuditLog } from '../../personalization/audit-log.js';
import { withCard } from '../open-card.js';
import { renewOn, runRenew, type RenewOptions } from './renew.js';

const BANK = '102100000001';
/** The bank whose vault holds only coins near expiry, from which the cards get theirs. */
const OLD_BANK = '102100000009';
const NEAR = '20270301';
const BEFORE = '20280101';
let w: PosWorld;
let dir: string;
let service: RegistryServiceWithKeys;
let operator: RemoteRegistry;
const bundle = (name: string) => join(dir, 'bundles', name);
const ledger = () => new RemoteRegistry(service.url);


beforeAll(async () => {
  w = posWorld();
  dir = mkdtempSync(join(w.dir, 'renew-'));
  for (const [name, role] of [['registry', 'registry'], ['vault', 'bank-vault'], ['old-vault', 'bank-vault'], ['kgc', 'kgc']] as const) runExport({ role, out: bundle(name), keys: join(w.dir, 'keys') });
  runRegistryAuthorize({ keys: bundle('registry'), bankKey: bundle('vault'), bankCode: BANK, name: 'issuing bank' });
  runRegistryAuthorize({ keys: bundle('registry'), bankKey: bundle('old-vault'), bankCode: OLD_BANK, name: 'bank of old coins' });
  runUserKey({ identity: `vault@${BANK}`, out: join(dir, 'bank.key'), keys: bundle('kgc') });
  writeFileSync(join(dir, 'pin'), `${CARD_PIN}\n`);
  service = await startRegistryFromOptions({ keys: bundle('registry'), registry: join(dir, 'registry'), port: '0', operatorToken: join(dir, 'operator.token') });
  operator = new RemoteRegistry(service.url, { operatorToken: readFileSync(join(dir, 'operator.token'), 'utf8').trim() });
}, 180_000);

afterAll(async () => {
  await service?.close();
});

/**
 * A card holding 100.00 + 50.00 in coins expiring on NEAR and 20.00 in a coin expiring in 2036, and a
 * vault with fresh coins to renew them from.
 */
async function cardWithOldCoins(cardId: string): Promise<{ image: string; o: RenewOptions }> {
  const image = join(dir, `${cardId}.json`);
  (await issuedCard(w, cardId, [])).saveToFile(image);
  const journal = join(dir, `journal-${cardId}`);
  const withdrawal = { central: service.url, keys: bundle('vault'), bankCode: BANK, sim: image, terminalId: '100000000001', journal };
  // the near-expiry coins come from a vault that holds nothing else; the renewing bank's vault holds fresh ones
  await operator.mint({ denominationsFen: [10_000, 5_000], toBank: OLD_BANK, issueDate: '20250301', expiryDate: NEAR });
  await runWithdraw({ ...withdrawal, keys: bundle('old-vault'), bankCode: OLD_BANK, amount: '150.00' });
  await operator.mint({ denominationsFen: [2_000, 10_000, 5_000], toBank: BANK, issueDate: '20261101', expiryDate: '20361231' });
  await runWithdraw({ ...withdrawal, amount: '20.00' });
  const o: RenewOptions = { sim: image, keys: bundle('vault'), central: service.url, bankCode: BANK, bankKey: join(dir, 'bank.key'), before: BEFORE, terminalId: '100000000001', renewals: join(dir, `renewals-${cardId}`), journal, pinFile: join(dir, 'pin'), audit: join(dir, `audit-${cardId}.log`), operator: 'vault test' };
  return { image, o };
}

const balanceOf = async (owner: string) => (await ledger().ledger([owner])).balances[0].balanceFen;

async function expectRenewed(cardId: string, image: string, before: { vault: number; retired: number }, audit?: string): Promise<void> {
  if (audit) {
    expect(verifyAuditLog(audit)).toBe(0);
    const actions = readFileSync(audit, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions.filter((a) => a === 'renewal settled')).toHaveLength(1);
    expect(actions.filter((a) => a === 'renewal loaded')).toHaveLength(1);
  }
  const card = SimulatedCard.fromFile(image);
  expect(card.memory.balanceFen).toBe(17_000);
  expect(card.memory.coins.every((c) => c.body.expiryDate >= BEFORE)).toBe(true);
  expect(await balanceOf(cardOwner(cardId))).toBe(17_000);
  expect((await balanceOf(RETIRED)) - before.retired).toBe(15_000);
  expect(before.vault - (await balanceOf(bankOwner(BANK)))).toBe(15_000);
}

const snapshot = async () => ({ vault: await balanceOf(bankOwner(BANK)), retired: await balanceOf(RETIRED) });

describe('drmb bank renew', () => {
  it('takes the coins expiring before the date off the card, retires their serials, and loads fresh coins of the same total', async () => {
    const cardId = '62120000000000006001';
    const { image, o } = await cardWithOldCoins(cardId);
    const before = await snapshot();
    const r = await runRenew(o);
    expect(r).toMatchObject({ cardId, renewedFen: 15_000, balanceFen: 17_000, leftFen: 0 });
    expect(r.rounds.map((x) => [x.owner, x.loaded])).toEqual([[RETIRED, true]]);
    await expectRenewed(cardId, image, before, o.audit);
    // nothing is left to renew: a second run does nothing
    expect(await runRenew(o)).toMatchObject({ renewedFen: 15_000, balanceFen: 17_000 });
    await expectRenewed(cardId, image, before, o.audit);
  });

  it('refuses a bad --before and a bundle of another role before the card is touched', async () => {
    const { image, o } = await cardWithOldCoins('62120000000000006002');
    const bytes = readFileSync(image, 'hex');
    await expect(runRenew({ ...o, before: '2028' })).rejects.toThrow('--before must be a date YYYYMMDD');
    await expect(runRenew({ ...o, keys: bundle('registry') })).rejects.toThrow('is a registry bundle; drmb bank renew needs a bank-vault bundle');
    mkdirSync(o.renewals, { recursive: true });
    writeFileSync(join(o.renewals, '62120000000000006002.json'), 'not json');
    await expect(runRenew(o)).rejects.toThrow(/^--renewals: .* is not a renewal record/);
    expect(readFileSync(image, 'hex')).toBe(bytes);
  });
});

describe("the wallet's two kinds of coin (drmb card balance --central)", () => {
  it('shows coins received offline as not yet settled until the payee bank deposits them, and loaded coins as registered', async () => {
    const { image: payer } = await cardWithOldCoins('62120000000000006501');
    const payee = join(dir, 'payee-6502.json');
    (await issuedCard(w, '62120000000000006502', [])).saveToFile(payee);
    const packet = join(dir, 'a-to-b.bin');
    await runPeerPay({ amount: '50.00', fromSim: payer, toSim: payee, pinFile: join(dir, 'pin'), packetOut: packet, journal: join(dir, 'journal-peer') });
    const registry = new RemoteRegistry(service.url);
    const kinds = { pin: CARD_PIN, ownerOf: (s: Uint8Array) => registry.ownerOf(s) };
    const kindsOf = (image: string) => withCard({ sim: image }, { image: 'read-only' }, (t) => collectBalance(t, kinds));
    expect(await kindsOf(payee)).toMatchObject({ balanceFen: 5_000, registeredFen: 0, unsettledFen: 5_000 });
    // the payer's registry record still names it for the coin it paid away: the rest is its own, registered
    expect(await kindsOf(payer)).toMatchObject({ balanceFen: 12_000, registeredFen: 12_000, unsettledFen: 0 });
    await runPacketDeposit({ central: service.url, keys: bundle('vault'), packet, receipt: `${packet}.receipt` });
    expect(await kindsOf(payee)).toMatchObject({ balanceFen: 5_000, registeredFen: 5_000, unsettledFen: 0 });
  });
});

describe('drmb bank renew, interrupted, finishes on the next run with the value conserved', () => {
  (['after-export', 'after-packet', 'after-settle', 'after-credit'] as const).forEach((point, i) => {
    it(`killed ${point}: the second run finishes the renewal`, { timeout: 90_000 }, async () => {
      const cardId = `6212000000000000610${i}`;
      const { image, o } = await cardWithOldCoins(cardId);
      const before = await snapshot();
      const args = ['bank', 'renew', '--sim', image, '--keys', o.keys!, '--central', o.central!, '--bank-code', BANK, '--bank-key', o.bankKey, '--before', BEFORE];
      args.push('--renewals', o.renewals, '--journal', o.journal!, '--pin-file', o.pinFile!, '--audit', o.audit!, '--operator', 'vault test');
      const killed = await drmbChild(args, { DRMB_TEST_KILL_AT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(await runRenew(o)).toMatchObject({ renewedFen: 15_000, balanceFen: 17_000 });
      await expectRenewed(cardId, image, before, o.audit);
    });
  });

  // EXPORT COINS (80 54) takes the old coins off, CREDIT FOR LOAD (80 52) puts the fresh ones on
  for (const [name, ins, tag] of [[C.exportCoins.name, C.exportCoins.ins, 2], [C.creditForLoad.name, C.creditForLoad.ins, 3]] as const) {
    it(`torn by a power cut at every write of ${name}: the next run finishes the renewal`, { timeout: 240_000 }, async () => {
      for (let k = 1; ; k++) {
        const cardId = `62120000000000006${tag}${String(k).padStart(2, '0')}`;
        const { image, o } = await cardWithOldCoins(cardId);
        const before = await snapshot();
        const sim = SimulatedCard.fromFile(image);
        const cut = tornTransport(sim, ins, k);
        const outcome = await renewOn(cut.transport, { ...o, sim: undefined }).then(
          () => undefined,
          (e: unknown) => e,
        );
        const torn = cut.fired();
        // a run the cut did not reach must have finished; one it reached fails, whatever the host made of the lost card
        if (!torn && outcome !== undefined) throw outcome;
        sim.store.disarm();
        sim.saveToFile(image);
        if (torn) await runRenew(o);
        await expectRenewed(cardId, image, before, o.audit);
        if (!torn) break;
        expect(k).toBeLessThan(30);
      }
    });
  }
});
