/**
 * @module selectExactCoins: the coins that pay an amount exactly, fewest coins first, at most as many as
 * one coin list carries (MAX_COINS_PER_TRANSFER): what a card exports, a terminal pays as change and a
 * bank loads from its vault. A bounded knapsack over the denominations held.
 */
import { type Coin, MAX_COINS_PER_TRANSFER } from '../applet-spec/value-formats.js';

/** The mark of fewestCoinTable for a total that no set of the coins makes. */
export const NO_COIN_SET = 0x7fffffff;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Coins of one denomination: how many there are. */
export interface CoinGroup {
  denominationFen: number;
  count: number;
}

/**
 * Bounded subset sum over coin groups, taken in the given order: for every total 0..limitFen in steps of
 * `unitFen` (a divisor of every denomination), `best[t]` = the fewest coins adding up to t x unitFen
 * exactly (NO_COIN_SET when no set does), and `used[g][t]` = how many coins of group g that set
 * takes, for the groups up to g. O(totals x coins).
 */
export function fewestCoinTable(groups: readonly CoinGroup[], unitFen: number, limitFen: number): { best: Int32Array; used: Int16Array[] } {
  const target = Math.floor(limitFen / unitFen);
  let best = new Int32Array(target + 1).fill(NO_COIN_SET);
  best[0] = 0;
  const used: Int16Array[] = [];
  for (const { denominationFen, count } of groups) {
    const v = denominationFen / unitFen;
    const next = new Int32Array(target + 1).fill(NO_COIN_SET);
    const take = new Int16Array(target + 1);
    for (let a = 0; a <= target; a++) {
      for (let k = 0; k <= count && k * v <= a; k++) {
        const prev = best[a - k * v];
        // Strictly fewer: among equal counts the smallest k of this group, i.e. more of the earlier groups.
        if (prev !== NO_COIN_SET && prev + k < next[a]) {
          next[a] = prev + k;
          take[a] = k;
        }
      }
    }
    best = next;
    used.push(take);
  }
  return { best, used };
}

/** The greatest common divisor of the denominations (and extra values such as an amount); 1 for none. */
export function commonUnitFen(denominationsFen: Iterable<number>, ...more: number[]): number {
  let unit = 0;
  for (const d of denominationsFen) unit = gcd(unit, d);
  for (const m of more) unit = gcd(unit, m);
  return unit || 1;
}

/**
 * Coins of `coins` adding up to exactly `amountFen`, the fewest possible, or undefined when no subset
 * matches or the fewest would not fit one coin list (MAX_COINS_PER_TRANSFER). Tie-break among sets of
 * equally few coins: the fewest of the smallest denomination, then of the next smallest, and so on;
 * within a denomination, the first coins in the order given. The result lists the coins from the smallest
 * denomination up.
 */
export function selectExactCoins(coins: readonly Coin[], amountFen: number): Coin[] | undefined {
  if (amountFen <= 0 || coins.reduce((s, c) => s + c.body.denominationFen, 0) < amountFen) return undefined;
  const byValue = new Map<number, Coin[]>();
  for (const c of coins) byValue.set(c.body.denominationFen, [...(byValue.get(c.body.denominationFen) ?? []), c]);
  // Largest denomination first: the table then prefers them among sets of equally few coins.
  const groups = [...byValue].sort((a, b) => b[0] - a[0]).map(([denominationFen, list]) => ({ denominationFen, count: list.length, list }));
  const unit = commonUnitFen(byValue.keys(), amountFen);
  const { best, used } = fewestCoinTable(groups, unit, amountFen);
  const target = amountFen / unit;
  if (best[target] === NO_COIN_SET || best[target] > MAX_COINS_PER_TRANSFER) return undefined;
  const picked: Coin[] = [];
  let a = target;
  for (let g = groups.length - 1; g >= 0; g--) {
    const k = used[g][a];
    picked.push(...groups[g].list.slice(0, k));
    a -= (k * groups[g].denominationFen) / unit;
  }
  return picked;
}
