/**
 * @module The POS terminal (JR/T 0025.2 purse purchase with a PSAM, extended by the D-RMB coin
 * export), talking to the user's card on one transport and to its PSAM (host/psam.ts) on another; the
 * terminal holds no purchase key. SELECT, blacklist check, resolution of a torn debit by GET TRANSACTION
 * PROVE, INITIALIZE FOR PURCHASE, MAC1 and the terminal sequence number from the PSAM, DEBIT FOR
 * PURCHASE, MAC2 checked by the PSAM and full packet verification (central-bank SM2 coin
 * signatures by the precomputed fixed-key verifier, payer SM9 signature, coin-list hash, amount),
 * upload queue, and change paid into the card as a terminal-signed CHANGE packet when the card has
 * no exact coin set.
 *
 * Order of operations of a payment with change, and why a power cut loses or duplicates nothing:
 *  1. The card answers 9414 to INITIALIZE FOR PURCHASE (nothing persistent changed).
 *  2. GET DATA DF20; the terminal picks P = the smallest amount >= price the card can pay exactly,
 *     and takes coins worth P - price from its float.
 *  3. INITIALIZE FOR RECEIVE (card nonce N, counter R). The terminal takes a sequence number from the
 *     PSAM (NEXT TERMINAL SEQUENCE), builds the CHANGE packet (payee nonce N, SM9-signed under its own
 *     identity) and records it in the queue file (fsynced) BEFORE
 *     IMPORT COINS goes out.
 *  4. IMPORT COINS: the card commits coins, counter, receipt and proof (RECEIVE, R) atomically. The
 *     terminal queues the CHANGE packet with the receipt and clears the pending change.
 *  5. INITIALIZE FOR PURCHASE for P, MAC1 and the sequence number from the PSAM (INIT SAM FOR PURCHASE,
 *     which commits the number first), and the debit recorded as a possible "problem card"
 *     (fsynced) BEFORE DEBIT FOR PURCHASE goes out; then MAC2 and packet verification; queued.
 *  Before 3 the terminal checks the card's room and free coin slots, so the card can refuse the packet
 *  only for the packet itself, which no later import changes: its coins then go back to the float.
 *  A cut between 3 and 4 (answer lost): on the card's next contact the terminal asks GET TRANSACTION
 *  PROVE (RECEIVE, R). A receipt for this packet's hash means the change is on the card: it is queued
 *  once. 9406 means it is not yet, and the card still holds N among its outstanding receive nonces:
 *  the terminal sends the same packet again, and the change lands as promised. Should the card have no
 *  room or slots for it by then, the packet stays importable, so its coins stay out of the float and the
 *  change stays pending (no new change for that card) until a later contact. A packet already imported
 *  is answered with its stored response without crediting again (IMPORT COINS is idempotent on the
 *  packet hash), so one packet credits at most once.
 *  A cut between 4 and 5: the card holds the change (its receipt is stored on the card and the
 *  terminal's queue holds the CHANGE packet), and the customer has not paid; the next attempt starts
 *  again from 1 with the card's new coins. Value is conserved at every point: float + change queue
 *  + card coins is unchanged by the change, and the debit is resolved as below.
 *  A cut during 5 (DEBIT answer lost): the problem card record is resolved on the next contact by
 *  GET TRANSACTION PROVE (PURCHASE, counter) before any new debit: the stored response is verified
 *  and queued exactly once (the queue is idempotent on (card ID, counter)), its MAC2 checked by the PSAM's
 *  VERIFY PURCHASE MAC2 from the recorded inputs, or 9406 says the debit did not happen. The terminal never sends a second DEBIT while a problem card is unresolved.
 */
