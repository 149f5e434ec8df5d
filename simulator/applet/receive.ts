/**
 * @module receive: receiving a peer payment or terminal change: INITIALIZE FOR RECEIVE hands out a
 * nonce; IMPORT COINS verifies the packet made for it and, in one commit, takes the coins and answers
 * the payee-signed receipt. The same packet imported again answers the stored response.
 */
import { importCoins } from '../../applet-spec/commands/import-coins.js';
import { initializeForReceive, RECEIVE_NONCE_SLOTS } from '../../applet-spec/commands/initialize-for-receive.js';
import { cardIdCoder } from '../../applet-spec/data-objects.js';
import { SW } from '../../applet-spec/status-words.js';
import { RECEIPT_VERSION, receiptBodyCoder, TRANSACTION_TYPES } from '../../applet-spec/value-formats.js';
import { readExportPacket } from '../../coins/read-export-packet.js';
import { type ExportPacketFaultName, type VerifiedExportPacket, verifyExportPacket } from '../../coins/verify-export-packet.js';
import { equalBytes } from '../../base/bytes.js';
import { sm3 } from '../../crypto/sm3.js';
import { sm9Decrypt, sm9Sign } from '../../crypto/sm9/sm9.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

const utf8 = new TextEncoder();

const startReceive: Handler<typeof initializeForReceive> = (_r, ctx) => {
  const m = ctx.memory;
  const roomFen = Math.max(0, m.risk.balanceCapFen - m.balanceFen);
  check(roomFen > 0, SW.OVER_BALANCE_CAP);
  check(m.coins.length < m.risk.maxCoins, SW.NOT_ENOUGH_MEMORY, 'coin slots');
  const nonce = ctx.random(8);
  // One persistent write, atomic by itself: the newest nonce first, the oldest beyond the slots dropped.
  m.setReceiveNonces([nonce, ...m.receiveNonces], RECEIVE_NONCE_SLOTS);
  return { payeeIdentity: ctx.identity, nonce, roomFen, counter: m.counter };
};

/**
 * The status word of each fault coins/ names in a packet (IMPORT COINS) or a coin list (CREDIT FOR LOAD
 * answers the coin rows): a packet that does not read or has another version 6A80; a body that does not
 * read, or a coin-list hash, withdrawal seal or payer signature that does not verify 9416; coins not
 * making the signed amount 6A80; a coin refused 9410, expired 9418, or a serial repeated or held 9411.
 */
export const IMPORT_FAULT_SW: Readonly<Record<ExportPacketFaultName, number>> = {
  format: SW.INCORRECT_DATA,
  version: SW.INCORRECT_DATA,
  'body-format': SW.PACKET_SIGNATURE_INVALID,
  'coin-list-hash': SW.PACKET_SIGNATURE_INVALID,
  'withdrawal-seal': SW.PACKET_SIGNATURE_INVALID,
  'payer-signature': SW.PACKET_SIGNATURE_INVALID,
  amount: SW.INCORRECT_DATA,
  'coin-format': SW.COIN_SIGNATURE_INVALID,
  'coin-key': SW.COIN_SIGNATURE_INVALID,
  'coin-signature': SW.COIN_SIGNATURE_INVALID,
  'denomination-key': SW.COIN_SIGNATURE_INVALID,
  expired: SW.COIN_EXPIRED,
  'duplicate-serial': SW.DUPLICATE_COIN_SERIAL,
};

/**
 * The export-packet checks of IMPORT COINS: layout and version, payee (9417), an outstanding nonce, a
 * TRANSFER body decrypted with the card's SM9 encryption key (9416), then verifyExportPacket packet first
 * (so a forged packet costs one SM9 verification before any SM2 one) on the body in clear, with the
 * purse's serials held; a fault answers its IMPORT_FAULT_SW.
 */
function verifyPacket(ctx: AppletContext, packetBytes: Uint8Array, outstanding: Uint8Array[]): VerifiedExportPacket {
  const read = readExportPacket(packetBytes);
  if (!read.ok) throw new IsoException(IMPORT_FAULT_SW[read.fault], read.fault === 'format' ? read.detail : 'packet version');
  const { header, body } = read;
  const own = ctx.identity;
  check(header.payeeIdentity === own, SW.WRONG_PAYEE);
  check(outstanding.some((n) => equalBytes(n, header.payeeNonce)), SW.INCORRECT_DATA, 'packet not made for an outstanding receive nonce of this card');
  let clear = body;
  if (header.type === 'TRANSFER') {
    try {
      clear = sm9Decrypt(ctx.memory.dgi('sm9EncryptKey')!, utf8.encode(own), body);
    } catch {
      throw new IsoException(SW.PACKET_SIGNATURE_INVALID, 'body does not decrypt');
    }
  }
  const v = verifyExportPacket(read, ctx.packetAnchors, { body: { exportBody: clear }, isHeld: ctx.heldSerials() });
  if (!v.ok) throw new IsoException(IMPORT_FAULT_SW[v.fault], 'index' in v ? `coin ${v.index}: ${v.fault}` : v.fault);
  return v;
}

const take: Handler<typeof importCoins> = (_r, ctx, apdu) => {
  const m = ctx.memory;
  const packetBytes = apdu.data;
  const packetHash = sm3(packetBytes);
  const stored = m.receipt(packetHash);
  if (stored) return importCoins.decodeResponse(stored); // idempotent: the same packet credits once
  // Nothing below changes state until the commit: a refused or torn import can be sent again.
  const outstanding = m.receiveNonces;
  const { header, coins, signature: payerSignature, coinListBytes } = verifyPacket(ctx, packetBytes, outstanding);
  const sum = header.amountFen; // verified: the coins add up to it
  ctx.checkRoom(sum, coins.length);

  const counter = m.counter;
  const receiptBody = {
    version: RECEIPT_VERSION,
    payeeCardId: ctx.cardIdDigits,
    payeeIdentity: ctx.identity,
    payeeCounter: counter,
    payerCardId: header.payerCardId,
    payerCounter: header.payerCounter,
    amountFen: sum,
    packetHash,
    date: header.date,
    time: header.time,
  };
  const signature = sm9Sign(m.dgi('sm9SignKey')!, ctx.trustAnchors.kgcSignMasterPublicKey, sm3(receiptBodyCoder.encode(receiptBody)));
  // The receipt, then what the payee's bank settles with: the coins and the payer's signature (never the seal).
  const response = { receipt: { body: receiptBody, signature }, settlement: { coins, signature: payerSignature } };
  const responseBytes = importCoins.encodeResponse(response);
  const store = m.store;
  store.begin();
  m.setCoins([...m.coins, ...coins]);
  m.setCounter(counter + 1);
  m.setReceiveNonces(outstanding.filter((n) => !equalBytes(n, header.payeeNonce)), RECEIVE_NONCE_SLOTS);
  m.appendLog({
    counter,
    type: 'RECEIVE',
    amountFen: sum,
    balanceAfterFen: m.balanceFen,
    counterparty: cardIdCoder.encode(header.payerCardId),
    date: header.date,
    time: header.time,
    coinSetHash: sm3(coinListBytes).subarray(0, 8),
  });
  m.putReceipt(packetHash, responseBytes);
  m.putProof(TRANSACTION_TYPES.RECEIVE, counter, responseBytes);
  store.commit();
  return response;
};

export const receive: readonly Route[] = [route(initializeForReceive, startReceive), route(importCoins, take)];
