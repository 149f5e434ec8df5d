/**
 * @module The runner acting as the parties around a card, with the profile's keys: the bank loading
 * coins it mints with the coin-signing key (MAC2 under the card's load key, MAC1 and TAC checked), the
 * terminal paying (MAC1 from a secure module, MAC2, TAC and the packet's signatures checked against the
 * trust anchors), the payee of a transfer (body opened with a key extracted from the KGC encryption
 * master, packet verified against the trust anchors) and the payer of a received packet (signed with a
 * key extracted from the KGC signature master, receipt checked); each answer is checked the same way
 * when GET TRANSACTION PROVE gives it back. Every check a conformance case makes of a value command's
 * answer lives here.
 */
import { cardIdCoder, DATA_OBJECTS } from '../applet-spec/data-objects.js';
import {
  type Coin,
  COIN_LENGTH,
  COIN_SIGNED_LENGTH,
  COIN_VERSION,
  coinBodyCoder,
  coinListCoder,
  exportBodyCoder,
  exportHeaderCoder,
  type ExportPacket,
  exportPacketCoder,
  type ImportResponse,
  importResponseCoder,
  receiptBodyCoder,
  RECEIPT_VERSION,
  TRANSACTION_TYPES,
} from '../applet-spec/value-formats.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { coinVerifiers } from '../coins/check-coin.js';
import { verifyExportPacket } from '../coins/verify-export-packet.js';
import { concatBytes, equalBytes, randomBytes, uintToBytes, wipe } from '../base/bytes.js';
import { loadMac1Data, loadMac2Data, loadTacData, purchaseMac1Data, purchaseMac2Data, purchaseTacData } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac, pbocPurchaseSessionKey, pbocTac } from '../crypto/pboc.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Decrypt, sm9ExtractEncryptKey, sm9ExtractSignKey, sm9Verify } from '../crypto/sm9/sm9.js';
import { debitForPurchase } from '../applet-spec/commands/debit-for-purchase.js';
import type { CaseContext } from './case-context.js';
import { CaseFailure, CaseSkip, check } from './conformance-case.js';

/** The terminal the runner plays: a fixed ID that says "conformance" in its digits. */
export const CONFORMANCE_TERMINAL_ID = Uint8Array.of(0xc0, 0x4f, 0x00, 0x00, 0x00, 0x01);
/** The date and time the runner's terminal and bank put in value commands. */
export const DATE = '20261122';
export const TIME = '101500';
const utf8 = new TextEncoder();

/**
 * A coin minted with the profile's coin-signing key. `m` (the mint's check value, which only the
 * mint and the registry can verify) is random: the card checks format, signature, expiry and serial.
 */
export function mintTestCoin(ctx: CaseContext, denominationFen: number, dates: { issueDate?: string; expiryDate?: string } = {}): Coin {
  const k = ctx.profile.keys.coinSigning;
  if (!k) throw new CaseSkip('the profile has no coinSigning key file');
  const body = { version: COIN_VERSION, denominationFen, serial: randomBytes(16), issueDate: '20260101', expiryDate: '20361231', ...dates, keyIndex: k.keyIndex, m: randomBytes(16) };
  return { body, signature: sm2Sign(k.secret.privateKey, coinBodyCoder.encode(body)) };
}

/** A GET DATA amount or count the card reports (limits, balance cap, PIN threshold). */
export async function readNumber(ctx: CaseContext, name: 'balanceCap' | 'singleLimit' | 'offlineCountLimit' | 'offlineAmountLimit' | 'pinThreshold' | 'transactionCounter' | 'pinTriesLeft'): Promise<number> {
  return (await ctx.card.getData(name as keyof typeof DATA_OBJECTS)) as number;
}

export interface LoadOutcome {
  counter: number;
  tac: Uint8Array;
  amountFen: number;
  newBalanceFen: number;
}

/** What a load is bound to once INITIALIZE FOR LOAD has answered: enough to know its TAC, whether from the answer or from GET TRANSACTION PROVE. */
export interface LoadTerms {
  amountFen: number;
  balanceBeforeFen: number;
  counter: number;
}

/** The TAC of a committed load under the card's TAC key, over the new balance, counter, amount and terminal (JR/T 0025.2 load). */
export function expectedLoadTac(ctx: CaseContext, t: LoadTerms): Uint8Array {
  const newBalanceFen = t.balanceBeforeFen + t.amountFen;
  return pbocTac(ctx.applicationKey('tac'), loadTacData({ newBalanceFen, counter: t.counter, amountFen: t.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: CONFORMANCE_TERMINAL_ID, date: DATE, time: TIME }));
}

