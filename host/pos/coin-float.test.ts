/** @module Change arithmetic: smallest exactly payable amount at or above a price, and the float giving exact change or nothing. */
import { describe, expect, it } from 'vitest';
import type { Coin } from '../../applet-spec/value-formats.js';
import { CoinFloat, smallestPayableAtLeast } from './coin-float.js';

const coin = (denominationFen: number, i: number): Coin =>
  ({ body: { version: 1, denominationFen, serial: Uint8Array.of(i), issueDate: '20260101', expiryDate: '20361231', keyIndex: 1, m: new Uint8Array(16) }, signature: new Uint8Array(64) }) as Coin;

describe('change arithmetic', () => {
  it.each([
    [[{ denominationFen: 10000, count: 1 }], 3000, 10000],
    [[{ denominationFen: 5000, count: 1 }, { denominationFen: 2000, count: 2 }], 3000, 4000],
    [[{ denominationFen: 5000, count: 1 }, { denominationFen: 2000, count: 2 }], 6000, 7000],
    [[{ denominationFen: 5000, count: 2 }], 10000, 10000],
    [[{ denominationFen: 5000, count: 1 }], 5001, undefined],
  ])('smallest payable amount of %j at or above %i is %s', (summary, price, expected) => {
    expect(smallestPayableAtLeast(summary, price)).toBe(expected);
  });

  it('takes coins out of the float only when the change is exact, and takes them back', () => {
    const f = new CoinFloat([coin(5000, 1), coin(2000, 2)]);
    expect(f.take(3000)).toBeUndefined();
    expect(f.totalFen).toBe(7000);
    const taken = f.take(7000)!;
    expect(f.totalFen).toBe(0);
    f.put(taken);
    expect(f.size).toBe(2);
  });
});
