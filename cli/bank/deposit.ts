/**
 * @module `drmb bank deposit`: a bank settles payments with the registry (verify, owner change, double-
 * spend detection): the PURCHASE and CHANGE packets of a POS upload queue, or one peer-payment packet
 * with the payee's evidence (bank/README.md says which evidence proves what). It exits non-zero when
 * any packet is refused or is a double spend, naming each; packets waiting on another deposit stay in
 * the registry's retry queue and settle by themselves when it comes in.
 */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { EXIT } from '../../base/exit-codes.js';
import { hex } from '../../base/hex.js';
import { sm3 } from '../../crypto/sm3.js';
import { exportPacketCoder, type WithdrawalSeal } from '../../applet-spec/value-formats.js';
import { bankOwner, CustodyPendingError, DoubleSpendError, type Registry, RegistryError, type SettleOptions } from '../../bank/registry.js';
import { bankCodeOf, openUploadQueue, withBankCode } from '../options.js';
import { emit, UsageError } from '../output.js';
import { readOpenedTransfer } from '../peer/opened-transfer-file.js';
import { addRegistryOptions, openBankLedger, type RegistryOptions, withCentral } from './registry-options.js';

/** The command, as the role table names it: settlement checks each coin's m with the mint master. */
const DEPOSIT_COMMAND = 'drmb bank deposit';
/** A commercial bank depositing through the registry service, as the role table names it. */
const DEPOSIT_CENTRAL_COMMAND = 'drmb bank deposit --central';

export interface DepositOptions extends RegistryOptions {
  queue: string;
  payee: string;
  bankCode: string;
}

export interface PacketDepositOptions extends RegistryOptions {
  packet: string;
  /** the payee card's IMPORT COINS response (written by `drmb peer pay` beside the packet): the card owns */
  receipt?: string;
  /** the packet as the payee opened it (`drmb peer open`): settlement body and withdrawal code */
  opened?: string;
  /** the payee's bank account (vault); with --opened and no --bank-code, the withdrawal code owns */
  bankCode?: string;
}

/** One packet's outcome. */
export interface DepositLine {
  cardId: string;
  counter: number;
  type: 'PURCHASE' | 'TRANSFER' | 'CHANGE';
  amountFen: number;
  result: 'settled' | 'already-settled' | 'pending' | 'rejected' | 'double-spend';
  owner?: string;
  reason?: string;
  packetHash?: string;
}

/** Settles one packet and turns the registry's answer into a line; errors other than the registry's propagate. */
async function settleLine(registry: Pick<Registry, 'settle'>, packet: Uint8Array, opts: SettleOptions): Promise<DepositLine> {
  const { header } = exportPacketCoder.decode(packet);
  const base = { cardId: header.payerCardId, counter: header.payerCounter, type: header.type, amountFen: header.amountFen };
  try {
    const s = await registry.settle(packet, opts);
    return { ...base, result: s.replayed ? 'already-settled' : 'settled', owner: s.payeeOwner, packetHash: hex(s.packetHash) };
  } catch (e) {
    if (e instanceof DoubleSpendError) return { ...base, result: 'double-spend', reason: e.message, owner: e.proof.payerCardId };
    if (e instanceof CustodyPendingError) return { ...base, result: 'pending', reason: e.message };
    if (e instanceof RegistryError) return { ...base, result: 'rejected', reason: e.message };
    throw e;
  }
}

function readPacketFile(path: string, option: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new UsageError(`${option}: cannot read ${path}`);
  }
}

/**
 * Settles one peer-payment packet from a file. The registry never opens an encrypted body: a TRANSFER
 * comes with the payee card's IMPORT COINS response (--receipt: the card owns the coins), or with the
 * body the payee opened on its own terminal (--opened: the withdrawal code owns them, or the payee's
 * bank account with --bank-code). A PURCHASE packet needs --bank-code.
 */
export async function runPacketDeposit(o: PacketDepositOptions): Promise<{ line: DepositLine; blacklist: string[] }> {
  const packet = readPacketFile(o.packet, '--packet');
  if (o.bankCode !== undefined) bankCodeOf(o.bankCode);
  if (o.receipt !== undefined && o.opened !== undefined) throw new UsageError('--receipt and --opened exclude each other: the payee either took the coins onto its card or opened the packet');
  let header;
  try {
    header = exportPacketCoder.decode(packet).header;
  } catch (e) {
    throw new UsageError(`--packet: ${o.packet} is not an export packet (${(e as Error).message})`);
  }
  const opts: SettleOptions = { payeeIdentity: header.payeeIdentity, ...(o.bankCode ? { payeeOwner: bankOwner(o.bankCode) } : {}) };
  if (o.receipt !== undefined) {
    opts.importResponse = readPacketFile(o.receipt, '--receipt');
  } else if (o.opened !== undefined) {
    const opened = readOpenedTransfer(o.opened);
    if (opened.packetHash !== undefined && opened.packetHash !== hex(sm3(packet))) throw new UsageError(`--opened: ${o.opened} was opened from another packet`);
    opts.settlementBody = opened.settlementBody;
    if (opened.withdrawal.code !== '0'.repeat(16)) opts.withdrawal = opened.withdrawal as WithdrawalSeal;
    else if (!o.bankCode) throw new UsageError('--bank-code is needed: the packet has no withdrawal code, so the coins go to the payee\'s account');
  } else if (header.type === 'TRANSFER') {
    throw new UsageError(`--packet: a transfer settles with the payee card's receipt (--receipt ${o.packet}.receipt, written by drmb peer pay) or the packet the payee opened (--opened, from drmb peer open)`);
  } else if (!o.bankCode) {
    throw new UsageError(`--bank-code is needed: the ${header.type} packet is settled to the payee's bank account`);
  }
  const registry = await openBankLedger(o, DEPOSIT_COMMAND, DEPOSIT_CENTRAL_COMMAND, { settles: true });
  try {
    const line = await settleLine(registry, packet, opts);
    return { line, blacklist: await registry.blacklist() };
  } finally {
    await registry.close();
  }
}

