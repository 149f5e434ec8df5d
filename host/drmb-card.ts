/**
 * @module DrmbCard: the high-level API for every function of a D-RMB card, over any transport (PC/SC
 * reader, in-process simulator, replay). Each method states the card's security condition; keys the
 * holder does not have (bank MAC2, terminal MAC1, issuer line MACs) come in as callbacks from the
 * party that holds them.
 */
import * as C from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import type { Command } from '../applet-spec/define-command.js';
import { type DataObjectName, DATA_OBJECTS } from '../applet-spec/data-objects.js';
import type { Dgi } from '../applet-spec/codec/dgi.js';
import { STORE_DATA_P1 } from '../applet-spec/dgis.js';
import type { AppState } from '../applet-spec/lifecycle.js';
import { SW } from '../applet-spec/status-words.js';
import {
  type Coin,
  type ExportPacket,
  exportPacketCoder,
  importResponseCoder,
  type LogRecord,
  type Receipt,
  receiptCoder,
  type SettlementBody,
  TRANSACTION_TYPES,
  type TransactionType,
} from '../applet-spec/value-formats.js';
import type { Scp03StaticKeys } from '../crypto/scp03.js';
import { CardSession } from './card-session.js';
import { CardLockedError, StatusWordError } from './errors.js';
import { openSecureChannel, type SecureChannel, type SecureChannelOptions } from './secure-channel.js';
import type { Transport } from './transport.js';

/**
 * What SELECT of the D-RMB application tells: its AID, label, card ID (once prepared) and lifecycle
 * state.
 */
export interface CardInfo {
  aid: Uint8Array;
  label?: string;
  /** absent while the card is BLANK */
  cardId?: string;
  state: AppState;
}

/** What INITIALIZE FOR LOAD tells the bank; the bank checks MAC1 and answers MAC2 over the coins. */
export interface LoadChallenge {
  balanceFen: number;
  counter: number;
  keyVersion: number;
  algorithmId: number;
  cardRandom: Uint8Array;
  mac1: Uint8Array;
  amountFen: number;
  terminalId: Uint8Array;
}

/** What INITIALIZE FOR PURCHASE tells the terminal's secure module, which answers MAC1. */
export interface PurchaseChallenge {
  balanceFen: number;
  counter: number;
  keyVersion: number;
  algorithmId: number;
  cardRandom: Uint8Array;
  amountFen: number;
  terminalId: Uint8Array;
}

