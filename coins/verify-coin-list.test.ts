/** @module verifyCoinList: the coins a card loads (CREDIT FOR LOAD), each refused with its fault and place, on coins minted by the mint. */
import { describe, expect, it } from 'vitest';
import { coinBodyCoder, coinListCoder } from '../applet-spec/value-formats.js';
import { mintCoins } from '../bank/mint.js';
import { bytesToHex, concatBytes, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { coinVerifiers } from './check-coin.js';
import { coinListSpans, verifyCoinList } from './verify-coin-list.js';

const coinKey = sm2GenerateKeyPair();
const verifier = coinVerifiers([{ keyIndex: 1, publicKey: coinKey.publicKey }]);
const mintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster: randomBytes(16), issueDate: '20260101', expiryDate: '20361231' };
const check = (coins: ReturnType<typeof mintCoins>, o: { atDate?: string; isHeld?: (s: Uint8Array) => boolean } = {}) =>
  verifyCoinList(coins, coinListCoder.encode(coins), { verifier, atDate: o.atDate ?? '20261122', isHeld: o.isHeld });

describe('verifyCoinList', () => {
  it('accepts minted coins, and finds the list and each signed coin body at the start of a body', () => {
    const coins = mintCoins(mintParams, [1000, 500, 37]);
    expect(check(coins)).toBeUndefined();
    const list = coinListCoder.encode(coins);
    const { coinListBytes, signedBodies } = coinListSpans(concatBytes(list, randomBytes(97)));
    expect(bytesToHex(coinListBytes)).toBe(bytesToHex(list));
    expect(signedBodies.map(bytesToHex)).toEqual(coins.map((c) => bytesToHex(coinBodyCoder.encode(c.body))));
  });

  it('names the first coin refused: expired on the load date, a serial the card holds, a serial twice, an unknown key', () => {
    const [a, b] = mintCoins(mintParams, [1000, 500]);
    const [short] = mintCoins({ ...mintParams, expiryDate: '20261121' }, [100]);
    expect(check([a, short])).toMatchObject({ fault: 'expired', index: 1 });
    expect(check([a, short], { atDate: '20261121' })).toBeUndefined();
    expect(check([a, b], { isHeld: (s) => bytesToHex(s) === bytesToHex(b.body.serial) })).toMatchObject({ fault: 'duplicate-serial', index: 1 });
    expect(check([a, b, a])).toMatchObject({ fault: 'duplicate-serial', index: 2 });
    const [foreign] = mintCoins({ ...mintParams, signingKey: { ...mintParams.signingKey, keyIndex: 9 } }, [100]);
    expect(check([foreign, a])).toMatchObject({ fault: 'coin-key', index: 0 });
  });
});
