/**
 * @module `drmb peer pay`: an offline payment between two cards held side by side (two readers, or two
 * simulated card images): the payee card gives its identity and a nonce, the payer card exports the
 * coins SM9-signed and SM9-encrypted to that identity with a withdrawal code, the payee card imports
 * them and answers its receipt and the settlement body. Every argument is checked before a coin leaves
 * the card; the export runs under the host's value journal, so the packet is never lost between the
 * payer card's commit and its file. The payee's bank settles with the packet and the payee card's
 * response (`drmb bank deposit --packet FILE --receipt FILE.receipt`). With --online (the seed's online
 * payment), the payee's terminal opens the packet with the payee's own key and submits it to the payee's
 * bank (`drmb bank serve`) once the packet file is durable; the payee card imports only when the
 * confirmation says the registry changed the owner.
 */
import { OperationalError } from '../../base/operational-error.js';
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command as Cli } from 'commander';
import { EXIT } from '../../base/exit-codes.js';
import { hex } from '../../base/hex.js';
import { NO_WITHDRAWAL_CODE } from '../../applet-spec/value-formats.js';
import { OnlineBankUnreachableError, submitOnlineTransfer, whyNotConfirmed } from '../../bank/online-bank-client.js';
import { cardOwner } from '../../bank/registry.js';
import { readTrustAnchors, type TrustAnchors } from '../../keys/trust-anchors.js';
import { sm3 } from '../../crypto/sm3.js';
import type { Confirmation } from '../../bank/online-confirmation.js';
import { openTransfer, OpenTransferError } from '../../host/open-transfer.js';
import { readUserKey } from '../keys/user-key.js';
import { whyNotWritable, writeFileAtomic } from '../../io/atomic-file.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError, TransportError } from '../../host/errors.js';
import { type JournalledTransfer, journalledTransfer } from '../../host/journalled-transfer.js';
import { JournalError, type ValueIntent, type ValueJournal } from '../../host/value-journal.js';
import { deliveryFor, finishOpenIntents, recoverCommand, type RecoveredIntent } from '../card/recover.js';
import { yuan } from '../card/connect.js';
import { type ImageSaving, openCard } from '../open-card.js';
import { emit, UsageError } from '../output.js';
import { cardOptionNames, openJournal, pinOf, positiveFenOf, withAmount, withCardTarget, withJournal, withJson, withPinFile, withTrace } from '../options.js';
import { testKillPoint } from '../test-kill-point.js';
import { initializeForTransfer } from '../../applet-spec/commands.js';
import { paymentPin } from '../payment-pin.js';
import { requireOneOf } from '../required-options.js';

export interface PeerPayOptions {
  amount: string;
  fromReader?: string;
  fromSim?: string;
  toReader?: string;
  toSim?: string;
  code?: string;
  pinFile?: string;
  packetOut: string;
  receiptOut?: string;
  journal?: string;
  trace?: boolean;
  json?: boolean;
  /** the seed's online payment: the payee's bank confirms the owner change before the payee card imports */
  online?: boolean;
  bank?: string;
  payeeKey?: string;
  payeeAccount?: string;
  trustAnchors?: string;
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
  /** the payee card's IMPORT COINS response: its signed receipt, then the settlement body for the bank */
  receiptFile: string;
  /** earlier interrupted value commands of these cards, finished before this payment */
  recovered: RecoveredIntent[];
  /** --online: the payee bank's confirmation to the payee, and the central bank's it relays */
  online?: { bank: string; toPayee: Confirmation; central?: Confirmation };
}

/** What a payment does to the cards' --sim images: written as each card commits, so the value journal finds every commit on the card. */
export const PEER_IMAGE: ImageSaving = 'save-every-commit';

/** The payment left the payer card (its packet is durable) but the payee card did not take it, or its receipt was not written. */
export class PeerPayError extends OperationalError {
  override readonly name = 'PeerPayError';
}

/** The arguments, checked. */
interface PayPlan {
  amountFen: number;
  code: string;
  pin?: string;
  packetFile: string;
  receiptFile: string;
  journal: ValueJournal;
  online?: { bank: string; payeeKey: { identity: string; privateKey: Uint8Array }; account?: string; anchors: TrustAnchors };
}