/** Computes a PBOC line MAC for an issuer script: key chosen by the issuer, IV = the card's challenge. */
export type LineMacSigner = (challenge: Uint8Array, header: Uint8Array, dataWithoutMac: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/**
 * What DEBIT FOR PURCHASE returns: the counter it took, TAC and MAC2, and the exported packet, decoded
 * and as sent.
 */
export interface PurchaseResult {
  counter: number;
  tac: Uint8Array;
  mac2: Uint8Array;
  packet: ExportPacket;
  /** the packet exactly as the card sent it (hashes and signatures cover these bytes) */
  packetBytes: Uint8Array;
}

const hexTagName = (tag: number) => tag.toString(16).toUpperCase();

/**
 * The D-RMB user card over any transport, one method per card function (select, PIN, balance, load,
 * purchase, transfer, import, log, proofs, issuer scripts).
 */
export class DrmbCard {
  readonly session: CardSession;
  private selectedState: AppState | undefined;

  constructor(readonly transport: Transport) {
    this.session = new CardSession(transport);
  }

  /** SELECT the D-RMB applet; returns card ID and state. Security: none (resets PIN and session state). */
  async select(): Promise<CardInfo> {
    const r = await this.session.exchange(C.select, { aid: DRMB_AID }, { accept: [SW.SELECTED_FILE_INVALIDATED] });
    const fci = r.value ?? C.select.decodeResponse(r.data);
    const info: CardInfo = {
      aid: fci.aid,
      label: fci.proprietary.applicationLabel ? new TextDecoder().decode(fci.proprietary.applicationLabel) : undefined,
      cardId: fci.proprietary.issuerData.cardId,
      state: fci.proprietary.issuerData.appState,
    };
    this.selectedState = info.state;
    return info;
  }

  /** GET DATA of a named data object, decoded. Security: none (GET DATA answers 6A88 for tags not readable). */
  async getData<N extends DataObjectName>(name: N): Promise<unknown> {
    const obj = DATA_OBJECTS[name];
    const r = await this.send(C.getData, { tag: obj.tag });
    if (r.tag !== obj.tag) throw new StatusWordError('GET DATA', SW.REFERENCED_DATA_NOT_FOUND);
    return obj.coder.decode(r.value, `GET DATA ${hexTagName(obj.tag)}`);
  }

  /** Balance in fen (GET BALANCE). Security: none; ISSUED or LOCKED. */
  async balance(): Promise<number> {
    return (await this.send(C.getBalance, {})).balanceFen;
  }

  /** VERIFY. Throws WrongPinError (tries left) or PinBlockedError. Security: none; ISSUED. */
  async verifyPin(pin: string): Promise<void> {
    await this.send(C.verify, { pin });
  }

  /** PIN tries left, without presenting a PIN (GET DATA 9F17). Security: none. */
  async pinTriesLeft(): Promise<number> {
    return (await this.getData('pinTriesLeft')) as number;
  }

  /** CHANGE PIN (old FF new). Security: the old PIN itself. */
  async changePin(oldPin: string, newPin: string): Promise<void> {
    await this.send(C.changePin, { oldPin, newPin });
  }

  /** RELOAD PIN by issuer script. Security: line MAC under the PIN reload key (the issuer's signer). */
  async reloadPin(pin: string, issuer: LineMacSigner): Promise<void> {
    const pinBytes = C.reloadPin.request.encode({ pin, mac: new Uint8Array(4) }).subarray(0, -4);
    await this.issuerScript(C.reloadPin, { pin }, pinBytes, issuer);
  }

  /** PUT DATA of a risk parameter by issuer script. Security: line MAC under the issuer MAC key. */
  async putData(tag: number, value: Uint8Array, issuer: LineMacSigner): Promise<void> {
    await this.issuerScript(C.putData, { tag, value }, value, issuer);
  }

  /** APPLICATION BLOCK (ISSUED -> LOCKED). Security: line MAC under the issuer MAC key. */
  async block(issuer: LineMacSigner): Promise<void> {
    await this.issuerScript(C.applicationBlock, {}, new Uint8Array(0), issuer);
  }

  /** APPLICATION UNBLOCK (LOCKED -> ISSUED). Security: line MAC under the issuer MAC key. */
  async unblock(issuer: LineMacSigner): Promise<void> {
    await this.issuerScript(C.applicationUnblock, {}, new Uint8Array(0), issuer);
  }

  private async issuerScript(cmd: any, request: Record<string, unknown>, dataWithoutMac: Uint8Array, issuer: LineMacSigner): Promise<void> {
    const { challenge } = await this.send(C.getChallenge, {});
    const plain = cmd.encode({ ...request, mac: new Uint8Array(4) });
    const header = Uint8Array.of(plain.cla | 0x04, plain.ins, plain.p1, plain.p2);
    const mac = await issuer(challenge, header, dataWithoutMac);
    await this.send(cmd, { ...request, mac });
  }

  /** Opens SCP03 with the given static keys. Security: the keys themselves; see openSecureChannel. */
  async openSecureChannel(keys: Scp03StaticKeys, options: SecureChannelOptions = {}): Promise<SecureChannel> {
    return openSecureChannel(this.transport, keys, options);
  }

  /**
   * STORE DATA of prepared DGIs through an open channel, one DGI per block as given, the last block
   * flagged. Each entry says how its value is protected (already encrypted by the caller).
   * Security: secure channel at least C-MAC; stage-1 DGIs in BLANK (key version 30), stage-2 in PREPARED (31).
   */
  async storeDgis(channel: SecureChannel, dgis: { dgi: Dgi; encryption: 0 | 0x20 | 0x60 }[]): Promise<void> {
    const s = new CardSession(channel);
    for (let i = 0; i < dgis.length; i++) {
      const flags = STORE_DATA_P1.DGI_FORMAT | dgis[i].encryption | (i === dgis.length - 1 ? STORE_DATA_P1.LAST_BLOCK : 0);
      await s.send(C.storeData, { flags, block: i, dgis: [dgis[i].dgi] }, { secure: false });
    }
  }

  /** SET STATUS: terminates the application. Security: secure channel; refused (6985) while coins remain. */
  async terminate(channel: SecureChannel): Promise<void> {
    await new CardSession(channel).send(C.setStatus, { aid: DRMB_AID }, { secure: false });
  }

  /**
   * Loads coins: INITIALIZE FOR LOAD, then the bank (which holds the load key) checks MAC1 and returns
   * MAC2 over the amount and the coin list, then CREDIT FOR LOAD. Returns the TAC and the counter the
   * load used (for GET TRANSACTION PROVE if the answer is lost). Security: none beyond MAC2; ISSUED.
   */
  async loadCoins(
    coins: Coin[],
    terminalId: Uint8Array,
    when: { date: string; time: string },
    bank: (challenge: LoadChallenge) => Uint8Array | Promise<Uint8Array>,
  ): Promise<{ counter: number; tac: Uint8Array }> {
    const amountFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
    const init = await this.send(C.initializeForLoad, { keyIndex: 1, amountFen, terminalId });
    const mac2 = await bank({ ...init, amountFen, terminalId });
    const { tac } = await this.send(C.creditForLoad, { ...when, coins, mac2 });
    return { counter: init.counter, tac };
  }

  /**
   * Pays at a terminal: INITIALIZE FOR PURCHASE, MAC1 from the terminal's secure module, DEBIT FOR
   * PURCHASE. Returns TAC, MAC2 and the SM9-signed export packet. Security: PIN verified first when
   * the amount exceeds the card's PIN threshold; MAC1 under the purchase key.
   */
  async purchase(
    amountFen: number,
    terminal: { terminalId: Uint8Array; terminalSequence: number; date: string; time: string; unpredictableNumber: Uint8Array; payeeIdentity: string },
    secureModule: (challenge: PurchaseChallenge) => Uint8Array | Promise<Uint8Array>,
  ): Promise<PurchaseResult> {
    const init = await this.send(C.initializeForPurchase, { keyIndex: 1, amountFen, terminalId: terminal.terminalId });
    const mac1 = await secureModule({ ...init, amountFen, terminalId: terminal.terminalId });
    const r = await this.session.exchange(C.debitForPurchase, {
      terminalSequence: terminal.terminalSequence,
      date: terminal.date,
      time: terminal.time,
      unpredictableNumber: terminal.unpredictableNumber,
      payeeIdentity: terminal.payeeIdentity,
      mac1,
    });
    const v = r.value!;
    return { counter: init.counter, tac: v.tac, mac2: v.mac2, packet: v.packet, packetBytes: r.data.slice(8) };
  }

  /**
   * Pays another person offline: INITIALIZE FOR TRANSFER then EXPORT COINS. Returns the packet (body,
   * with the withdrawal code, SM9-encrypted to the payee) and the counter used. `beforeExport` runs
   * between the two with the counter the export will use (the host's journal records its intent there,
   * before any coin can leave). Security: PIN above the threshold.
   */
  async transfer(
    amountFen: number,
    payeeIdentity: string,
    payeeNonce: Uint8Array,
    withdrawalCode: string,
    when: { date: string; time: string },
    beforeExport?: (init: { balanceFen: number; counter: number }) => void | Promise<void>,
  ): Promise<{ counter: number; packet: ExportPacket; packetBytes: Uint8Array }> {
    const init = await this.send(C.initializeForTransfer, { amountFen, payeeIdentity, payeeNonce, withdrawalCode, ...when });
    await beforeExport?.({ balanceFen: init.balanceFen, counter: init.counter });
    const r = await this.session.exchange(C.exportCoins, { confirmation: init.cardRandom });
    return { counter: init.counter, packet: r.value!, packetBytes: r.data.slice() };
  }

  /**
   * Gives coins near their expiry to the bank that renews them: INITIALIZE FOR RENEWAL then EXPORT
   * COINS. The card draws the exact coin set for `amountFen` only from its coins expiring before
   * `expiringBefore` (YYYYMMDD); the packet is a TRANSFER to the bank's identity with no withdrawal
   * code. `beforeExport` runs between the two as in transfer(). Security: PIN above the threshold.
   */
  async renewal(
    amountFen: number,
    expiringBefore: string,
    bankIdentity: string,
    bankNonce: Uint8Array,
    when: { date: string; time: string },
    beforeExport?: (init: { balanceFen: number; counter: number }) => void | Promise<void>,
  ): Promise<{ counter: number; packet: ExportPacket; packetBytes: Uint8Array }> {
    const init = await this.send(C.initializeForRenewal, { amountFen, expiringBefore, payeeIdentity: bankIdentity, payeeNonce: bankNonce, ...when });
    await beforeExport?.({ balanceFen: init.balanceFen, counter: init.counter });
    const r = await this.session.exchange(C.exportCoins, { confirmation: init.cardRandom });
    return { counter: init.counter, packet: r.value!, packetBytes: r.data.slice() };
  }

  /** INITIALIZE FOR RECEIVE: identity, nonce for the payer, room under the cap. Security: none; ISSUED. */
  async prepareReceive(): Promise<{ payeeIdentity: string; nonce: Uint8Array; roomFen: number; counter: number }> {
    return this.send(C.initializeForReceive, {});
  }

  /**
   * IMPORT COINS of a packet (the same packet again returns the stored response). Returns the payee
   * card's receipt, the settlement body (coins and payer signature, decrypted by the card) and the whole
   * response, which the payee's bank deposits with the packet. Security: the packet carries an
   * outstanding receive nonce of this card (prepareReceive()); a refused or torn import may be retried.
   */
  async importPacket(packet: Uint8Array): Promise<{ receipt: Receipt; receiptBytes: Uint8Array; settlement: SettlementBody; responseBytes: Uint8Array }> {
    const r = await this.session.exchange(C.importCoins, { packet: exportPacketCoder.decode(packet) });
    const { receipt, settlement } = r.value!;
    return { receipt, receiptBytes: receiptCoder.encode(receipt), settlement, responseBytes: r.data.slice() };
  }

  /** Coins on the card, by READ RECORD until 6A83. Security: PIN verified since SELECT. */
  async listCoins(): Promise<Coin[]> {
    return this.readRecords(C.readCoinRecord);
  }

  /** The transaction log, most recent first. Security: none. */
  async readLog(): Promise<LogRecord[]> {
    return this.readRecords(C.readLogRecord);
  }

  /** READ RECORD 1, 2, ... of a record file until the card answers 6A83 (ISO 7816-4 11.3.3). */
  private async readRecords<T>(command: Command<{ record: number }, T>): Promise<T[]> {
    const out: T[] = [];
    for (let record = 1; ; record++) {
      const r = await this.session.exchange(command, { record }, { accept: [SW.RECORD_NOT_FOUND] });
      if (r.sw === SW.RECORD_NOT_FOUND) return out;
      out.push(r.value!);
    }
  }

  /**
   * GET TRANSACTION PROVE: the stored response of the transaction with this counter, byte for byte;
   * undefined when that transaction did not happen (9406). Security: none.
   */
  async transactionProof(type: TransactionType, counter: number): Promise<Uint8Array | undefined> {
    const r = await this.session.exchange(C.getTransactionProve, { transactionType: TRANSACTION_TYPES[type], counter }, { accept: [SW.MAC_NOT_AVAILABLE] });
    return r.sw === SW.MAC_NOT_AVAILABLE ? undefined : r.value!.storedResponse;
  }

  /** Decodes a stored import proof (GET TRANSACTION PROVE of a RECEIVE, the IMPORT COINS response) down to its receipt. */
  static decodeReceipt(bytes: Uint8Array): Receipt {
    return importResponseCoder.decode(bytes).receipt;
  }

  /** Raw APDU (for tools). Security: whatever the command needs. */
  async raw(apdu: Uint8Array): Promise<{ data: Uint8Array; sw: number }> {
    return this.session.raw(apdu);
  }

  /** Sends through the session, turning 6985 on a locked card into CardLockedError. */
  private async send<Req, Res>(cmd: Command<Req, Res>, request: Req): Promise<Res> {
    try {
      return await this.session.send(cmd, request);
    } catch (e) {
      if (e instanceof StatusWordError && e.sw === SW.CONDITIONS_OF_USE_NOT_SATISFIED && this.selectedState === 'LOCKED') {
        throw new CardLockedError(e.command, e.sw, e.data);
      }
      throw e;
    }
  }
}

