/**
 * @module `drmb peer confirmations`: the payer or the payee fetches from the payee's bank the
 * confirmations of an online payment by its packet (its SM3 hash), and with the trust anchors checks the
 * central bank's signature on each of the central bank's.
 */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { exportPacketCoder } from '../../applet-spec/value-formats.js';
import { fetchConfirmations } from '../../bank/online-bank-client.js';
import { centralConfirmationVerifies, type Confirmation } from '../../bank/online-confirmation.js';
import { CENTRAL_BANK } from '../../bank/registry.js';
import { sm3 } from '../../crypto/sm3.js';
import { readTrustAnchors, type TrustAnchors } from '../../keys/trust-anchors.js';
import { withJson } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface PeerConfirmationsOptions {
  bank: string;
  packet: string;
  as?: string;
  trustAnchors?: string;
  json?: boolean;
}

export interface PeerConfirmationsReport {
  packetHash: string;
  /** 'payer:<card ID>' or 'payee:<identity>' when --as names a side */
  to?: string;
  /** each with, for the central bank's, whether its signature verified (undefined without --trust-anchors) */
  confirmations: (Confirmation & { verified?: boolean })[];
}

export async function runPeerConfirmations(o: PeerConfirmationsOptions): Promise<PeerConfirmationsReport> {
  let packet: Uint8Array;
  let header;
  try {
    packet = new Uint8Array(readFileSync(o.packet));
    header = exportPacketCoder.decode(packet).header;
  } catch (e) {
    throw new UsageError(`--packet: ${o.packet} is not a readable export packet (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (o.as !== undefined && o.as !== 'payer' && o.as !== 'payee') throw new UsageError('--as must be payer or payee');
  let anchors: TrustAnchors | undefined;
  if (o.trustAnchors) {
    try {
      anchors = readTrustAnchors(o.trustAnchors);
    } catch (e) {
      throw new UsageError(`--trust-anchors: ${(e as Error).message}`);
    }
  }
  const packetHash = hex(sm3(packet));
  const to = o.as === 'payer' ? `payer:${header.payerCardId}` : o.as === 'payee' ? `payee:${header.payeeIdentity}` : undefined;
  const found = await fetchConfirmations(o.bank, packetHash, to);
  return {
    packetHash,
    ...(to ? { to } : {}),
    confirmations: found.map((c) => (anchors && c.from === CENTRAL_BANK ? { ...c, verified: centralConfirmationVerifies(c, anchors) } : c)),
  };
}

export function registerPeerConfirmations(peer: Cli): void {
  withJson(
    peer
      .command('confirmations')
      .description("fetch the confirmations of an online payment from the payee's bank (drmb bank serve), by its packet")
      .requiredOption('--bank <url>', "the payee bank's service")
      .requiredOption('--packet <file>', 'the packet drmb peer pay wrote')
      .option('--as <side>', 'payer or payee: only the confirmations to that side')
      .option('--trust-anchors <file>', "trust-anchors.json: check the central bank's signature"),
  ).action(async (o: PeerConfirmationsOptions) => {
    emit(await runPeerConfirmations(o), !!o.json, (r) =>
      r.confirmations.length === 0
        ? `no confirmation for packet ${r.packetHash}${r.to ? ` to ${r.to}` : ''}`
        : r.confirmations
            .map((c) => `${c.time} ${c.from} -> ${c.to}: ${c.outcome}${c.reason ? ` (${c.reason})` : ''}, ${c.detail}${c.verified === undefined ? '' : c.verified ? ' [signature verified]' : ' [SIGNATURE DOES NOT VERIFY]'}`)
            .join('\n'),
    );
  });
}
