/**
 * @module verifyCoinList: the checks of every coin a receiver takes, in a CREDIT FOR LOAD coin list or an
 * export packet: each coin by checkCoin over its body bytes as received, then its serial unique in the
 * list and not already held by the receiver.
 */
import { Reader } from '../applet-spec/codec/fields.js';
import { type Coin, COIN_SIGNED_LENGTH, coinCoder } from '../applet-spec/value-formats.js';
import { bytesToHex } from '../base/bytes.js';
import { type CheckValueSource, checkCoin, type CoinFault, type CoinVerifierLookup } from './check-coin.js';

/** Why a coin of a list is refused: its checkCoin fault, or a serial seen twice. */
export type CoinListFaultName = 'coin-format' | 'coin-key' | 'coin-signature' | 'denomination-key' | 'expired' | 'duplicate-serial';

/** The first coin refused, with its 0-based place in the list. */
export interface CoinListFault {
  fault: CoinListFaultName;
  index: number;
  coin: Coin;
}

export interface CoinListCheckOptions {
  verifier: CoinVerifierLookup;
  /** YYYYMMDD of the load or payment: coins expiring before it are 'expired' */
  atDate: string;
  /** the mint's check values (central bank only): a wrong m is 'denomination-key' */
  denominationKeys?: CheckValueSource;
  /** a serial the receiver already holds (a card's own coins) is a 'duplicate-serial' too */
  isHeld?: (serial: Uint8Array) => boolean;
}

const FAULT_NAMES: Record<CoinFault, CoinListFaultName> = {
  format: 'coin-format',
  'unknown-key': 'coin-key',
  signature: 'coin-signature',
  'denomination-key': 'denomination-key',
  expired: 'expired',
};

/**
 * Where the coins are in the bytes of a coin list, or of a body that starts with one (settlement and
 * export bodies): the list's own bytes and each coin's signed body bytes, exactly as received
 * (coinListCoder: a count, then the coins back to back). The bytes have already been decoded strictly.
 */
export function coinListSpans(bytes: Uint8Array): { coinListBytes: Uint8Array; signedBodies: Uint8Array[] } {
  const r = new Reader(bytes, 'coin list');
  const count = r.take(1, 'count')[0];
  const signedBodies: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    coinCoder.read(r, `coins[${i}]`);
    signedBodies.push(bytes.subarray(start, start + COIN_SIGNED_LENGTH));
  }
  return { coinListBytes: bytes.subarray(0, r.pos), signedBodies };
}

/**
 * Checks the coins of a list in order; each coin: format, key index, SM2 signature, denomination key
 * (when given), expiry, then its serial against the earlier ones and those held. Returns the first fault,
 * or undefined when every coin is good. `coinListBytes` are the bytes `coins` were decoded from.
 */
export function verifyCoinList(coins: readonly Coin[], coinListBytes: Uint8Array, opts: CoinListCheckOptions): CoinListFault | undefined {
  const bodies = coinListSpans(coinListBytes).signedBodies;
  const seen = new Set<string>();
  for (let index = 0; index < coins.length; index++) {
    const coin = coins[index];
    const fault = checkCoin(coin, { verifier: opts.verifier, denominationKeys: opts.denominationKeys, atDate: opts.atDate, bodyBytes: bodies[index] });
    if (fault !== 'valid') return { fault: FAULT_NAMES[fault], index, coin };
    const serial = bytesToHex(coin.body.serial);
    if (seen.has(serial) || opts.isHeld?.(coin.body.serial)) return { fault: 'duplicate-serial', index, coin };
    seen.add(serial);
  }
  return undefined;
}
