/**
 * @module The POS terminal's secure module (PSAM-like, in the manner of JR/T 0025.2 purchase with a
 * PSAM): holds the purchase master key and the terminal ID, derives each card's purchase key from the
 * card ID (keys/card-keys.ts scheme for the 'purchase' key), computes MAC1 and verifies
 * MAC2 of a purse debit.
 */
import { OperationalError } from '../../base/operational-error.js';
import { FormatError } from '../../applet-spec/errors.js';
import { TRANSACTION_TYPES } from '../../applet-spec/value-formats.js';
import { equalBytes, uintToBytes, wipe } from '../../base/bytes.js';
import { purchaseMac1Data, purchaseMac2Data } from '../../applet-spec/mac-data.js';
import { pbocMac, pbocPurchaseSessionKey } from '../../crypto/pboc.js';
import { sm4EncryptBlock, sm4KeySchedule } from '../../crypto/sm4.js';
import { applicationDiversificationBlock, cardIdToBytes } from '../../keys/card-keys.js';

/** What INITIALIZE FOR PURCHASE returned and what the terminal sends in DEBIT FOR PURCHASE. */
export interface PurchaseMacInput {
  /** 20-digit card ID (from the FCI) */
  cardId: string;
  cardRandom: Uint8Array;
  counter: number;
  terminalSequence: number;
  amountFen: number;
  /** BCD date YYYYMMDD and time hhmmss, as sent in DEBIT FOR PURCHASE */
  date: string;
  time: string;
}

export class SecureModuleError extends OperationalError {
  override name = 'SecureModuleError';
}

/**
 * The secure module. Security: the purchase master key never leaves this object (no getter, never in
 * a message); `wipe()` zeroes it and every later call throws. Derived card keys and session keys are
 * wiped after each use.
 */
export class SecureModule {
  private readonly master: Uint8Array;
  private wiped = false;
  readonly terminalId: Uint8Array;

  /**
   * @param purchaseMaster the central bank's 16-byte SM4 'purchase' application master (cb-master
   *   secret.purchase); copied, so the caller may wipe its own copy.
   * @param terminalId 6-byte terminal ID (JR/T 0025.2 terminal number).
   */
  constructor(purchaseMaster: Uint8Array, terminalId: Uint8Array) {
    if (!(purchaseMaster instanceof Uint8Array) || purchaseMaster.length !== 16) throw new FormatError('purchase master key', 'must be 16 bytes (SM4)');
    if (!(terminalId instanceof Uint8Array) || terminalId.length !== 6) throw new FormatError('terminal ID', 'must be 6 bytes');
    this.master = purchaseMaster.slice();
    this.terminalId = terminalId.slice();
  }

  /**
   * The card's purchase key: SM4-ECB(purchase master, cardId || FF*5 || k), k = 2 for 'purchase'
   * (keys/card-keys.ts applicationDiversificationBlock; EMV Book 2 A1.4.1 option A style).
   * Security: secret; the caller wipes it.
   */
  private cardPurchaseKey(cardId: string): Uint8Array {
    if (this.wiped) throw new SecureModuleError('secure module keys were wiped');
    const rk = sm4KeySchedule(this.master);
    try {
      return sm4EncryptBlock(rk, applicationDiversificationBlock(cardIdToBytes(cardId), 'purchase'));
    } finally {
      rk.fill(0);
    }
  }

  private sessionKey(x: PurchaseMacInput): Uint8Array {
    const dpk = this.cardPurchaseKey(x.cardId);
    try {
      // JR/T 0025.2 purchase: SK = SM4(DPK, card random || counter (here 4 bytes) || last 2 bytes of the terminal sequence)
      return pbocPurchaseSessionKey(dpk, x.cardRandom, uintToBytes(x.counter, 4), uintToBytes(x.terminalSequence, 4));
    } finally {
      wipe(dpk);
    }
  }

  /** MAC1 over amount, type 06, terminal ID, date and time (JR/T 0025.2 purchase MAC1). */
  mac1(x: PurchaseMacInput): Uint8Array {
    const sk = this.sessionKey(x);
    try {
      return pbocMac(sk, purchaseMac1Data({ amountFen: x.amountFen, transactionType: TRANSACTION_TYPES.PURCHASE, terminalId: this.terminalId, date: x.date, time: x.time }));
    } finally {
      wipe(sk);
    }
  }

  /** True when MAC2 (over the amount, same session key) is the card's; compared in constant time. */
  verifyMac2(x: PurchaseMacInput, mac2: Uint8Array): boolean {
    const sk = this.sessionKey(x);
    try {
      return equalBytes(pbocMac(sk, purchaseMac2Data({ amountFen: x.amountFen })), mac2);
    } finally {
      wipe(sk);
    }
  }

  /** Zeroes the master key; the module is unusable afterwards. */
  wipe(): void {
    wipe(this.master);
    this.wiped = true;
  }
}