import { OperationalError } from '../../base/operational-error.js';
import * as C from '../../applet-spec/commands.js';
import { ALGORITHM_SM4, APPLICATION_KEY_VERSION } from '../../applet-spec/commands/initialize-for-load.js';
import { SW } from '../../applet-spec/status-words.js';
import {
  type Coin,
  CNY,
  exportBodyCoder,
  type ExportHeader,
  exportPacketCoder,
  importResponseCoder,
  PACKET_VERSION,
  TRANSACTION_TYPES,
} from '../../applet-spec/value-formats.js';
import { buildExportPacket } from '../../coins/build-export-packet.js';
import { coinVerifiers } from '../../coins/check-coin.js';
import { readExportPacket } from '../../coins/read-export-packet.js';
import { type ExportPacketFault, type PacketAnchors, verifyExportPacket } from '../../coins/verify-export-packet.js';
import { equalBytes, randomBytes } from '../../base/bytes.js';
import { sm3 } from '../../crypto/sm3.js';
import type { DrmbCard } from '../drmb-card.js';
import { NoExactCoinSetError, ResponseFormatError, StatusWordError } from '../errors.js';
import type { CoinFloat } from './coin-float.js';
import { smallestPayableAtLeast } from './coin-float.js';
import type { Psam } from '../psam.js';
import type { ProblemCard, UploadQueue } from './upload-queue.js';

/** Public keys the terminal trusts (the ceremony's trust-anchors.json, public parts). */
export interface PosTrustAnchors {
  coinKeys: { keyIndex: number; publicKey: Uint8Array }[];
  kgcSignMasterPublicKey: Uint8Array;
}

/** The terminal's own SM9 signing key (from the KGC for its identity) and its change float. */
export interface ChangeConfig {
  /** the terminal's SM9 identity; CHANGE packets carry it as payer identity */
  identity: string;
  /** dsA for that identity, 65 bytes; copied by the terminal, wiped by wipe() */
  signKey: Uint8Array;
  float: CoinFloat;
}

/**
 * What a POS terminal is made of: its PSAM, upload queue, trust anchors, merchant identity, and
 * optionally a blacklist, a change float, extended length, clock and randomness.
 */
export interface PosTerminalOptions {
  /** the terminal's PSAM, in its own reader: MAC1, MAC2, terminal number and sequence numbers */
  psam: Psam;
  queue: UploadQueue;
  anchors: PosTrustAnchors;
  /** the merchant's SM9 identity, written into DEBIT FOR PURCHASE as payee */
  payeeIdentity: string;
  /** card IDs refused at SELECT (the registry's double-spend blacklist) */
  blacklist?: Iterable<string>;
  /** present: the terminal makes change from this float when the card has no exact coin set */
  change?: ChangeConfig;
  /**
   * Ask for DEBIT FOR PURCHASE and GET TRANSACTION PROVE responses with an extended Le, so a multi-coin
   * packet comes in one APDU instead of 61xx / GET RESPONSE rounds. Only for cards whose ATR announces
   * extended length (atrAllowsExtendedLength), over a stack that sends extended APDUs.
   */
  extendedLength?: boolean;
  clock?: () => Date;
  random?: (n: number) => Uint8Array;
}

/**
 * Per-payment options of PosTerminal.pay: the holder's PIN, when the price is above the card's PIN
 * threshold.
 */
export interface PayOptions {
  /** presented with VERIFY first (needed above the card's PIN threshold) */
  pin?: string;
}

/** What the terminal prints and keeps for one debit. */
export interface PosReceipt {
  cardId: string;
  /** the card's counter the debit took */
  counter: number;
  /** the price */
  amountFen: number;
  /** the amount the card paid (price + change) */
  paidFen: number;
  /** change paid into the card before the debit (0 when none) */
  changeFen: number;
  terminalSequence: number;
  date: string;
  time: string;
  coinCount: number;
  tac: Uint8Array;
  mac2: Uint8Array;
  /** SM3 of the packet, as the registry indexes it */
  packetHash: Uint8Array;
  /** true when taken from GET TRANSACTION PROVE after a lost answer */
  recovered: boolean;
}

/**
 * The receipt of a payment, with what the terminal found and settled of an earlier contact whose
 * answer had been lost.
 */
export interface PayResult extends PosReceipt {
  /** a debit of an earlier contact whose answer was lost, found done on this card and queued now */
  recoveredEarlier?: PosReceipt;
  /** an earlier debit found not done (9406), with its counter */
  earlierNotDebited?: number;
}

/** The card's ID is on the blacklist: refused before any command that moves value. */
export class BlacklistedCardError extends OperationalError {
  override name = 'BlacklistedCardError';
  constructor(readonly cardId: string) {
    super(`card ${cardId} is blacklisted: payment refused`);
  }
}

/** The payment cannot be made (no exact change in the float, card cannot take the change, ...). Nothing was debited. */
export class PaymentRefusedError extends OperationalError {
  override name = 'PaymentRefusedError';
}

