/**
 * @module Central-bank mint: per-denomination base keys derived from a master secret (SM4, GB/T 32907),
 * random serials, m = SM4(base key, serial) and the SM2 coin signature (GB/T 32918.2) over the coin body.
 */
import { type Coin, COIN_VERSION, coinBodyCoder } from '../applet-spec/value-formats.js';
import type { CheckValueSource } from '../coins/check-coin.js';
import { randomBytes, wipe } from '../base/bytes.js';
import { sm2Sign } from '../crypto/sm2.js';
import { sm4EncryptBlock, sm4KeySchedule } from '../crypto/sm4.js';

/** Standard note denominations in fen, largest first: 100, 50, 20, 10, 5 and 1 yuan. */
export const STANDARD_DENOMINATIONS_FEN: readonly number[] = Object.freeze([10000, 5000, 2000, 1000, 500, 100]);

/** Largest denomination the coin format can carry (u32). */
export const MAX_DENOMINATION_FEN = 0xffffffff;

/** Domain label of the base-key derivation block ("DRMBMINT", 8 ASCII bytes). */
const BASE_KEY_LABEL = new TextEncoder().encode('DRMBMINT');

/**
 * Derivation block of one denomination: "DRMBMINT" (8 bytes) || d as u32 big-endian || 00000000.
 * One block of SM4 under the master gives the base key; distinct denominations give distinct blocks,
 * so distinct keys (SM4 is a permutation).
 */
export function baseKeyDerivationBlock(denominationFen: number): Uint8Array {
  checkDenomination(denominationFen);
  const block = new Uint8Array(16);
  block.set(BASE_KEY_LABEL, 0);
  new DataView(block.buffer).setUint32(8, denominationFen);
  return block;
}

/**
 * baseKey(d) = SM4-ECB(mintMaster, "DRMBMINT" || u32(d) || 00000000), 16 bytes.
 * Security: the result is a central-bank secret; only the mint and the registry's coin check hold it. Wipe it after use.
 */
export function denominationBaseKey(mintMaster: Uint8Array, denominationFen: number): Uint8Array {
  checkMaster(mintMaster);
  const rk = sm4KeySchedule(mintMaster);
  try {
    return sm4EncryptBlock(rk, baseKeyDerivationBlock(denominationFen));
  } finally {
    rk.fill(0);
  }
}

/**
 * The central bank's denomination keys for one master: base keys and their SM4 key schedules are
 * derived on first use and cached. `checkValue(d, serial)` = m = SM4(baseKey(d), serial), what checkCoin
 * (coins/check-coin.ts) compares a coin's m with at the central bank.
 * Security: holds secrets; call `wipe()` when done. Never give it to a commercial bank or terminal.
 */
export class DenominationKeys implements CheckValueSource {
  readonly #master: Uint8Array;
  readonly #schedules = new Map<number, Uint32Array>();

  constructor(mintMaster: Uint8Array) {
    checkMaster(mintMaster);
    this.#master = Uint8Array.from(mintMaster);
  }

  /** m = SM4-ECB(baseKey(d), serial) for a 16-byte serial. */
  checkValue(denominationFen: number, serial: Uint8Array): Uint8Array {
    if (serial.length !== 16) throw new RangeError('coin serial must be 16 bytes');
    let rk = this.#schedules.get(denominationFen);
    if (!rk) {
      const key = denominationBaseKey(this.#master, denominationFen);
      rk = sm4KeySchedule(key);
      wipe(key);
      this.#schedules.set(denominationFen, rk);
    }
    return sm4EncryptBlock(rk, serial);
  }

  /** Erases the master and every cached key schedule. */
  wipe(): void {
    wipe(this.#master);
    for (const rk of this.#schedules.values()) rk.fill(0);
    this.#schedules.clear();
  }
}

/**
 * What minting needs: the coin-signing key, the mint master (or its derived denomination keys) and the
 * coins' issue and expiry dates.
 */
export interface MintParams {
  /** coin-signing key (key file kind 'coin-signing'): 32-byte SM2 private key and the index cards know it by */
  signingKey: { privateKey: Uint8Array; keyIndex: number };
  /** 16-byte mint master secret from which the denomination base keys derive */
  mintMaster: Uint8Array | DenominationKeys;
  /** YYYYMMDD */
  issueDate: string;
  /** YYYYMMDD, not before issueDate */
  expiryDate: string;
}

/**
 * Mints one coin per entry of `denominationsFen` (any positive u32 fen amount; use splitAmount for
 * standard notes): a fresh CSPRNG serial, m = SM4(baseKey(d), serial), and the SM2 signature (default
 * user ID) over the encoded coin body. Security: central bank only; the caller records the coins
 * (Registry.recordMint) before they leave the mint.
 */
export function mintCoins(params: MintParams, denominationsFen: readonly number[]): Coin[] {
  const { signingKey, issueDate, expiryDate } = params;
  if (!Number.isInteger(signingKey.keyIndex) || signingKey.keyIndex < 0 || signingKey.keyIndex > 255) throw new RangeError('coin key index must be 0..255');
  if (expiryDate < issueDate) throw new RangeError(`expiry date ${expiryDate} is before issue date ${issueDate}`);
  for (const d of denominationsFen) checkDenomination(d);
  const keys = params.mintMaster instanceof DenominationKeys ? params.mintMaster : new DenominationKeys(params.mintMaster);
  try {
    return denominationsFen.map((denominationFen) => {
      const serial = randomBytes(16);
      const body = { version: COIN_VERSION, denominationFen, serial, issueDate, expiryDate, keyIndex: signingKey.keyIndex, m: keys.checkValue(denominationFen, serial) };
      // GB/T 32918.2 6.1: signature over exactly the encoded body bytes, default user ID.
      return { body, signature: sm2Sign(signingKey.privateKey, coinBodyCoder.encode(body)) };
    });
  } finally {
    if (!(params.mintMaster instanceof DenominationKeys)) keys.wipe();
  }
}

/** How splitAmount treats a remainder below the smallest standard denomination. */
export interface SplitOptions {
  /**
   * How to pay a remainder below 1 yuan: 'reject' (default: throw RangeError) or 'coin' (one coin of
   * exactly that many fen, the "arbitrary amount" issue parameter).
   */
  fenRemainder?: 'reject' | 'coin';
}

/** Splits an amount into standard denominations, largest first (greedy, optimal for this note set). */
export function splitAmount(amountFen: number, opts: SplitOptions = {}): number[] {
  if (!Number.isSafeInteger(amountFen) || amountFen <= 0) throw new RangeError('amount must be a positive integer number of fen');
  const out: number[] = [];
  let left = amountFen;
  for (const d of STANDARD_DENOMINATIONS_FEN) {
    for (; left >= d; left -= d) out.push(d);
  }
  if (left > 0) {
    if (opts.fenRemainder !== 'coin') throw new RangeError(`${left} fen cannot be paid in standard denominations`);
    out.push(left);
  }
  return out;
}

function checkDenomination(d: number): void {
  if (!Number.isInteger(d) || d <= 0 || d > MAX_DENOMINATION_FEN) throw new RangeError(`denomination ${d} fen is not a positive u32`);
}

function checkMaster(master: Uint8Array): void {
  if (!(master instanceof Uint8Array) || master.length !== 16) throw new RangeError('mint master must be 16 bytes');
}
