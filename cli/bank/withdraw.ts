/** @module `drmb bank withdraw`: loads coins from a bank vault onto a card; the registry records the card as owner after the TAC. */
import type { Command as Cli } from 'commander';
import { withdraw } from '../../bank/withdraw.js';
import { hex } from '../../applet-spec/codec/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { loadKey } from '../../personalization/key-files.js';
import { openPersoCard } from '../perso/perso-options.js';
import { emit, UsageError } from '../output.js';
import { addRegistryOptions, fenOf, openRegistry, type RegistryOptions } from './registry-options.js';

export interface WithdrawCliOptions extends RegistryOptions {
  amount: string;
  bankCode: string;
  reader?: string;
  sim?: string;
  terminalId: string;
  trace?: boolean;
}

export async function runWithdraw(o: WithdrawCliOptions) {
  const amountFen = fenOf(o.amount, '--amount');
  if (!/^\d{12}$/.test(o.bankCode)) throw new UsageError('--bank-code must be 12 digits');
  if (!/^[0-9a-fA-F]{12}$/.test(o.terminalId)) throw new UsageError('--terminal-id must be 12 hex digits (6 bytes)');
  const cbMaster = loadKey('cb-master', { dir: o.keys });
  const registry = await openRegistry(o);
  const card = await openPersoCard(o);
  try {
    const now = new Date().toISOString();
    const r = await card.transport.lease((t) =>
      withdraw(new DrmbCard(t), registry, {
        bankCode: o.bankCode,
        amountFen,
        cbMaster,
        terminalId: Uint8Array.from(Buffer.from(o.terminalId, 'hex')),
        date: now.slice(0, 10).replace(/-/g, ''),
        time: now.slice(11, 19).replace(/:/g, ''),
      }),
    );
    return { cardId: r.cardId, counter: r.counter, amountFen: r.amountFen, tac: hex(r.tac), coins: r.serials.length };
  } finally {
    await card.finish();
    await registry.close();
  }
}

export function registerWithdraw(bank: Cli): void {
  addRegistryOptions(
    bank
      .command('withdraw')
      .description("load coins from the bank's vault onto a card (INITIALIZE FOR LOAD / CREDIT FOR LOAD, TAC checked)")
      .requiredOption('--amount <yuan>', 'amount, e.g. 100.00')
      .requiredOption('--bank-code <code>', '12-digit bank code (its vault pays)')
      .option('--terminal-id <hex>', 'terminal ID of the bank counter, 6 bytes', '100000000001')
      .option('--reader <name|index>', 'reader name fragment or index')
      .option('--sim <image>', 'simulated card image (saved back)')
      .option('--trace', 'trace every APDU on stderr (PINs and keys redacted)'),
  ).action(async (o: WithdrawCliOptions) => {
    emit(await runWithdraw(o), !!o.json, (r) => `card ${r.cardId}: ${(r.amountFen / 100).toFixed(2)} yuan loaded in ${r.coins} coins (counter ${r.counter}, TAC ${r.tac})`);
  });
}
