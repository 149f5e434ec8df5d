/** @module Errors of the central-bank registry: one class per refusal, each with a machine-readable `reason`. */
import { EXIT } from '../base/exit-codes.js';
import { OperationalError, type OperationalErrorOptions } from '../base/operational-error.js';
import { bytesToHex } from '../base/bytes.js';
import type { ProofReason } from './schema.js';

/** Base class: every settlement or ownership refusal of the registry. */
export class RegistryError extends OperationalError {
  override readonly name: string = 'RegistryError';
  constructor(
    readonly reason: string,
    message: string,
    options?: OperationalErrorOptions,
  ) {
    super(message, options);
  }
}

/** A coin whose central-bank signature does not verify (or whose key index is unknown, or whose body is malformed). */
export class ForgedCoinError extends RegistryError {
  override readonly name = 'ForgedCoinError';
  constructor(
    override readonly reason: 'signature' | 'format',
    readonly serial: Uint8Array,
  ) {
    super(reason, `coin ${bytesToHex(serial)}: ${reason === 'signature' ? 'central-bank signature does not verify' : 'malformed coin'}`);
  }
}

/** A correctly signed coin whose m is not SM4(baseKey(d), serial): wrong denomination key. */
export class WrongDenominationKeyError extends RegistryError {
  override readonly name = 'WrongDenominationKeyError';
  constructor(readonly serial: Uint8Array) {
    super('denomination-key', `coin ${bytesToHex(serial)}: check value m does not match the denomination key`);
  }
}

/** A coin that had expired on the payment date. */
export class ExpiredCoinError extends RegistryError {
  override readonly name = 'ExpiredCoinError';
  constructor(
    readonly serial: Uint8Array,
    readonly expiryDate: string,
    readonly atDate: string,
  ) {
    super('expired', `coin ${bytesToHex(serial)} expired on ${expiryDate}, used on ${atDate}`);
  }
}

/** Why a packet is refused as tampered. */
export type TamperReason = 'format' | 'decrypt' | 'coin-list-hash' | 'signature' | 'amount' | 'duplicate-coin' | 'receipt' | 'withdrawal-code' | 'settlement-body';

/** A packet that does not decode, decrypt, hash or verify under the payer's SM9 identity. */
export class TamperedPacketError extends RegistryError {
  override readonly name = 'TamperedPacketError';
  constructor(
    override readonly reason: TamperReason,
    detail: string,
  ) {
    super(reason, `tampered packet (${reason}): ${detail}`);
  }
}

/** A packet made out to another payee identity than the depositor's. */
export class WrongPayeeError extends RegistryError {
  override readonly name = 'WrongPayeeError';
  constructor(
    readonly packetPayee: string,
    readonly depositor: string,
  ) {
    super('wrong-payee', `packet pays '${packetPayee}', deposited by '${depositor}'`);
  }
}

/** A move of a coin that `from` does not own (or that the registry never minted). */
export class NotOwnerError extends RegistryError {
  override readonly name = 'NotOwnerError';
  constructor(
    override readonly reason: 'not-owner' | 'unknown-coin',
    readonly serial: Uint8Array,
    readonly expectedOwner: string,
    readonly actualOwner: string | undefined,
  ) {
    super(reason, reason === 'unknown-coin' ? `coin ${bytesToHex(serial)} was never minted` : `coin ${bytesToHex(serial)} is not owned by ${expectedOwner}`);
  }
}

/**
 * A packet the registry cannot settle yet, without accusing anyone: a coin of it is not the payer's in
 * the registry because a packet it depends on has not come in. Either the payer paid the coin away in
 * another packet with room between the two counters for it to have come back offline (a receive on the
 * card, deposited later) and no fork of the card's export chain; or the coin is with another card, or
 * on its way to the payer in a packet that is itself waiting, so the packet that paid it to the payer
 * is still to come. Nothing moves; the packet waits in the registry's retry queue and settles when the
 * missing packet is deposited.
 */
export class CustodyPendingError extends RegistryError {
  override readonly name = 'CustodyPendingError';
  constructor(
    readonly serial: Uint8Array,
    readonly payerCounter: number,
    detail: string,
  ) {
    super('custody-pending', `coin ${bytesToHex(serial)}: ${detail}; the packet of counter ${payerCounter} waits in the registry's retry queue`);
  }
}

/** Nothing is waiting under a withdrawal code. */
export class UnknownWithdrawalCodeError extends RegistryError {
  override readonly name = 'UnknownWithdrawalCodeError';
  constructor() {
    super('unknown-code', "no coins wait under this withdrawal code (unknown, already redeemed, or taken onto the payee's card)");
  }
}

/** The two signed packets that prove a card spent twice. */
export interface DoubleSpendProof {
  id: number;
  reason: ProofReason;
  payerCardId: string;
  payerIdentity: string;
  /** the coin spent twice ('serial-reused', 'code-and-card'), absent for 'counter-reused' */
  serial?: Uint8Array;
  /** the packet settled first ('code-and-card': the transfer whose code was redeemed) */
  packetA: Uint8Array;
  /** the packet refused ('code-and-card': the payee card's IMPORT COINS response, or its spending packet) */
  packetB: Uint8Array;
}

/** Double spending detected: the proof is stored and the payer card blacklisted before this is thrown; drmb exits with EXIT.doubleSpend (3). */
export class DoubleSpendError extends RegistryError {
  override readonly name = 'DoubleSpendError';
  override readonly reason: ProofReason;
  constructor(readonly proof: DoubleSpendProof) {
    super(proof.reason, `double spend by card ${proof.payerCardId} (${proof.reason}); proof #${proof.id} recorded, card blacklisted`, { exitCode: EXIT.doubleSpend });
    this.reason = proof.reason;
  }
}
