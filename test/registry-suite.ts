/**
 * @module Registry test suite, run against any database (PGlite in every run, PostgreSQL when configured):
 * ownership moves, settlement of packets built by simulated cards, replay, double spending with proof,
 * and every refusal with its specific error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coinBodyCoder, exportPacketCoder, NO_WITHDRAWAL_CODE } from '../applet-spec/value-formats.js';
import { sm3 } from '../crypto/sm3.js';
import { openTransfer, OpenTransferError } from '../host/open-transfer.js';
import { bytesToHex, equalBytes, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair, sm2Sign } from '../crypto/sm2.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey } from '../crypto/sm9/sm9.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { cmd, identityFor, issueCard, loadCoins, prepareCard, purchase, selectApplet, send, systemKeys } from './card-fixture.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { DenominationKeys, mintCoins } from '../bank/mint.js';
import {
  bankOwner,
  CENTRAL_BANK,
  cardOwner,
  CustodyPendingError,
  DoubleSpendError,
  ExpiredCoinError,
  ForgedCoinError,
  NotOwnerError,
  type Registry,
  type RegistryOpenOptions,
  TamperedPacketError,
  UnknownWithdrawalCodeError,
  withdrawalCodeOwner,
  WrongDenominationKeyError,
  WrongPayeeError,
} from '../bank/registry.js';

const utf8 = new TextEncoder();
const VAULT = bankOwner('102100000001');
const MERCHANT_BANK = bankOwner('102100000002');
const MERCHANT = 'shop@merchant';

/** Opens a fresh, empty registry with the given trust options; the suite closes it. */
export type OpenRegistry = (opts: RegistryOpenOptions) => Promise<Registry>;

