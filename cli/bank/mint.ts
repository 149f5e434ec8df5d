/** @module `drmb bank mint`: the central bank mints coins for an amount and moves them to a commercial bank's vault. */
import type { Command as Cli } from 'commander';
import { mintCoins, splitAmount, STANDARD_DENOMINATIONS_FEN } from '../../bank/mint.js';
import { bankOwner, CENTRAL_BANK } from '../../bank/registry.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { emit, UsageError } from '../output.js';
import { confirm } from '../terminal-prompt.js';
import { keyDirOf, positiveFenOf, withAmount } from '../options.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from './registry-options.js';

/** The command, as the role table names it. */
const MINT_COMMAND = 'drmb bank mint';

export interface MintOptions extends RegistryOptions {
  amount: string;
  /** confirmed without asking */
  yes?: boolean;
  toBank?: string;
  expiry?: string;
}

/** Mints after checking the options; `confirmMint`, when given, is asked (and may refuse) before any coin is made. */
export async function runMint(o: MintOptions, confirmMint?: (amountFen: number, coins: number, to: string) => Promise<void>): Promise<{ coins: number; amountFen: number; owner: string; denominations: number[] }> {
  const amountFen = positiveFenOf(o.amount);
  // Coins come in the standard denominations only (bank/mint.ts): 1.00 yuan is the smallest.
  if (amountFen % 100 !== 0) throw new UsageError(`--amount must be whole yuan: coins are minted in the standard denominations (${STANDARD_DENOMINATIONS_FEN.map((d) => d / 100).join(', ')} yuan)`);
  if (o.toBank !== undefined && !/^\d{12}$/.test(o.toBank)) throw new UsageError('--to-bank must be a 12-digit bank code');
  if (o.expiry !== undefined && !/^\d{8}$/.test(o.expiry)) throw new UsageError('--expiry must be a date YYYYMMDD');
  const keys = RoleKeys.open(keyDirOf(o), MINT_COMMAND);
  const signing = keys.key('coin-signing');
  const mintMaster = keys.key('mint-master').secret.master;
  const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const expiry = o.expiry ?? `${Number(today.slice(0, 4)) + 10}${today.slice(4)}`;
  if (expiry < today) throw new UsageError(`--expiry ${expiry} is before today (${today})`);
  const denominations = splitAmount(amountFen);
  await confirmMint?.(amountFen, denominations.length, o.toBank ? `the vault of bank ${o.toBank}` : 'the central bank');
  const coins = mintCoins({ signingKey: { privateKey: signing.secret.privateKey, keyIndex: signing.keyIndex }, mintMaster, issueDate: today, expiryDate: expiry }, denominations);
  const registry = await openRegistry(o, MINT_COMMAND, { settles: true });
  try {
    await registry.recordMint(coins);
    const owner = o.toBank ? bankOwner(o.toBank) : CENTRAL_BANK;
    if (o.toBank) await registry.transfer(coins.map((c) => c.body.serial), CENTRAL_BANK, owner);
    return { coins: coins.length, amountFen, owner, denominations };
  } finally {
    await registry.close();
  }
}

export function registerMint(bank: Cli): void {
  addRegistryOptions(
    withAmount(bank.command('mint').description('mint coins for an amount (standard denominations), record them, and move them to a bank vault'), 'amount to mint')
      .option('--to-bank <code>', '12-digit code of the commercial bank whose vault receives the coins')
      .option('--expiry <YYYYMMDD>', 'coin expiry (default: ten years)')
      .option('--yes', 'mint without asking for a confirmation (needed without a terminal)'),
  ).action(async (o: MintOptions) => {
    const ask = (fen: number, coins: number, to: string) => confirm(o.yes, `Mint ${(fen / 100).toFixed(2)} yuan in ${coins} coins for ${to}?`, `minting ${(fen / 100).toFixed(2)} yuan`);
    emit(await runMint(o, ask), !!o.json, (r) => `minted ${r.coins} coins, ${(r.amountFen / 100).toFixed(2)} yuan, now owned by ${r.owner}`);
  });
}
