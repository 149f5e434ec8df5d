/**
 * @module `drmb peer open`: the payee's own terminal opens a transfer packet with the payee's SM9 key,
 * checks the withdrawal code against the commitment the payer signed, and writes what the payee brings
 * to the bank counter (`drmb bank deposit --opened`, then `drmb bank redeem --code`). The bank never
 * needs the payee's key.
 */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { NO_WITHDRAWAL_CODE } from '../../applet-spec/value-formats.js';
import { sm3 } from '../../crypto/sm3.js';
import { openTransfer, OpenTransferError } from '../../host/open-transfer.js';
import { readUserKey } from '../keys/user-key.js';
import { withJson } from '../options.js';
import { emit, UsageError } from '../output.js';
import { writeOpenedTransfer } from './opened-transfer-file.js';

export interface PeerOpenOptions {
  packet: string;
  payeeKey: string;
  out: string;
  json?: boolean;
}

export interface PeerOpenReport {
  payeeIdentity: string;
  amountFen: number;
  /** the code is shown to the payee, who alone can read it; '' when the payer gave none */
  withdrawalCode: string;
  packetHash: string;
  openedFile: string;
}

export function runPeerOpen(o: PeerOpenOptions): PeerOpenReport {
  let packet: Uint8Array;
  try {
    packet = new Uint8Array(readFileSync(o.packet));
  } catch {
    throw new UsageError(`--packet: cannot read ${o.packet}`);
  }
  const key = readUserKey(o.payeeKey, '--payee-key');
  let opened;
  try {
    opened = openTransfer(packet, key.privateKey);
  } catch (e) {
    if (e instanceof OpenTransferError) throw new UsageError(`--packet: ${e.message}`);
    throw e;
  } finally {
    key.privateKey.fill(0);
  }
  if (opened.payeeIdentity !== key.identity) throw new UsageError(`--payee-key: the key is for '${key.identity}', the packet pays '${opened.payeeIdentity}'`);
  const packetHash = sm3(packet);
  try {
    writeOpenedTransfer(o.out, packetHash, opened);
  } catch (e) {
    throw new UsageError(`--out: cannot write ${o.out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return {
    payeeIdentity: opened.payeeIdentity,
    amountFen: opened.amountFen,
    withdrawalCode: opened.withdrawal.code === NO_WITHDRAWAL_CODE ? '' : opened.withdrawal.code,
    packetHash: hex(packetHash),
    openedFile: o.out,
  };
}

export function registerPeerOpen(peer: Cli): void {
  withJson(
    peer
      .command('open')
      .description("payee terminal: open a transfer packet with the payee's own SM9 key; writes what the bank settles it with")
      .requiredOption('--packet <file>', 'the packet the payer sent')
      .requiredOption('--payee-key <file>', "the payee's SM9 encryption key file (drmb keys user-key)")
      .requiredOption('--out <file>', 'where to write the opened packet for drmb bank deposit --opened (mode 0600: it holds the withdrawal code)'),
  ).action((o: PeerOpenOptions) => {
    emit(runPeerOpen(o), !!o.json, (r) =>
      [`${(r.amountFen / 100).toFixed(2)} yuan to '${r.payeeIdentity}'; opened packet in ${r.openedFile}`, r.withdrawalCode ? `withdrawal code: ${r.withdrawalCode}` : 'no withdrawal code: deposit it to an account with --bank-code'].join('\n'),
    );
  });
}