/**
 * Loads coins as the bank does (DrmbCard.loadCoins), checking MAC1 of INITIALIZE FOR LOAD and the TAC
 * of CREDIT FOR LOAD under the card's keys (JR/T 0025.2 load). Throws CaseFailure on a wrong MAC or TAC.
 * `beforeCredit` runs just before CREDIT FOR LOAD is sent (a tear case arms its power cut there).
 */
export async function loadAndCheck(ctx: CaseContext, coins: Coin[], beforeCredit?: (terms: LoadTerms) => void): Promise<LoadOutcome> {
  let terms: LoadTerms | undefined;
  const amountFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
  const r = await ctx.card.loadCoins(coins, CONFORMANCE_TERMINAL_ID, { date: DATE, time: TIME }, (ch) => {
    terms = { amountFen, balanceBeforeFen: ch.balanceFen, counter: ch.counter };
    const sk = loadSessionKey(ctx, ch.cardRandom, ch.counter);
    const mac1 = pbocMac(sk, loadMac1Data({ balanceFen: ch.balanceFen, amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: CONFORMANCE_TERMINAL_ID }));
    check(equalBytes(mac1, ch.mac1), 'INITIALIZE FOR LOAD: MAC1 is not the one the card\'s load key gives');
    const mac2 = loadMac2(sk, amountFen, coinListCoder.encode(coins));
    beforeCredit?.(terms);
    return mac2;
  });
  const t = terms!;
  check(equalBytes(expectedLoadTac(ctx, t), r.tac), 'CREDIT FOR LOAD: the TAC is not the one the card\'s TAC key gives over the new balance, counter, amount and terminal');
  return { counter: r.counter, tac: r.tac, amountFen, newBalanceFen: t.balanceBeforeFen + amountFen };
}

/** The load session key of a load the card opened (JR/T 0025.2: card random, counter, 8000). */
export function loadSessionKey(ctx: CaseContext, cardRandom: Uint8Array, counter: number): Uint8Array {
  return pbocLoadSessionKey(ctx.applicationKey('load'), cardRandom, uintToBytes(counter, 4));
}

/** The bank's MAC2 of a load at the conformance terminal, date and time, over the coin list bytes as sent. */
export function loadMac2(sessionKey: Uint8Array, amountFen: number, coinListBytes: Uint8Array): Uint8Array {
  return pbocMac(sessionKey, concatBytes(loadMac2Data({ amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: CONFORMANCE_TERMINAL_ID, date: DATE, time: TIME }), sm3(coinListBytes)));
}

/** Loads one coin of this value so that an exact coin set exists; skips when the card has no room. */
export async function loadOneCoin(ctx: CaseContext, denominationFen: number): Promise<LoadOutcome> {
  const room = (await readNumber(ctx, 'balanceCap')) - (await ctx.card.balance());
  if (room < denominationFen) throw new CaseSkip(`the card has room for ${room} fen only under its balance cap`);
  return loadAndCheck(ctx, [mintTestCoin(ctx, denominationFen)]);
}

export interface PurchaseOutcome {
  counter: number;
  /** the DEBIT FOR PURCHASE response data: TAC, MAC2, packet */
  response: Uint8Array;
  packet: ExportPacket;
}

/** What a purchase is bound to once INITIALIZE FOR PURCHASE has answered: enough to check its response, whether from the answer or from GET TRANSACTION PROVE. */
export interface PurchaseTerms {
  amountFen: number;
  cardId: string;
  /** the card's SM9 identity (GET DATA), which signs the packet */
  identity: string;
  terminal: { terminalId: Uint8Array; terminalSequence: number; date: string; time: string; unpredictableNumber: Uint8Array; payeeIdentity: string };
  counter: number;
  cardRandom: Uint8Array;
}

/**
 * Pays `amountFen` as a POS terminal does (DrmbCard.purchase, MAC1 under the card's purchase key
 * derived from the profile's cb-master as the terminal's PSAM derives it), then checks the response (checkPurchaseResponse). `beforeDebit` runs just before DEBIT FOR
 * PURCHASE is sent (a tear case arms its power cut there).
 */
