/**
 * @module `drmb pos pay`: a POS purse debit at this terminal (host/pos/pos-terminal.ts) on a card in a
 * reader or an in-process simulated card image, with the terminal's PSAM in a second reader
 * (--psam-reader) or a simulated PSAM image (--psam-sim), both images written after every commit as a
 * card's EEPROM is, the upload queue file and the blacklist.
 *
 * Keys (--keys DIR, default $DRMB_KEY_DIR): trust-anchors.json only (coin keys by key index, KGC sign
 * master public key). The terminal holds no purchase key: MAC1, MAC2, the terminal number and the
 * terminal sequence number are the PSAM's (personalized by `drmb perso psam`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { whyNotWritable } from '../../io/atomic-file.js';
import type { Command as Cli } from 'commander';
import { hex } from '../../base/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { atrAllowsExtendedLength } from '../../host/middleware/chaining.js';
import { PosTerminal, type PayResult } from '../../host/pos/pos-terminal.js';
import { Psam } from '../../host/psam.js';
import { yuan } from '../card/connect.js';
import { emit, UsageError } from '../output.js';
import { openCard } from '../open-card.js';
import { cardOptionNames, isCardId, keyDirOf, openUploadQueue, pinOf, positiveFenOf, withAmount, withCardTarget, withJson, withKeys, withPinFile, withTrace } from '../options.js';
import type { ImageSaving } from '../open-card.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { KEY_DIR_ENV } from '../../keys/key-files.js';
import { initializeForPurchase } from '../../applet-spec/commands.js';
import { paymentPin } from '../payment-pin.js';
import { CoinFloat } from '../../host/pos/coin-float.js';
import { readUserKey } from '../keys/user-key.js';
import { readFloatFile, writeFloatFile } from './float.js';
import { requireOneOf } from '../required-options.js';

export interface PosPayOptions {
  amount: string;
  reader?: string;
  sim?: string;
  psamReader?: string;
  psamSim?: string;
  keys?: string;
  queue: string;
  merchant: string;
  blacklist?: string;
  pinFile?: string;
  /** the change float file (drmb pos float), written back after the payment */
  float?: string;
  /** the terminal's SM9 signing key file (drmb keys user-key --sign), for the change it signs */
  terminalKey?: string;
  trace?: boolean;
  json?: boolean;
}

export interface PosPayReport extends PayResult {
  source: string;
  /** the PSAM's reader or image */
  psam: string;
  /** the price in yuan, "30.00" */
  amount: string;
  queued: number;
  /** what the change float holds after the payment, with --float */
  floatFen?: number;
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
  const psamNames = cardOptionNames('psam');
  if (o.psamSim === undefined && o.psamReader === undefined) throw new UsageError(`${psamNames.sim} IMAGE or ${psamNames.reader} NAME is required: the terminal's PSAM computes MAC1 and checks MAC2`);
  if (o.pinFile !== undefined) pinOf(o); // a bad --pin-file is refused before any card is opened
  const blacklist = o.blacklist ? readBlacklist(o.blacklist) : [];
  if ((o.float === undefined) !== (o.terminalKey === undefined)) throw new UsageError('--float and --terminal-key go together: the terminal signs the change it pays from its float with its own SM9 key');
  const float = o.float === undefined ? undefined : readFloatFile(o.float);
  const terminalKey = o.terminalKey === undefined ? undefined : readUserKey(o.terminalKey, '--terminal-key', 'sign');
  const change = float && terminalKey ? { identity: terminalKey.identity, signKey: terminalKey.privateKey, float: new CoinFloat(float.coins) } : undefined;
  // The terminal loads no key: only the public trust anchors of its role's bundle (a pos bundle, or a ceremony directory).
  const anchors = RoleKeys.open(keyDirOf(o), 'drmb pos pay').trustAnchors();
  // An existing queue is read now (a damaged one is refused before any card is touched); a new one is
  // created once the payment starts, so that a refused payment leaves no empty queue behind.
  const unwritable = whyNotWritable(o.queue);
  if (unwritable) throw new UsageError(`--queue: ${unwritable}`);
  let queue = existsSync(o.queue) ? openUploadQueue(o.queue) : undefined;
  const psamOpened = await openCard({ reader: o.psamReader, sim: o.psamSim, trace: o.trace }, { image: POS_IMAGE, psam: true, names: psamNames });
  try {
    const opened = await openCard(o, { image: POS_IMAGE });
    try {
      return await psamOpened.transport.lease((psamTransport) =>
        opened.transport.lease(async (t) => {
          const card = new DrmbCard(t);
          await card.select();
          const pin = await paymentPin(card, amountFen, initializeForPurchase, o);
          const q = (queue ??= openUploadQueue(o.queue));
          // The card says in its ATR whether it takes extended Lc/Le (the simulator's does).
          const terminal = new PosTerminal({ psam: new Psam(psamTransport), queue: q, anchors, payeeIdentity: o.merchant, blacklist, extendedLength: atrAllowsExtendedLength(opened.atr), ...(change ? { change } : {}) });
          try {
            const r = await terminal.pay(card, amountFen, { pin });
            return { ...r, source: opened.source, psam: psamOpened.source, amount: yuan(amountFen), queued: q.pending().length, ...(change ? { floatFen: change.float.totalFen } : {}) };
          } finally {
            terminal.wipe();
            // The float file follows the float: coins paid as change leave it, coins of a refused change are back.
            if (float && change && change.float.size !== float.coins.length) writeFloatFile(o.float!, { bankCode: float.bankCode, coins: change.float.list() });
          }
        }),
      );
    } finally {
      await opened.close();
    }
  } finally {
    await psamOpened.close();
    terminalKey?.privateKey.fill(0);
  }
}

