/**
 * @module The registry as a service: the central bank mints, a bank's vault withdraws onto a card, a
 * merchant's bank deposits, and a double spend is caught, each through HTTP on 127.0.0.1 against the
 * registry's own keys; malformed requests are refused with their code and move nothing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrmbCard } from '../host/drmb-card.js';
import type { LocalService } from '../io/local-service.js';
import { loadKey } from '../keys/key-files.js';
import { CARD_PIN, issuedCard, MERCHANT, posTerminal, posWorld, type PosWorld, transportOf } from '../test/pos-fixture.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { UploadQueue } from '../host/pos/upload-queue.js';
import { CentralBankOnline } from './central-bank-online.js';
import { bankOwner, cardOwner, DoubleSpendError, Registry, RegistryError } from './registry.js';
import { RegistryUnreachableError, RemoteRegistry } from './registry-client.js';
import { MAX_REGISTRY_BODY_BYTES, startRegistryService } from './registry-service.js';
import { signBankRequest } from './signed-request.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import type { AuthorizedDesk } from '../keys/authorized-desks.js';
import { withdraw } from './withdraw.js';

const BANK = '102100000001';
const MERCHANT_BANK = '103100000002';
const DATES = { issueDate: '20261101', expiryDate: '20361231' };
const TOKEN = 'operator-token-of-this-test';
let w: PosWorld;
let registry: Registry;
let service: LocalService;
/** the issuing bank, asking with its own key */
let remote: RemoteRegistry;
/** the merchant's bank, asking with its own key */
let merchant: RemoteRegistry;
let operator: RemoteRegistry;
const issuingKey = sm2GenerateKeyPair();
const merchantKey = sm2GenerateKeyPair();
const strangerKey = sm2GenerateKeyPair();
const banks: AuthorizedDesk[] = [
  { name: 'issuing bank', publicKey: issuingKey.publicKey, added: '2026-12-01T00:00:00Z', bankCode: BANK },
  { name: "merchant's bank", publicKey: merchantKey.publicKey, added: '2026-12-01T00:00:00Z', bankCode: MERCHANT_BANK },
];

beforeAll(async () => {
  w = posWorld();
  const mintMaster = loadKey('mint-master', { dir: join(w.dir, 'keys'), env: {} }).secret.master;
  registry = await Registry.open({ trust: w.anchors, mintMaster });
  const signingKey = { privateKey: w.coinSigning.secret.privateKey, keyIndex: w.coinSigning.keyIndex };
  const central = await CentralBankOnline.open(registry, signingKey);
  service = await startRegistryService({ registry, central, mint: { signingKey, mintMaster }, operatorToken: TOKEN, banks: () => banks, port: 0 });
  remote = new RemoteRegistry(service.url, { bank: issuingKey });
  merchant = new RemoteRegistry(service.url, { bank: merchantKey });
  operator = new RemoteRegistry(service.url, { operatorToken: TOKEN });
}, 120_000);

afterAll(async () => {
  await service?.close();
  await registry?.close();
});

/** A POST signed by the issuing bank. */
const post = (path: string, body: string, key = issuingKey) =>
  fetch(new URL(path, service.url), { method: 'POST', headers: { 'content-type': 'application/json', ...signBankRequest(key, 'POST', path, body) }, body });
const errorOf = async (r: Response) => [r.status, ((await r.json()) as { error: { code: string; message: string } }).error] as const;

