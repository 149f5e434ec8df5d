/**
 * @module purchase: a POS payment (JR/T 0025.2 purchase): INITIALIZE FOR PURCHASE checks limits and
 * the exact coins; DEBIT FOR PURCHASE checks MAC1, then commits the export and answers TAC, MAC2 and the
 * SM9-signed packet. Also the payment rules and the export packet that peer transfer shares.
 */
import { debitForPurchase } from '../../applet-spec/commands/debit-for-purchase.js';
import { ALGORITHM_SM4, APPLICATION_KEY_INDEX, APPLICATION_KEY_VERSION } from '../../applet-spec/commands/initialize-for-load.js';
import { initializeForPurchase } from '../../applet-spec/commands/initialize-for-purchase.js';
import { u32 } from '../../applet-spec/codec/fields.js';
import { SW } from '../../applet-spec/status-words.js';
import {
  type Coin,
  CNY,
  type ExportHeader,
  exportHeaderCoder,
  exportPacketCoder,
  NO_WITHDRAWAL_CODE,
  PACKET_VERSION,
  TRANSACTION_TYPES,
} from '../../applet-spec/value-formats.js';
import { signExportPacket } from '../../coins/build-export-packet.js';
import { selectExactCoins } from '../../coins/select-exact-coins.js';
import { concatBytes, equalBytes } from '../../base/bytes.js';
import { purchaseMac1Data, purchaseMac2Data, purchaseTacData } from '../../applet-spec/mac-data.js';
import { pbocMac, pbocPurchaseSessionKey, pbocTac } from '../../crypto/pboc.js';
import { sm3 } from '../../crypto/sm3.js';
import { check } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

/**
 * Checks shared by INITIALIZE FOR PURCHASE, TRANSFER and RENEWAL: balance, limits, PIN, exact coins
 * (among `eligible`: every coin, or the renewal's coins near expiry).
 */
export function checkPayment(ctx: AppletContext, amountFen: number, eligible?: (c: Coin) => boolean): void {
  const m = ctx.memory;
  const risk = m.risk;
  check(amountFen > 0, SW.INCORRECT_DATA, 'zero amount');
  check(amountFen <= m.balanceFen, SW.INSUFFICIENT_BALANCE);
  check(amountFen <= risk.singleLimitFen, SW.OVER_SINGLE_LIMIT);
  const use = m.offlineUse;
  check(use.count + 1 <= risk.offlineCountLimit && use.amountFen + amountFen <= risk.offlineAmountLimitFen, SW.OFFLINE_QUOTA_EXHAUSTED);
  if (amountFen > risk.pinThresholdFen) check(ctx.session.pinVerified, SW.SECURITY_STATUS_NOT_SATISFIED, 'PIN required above the threshold');
  check(selectExactCoins(eligible ? m.coins.filter(eligible) : m.coins, amountFen), SW.NO_EXACT_COIN_SET);
}

/**
 * The export packet of the coins being paid, signed with the card's SM9 key and chained to the card's
 * previous export (signExportPacket: amount = the coins' sum, coin-list hash, code commitment). A
 * withdrawal code goes into the body's seal with a fresh random salt; without one the seal is empty.
 */
export function buildPacket(
  ctx: AppletContext,
  header: Omit<ExportHeader, 'coinListHash' | 'previousExportHash' | 'codeCommitment' | 'amountFen'>,
  coins: Coin[],
  withdrawalCode: string = NO_WITHDRAWAL_CODE,
): { header: ExportHeader; bodyBytes: Uint8Array; coinListBytes: Uint8Array } {
  const { headerBytes, bodyBytes, coinListBytes } = signExportPacket({
    header: { ...header, previousExportHash: ctx.memory.lastExportHash },
    coins,
    withdrawal: withdrawalCode === NO_WITHDRAWAL_CODE ? undefined : { code: withdrawalCode, salt: ctx.random(16) },
    signKey: ctx.memory.dgi('sm9SignKey')!,
    kgcSignMasterPublicKey: ctx.trustAnchors.kgcSignMasterPublicKey,
  });
  return { header: exportHeaderCoder.decode(headerBytes), bodyBytes, coinListBytes };
}

