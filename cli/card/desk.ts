/**
 * @module `drmb card block|unblock|reload-pin|set-limits|change-pin|terminate`: the issuance desk's operations on
 * a holder's card after issuance, on a reader or a simulated image. The issuer scripts (APPLICATION
 * BLOCK/UNBLOCK, PUT DATA, RELOAD PIN; JR/T 0025.2) carry a line MAC over the card's fresh challenge
 * under the card's own issuerMac or pinReload key, derived from the desk bundle's issuer-master
 * (never the central bank's cb-master); CHANGE PIN needs the holder's old PIN and no key; SET STATUS
 * (terminate, GP 2.3 11.10) goes through the kvn 31 SCP03 channel whose keys the desk's
 * issuance-master derives, and only on a card with no coins left. Each shows
 * what will change and asks on a terminal (--yes skips it), records the operation in the desk's
 * manifest and hash-chained audit log, and prints the card's state after it.
 */
import { userInfo } from 'node:os';
import type { Command as Cli } from 'commander';
import { DATA_OBJECTS, type DataObjectName } from '../../applet-spec/data-objects.js';
import { wipe } from '../../base/bytes.js';
import { DrmbCard } from '../../host/drmb-card.js';
import type { Transport } from '../../host/transport.js';
import { issuerLineMacSigner } from '../../host/line-mac.js';
import { cardApplicationKeysOf, cardIdToBytes, cardIssuanceKeys } from '../../keys/card-keys.js';
import { type KeyFile, wipeKeyFile } from '../../keys/key-files.js';
import { KEY_VERSIONS } from '../../applet-spec/commands/initialize-update.js';
import { openSecureChannel } from '../../host/secure-channel.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { appendAudit } from '../../personalization/audit-log.js';
import { type DeskOperation, Manifest } from '../../personalization/manifest.js';
import { withCard } from '../open-card.js';
import { type CardOptions, fenOf, keyDirOf, readPinFile, withCardTarget, withJson, withKeys, withTrace } from '../options.js';
import { emit, UsageError } from '../output.js';
import { canPrompt, confirm, promptPin } from '../terminal-prompt.js';

/** What the desk reads of a card before and after an operation. */
export interface DeskCardState {
  state: string;
  pinTriesLeft: number;
  singleLimitFen: number;
  balanceCapFen: number;
  pinThresholdFen: number;
}

export interface DeskOptions extends CardOptions {
  keys?: string;
  manifest: string;
  audit: string;
  operator?: string;
  yes?: boolean;
  /** reload-pin: the new PIN; change-pin: the new PIN */
  pinFile?: string;
  /** change-pin: the holder's current PIN */
  oldPinFile?: string;
  /** set-limits, in yuan */
  singleLimit?: string;
  balanceCap?: string;
  pinThreshold?: string;
}

export interface DeskReport {
  cardId: string;
  operation: DeskOperation;
  /** what the operation changes, as the desk showed it before asking */
  change: string;
  before: DeskCardState;
  after: DeskCardState;
}

/** The limits set-limits may change: option, data object. */
const LIMITS = [
  ['singleLimit', 'singleLimit', '--single-limit'],
  ['balanceCap', 'balanceCap', '--balance-cap'],
  ['pinThreshold', 'pinThreshold', '--pin-threshold'],
] as const satisfies readonly (readonly [keyof DeskOptions, DataObjectName, string])[];

const yuan = (fen: number) => `${(fen / 100).toFixed(2)}`;

async function readState(card: DrmbCard): Promise<DeskCardState> {
  const info = await card.select();
  return {
    state: info.state,
    pinTriesLeft: (await card.getData('pinTriesLeft')) as number,
    singleLimitFen: (await card.getData('singleLimit')) as number,
    balanceCapFen: (await card.getData('balanceCap')) as number,
    pinThresholdFen: (await card.getData('pinThreshold')) as number,
  };
}

/** The new PIN: --pin-file, or asked twice on a terminal. */
async function newPinOf(o: DeskOptions): Promise<string> {
  return o.pinFile !== undefined ? readPinFile(o.pinFile) : promptPin({ question: 'new PIN: ', confirm: true, why: 'no new PIN: give --pin-file <file>, or run on a terminal to be asked for it' });
}

