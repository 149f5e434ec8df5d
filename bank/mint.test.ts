/** @module [value] tests of the mint: base-key derivation against a from-definition SM4 computation, minted coin layout and checks, amount splitting. */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { COIN_VERSION, coinBodyCoder, coinCoder } from '../applet-spec/value-formats.js';
import { bytesToHex, hexToBytes, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair, sm2Verify } from '../crypto/sm2.js';
import { checkCoin, coinVerifiers } from '../coins/check-coin.js';
import {
  baseKeyDerivationBlock,
  DenominationKeys,
  denominationBaseKey,
  mintCoins,
  splitAmount,
  STANDARD_DENOMINATIONS_FEN,
} from './mint.js';

/** SM4-ECB of one block with node:crypto (OpenSSL), independent of crypto/sm4.ts. */
function opensslSm4(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(block), c.final()]));
}

const MASTER = hexToBytes('0123456789abcdeffedcba9876543210');
const coinKey = sm2GenerateKeyPair();
const verifier = coinVerifiers([{ keyIndex: 3, publicKey: coinKey.publicKey }]);
const params = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 3 }, mintMaster: MASTER, issueDate: '20260101', expiryDate: '20301231' };

describe('denomination base keys', () => {
  it('derivation block is "DRMBMINT" || u32 big-endian denomination || 00000000', () => {
    expect(bytesToHex(baseKeyDerivationBlock(10000))).toBe(bytesToHex(new TextEncoder().encode('DRMBMINT')) + '00002710' + '00000000');
    expect(bytesToHex(baseKeyDerivationBlock(1))).toBe('44524d424d494e54' + '00000001' + '00000000');
  });

  it.each(STANDARD_DENOMINATIONS_FEN.concat([1, 37, 0xffffffff]))('baseKey(%i) equals SM4-ECB(master, block) computed by OpenSSL', (d) => {
    const block = new Uint8Array(16);
    block.set(new TextEncoder().encode('DRMBMINT'));
    block[8] = d >>> 24;
    block[9] = (d >>> 16) & 0xff;
    block[10] = (d >>> 8) & 0xff;
    block[11] = d & 0xff;
    expect(bytesToHex(denominationBaseKey(MASTER, d))).toBe(bytesToHex(opensslSm4(MASTER, block)));
  });

  it('gives a different key per denomination and per master', () => {
    const keys = STANDARD_DENOMINATIONS_FEN.map((d) => bytesToHex(denominationBaseKey(MASTER, d)));
    expect(new Set(keys).size).toBe(STANDARD_DENOMINATIONS_FEN.length);
    expect(bytesToHex(denominationBaseKey(randomBytes(16), 100))).not.toBe(keys[5]);
  });

  it('rejects a master that is not 16 bytes and a denomination that is not a positive u32', () => {
    expect(() => denominationBaseKey(new Uint8Array(15), 100)).toThrow(RangeError);
    expect(() => denominationBaseKey(MASTER, 0)).toThrow(RangeError);
    expect(() => denominationBaseKey(MASTER, 2 ** 32)).toThrow(RangeError);
    expect(() => denominationBaseKey(MASTER, 1.5)).toThrow(RangeError);
  });

  it('m = SM4(baseKey(d), serial), checked with OpenSSL', () => {
    const keys = new DenominationKeys(MASTER);
    const serial = hexToBytes('00112233445566778899aabbccddeeff');
    expect(bytesToHex(keys.checkValue(5000, serial))).toBe(bytesToHex(opensslSm4(opensslSm4(MASTER, baseKeyDerivationBlock(5000)), serial)));
    keys.wipe();
  });
});

describe('mintCoins', () => {
  it('mints one signed coin per denomination with a fresh serial and m from the base key', () => {
    const coins = mintCoins(params, [10000, 100, 37]);
    expect(coins.map((c) => c.body.denominationFen)).toEqual([10000, 100, 37]);
    expect(new Set(coins.map((c) => bytesToHex(c.body.serial))).size).toBe(3);
    for (const c of coins) {
      expect(c.body.version).toBe(COIN_VERSION);
      expect(c.body.keyIndex).toBe(3);
      expect(c.body.issueDate).toBe('20260101');
      expect(c.body.expiryDate).toBe('20301231');
      expect(bytesToHex(c.body.m)).toBe(bytesToHex(opensslSm4(opensslSm4(MASTER, baseKeyDerivationBlock(c.body.denominationFen)), c.body.serial)));
      expect(sm2Verify(coinKey.publicKey, coinBodyCoder.encode(c.body), c.signature)).toBe(true);
      expect(coinCoder.encode(c).length).toBe(110);
      expect(checkCoin(c, { verifier, denominationKeys: new DenominationKeys(MASTER), atDate: '20261122' })).toBe('valid');
    }
  });

  it('refuses an expiry before the issue date and a key index outside 0..255', () => {
    expect(() => mintCoins({ ...params, expiryDate: '20251231' }, [100])).toThrow(RangeError);
    expect(() => mintCoins({ ...params, signingKey: { ...params.signingKey, keyIndex: 256 } }, [100])).toThrow(RangeError);
  });
});

describe('splitAmount', () => {
  it('splits into standard notes, largest first', () => {
    expect(splitAmount(18800)).toEqual([10000, 5000, 2000, 1000, 500, 100, 100, 100]);
    expect(splitAmount(100)).toEqual([100]);
  });
  it('rejects a fen remainder unless asked to mint it as one coin', () => {
    expect(() => splitAmount(12345)).toThrow(/45 fen/);
    expect(splitAmount(12345, { fenRemainder: 'coin' })).toEqual([10000, 2000, 100, 100, 100, 45]);
    expect(splitAmount(7, { fenRemainder: 'coin' })).toEqual([7]);
  });
  it('rejects zero, negative and fractional amounts', () => {
    for (const a of [0, -100, 1.5]) expect(() => splitAmount(a)).toThrow(RangeError);
  });
});
