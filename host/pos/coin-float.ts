/**
 * @module The POS terminal's change float: central-bank coins the merchant's bank gave the terminal
 * for paying change into cards, with exact-amount coin selection; and the choice of the smallest
 * amount at or above a price that a card can pay exactly from its coin summary (GET DATA DF20).
 */
import type { Coin } from '../../applet-spec/value-formats.js';

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Bounded subset sum over (value, count) groups: for every reachable total up to `limit`, the count
 * of each group used (fewest coins). Totals are in units of the gcd of the values.
 */
function reachable(groups: { value: number; count: number }[], limit: number): { unit: number; best: Int32Array; take: Int16Array[] } {
  const unit = groups.reduce((g, x) => gcd(g, x.value), 0) || 1;
  const target = Math.floor(limit / unit);
  const INF = 0x7fffffff;
  let best = new Int32Array(target + 1).fill(INF);
  best[0] = 0;
  const take: Int16Array[] = [];
  for (const { value, count } of groups) {
    const v = value / unit;
    const next = new Int32Array(target + 1).fill(INF);
    const used = new Int16Array(target + 1);
    for (let a = 0; a <= target; a++) {
      for (let k = 0; k <= count && k * v <= a; k++) {
        const prev = best[a - k * v];
        if (prev !== INF && prev + k < next[a]) {
          next[a] = prev + k;
          used[a] = k;
        }
      }
    }
    best = next;
    take.push(used);
  }
  return { unit, best, take };
}

/**
 * The smallest amount >= priceFen that coins of this summary add up to exactly, or undefined when the
 * card holds less than the price. The card can pay it after change is paid in too, since importing
 * coins only adds to the coins it holds.
 */
export function smallestPayableAtLeast(summary: { denominationFen: number; count: number }[], priceFen: number): number | undefined {
  const total = summary.reduce((s, g) => s + g.denominationFen * g.count, 0);
  if (priceFen <= 0 || total < priceFen) return undefined;
  const { unit, best } = reachable(summary.map((g) => ({ value: g.denominationFen, count: g.count })), total);
  for (let a = Math.ceil(priceFen / unit); a < best.length; a++) if (best[a] !== 0x7fffffff) return a * unit;
  return undefined;
}

/** Coins of `coins` adding up to exactly amountFen (fewest coins), or undefined. */
export function pickExact(coins: Coin[], amountFen: number): Coin[] | undefined {
  if (amountFen <= 0) return undefined;
  const byValue = new Map<number, Coin[]>();
  for (const c of coins) byValue.set(c.body.denominationFen, [...(byValue.get(c.body.denominationFen) ?? []), c]);
  const groups = [...byValue].map(([value, list]) => ({ value, count: list.length, list }));
  const { unit, best, take } = reachable(groups, amountFen);
  if (amountFen % unit !== 0 || best[amountFen / unit] === 0x7fffffff) return undefined;
  const out: Coin[] = [];
  let a = amountFen / unit;
  for (let g = groups.length - 1; g >= 0; g--) {
    const k = take[g][a];
    out.push(...groups[g].list.slice(0, k));
    a -= (k * groups[g].value) / unit;
  }
  return out;
}

/** The float: coins the terminal may pay out as change. In memory; the caller persists it if needed. */
export class CoinFloat {
  private coins: Coin[];
  constructor(coins: Coin[] = []) {
    this.coins = [...coins];
  }

  get totalFen(): number {
    return this.coins.reduce((s, c) => s + c.body.denominationFen, 0);
  }

  get size(): number {
    return this.coins.length;
  }

  /** Removes and returns coins adding up to exactly amountFen, or undefined (float unchanged). */
  take(amountFen: number): Coin[] | undefined {
    const picked = pickExact(this.coins, amountFen);
    if (!picked) return undefined;
    const out = new Set(picked);
    this.coins = this.coins.filter((c) => !out.has(c));
    return picked;
  }

  /** Puts coins back (a change import that did not happen). */
  put(coins: Coin[]): void {
    this.coins.push(...coins);
  }
}
