/**
 * @module `drmb peer pay`: an offline payment between two cards held side by side (two readers, or two
 * simulated card images): the payee card gives its identity and a nonce, the payer card exports the
 * coins SM9-signed and SM9-encrypted to that identity with a withdrawal code, the payee card imports
 * them and signs a receipt. The packet is written to a file for the payee's bank (`drmb bank deposit --packet`).
 */
import { writeFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { hex } from '../../applet-spec/codec/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { openPersoCard, readPinFile } from '../perso/perso-options.js';
import { emit, UsageError } from '../output.js';
import { fenOf } from '../bank/registry-options.js';

export interface PeerPayOptions {
  amount: string;
  fromReader?: string;
  fromSim?: string;
  toReader?: string;
  toSim?: string;
  code?: string;
  pinFile?: string;
  packetOut: string;
  trace?: boolean;
  json?: boolean;
}

export interface PeerPayReport {
  payerCardId: string;
  payeeCardId: string;
  payeeIdentity: string;
  amountFen: number;
  payerCounter: number;
  withdrawalCode: string;
  packetFile: string;
  packetHash: string;
}

export async function runPeerPay(o: PeerPayOptions): Promise<PeerPayReport> {
  const amountFen = fenOf(o.amount, '--amount');
  const code = o.code ?? '0'.repeat(16);
  if (!/^\d{16}$/.test(code)) throw new UsageError('--code must be 16 digits (the withdrawal code the payee needs without a bank account)');
  if (!o.fromReader && !o.fromSim) throw new UsageError('--from-reader or --from-sim names the payer card');
  if (!o.toReader && !o.toSim) throw new UsageError('--to-reader or --to-sim names the payee card');
  const pin = o.pinFile ? readPinFile(o.pinFile) : undefined;
  const payer = await openPersoCard({ reader: o.fromReader, sim: o.fromSim, trace: o.trace });
  try {
    const payee = await openPersoCard({ reader: o.toReader, sim: o.toSim, trace: o.trace });
    try {
      return await payee.transport.lease((pt) =>
        payer.transport.lease(async (at) => {
          const to = new DrmbCard(pt);
          const from = new DrmbCard(at);
          const payeeInfo = await to.select();
          const ready = await to.prepareReceive();
          const payerInfo = await from.select();
          if (pin) await from.verifyPin(pin);
          const now = new Date().toISOString();
          const t = await from.transfer(amountFen, ready.payeeIdentity, ready.nonce, code, { date: now.slice(0, 10).replace(/-/g, ''), time: now.slice(11, 19).replace(/:/g, '') });
          // The packet is written before the import: whatever happens next, the payee's bank holds it.
          writeFileSync(o.packetOut, t.packetBytes, { mode: 0o600 });
          const { receipt } = await to.importPacket(t.packetBytes);
          return {
            payerCardId: payerInfo.cardId!,
            payeeCardId: payeeInfo.cardId!,
            payeeIdentity: ready.payeeIdentity,
            amountFen: receipt.body.amountFen,
            payerCounter: t.counter,
            withdrawalCode: code,
            packetFile: o.packetOut,
            packetHash: hex(receipt.body.packetHash),
          };
        }),
      );
    } finally {
      await payee.finish();
    }
  } finally {
    await payer.finish();
  }
}

export function registerPeerPay(peer: Cli): void {
  peer
    .command('pay')
    .description('offline payment from one card to another (signed, encrypted coin export; the payee card imports and signs a receipt)')
    .requiredOption('--amount <yuan>', 'amount, e.g. 50.00')
    .option('--from-reader <name|index>', 'reader holding the payer card')
    .option('--from-sim <image>', 'payer: simulated card image (saved back)')
    .option('--to-reader <name|index>', 'reader holding the payee card')
    .option('--to-sim <image>', 'payee: simulated card image (saved back)')
    .option('--code <digits>', 'withdrawal code, 16 digits, for a payee without a bank account')
    .option('--pin-file <file>', "payer's PIN, for amounts above the card's PIN threshold")
    .requiredOption('--packet-out <file>', 'where to write the packet for the payee\'s bank (mode 0600)')
    .option('--trace', 'trace every APDU on stderr (PINs and keys redacted)')
    .option('--json', 'machine-readable output')
    .action(async (o: PeerPayOptions) => {
      emit(await runPeerPay(o), !!o.json, (r) => `${(r.amountFen / 100).toFixed(2)} yuan from ${r.payerCardId} to ${r.payeeCardId} (${r.payeeIdentity}); packet ${r.packetHash} in ${r.packetFile}`);
    });
  peer.exitOverride();
  peer.commands.forEach((c) => c.exitOverride());
}
