/**
 * @module What the host can read back of a card's state without changing it (SELECT, GET BALANCE,
 * GET DATA, READ RECORD of the log: no PIN, no secure channel), and the comparison that cases run
 * after every refused command: the refusal must leave all of it as it was.
 */
import * as C from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { DATA_OBJECTS, type DataObjectName } from '../applet-spec/data-objects.js';
import { hex } from '../base/hex.js';
import type { AppState } from '../applet-spec/lifecycle.js';
import { SW } from '../applet-spec/status-words.js';
import { logRecordCoder } from '../applet-spec/value-formats.js';
import { CardSession } from '../host/card-session.js';
import type { Transport } from '../host/transport.js';

/** The readable state; a member is undefined when the card does not answer it in its state. */
export interface CardState {
  /** undefined when SELECT fails (a terminated application answers 6A81) */
  state?: AppState;
  selectSw: number;
  balanceFen?: number;
  counter?: number;
  pinTriesLeft?: number;
  /** count per denomination, as hex of GET DATA DF20 */
  coinSummary?: string;
  /** the log records, most recent first, as hex */
  log?: string[];
}

/** GET DATA objects read into the snapshot. */
const READ: readonly [keyof CardState, DataObjectName][] = [
  ['counter', 'transactionCounter'],
  ['pinTriesLeft', 'pinTriesLeft'],
];

/** Most log records read (a cyclic log holds fewer). */
const MAX_LOG_RECORDS = 64;

/**
 * Reads the state. Starts with SELECT, so it also ends any pending transaction and the PIN state:
 * take it between commands of a case only where that is wanted.
 */
export async function readCardState(transport: Transport): Promise<CardState> {
  const s = new CardSession(transport);
  const sel = await s.exchange(C.select, { aid: DRMB_AID }, { accept: [SW.FILE_NOT_FOUND, SW.FUNCTION_NOT_SUPPORTED] });
  const out: CardState = { selectSw: sel.sw };
  if (!sel.value) return out;
  out.state = sel.value.proprietary.issuerData.appState;
  const bal = await s.exchange(C.getBalance, {}, { accept: [SW.CONDITIONS_OF_USE_NOT_SATISFIED] });
  if (bal.value) out.balanceFen = bal.value.balanceFen;
  for (const [member, name] of READ) {
    const obj = DATA_OBJECTS[name];
    const r = await s.exchange(C.getData, { tag: obj.tag }, { accept: [SW.REFERENCED_DATA_NOT_FOUND, SW.CONDITIONS_OF_USE_NOT_SATISFIED] });
    if (r.value && r.value.tag === obj.tag) (out as unknown as Record<string, unknown>)[member] = obj.coder.decode(r.value.value, name);
  }
  const coins = await s.exchange(C.getData, { tag: DATA_OBJECTS.coinSummary.tag }, { accept: [SW.REFERENCED_DATA_NOT_FOUND, SW.CONDITIONS_OF_USE_NOT_SATISFIED] });
  if (coins.value) out.coinSummary = hex(coins.value.value);
  const log: string[] = [];
  for (let record = 1; record <= MAX_LOG_RECORDS; record++) {
    const r = await s.exchange(C.readLogRecord, { record }, { accept: [SW.RECORD_NOT_FOUND, SW.CONDITIONS_OF_USE_NOT_SATISFIED] });
    if (!r.value) break;
    log.push(hex(logRecordCoder.encode(r.value)));
  }
  if (log.length || out.state === 'ISSUED' || out.state === 'LOCKED') out.log = log;
  return out;
}

/** The members that differ between two snapshots, as "balanceFen 100 -> 0" lines. */
export function stateDifferences(before: CardState, after: CardState): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof CardState)[]);
  const out: string[] = [];
  for (const k of keys) {
    const a = JSON.stringify(before[k]);
    const b = JSON.stringify(after[k]);
    if (a !== b) out.push(`${k} ${a ?? 'unreadable'} -> ${b ?? 'unreadable'}`);
  }
  return out;
}
