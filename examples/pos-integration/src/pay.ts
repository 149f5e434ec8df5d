/**
 * @module A POS integrator's payment program, built on the published package only: it opens the
 * customer's card (a PC/SC reader, or a simulated card image) and the terminal's PSAM (a second
 * reader, or a simulated PSAM image), takes one payment with `PosTerminal` (the PSAM computes MAC1
 * and checks MAC2: the terminal holds no purchase key), checks the packet the terminal queued against
 * the receipt, and leaves the packet in the upload queue for the merchant's bank.
 *
 *   node build/pay.js --amount 17.00 (--reader NAME | --sim card.json)
 *     (--psam-reader NAME | --psam-sim psam.json) --anchors trust-anchors.json --queue queue.jsonl
 *     [--merchant IDENTITY] [--pin-file FILE]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exportPacketCoder } from 'drmb-toolchain/applet-spec';
import { sm3 } from 'drmb-toolchain/crypto';
import { atrAllowsExtendedLength, DrmbCard, directTransport, type ExclusiveTransport, hostStack, openReader, Psam } from 'drmb-toolchain/host';
import { PosTerminal, UploadQueue } from 'drmb-toolchain/host/pos';
import { readTrustAnchors } from 'drmb-toolchain/keys';

/** A card or PSAM opened under the host stack; `close` saves a simulated image back to its file. */
interface Opened {
  transport: ExclusiveTransport;
  atr: Uint8Array;
  name: string;
  close(): Promise<void>;
}

/** Opens a reader by name (exclusive: no other program talks to the card during the payment) or a simulated image. */
async function open(reader: string | undefined, image: string | undefined, psam: boolean): Promise<Opened> {
  const flag = psam ? '--psam-' : '--';
  if ((reader === undefined) === (image === undefined)) throw new Error(`give ${flag}reader NAME or ${flag}sim IMAGE`);
  if (image === undefined) {
    const t = await openReader(reader, { share: 'exclusive' });
    return { transport: t, atr: t.atr, name: t.readerName, close: () => t.close() };
  }
  // The simulator is loaded only for an image: a terminal with readers never loads it.
  const { SimulatedCard } = await import('drmb-toolchain/simulator');
  const chip = psam ? SimulatedCard.psamFromFile(image) : SimulatedCard.fromFile(image);
  const atr = chip.powerOn();
  const transport = hostStack(directTransport(chip, image), atr);
  return {
    transport,
    atr,
    name: image,
    close: async () => {
      chip.saveToFile(image);
      await transport.close();
    },
  };
}

/** "17.00" or "17" yuan in fen. */
function fenOf(amount: string): number {
  const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(amount);
  if (!m) throw new Error(`--amount ${amount}: give yuan, e.g. 17.00`);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

const yuan = (fen: number) => (fen / 100).toFixed(2);

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: {
      amount: { type: 'string' },
      reader: { type: 'string' },
      sim: { type: 'string' },
      'psam-reader': { type: 'string' },
      'psam-sim': { type: 'string' },
      anchors: { type: 'string' },
      queue: { type: 'string' },
      merchant: { type: 'string', default: 'shop-001@merchant.example' },
      'pin-file': { type: 'string' },
    },
  });
  if (!o.amount || !o.anchors || !o.queue) throw new Error('--amount, --anchors and --queue are required');
  const amountFen = fenOf(o.amount);
  const pin = o['pin-file'] ? readFileSync(o['pin-file'], 'utf8').trim() : undefined;
  // Public keys only: the coin-signing keys and the KGC's signature master public key.
  const anchors = readTrustAnchors(o.anchors);
  const queue = new UploadQueue(o.queue);

  const psam = await open(o['psam-reader'], o['psam-sim'], true);
  try {
    const card = await open(o.reader, o.sim, false);
    try {
      // One lease on each: no other caller's APDU between the debit and its proof.
      await psam.transport.lease((psamT) =>
        card.transport.lease(async (cardT) => {
          const drmb = new DrmbCard(cardT);
          const terminal = new PosTerminal({
            psam: new Psam(psamT),
            queue,
            anchors,
            payeeIdentity: o.merchant!,
            extendedLength: atrAllowsExtendedLength(card.atr),
          });
          try {
            const r = await terminal.pay(drmb, amountFen, { pin });
            console.log(`paid ${yuan(r.amountFen)} yuan by card ${r.cardId} (counter ${r.counter}, ${r.coinCount} coins, terminal sequence ${r.terminalSequence})`);
            console.log(`verified: MAC2 by the PSAM ${psam.name}, the coins' central-bank signatures and the payer's SM9 signature`);
            // The packet in the queue is the one the receipt names, and pays this merchant.
            const queued = queue.pending().find((p) => p.type === 'PURCHASE' && p.cardId === r.cardId && p.counter === r.counter);
            if (!queued) throw new Error('the payment is not in the upload queue');
            const packet = exportPacketCoder.decode(queued.packet);
            const sameHash = Buffer.from(sm3(queued.packet)).equals(Buffer.from(r.packetHash));
            if (!sameHash || packet.header.payeeIdentity !== o.merchant) throw new Error('the queued packet differs from the receipt');
            console.log(`queued: ${queue.pending().length} packet(s) in ${o.queue}, payee ${packet.header.payeeIdentity}`);
            console.log(`card balance now ${yuan(await drmb.balance())} yuan`);
          } finally {
            terminal.wipe();
          }
        }),
      );
    } finally {
      await card.close();
    }
  } finally {
    await psam.close();
  }
}

main().catch((e: unknown) => {
  console.error(`pay: ${(e as Error).message}`);
  process.exitCode = 1;
});
