/**
 * @module The POS terminal's change float: central-bank coins the merchant's bank gave the terminal
 * for paying change into cards, taken by exact-amount coin selection (selectExactCoins); and the
 * choice of the smallest amount at or above a price that a card can pay exactly from its coin summary
 * (GET DATA DF20).
 */
import type { Coin } from '../../applet-spec/value-formats.js';
import { commonUnitFen, fewestCoinTable, NO_COIN_SET, selectExactCoins } from '../../coins/select-exact-coins.js';

/**
 * The smallest amount >= priceFen that coins of this summary add up to exactly, or undefined when the
 * card holds less than the price. The card can pay it after change is paid in too, since importing
 * coins only adds to the coins it holds.
 */
export function smallestPayableAtLeast(summary: { denominationFen: number; count: number }[], priceFen: number): number | undefined {
  const total = summary.reduce((s, g) => s + g.denominationFen * g.count, 0);
  if (priceFen <= 0 || total < priceFen) return undefined;
  const unit = commonUnitFen(summary.map((g) => g.denominationFen));
  const { best } = fewestCoinTable(summary, unit, total);
  for (let a = Math.ceil(priceFen / unit); a < best.length; a++) if (best[a] !== NO_COIN_SET) return a * unit;
  return undefined;
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

  /** The coins in the float now (a copy), for a terminal that keeps its float in a file. */
  list(): Coin[] {
    return [...this.coins];
  }

  /** Removes and returns coins adding up to exactly amountFen, or undefined (float unchanged). */
  take(amountFen: number): Coin[] | undefined {
    const picked = selectExactCoins(this.coins, amountFen);
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