/** The options of the online step (`drmb peer pay --online`, `drmb peer receive --online`). */
export type OnlineOptions = Pick<PeerPayOptions, 'online' | 'bank' | 'payeeKey' | 'payeeAccount' | 'trustAnchors'>;
/** The online step's plan: the payee bank, the payee's key to open the packet with, and the anchors that check the confirmation. */
export type OnlinePlan = NonNullable<PayPlan['online']>;

/** The online options, checked (UsageError naming the option); undefined without --online. */
export function onlinePlanOf(o: OnlineOptions): OnlinePlan | undefined {
  if (!o.online) {
    if (o.bank || o.payeeKey || o.payeeAccount || o.trustAnchors) throw new UsageError('--bank, --payee-key, --payee-account and --trust-anchors go with --online');
    return undefined;
  }
  if (!o.bank || !/^https?:\/\/[^/]+/.test(o.bank)) throw new UsageError("--online needs --bank URL, the payee bank's service (drmb bank serve), e.g. http://127.0.0.1:8791");
  if (!o.payeeKey) throw new UsageError("--online needs --payee-key FILE: the payee's terminal opens the packet for its bank with the payee's own SM9 key (drmb keys user-key)");
  if (!o.trustAnchors) throw new UsageError("--online needs --trust-anchors FILE (trust-anchors.json of any bundle): the central bank's signed confirmation is checked before the payee card imports");
  let anchors: TrustAnchors;
  try {
    anchors = readTrustAnchors(o.trustAnchors);
  } catch (e) {
    throw new UsageError(`--trust-anchors: ${(e as Error).message}`);
  }
  return { bank: o.bank, payeeKey: readUserKey(o.payeeKey, '--payee-key'), anchors, ...(o.payeeAccount ? { account: o.payeeAccount } : {}) };
}

/** Adds the online options to a command. */
export function withOnline(cmd: Cli, what: string): Cli {
  return cmd
    .option('--online', what)
    .option('--bank <url>', "--online: the payee bank's service (drmb bank serve)")
    .option('--payee-key <file>', "--online: the payee's SM9 encryption key (drmb keys user-key), with which the payee's terminal opens the packet for its bank")
    .option('--payee-account <account>', '--online: the payee account, for a payee registered with that bank')
    .option('--trust-anchors <file>', "--online: trust-anchors.json (of any bundle), whose coin keys verify the central bank's signed confirmation");
}

/** Every argument checked before any card is opened: a typo must not cost a coin. Throws UsageError naming the argument. */
export function planPeerPay(o: PeerPayOptions): PayPlan {
  const amountFen = positiveFenOf(o.amount);
  const code = o.code ?? '0'.repeat(16);
  if (!/^\d{16}$/.test(code)) throw new UsageError('--code must be 16 digits (the withdrawal code the payee needs without a bank account)');
  if (!o.fromReader && !o.fromSim) throw new UsageError('--from-reader or --from-sim names the payer card');
  if (!o.toReader && !o.toSim) throw new UsageError('--to-reader or --to-sim names the payee card');
  if (o.fromSim && o.toSim && sameFile(o.fromSim, o.toSim)) throw new UsageError(`--from-sim and --to-sim name the same card image ${o.fromSim}: the payer and the payee must be two cards`);
  if (o.fromReader && o.toReader && o.fromReader === o.toReader) throw new UsageError(`--from-reader and --to-reader name the same reader ${o.fromReader}: the payer and the payee must be two cards`);
  const packetFile = newOutputFile(o.packetOut, '--packet-out');
  const receiptFile = newOutputFile(o.receiptOut ?? `${o.packetOut}.receipt`, o.receiptOut === undefined ? '--receipt-out (default <packet-out>.receipt)' : '--receipt-out');
  if (packetFile === receiptFile) throw new UsageError('--receipt-out must differ from --packet-out');
  const pin = pinOf(o);
  const online = onlinePlanOf(o);
  return { amountFen, code, pin, packetFile, receiptFile, journal: openJournal(o.journal), ...(online ? { online } : {}) };
}

