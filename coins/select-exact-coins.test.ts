/** @module Exact-coin selection: exact sets or none, fewest coins, the tie-break, and the coin-list limit. */
import { describe, expect, it } from 'vitest';
import { type Coin, MAX_COINS_PER_TRANSFER } from '../applet-spec/value-formats.js';
import { selectExactCoins } from './select-exact-coins.js';

/** A coin of a denomination with serial byte `i` (selection reads only the denomination; order is by serial here). */
const coin = (denominationFen: number, i: number): Coin => ({
  body: { version: 1, denominationFen, serial: Uint8Array.of(i, ...new Uint8Array(15)), issueDate: '20260101', expiryDate: '20361231', keyIndex: 1, m: new Uint8Array(16) },
  signature: new Uint8Array(64),
});
const values = (coins: Coin[] | undefined) => coins?.map((c) => c.body.denominationFen);
const serials = (coins: Coin[] | undefined) => coins?.map((c) => c.body.serial[0]);

describe('selectExactCoins', () => {
  it('picks coins adding up to exactly the amount, from the smallest denomination up', () => {
    const coins = [coin(5000, 1), coin(2000, 2), coin(2000, 3), coin(500, 4)];
    expect(values(selectExactCoins(coins, 4500))).toEqual([500, 2000, 2000]);
    expect(values(selectExactCoins([coin(5000, 1), coin(2000, 2), coin(2000, 3), coin(1000, 4)], 4000))).toEqual([2000, 2000]);
    expect(values(selectExactCoins(coins, 9500))).toEqual([500, 2000, 2000, 5000]);
  });

  it('answers undefined when no subset makes the amount, for more than the coins hold, and for zero or less', () => {
    const coins = [coin(5000, 1), coin(2000, 2), coin(2000, 3), coin(500, 4)];
    expect(selectExactCoins(coins, 100)).toBeUndefined();
    expect(selectExactCoins(coins, 9501)).toBeUndefined();
    expect(selectExactCoins([coin(5000, 1), coin(2000, 2)], 3000)).toBeUndefined();
    expect(selectExactCoins(coins, 0)).toBeUndefined();
    expect(selectExactCoins(coins, -500)).toBeUndefined();
  });

  it('takes the fewest coins: one 50-yuan coin rather than five 10-yuan coins', () => {
    const coins = [1, 2, 3, 4, 5].map((i) => coin(1000, i)).concat(coin(5000, 6));
    expect(values(selectExactCoins(coins, 5000))).toEqual([5000]);
    expect(values(selectExactCoins(coins, 7000))).toEqual([1000, 1000, 5000]);
  });

  it('breaks a tie between equally few coins by the fewest of the smallest denomination, then the first coins given', () => {
    // 7 yuan as 5 + 2 or 4 + 3: both two coins; 4 + 3 has none of the smallest denomination (2).
    expect(values(selectExactCoins([coin(500, 1), coin(200, 2), coin(400, 3), coin(300, 4)], 700))).toEqual([300, 400]);
    expect(serials(selectExactCoins([coin(2000, 7), coin(2000, 5), coin(2000, 6)], 4000))).toEqual([7, 5]);
  });

  it(`answers undefined when the fewest coins would not fit one coin list (${MAX_COINS_PER_TRANSFER})`, () => {
    const pennies = Array.from({ length: MAX_COINS_PER_TRANSFER + 1 }, (_, i) => coin(100, i));
    expect(selectExactCoins(pennies, 100 * MAX_COINS_PER_TRANSFER)).toHaveLength(MAX_COINS_PER_TRANSFER);
    expect(selectExactCoins(pennies, 100 * (MAX_COINS_PER_TRANSFER + 1))).toBeUndefined();
  });
});
