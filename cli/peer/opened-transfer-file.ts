/**
 * @module The file `drmb peer open` writes and `drmb bank deposit --opened` reads: a transfer as its
 * payee opened it (settlement body and withdrawal seal), tied to the packet by its SM3 hash. It holds
 * the withdrawal code, so it is written for its owner only (mode 0600) and atomically.
 */
import { readFileSync } from 'node:fs';
import { fromHex, hex } from '../../base/hex.js';
import type { WithdrawalSeal } from '../../applet-spec/value-formats.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { OpenedTransfer } from '../../host/open-transfer.js';
import { UsageError } from '../output.js';

const FORMAT = 'drmb-opened-transfer';
const VERSION = 1;

interface OpenedTransferJson {
  format: typeof FORMAT;
  version: number;
  packetHash: string;
  payeeIdentity: string;
  amountFen: number;
  settlementBody: string;
  withdrawalCode: string;
  salt: string;
}

/** Writes the opened transfer of the packet with this hash. */
export function writeOpenedTransfer(path: string, packetHash: Uint8Array, opened: OpenedTransfer): void {
  const json: OpenedTransferJson = {
    format: FORMAT,
    version: VERSION,
    packetHash: hex(packetHash),
    payeeIdentity: opened.payeeIdentity,
    amountFen: opened.amountFen,
    settlementBody: hex(opened.settlementBody),
    withdrawalCode: opened.withdrawal.code,
    salt: hex(opened.withdrawal.salt),
  };
  writeFileAtomic(path, `${JSON.stringify(json, null, 1)}\n`);
}

/** Reads a file of writeOpenedTransfer, strictly; UsageError naming --opened otherwise. */
export function readOpenedTransfer(path: string): { packetHash: string; settlementBody: Uint8Array; withdrawal: WithdrawalSeal } {
  let j: Partial<OpenedTransferJson>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as Partial<OpenedTransferJson>;
  } catch (e) {
    throw new UsageError(`--opened: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
  const ok =
    j.format === FORMAT &&
    j.version === VERSION &&
    typeof j.packetHash === 'string' && /^[0-9A-F]{64}$/i.test(j.packetHash) &&
    typeof j.settlementBody === 'string' && /^([0-9A-F]{2})+$/i.test(j.settlementBody) &&
    typeof j.withdrawalCode === 'string' && /^\d{16}$/.test(j.withdrawalCode) &&
    typeof j.salt === 'string' && /^[0-9A-F]{32}$/i.test(j.salt);
  if (!ok) throw new UsageError(`--opened: ${path} is not a transfer opened by drmb peer open`);
  return { packetHash: j.packetHash!.toUpperCase(), settlementBody: fromHex(j.settlementBody!), withdrawal: { code: j.withdrawalCode!, salt: fromHex(j.salt!) } };
}
