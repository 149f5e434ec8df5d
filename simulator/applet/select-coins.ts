/** @module selectCoins: exact-coin selection for a payment, fewest coins first. */
import { type Coin, MAX_COINS_PER_TRANSFER } from '../../applet-spec/value-formats.js';

/**
 * Coins adding up to exactly `amount`, fewest coins first: a bounded knapsack over the
 * denominations held (amounts scaled by their common divisor), O(amount x coins).
 * Undefined when no subset matches or a packet could not carry the coins.
 */
export function selectCoins(coins: Coin[], amountFen: number): Coin[] | undefined {
  if (amountFen <= 0 || coins.reduce((s, c) => s + c.body.denominationFen, 0) < amountFen) return undefined;
  const groups = new Map<number, Coin[]>();
  for (const c of coins) groups.set(c.body.denominationFen, [...(groups.get(c.body.denominationFen) ?? []), c]);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const unit = [...groups.keys()].reduce(gcd, amountFen);
  const target = amountFen / unit;
  const INF = 0x7fffffff;
  let best = new Int32Array(target + 1).fill(INF);
  best[0] = 0;
  const usedPerGroup: [number, Coin[], Int16Array][] = [];
  for (const [value, list] of [...groups].sort((a, b) => b[0] - a[0])) {
    const v = value / unit;
    const next = new Int32Array(target + 1).fill(INF);
    const used = new Int16Array(target + 1);
    for (let a = 0; a <= target; a++) {
      for (let k = 0; k <= list.length && k * v <= a; k++) {
        const prev = best[a - k * v];
        if (prev !== INF && prev + k < next[a]) {
          next[a] = prev + k;
          used[a] = k;
        }
      }
    }
    best = next;
    usedPerGroup.push([value, list, used]);
  }
  if (best[target] === INF || best[target] > MAX_COINS_PER_TRANSFER) return undefined;
  const picked: Coin[] = [];
  let a = target;
  for (let g = usedPerGroup.length - 1; g >= 0; g--) {
    const [value, list, used] = usedPerGroup[g];
    const k = used[a];
    picked.push(...list.slice(0, k));
    a -= (k * value) / unit;
  }
  return picked;
}
