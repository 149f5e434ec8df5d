/**
 * @module `drmb pos pay`: a POS purse debit at this terminal (host/pos/pos-terminal.ts) on a card in a
 * reader or an in-process simulated card image (written after every commit, as a card's EEPROM is), with the upload queue file,
 * the blacklist and the terminal's secure module keyed from the ceremony.
 *
 * Keys (--keys DIR, default $DRMB_KEY_DIR): trust-anchors.json (coin keys by key index, KGC sign
 * master public key) and the cb-master key file, whose SM4 'purchase' master plays the PSAM's purchase
 * master: the terminal derives each card's purchase key from it by card ID (keys/card-keys.ts).
 * In production that master lives in the PSAM only; the key file is for tests and demos.
 */
import { readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { fromHex, hex } from '../../base/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { atrAllowsExtendedLength } from '../../host/middleware/chaining.js';
import { PosTerminal, type PayResult } from '../../host/pos/pos-terminal.js';
import { SecureModule } from '../../host/pos/secure-module.js';
import { UploadQueue } from '../../host/pos/upload-queue.js';
import { wipeKeyFile } from '../../keys/key-files.js';
import { yuan } from '../card/connect.js';
import { emit, UsageError } from '../output.js';
import { openCard } from '../open-card.js';
import { isCardId, pinOf, positiveFenOf, withAmount, withCardTarget, withJson, withKeys, withPinFile, withTrace } from '../options.js';
import type { ImageSaving } from '../open-card.js';
import { key, trustAnchors } from '../perso/perso-options.js';

export interface PosPayOptions {
  amount: string;
  reader?: string;
  sim?: string;
  keys?: string;
  queue: string;
  terminalId: string;
  merchant: string;
  blacklist?: string;
  pinFile?: string;
  trace?: boolean;
  json?: boolean;
}

export interface PosPayReport extends PayResult {
  source: string;
  /** the price in yuan, "30.00" */
  amount: string;
  queued: number;
}

/** What a payment does to a --sim image: written after every command the card commits, as EEPROM is, so a host killed between the debit and the queue write leaves the card debited and the packet recoverable from GET TRANSACTION PROVE, never both sides holding the coins. */
const POS_IMAGE: ImageSaving = 'save-every-commit';

/** Card IDs of a blacklist file: one 20-digit ID per line, # comments. */
export function readBlacklist(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--blacklist: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const ids = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  const bad = ids.find((id) => !isCardId(id));
  if (bad) throw new UsageError(`--blacklist: "${bad}" is not a 20-digit card ID`);
  return ids;
}

/** Runs one payment; a simulated card's image follows every commit of the card. */
export async function collectPosPay(o: PosPayOptions): Promise<PosPayReport> {
  const amountFen = positiveFenOf(o.amount);
  if (!/^[0-9a-fA-F]{12}$/.test(o.terminalId)) throw new UsageError('--terminal-id must be 12 hex digits (6 bytes)');
  const pin = pinOf(o);
  const blacklist = o.blacklist ? readBlacklist(o.blacklist) : [];
  const anchors = trustAnchors(o);
  const cbMaster = key('cb-master', o);
  const secureModule = new SecureModule(cbMaster.secret.purchase, fromHex(o.terminalId));
  wipeKeyFile(cbMaster);
  const queue = new UploadQueue(o.queue);
  const opened = await openCard(o, { image: POS_IMAGE });
  // The card says in its ATR whether it takes extended Lc/Le (the simulator's does).
  const terminal = new PosTerminal({ secureModule, queue, anchors, payeeIdentity: o.merchant, blacklist, extendedLength: atrAllowsExtendedLength(opened.atr) });
  try {
    const r = await opened.transport.lease((t) => terminal.pay(new DrmbCard(t), amountFen, { pin }));
    return { ...r, source: opened.source, amount: yuan(amountFen), queued: queue.pending().length };
  } finally {
    terminal.wipe();
    await opened.close();
  }
}

export function formatPosPay(r: PosPayReport): string {
  const lines = [`paid ${r.amount} yuan by card ${r.cardId} (counter ${r.counter}, ${r.coinCount} coins, terminal sequence ${r.terminalSequence})`];
  if (r.changeFen) lines.push(`change ${yuan(r.changeFen)} yuan paid into the card; card paid ${yuan(r.paidFen)}`);
  if (r.recoveredEarlier) lines.push(`recovered an earlier payment of ${yuan(r.recoveredEarlier.paidFen)} yuan (counter ${r.recoveredEarlier.counter}) whose answer had been lost`);
  if (r.earlierNotDebited !== undefined) lines.push(`an earlier debit (counter ${r.earlierNotDebited}) had not happened`);
  lines.push(`TAC ${hex(r.tac)}  packet SM3 ${hex(r.packetHash)}`, `${r.queued} packet(s) waiting for upload`);
  return lines.join('\n');
}

export function registerPosPay(pos: Cli): void {
  const cmd = withAmount(pos.command('pay').description('take a payment from a card: purse debit with MAC1/MAC2, coin and payer signature checks, upload queue'), 'price');
  withCardTarget(cmd, { image: POS_IMAGE });
  withKeys(cmd, 'reads trust-anchors.json and cb-master.json (its purchase master acts as the PSAM key)')
    .requiredOption('--queue <file>', 'upload queue (JSON lines, created 0600)')
    .requiredOption('--terminal-id <hex>', 'terminal ID, 6 bytes in hex')
    .option('--merchant <identity>', 'merchant SM9 identity (payee of the packet)', 'merchant@pos')
    .option('--blacklist <file>', 'card IDs to refuse, one per line');
  withJson(withTrace(withPinFile(cmd, 'for payments above the card PIN threshold'))).action(async (o: PosPayOptions) => {
    emit(await collectPosPay(o), !!o.json, formatPosPay);
  });
}