export function registrySuite(title: string, open: OpenRegistry, cardIdPrefix: string): void {
  describe(title, () => {
    const keys = systemKeys();
    const mintMaster = randomBytes(16);
    const mintParams = { signingKey: { privateKey: keys.coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };
    let reg: Registry;
    let nextCard = 0;

    beforeAll(async () => {
      reg = await open({ trust: { coinKeys: [{ keyIndex: 1, publicKey: keys.coinKey.publicKey }], kgcSignMasterPublicKey: keys.kgcSign.publicKey }, mintMaster });
    }, 60_000);
    afterAll(async () => {
      await reg?.close();
    });

    /** An issued simulated card holding freshly minted coins that went central bank -> vault -> card in the registry. */
    async function cardWithCoins(denominations: number[], opts: { expiryDate?: string; loadDate?: string } = {}) {
      const cardId = cardIdPrefix + String(nextCard++).padStart(20 - cardIdPrefix.length, '0');
      const card = new SimulatedCard({ manufacture: { cardId } });
      const { cardKey } = prepareCard(card, cardId);
      issueCard(card, identityFor(cardId), cardKey.publicKey);
      selectApplet(card);
      const coins = mintCoins({ ...mintParams, expiryDate: opts.expiryDate ?? mintParams.expiryDate }, denominations);
      const serials = coins.map((c) => c.body.serial);
      await reg.recordMint(coins);
      await reg.transfer(serials, CENTRAL_BANK, VAULT, { kind: 'transfer' });
      const load = loadCoins(card, coins, { date: opts.loadDate });
      expect(load.sw).toBe(0x9000);
      // The bank records the holder only after the card's TAC proved the load (issue 7, withdrawal).
      await reg.transfer(serials, VAULT, cardOwner(cardId), { kind: 'withdraw', payerCardId: cardId });
      return { card, cardId, identity: identityFor(cardId), coins, serials };
    }

    function pay(card: SimulatedCard, amountFen: number): Uint8Array {
      selectApplet(card);
      const r = purchase(card, amountFen, { payee: MERCHANT });
      expect(r.sw).toBe(0x9000);
      return exportPacketCoder.encode(r.value.packet);
    }

    const settleToMerchant = (packet: Uint8Array) => reg.settle(packet, { payeeIdentity: MERCHANT, payeeOwner: MERCHANT_BANK });

    it('moves minted coins central bank -> commercial-bank vault -> card, with balances and one flow per move', async () => {
      const coins = mintCoins(mintParams, [10000, 5000, 100]);
      const serials = coins.map((c) => c.body.serial);
      await reg.recordMint(coins);
      expect(await reg.ownerOf(serials[0])).toBe(CENTRAL_BANK);
      const vaultBefore = await reg.balanceOf(VAULT);
      await reg.transfer(serials, CENTRAL_BANK, VAULT);
      expect(await reg.balanceOf(VAULT)).toBe(vaultBefore + 15100);
      const owner = cardOwner('62120000000000099999');
      await reg.transfer(serials.slice(0, 2), VAULT, owner, { kind: 'withdraw' });
      expect(await reg.balanceOf(owner)).toBe(15000);
      expect(await reg.ownerOf(serials[2])).toBe(VAULT);
      expect((await reg.coinsOf(owner)).map((c) => c.body.denominationFen)).toEqual([10000, 5000]);
      const flows = await reg.db.query<{ kind: string; from_owner: string | null; to_owner: string }>(
        'SELECT kind, from_owner, to_owner FROM flows WHERE serial = $1 ORDER BY id',
        [serials[0]],
      );
      expect(flows.rows).toEqual([
        { kind: 'mint', from_owner: null, to_owner: CENTRAL_BANK },
        { kind: 'transfer', from_owner: CENTRAL_BANK, to_owner: VAULT },
        { kind: 'withdraw', from_owner: VAULT, to_owner: owner },
      ]);
    });

    it('refuses a move of coins the sender does not own, moving none of them', async () => {
      const coins = mintCoins(mintParams, [100, 500]);
      await reg.recordMint(coins);
      await reg.transfer([coins[1].body.serial], CENTRAL_BANK, VAULT);
      const err = await reg.transfer(coins.map((c) => c.body.serial), CENTRAL_BANK, VAULT).catch((e) => e);
      expect(err).toBeInstanceOf(NotOwnerError);
      expect(err.reason).toBe('not-owner');
      expect(await reg.ownerOf(coins[0].body.serial)).toBe(CENTRAL_BANK);
      const unknown = await reg.transfer([randomBytes(16)], CENTRAL_BANK, VAULT).catch((e) => e);
      expect(unknown).toBeInstanceOf(NotOwnerError);
      expect(unknown.reason).toBe('unknown-coin');
    });

    it('refuses to record a serial twice', async () => {
      const coins = mintCoins(mintParams, [100]);
      await reg.recordMint(coins);
      await expect(reg.recordMint(coins)).rejects.toThrow();
    });

    it('settles a purchase packet built by a simulated card: coins to the merchant bank, flow with packet hash and counter', async () => {
      const { card, cardId, serials } = await cardWithCoins([10000, 5000, 100]);
      const packet = pay(card, 5100);
      const s = await settleToMerchant(packet);
      expect(s.replayed).toBe(false);
      expect(s.type).toBe('PURCHASE');
      expect(s.payerCardId).toBe(cardId);
      expect(s.amountFen).toBe(5100);
      expect(s.serials.map(bytesToHex).sort()).toEqual([serials[1], serials[2]].map(bytesToHex).sort());
      expect(await reg.ownerOf(serials[1])).toBe(MERCHANT_BANK);
      expect(await reg.ownerOf(serials[2])).toBe(MERCHANT_BANK);
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(10000);
      const flow = await reg.db.query<{ kind: string; payer_counter: unknown; packet_hash: Uint8Array }>(
        'SELECT kind, payer_counter, packet_hash FROM flows WHERE serial = $1 ORDER BY id DESC LIMIT 1',
        [serials[1]],
      );
      expect(flow.rows[0].kind).toBe('deposit');
      expect(Number(flow.rows[0].payer_counter)).toBe(s.payerCounter);
      expect(equalBytes(flow.rows[0].packet_hash, s.packetHash)).toBe(true);
      expect(await reg.blacklist()).not.toContain(cardId);
    });

    it('returns the earlier settlement for the same packet again (replay is idempotent)', async () => {
      const { card, cardId } = await cardWithCoins([2000, 1000]);
      const packet = pay(card, 2000);
      const first = await settleToMerchant(packet);
      const merchantAfter = await reg.balanceOf(MERCHANT_BANK);
      const again = await settleToMerchant(packet.slice());
      expect(again.replayed).toBe(true);
      expect({ ...again, replayed: false, packetHash: bytesToHex(again.packetHash), serials: again.serials.map(bytesToHex) }).toEqual({
        ...first,
        packetHash: bytesToHex(first.packetHash),
        serials: first.serials.map(bytesToHex),
      });
      expect(await reg.balanceOf(MERCHANT_BANK)).toBe(merchantAfter);
      expect(await reg.proofs(cardId)).toEqual([]);
    });

    it('settles one packet deposited twice at the same time exactly once, without proof', async () => {
      const { card, cardId } = await cardWithCoins([1000, 500]);
      const packet = pay(card, 1500);
      const [a, b] = await Promise.all([settleToMerchant(packet), settleToMerchant(packet.slice())]);
      expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(0);
      expect(await reg.proofs(cardId)).toEqual([]);
      expect(await reg.blacklist()).not.toContain(cardId);
    });

    it('catches a restored image spending the same coins at the same time as the original: one settles, one is proof', async () => {
      const { card, cardId } = await cardWithCoins([5000]);
      const clone = SimulatedCard.fromImage(card.toImage());
      const results = await Promise.allSettled([settleToMerchant(pay(card, 5000)), settleToMerchant(pay(clone, 5000))]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(DoubleSpendError);
      expect(rejected.reason.reason).toBe('serial-reused');
      expect(await reg.blacklist()).toContain(cardId);
      expect(await reg.balanceOf(MERCHANT_BANK)).toBeGreaterThanOrEqual(5000);
    });

    it('detects a coin spent twice by a restored card image: serial-reused proof with both packets, card blacklisted', async () => {
      const { card, cardId, serials } = await cardWithCoins([5000, 2000]);
      const image = card.toImage();
      const packetA = pay(card, 5000);
      await settleToMerchant(packetA);
      const clone = SimulatedCard.fromImage(image);
      const packetB = pay(clone, 5000);
      expect(equalBytes(packetA, packetB)).toBe(false);
      const err = await settleToMerchant(packetB).catch((e) => e);
      expect(err).toBeInstanceOf(DoubleSpendError);
      expect(err.reason).toBe('serial-reused');
      expect(err.proof.payerCardId).toBe(cardId);
      expect(bytesToHex(err.proof.serial)).toBe(bytesToHex(serials[0]));
      expect(equalBytes(err.proof.packetA, packetA)).toBe(true);
      expect(equalBytes(err.proof.packetB, packetB)).toBe(true);
      const stored = await reg.proofs(cardId);
      expect(stored).toHaveLength(1);
      expect(stored[0].reason).toBe('serial-reused');
      expect(equalBytes(stored[0].packetA, packetA) && equalBytes(stored[0].packetB, packetB)).toBe(true);
      expect(await reg.blacklist()).toContain(cardId);
      expect(await reg.ownerOf(serials[0])).toBe(MERCHANT_BANK);
      // The first payment stands; the clone's packet moved nothing.
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(2000);
    });

    it('detects two different packets signed with one counter: counter-reused proof, card blacklisted', async () => {
      const { card, cardId, identity, coins, serials } = await cardWithCoins([5000, 2000]);
      const packetA = pay(card, 5000);
      const a = await settleToMerchant(packetA);
      // A clone holding the card's SM9 key (extracted here with the test KGC) signs a second packet with the same counter.
      const signKey = sm9ExtractSignKey(keys.kgcSign, utf8.encode(identity));
      const packetB = buildExportPacket({
        header: { payerCardId: cardId, payerIdentity: identity, payerCounter: a.payerCounter, payeeIdentity: MERCHANT },
        coins: [coins[1]],
        signKey,
        kgcSignMasterPublicKey: keys.kgcSign.publicKey,
      });
      const err = await settleToMerchant(packetB).catch((e) => e);
      expect(err).toBeInstanceOf(DoubleSpendError);
      expect(err.reason).toBe('counter-reused');
      expect(equalBytes(err.proof.packetA, packetA) && equalBytes(err.proof.packetB, packetB)).toBe(true);
      expect(err.proof.serial).toBeUndefined();
      expect(await reg.blacklist()).toContain(cardId);
      expect(await reg.ownerOf(serials[1])).toBe(cardOwner(cardId));
    });

    it('detects counter reuse by a restored card image paying with other coins', async () => {
      const { card, cardId } = await cardWithCoins([5000, 2000]);
      const image = card.toImage();
      await settleToMerchant(pay(card, 5000));
      const err = await settleToMerchant(pay(SimulatedCard.fromImage(image), 2000)).catch((e) => e);
      expect(err).toBeInstanceOf(DoubleSpendError);
      expect(err.reason).toBe('counter-reused');
      expect(await reg.blacklist()).toContain(cardId);
    });

    it('refuses a packet made out to another payee with WrongPayeeError, moving nothing', async () => {
      const { card, cardId } = await cardWithCoins([1000]);
      const packet = pay(card, 1000);
      const err = await reg.settle(packet, { payeeIdentity: 'other@merchant', payeeOwner: MERCHANT_BANK }).catch((e) => e);
      expect(err).toBeInstanceOf(WrongPayeeError);
      expect(err.reason).toBe('wrong-payee');
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(1000);
    });

    it('refuses a tampered packet: altered header -> signature, altered coin list -> coin-list-hash, truncated -> format', async () => {
      const { card, cardId } = await cardWithCoins([1000, 500]);
      const packet = pay(card, 1500);
      const { header } = exportPacketCoder.decode(packet);
      const headerLength = packet.length - exportPacketCoder.decode(packet).body.length;
      const sequenceTampered = exportPacketCoder.encode({ header: { ...header, terminalSequence: header.terminalSequence + 1 }, body: exportPacketCoder.decode(packet).body });
      const e1 = await settleToMerchant(sequenceTampered).catch((e) => e);
      expect(e1).toBeInstanceOf(TamperedPacketError);
      expect(e1.reason).toBe('signature');
      const t2 = packet.slice();
      t2[headerLength + 1 + 20] ^= 1; // a byte of the first coin's serial
      const e2 = await settleToMerchant(t2).catch((e) => e);
      expect(e2).toBeInstanceOf(TamperedPacketError);
      expect(e2.reason).toBe('coin-list-hash');
      const e3 = await settleToMerchant(packet.subarray(0, headerLength + 50)).catch((e) => e);
      expect(e3).toBeInstanceOf(TamperedPacketError);
      expect(e3.reason).toBe('format');
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(1500);
    });

    it('refuses a packet paying with a coin that expired before the payment date', async () => {
      // Loaded on 20261120 (still valid), paid on 20261122 (the fixture's purchase date): expired.
      const { card, cardId } = await cardWithCoins([1000], { expiryDate: '20261121', loadDate: '20261120' });
      const err = await settleToMerchant(pay(card, 1000)).catch((e) => e);
      expect(err).toBeInstanceOf(ExpiredCoinError);
      expect(err.reason).toBe('expired');
      expect(err.expiryDate).toBe('20261121');
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(1000);
    });

    it('refuses forged coins (foreign signature) and coins with a wrong denomination key, each with its error', async () => {
      const { cardId, identity, coins } = await cardWithCoins([1000]);
      const signKey = sm9ExtractSignKey(keys.kgcSign, utf8.encode(identity));
      const packetWith = (coin: (typeof coins)[number], counter: number) =>
        buildExportPacket({ header: { payerCardId: cardId, payerIdentity: identity, payerCounter: counter, payeeIdentity: MERCHANT }, coins: [coin], signKey, kgcSignMasterPublicKey: keys.kgcSign.publicKey });
      const rogue = sm2GenerateKeyPair();
      const forged = { body: coins[0].body, signature: sm2Sign(rogue.privateKey, coinBodyCoder.encode(coins[0].body)) };
      const e1 = await settleToMerchant(packetWith(forged, 100)).catch((e) => e);
      expect(e1).toBeInstanceOf(ForgedCoinError);
      expect(e1.reason).toBe('signature');
      const body = { ...coins[0].body, m: new DenominationKeys(randomBytes(16)).checkValue(1000, coins[0].body.serial) };
      const wrongKey = { body, signature: sm2Sign(keys.coinKey.privateKey, coinBodyCoder.encode(body)) };
      const e2 = await settleToMerchant(packetWith(wrongKey, 101)).catch((e) => e);
      expect(e2).toBeInstanceOf(WrongDenominationKeyError);
      expect(e2.reason).toBe('denomination-key');
      expect(await reg.blacklist()).not.toContain(cardId);
    });

    it('refuses a packet spending coins the payer never owned, without proof or blacklisting', async () => {
      const { cardId, identity } = await cardWithCoins([100]);
      const vaultCoins = mintCoins(mintParams, [2000]);
      await reg.recordMint(vaultCoins);
      const packet = buildExportPacket({
        header: { payerCardId: cardId, payerIdentity: identity, payerCounter: 50, payeeIdentity: MERCHANT },
        coins: vaultCoins,
        signKey: sm9ExtractSignKey(keys.kgcSign, utf8.encode(identity)),
        kgcSignMasterPublicKey: keys.kgcSign.publicKey,
      });
      const err = await settleToMerchant(packet).catch((e) => e);
      expect(err).toBeInstanceOf(NotOwnerError);
      expect(err.reason).toBe('not-owner');
      expect(await reg.ownerOf(vaultCoins[0].body.serial)).toBe(CENTRAL_BANK);
      expect(await reg.proofs(cardId)).toEqual([]);
      expect(await reg.blacklist()).not.toContain(cardId);
    });

    /** An issued card with no coins (a payee). */
    function payeeCard() {
      const cardId = cardIdPrefix + String(nextCard++).padStart(20 - cardIdPrefix.length, '0');
      const card = new SimulatedCard({ manufacture: { cardId } });
      const { cardKey } = prepareCard(card, cardId);
      issueCard(card, identityFor(cardId), cardKey.publicKey);
      selectApplet(card);
      return { card, cardId, identity: identityFor(cardId) };
    }

    /** A transfer of `amountFen` from `payer` to `payeeIdentity` (nonce from `payee` when given), with a withdrawal code. */
    function transfer(payer: SimulatedCard, amountFen: number, payeeIdentity: string, code: string, payee?: SimulatedCard): Uint8Array {
      let nonce = randomBytes(8);
      if (payee) {
        selectApplet(payee);
        nonce = send(payee, cmd('initializeForReceive'), {}).value.nonce;
      }
      selectApplet(payer);
      const init = send(payer, cmd('initializeForTransfer'), { amountFen, payeeIdentity, payeeNonce: nonce, withdrawalCode: code, date: '20261122', time: '120000' });
      expect(init.sw).toBe(0x9000);
      const exp = send(payer, cmd('exportCoins'), { confirmation: init.value.cardRandom });
      expect(exp.sw).toBe(0x9000);
      return exp.data;
    }

    /** IMPORT COINS on the payee card: its whole response (receipt || settlement body). */
    function importOnCard(payee: SimulatedCard, packet: Uint8Array): Uint8Array {
      const r = send(payee, cmd('importCoins'), { packet: exportPacketCoder.decode(packet) });
      expect(r.sw).toBe(0x9000);
      return r.data;
    }

    /** The payee terminal of a payee with its own SM9 key opens the packet (never the registry). */
    const openAsPayee = (packet: Uint8Array, identity: string) => openTransfer(packet, sm9ExtractEncryptKey(keys.kgcEncrypt, utf8.encode(identity)));

    it('keeps the withdrawal code out of the packet header: only the payee key reveals it, and the header binds it', async () => {
      const { card } = await cardWithCoins([2000]);
      const code = '1234567890123456';
      const packet = transfer(card, 2000, 'walkin@person', code);
      expect(Buffer.from(packet).includes(Buffer.from(code, 'hex'))).toBe(false);
      expect(() => openTransfer(packet, sm9ExtractEncryptKey(keys.kgcEncrypt, utf8.encode('someone@else')))).toThrow(OpenTransferError);
      const opened = openAsPayee(packet, 'walkin@person');
      expect(opened.withdrawal.code).toBe(code);
      // A code the payer did not sign (or a guessed salt) is refused, nothing moves.
      const forged = await reg.settle(packet, { payeeIdentity: 'walkin@person', settlementBody: opened.settlementBody, withdrawal: { code: '9999999999999999', salt: opened.withdrawal.salt } }).catch((e) => e);
      expect(forged).toBeInstanceOf(TamperedPacketError);
      expect(forged.reason).toBe('withdrawal-code');
      // The registry holds no payee key: a transfer without the opened body or the card's response is a usage error.
      await expect(reg.settle(packet, { payeeIdentity: 'walkin@person' })).rejects.toBeInstanceOf(TypeError);
    });

    it('settles a TRANSFER opened by the payee to its withdrawal code, redeemed once into an account, the code stored nowhere', async () => {
      const { card, cardId, serials } = await cardWithCoins([2000, 1000]);
      const payee = 'walkin@person';
      const code = '1234567890123457';
      const packet = transfer(card, 2000, payee, code);
      const opened = openAsPayee(packet, payee);
      const s = await reg.settle(packet, { payeeIdentity: payee, settlementBody: opened.settlementBody, withdrawal: opened.withdrawal });
      expect(s.type).toBe('TRANSFER');
      expect(s.payeeOwner).toBe(withdrawalCodeOwner(code));
      expect(await reg.ownerOf(serials[0])).toBe(withdrawalCodeOwner(code));
      const flows = await reg.db.query<{ n: string }>("SELECT count(*)::text AS n FROM flows WHERE withdrawal_code IS NOT NULL");
      expect(flows.rows[0].n).toBe('0');
      const account = bankOwner('102100000003');
      const before = await reg.balanceOf(account);
      const r = await reg.redeem(code, account);
      expect(r.amountFen).toBe(2000);
      expect(await reg.balanceOf(account)).toBe(before + 2000);
      await expect(reg.redeem(code, account)).rejects.toBeInstanceOf(UnknownWithdrawalCodeError);
      expect(await reg.balanceOf(cardOwner(cardId))).toBe(1000);
    });

    it("settles a TRANSFER to the payee card on the card's receipt, and the code can then not be redeemed", async () => {
      const payer = await cardWithCoins([2000]);
      const payee = payeeCard();
      const code = '1234567890123458';
      const packet = transfer(payer.card, 2000, payee.identity, code, payee.card);
      const response = importOnCard(payee.card, packet);
      const s = await reg.settle(packet, { payeeIdentity: payee.identity, importResponse: response });
      expect(s.payeeOwner).toBe(cardOwner(payee.cardId));
      expect(await reg.ownerOf(payer.serials[0])).toBe(cardOwner(payee.cardId));
      // The payee, holding its key elsewhere too, opens the packet and deposits the code: the packet is settled already.
      const opened = openAsPayee(packet, payee.identity);
      const again = await reg.settle(packet, { payeeIdentity: payee.identity, settlementBody: opened.settlementBody, withdrawal: opened.withdrawal });
      expect(again.replayed).toBe(true);
      expect(again.payeeOwner).toBe(cardOwner(payee.cardId));
      await expect(reg.redeem(code, bankOwner('102100000003'))).rejects.toBeInstanceOf(UnknownWithdrawalCodeError);
      // A receipt that does not belong to the packet is refused.
      const other = transfer((await cardWithCoins([500])).card, 500, payee.identity, code, payee.card);
      const bad = await reg.settle(other, { payeeIdentity: payee.identity, importResponse: response }).catch((e) => e);
      expect(bad).toBeInstanceOf(TamperedPacketError);
      expect(bad.reason).toBe('receipt');
    });

    it("moves coins still under a code to the payee card when its receipt comes later, so the code pays nothing", async () => {
      const payer = await cardWithCoins([3000]);
      const payee = payeeCard();
      const code = '1234567890123459';
      const packet = transfer(payer.card, 3000, payee.identity, code, payee.card);
      const opened = openAsPayee(packet, payee.identity);
      await reg.settle(packet, { payeeIdentity: payee.identity, settlementBody: opened.settlementBody, withdrawal: opened.withdrawal });
      expect(await reg.ownerOf(payer.serials[0])).toBe(withdrawalCodeOwner(code));
      const s = await reg.settle(packet, { payeeIdentity: payee.identity, importResponse: importOnCard(payee.card, packet) });
      expect(s.payeeOwner).toBe(cardOwner(payee.cardId));
      expect(await reg.ownerOf(payer.serials[0])).toBe(cardOwner(payee.cardId));
      await expect(reg.redeem(code, bankOwner('102100000003'))).rejects.toBeInstanceOf(UnknownWithdrawalCodeError);
      expect(await reg.blacklist()).not.toContain(payee.cardId);
    });

    it('catches a code redeemed for cash whose coins the payee card also took: code-and-card proof by receipt, payee card blacklisted', async () => {
      const payer = await cardWithCoins([4000]);
      const payee = payeeCard();
      const code = '1234567890123460';
      const packet = transfer(payer.card, 4000, payee.identity, code, payee.card);
      const response = importOnCard(payee.card, packet);
      const opened = openAsPayee(packet, payee.identity);
      await reg.settle(packet, { payeeIdentity: payee.identity, settlementBody: opened.settlementBody, withdrawal: opened.withdrawal });
      const cash = bankOwner('102100000004');
      await reg.redeem(code, cash);
      const err = await reg.settle(packet, { payeeIdentity: payee.identity, importResponse: response }).catch((e) => e);
      expect(err).toBeInstanceOf(DoubleSpendError);
      expect(err.proof.reason).toBe('code-and-card');
      expect(err.proof.payerCardId).toBe(payee.cardId);
      expect(equalBytes(err.proof.packetA, packet)).toBe(true);
      expect(equalBytes(err.proof.packetB, response)).toBe(true);
      expect(await reg.blacklist()).toContain(payee.cardId);
      expect(await reg.ownerOf(payer.serials[0])).toBe(cash);
    });

    it('catches a payee card spending coins whose code was redeemed: code-and-card proof with its signed purchase, card blacklisted', async () => {
      const payer = await cardWithCoins([5000]);
      const payee = payeeCard();
      const code = '1234567890123461';
      const packet = transfer(payer.card, 5000, payee.identity, code, payee.card);
      importOnCard(payee.card, packet);
      const opened = openAsPayee(packet, payee.identity);
      await reg.settle(packet, { payeeIdentity: payee.identity, settlementBody: opened.settlementBody, withdrawal: opened.withdrawal });
      await reg.redeem(code, bankOwner('102100000004'));
      const spent = pay(payee.card, 5000);
      const err = await settleToMerchant(spent).catch((e) => e);
      expect(err).toBeInstanceOf(DoubleSpendError);
      expect(err.proof.reason).toBe('code-and-card');
      expect(err.proof.payerCardId).toBe(payee.cardId);
      expect(equalBytes(err.proof.packetA, packet)).toBe(true);
      expect(equalBytes(err.proof.packetB, spent)).toBe(true);
      expect(await reg.blacklist()).toContain(payee.cardId);
    });

    it('lets a payee card spend coins still waiting under its code: they go to the merchant and the code pays nothing', async () => {
      const payer = await cardWithCoins([6000]);
      const payee = payeeCard();
      const code = '1234567890123462';
      const packet = transfer(payer.card, 6000, payee.identity, code, payee.card);
      importOnCard(payee.card, packet);
      const opened = openAsPayee(packet, payee.identity);
      await reg.settle(packet, { payeeIdentity: payee.identity, settlementBody: opened.settlementBody, withdrawal: opened.withdrawal });
      const s = await settleToMerchant(pay(payee.card, 6000));
      expect(s.payeeOwner).toBe(MERCHANT_BANK);
      expect(await reg.ownerOf(payer.serials[0])).toBe(MERCHANT_BANK);
      await expect(reg.redeem(code, bankOwner('102100000004'))).rejects.toBeInstanceOf(UnknownWithdrawalCodeError);
      expect(await reg.blacklist()).not.toContain(payee.cardId);
    });

    it('queues a custody-pending packet and settles it by itself once the missing deposit comes in', async () => {
      // A pays B offline; B pays the coin back to A offline; A then pays the merchant with it. The merchant
      // deposits first: A paid the coin away earlier (to B) and its return is not in yet, so the packet waits.
      const a = await cardWithCoins([700]);
      const b = payeeCard();
      const toB = transfer(a.card, 700, b.identity, NO_WITHDRAWAL_CODE, b.card);
      const responseB = importOnCard(b.card, toB);
      const toA = transfer(b.card, 700, a.identity, NO_WITHDRAWAL_CODE, a.card);
      const responseA = importOnCard(a.card, toA);
      const spent = pay(a.card, 700);
      await reg.settle(toB, { payeeIdentity: b.identity, importResponse: responseB });
      const pending = await settleToMerchant(spent).catch((e) => e);
      expect(pending).toBeInstanceOf(CustodyPendingError);
      expect((await reg.pending()).map((p) => bytesToHex(p.packetHash))).toContain(bytesToHex(sm3(spent)));
      expect(await reg.ownerOf(a.serials[0])).toBe(cardOwner(b.cardId));
      // The return comes in: the queued purchase settles with it, nobody accused.
      await reg.settle(toA, { payeeIdentity: a.identity, importResponse: responseA });
      expect(await reg.ownerOf(a.serials[0])).toBe(MERCHANT_BANK);
      expect((await reg.pending()).map((p) => bytesToHex(p.packetHash))).not.toContain(bytesToHex(sm3(spent)));
      expect(await reg.blacklist()).not.toContain(a.cardId);
    });

    it('conserves value: every minted fen is held by exactly one owner', async () => {
      const owners = await reg.db.query<{ owner: string }>('SELECT DISTINCT owner FROM coins');
      let sum = 0;
      for (const { owner } of owners.rows) sum += await reg.balanceOf(owner);
      expect(sum).toBe(await reg.mintedTotal());
    });
  });
}