/**
 * Settles every queued PURCHASE packet (to the merchant's bank account) and every CHANGE packet with
 * the card's import response (from the merchant bank's float to the card) of a POS upload queue. A
 * packet leaves the queue once the registry has its outcome (settled, already settled, a double spend
 * with its proof, or waiting in the registry's retry queue); a refused packet stays queued.
 */
export async function runDeposit(o: DepositOptions): Promise<{ lines: DepositLine[]; settledFen: number; blacklist: string[] }> {
  bankCodeOf(o.bankCode);
  const queue = openUploadQueue(o.queue, true);
  const registry = await openBankLedger(o, DEPOSIT_COMMAND, DEPOSIT_CENTRAL_COMMAND, { settles: true });
  const lines: DepositLine[] = [];
  try {
    const vault = bankOwner(o.bankCode);
    for (const p of queue.pending()) {
      const opts: SettleOptions =
        p.type === 'CHANGE'
          ? { payeeIdentity: exportPacketCoder.decode(p.packet).header.payeeIdentity, payerOwner: vault, ...(p.receipt ? { importResponse: p.receipt } : {}) }
          : { payeeIdentity: o.payee, payeeOwner: vault };
      const line = await settleLine(registry, p.packet, opts);
      // The queue keys a CHANGE packet by the card that received it, a PURCHASE by the card that paid.
      lines.push(p.type === 'CHANGE' ? { ...line, cardId: p.cardId, counter: p.counter } : line);
      if (line.result !== 'rejected') queue.markUploaded(p.cardId, p.counter, p.type);
    }
    return { lines, settledFen: lines.filter((l) => l.result === 'settled').reduce((s, l) => s + l.amountFen, 0), blacklist: await registry.blacklist() };
  } finally {
    await registry.close();
  }
}

const yuan = (fen: number): string => (fen / 100).toFixed(2);
const lineText = (l: DepositLine): string => `${l.type} ${l.cardId} #${l.counter} ${yuan(l.amountFen)} ${l.result}${l.owner ? ` (${l.owner})` : ''}${l.reason ? `: ${l.reason}` : ''}`;

/** Refused packets and double spends make the command fail, naming each (after the report is printed); a double spend among them exits with EXIT.doubleSpend. */
function failOnRefusals(lines: DepositLine[]): void {
  const bad = lines.filter((l) => l.result === 'rejected' || l.result === 'double-spend');
  const exitCode = bad.some((l) => l.result === 'double-spend') ? EXIT.doubleSpend : EXIT.refused;
  if (bad.length) throw new RegistryError('deposit-refused', `${bad.length} of ${lines.length} packet(s) not settled: ${bad.map((l) => `${l.type} ${l.cardId} #${l.counter} ${l.result}`).join('; ')}`, { exitCode });
}

export function registerDeposit(bank: Cli): void {
  withCentral(addRegistryOptions(
    withBankCode(
      bank
        .command('deposit')
        .description("settle payments in the registry: a POS terminal's queue (--queue) or one peer-payment packet (--packet); verify, change owner, catch double spending; exits 1 when any packet is refused, 3 when a double spend is caught")
        .option('--queue <file>', 'POS upload queue file (PURCHASE packets, and CHANGE packets with the cards\' receipts)')
        .option('--payee <identity>', "with --queue: the merchant's SM9 identity the packets are made out to")
        .option('--packet <file>', 'a packet written by drmb peer pay (or one PURCHASE packet)')
        .option('--receipt <file>', "with --packet: the payee card's import response (drmb peer pay writes it as <packet>.receipt); the card becomes the owner")
        .option('--opened <file>', 'with --packet: the packet as the payee opened it (drmb peer open); its withdrawal code becomes the owner unless --bank-code'),
      "the payee's bank (the new owner; with --queue, also the bank whose float paid the change)",
    ),
  )).action(async (o: DepositOptions & PacketDepositOptions) => {
    if (o.packet !== undefined) {
      if (o.queue !== undefined) throw new UsageError('--packet and --queue exclude each other');
      const r = await runPacketDeposit(o);
      emit(r, !!o.json, (x) => lineText(x.line));
      failOnRefusals([r.line]);
      return;
    }
    if (o.receipt !== undefined || o.opened !== undefined) throw new UsageError('--receipt and --opened go with --packet');
    if (o.queue === undefined || o.payee === undefined || o.bankCode === undefined) throw new UsageError('--queue, --payee and --bank-code are needed (or --packet)');
    const r = await runDeposit(o);
    emit(r, !!o.json, (x) => [...x.lines.map(lineText), `settled ${yuan(x.settledFen)} yuan; blacklist: ${x.blacklist.join(', ') || '(empty)'}`].join('\n'));
    failOnRefusals(r.lines);
  });
}
