/**
 * @module `drmb peer receive`: the payee card imports a packet from a file, for a payment whose import
 * was refused or torn (`drmb peer pay` left the packet in its file). The card keeps the packet's receive
 * nonce until it imports it (IMPORT COINS), so the same packet goes through once the card can take it;
 * a packet already imported answers its stored response again and credits nothing. The card's
 * response is written atomically for the payee's bank (`drmb bank deposit --receipt`). With --online
 * it submits the packet to the payee's bank first (again, after `drmb peer pay --online` found the bank
 * unreachable; a bank that took it already answers the same confirmations), and the card imports only
 * once the central bank's signed confirmation of the owner change verifies.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { SW } from '../../applet-spec/status-words.js';
import { exportPacketCoder } from '../../applet-spec/value-formats.js';
import { sm3 } from '../../crypto/sm3.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError } from '../../host/errors.js';
import { whyNotWritable, writeFileAtomic } from '../../io/atomic-file.js';
import { openCard } from '../open-card.js';
import { withCardTarget, withJson, withTrace } from '../options.js';
import { emit, UsageError } from '../output.js';
import type { Confirmation } from '../../bank/online-confirmation.js';
import { confirmOnline, type OnlineOptions, onlinePlanOf, PEER_IMAGE, PeerPayError, withOnline } from './pay.js';

export interface PeerReceiveOptions extends OnlineOptions {
  packet: string;
  reader?: string;
  sim?: string;
  receiptOut?: string;
  trace?: boolean;
  json?: boolean;
}

export interface PeerReceiveReport {
  payeeCardId: string;
  payerCardId: string;
  payerCounter: number;
  amountFen: number;
  packetHash: string;
  receiptFile: string;
  /** --online: the payee bank's confirmation to the payee, and the central bank's it relays */
  online?: { bank: string; toPayee: Confirmation; central?: Confirmation };
}

export async function runPeerReceive(o: PeerReceiveOptions): Promise<PeerReceiveReport> {
  let packet: Uint8Array;
  let payerCardId: string;
  try {
    packet = new Uint8Array(readFileSync(o.packet));
    payerCardId = exportPacketCoder.decode(packet).header.payerCardId;
  } catch (e) {
    throw new UsageError(`--packet: ${o.packet} is not a readable export packet (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!o.reader && !o.sim) throw new UsageError('--reader or --sim names the payee card');
  const receiptFile = o.receiptOut ?? `${o.packet}.receipt`;
  const why = whyNotWritable(receiptFile);
  if (why) throw new UsageError(`--receipt-out: ${why}`);
  const online = onlinePlanOf(o);
  // A receipt file already there is kept: the card answers the same response again, so nothing is lost.
  const opened = await openCard(o, { image: PEER_IMAGE }).catch((e: unknown) => {
    online?.payeeKey.privateKey.fill(0);
    throw e;
  });
  try {
    return await opened.transport.lease(async (t) => {
      const card = new DrmbCard(t);
      const info = await card.select();
      // Online: the owner changes in the registry first; the card imports only on the central bank's word.
      const confirmed = online ? await confirmOnline(online, packet, info.cardId!, { paid: `card ${payerCardId} paid the packet in ${o.packet}`, packetFile: o.packet, payerId: payerCardId, close: () => {} }) : undefined;
      let imported;
      try {
        imported = await card.importPacket(packet);
      } catch (e) {
        if (e instanceof StatusWordError && e.sw === SW.INCORRECT_DATA) {
          throw new PeerPayError(`card ${info.cardId} no longer holds this packet's receive nonce (${e.message}); the payee opens it on its own terminal (drmb peer open) and deposits it (drmb bank deposit --packet ${o.packet} --opened ...)`);
        }
        throw e;
      }
      if (!existsSync(receiptFile) || hex(readFileSync(receiptFile)) !== hex(imported.responseBytes)) writeFileAtomic(receiptFile, imported.responseBytes);
      return {
        payeeCardId: info.cardId!,
        payerCardId: imported.receipt.body.payerCardId,
        payerCounter: imported.receipt.body.payerCounter,
        amountFen: imported.receipt.body.amountFen,
        packetHash: hex(sm3(packet)),
        receiptFile,
        ...(confirmed ? { online: confirmed } : {}),
      };
    });
  } finally {
    online?.payeeKey.privateKey.fill(0);
    await opened.close();
  }
}

export function registerPeerReceive(peer: Cli): void {
  const cmd = peer
    .command('receive')
    .description('the payee card imports a packet from a file (again, after a refused or torn import); writes its response for the bank')
    .requiredOption('--packet <file>', 'the packet drmb peer pay wrote');
  withCardTarget(cmd, { image: PEER_IMAGE, holder: 'payee' }).option('--receipt-out <file>', "the payee card's IMPORT COINS response (default <packet>.receipt, mode 0600)");
  withOnline(cmd, "submit the packet to the payee's bank first and import only once the central bank confirms the owner change (again after drmb peer pay --online could not reach the bank)");
  withJson(withTrace(cmd)).action(async (o: PeerReceiveOptions) => {
    emit(
      await runPeerReceive(o),
      !!o.json,
      (r) => `card ${r.payeeCardId} holds ${(r.amountFen / 100).toFixed(2)} yuan from card ${r.payerCardId} (counter ${r.payerCounter}); its receipt is in ${r.receiptFile}${r.online ? `; confirmed online by ${r.online.bank} (${r.online.toPayee.id})` : ''}`,
    );
  });
}