/** Which check a payment packet failed at the terminal (PacketRejectedError.reason). */
export type PacketRejection = 'mac2' | 'header' | 'coin-format' | 'coin-key' | 'coin-signature' | 'coin-expired' | 'duplicate-serial' | 'coin-list-hash' | 'amount' | 'payer-signature' | 'layout';

/** The card's answer did not verify: the debit is not accepted as payment (the reason says which check). */
export class PacketRejectedError extends OperationalError {
  override name = 'PacketRejectedError';
  constructor(
    readonly reason: PacketRejection,
    detail: string,
  ) {
    super(`payment packet rejected (${reason}): ${detail}`);
  }
}

const bcdNow = (d: Date): { date: string; time: string } => {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return { date: `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, time: `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}` };
};

/** The terminal's rejection for a packet readExportPacket or verifyExportPacket refused. */
function purchaseRejection(f: ExportPacketFault, header?: ExportHeader): PacketRejectedError {
  const coin = (i: number) => `coin ${i + 1}`;
  switch (f.fault) {
    case 'format':
    case 'body-format':
      return new PacketRejectedError('layout', f.detail);
    case 'version':
      return new PacketRejectedError('header', 'version differs from the debit');
    case 'withdrawal-seal':
      return new PacketRejectedError('layout', 'the withdrawal seal in the body differs from the commitment in the header');
    case 'coin-format':
      return new PacketRejectedError('coin-format', `${coin(f.index)}: format`);
    case 'coin-key':
      return new PacketRejectedError('coin-key', `${coin(f.index)}: unknown central-bank key index ${f.coin.body.keyIndex}`);
    case 'coin-signature':
    case 'denomination-key':
      return new PacketRejectedError('coin-signature', `${coin(f.index)}: central-bank signature does not verify`);
    case 'expired':
      return new PacketRejectedError('coin-expired', `${coin(f.index)}: expired ${f.coin.body.expiryDate}`);
    case 'duplicate-serial':
      return new PacketRejectedError('duplicate-serial', `${coin(f.index)}: serial twice in the packet`);
    case 'coin-list-hash':
      return new PacketRejectedError('coin-list-hash', 'SM3 of the coin list differs from the header');
    case 'amount':
      return new PacketRejectedError('amount', `coins add up to ${f.sumFen}, header says ${header?.amountFen}`);
    case 'payer-signature':
      return new PacketRejectedError('payer-signature', `SM9 signature of ${header?.payerIdentity} does not verify`);
  }
}

/** The terminal's PSAM is not one it can take payments with (not personalized). */
export class PsamNotReadyError extends OperationalError {
  override name = 'PsamNotReadyError';
}

/** Identity of the terminal as payer of a CHANGE packet: no card, so the card ID field is all zeros. */
const TERMINAL_PAYER_CARD_ID = '0'.repeat(20);

/**
 * A POS terminal: takes payments from user cards with its PSAM (MAC1, MAC2, sequence numbers),
 * verifies each packet, queues it, and pays change from its float when it has one.
 */
export class PosTerminal {
  private readonly blacklist: Set<string>;
  private readonly anchors: PacketAnchors;
  private readonly clock: () => Date;
  private readonly random: (n: number) => Uint8Array;
  private readonly signKey?: Uint8Array;
  /** the PSAM in the slot and its terminal number (READ BINARY of SFI 16), read once per PSAM */
  private psamSeen?: { psamId: string; terminalNumber: Uint8Array };

  constructor(readonly options: PosTerminalOptions) {
    this.blacklist = new Set(options.blacklist ?? []);
    // GB/T 32918.2 verification with the central bank's fixed key: Z_A and tables computed once.
    this.anchors = { coinVerifier: coinVerifiers(options.anchors.coinKeys), kgcSignMasterPublicKey: options.anchors.kgcSignMasterPublicKey };
    this.clock = options.clock ?? (() => new Date());
    this.random = options.random ?? randomBytes;
    this.signKey = options.change?.signKey.slice();
  }

  /** Adds card IDs to the blacklist (the registry's list, loaded at start or refreshed). */
  loadBlacklist(cardIds: Iterable<string>): void {
    for (const id of cardIds) this.blacklist.add(id);
  }

  /**
   * Takes a payment of amountFen from the card. Throws BlacklistedCardError, PaymentRefusedError,
   * PacketRejectedError, StatusWordError (card refusals such as InsufficientBalanceError) or
   * TransportError (card lost; a debit in flight is then resolved on the card's next contact).
   * Security: MAC1 from the PSAM; accepts only a packet whose MAC2 (checked by the PSAM), coins and
   * payer signature verify.
   */
  async pay(card: DrmbCard, amountFen: number, opts: PayOptions = {}): Promise<PayResult> {
    if (!Number.isInteger(amountFen) || amountFen <= 0) throw new PaymentRefusedError('amount must be a positive number of fen');
    await this.selectPsam();
    const info = await card.select();
    const cardId = info.cardId;
    if (!cardId) throw new PaymentRefusedError(`card is ${info.state}: no card ID`);
    if (this.blacklist.has(cardId)) throw new BlacklistedCardError(cardId);

    // Before anything else: a debit of an earlier contact whose answer was lost.
    const earlier = await this.resolveProblem(card, cardId);
    await this.resolvePendingChange(card, cardId);
    if (opts.pin !== undefined) await card.verifyPin(opts.pin);

    const extra = earlier === undefined ? {} : typeof earlier === 'number' ? { earlierNotDebited: earlier } : { recoveredEarlier: earlier };
    try {
      return { ...(await this.debit(card, cardId, amountFen, 0)), ...extra };
    } catch (e) {
      if (!(e instanceof NoExactCoinSetError) || !this.options.change) throw e;
    }
    const changeFen = await this.payChange(card, cardId, amountFen);
    return { ...(await this.debit(card, cardId, amountFen + changeFen, changeFen)), ...extra };
  }

  /** Selects the PSAM (its purchase session starts afresh) and reads the terminal number of a PSAM not seen before. */
  private async selectPsam(): Promise<void> {
    const info = await this.options.psam.select();
    if (info.state !== 'ISSUED') throw new PsamNotReadyError(`PSAM ${info.psamId} is ${info.state}: personalize it first (drmb perso psam)`);
    if (this.psamSeen?.psamId !== info.psamId) this.psamSeen = { psamId: info.psamId, terminalNumber: await this.options.psam.terminalNumber() };
  }

  /** The terminal number of the PSAM in the slot; pay() read it. */
  private get terminalId(): Uint8Array {
    return this.psamSeen!.terminalNumber;
  }

  /** Resolves this card's problem record: the recovered receipt, the counter found not debited, or undefined. */
  private async resolveProblem(card: DrmbCard, cardId: string): Promise<PosReceipt | number | undefined> {
    const p = this.options.queue.problem(cardId);
    if (!p) return undefined;
    const r = await card.session.exchange(
      C.getTransactionProve,
      { transactionType: TRANSACTION_TYPES.PURCHASE, counter: p.counter },
      { accept: [SW.MAC_NOT_AVAILABLE], le: this.options.extendedLength ? 65536 : undefined },
    );
    if (r.sw === SW.MAC_NOT_AVAILABLE) {
      // 9406: no purchase took that counter; the debit did not happen (or was rolled back by a tear).
      this.options.queue.resolveProblem(cardId, p.counter, 'not-debited');
      return p.counter;
    }
    return await this.accept(p, r.value!.storedResponse, true, 0, p.amountFen);
  }

  /** INITIALIZE FOR PURCHASE, MAC1, DEBIT FOR PURCHASE, verification, queue. */
  private async debit(card: DrmbCard, cardId: string, paidFen: number, changeFen: number): Promise<PosReceipt> {
    const { psam, queue } = this.options;
    const init = await card.session.send(C.initializeForPurchase, { keyIndex: 1, amountFen: paidFen, terminalId: this.terminalId });
    const { date, time } = bcdNow(this.clock());
    // The PSAM commits its sequence number before it answers MAC1: a number is never given twice.
    const { terminalSequence, mac1 } = await psam.initSamForPurchase({
      cardRandom: init.cardRandom,
      counter: init.counter,
      amountFen: paidFen,
      transactionType: TRANSACTION_TYPES.PURCHASE,
      date,
      time,
      keyVersion: init.keyVersion,
      algorithmId: init.algorithmId,
      cardId,
    });
    const problem: ProblemCard = {
      cardId,
      counter: init.counter,
      amountFen: paidFen,
      terminalSequence,
      cardRandom: init.cardRandom,
      unpredictableNumber: this.random(8),
      payeeIdentity: this.options.payeeIdentity,
      date,
      time,
    };
    // Written before DEBIT goes out: if the answer is lost, or the terminal itself loses power, the
    // next contact with this card resolves it before any new debit.
    queue.recordProblem(problem);
    let r;
    try {
      r = await card.session.exchange(
        C.debitForPurchase,
        { terminalSequence, date, time, unpredictableNumber: problem.unpredictableNumber, payeeIdentity: problem.payeeIdentity, mac1 },
        { le: this.options.extendedLength ? 65536 : undefined },
      );
    } catch (e) {
      // A status word: the card refused before its commit (a failing command changes nothing).
      if (e instanceof StatusWordError) queue.resolveProblem(cardId, init.counter, 'not-debited', e.message);
      // 9000 with data that does not decode: the card debited but the answer is unusable.
      if (e instanceof ResponseFormatError) queue.resolveProblem(cardId, init.counter, 'rejected', e.message);
      // TransportError: the problem record stays for the next contact.
      throw e;
    }
    return await this.accept(problem, r.data, false, changeFen, paidFen - changeFen);
  }

  /** Verifies a debit's response (tac || mac2 || packet) and queues it; clears the problem record. */
  private async accept(p: ProblemCard, response: Uint8Array, recovered: boolean, changeFen: number, priceFen: number): Promise<PosReceipt> {
    const queue = this.options.queue;
    const tac = response.slice(0, 4);
    const mac2 = response.slice(4, 8);
    const packet = response.slice(8);
    let coinCount: number;
    try {
      if (response.length < 8) throw new PacketRejectedError('layout', 'response shorter than TAC and MAC2');
      coinCount = await this.verifyPurchase(p, mac2, packet, recovered);
    } catch (e) {
      // Only a verdict on the packet rejects it. The PSAM failing to answer (removed, reset) is no verdict:
      // the debit stays a problem record, resolved at the card's next contact (GET TRANSACTION PROVE, then
      // VERIFY PURCHASE MAC2), so a debit the card made is never dropped for want of a MAC2 check.
      if (e instanceof PacketRejectedError) queue.resolveProblem(p.cardId, p.counter, 'rejected', e.message);
      throw e;
    }
    // Queue first, then clear: a crash in between leaves the problem, whose resolution queues the same
    // packet again as a no-op.
    try {
      queue.add({ cardId: p.cardId, counter: p.counter, type: 'PURCHASE', amountFen: p.amountFen, packet, tac, mac2, terminalSequence: p.terminalSequence, recovered });
    } catch (e) {
      // Another packet with this card's counter is queued: a restored or cloned card. Kept as evidence.
      queue.resolveProblem(p.cardId, p.counter, 'rejected', (e as Error).message);
      throw e;
    }
    queue.resolveProblem(p.cardId, p.counter, 'debited');
    return {
      cardId: p.cardId,
      counter: p.counter,
      amountFen: priceFen,
      paidFen: p.amountFen,
      changeFen,
      terminalSequence: p.terminalSequence,
      date: p.date,
      time: p.time,
      coinCount,
      tac,
      mac2,
      packetHash: sm3(packet),
      recovered,
    };
  }

  /**
   * Every check of a PURCHASE packet against what the terminal asked for; returns the coin count.
   * Coins are checked one by one first so a forged coin is named as such.
   */
  private async verifyPurchase(p: ProblemCard, mac2: Uint8Array, packetBytes: Uint8Array, recovered: boolean): Promise<number> {
    // JR/T 0025.2: MAC2 under the purchase session key proves the card debited (before the packet is
    // read). The PSAM checks it in the session of its INIT SAM FOR PURCHASE; a debit recovered at a later
    // contact is checked from its recorded inputs (the card answers key version 01, algorithm SM4).
    const ok = recovered
      ? await this.options.psam.verifyPurchaseMac2({
          cardRandom: p.cardRandom,
          counter: p.counter,
          amountFen: p.amountFen,
          transactionType: TRANSACTION_TYPES.PURCHASE,
          date: p.date,
          time: p.time,
          keyVersion: APPLICATION_KEY_VERSION,
          algorithmId: ALGORITHM_SM4,
          cardId: p.cardId,
          terminalSequence: p.terminalSequence,
          mac2,
        })
      : await this.options.psam.creditSamForPurchase(mac2);
    if (!ok) throw new PacketRejectedError('mac2', 'MAC2 does not verify');
    const read = readExportPacket(packetBytes);
    if (!read.ok) throw purchaseRejection(read);
    const header = read.header;
    const expect: [string, boolean][] = [
      ['type', header.type === 'PURCHASE'],
      ['payer card ID', header.payerCardId === p.cardId],
      ['payer counter', header.payerCounter === p.counter],
      ['payee identity', header.payeeIdentity === p.payeeIdentity],
      ['unpredictable number', equalBytes(header.payeeNonce, p.unpredictableNumber)],
      ['terminal ID', equalBytes(header.terminalId, this.terminalId)],
      ['terminal sequence', header.terminalSequence === p.terminalSequence],
      ['date and time', header.date === p.date && header.time === p.time],
      ['amount', header.amountFen === p.amountFen],
      ['currency', header.currency === CNY],
      ['withdrawal code commitment', header.codeCommitment.every((x) => x === 0)],
    ];
    const wrong = expect.find(([, ok]) => !ok);
    if (wrong) throw new PacketRejectedError('header', `${wrong[0]} differs from the debit`);
    const v = verifyExportPacket(read, this.anchors, { order: 'coins-first' });
    if (!v.ok) throw purchaseRejection(v, header);
    return v.coins.length;
  }

  /**
   * Change making after 9414: picks the smallest exactly payable amount >= price from the coin summary,
   * pays the difference into the card as a CHANGE packet and returns the change. Throws
   * PaymentRefusedError (nothing moved) when the card cannot pay enough or the float has no exact change.
   */
  private async payChange(card: DrmbCard, cardId: string, priceFen: number): Promise<number> {
    const change = this.options.change!;
    const { queue } = this.options;
    const summary = (await card.getData('coinSummary')) as { denominationFen: number; count: number }[];
    const paid = smallestPayableAtLeast(summary, priceFen);
    if (paid === undefined) throw new PaymentRefusedError(`card ${cardId} cannot pay ${priceFen} fen with its coins`);
    const changeFen = paid - priceFen;
    // One change packet per card at a time: an earlier one still unresolved holds its coins out of the float.
    if (queue.pendingChange(cardId)) throw new PaymentRefusedError(`the change of an earlier payment of card ${cardId} is not resolved yet`);
    const coins = change.float.take(changeFen);
    if (!coins) throw new PaymentRefusedError(`no exact change of ${changeFen} fen in the float (card pays ${paid} for ${priceFen})`);
    let imported = false;
    try {
      // Room and free slots are checked before a packet exists, so that the card can refuse it only for
      // the packet itself (which no retry changes): its nonce stays outstanding on the card (IMPORT COINS).
      const slots = (await card.getData('maxCoins')) as number;
      const held = summary.reduce((n, g) => n + g.count, 0);
      if (held + coins.length > slots) throw new PaymentRefusedError(`card ${cardId} has ${slots - held} free coin slots; change takes ${coins.length}`);
      const recv = await card.prepareReceive();
      if (recv.roomFen < changeFen) throw new PaymentRefusedError(`card ${cardId} has room for ${recv.roomFen} fen only; change is ${changeFen}`);
      const terminalSequence = await this.options.psam.nextTerminalSequence();
      const { date, time } = bcdNow(this.clock());
      const packet = this.changePacket(coins, recv.payeeIdentity, recv.nonce, terminalSequence, date, time);
      // Recorded before IMPORT COINS goes out: a lost answer is resolved on the next contact.
      queue.recordChange({ cardId, receiveCounter: recv.counter, amountFen: changeFen, packet, terminalSequence });
      try {
        const { receipt, responseBytes } = await card.importPacket(packet);
        if (!equalBytes(receipt.body.packetHash, sm3(packet)) || receipt.body.amountFen !== changeFen || receipt.body.payeeCardId !== cardId) {
          throw new PaymentRefusedError('the card returned a receipt for another packet');
        }
        queue.add({ cardId, counter: recv.counter, type: 'CHANGE', amountFen: changeFen, packet, receipt: responseBytes, terminalSequence });
        queue.resolveChange(cardId, recv.counter, 'imported');
        imported = true;
      } catch (e) {
        // The card refused the packet itself (room and slots were checked): nothing was credited, and no
        // later import of this packet can succeed, so its coins go back to the float.
        if (e instanceof StatusWordError) queue.resolveChange(cardId, recv.counter, 'not-imported');
        else if (!(e instanceof PaymentRefusedError)) imported = true; // lost answer: the coins stay out of the float until resolved
        throw e;
      }
    } finally {
      if (!imported) change.float.put(coins);
    }
    return changeFen;
  }

  /** A CHANGE packet: body in clear, signed by the terminal's SM9 key (as the card's IMPORT COINS checks). */
  private changePacket(coins: Coin[], payeeIdentity: string, payeeNonce: Uint8Array, terminalSequence: number, date: string, time: string): Uint8Array {
    const change = this.options.change!;
    return buildExportPacket({
      header: {
        version: PACKET_VERSION,
        type: 'CHANGE',
        payerCardId: TERMINAL_PAYER_CARD_ID,
        payerIdentity: change.identity,
        payerCounter: terminalSequence,
        payeeIdentity,
        payeeNonce,
        terminalId: this.terminalId,
        terminalSequence,
        date,
        time,
        currency: CNY,
        previousExportHash: new Uint8Array(32),
      },
      coins,
      signKey: this.signKey!,
      kgcSignMasterPublicKey: this.options.anchors.kgcSignMasterPublicKey,
    });
  }

  /** A change packet of an earlier contact whose IMPORT COINS answer was lost: imported or not? */
  private async resolvePendingChange(card: DrmbCard, cardId: string): Promise<void> {
    const c = this.options.queue.pendingChange(cardId);
    if (!c) return;
    const r = await card.session.exchange(C.getTransactionProve, { transactionType: TRANSACTION_TYPES.RECEIVE, counter: c.receiveCounter }, { accept: [SW.MAC_NOT_AVAILABLE] });
    const stored = r.sw === SW.MAC_NOT_AVAILABLE ? undefined : r.value!.storedResponse;
    const receipt = stored && importResponseCoder.decode(stored).receipt;
    if (stored && receipt && equalBytes(receipt.body.packetHash, sm3(c.packet))) {
      this.options.queue.add({ cardId, counter: c.receiveCounter, type: 'CHANGE', amountFen: c.amountFen, packet: c.packet, receipt: stored, terminalSequence: c.terminalSequence, recovered: true });
      this.options.queue.resolveChange(cardId, c.receiveCounter, 'imported');
      return;
    }
    // Not imported yet: the card keeps the packet's nonce outstanding (INITIALIZE FOR RECEIVE), so the
    // import is sent again and the change lands on the card as the customer was promised.
    try {
      const again = await card.importPacket(c.packet);
      if (equalBytes(again.receipt.body.packetHash, sm3(c.packet))) {
        this.options.queue.add({ cardId, counter: again.receipt.body.payeeCounter, type: 'CHANGE', amountFen: c.amountFen, packet: c.packet, receipt: again.responseBytes, terminalSequence: c.terminalSequence, recovered: true });
        this.options.queue.resolveChange(cardId, c.receiveCounter, 'imported');
        return;
      }
    } catch (e) {
      if (!(e instanceof StatusWordError)) throw e; // answer lost again: stays pending for the next contact
      // The card has no room or slots for it now (it took other coins since): the packet stays importable,
      // so its coins stay out of the float, and the change is tried again at the next contact.
      if (e.sw === SW.OVER_BALANCE_CAP || e.sw === SW.NOT_ENOUGH_MEMORY) return;
    }
    // Refused by the card for the packet itself (a status word, nothing credited): the coins return to the float.
    const { body } = exportPacketCoder.decode(c.packet);
    this.options.change?.float.put(exportBodyCoder.decode(body).coins);
    this.options.queue.resolveChange(cardId, c.receiveCounter, 'not-imported');
  }

  /** Wipes the terminal's SM9 key (the purchase keys never leave the PSAM). */
  wipe(): void {
    this.signKey?.fill(0);
  }
}
