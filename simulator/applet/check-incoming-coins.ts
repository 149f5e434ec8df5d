/**
 * @module checkIncomingCoins: the checks every coin arriving on the card passes, by CREDIT FOR LOAD
 * or IMPORT COINS (format and central-bank signature 9410, expiry 9418, serial 9411), and the shared
 * verifiers of the central-bank coin keys.
 */
import { SW } from '../../applet-spec/status-words.js';
import { type Coin, COIN_SIGNED_LENGTH, COIN_VERSION, coinCoder } from '../../applet-spec/value-formats.js';
import { sm2PrecomputeVerifier, type Sm2Verifier } from '../../crypto/sm2.js';
import { check } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';

/** Verifiers of central-bank coin keys, shared by all simulated cards (public data only). */
const verifierCache = new Map<string, Sm2Verifier>();

/** The verifier of a central-bank coin key; throws when the key is not a point of the curve. */
export function coinVerifier(publicKey: Uint8Array): Sm2Verifier {
  const key = Buffer.from(publicKey).toString('hex');
  let v = verifierCache.get(key);
  if (!v) {
    v = sm2PrecomputeVerifier(publicKey);
    verifierCache.set(key, v);
  }
  return v;
}

/** Coin checks shared by load and import (9410 signature/format, 9418 expiry, 9411 serial). */
export function checkIncomingCoins(ctx: AppletContext, coins: Coin[], dateYYYYMMDD: string, coinListBytes: Uint8Array): void {
  const keys = ctx.trustAnchors.coinKeys;
  const held = new Set(ctx.memory.coins.map((c) => Buffer.from(c.body.serial).toString('hex')));
  const seen = new Set<string>();
  let off = 1;
  for (const coin of coins) {
    const raw = coinListBytes.subarray(off, off + coinCoder.size!);
    off += coinCoder.size!;
    check(coin.body.version === COIN_VERSION && coin.body.denominationFen > 0, SW.COIN_SIGNATURE_INVALID, 'coin format');
    const anchor = keys.find((k) => k.keyIndex === coin.body.keyIndex);
    check(anchor, SW.COIN_SIGNATURE_INVALID, 'unknown coin key index');
    check(coinVerifier(anchor.publicKey).verify(coin.signature, raw.subarray(0, COIN_SIGNED_LENGTH)), SW.COIN_SIGNATURE_INVALID, 'coin signature');
    check(coin.body.expiryDate >= dateYYYYMMDD, SW.COIN_EXPIRED);
    const serial = Buffer.from(coin.body.serial).toString('hex');
    check(!held.has(serial) && !seen.has(serial), SW.DUPLICATE_COIN_SERIAL);
    seen.add(serial);
  }
}
