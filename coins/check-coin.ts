/**
 * @module checkCoin: the checks of one central-bank coin (format, SM2 signature under the coin-signing key
 * of its key index, GB/T 32918.2; the denomination key's check value m, central bank only; expiry), and the
 * verifier lookup by key index that every holder of the public coin keys builds once.
 */
import { type Coin, COIN_VERSION, coinBodyCoder } from '../applet-spec/value-formats.js';
import { equalBytes } from '../base/bytes.js';
import { type Sm2Verifier, sm2PrecomputeVerifier, sm2Verify } from '../crypto/sm2.js';

/** Why a coin is refused. */
export type CoinFault =
  /** the body's fields are out of range (version, denomination, dates, lengths) */
  | 'format'
  /** no coin-signing key has the coin's key index */
  | 'unknown-key'
  /** the central-bank signature does not verify: forged or altered */
  | 'signature'
  /** m differs from SM4(baseKey(d), serial): signed but not by this mint for this denomination (central bank only) */
  | 'denomination-key'
  /** expiry date before the date of use */
  | 'expired';

/** Looks up the verifier of a coin-signing key by index; undefined for an unknown index. */
export type CoinVerifierLookup = (keyIndex: number) => Pick<Sm2Verifier, 'verify'> | undefined;

/** The mint's check values m = SM4(baseKey(d), serial) (bank/mint.ts DenominationKeys; a central-bank secret). */
export interface CheckValueSource {
  checkValue(denominationFen: number, serial: Uint8Array): Uint8Array;
}

/**
 * Verifiers for the central bank's coin-signing keys. 'precomputed' (default) builds fixed-key tables
 * once per key (sm2PrecomputeVerifier, the fast path; `windowBits` as there, 8 = ~0.2 s of tables per key,
 * 10 = ~0.5 s and about 25% faster verification); 'plain' calls sm2Verify each time (baseline).
 */
export function coinVerifiers(
  keys: readonly { keyIndex: number; publicKey: Uint8Array }[],
  mode: 'precomputed' | 'plain' = 'precomputed',
  windowBits = 8,
): CoinVerifierLookup {
  const map = new Map<number, Pick<Sm2Verifier, 'verify'>>();
  for (const k of keys) {
    map.set(
      k.keyIndex,
      mode === 'precomputed'
        ? sm2PrecomputeVerifier(k.publicKey, { windowBits })
        : { verify: (signature: Uint8Array, msg: Uint8Array) => sm2Verify(k.publicKey, msg, signature) },
    );
  }
  return (keyIndex) => map.get(keyIndex);
}

export interface CoinCheckOptions {
  verifier: CoinVerifierLookup;
  /** the mint's check values: enables the 'denomination-key' check, central bank only */
  denominationKeys?: CheckValueSource;
  /** YYYYMMDD the coin is used on; coins expiring before it are 'expired'. Omitted: no expiry check. */
  atDate?: string;
  /** the body bytes exactly as received (the coin was decoded from them), to verify without re-encoding */
  bodyBytes?: Uint8Array;
}

/**
 * Checks one coin in the order format, key index, signature, denomination key, expiry; returns 'valid'
 * or the first fault. The m comparison is constant time. Security: a 'valid' coin may still be spent
 * already; the registry's ownership record decides that.
 */
export function checkCoin(coin: Coin, opts: CoinCheckOptions): 'valid' | CoinFault {
  const b = coin.body;
  let bodyBytes: Uint8Array;
  try {
    if (b.version !== COIN_VERSION || !(b.denominationFen > 0) || b.expiryDate < b.issueDate || coin.signature.length !== 64) return 'format';
    bodyBytes = opts.bodyBytes ?? coinBodyCoder.encode(b); // encode validates dates, lengths and ranges
  } catch {
    return 'format';
  }
  const v = opts.verifier(b.keyIndex);
  if (!v) return 'unknown-key';
  // GB/T 32918.2 7.1: the central bank's signature over exactly the coin body bytes, default user ID.
  if (!v.verify(coin.signature, bodyBytes)) return 'signature';
  if (opts.denominationKeys && !equalBytes(opts.denominationKeys.checkValue(b.denominationFen, b.serial), b.m)) return 'denomination-key';
  if (opts.atDate !== undefined && b.expiryDate < opts.atDate) return 'expired';
  return 'valid';
}
