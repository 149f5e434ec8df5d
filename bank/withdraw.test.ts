/** @module Withdrawal onto a card: the registry moves ownership only after the card's TAC proves the load; the value journal finishes a load whose recording was cut off. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrmbCard } from '../host/drmb-card.js';
import { finishIntent } from '../host/finish-intent.js';
import { ValueJournal } from '../host/value-journal.js';
import { posWorld, issuedCard, transportOf, type PosWorld } from '../test/pos-fixture.js';
import { loadKey } from '../keys/key-files.js';
import { mintCoins } from './mint.js';
import { bankOwner, CENTRAL_BANK, cardOwner, Registry } from './registry.js';
import { loadRecording, withdraw, WithdrawalError } from './withdraw.js';

const BANK = '102100000001';
let w: PosWorld;
let registry: Registry;
let mintMaster: Uint8Array;

beforeAll(async () => {
  w = posWorld();
  mintMaster = loadKey('mint-master', { dir: join(w.dir, 'keys'), env: {} }).secret.master;
  registry = await Registry.open({ trust: w.anchors, mintMaster });
  const coins = mintCoins(
    { signingKey: { privateKey: w.coinSigning.secret.privateKey, keyIndex: w.coinSigning.keyIndex }, mintMaster, issueDate: '20260101', expiryDate: '20361231' },
    [10000, 10000, 5000, 2000, 1000, 500, 100, 100],
  );
  await registry.recordMint(coins);
  await registry.transfer(
    coins.map((c) => c.body.serial),
    CENTRAL_BANK,
    bankOwner(BANK),
  );
}, 120_000);

afterAll(async () => {
  await registry?.close();
});

const when = { terminalId: Uint8Array.of(0x10, 0, 0, 0, 0, 9), date: '20261122', time: '100000' };

describe('withdrawal', () => {
  it('loads exactly the amount from the vault and records the card as owner after the TAC verifies', async () => {
    const sim = await issuedCard(w, '62120000000000005001', []);
    const card = new DrmbCard(transportOf(sim));
    const vaultBefore = await registry.balanceOf(bankOwner(BANK));
    const r = await withdraw(card, registry, { bankCode: BANK, amountFen: 16100, loadMasters: w.cbMaster, ...when });
    expect(r).toMatchObject({ cardId: '62120000000000005001', counter: 0, amountFen: 16100 });
    expect(await card.balance()).toBe(16100);
    expect(await registry.balanceOf(cardOwner('62120000000000005001'))).toBe(16100);
    expect(await registry.balanceOf(bankOwner(BANK))).toBe(vaultBefore - 16100);
    for (const s of r.serials) expect(await registry.ownerOf(s)).toBe(cardOwner('62120000000000005001'));
  });

  it('refuses an amount the vault cannot make exactly, before touching the card', async () => {
    const sim = await issuedCard(w, '62120000000000005002', []);
    const image = sim.toImage();
    await expect(withdraw(new DrmbCard(transportOf(sim)), registry, { bankCode: BANK, amountFen: 333, loadMasters: w.cbMaster, ...when })).rejects.toThrow(WithdrawalError);
    expect(Buffer.from(sim.toImage()).equals(Buffer.from(image))).toBe(true);
  });

  it('records nothing when the card is not one of this issuer (MAC1 fails), and the card is unchanged', async () => {
    const sim = await issuedCard(w, '62120000000000005003', []);
    const other = { ...w.cbMaster, secret: { ...w.cbMaster.secret, load: new Uint8Array(16).fill(7) } };
    const vault = await registry.balanceOf(bankOwner(BANK));
    await expect(withdraw(new DrmbCard(transportOf(sim)), registry, { bankCode: BANK, amountFen: 100, loadMasters: other, ...when })).rejects.toThrow(/MAC1/);
    expect(await registry.balanceOf(bankOwner(BANK))).toBe(vault);
    expect(sim.memory.balanceFen).toBe(0);
  });

  it('journals a load and closes the intent once the registry records it', async () => {
    const sim = await issuedCard(w, '62120000000000005004', []);
    const journal = new ValueJournal(join(mkdtempSync(join(tmpdir(), 'drmb-withdraw-journal-')), 'journal'));
    const r = await withdraw(new DrmbCard(transportOf(sim)), registry, { bankCode: BANK, amountFen: 500, loadMasters: w.cbMaster, ...when, journal: { journal, destination: 'registry test' } });
    expect(journal.openIntents()).toEqual([]);
    for (const s of r.serials) expect(await registry.ownerOf(s)).toBe(cardOwner('62120000000000005004'));
  });

  it('records a load cut off between CREDIT FOR LOAD and the registry from the card\'s proof, once', async () => {
    const cardId = '62120000000000005005';
    const sim = await issuedCard(w, cardId, []);
    const card = new DrmbCard(transportOf(sim));
    const journal = new ValueJournal(join(mkdtempSync(join(tmpdir(), 'drmb-withdraw-journal-')), 'journal'));
    const vault = await registry.balanceOf(bankOwner(BANK));
    const died = withdraw(card, registry, {
      bankCode: BANK,
      amountFen: 2000,
      loadMasters: w.cbMaster,
      ...when,
      journal: { journal, destination: 'registry test' },
      onCredited: () => {
        throw new Error('host died');
      },
    });
    await expect(died).rejects.toThrow('host died');
    // The card holds the coins; the registry still has them in the vault; only the journal knows.
    expect(sim.memory.balanceFen).toBe(2000);
    expect(await registry.balanceOf(cardOwner(cardId))).toBe(0);
    const [intent] = journal.openIntents(cardId);
    expect(intent).toMatchObject({ type: 'LOAD', command: 'CREDIT FOR LOAD', amountFen: 2000, counter: 0 });

    const deliver = loadRecording(registry, w.cbMaster);
    const r = await finishIntent(card, journal, intent, deliver);
    expect(r.result).toBe('delivered');
    expect(await registry.balanceOf(cardOwner(cardId))).toBe(2000);
    expect(await registry.balanceOf(bankOwner(BANK))).toBe(vault - 2000);
    expect(journal.openIntents()).toEqual([]);
    // Run again (a crash after the registry write, before the close): nothing is recorded twice.
    const proof = await card.transactionProof('LOAD', intent.counter);
    expect(await deliver(intent, proof!)).toMatchObject({ where: 'registry' });
    expect(await registry.balanceOf(cardOwner(cardId))).toBe(2000);
    expect(await registry.balanceOf(bankOwner(BANK))).toBe(vault - 2000);
  });
});