describe('the registry service', () => {
  it('mints into a bank vault in its own process; the vault reads back the coins it holds', async () => {
    const minted = await operator.mint({ denominationsFen: [10_000, 10_000, 5_000], toBank: BANK, ...DATES });
    expect(minted.owner).toBe(bankOwner(BANK));
    expect(minted.coins.map((c) => c.body.denominationFen)).toEqual([10_000, 10_000, 5_000]);
    const vault = await remote.coinsOf(bankOwner(BANK));
    expect(vault.map((c) => Buffer.from(c.body.serial).toString('hex')).sort()).toEqual(minted.coins.map((c) => Buffer.from(c.body.serial).toString('hex')).sort());
    expect((await remote.ledger([bankOwner(BANK)])).balances).toEqual([{ owner: bankOwner(BANK), balanceFen: 25_000 }]);
  });

  it("records a bank vault's withdrawal onto a card, after the card's TAC, with the card as owner", async () => {
    const sim = await issuedCard(w, '62120000000000008001', []);
    const r = await withdraw(new DrmbCard(transportOf(sim)), remote, { bankCode: BANK, amountFen: 20_000, loadMasters: w.cbMaster, terminalId: Uint8Array.of(0x10, 0, 0, 0, 0, 1), date: '20261122', time: '090000' });
    expect(r.amountFen).toBe(20_000);
    for (const s of r.serials) expect(await remote.ownerOf(s)).toBe(cardOwner('62120000000000008001'));
    expect((await remote.ledger([cardOwner('62120000000000008001')])).balances[0].balanceFen).toBe(20_000);
  });

  it('settles a deposit, answers the same packet again as replayed, and returns a clone\'s second spend as DoubleSpendError with its proof', async () => {
    const cardId = '62120000000000008002';
    const sim = await issuedCard(w, cardId, []);
    await operator.mint({ denominationsFen: [5_000], toBank: BANK, ...DATES });
    await withdraw(new DrmbCard(transportOf(sim)), remote, { bankCode: BANK, amountFen: 5_000, loadMasters: w.cbMaster, terminalId: Uint8Array.of(0x10, 0, 0, 0, 0, 1), date: '20261122', time: '090000' });
    const before = sim.toImage();
    await posTerminal(w, join(w.dir, 'registry-service-q1.jsonl')).pay(new DrmbCard(transportOf(sim)), 5_000, { pin: CARD_PIN });
    const [first] = new UploadQueue(join(w.dir, 'registry-service-q1.jsonl')).pending();
    const settled = await merchant.settle(first.packet, { payeeIdentity: MERCHANT, payeeOwner: bankOwner(MERCHANT_BANK) });
    expect(settled).toMatchObject({ type: 'PURCHASE', payerCardId: cardId, amountFen: 5_000, payeeOwner: bankOwner(MERCHANT_BANK), replayed: false });
    expect((await merchant.settle(first.packet, { payeeIdentity: MERCHANT, payeeOwner: bankOwner(MERCHANT_BANK) })).replayed).toBe(true);

    await posTerminal(w, join(w.dir, 'registry-service-q2.jsonl')).pay(new DrmbCard(transportOf(SimulatedCard.fromImage(before))), 5_000, { pin: CARD_PIN });
    const [second] = new UploadQueue(join(w.dir, 'registry-service-q2.jsonl')).pending();
    const caught = await merchant.settle(second.packet, { payeeIdentity: MERCHANT, payeeOwner: bankOwner(MERCHANT_BANK) }).catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(DoubleSpendError);
    const proof = (caught as DoubleSpendError).proof;
    expect(proof.payerCardId).toBe(cardId);
    expect(Buffer.from(proof.packetA).equals(Buffer.from(first.packet))).toBe(true);
    expect(Buffer.from(proof.packetB).equals(Buffer.from(second.packet))).toBe(true);
    const ledger = await remote.ledger([bankOwner(MERCHANT_BANK)]);
    expect(ledger.blacklist).toContain(cardId);
    expect(ledger.balances[0].balanceFen).toBe(5_000);
  });

  it('refuses a malformed request with its code and the member at fault, and mints or moves nothing', async () => {
    const before = await remote.ledger([bankOwner(BANK)]);
    const mint = (body: string) => fetch(new URL('/v1/mint', service.url), { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body });
    expect(await errorOf(await mint(JSON.stringify({ denominationsFen: [0], ...DATES })))).toEqual([400, { code: 'bad-request', message: expect.stringContaining('denominationsFen') }]);
    expect(await errorOf(await mint(JSON.stringify({ denominationsFen: [100], issueDate: '20361231', expiryDate: '20261101' })))).toEqual([400, { code: 'bad-request', message: expect.stringContaining('before issueDate') }]);
    expect(await errorOf(await mint('{'))).toEqual([400, { code: 'bad-request', message: 'the body is not JSON' }]);
    expect(await errorOf(await post('/v1/deposits', JSON.stringify({ packet: 'zz', payeeIdentity: MERCHANT })))).toEqual([400, { code: 'bad-request', message: 'packet must be hex' }]);
    expect(await errorOf(await post('/v1/deposits', JSON.stringify({ packet: '00'.repeat(MAX_REGISTRY_BODY_BYTES) })))).toEqual([413, expect.objectContaining({ code: 'too-large' })]);
    const get = await fetch(new URL('/v1/mint', service.url));
    expect(get.headers.get('allow')).toBe('POST');
    expect((await errorOf(get))[0]).toBe(405);
    expect((await errorOf(await fetch(new URL('/v1/coins', service.url))))[0]).toBe(404);
    // A withdrawal of coins the bank does not own is the registry's refusal, with its reason.
    const [serial] = (await remote.coinsOf(bankOwner(BANK))).map((c) => c.body.serial);
    const refused = await merchant.transfer([serial], bankOwner(MERCHANT_BANK), cardOwner('62120000000000008009'), { kind: 'withdraw', payerCardId: '62120000000000008009', payerCounter: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistryError);
    expect((refused as RegistryError).reason).toBe('not-owner');
    // Moves other than withdrawals come from packets only.
    await expect(remote.transfer([serial], bankOwner(BANK), bankOwner(MERCHANT_BANK))).rejects.toThrow('records withdrawals from a bank vault to a card only');
    expect(await remote.ledger([bankOwner(BANK)])).toEqual(before);
  });

  it("takes a mint on the operator's token only, and a bank's request only signed by an authorised bank, for its own vault, once", async () => {
    const before = await remote.ledger([bankOwner(BANK), bankOwner(MERCHANT_BANK)]);
    const body = JSON.stringify({ denominationsFen: [100], toBank: BANK, ...DATES });
    // Minting: a bank's signature is not the operator's token, nor is a wrong token.
    expect((await errorOf(await post('/v1/mint', body)))[1].code).toBe('not-operator');
    await expect(new RemoteRegistry(service.url, { operatorToken: 'guess' }).mint({ denominationsFen: [100], toBank: BANK, ...DATES })).rejects.toMatchObject({ code: 'not-operator' });
    // A bank's request: unsigned, signed by a key not listed, signed for another body, for another bank's vault.
    const withdrawal = JSON.stringify({ bankCode: BANK, cardId: '62120000000000008009', counter: 0, serials: ['00'.repeat(16)] });
    const unsigned = await fetch(new URL('/v1/withdrawals', service.url), { method: 'POST', body: withdrawal });
    expect(await errorOf(unsigned)).toEqual([401, expect.objectContaining({ code: 'unsigned' })]);
    expect(await errorOf(await post('/v1/withdrawals', withdrawal, strangerKey))).toEqual([403, expect.objectContaining({ code: 'unknown-bank' })]);
    const headers = signBankRequest(issuingKey, 'POST', '/v1/withdrawals', withdrawal);
    const tampered = await fetch(new URL('/v1/withdrawals', service.url), { method: 'POST', headers, body: withdrawal.replace('8009', '8008') });
    expect(await errorOf(tampered)).toEqual([401, expect.objectContaining({ code: 'bad-signature' })]);
    await expect(merchant.coinsOf(bankOwner(BANK))).rejects.toMatchObject({ code: 'not-your-bank' });
    expect(await errorOf(await post('/v1/withdrawals', withdrawal, merchantKey))).toEqual([403, expect.objectContaining({ code: 'not-your-bank' })]);
    // The same signed request twice: the second is a replay.
    const once = signBankRequest(issuingKey, 'GET', `/v1/vault-coins?owner=bank%3A${BANK}`, '');
    expect((await fetch(new URL(`/v1/vault-coins?owner=bank%3A${BANK}`, service.url), { headers: once })).status).toBe(200);
    expect(await errorOf(await fetch(new URL(`/v1/vault-coins?owner=bank%3A${BANK}`, service.url), { headers: once }))).toEqual([409, expect.objectContaining({ code: 'replay' })]);
    // A request signed too long ago is stale.
    const old = signBankRequest(issuingKey, 'GET', `/v1/vault-coins?owner=bank%3A${BANK}`, '', new Date(Date.now() - 10 * 60_000));
    expect(await errorOf(await fetch(new URL(`/v1/vault-coins?owner=bank%3A${BANK}`, service.url), { headers: old }))).toEqual([401, expect.objectContaining({ code: 'stale-request' })]);
    expect(await remote.ledger([bankOwner(BANK), bankOwner(MERCHANT_BANK)])).toEqual(before);
  });

  it('a registry that cannot be reached is one RegistryUnreachableError naming it', async () => {
    const signingKey = { privateKey: w.coinSigning.secret.privateKey, keyIndex: w.coinSigning.keyIndex };
    const gone = await startRegistryService({ registry, central: await CentralBankOnline.open(registry, signingKey), mint: { signingKey, mintMaster: new Uint8Array(16) }, operatorToken: TOKEN, banks: () => banks, port: 0 });
    await gone.close();
    const e = await new RemoteRegistry(gone.url).ledger().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryUnreachableError);
    expect((e as Error).message).toContain(`the registry at ${gone.url}`);
  });
});
