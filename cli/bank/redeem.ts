/** @module `drmb bank redeem`: a payee without a bank account redeems a peer payment with its withdrawal code. */
import type { Command as Cli } from 'commander';
import { bankOwner } from '../../bank/registry.js';
import { bankCodeOf, withBankCode } from '../options.js';
import { emit, UsageError } from '../output.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from './registry-options.js';

export interface RedeemOptions extends RegistryOptions {
  code: string;
  bankCode: string;
}

/** Moves the coins waiting under a withdrawal code to the bank vault that pays the payee out. */
export async function runRedeem(o: RedeemOptions): Promise<{ amountFen: number; coins: number; owner: string }> {
  if (!/^\d{16}$/.test(o.code)) throw new UsageError('--code must be 16 digits');
  bankCodeOf(o.bankCode);
  const registry = await openRegistry(o, 'drmb bank redeem', { settles: false });
  try {
    const owner = bankOwner(o.bankCode);
    const r = await registry.redeem(o.code, owner);
    return { amountFen: r.amountFen, coins: r.serials.length, owner };
  } finally {
    await registry.close();
  }
}

export function registerRedeem(bank: Cli): void {
  addRegistryOptions(
    withBankCode(
      bank
        .command('redeem')
        .description('pay out coins waiting under a withdrawal code (payee without a bank account) through a bank')
        .requiredOption('--code <digits>', 'the 16-digit withdrawal code the payer gave'),
      'the bank that pays out',
      true,
    ),
  ).action(async (o: RedeemOptions) => {
    emit(await runRedeem(o), !!o.json, (r) => `${(r.amountFen / 100).toFixed(2)} yuan in ${r.coins} coins redeemed to ${r.owner}`);
  });
}
