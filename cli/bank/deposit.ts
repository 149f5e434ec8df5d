/**
 * @module `drmb bank deposit`: the payee's bank settles the packets of a POS upload queue with the
 * registry (verify, owner change, double-spend detection) and marks them uploaded.
 */
import type { Command as Cli } from 'commander';
import { hex } from '../../applet-spec/codec/hex.js';
import { readFileSync } from 'node:fs';
import { exportPacketCoder } from '../../applet-spec/value-formats.js';
import { bankOwner, cardOwner, DoubleSpendError, RegistryError } from '../../bank/registry.js';
import { sm9ExtractEncryptKey } from '../../crypto/sm9/sm9.js';
import { loadKey } from '../../personalization/key-files.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { emit, UsageError } from '../output.js';
import { addRegistryOptions, openRegistry, type RegistryOptions } from './registry-options.js';

export interface DepositOptions extends RegistryOptions {
  queue: string;
  payee: string;
  bankCode: string;
}

export interface PacketDepositOptions extends RegistryOptions {
  packet: string;
  /** the payee holds a card: the coins are recorded as the card's */
  toCard?: string;
  /** the payee's bank account (vault) */
  bankCode?: string;
}

/**
 * Settles one peer-payment packet from a file. The central bank opens the SM9-encrypted body with the
 * payee's key extracted by its KGC. New owner: the payee's card (--to-card), a bank vault (--bank-code),
 * or, with neither, the packet's withdrawal code (redeemed later with `drmb bank redeem`).
 */
export async function runPacketDeposit(o: PacketDepositOptions): Promise<{ cardId: string; counter: number; amountFen: number; owner: string; replayed: boolean; packetHash: string }> {
  let packet: Uint8Array;
  try {
    packet = new Uint8Array(readFileSync(o.packet));
  } catch {
    throw new UsageError(`--packet: cannot read ${o.packet}`);
  }
  if (o.toCard !== undefined && !/^\d{20}$/.test(o.toCard)) throw new UsageError('--to-card must be a 20-digit card ID');
  if (o.bankCode !== undefined && !/^\d{12}$/.test(o.bankCode)) throw new UsageError('--bank-code must be 12 digits');
  let header;
  try {
    header = exportPacketCoder.decode(packet).header;
  } catch (e) {
    throw new UsageError(`--packet: ${o.packet} is not an export packet (${(e as Error).message})`);
  }
  const kgc = loadKey('kgc-encrypt', { dir: o.keys });
  const payeeDecryptionKey = header.type === 'TRANSFER' ? sm9ExtractEncryptKey(kgc.secret.privateKey, new TextEncoder().encode(header.payeeIdentity)) : undefined;
  const owner = o.toCard ? cardOwner(o.toCard) : o.bankCode ? bankOwner(o.bankCode) : undefined;
  const registry = await openRegistry(o);
  try {
    const s = await registry.settle(packet, { payeeIdentity: header.payeeIdentity, payeeOwner: owner, payeeDecryptionKey });
    return { cardId: s.payerCardId, counter: s.payerCounter, amountFen: s.amountFen, owner: s.payeeOwner, replayed: s.replayed, packetHash: hex(s.packetHash) };
  } finally {
    payeeDecryptionKey?.fill(0);
    await registry.close();
  }
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
      .description("settle payments in the registry: a POS terminal's queue (--queue) or one peer-payment packet (--packet); verify, change owner, catch double spending")
      .option('--queue <file>', 'POS upload queue file')
      .option('--payee <identity>', "with --queue: the merchant's SM9 identity the packets are made out to")
      .option('--packet <file>', 'a peer-payment packet written by drmb peer pay')
      .option('--to-card <card ID>', "with --packet: the payee's card becomes the owner")
      .option('--bank-code <code>', "12-digit code of the payee's bank (new owner); with --packet and no --to-card/--bank-code, the withdrawal code owns the coins"),
  ).action(async (o: DepositOptions & PacketDepositOptions) => {
    if (o.packet !== undefined) {
      if (o.queue !== undefined) throw new UsageError('--packet and --queue exclude each other');
      const r = await runPacketDeposit(o);
      emit(r, !!o.json, (x) => `${(x.amountFen / 100).toFixed(2)} yuan from card ${x.cardId} (counter ${x.counter}) ${x.replayed ? 'was already settled to' : 'now owned by'} ${x.owner}`);
      return;
    }
    if (o.queue === undefined || o.payee === undefined || o.bankCode === undefined) throw new UsageError('--queue, --payee and --bank-code are needed (or --packet)');
    const r = await runDeposit(o);
    emit(r, !!o.json, (x) =>
      [
        ...x.lines.map((l) => `${l.cardId} #${l.counter} ${(l.amountFen / 100).toFixed(2)} ${l.result}${l.reason ? `: ${l.reason}` : ''}`),
        `settled ${(x.settledFen / 100).toFixed(2)} yuan; blacklist: ${x.blacklist.join(', ') || '(empty)'}`,
      ].join('\n'),
    );
  });
}
