/**
 * @module The seed's online payment through the payee bank's HTTP service (started on port 0) and the
 * central bank's registry: the owner changes before the payee card imports, a packet twice is one
 * confirmation, a second packet spending the same coins is refused before anyone imports it, the
 * registered-user rule (seed step a4), confirmations fetched by payer and payee, JSON errors. Slow: real SM9 cards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from '../base/bytes.js';
import { hex } from '../base/hex.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9ExtractEncryptKey } from '../crypto/sm9/sm9.js';
import { directTransport } from '../host/direct-transport.js';
import { DrmbCard } from '../host/drmb-card.js';
import { openTransfer } from '../host/open-transfer.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack } from '../host/transport.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { identityFor, issueCard, loadCoins, prepareCard, selectApplet, systemKeys } from '../test/card-fixture.js';
import { CentralBankOnline } from './central-bank-online.js';
import { mintCoins } from './mint.js';
import { type OnlineBankService, startOnlineBankService } from './online-bank-service.js';
import { whyNotConfirmed } from './online-bank-client.js';
import { centralConfirmationVerifies, type Confirmation, makeConfirmation } from './online-confirmation.js';
import { type OnlinePaymentOutcome, PayeeBank } from './payee-bank.js';
import { PgliteDb } from './pglite-db.js';
import { bankOwner, CENTRAL_BANK, cardOwner, Registry, withdrawalCodeOwner } from './registry.js';

const BANK_CODE = '105100000005';
const VAULT = bankOwner('102100000001');
const keys = systemKeys();
const anchors = { coinKeys: [{ keyIndex: 1, publicKey: keys.coinKey.publicKey }], kgcSignMasterPublicKey: keys.kgcSign.publicKey };
const mintMaster = randomBytes(16);
const utf8 = new TextEncoder();

let reg: Registry;
let bank: PayeeBank;
let service: OnlineBankService;
const forwards: string[] = [];
let nextCard = 0;

beforeAll(async () => {
  reg = await Registry.open({ trust: anchors, mintMaster });
  const central = await CentralBankOnline.open(reg, { privateKey: keys.coinKey.privateKey, keyIndex: 1 });
  bank = await PayeeBank.open(await PgliteDb.open(), {
    bankCode: BANK_CODE,
    anchors,
    centralBank: async (f) => {
      forwards.push(JSON.stringify(f));
      return central.transfer(f);
    },
  });
  service = await startOnlineBankService(bank, 0);
}, 120_000);
afterAll(async () => {
  await service?.close();
  await bank?.db.close();
  await reg?.close();
});

/** An issued simulated card, with coins that went central bank -> vault -> card in the registry. */
async function card(denominations: number[] = []) {
  const cardId = `6212000000000077${String(nextCard++).padStart(4, '0')}`;
  const sim = new SimulatedCard({ manufacture: { cardId } });
  const { cardKey } = prepareCard(sim, cardId);
  issueCard(sim, identityFor(cardId), cardKey.publicKey);
  selectApplet(sim);
  if (denominations.length) {
    const coins = mintCoins({ signingKey: { privateKey: keys.coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' }, denominations);
    await reg.recordMint(coins);
    await reg.transfer(coins.map((c) => c.body.serial), CENTRAL_BANK, VAULT);
    expect(loadCoins(sim, coins).sw).toBe(0x9000);
    await reg.transfer(coins.map((c) => c.body.serial), VAULT, cardOwner(cardId), { kind: 'withdraw' });
  }
  return { sim, cardId, identity: identityFor(cardId), host: () => new DrmbCard(stack(directTransport(sim), getResponse())) };
}

type Card = Awaited<ReturnType<typeof card>>;

/** The payer card exports amountFen to the payee card's identity and nonce; the packet bytes. */
async function exportTo(payer: Card, payee: Card, amountFen: number, code = '0'.repeat(16)): Promise<Uint8Array> {
  const to = payee.host();
  await to.select();
  const ready = await to.prepareReceive();
  const from = payer.host();
  await from.select();
  return (await from.transfer(amountFen, ready.payeeIdentity, ready.nonce, code, { date: '20261203', time: '101500' })).packetBytes;
}

/** What the payee's terminal submits: the packet and what it opened of it with the payee's own key. */
function submission(packet: Uint8Array, payee: Card, extra: { account?: string; cardId?: string | null } = {}) {
  const opened = openTransfer(packet, sm9ExtractEncryptKey(keys.kgcEncrypt.privateKey, utf8.encode(payee.identity)));
  return {
    packet: hex(packet),
    settlementBody: hex(opened.settlementBody),
    withdrawal: { code: opened.withdrawal.code, salt: hex(opened.withdrawal.salt) },
    payee: { identity: payee.identity, ...(extra.cardId === null ? {} : { cardId: extra.cardId ?? payee.cardId }), ...(extra.account ? { account: extra.account } : {}) },
  };
}

async function post(body: unknown, path = '/v1/online-transfers'): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(service.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: JSON.parse(text), text };
}

async function get(path: string): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(service.url + path);
  const text = await r.text();
  return { status: r.status, json: JSON.parse(text), text };
}

describe('online payment', () => {
  it('changes the owner in the registry before the payee card imports, and the import then credits the card', async () => {
    const payer = await card([5000, 2000]);
    const payee = await card();
    const packet = await exportTo(payer, payee, 5000);
    const serials = (await reg.coinsOf(cardOwner(payer.cardId))).map((c) => c.body.serial);
    const r = await post(submission(packet, payee));
    expect(r.status, r.text).toBe(200);
    expect(r.json.outcome).toBe('owner-changed');
    // Between the confirmation and the import: the registry already names the payee card.
    const paid = (await reg.coinsOf(cardOwner(payee.cardId))).map((c) => c.body.denominationFen);
    expect(paid).toEqual([5000]);
    expect(await reg.balanceOf(cardOwner(payer.cardId))).toBe(2000);
    expect(serials).toHaveLength(2);
    expect(payee.sim.memory.balanceFen).toBe(0);
    const to = payee.host();
    await to.select();
    await to.importPacket(packet);
    expect(payee.sim.memory.balanceFen).toBe(5000);
    // The central bank's confirmation is signed with its coin key and relayed to both sides.
    const c = r.json.confirmations as { central: Confirmation; toPayer: Confirmation; toPayee: Confirmation };
    expect(centralConfirmationVerifies(c.central, anchors)).toBe(true);
    expect(c.toPayee).toMatchObject({ from: bankOwner(BANK_CODE), to: `payee:${payee.identity}`, outcome: 'owner-changed', relays: c.central.id, newOwner: cardOwner(payee.cardId), amountFen: 5000 });
    expect(c.toPayer).toMatchObject({ to: `payer:${payer.cardId}`, outcome: 'owner-changed', relays: c.central.id });
    // The message between the two banks went out once, naming the new owner.
    expect(JSON.parse(forwards[forwards.length - 1])).toMatchObject({ from: bankOwner(BANK_CODE), newOwner: cardOwner(payee.cardId), payeeIdentity: payee.identity });
  }, 60_000);

  it('answers the same confirmations to the same packet submitted twice, and moves nothing more', async () => {
    const payer = await card([1000]);
    const payee = await card();
    const packet = await exportTo(payer, payee, 1000);
    const first = await post(submission(packet, payee));
    const sent = forwards.length;
    const second = await post(submission(packet, payee));
    expect(second.status).toBe(200);
    expect(second.json.confirmations).toEqual(first.json.confirmations);
    expect(forwards).toHaveLength(sent);
    expect(await reg.balanceOf(cardOwner(payee.cardId))).toBe(1000);
  }, 60_000);

  it('refuses a second packet spending the same coins (a restored card image) before its payee imports, with proof and the card blacklisted', async () => {
    const payer = await card([2000]);
    const restored = { ...payer, sim: SimulatedCard.fromImage(payer.sim.toImage()) };
    const restoredHost = () => new DrmbCard(stack(directTransport(restored.sim), getResponse()));
    const payee = await card();
    const other = await card();
    const first = await post(submission(await exportTo(payer, payee, 2000), payee));
    expect(first.json.outcome).toBe('owner-changed');
    const again = await exportTo({ ...restored, host: restoredHost }, other, 2000);
    const r = await post(submission(again, other));
    expect(r.status).toBe(409);
    expect(r.json.error).toMatchObject({ code: 'refused', reason: 'double-spend' });
    expect(centralConfirmationVerifies(r.json.confirmations.central, anchors)).toBe(true);
    expect(r.json.confirmations.toPayee).toMatchObject({ to: `payee:${other.identity}`, outcome: 'refused', reason: 'double-spend' });
    expect(await reg.balanceOf(cardOwner(payee.cardId))).toBe(2000);
    expect(await reg.balanceOf(cardOwner(other.cardId))).toBe(0);
    expect(await reg.blacklist()).toContain(payer.cardId);
    expect(await reg.pending()).toEqual([]);
  }, 60_000);

  it('pays a registered user only under its account, and refuses an account for a payee not registered (seed step a4)', async () => {
    const payer = await card([500, 500, 500]);
    const registered = await card();
    await bank.registerUser(registered.identity, 'ACC-0001');
    const stranger = await card();

    const unnamed = await post(submission(await exportTo(payer, registered, 500), registered));
    expect(unnamed.status).toBe(409);
    expect(unnamed.json.error.reason).toBe('registered-user');
    expect(unnamed.json.confirmations.central).toBeUndefined();
    expect(await reg.balanceOf(cardOwner(payer.cardId))).toBe(1500);

    const named = await post(submission(await exportTo(payer, registered, 500), registered, { account: 'ACC-0001' }));
    expect(named.status, named.text).toBe(200);
    expect(await reg.balanceOf(cardOwner(registered.cardId))).toBe(500);

    const claimed = await post(submission(await exportTo(payer, stranger, 500), stranger, { account: 'ACC-9999' }));
    expect(claimed.status).toBe(409);
    expect(claimed.json.error.reason).toBe('not-registered');
    expect(await reg.balanceOf(cardOwner(stranger.cardId))).toBe(0);
  }, 60_000);

  it('keeps the confirmations for the payer and the payee to fetch by packet hash', async () => {
    const payer = await card([300]);
    const payee = await card();
    const packet = await exportTo(payer, payee, 300);
    await post(submission(packet, payee));
    const packetHash = hex(sm3(packet));
    const forPayer = await get(`/v1/confirmations/${packetHash}?to=${encodeURIComponent(`payer:${payer.cardId}`)}`);
    expect(forPayer.status).toBe(200);
    expect(forPayer.json.confirmations).toHaveLength(1);
    expect(forPayer.json.confirmations[0]).toMatchObject({ packetHash, outcome: 'owner-changed' });
    const forPayee = await get(`/v1/confirmations/${packetHash.toLowerCase()}?to=${encodeURIComponent(`payee:${payee.identity}`)}`);
    expect(forPayee.json.confirmations[0]).toMatchObject({ to: `payee:${payee.identity}`, outcome: 'owner-changed' });
    const all = await get(`/v1/confirmations/${packetHash}`);
    expect(all.json.confirmations.map((c: Confirmation) => c.from).sort()).toEqual([CENTRAL_BANK, bankOwner(BANK_CODE), bankOwner(BANK_CODE)].sort());
  }, 60_000);

  it('answers bad requests with a JSON error and no stack trace', async () => {
    const cases: [Promise<{ status: number; json: any; text: string }>, number, string][] = [
      [post('{not json'), 400, 'bad-request'],
      [post({ packet: 'zz', settlementBody: '00', payee: { identity: 'x' } }), 400, 'bad-request'],
      [post({ packet: '0011', settlementBody: '00', payee: { identity: 'x' } }), 400, 'bad-request'],
      [post({ packet: '00', settlementBody: '00' }), 400, 'bad-request'],
      [get('/v1/online-transfers'), 405, 'method-not-allowed'],
      [get('/v1/confirmations/1234'), 400, 'bad-request'],
      [get(`/v1/confirmations/${'AB'.repeat(32)}`), 404, 'not-found'],
      [get('/elsewhere'), 404, 'not-found'],
      [post('x'.repeat(70 * 1024)), 413, 'too-large'],
    ];
    for (const [answer, status, code] of cases) {
      const r = await answer;
      expect(r.status, r.text).toBe(status);
      expect(r.json.error.code).toBe(code);
      expect(r.text).not.toMatch(/\n\s+at /);
    }
  });
});

describe('online payment, other payees and refusals', () => {
  it('pays a payee without card or account to its withdrawal code, recording only the code hash', async () => {
    const payer = await card([800]);
    const payee = await card();
    const code = '1234567812345678';
    const packet = await exportTo(payer, payee, 800, code);
    const r = await post(submission(packet, payee, { cardId: null }));
    expect(r.status, r.text).toBe(200);
    const owner = withdrawalCodeOwner(code);
    expect(await reg.balanceOf(owner)).toBe(800);
    expect(r.json.confirmations.central.withdrawalCodeHash).toBe(owner.slice('code:'.length));
    expect(r.text).not.toContain(code);
  }, 60_000);

  it('refuses a coin the payer received offline and nobody deposited yet, without queueing it and moving nothing', async () => {
    const first = await card([600]);
    const middle = await card();
    const last = await card();
    const offline = await exportTo(first, middle, 600);
    const m = middle.host();
    await m.select();
    await m.importPacket(offline);
    const r = await post(submission(await exportTo(middle, last, 600), last));
    expect(r.status).toBe(409);
    expect(r.json.error.reason).toBe('custody-pending');
    expect(await reg.balanceOf(cardOwner(first.cardId))).toBe(600);
    expect(await reg.pending()).toEqual([]);
  }, 60_000);

  it('refuses a body that is not the packet\'s (another payment\'s coins) at the payee\'s bank, forwarding nothing', async () => {
    const payer = await card([400, 300]);
    const payee = await card();
    const a = await exportTo(payer, payee, 400);
    const b = await exportTo(payer, payee, 300);
    const sent = forwards.length;
    const r = await post({ ...submission(a, payee), settlementBody: submission(b, payee).settlementBody });
    expect(r.status).toBe(409);
    expect(r.json.error.reason).toBe('coin-list-hash');
    expect(r.json.confirmations.central).toBeUndefined();
    expect(forwards).toHaveLength(sent);
    expect(await reg.balanceOf(cardOwner(payer.cardId))).toBe(700);
  }, 60_000);
});

describe("the payee side's check of a confirmation before it imports", () => {
  it('accepts the central bank\'s signed owner change to its card, and nothing forged, altered or for another owner', async () => {
    const payer = await card([900]);
    const payee = await card();
    const packet = await exportTo(payer, payee, 900);
    const r = await post(submission(packet, payee));
    const answer = { outcome: r.json.outcome, ...r.json.confirmations } as OnlinePaymentOutcome;
    const packetHash = hex(sm3(packet));
    const mine = cardOwner(payee.cardId);
    expect(whyNotConfirmed(answer, packetHash, mine, anchors)).toBeUndefined();
    expect(whyNotConfirmed(answer, packetHash, cardOwner(payer.cardId), anchors)).toContain('names');
    expect(whyNotConfirmed({ ...answer, central: { ...answer.central!, newOwner: cardOwner(payer.cardId) } }, packetHash, cardOwner(payer.cardId), anchors)).toContain('does not verify');
    expect(whyNotConfirmed({ ...answer, central: undefined }, packetHash, mine, anchors)).toContain('no central-bank confirmation');
    const forged = makeConfirmation({ ...answer.central!, time: new Date().toISOString() }, { privateKey: randomBytes(32), keyIndex: 1 });
    expect(whyNotConfirmed({ ...answer, central: forged, toPayee: { ...answer.toPayee, relays: forged.id } }, packetHash, mine, anchors)).toContain('does not verify');
    expect(whyNotConfirmed(answer, hex(sm3(Uint8Array.of(1))), mine, anchors)).toContain('is not the owner change');
  }, 60_000);
});
