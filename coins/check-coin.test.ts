/** @module Coin checks with their specific faults, on coins minted by the mint (bank/mint.ts). */
import { describe, expect, it } from 'vitest';
import { type Coin, coinBodyCoder } from '../applet-spec/value-formats.js';
import { DenominationKeys, mintCoins } from '../bank/mint.js';
import { hexToBytes, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair, sm2Sign } from '../crypto/sm2.js';
import { checkCoin, coinVerifiers } from './check-coin.js';

const MASTER = hexToBytes('0123456789abcdeffedcba9876543210');
const coinKey = sm2GenerateKeyPair();
const verifier = coinVerifiers([{ keyIndex: 3, publicKey: coinKey.publicKey }]);
const params = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 3 }, mintMaster: MASTER, issueDate: '20260101', expiryDate: '20301231' };

/** Re-signs an altered body with the real coin key (so that only the altered field is wrong). */
function resign(body: Coin['body']): Coin {
  return { body, signature: sm2Sign(coinKey.privateKey, coinBodyCoder.encode(body)) };
}

describe('checkCoin', () => {
  const [coin] = mintCoins(params, [5000]);
  const opts = { verifier, denominationKeys: new DenominationKeys(MASTER), atDate: '20261122' };

  it('rejects an altered denomination with "signature"', () => {
    expect(checkCoin({ ...coin, body: { ...coin.body, denominationFen: 10000 } }, opts)).toBe('signature');
  });
  it('rejects an altered serial, expiry or m with "signature"', () => {
    const serial = coin.body.serial.slice();
    serial[0] ^= 1;
    expect(checkCoin({ ...coin, body: { ...coin.body, serial } }, opts)).toBe('signature');
    expect(checkCoin({ ...coin, body: { ...coin.body, expiryDate: '20991231' } }, opts)).toBe('signature');
    const m = coin.body.m.slice();
    m[15] ^= 0x80;
    expect(checkCoin({ ...coin, body: { ...coin.body, m } }, opts)).toBe('signature');
  });
  it('rejects a coin signed by another key with "signature", and one under a key index no key has with "unknown-key"', () => {
    const rogue = sm2GenerateKeyPair();
    expect(checkCoin({ body: coin.body, signature: sm2Sign(rogue.privateKey, coinBodyCoder.encode(coin.body)) }, opts)).toBe('signature');
    expect(checkCoin(resign({ ...coin.body, keyIndex: 4 }), opts)).toBe('unknown-key');
    const sig = coin.signature.slice();
    sig[40] ^= 1;
    expect(checkCoin({ ...coin, signature: sig }, opts)).toBe('signature');
  });
  it('rejects a correctly signed coin whose m was made with another denomination key with "denomination-key"', () => {
    const keys = new DenominationKeys(MASTER);
    const wrongDenomination = resign({ ...coin.body, m: keys.checkValue(10000, coin.body.serial) });
    expect(checkCoin(wrongDenomination, opts)).toBe('denomination-key');
    const otherMaster = resign({ ...coin.body, m: new DenominationKeys(randomBytes(16)).checkValue(5000, coin.body.serial) });
    expect(checkCoin(otherMaster, opts)).toBe('denomination-key');
    // Without the mint master (a commercial bank or terminal) the coin looks valid: only the central bank can tell.
    expect(checkCoin(otherMaster, { verifier, atDate: '20261122' })).toBe('valid');
  });
  it('rejects a coin past its expiry date with "expired", and accepts it on the expiry date', () => {
    const [short] = mintCoins({ ...params, expiryDate: '20261121' }, [100]);
    expect(checkCoin(short, { ...opts, atDate: '20261122' })).toBe('expired');
    expect(checkCoin(short, { ...opts, atDate: '20261121' })).toBe('valid');
  });
  it('rejects a malformed coin with "format"', () => {
    expect(checkCoin(resign({ ...coin.body, version: 2 }), opts)).toBe('format');
    expect(checkCoin({ ...coin, body: { ...coin.body, denominationFen: 0 } }, opts)).toBe('format');
    expect(checkCoin({ ...coin, body: { ...coin.body, issueDate: '20261301' } }, opts)).toBe('format');
    expect(checkCoin({ ...coin, body: { ...coin.body, serial: new Uint8Array(15) } }, opts)).toBe('format');
    expect(checkCoin({ ...coin, signature: new Uint8Array(63) }, opts)).toBe('format');
  });
  it('gives the same decisions with the plain verifier', () => {
    const plain = coinVerifiers([{ keyIndex: 3, publicKey: coinKey.publicKey }], 'plain');
    expect(checkCoin(coin, { ...opts, verifier: plain })).toBe('valid');
    expect(checkCoin({ ...coin, body: { ...coin.body, denominationFen: 10000 } }, { ...opts, verifier: plain })).toBe('signature');
  });
});