export async function purchaseAndCheck(ctx: CaseContext, amountFen: number, beforeDebit?: (terms: PurchaseTerms) => void): Promise<PurchaseOutcome> {
  const cb = ctx.profile.keys.cbMaster;
  if (!cb || !ctx.profile.keys.trustAnchors) throw new CaseSkip('the profile has no cbMaster or trustAnchors');
  const cardId = ctx.cardId();
  const identity = (await ctx.card.getData('ibcIdentity')) as string;
  const terminal = { terminalId: CONFORMANCE_TERMINAL_ID, terminalSequence: 1, date: DATE, time: TIME, unpredictableNumber: randomBytes(8), payeeIdentity: 'conformance-merchant' };
  let terms: PurchaseTerms | undefined;
  let r: Awaited<ReturnType<typeof ctx.card.purchase>>;
  r = await ctx.card.purchase(amountFen, terminal, (ch) => {
    terms = { amountFen, cardId, identity, terminal, counter: ch.counter, cardRandom: ch.cardRandom };
    const sk = purchaseSessionKey(ctx, terms);
    try {
      const mac1 = pbocMac(sk, purchaseMac1Data({ amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: CONFORMANCE_TERMINAL_ID, date: DATE, time: TIME }));
      beforeDebit?.(terms);
      return mac1;
    } finally {
      wipe(sk);
    }
  });
  const response = concatBytes(r.tac, r.mac2, r.packetBytes);
  return { counter: terms!.counter, response, packet: checkPurchaseResponse(ctx, terms!, response) };
}

/** MAC1 a terminal's PSAM gives for a debit at the runner's terminal: under the card's purchase key, over amount, type 06, terminal, date and time. */
export function purchaseMac1(ctx: CaseContext, x: { cardRandom: Uint8Array; counter: number; terminalSequence: number; amountFen: number; date: string; time: string }): Uint8Array {
  const dpk = ctx.applicationKey('purchase');
  const sk = pbocPurchaseSessionKey(dpk, x.cardRandom, uintToBytes(x.counter, 4), uintToBytes(x.terminalSequence, 4));
  try {
    return pbocMac(sk, purchaseMac1Data({ amountFen: x.amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: CONFORMANCE_TERMINAL_ID, date: x.date, time: x.time }));
  } finally {
    wipe(dpk);
    wipe(sk);
  }
}

/**
 * JR/T 0025.2 purchase session key of the debit: SM4(card purchase key, card random || counter || last
 * two bytes of the terminal sequence number). Security: secret; the caller wipes it.
 */
function purchaseSessionKey(ctx: CaseContext, t: PurchaseTerms): Uint8Array {
  const dpk = ctx.applicationKey('purchase');
  try {
    return pbocPurchaseSessionKey(dpk, t.cardRandom, uintToBytes(t.counter, 4), uintToBytes(t.terminal.terminalSequence, 4));
  } finally {
    wipe(dpk);
  }
}

/**
 * Checks a DEBIT FOR PURCHASE response (TAC || MAC2 || packet), as answered or as GET TRANSACTION
 * PROVE gives it back: MAC2 under the card's purchase key, the TAC, and the packet: header as the debit
 * said, every coin signed by a central-bank key of the trust anchors, the coin-list hash, the amount,
 * and the payer's SM9 signature over SM3(header || coin list) under the KGC's master public key
 * (GM/T 0044 part 2). Returns the packet.
 */