/** The atomic commit of an export: coins out, counter, offline use, hash chain, log, proof. */
export function commitExport(
  ctx: AppletContext,
  type: 'PURCHASE' | 'TRANSFER',
  counter: number,
  coins: Coin[],
  amountFen: number,
  packet: Uint8Array,
  counterparty: Uint8Array,
  date: string,
  time: string,
  coinListBytes: Uint8Array,
  response: Uint8Array,
): void {
  const m = ctx.memory;
  const spent = new Set(coins.map((c) => Buffer.from(c.body.serial).toString('hex')));
  const remaining = m.coins.filter((c) => !spent.has(Buffer.from(c.body.serial).toString('hex')));
  const use = m.offlineUse;
  const store = m.store;
  store.begin();
  m.setCoins(remaining);
  m.setCounter(counter + 1);
  m.setOfflineUse({ count: use.count + 1, amountFen: use.amountFen + amountFen });
  m.setLastExportHash(sm3(packet));
  m.appendLog({
    counter,
    type,
    amountFen,
    balanceAfterFen: remaining.reduce((s, c) => s + c.body.denominationFen, 0),
    counterparty,
    date,
    time,
    coinSetHash: sm3(coinListBytes).subarray(0, 8),
  });
  m.putProof(TRANSACTION_TYPES[type], counter, response);
  store.commit();
}

const startPurchase: Handler<typeof initializeForPurchase> = (r, ctx) => {
  check(r.keyIndex === APPLICATION_KEY_INDEX, SW.KEY_INDEX_NOT_SUPPORTED);
  checkPayment(ctx, r.amountFen);
  const cardRandom = ctx.random(4);
  const counter = ctx.memory.counter;
  ctx.session.purchase = { amountFen: r.amountFen, terminalId: r.terminalId, cardRandom, counter };
  return { balanceFen: ctx.memory.balanceFen, counter, keyVersion: APPLICATION_KEY_VERSION, algorithmId: ALGORITHM_SM4, cardRandom };
};

const debit: Handler<typeof debitForPurchase> = (r, ctx) => {
  const purchase = ctx.session.purchase!;
  ctx.session.purchase = undefined;
  const sessionKey = pbocPurchaseSessionKey(ctx.appKey('purchase')!, purchase.cardRandom, u32.encode(purchase.counter), u32.encode(r.terminalSequence));
  const mac1Data = purchaseMac1Data({ amountFen: purchase.amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: purchase.terminalId, date: r.date, time: r.time });
  check(equalBytes(pbocMac(sessionKey, mac1Data), r.mac1), SW.MAC_INVALID, 'MAC1');
  const coins = selectExactCoins(ctx.memory.coins, purchase.amountFen);
  check(coins, SW.NO_EXACT_COIN_SET);
  const { header, bodyBytes, coinListBytes } = buildPacket(
    ctx,
    {
      version: PACKET_VERSION,
      type: 'PURCHASE',
      payerCardId: ctx.cardIdDigits,
      payerIdentity: ctx.identity,
      payerCounter: purchase.counter,
      payeeIdentity: r.payeeIdentity,
      payeeNonce: r.unpredictableNumber,
      terminalId: purchase.terminalId,
      terminalSequence: r.terminalSequence,
      date: r.date,
      time: r.time,
      currency: CNY,
    },
    coins,
  );
  const packet = exportPacketCoder.encode({ header, body: bodyBytes });
  const mac2 = pbocMac(sessionKey, purchaseMac2Data({ amountFen: purchase.amountFen }));
  const tac = pbocTac(
    ctx.appKey('tac')!,
    purchaseTacData({ amountFen: purchase.amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: purchase.terminalId, terminalSequence: r.terminalSequence, date: r.date, time: r.time }),
  );
  const response = { tac, mac2, packet: { header, body: bodyBytes } };
  const counterparty = concatBytes(new Uint8Array(4), purchase.terminalId);
  commitExport(ctx, 'PURCHASE', purchase.counter, coins, purchase.amountFen, packet, counterparty, r.date, r.time, coinListBytes, debitForPurchase.encodeResponse(response));
  return response;
};

export const purchase: readonly Route[] = [route(initializeForPurchase, startPurchase), route(debitForPurchase, debit)];
