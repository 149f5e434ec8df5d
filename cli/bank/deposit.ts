/**
 * @module `drmb bank deposit`: the payee's bank settles the packets of a POS upload queue with the
 * registry (verify, owner change, double-spend detection) and marks them uploaded.
 */
import type { Command as Cli } from 'commander';
import { hex } from '../../applet-spec/codec/hex.js';
import { bankOwner, DoubleSpendError, RegistryError } from '../../bank/registry.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { emit, UsageError } from '../output.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from './registry-options.js';

export interface DepositOptions extends RegistryOptions {
  queue: string;
  payee: string;
  bankCode: string;
}

export interface DepositLine {
  cardId: string;
  counter: number;
  amountFen: number;
  result: 'settled' | 'already-settled' | 'rejected' | 'double-spend';
  reason?: string;
  packetHash?: string;
}

export async function runDeposit(o: DepositOptions): Promise<{ lines: DepositLine[]; settledFen: number; blacklist: string[] }> {
  if (!/^\d{12}$/.test(o.bankCode)) throw new UsageError('--bank-code must be 12 digits');
  const queue = new UploadQueue(o.queue);
  const registry = await openRegistry(o);
  const lines: DepositLine[] = [];
  try {
    for (const p of queue.pending().filter((x) => x.type === 'PURCHASE')) {
      const base = { cardId: p.cardId, counter: p.counter, amountFen: p.amountFen };
      try {
        const s = await registry.settle(p.packet, { payeeIdentity: o.payee, payeeOwner: bankOwner(o.bankCode) });
        lines.push({ ...base, result: s.replayed ? 'already-settled' : 'settled', packetHash: hex(s.packetHash) });
        queue.markUploaded(p.cardId, p.counter);
      } catch (e) {
        if (e instanceof DoubleSpendError) {
          lines.push({ ...base, result: 'double-spend', reason: e.message });
          queue.markUploaded(p.cardId, p.counter);
        } else if (e instanceof RegistryError) {
          lines.push({ ...base, result: 'rejected', reason: e.message });
        } else throw e;
      }
    }
    return { lines, settledFen: lines.filter((l) => l.result === 'settled').reduce((s, l) => s + l.amountFen, 0), blacklist: await registry.blacklist() };
  } finally {
    await registry.close();
  }
}

export function registerDeposit(bank: Cli): void {
  addRegistryOptions(
    bank
      .command('deposit')
      .description("settle a POS terminal's queued packets for the merchant: verify, change owner, catch double spending")
      .requiredOption('--queue <file>', 'POS upload queue file')
      .requiredOption('--payee <identity>', "the merchant's SM9 identity the packets are made out to")
      .requiredOption('--bank-code <code>', "12-digit code of the merchant's bank (new owner)"),
  ).action(async (o: DepositOptions) => {
    const r = await runDeposit(o);
    emit(r, !!o.json, (x) =>
      [
        ...x.lines.map((l) => `${l.cardId} #${l.counter} ${(l.amountFen / 100).toFixed(2)} ${l.result}${l.reason ? `: ${l.reason}` : ''}`),
        `settled ${(x.settledFen / 100).toFixed(2)} yuan; blacklist: ${x.blacklist.join(', ') || '(empty)'}`,
      ].join('\n'),
    );
  });
}
