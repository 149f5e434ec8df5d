/**
 * @module `drmb pos float`: the merchant's bank gives a POS terminal its change float, coins of its
 * vault adding up to exactly an amount, written to a float file that `drmb pos pay --float` pays change
 * from and writes back.
 *
 * The design, kept simple and stated plainly: the float's coins stay the merchant bank's in the
 * registry (bank:<code>) until the terminal pays them into a card; `drmb bank deposit --queue` then
 * settles each CHANGE packet from that bank to the card on the card's receipt (bank/registry.ts
 * settle, payerOwner). The registry does not set the float's coins aside: the bank must not pay them
 * out again (by `drmb bank withdraw` or a second float); if it does, the registry refuses the second
 * spend at settlement as a double spend. A float file holds coins, which are value: mode 0600.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { OperationalError } from '../../base/operational-error.js';
import { fromHex, hex } from '../../base/hex.js';
import { type Coin, coinCoder } from '../../applet-spec/value-formats.js';
import { bankOwner } from '../../bank/registry.js';
import { selectExactCoins } from '../../coins/select-exact-coins.js';
import { whyNotWritable, writeFileAtomic } from '../../io/atomic-file.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from '../bank/registry-options.js';
import { yuan } from '../card/connect.js';
import { bankCodeOf, positiveFenOf, withAmount, withBankCode } from '../options.js';
import { emit, UsageError } from '../output.js';

const FORMAT = 'drmb-pos-float';
/** The command, as the role table names it: the merchant bank's vault runs it. */
const FLOAT_COMMAND = 'drmb pos float';

/** A float file: the bank whose coins they are, and the coins (coinCoder bytes, hex). */
interface FloatFile {
  format: typeof FORMAT;
  bankCode: string;
  coins: string[];
}

/** A terminal's change float as read from its file. */
export interface PosFloat {
  bankCode: string;
  coins: Coin[];
}

/** Reads a float file; UsageError naming `option` when it is not one. */
export function readFloatFile(path: string, option = '--float'): PosFloat {
  let j: Partial<FloatFile>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as Partial<FloatFile>;
  } catch (e) {
    throw new UsageError(`${option}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
  if (j.format !== FORMAT || typeof j.bankCode !== 'string' || !Array.isArray(j.coins)) throw new UsageError(`${option}: ${path} is not a float file written by drmb pos float`);
  try {
    return { bankCode: j.bankCode, coins: j.coins.map((c) => coinCoder.decode(fromHex(c), 'float coin')) };
  } catch (e) {
    throw new UsageError(`${option}: ${path} holds a coin that does not decode (${(e as Error).message})`);
  }
}

/** Writes a float file atomically, mode 0600. */
export function writeFloatFile(path: string, float: PosFloat): void {
  const file: FloatFile = { format: FORMAT, bankCode: float.bankCode, coins: float.coins.map((c) => hex(coinCoder.encode(c))) };
  writeFileAtomic(path, `${JSON.stringify(file, null, 1)}\n`);
}

export interface PosFloatOptions extends RegistryOptions {
  amount: string;
  bankCode: string;
  out: string;
}

/** Takes coins adding up to exactly --amount from the bank's vault in the registry and writes them to a new float file. */
export async function runPosFloat(o: PosFloatOptions): Promise<{ out: string; bankCode: string; amountFen: number; denominations: number[] }> {
  const amountFen = positiveFenOf(o.amount);
  bankCodeOf(o.bankCode);
  if (existsSync(o.out)) throw new UsageError(`--out: ${o.out} exists (it may be a terminal's float in use); name a new file`);
  const unwritable = whyNotWritable(o.out);
  if (unwritable) throw new UsageError(`--out: ${unwritable}`);
  const registry = await openRegistry(o, FLOAT_COMMAND, { settles: false });
  try {
    const vault = await registry.coinsOf(bankOwner(o.bankCode));
    const coins = selectExactCoins(vault, amountFen);
    if (!coins) {
      const held = vault.reduce((s, c) => s + c.body.denominationFen, 0);
      throw new OperationalError(`the vault of bank ${o.bankCode} has no coins adding up to exactly ${yuan(amountFen)} yuan (it holds ${yuan(held)} in ${vault.length} coins): mint some with drmb bank mint --to-bank ${o.bankCode}`);
    }
    writeFloatFile(o.out, { bankCode: o.bankCode, coins });
    return { out: o.out, bankCode: o.bankCode, amountFen, denominations: coins.map((c) => c.body.denominationFen) };
  } finally {
    await registry.close();
  }
}

export function registerPosFloat(pos: Cli): void {
  const cmd = withAmount(pos.command('float').description("the merchant's bank gives a POS terminal a change float: coins of its vault adding up to exactly the amount, in a new float file for drmb pos pay --float"), 'float');
  withBankCode(cmd, 'the merchant bank whose vault gives the coins', true).requiredOption('--out <file>', 'new float file (mode 0600)');
  addRegistryOptions(cmd).action(async (o: PosFloatOptions) => {
    emit(await runPosFloat(o), !!o.json, (r) => `float of ${yuan(r.amountFen)} yuan from bank ${r.bankCode} in ${r.out}: ${r.denominations.map((d) => yuan(d)).join(' + ')}`);
  });
}