function operatorOf(o: DeskOptions): string {
  if (o.operator) return o.operator;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs one desk operation. Everything the command needs is checked (options, keys) before the card is
 * changed; the card's refusal (a wrong MAC 9302, the wrong state 6985) is the card's word, and then
 * the manifest records the failure and nothing else changed.
 */
export async function runDeskOperation(operation: DeskOperation, o: DeskOptions): Promise<DeskReport> {
  const limits = operation === 'set-limits' ? LIMITS.filter(([opt]) => o[opt] !== undefined).map(([opt, name, flag]) => ({ name, flag, fen: fenOf(o[opt] as string, flag) })) : [];
  if (operation === 'set-limits' && limits.length === 0) throw new UsageError('set-limits needs at least one of --single-limit, --balance-cap, --pin-threshold (yuan)');
  if (operation === 'change-pin' && o.oldPinFile === undefined && !canPrompt()) throw new UsageError('change-pin needs --old-pin-file and --pin-file, or a terminal to ask on');
  const keyName = operation === 'reload-pin' ? 'pinReload' : 'issuerMac';
  // The desk's issuer-script masters; CHANGE PIN needs none (the holder's old PIN is the proof).
  const bundle = operation === 'change-pin' ? undefined : RoleKeys.open(keyDirOf(o), `drmb card ${operation}`);
  const master = operation === 'change-pin' || operation === 'terminate' ? undefined : bundle!.key('issuer-master');
  const issuanceMaster = operation === 'terminate' ? bundle!.key('issuance-master') : undefined;
  const manifest = new Manifest(o.manifest);
  const operator = operatorOf(o);
  try {
    return await withCard(o, { image: 'save-every-commit' }, async (t) => {
      const card = new DrmbCard(t);
      const info = await card.select();
      if (!info.cardId) throw new UsageError(`the card is ${info.state}: a desk operation needs an issued card`);
      const cardId = info.cardId;
      const before = await readState(card);
      if (operation === 'terminate') {
        const balanceFen = before.state === 'ISSUED' || before.state === 'LOCKED' ? await card.balance() : 0;
        // SET STATUS refuses with coins on the card (6985): say so before asking, and what to do
        if (balanceFen > 0) throw new UsageError(`card ${cardId} still holds ${yuan(balanceFen)} yuan: pay its coins out first (drmb card return), then terminate it`);
      }
      const change =
        operation === 'terminate'
          ? `terminate card ${cardId} (${before.state} -> TERMINATED): it can never be used again`
          : operation === 'block'
          ? `block card ${cardId} (${before.state} -> LOCKED): it pays and loads nothing until unblocked`
          : operation === 'unblock'
            ? `unblock card ${cardId} (${before.state} -> ISSUED)`
            : operation === 'reload-pin'
              ? `give card ${cardId} a new PIN (PIN tries ${before.pinTriesLeft} -> full)`
              : operation === 'change-pin'
                ? `change the PIN of card ${cardId}, with the holder's current PIN`
                : `set ${limits.map((l) => `${DATA_OBJECTS[l.name].name.toLowerCase()} ${yuan((before as unknown as Record<string, number>)[`${l.name}Fen`])} -> ${yuan(l.fen)}`).join(', ')} yuan on card ${cardId}`;
      if (!o.json) process.stderr.write(`${change}\n`);
      await confirm(o.yes, `${change}. Go ahead?`, change);
      const newPin = operation === 'reload-pin' || operation === 'change-pin' ? await newPinOf(o) : undefined;
      const oldPin = operation === 'change-pin' ? (o.oldPinFile !== undefined ? readPinFile(o.oldPinFile) : await promptPin({ question: 'current PIN: ', why: "no current PIN: give --old-pin-file <file>, or run on a terminal to be asked for it" })) : undefined;
      const keys = master ? cardApplicationKeysOf(master, cardIdToBytes(cardId), [keyName]) : undefined;
      const time = new Date().toISOString();
      try {
        const sign = keys ? issuerLineMacSigner(keys[keyName]) : undefined;
        if (operation === 'block') await card.block(sign!);
        else if (operation === 'unblock') await card.unblock(sign!);
        else if (operation === 'reload-pin') await card.reloadPin(newPin!, sign!);
        else if (operation === 'change-pin') await card.changePin(oldPin!, newPin!);
        else if (operation === 'terminate') await terminate(card, t, issuanceMaster!, cardId);
        else for (const l of limits) await card.putData(DATA_OBJECTS[l.name].tag, DATA_OBJECTS[l.name].coder.encode(l.fen), sign!);
      } catch (e) {
        manifest.append({ cardId, stage: operation, result: 'failed', time, operator, steps: [], error: (e as Error).message });
        appendAudit(o.audit, { time, operator, action: `${operation} failed`, cardId, detail: { change, error: (e as Error).message } });
        throw e;
      } finally {
        if (keys) wipe(...Object.values(keys));
      }
      // a terminated card answers nothing more (SELECT 6A81): its limits stay what they were
      const after = operation === 'terminate' ? { ...before, state: 'TERMINATED' } : await readState(card);
      manifest.append({ cardId, stage: operation, result: 'done', time, operator, steps: [operation] });
      appendAudit(o.audit, { time, operator, action: operation, cardId, detail: { change, before, after } });
      return { cardId, operation, change, before, after };
    });
  } finally {
    if (master) wipeKeyFile(master);
    if (issuanceMaster) wipeKeyFile(issuanceMaster);
  }
}

/** SET STATUS through the issuance channel (kvn 31), whose keys are derived for this card only. */
async function terminate(card: DrmbCard, t: Transport, issuanceMaster: KeyFile<'issuance-master'>, cardId: string): Promise<void> {
  const scpKeys = cardIssuanceKeys(issuanceMaster.secret, cardIdToBytes(cardId));
  try {
    const channel = await openSecureChannel(t, scpKeys, { kvn: KEY_VERSIONS.ISSUANCE });
    await card.terminate(channel);
  } finally {
    wipe(scpKeys.enc, scpKeys.mac, scpKeys.dek);
  }
}

export function formatDesk(r: DeskReport): string {
  const a = r.after;
  return [
    `card ${r.cardId}: ${r.operation} done`,
    `  state            ${a.state}`,
    `  PIN tries left   ${a.pinTriesLeft}`,
    `  single limit     ${yuan(a.singleLimitFen)} yuan`,
    `  balance cap      ${yuan(a.balanceCapFen)} yuan`,
    `  PIN threshold    ${yuan(a.pinThresholdFen)} yuan`,
  ].join('\n');
}

/** Registers the desk's operations on the `card` group. */
export function registerDeskOperations(card: Cli): void {
  const what: Record<DeskOperation, string> = {
    block: 'block a lost card (APPLICATION BLOCK by issuer script): it pays and loads nothing until unblocked',
    unblock: 'unblock a found card (APPLICATION UNBLOCK by issuer script)',
    'reload-pin': "give a holder who forgot the PIN a new one (RELOAD PIN by issuer script): the tries are full again",
    'set-limits': "change the card's limits (PUT DATA by issuer script): single payment limit, balance cap, PIN threshold",
    'change-pin': "change the PIN with the holder's current one (CHANGE PIN): no key",
    terminate: 'terminate a card with no coins left (SET STATUS through the issuance secure channel): it can never be used again',
  };
  for (const operation of Object.keys(what) as DeskOperation[]) {
    const cmd = card.command(operation).description(what[operation]);
    withCardTarget(cmd, { image: 'save-every-commit', holder: undefined });
    if (operation !== 'change-pin') withKeys(cmd, `the issuance desk's bundle (its ${operation === 'terminate' ? 'issuance-master' : 'issuer-master'})`);
    if (operation === 'set-limits') {
      cmd.option('--single-limit <yuan>', 'largest single payment').option('--balance-cap <yuan>', 'largest balance').option('--pin-threshold <yuan>', 'payments above it need the PIN');
    }
    if (operation === 'reload-pin' || operation === 'change-pin') cmd.option('--pin-file <file>', 'the new PIN (first line); without it, asked twice on the terminal');
    if (operation === 'change-pin') cmd.option('--old-pin-file <file>', "the holder's current PIN (first line); without it, asked on the terminal");
    cmd
      .option('--manifest <file>', "the desk's manifest, one JSON line per card and operation", 'perso-manifest.jsonl')
      .option('--audit <file>', "the desk's hash-chained audit log", 'perso-audit.log')
      .option('--operator <name>', 'operator recorded in the manifest and audit log (default: the login name)')
      .option('--yes', 'do not ask before changing the card');
    withJson(withTrace(cmd)).action(async (o: DeskOptions) => {
      emit(await runDeskOperation(operation, o), !!o.json, formatDesk);
    });
  }
}
