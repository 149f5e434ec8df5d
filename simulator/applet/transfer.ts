/**
 * @module transfer: an offline peer payment: INITIALIZE FOR TRANSFER checks the payment; EXPORT COINS,
 * confirmed with the card random, commits the export and answers the packet whose body is SM9-encrypted
 * to the payee identity. INITIALIZE FOR RENEWAL starts the same export to the renewing bank, drawn
 * from the coins that expire before its date only.
 */
import { exportCoins } from '../../applet-spec/commands/export-coins.js';
import { initializeForTransfer } from '../../applet-spec/commands/initialize-for-transfer.js';
import { initializeForRenewal } from '../../applet-spec/commands/initialize-for-renewal.js';
import { SW } from '../../applet-spec/status-words.js';
import { type Coin, CNY, NO_WITHDRAWAL_CODE, PACKET_VERSION } from '../../applet-spec/value-formats.js';
import { selectExactCoins } from '../../coins/select-exact-coins.js';
import { equalBytes } from '../../base/bytes.js';
import { sm3 } from '../../crypto/sm3.js';
import { sm9Encrypt } from '../../crypto/sm9/sm9.js';
import { check } from '../iso-exception.js';
import { buildPacket, checkPayment, commitExport } from './purchase.js';
import { type Handler, type Route, route } from './route.js';

const utf8 = new TextEncoder();

const startTransfer: Handler<typeof initializeForTransfer> = (r, ctx) => {
  checkPayment(ctx, r.amountFen);
  check(r.payeeIdentity.length > 0, SW.INCORRECT_DATA, 'no payee identity');
  const cardRandom = ctx.random(4);
  const counter = ctx.memory.counter;
  ctx.session.transfer = { ...r, cardRandom, counter };
  return { balanceFen: ctx.memory.balanceFen, counter, cardRandom };
};

/** The coins a renewal may export: those whose expiry date is before `before` (YYYYMMDD compares as text). */
const expiringBefore = (before: string) => (c: Coin) => c.body.expiryDate < before;

const startRenewal: Handler<typeof initializeForRenewal> = (r, ctx) => {
  checkPayment(ctx, r.amountFen, expiringBefore(r.expiringBefore));
  check(r.payeeIdentity.length > 0, SW.INCORRECT_DATA, 'no payee identity');
  const cardRandom = ctx.random(4);
  const counter = ctx.memory.counter;
  ctx.session.transfer = { ...r, withdrawalCode: NO_WITHDRAWAL_CODE, cardRandom, counter };
  return { balanceFen: ctx.memory.balanceFen, counter, cardRandom };
};

const exportPacket: Handler<typeof exportCoins> = (r, ctx) => {
  const transfer = ctx.session.transfer!;
  ctx.session.transfer = undefined;
  check(equalBytes(r.confirmation, transfer.cardRandom), SW.INCORRECT_DATA, 'confirmation does not match the card random');
  const before = transfer.expiringBefore;
  const coins = selectExactCoins(before === undefined ? ctx.memory.coins : ctx.memory.coins.filter(expiringBefore(before)), transfer.amountFen);
  check(coins, SW.NO_EXACT_COIN_SET);
  const { header, bodyBytes, coinListBytes } = buildPacket(
    ctx,
    {
      version: PACKET_VERSION,
      type: 'TRANSFER',
      payerCardId: ctx.cardIdDigits,
      payerIdentity: ctx.identity,
      payerCounter: transfer.counter,
      payeeIdentity: transfer.payeeIdentity,
      payeeNonce: transfer.payeeNonce,
      terminalId: new Uint8Array(6),
      terminalSequence: 0,
      date: transfer.date,
      time: transfer.time,
      currency: CNY,
    },
    coins,
    transfer.withdrawalCode,
  );
  const payee = utf8.encode(transfer.payeeIdentity);
  const response = { header, body: sm9Encrypt(ctx.trustAnchors.kgcEncryptMasterPublicKey, payee, bodyBytes) };
  // The response is the packet: its bytes are hashed into the export chain and kept as the proof.
  const packet = exportCoins.encodeResponse(response);
  const counterparty = sm3(payee).subarray(0, 10);
  commitExport(ctx, 'TRANSFER', transfer.counter, coins, transfer.amountFen, packet, counterparty, transfer.date, transfer.time, coinListBytes, packet);
  return response;
};

export const transfer: readonly Route[] = [route(initializeForTransfer, startTransfer), route(initializeForRenewal, startRenewal), route(exportCoins, exportPacket)];
