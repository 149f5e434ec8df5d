/**
 * @module receive: receiving a peer payment or terminal change: INITIALIZE FOR RECEIVE hands out a
 * nonce; IMPORT COINS verifies the packet made for it and, in one commit, takes the coins and answers
 * the payee-signed receipt. The same packet imported again answers the stored response.
 */
import { importCoins } from '../../applet-spec/commands/import-coins.js';
import { initializeForReceive, RECEIVE_NONCE_SLOTS } from '../../applet-spec/commands/initialize-for-receive.js';
import { cardIdCoder } from '../../applet-spec/data-objects.js';
import { SW } from '../../applet-spec/status-words.js';
import {
  coinCoder,
  type ExportBody,
  exportBodyCoder,
  type ExportPacket,
  NO_WITHDRAWAL_CODE,
  PACKET_VERSION,
  RECEIPT_VERSION,
  receiptBodyCoder,
  TRANSACTION_TYPES,
  withdrawalSealCoder,
} from '../../applet-spec/value-formats.js';
import { concatBytes, equalBytes } from '../../base/bytes.js';
import { sm3 } from '../../crypto/sm3.js';
import { sm9Decrypt, sm9Sign, sm9Verify } from '../../crypto/sm9/sm9.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { checkIncomingCoins } from './check-incoming-coins.js';
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
 * The export-packet checks of IMPORT COINS: version, payee (9417), outstanding nonce, body decrypted
 * with the card's SM9 encryption key, coin-list hash, withdrawal seal against its commitment and the
 * payer's SM9 signature (9416). Returns the body in clear and the coin list bytes inside it.
 */
function verifyPacket(ctx: AppletContext, packetBytes: Uint8Array, packet: ExportPacket, outstanding: Uint8Array[]): { decoded: ExportBody; coinListBytes: Uint8Array } {
  const { header, body } = packet;
  const headerBytes = packetBytes.subarray(0, packetBytes.length - body.length);
  check(header.version === PACKET_VERSION, SW.INCORRECT_DATA, 'packet version');
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
  let decoded: ExportBody;
  try {
    decoded = exportBodyCoder.decode(clear);
  } catch {
    throw new IsoException(SW.PACKET_SIGNATURE_INVALID, 'body layout');
  }
  const coinListBytes = clear.subarray(0, 1 + decoded.coins.length * coinCoder.size!);
  check(equalBytes(sm3(coinListBytes), header.coinListHash), SW.PACKET_SIGNATURE_INVALID, 'coin list hash');
  const sealBytes = withdrawalSealCoder.encode(decoded.withdrawal);
  const noCode = decoded.withdrawal.code === NO_WITHDRAWAL_CODE;
  check(noCode ? header.codeCommitment.every((x) => x === 0) : equalBytes(sm3(sealBytes), header.codeCommitment), SW.PACKET_SIGNATURE_INVALID, 'withdrawal seal differs from its commitment');
  check(
    sm9Verify(ctx.trustAnchors.kgcSignMasterPublicKey, utf8.encode(header.payerIdentity), sm3(concatBytes(headerBytes, coinListBytes)), decoded.signature),
    SW.PACKET_SIGNATURE_INVALID,
    'payer signature',
  );
  return { decoded, coinListBytes };
}

const take: Handler<typeof importCoins> = ({ packet }, ctx, apdu) => {
  const m = ctx.memory;
  const packetBytes = apdu.data;
  const packetHash = sm3(packetBytes);
  const stored = m.receipt(packetHash);
  if (stored) return importCoins.decodeResponse(stored); // idempotent: the same packet credits once
  // Nothing below changes state until the commit: a refused or torn import can be sent again.
  const { header } = packet;
  const outstanding = m.receiveNonces;
  const { decoded, coinListBytes } = verifyPacket(ctx, packetBytes, packet, outstanding);
  const sum = decoded.coins.reduce((s, c) => s + c.body.denominationFen, 0);
  check(sum === header.amountFen && decoded.coins.length > 0, SW.INCORRECT_DATA, 'amount differs from the coins');
  checkIncomingCoins(ctx, decoded.coins, header.date, coinListBytes);
  ctx.checkRoom(sum, decoded.coins.length);

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
  const response = { receipt: { body: receiptBody, signature }, settlement: { coins: decoded.coins, signature: decoded.signature } };
  const responseBytes = importCoins.encodeResponse(response);
  const store = m.store;
  store.begin();
  m.setCoins([...m.coins, ...decoded.coins]);
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