export function formatPosPay(r: PosPayReport): string {
  const lines = [`paid ${r.amount} yuan by card ${r.cardId} (counter ${r.counter}, ${r.coinCount} coins, terminal sequence ${r.terminalSequence})`];
  if (r.changeFen) lines.push(`change ${yuan(r.changeFen)} yuan paid into the card; card paid ${yuan(r.paidFen)}`);
  if (r.floatFen !== undefined) lines.push(`change float: ${yuan(r.floatFen)} yuan left`);
  if (r.recoveredEarlier) lines.push(`recovered an earlier payment of ${yuan(r.recoveredEarlier.paidFen)} yuan (counter ${r.recoveredEarlier.counter}) whose answer had been lost`);
  if (r.earlierNotDebited !== undefined) lines.push(`an earlier debit (counter ${r.earlierNotDebited}) had not happened`);
  lines.push(`TAC ${hex(r.tac)}  packet SM3 ${hex(r.packetHash)}`, `${r.queued} packet(s) waiting for upload`);
  return lines.join('\n');
}

export function registerPosPay(pos: Cli): void {
  const cmd = withAmount(pos.command('pay').description('take a payment from a card: purse debit with MAC1/MAC2, coin and payer signature checks, upload queue'), 'price');
  withCardTarget(cmd, { image: POS_IMAGE });
  withCardTarget(cmd, { image: POS_IMAGE, prefix: 'psam', holder: 'PSAM' });
  withKeys(cmd, 'reads trust-anchors.json only: the terminal holds no purchase key, its PSAM does')
    .requiredOption('--queue <file>', 'upload queue (JSON lines, created 0600)')
    .option('--merchant <identity>', 'merchant SM9 identity (payee of the packet)', 'merchant@pos')
    .option('--blacklist <file>', 'card IDs to refuse, one per line');
  withJson(withTrace(withPinFile(cmd, 'for payments above the card PIN threshold; without it, asked on the terminal')))
    .option('--float <file>', 'change float (drmb pos float): when the card has no coins making the price exactly, the terminal pays change into it from these coins; the file is updated')
    .option('--terminal-key <file>', "the terminal's SM9 signing key (drmb keys user-key --sign), with which it signs the change; its identity is the change's payer");
  requireOneOf(cmd, { options: ['--psam-sim', '--psam-reader'] });
  requireOneOf(cmd, { options: ['--keys'], env: KEY_DIR_ENV });
  cmd.action(async (o: PosPayOptions) => {
    emit(await collectPosPay(o), !!o.json, formatPosPay);
  });
}