export function checkPurchaseResponse(ctx: CaseContext, t: PurchaseTerms, response: Uint8Array): ExportPacket {
  const cb = ctx.profile.keys.cbMaster;
  const anchors = ctx.profile.keys.trustAnchors;
  if (!cb || !anchors) throw new CaseSkip('the profile has no cbMaster or trustAnchors');
  const r = debitForPurchase.decodeResponse(response);
  const packetBytes = response.subarray(8);
  const { amountFen, cardId, identity, terminal, counter } = t;
  const sk = purchaseSessionKey(ctx, t);
  try {
    check(equalBytes(pbocMac(sk, purchaseMac2Data({ amountFen })), r.mac2), 'DEBIT FOR PURCHASE: MAC2 is not the one the card\'s purchase key gives');
  } finally {
    wipe(sk);
  }
  const tac = pbocTac(ctx.applicationKey('tac'), purchaseTacData({ amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: CONFORMANCE_TERMINAL_ID, terminalSequence: terminal.terminalSequence, date: DATE, time: TIME }));
  check(equalBytes(tac, r.tac), 'DEBIT FOR PURCHASE: the TAC is not the one the card\'s TAC key gives');
  const packet = exportPacketCoder.decode(packetBytes, 'purchase packet');
  const h = packet.header;
  check(h.type === 'PURCHASE' && h.amountFen === amountFen && h.payerCardId === cardId && h.payerCounter === counter && h.payeeIdentity === terminal.payeeIdentity, 'DEBIT FOR PURCHASE: the packet header does not say what the debit did');
  check(equalBytes(h.payeeNonce, terminal.unpredictableNumber), 'DEBIT FOR PURCHASE: the packet does not carry the terminal\'s unpredictable number');
  const headerBytes = exportHeaderCoder.encode(h);
  const body = exportBodyCoder.decode(packet.body, 'purchase packet body');
  const coinList = packet.body.subarray(0, 1 + body.coins.length * COIN_LENGTH);
  check(equalBytes(sm3(coinList), h.coinListHash), 'DEBIT FOR PURCHASE: the coin-list hash differs from the coins');
  check(body.coins.reduce((s, c) => s + c.body.denominationFen, 0) === amountFen, 'DEBIT FOR PURCHASE: the coins do not add up to the amount');
  body.coins.forEach((coin, i) => {
    const key = anchors.coinKeys.find((k) => k.keyIndex === coin.body.keyIndex);
    const raw = coinList.subarray(1 + i * COIN_LENGTH, 1 + i * COIN_LENGTH + COIN_SIGNED_LENGTH);
    check(!!key && sm2Verify(key.publicKey, raw, coin.signature), `DEBIT FOR PURCHASE: coin ${i + 1} does not verify under the trust anchors`);
  });
  check(
    sm9Verify(anchors.kgcSignMasterPublicKey, utf8.encode(identity), sm3(concatBytes(headerBytes, coinList)), body.signature),
    `DEBIT FOR PURCHASE: the packet's SM9 signature does not verify for the card's identity ${identity}`,
  );
  return packet;
}

/** The payee of the transfers the runner receives: an identity of its own, keys extracted from the profile's KGC masters. */
export const CONFORMANCE_PAYEE = 'conformance-payee';
/** The payer of the packets the runner sends the card, with a card ID no issuer gives out (all nines). */
export const CONFORMANCE_PAYER = { identity: 'conformance-payer', cardId: '99999999999999999999' };
const WITHDRAWAL_CODE = '2026112210150001';

export interface TransferOutcome {
  counter: number;
  packetBytes: Uint8Array;
}

/** What a transfer is bound to once INITIALIZE FOR TRANSFER has answered: enough to check its packet, whether from EXPORT COINS or from GET TRANSACTION PROVE. */
export interface TransferTerms {
  amountFen: number;
  cardId: string;
  /** the card's SM9 identity (GET DATA), which signs the packet */
  identity: string;
  /** the payee's nonce given to INITIALIZE FOR TRANSFER */
  nonce: Uint8Array;
  counter: number;
}

/**
 * Pays `amountFen` to CONFORMANCE_PAYEE by INITIALIZE FOR TRANSFER and EXPORT COINS (DrmbCard.transfer),
 * then checks the packet (checkTransferPacket). Verifies the PIN first when the amount is above the
 * card's PIN threshold. `beforeExport` runs just before EXPORT COINS is sent (a tear case arms its power
 * cut there).
 */
export async function transferAndCheck(ctx: CaseContext, amountFen: number, beforeExport?: (terms: TransferTerms) => void): Promise<TransferOutcome> {
  if (!ctx.profile.keys.trustAnchors || !ctx.profile.keys.kgcEncrypt) throw new CaseSkip('the profile has no trustAnchors or kgcEncrypt');
  if (amountFen > (await readNumber(ctx, 'pinThreshold'))) await ctx.verifyPin();
  const cardId = ctx.cardId();
  const identity = (await ctx.card.getData('ibcIdentity')) as string;
  const nonce = randomBytes(8);
  let terms: TransferTerms | undefined;
  const r = await ctx.card.transfer(amountFen, CONFORMANCE_PAYEE, nonce, WITHDRAWAL_CODE, { date: DATE, time: TIME }, (init) => {
    terms = { amountFen, cardId, identity, nonce, counter: init.counter };
    beforeExport?.(terms);
  });
  checkTransferPacket(ctx, r.packetBytes, terms!);
  return { counter: r.counter, packetBytes: r.packetBytes };
}

