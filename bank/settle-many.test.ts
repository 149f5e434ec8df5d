/**
 * @module Tests of Registry.settleMany and of deposits verified in worker threads (verifyWorkers): each
 * deposit of a batch answers what settle() answers for it one after the other, refusals included; the
 * worker pool's refusals are the registry's own errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coin } from '../applet-spec/value-formats.js';
import { randomBytes } from '../base/bytes.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9ExtractSignKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import { mintCoins } from './mint.js';
import { cardOwner, type Deposit, type DepositOutcome, Registry, type RegistryOpenOptions, TamperedPacketError } from './registry.js';
import { registrySuite } from '../test/registry-suite.js';

const PAYEE = { payeeIdentity: 'shop@merchant', payeeOwner: 'bank:102100000002' };

/** What an outcome says, comparable across registries: the settlement's facts or the error's class and message. */
function summary(o: DepositOutcome): unknown {
  if (o.ok) return { owner: o.settlement.payeeOwner, counter: o.settlement.payerCounter, coins: o.settlement.serials.length, replayed: o.settlement.replayed };
  const e = o.error as Error;
  return { error: e.constructor.name, message: e.message };
}

describe('Registry.settleMany', () => {
  const coinKey = sm2GenerateKeyPair();
  const kgc = sm9GenerateSignMasterKey();
  const mintMaster = randomBytes(16);
  const mintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };
  const options: RegistryOpenOptions = { trust: { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey }, mintMaster, verifierWindowBits: 6 };
  const cards: { owner: string; coins: Coin[]; packets: Uint8Array[] }[] = [];
  let deposits: Deposit[];

  beforeAll(() => {
    for (let c = 0; c < 2; c++) {
      const cardId = `621290000000000000${c}1`;
      const identity = `${cardId}|2036`;
      const signKey = sm9ExtractSignKey(kgc, new TextEncoder().encode(identity));
      const coins = mintCoins(mintParams, new Array(12).fill(100));
      const packets: Uint8Array[] = [];
      let previousExportHash = new Uint8Array(32);
      for (let i = 0; i < 3; i++) {
        const packet = buildExportPacket({
          header: { payerCardId: cardId, payerIdentity: identity, payerCounter: i, payeeIdentity: PAYEE.payeeIdentity, previousExportHash },
          coins: coins.slice(4 * i, 4 * i + 4),
          signKey,
          kgcSignMasterPublicKey: kgc.publicKey,
        });
        packets.push(packet);
        previousExportHash = sm3(packet);
      }
      // A restored image of the card pays the last packet's coins again, chained to the same parent: a chain fork.
      packets.push(
        buildExportPacket({
          header: { payerCardId: cardId, payerIdentity: identity, payerCounter: 7, payeeIdentity: PAYEE.payeeIdentity, previousExportHash: sm3(packets[1]) },
          coins: coins.slice(8, 12),
          signKey,
          kgcSignMasterPublicKey: kgc.publicKey,
        }),
      );
      cards.push({ owner: cardOwner(cardId), coins, packets });
    }
    const [a, b] = cards.map((c) => c.packets);
    const forged = a[2].slice();
    forged[forged.length - 1] ^= 1; // the last coin's signature, under the coin-list hash the payer signed
    deposits = [a[0], b[0], a[0], a[1], forged, b[1], a[2], b[2], b[3], a[3], b[1]].map((packet) => ({ packet, options: PAYEE }));
  });

  async function run(open: RegistryOpenOptions, many: boolean): Promise<{ outcomes: DepositOutcome[]; balance: number }> {
    const reg = await Registry.open({ ...options, ...open });
    try {
      for (const c of cards) await reg.recordMint(c.coins, c.owner);
      let outcomes: DepositOutcome[];
      if (many) {
        outcomes = await reg.settleMany(deposits);
      } else {
        outcomes = [];
        for (const d of deposits) {
          outcomes.push(
            await reg.settle(d.packet, d.options).then(
              (settlement): DepositOutcome => ({ ok: true, settlement }),
              (error: unknown): DepositOutcome => ({ ok: false, error }),
            ),
          );
        }
      }
      return { outcomes, balance: await reg.balanceOf(PAYEE.payeeOwner) };
    } finally {
      await reg.close();
    }
  }

  it('answers for each deposit what settle() answers one after the other, in the registry thread and with worker threads', async () => {
    const one = await run({}, false);
    expect(one.outcomes.map((o) => (o.ok ? (o.settlement.replayed ? 'replayed' : 'settled') : (o.error as Error).constructor.name))).toEqual([
      'settled',
      'settled',
      'replayed',
      'settled',
      'TamperedPacketError',
      'settled',
      'settled',
      'settled',
      'DoubleSpendError',
      'DoubleSpendError',
      'replayed',
    ]);
    expect(one.balance).toBe(6 * 4 * 100);
    for (const open of [{}, { verifyWorkers: 2 }]) {
      const many = await run(open, true);
      expect(many.outcomes.map(summary)).toEqual(one.outcomes.map(summary));
      expect(many.balance).toBe(one.balance);
    }
  }, 120_000);
});

describe('deposits verified in worker threads', () => {
  let reg: Registry;
  const kgc = sm9GenerateSignMasterKey();
  const coinKey = sm2GenerateKeyPair();
  beforeAll(async () => {
    reg = await Registry.open({ trust: { coinKeys: [{ keyIndex: 1, publicKey: coinKey.publicKey }], kgcSignMasterPublicKey: kgc.publicKey }, verifyWorkers: 1, verifierWindowBits: 6 });
  }, 60_000);
  afterAll(async () => {
    await reg?.close();
  });

  it("refuse a packet with the registry's own error class and reason", async () => {
    const cardId = '62129000000000000091';
    const coins = mintCoins({ signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster: randomBytes(16), issueDate: '20260101', expiryDate: '20361231' }, [100, 200]);
    await reg.recordMint(coins, cardOwner(cardId));
    const packet = buildExportPacket({ header: { payerCardId: cardId, payerIdentity: `${cardId}|2036`, payerCounter: 0, payeeIdentity: PAYEE.payeeIdentity }, coins, signKey: sm9ExtractSignKey(kgc, new TextEncoder().encode(`${cardId}|2036`)), kgcSignMasterPublicKey: kgc.publicKey });
    const err = await reg.settle(packet, { ...PAYEE, payeeIdentity: 'other@merchant' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).constructor.name).toBe('WrongPayeeError');
    const tampered = packet.slice();
    tampered[60] ^= 1; // inside the signed header
    const bad = await reg.settle(tampered, PAYEE).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TamperedPacketError);
    expect(await reg.settle(packet, PAYEE)).toMatchObject({ payeeOwner: PAYEE.payeeOwner, replayed: false });
    expect(await reg.balanceOf(PAYEE.payeeOwner)).toBe(300);
  }, 60_000);
});

registrySuite('registry on PGlite, deposits verified in two worker threads', (opts) => Registry.open({ ...opts, verifyWorkers: 2 }), '6212500');
