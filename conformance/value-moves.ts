/**
 * @module The runner acting as the parties around a card, with the profile's keys: the bank loading
 * coins it mints with the coin-signing key (MAC2 under the card's load key, MAC1 and TAC checked), the
 * terminal paying (MAC1 from a secure module, MAC2, TAC and the packet's signatures checked against the
 * trust anchors), and the checks of their answers as GET TRANSACTION PROVE gives them back. Every check a conformance case makes of a value command's answer lives here.
 */
import { DATA_OBJECTS } from '../applet-spec/data-objects.js';
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
  TRANSACTION_TYPES,
} from '../applet-spec/value-formats.js';
import { concatBytes, equalBytes, randomBytes, uintToBytes } from '../base/bytes.js';
import { loadMac1Data, loadMac2Data, loadTacData, purchaseTacData } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac, pbocTac } from '../crypto/pboc.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Verify } from '../crypto/sm9/sm9.js';
import { SecureModule } from '../host/pos/secure-module.js';
import { debitForPurchase } from '../applet-spec/commands/debit-for-purchase.js';
import type { CaseContext } from './case-context.js';
import { CaseSkip, check } from './conformance-case.js';

/** The terminal the runner plays: a fixed ID that says "conformance" in its digits. */
export const CONFORMANCE_TERMINAL_ID = Uint8Array.of(0xc0, 0x4f, 0x00, 0x00, 0x00, 0x01);
const DATE = '20261122';
const TIME = '101500';
const utf8 = new TextEncoder();

/**
 * A coin minted with the profile's coin-signing key. `m` (the mint's check value, which only the
 * mint and the registry can verify) is random: the card checks format, signature, expiry and serial.
 */
export function mintTestCoin(ctx: CaseContext, denominationFen: number): Coin {
  const k = ctx.profile.keys.coinSigning;
  if (!k) throw new CaseSkip('the profile has no coinSigning key file');
  const body = { version: COIN_VERSION, denominationFen, serial: randomBytes(16), issueDate: '20260101', expiryDate: '20361231', keyIndex: k.keyIndex, m: randomBytes(16) };
  return { body, signature: sm2Sign(k.secret.privateKey, coinBodyCoder.encode(body)) };
}

/** A GET DATA amount or count the card reports (limits, balance cap, PIN threshold). */
export async function readNumber(ctx: CaseContext, name: 'balanceCap' | 'singleLimit' | 'pinThreshold' | 'transactionCounter' | 'pinTriesLeft'): Promise<number> {
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
  const loadKey = ctx.applicationKey('load');
  let terms: LoadTerms | undefined;
  const amountFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
  const r = await ctx.card.loadCoins(coins, CONFORMANCE_TERMINAL_ID, { date: DATE, time: TIME }, (ch) => {
    terms = { amountFen, balanceBeforeFen: ch.balanceFen, counter: ch.counter };
    const sk = pbocLoadSessionKey(loadKey, ch.cardRandom, uintToBytes(ch.counter, 4));
    const mac1 = pbocMac(sk, loadMac1Data({ balanceFen: ch.balanceFen, amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: CONFORMANCE_TERMINAL_ID }));
    check(equalBytes(mac1, ch.mac1), 'INITIALIZE FOR LOAD: MAC1 is not the one the card\'s load key gives');
    const mac2 = pbocMac(sk, concatBytes(loadMac2Data({ amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: CONFORMANCE_TERMINAL_ID, date: DATE, time: TIME }), sm3(coinListCoder.encode(coins))));
    beforeCredit?.(terms);
    return mac2;
  });
  const t = terms!;
  check(equalBytes(expectedLoadTac(ctx, t), r.tac), 'CREDIT FOR LOAD: the TAC is not the one the card\'s TAC key gives over the new balance, counter, amount and terminal');
  return { counter: r.counter, tac: r.tac, amountFen, newBalanceFen: t.balanceBeforeFen + amountFen };
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
 * Pays `amountFen` as a POS terminal does (DrmbCard.purchase with a SecureModule holding the purchase
 * master), then checks the response (checkPurchaseResponse). `beforeDebit` runs just before DEBIT FOR
 * PURCHASE is sent (a tear case arms its power cut there).
 */
export async function purchaseAndCheck(ctx: CaseContext, amountFen: number, beforeDebit?: (terms: PurchaseTerms) => void): Promise<PurchaseOutcome> {
  const cb = ctx.profile.keys.cbMaster;
  if (!cb || !ctx.profile.keys.trustAnchors) throw new CaseSkip('the profile has no cbMaster or trustAnchors');
  const sm = new SecureModule(cb.secret.purchase, CONFORMANCE_TERMINAL_ID);
  const cardId = ctx.cardId();
  const identity = (await ctx.card.getData('ibcIdentity')) as string;
  const terminal = { terminalId: CONFORMANCE_TERMINAL_ID, terminalSequence: 1, date: DATE, time: TIME, unpredictableNumber: randomBytes(8), payeeIdentity: 'conformance-merchant' };
  let terms: PurchaseTerms | undefined;
  let r: Awaited<ReturnType<typeof ctx.card.purchase>>;
  try {
    r = await ctx.card.purchase(amountFen, terminal, (ch) => {
      terms = { amountFen, cardId, identity, terminal, counter: ch.counter, cardRandom: ch.cardRandom };
      const mac1 = sm.mac1({ cardId, cardRandom: ch.cardRandom, counter: ch.counter, terminalSequence: 1, amountFen, date: DATE, time: TIME });
      beforeDebit?.(terms);
      return mac1;
    });
  } finally {
    sm.wipe();
  }
  const response = concatBytes(r.tac, r.mac2, r.packetBytes);
  return { counter: terms!.counter, response, packet: checkPurchaseResponse(ctx, terms!, response) };
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
  const { amountFen, cardId, identity, terminal, counter, cardRandom } = t;
  const sm = new SecureModule(cb.secret.purchase, CONFORMANCE_TERMINAL_ID);
  try {
    check(sm.verifyMac2({ cardId, cardRandom, counter, terminalSequence: terminal.terminalSequence, amountFen, date: DATE, time: TIME }, r.mac2), 'DEBIT FOR PURCHASE: MAC2 is not the one the card\'s purchase key gives');
  } finally {
    sm.wipe();
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