/**
 * Checks a TRANSFER packet to CONFORMANCE_PAYEE, as EXPORT COINS answers it or as GET TRANSACTION PROVE
 * gives it back: the header says what the transfer did (type, amount, payer card, identity and
 * counter, payee, nonce, date and time); the body opens as the payee opens it, with the user key
 * extracted from the KGC encryption master (GM/T 0044 part 4); the packet verifies against the trust
 * anchors (verifyExportPacket: coin-list hash, withdrawal seal against its commitment, payer SM9
 * signature, amount, every coin); and the body carries the withdrawal code. Returns the packet.
 */
export function checkTransferPacket(ctx: CaseContext, packetBytes: Uint8Array, t: TransferTerms): ExportPacket {
  const anchors = ctx.profile.keys.trustAnchors;
  const kgcEncrypt = ctx.profile.keys.kgcEncrypt;
  if (!anchors || !kgcEncrypt) throw new CaseSkip('the profile has no trustAnchors or kgcEncrypt');
  let packet: ExportPacket;
  try {
    packet = exportPacketCoder.decode(packetBytes, 'transfer packet');
  } catch (e) {
    throw new CaseFailure(`EXPORT COINS: the packet does not decode (${(e as Error).message})`);
  }
  const h = packet.header;
  check(
    h.type === 'TRANSFER' && h.amountFen === t.amountFen && h.payerCardId === t.cardId && h.payerIdentity === t.identity && h.payerCounter === t.counter && h.payeeIdentity === CONFORMANCE_PAYEE && h.date === DATE && h.time === TIME,
    'EXPORT COINS: the packet header does not say what the transfer did',
  );
  check(equalBytes(h.payeeNonce, t.nonce), "EXPORT COINS: the packet does not carry the payee's nonce");
  const payee = utf8.encode(CONFORMANCE_PAYEE);
  let clear: Uint8Array;
  try {
    clear = sm9Decrypt(sm9ExtractEncryptKey(kgcEncrypt.secret.privateKey, payee), payee, packet.body);
  } catch (e) {
    throw new CaseFailure(`EXPORT COINS: the body does not decrypt with the payee's SM9 key (${(e as Error).message})`);
  }
  const v = verifyExportPacket(packetBytes, { coinVerifier: coinVerifiers(anchors.coinKeys, 'plain'), kgcSignMasterPublicKey: anchors.kgcSignMasterPublicKey }, { body: { exportBody: clear } });
  if (!v.ok) throw new CaseFailure(`EXPORT COINS: the packet does not verify under the trust anchors (${v.fault}${'index' in v ? ` of coin ${v.index}` : ''})`);
  check(v.withdrawal?.code === WITHDRAWAL_CODE, 'EXPORT COINS: the body does not carry the withdrawal code given to INITIALIZE FOR TRANSFER');
  return packet;
}

/** The SM3 prefix a transfer's log record names its payee by (value-formats.ts logRecordCoder). */
export function payeeLogId(identity: string): Uint8Array {
  return sm3(utf8.encode(identity)).subarray(0, 10);
}

/** A TRANSFER packet the runner makes for the card, and what went into it. */
export interface PacketToCard {
  packet: Uint8Array;
  coins: Coin[];
  amountFen: number;
  /** the receive counter INITIALIZE FOR RECEIVE reported */
  receiveCounter: number;
  payerCounter: number;
}

/**
 * Asks the card for a receive nonce (INITIALIZE FOR RECEIVE) and builds a TRANSFER packet of fresh coins
 * to its identity, as a payer card would: coins signed with the profile's coin-signing key (`tamper`
 * may change their bytes before the payer signs), signed by CONFORMANCE_PAYER with a key extracted
 * from the KGC signature master (GM/T 0044 part 2), the body SM9-encrypted to the card's identity.
 * `denominationsFen` may be a function of the room the card reports under its cap: the caller then
 * owns the room check (a packet meant to go over the cap). `payeeIdentity` addresses the packet, body
 * encrypted to it, to another identity than the card's, with the card's nonce.
 */
