/**
 * @module A commercial bank's commands against the registry service (--central): `drmb bank withdraw`
 * and `drmb bank deposit` with the bank-vault bundle alone, signed with the bank's key; the registry
 * records the withdrawal and settles the deposit in its own process, and refuses a bank another bank's vault.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bankOwner, cardOwner } from '../../bank/registry.js';
import { RemoteRegistry } from '../../bank/registry-client.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { CARD_PIN, issuedCard, MERCHANT, posTerminal, posWorld, type PosWorld, transportOf } from '../../test/pos-fixture.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { runExport } from '../keys/export.js';
import { runRegistryAuthorize } from '../registry/authorize.js';
import { type RegistryServiceWithKeys, startRegistryFromOptions } from '../registry/serve.js';
import { runDeposit } from './deposit.js';
import { runWithdraw } from './withdraw.js';

const BANK = '102100000001';
const MERCHANT_BANK = '103100000002';
let w: PosWorld;
let dir: string;
let service: RegistryServiceWithKeys;
const bundle = (name: string) => join(dir, 'bundles', name);

beforeAll(async () => {
  w = posWorld();
  dir = mkdtempSync(join(w.dir, 'central-'));
  for (const [name, role] of [['registry', 'registry'], ['issuing', 'bank-vault'], ['merchant', 'bank-vault']] as const) runExport({ role, out: bundle(name), keys: join(w.dir, 'keys') });
  runRegistryAuthorize({ keys: bundle('registry'), bankKey: bundle('issuing'), bankCode: BANK, name: 'issuing bank' });
  runRegistryAuthorize({ keys: bundle('registry'), bankKey: bundle('merchant'), bankCode: MERCHANT_BANK, name: "merchant's bank" });
  service = await startRegistryFromOptions({ keys: bundle('registry'), registry: join(dir, 'registry'), port: '0', operatorToken: join(dir, 'operator.token') });
  const operator = new RemoteRegistry(service.url, { operatorToken: readFileSync(join(dir, 'operator.token'), 'utf8').trim() });
  await operator.mint({ denominationsFen: [10_000, 5_000], toBank: BANK, issueDate: '20261101', expiryDate: '20361231' });
}, 120_000);

afterAll(async () => {
  await service?.close();
});

describe('a bank against the registry service (--central)', () => {
  it('withdraws onto a card and deposits a POS queue with its bank-vault bundle alone, each request signed with its key', async () => {
    const cardId = '62120000000000009001';
    const image = join(dir, 'card.json');
    (await issuedCard(w, cardId, [])).saveToFile(image);
    const withdrawal = { central: service.url, amount: '150.00', bankCode: BANK, sim: image, terminalId: '100000000001', journal: join(dir, 'journal') };
    // Another bank's key does not withdraw from this bank's vault, and the card is left as it was.
    await expect(runWithdraw({ ...withdrawal, keys: bundle('merchant') })).rejects.toMatchObject({ code: 'not-your-bank' });
    expect(SimulatedCard.fromFile(image).memory.balanceFen).toBe(0);
    expect(await runWithdraw({ ...withdrawal, keys: bundle('issuing') })).toMatchObject({ cardId, amountFen: 15_000 });
    const reader = new RemoteRegistry(service.url);
    expect((await reader.ledger([cardOwner(cardId), bankOwner(BANK)])).balances).toEqual([
      { owner: cardOwner(cardId), balanceFen: 15_000 },
      { owner: bankOwner(BANK), balanceFen: 0 },
    ]);

    const queue = join(dir, 'queue.jsonl');
    const sim = SimulatedCard.fromFile(image);
    await posTerminal(w, queue).pay(new DrmbCard(transportOf(sim)), 5_000, { pin: CARD_PIN });
    const deposit = { central: service.url, queue, payee: MERCHANT, bankCode: MERCHANT_BANK };
    // The merchant's bank deposits into its own vault only: the issuing bank's key is refused for it.
    await expect(runDeposit({ ...deposit, keys: bundle('issuing') })).rejects.toMatchObject({ code: 'not-your-bank' });
    const r = await runDeposit({ ...deposit, keys: bundle('merchant') });
    expect(r.lines.map((l) => [l.type, l.result])).toEqual([['PURCHASE', 'settled']]);
    expect((await reader.ledger([bankOwner(MERCHANT_BANK)])).balances[0].balanceFen).toBe(5_000);
  }, 120_000);
});
