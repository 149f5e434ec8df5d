/** @module `drmb bank`: mint, withdraw onto a card, deposit a POS queue, serve online payments; the registry underneath. */
import type { Command as Cli } from 'commander';
import { registerDeposit } from './deposit.js';
import { registerMint } from './mint.js';
import { registerWithdraw } from './withdraw.js';
import { registerRedeem } from './redeem.js';
import { registerRenew } from './renew.js';
import { registerBankServe } from './serve.js';

export function registerBankCommands(bank: Cli): void {
  registerMint(bank);
  registerWithdraw(bank);
  registerDeposit(bank);
  registerRedeem(bank);
  registerRenew(bank);
  registerBankServe(bank);
  bank.exitOverride();
  bank.commands.forEach((c) => c.exitOverride());
}