export async function packetToCard(
  ctx: CaseContext,
  denominationsFen: number[] | ((roomFen: number) => number[]),
  tamper?: (coins: Coin[]) => Coin[],
  payeeIdentity?: string,
): Promise<PacketToCard> {
  const kgcSign = ctx.profile.keys.kgcSign;
  const kgcEncryptPublic = ctx.profile.keys.kgcEncrypt?.public.publicKey ?? ctx.profile.keys.trustAnchors?.kgcEncryptMasterPublicKey;
  if (!kgcSign || !kgcEncryptPublic) throw new CaseSkip('the profile has no kgcSign or no KGC encryption master public key');
  const recv = await ctx.card.prepareReceive();
  const denominations = typeof denominationsFen === 'function' ? denominationsFen(recv.roomFen) : denominationsFen;
  const amountFen = denominations.reduce((s, d) => s + d, 0);
  if (typeof denominationsFen !== 'function' && recv.roomFen < amountFen) throw new CaseSkip(`the card has room for ${recv.roomFen} fen only under its balance cap`);
  const minted = denominations.map((d) => mintTestCoin(ctx, d));
  const coins = tamper ? tamper(minted) : minted;
  const payerCounter = 1 + (recv.counter % 1000);
  const packet = buildExportPacket({
    header: {
      type: 'TRANSFER',
      payerCardId: CONFORMANCE_PAYER.cardId,
      payerIdentity: CONFORMANCE_PAYER.identity,
      payerCounter,
      payeeIdentity: payeeIdentity ?? recv.payeeIdentity,
      payeeNonce: recv.nonce,
      date: DATE,
      time: TIME,
    },
    coins,
    signKey: sm9ExtractSignKey(kgcSign.secret.privateKey, utf8.encode(CONFORMANCE_PAYER.identity)),
    kgcSignMasterPublicKey: kgcSign.public.publicKey,
    kgcEncryptMasterPublicKey: kgcEncryptPublic,
  });
  return { packet, coins, amountFen, receiveCounter: recv.counter, payerCounter };
}

/**
 * Imports `sent` (DrmbCard.importPacket) and checks the answer (checkImportResponse). Returns the whole
 * response. `beforeImport` runs just before IMPORT COINS is sent (a tear case arms its power cut there).
 */
export async function importAndCheck(ctx: CaseContext, sent: PacketToCard, beforeImport?: () => void): Promise<Uint8Array> {
  const identity = (await ctx.card.getData('ibcIdentity')) as string;
  beforeImport?.();
  const r = await ctx.card.importPacket(sent.packet);
  checkImportResponse(ctx, sent, identity, r.responseBytes);
  return r.responseBytes;
}

/**
 * Checks an IMPORT COINS response to `sent`, as answered or as GET TRANSACTION PROVE gives it back:
 * the receipt names this card, its identity (`identity`, GET DATA) and receive counter, the payer, the
 * amount, SM3 of the packet and its date and time, and is SM9-signed by the card's identity under the
 * KGC signature master public key; the settlement body gives back the coins sent, byte for byte.
 */
export function checkImportResponse(ctx: CaseContext, sent: PacketToCard, identity: string, responseBytes: Uint8Array): void {
  const kgcSignPublic = ctx.profile.keys.kgcSign?.public.publicKey ?? ctx.profile.keys.trustAnchors?.kgcSignMasterPublicKey;
  if (!kgcSignPublic) throw new CaseSkip('the profile has no KGC signature master public key');
  let r: ImportResponse;
  try {
    r = importResponseCoder.decode(responseBytes, 'IMPORT COINS response');
  } catch (e) {
    throw new CaseFailure(`IMPORT COINS: the response does not decode (${(e as Error).message})`);
  }
  const b = r.receipt.body;
  check(
    b.version === RECEIPT_VERSION && b.payeeCardId === ctx.cardId() && b.payeeIdentity === identity && b.payeeCounter === sent.receiveCounter,
    `IMPORT COINS: the receipt names card ${b.payeeCardId} "${b.payeeIdentity}" counter ${b.payeeCounter}, not this card at counter ${sent.receiveCounter}`,
  );
  check(
    b.payerCardId === CONFORMANCE_PAYER.cardId && b.payerCounter === sent.payerCounter && b.amountFen === sent.amountFen && b.date === DATE && b.time === TIME,
    "IMPORT COINS: the receipt's payer, amount, date or time is not the packet's",
  );
  check(equalBytes(b.packetHash, sm3(sent.packet)), 'IMPORT COINS: the receipt does not carry SM3 of the packet imported');
  check(
    sm9Verify(kgcSignPublic, utf8.encode(identity), sm3(receiptBodyCoder.encode(b)), r.receipt.signature),
    `IMPORT COINS: the receipt's SM9 signature does not verify for the card's identity ${identity}`,
  );
  check(equalBytes(coinListCoder.encode(r.settlement.coins), coinListCoder.encode(sent.coins)), 'IMPORT COINS: the settlement body does not give back the coins sent');
}

/** The log record a payer card ID is named by in a RECEIVE record. */
export function payerLogId(cardId: string): Uint8Array {
  return cardIdCoder.encode(cardId);
}