/** An absolute path where a new file can be written; an existing file may be an earlier packet not yet deposited, so it is refused. */
function newOutputFile(path: string, option: string): string {
  const why = whyNotWritable(path);
  if (why) throw new UsageError(`${option}: ${why}`);
  if (existsSync(path)) throw new UsageError(`${option}: ${path} already exists (it may hold an earlier payment); name a new file`);
  return resolve(path);
}

function sameFile(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

export async function runPeerPay(o: PeerPayOptions): Promise<PeerPayReport> {
  const plan = planPeerPay(o);
  try {
    return await payWithPlan(plan, o);
  } finally {
    plan.online?.payeeKey.privateKey.fill(0);
  }
}

async function payWithPlan(plan: PayPlan, o: PeerPayOptions): Promise<PeerPayReport> {
  const payer = await openCard({ reader: o.fromReader, sim: o.fromSim, trace: o.trace }, { image: PEER_IMAGE, names: cardOptionNames('from') });
  try {
    const payee = await openCard({ reader: o.toReader, sim: o.toSim, trace: o.trace }, { image: PEER_IMAGE, names: cardOptionNames('to') });
    try {
      return await payee.transport.lease((pt) => payer.transport.lease((at) => pay(new DrmbCard(at), new DrmbCard(pt), plan, o)));
    } finally {
      await payee.close();
    }
  } finally {
    await payer.close();
  }
}

async function pay(from: DrmbCard, to: DrmbCard, plan: PayPlan, o: PeerPayOptions): Promise<PeerPayReport> {
  const { journal, amountFen, packetFile, receiptFile } = plan;
  const payerSide = { reader: o.fromReader, sim: o.fromSim };
  const payeeSide = { reader: o.toReader, sim: o.toSim };
  const payerInfo = await from.select();
  const payeeInfo = await to.select();
  if (!payerInfo.cardId) throw new UsageError(`${o.fromSim ? '--from-sim' : '--from-reader'}: the payer card is ${payerInfo.state}, not issued`);
  if (!payeeInfo.cardId) throw new UsageError(`${o.toSim ? '--to-sim' : '--to-reader'}: the payee card is ${payeeInfo.state}, not issued`);
  const payerId = payerInfo.cardId;
  const payeeId = payeeInfo.cardId;
  // Before INITIALIZE FOR TRANSFER: a card paying itself would lose the coins it cannot import back (9411).
  if (payerId === payeeId) throw new UsageError(`the payer and the payee are the same card ${payerId}: name two cards`);
  const recovered = [...(await finishEarlier(from, payerId, journal, payerSide, o.json)), ...(await finishEarlier(to, payeeId, journal, payeeSide, o.json))];

  const ready = await to.prepareReceive();
  // Before any coin leaves: a key of another payee could not open the packet for the bank.
  if (plan.online && plan.online.payeeKey.identity !== ready.payeeIdentity) {
    throw new UsageError(`--payee-key: the key is for '${plan.online.payeeKey.identity}', the payee card is '${ready.payeeIdentity}'`);
  }
  const pin = plan.pin ?? (await paymentPin(from, amountFen, initializeForTransfer, {}));
  if (pin) await from.verifyPin(pin);
  const now = new Date().toISOString();
  let t: JournalledTransfer;
  try {
    t = await journalledTransfer(from, journal, {
      cardId: payerId,
      amountFen,
      payeeIdentity: ready.payeeIdentity,
      payeeNonce: ready.nonce,
      withdrawalCode: plan.code,
      date: now.slice(0, 10).replace(/-/g, ''),
      time: now.slice(11, 19).replace(/:/g, ''),
      packetFile,
      detail: { payeeCardId: payeeId, payeeIdentity: ready.payeeIdentity, receiptFile },
    });
  } catch (e) {
    if (e instanceof TransportError && journal.openIntents(payerId).length > 0) {
      throw new JournalError(`${e.message}; whether card ${payerId} paid is on the card; run: ${recoverCommand(payerSide, journal.dir)}`);
    }
    throw e;
  }
  testKillPoint('after-export');
  const paid = `card ${payerId} paid ${yuan(amountFen)} yuan (counter ${t.counter})`;
  try {
    writeFileAtomic(packetFile, t.packetBytes);
  } catch (e) {
    throw new JournalError(`${paid}, but the packet could not be written to ${packetFile} (${errorCode(e)}); run: ${recoverCommand(payerSide, journal.dir, ' --out <new file>')}`);
  }
  testKillPoint('after-packet');
  const online = plan.online ? await confirmOnline(plan.online, t.packetBytes, payeeId, { paid, packetFile, payerId, close: (why) => journal.close(t.intent, 'delivered', why) }) : undefined;

  let imported: Awaited<ReturnType<DrmbCard['importPacket']>>;
  try {
    imported = await to.importPacket(t.packetBytes);
  } catch (e) {
    // The payer's side is complete: the packet is durable, whoever takes it next.
    const what = e instanceof StatusWordError ? `card ${payeeId} refused it` : `card ${payeeId} did not answer the import`;
    journal.close(t.intent, 'delivered', `packet in ${packetFile}; ${what} (${(e as Error).message})`);
    throw new PeerPayError(`${paid}, but ${what} (${(e as Error).message}); the packet is in ${packetFile}: import it again with drmb peer receive --packet ${packetFile}, or the payee opens it with drmb peer open and deposits it`);
  }
  testKillPoint('after-import');
  try {
    writeFileAtomic(receiptFile, imported.responseBytes);
  } catch (e) {
    journal.close(t.intent, 'delivered', `packet in ${packetFile}, imported by card ${payeeId}; receipt not written (${errorCode(e)})`);
    throw new PeerPayError(
      `card ${payeeId} took the payment, but its receipt could not be written to ${receiptFile} (${errorCode(e)}); card ${payeeId} answers it again to GET TRANSACTION PROVE (RECEIVE, counter ${ready.counter})`,
    );
  }
  journal.close(t.intent, 'delivered', `packet in ${packetFile}, imported by card ${payeeId}, receipt in ${receiptFile}`);
  return {
    payerCardId: payerId,
    payeeCardId: payeeId,
    payeeIdentity: ready.payeeIdentity,
    amountFen: imported.receipt.body.amountFen,
    payerCounter: t.counter,
    withdrawalCode: plan.code,
    packetFile,
    packetHash: hex(imported.receipt.body.packetHash),
    receiptFile,
    recovered,
    ...(online ? { online } : {}),
  };
}

/**
 * The online step, after the packet file is durable: the payee's terminal opens the packet with the
 * payee's key and submits it; resolves with the confirmation that the owner changed. Otherwise the
 * payer's side is closed as delivered to the packet file (nothing moved in the registry, the payee card
 * did not import) and PeerPayError says so in one line, with how the packet can still be settled.
 */
export async function confirmOnline(
  online: OnlinePlan,
  packet: Uint8Array,
  payeeCardId: string,
  at: { paid: string; packetFile: string; payerId: string; close: (why: string) => void },
): Promise<NonNullable<PeerPayReport['online']>> {
  const later = `the packet is in ${at.packetFile}: the payee can still take it offline (drmb peer receive --packet ${at.packetFile}, then drmb bank deposit)`;
  let answer;
  try {
    const opened = openTransfer(packet, online.payeeKey.privateKey);
    const withdrawal = opened.withdrawal.code === NO_WITHDRAWAL_CODE ? undefined : opened.withdrawal;
    answer = await submitOnlineTransfer(online.bank, {
      packet,
      settlementBody: opened.settlementBody,
      ...(withdrawal ? { withdrawal } : {}),
      payee: { identity: opened.payeeIdentity, cardId: payeeCardId, ...(online.account ? { account: online.account } : {}) },
    });
  } catch (e) {
    if (e instanceof OpenTransferError) {
      at.close(`packet in ${at.packetFile}; not submitted online (${e.message})`);
      throw new PeerPayError(`${at.paid}, but the payee's key cannot open the packet (${e.message}); card ${payeeCardId} did not import it; nothing was submitted; ${later}`);
    }
    if (!(e instanceof OnlineBankUnreachableError)) throw e;
    at.close(`packet in ${at.packetFile}; not confirmed online (${e.message})`);
    // A lost answer may follow a change the bank made: its confirmations tell, by the packet.
    throw new PeerPayError(
      `${at.paid}, but ${e.message}; card ${payeeCardId} did not import it; drmb peer confirmations --bank ${online.bank} --packet ${at.packetFile} tells whether the bank took it; if not, the registry still shows the coins as card ${at.payerId}'s and ${later}`,
    );
  }
  if (answer.outcome === 'owner-changed' && !('code' in answer)) {
    const why = whyNotConfirmed(answer, hex(sm3(packet)), cardOwner(payeeCardId), online.anchors);
    if (why) {
      at.close(`packet in ${at.packetFile}; the online confirmation does not hold (${why})`);
      throw new PeerPayError(`${at.paid}, but ${why}; card ${payeeCardId} did not import it; the packet is in ${at.packetFile}: ask the bank for its confirmations (GET /v1/confirmations/<packet hash>) before the payee imports it with drmb peer receive`);
    }
    return { bank: online.bank, toPayee: answer.toPayee, ...(answer.central ? { central: answer.central } : {}) };
  }
  const why = 'code' in answer ? `${answer.code}: ${answer.message}` : `${answer.toPayee.reason}: ${answer.toPayee.detail}`;
  at.close(`packet in ${at.packetFile}; refused online (${why})`);
  const doubleSpend = !('code' in answer) && answer.toPayee.reason === 'double-spend';
  const after = doubleSpend ? 'the coins were spent already, the payer card is blacklisted' : `nothing moved in the registry; ${later}`;
  throw new PeerPayError(`${at.paid}, but the bank refused it (${why}); card ${payeeCardId} did not import it; ${after}`, doubleSpend ? { exitCode: EXIT.doubleSpend } : undefined);
}

/**
 * Finishes the card's open intents before it moves value again (an interrupted payment's packet is
 * written where it was going); refuses with the command to run when one cannot be finished here.
 */
async function finishEarlier(card: DrmbCard, cardId: string, journal: ValueJournal, side: { reader?: string; sim?: string }, quiet?: boolean): Promise<RecoveredIntent[]> {
  // A LOAD is finished in its registry, which drmb card recover opens from the intent.
  const rerun = (i: ValueIntent) => recoverCommand(side, journal.dir, i.type === 'TRANSFER' ? ` --counter ${i.counter} --out <new file>` : ` --counter ${i.counter}`);
  const done = await finishOpenIntents(card, cardId, journal, deliveryFor(undefined, async () => undefined), rerun);
  const stuck = done.find((r) => r.result === 'undeliverable');
  if (!quiet) for (const r of done) if (r !== stuck) process.stderr.write(`drmb: finished an earlier value command first: ${r.message}\n`);
  if (stuck) throw new JournalError(`an earlier value command is unfinished: ${stuck.message}`);
  return done;
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

export function registerPeerPay(peer: Cli): void {
  const cmd = peer.command('pay').description('offline payment from one card to another (signed, encrypted coin export; the payee card imports and signs a receipt)');
  withAmount(cmd, 'amount');
  withCardTarget(cmd, { image: PEER_IMAGE, prefix: 'from', holder: 'payer' });
  withCardTarget(cmd, { image: PEER_IMAGE, prefix: 'to', holder: 'payee' }).option('--code <digits>', 'withdrawal code, 16 digits, for a payee without a bank account');
  withPinFile(cmd, "the payer's, for amounts above the card's PIN threshold; without it, asked on the terminal")
    .requiredOption('--packet-out <file>', "new file for the packet, for the payee's bank (mode 0600)")
    .option('--receipt-out <file>', "new file for the payee card's IMPORT COINS response (default <packet-out>.receipt, mode 0600)");
  withOnline(cmd, "online payment: the payee's bank must confirm the owner change in the registry before the payee card imports");
  withJson(withTrace(withJournal(cmd)));
  requireOneOf(cmd, { options: ['--from-sim', '--from-reader'] });
  requireOneOf(cmd, { options: ['--to-sim', '--to-reader'] });
  cmd.action(async (o: PeerPayOptions) => {
    emit(await runPeerPay(o), !!o.json, (r) => `${yuan(r.amountFen)} yuan from ${r.payerCardId} to ${r.payeeCardId} (${r.payeeIdentity}); packet ${r.packetHash} in ${r.packetFile}, receipt in ${r.receiptFile}${r.online ? `; confirmed online by ${r.online.bank} (${r.online.toPayee.id})` : ''}`);
  });
  peer.exitOverride();
  peer.commands.forEach((c) => c.exitOverride());
}
