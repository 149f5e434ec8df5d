/**
 * @module Withdrawal: the commercial bank loads coins from its vault onto a card (INITIALIZE FOR LOAD,
 * MAC1 checked, MAC2 over amount and coin list, CREDIT FOR LOAD) and records the card as the coins'
 * owner only after the card's TAC proves the load (JR/T 0025.2 load, D-RMB coin list in MAC2). A lost
 * answer is resolved with GET TRANSACTION PROVE before anything is recorded or retried; with the host's
 * value journal, a load whose recording was cut off is finished from it (loadRecording).
 */
import { OperationalError } from '../base/operational-error.js';
import * as C from '../applet-spec/commands.js';
import { fromHex, hex } from '../base/hex.js';
import { coinListCoder, TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { selectExactCoins } from '../coins/select-exact-coins.js';
import { concatBytes, equalBytes, wipe } from '../base/bytes.js';
import { loadMac1Data, loadMac2Data, loadTacData } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac, pbocTac } from '../crypto/pboc.js';
import { sm3 } from '../crypto/sm3.js';
import type { DrmbCard, LoadChallenge } from '../host/drmb-card.js';
import { StatusWordError, TransportError } from '../host/errors.js';
import { closeIfNeverCommitted, type Deliver, UndeliverableError } from '../host/finish-intent.js';
import type { ValueIntent, ValueJournal } from '../host/value-journal.js';
import { type ApplicationMasters, cardApplicationKeysOf, cardIdToBytes } from '../keys/card-keys.js';
import { bankOwner, cardOwner, type Registry } from './registry.js';
import { u32 } from '../applet-spec/codec/fields.js';


/**
 * What a withdrawal needs of the registry: the vault's coins, and the move to the card once its TAC
 * verifies. The central bank's Registry, or a bank's RemoteRegistry of the registry's service.
 */
export type WithdrawalLedger = Pick<Registry, 'coinsOf' | 'transfer'>;

/** A withdrawal that cannot go on; nothing was recorded. */
export class WithdrawalError extends OperationalError {
  override readonly name = 'WithdrawalError';
}

/** The application keys a withdrawal derives for the card: MAC1/MAC2 under the load key, the TAC under the TAC key (JR/T 0025.2 load). */
const LOAD_KEYS = ['load', 'tac'] as const;

/** Masters holding at least the load and TAC application masters: a load-master key file, or the whole cb-master. */
export type LoadMasters = ApplicationMasters<(typeof LOAD_KEYS)[number]>;

/**
 * A withdrawal: the bank, the amount, the load masters the card's load and TAC keys derive from, the
 * terminal and the time, and optionally the host's value journal.
 */
export interface WithdrawOptions {
  bankCode: string;
  amountFen: number;
  /** the load and TAC application masters (a bank vault's load-master, or the whole cb-master): the card's load and TAC keys derive from them by card ID */
  loadMasters: LoadMasters;
  terminalId: Uint8Array;
  date: string;
  time: string;
  /**
   * The host's value journal: the load is journalled between INITIALIZE FOR LOAD and CREDIT FOR LOAD
   * and closed once the registry records it. `destination` names the registry (no credentials).
   */
  journal?: { journal: ValueJournal; destination: string; detail?: Record<string, string> };
  /** Called once the card has committed the load, before the registry records it (progress; a test kills the process here). */
  onCredited?: () => void;
  /** only vault coins expiring on or after this date (YYYYMMDD): a renewal loads no coin near expiry */
  notExpiringBefore?: string;
}

/**
 * A completed withdrawal: the card, the counter of its load, the amount, the card's TAC and the
 * serials of the coins loaded.
 */
export interface WithdrawResult {
  cardId: string;
  counter: number;
  amountFen: number;
  tac: Uint8Array;
  serials: Uint8Array[];
}

/**
 * Loads `amountFen` from the bank's vault onto the selected card, the fewest vault coins that make it
 * exactly (selectExactCoins). Security: MAC2 under the card's load
 * key, TAC under its TAC key; the registry changes owner only after the TAC verifies. On a lost
 * answer (TransportError during CREDIT FOR LOAD) nothing is recorded: the caller reconnects and asks
 * GET TRANSACTION PROVE (LOAD, counter) before recording or retrying.
 */
export async function withdraw(card: DrmbCard, registry: WithdrawalLedger, o: WithdrawOptions): Promise<WithdrawResult> {
  const info = await card.select();
  if (info.state !== 'ISSUED' || !info.cardId) throw new WithdrawalError(`card is ${info.state}, not ISSUED`);
  const cardId = info.cardId;
  const vault = (await registry.coinsOf(bankOwner(o.bankCode))).filter((c) => o.notExpiringBefore === undefined || c.body.expiryDate >= o.notExpiringBefore);
  const coins = selectExactCoins(vault, o.amountFen);
  if (!coins) throw new WithdrawalError(`the vault of bank ${o.bankCode} holds no coins${o.notExpiringBefore ? ` expiring on or after ${o.notExpiringBefore}` : ''} adding up to exactly ${o.amountFen} fen`);
  const keys = cardApplicationKeysOf(o.loadMasters, cardIdToBytes(cardId), LOAD_KEYS);
  const serials = coins.map((c) => c.body.serial);
  let challenge: LoadChallenge | undefined;
  let intent: ValueIntent | undefined;
  try {
    const { counter, tac } = await card.loadCoins(coins, o.terminalId, { date: o.date, time: o.time }, (c) => {
      challenge = c;
      const sk = pbocLoadSessionKey(keys.load, c.cardRandom, u32.encode(c.counter));
      try {
        const mac1 = pbocMac(sk, loadMac1Data({ balanceFen: c.balanceFen, amountFen: c.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: o.terminalId }));
        if (!equalBytes(mac1, c.mac1)) throw new WithdrawalError(`card ${cardId}: MAC1 does not verify (not a card of this issuer, or wrong keys)`);
        const data = loadMac2Data({ amountFen: c.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: o.terminalId, date: o.date, time: o.time });
        const mac2 = pbocMac(sk, concatBytes(data, sm3(coinListCoder.encode(coins))));
        // Durable before MAC2 lets CREDIT FOR LOAD commit: everything loadRecording needs to finish it.
        const detail: LoadDetail = { bankCode: o.bankCode, balanceBeforeFen: c.balanceFen, terminalId: hex(o.terminalId), date: o.date, time: o.time, serials: serials.map(hex) };
        intent = o.journal?.journal.open({ cardId, type: 'LOAD', counter: c.counter, amountFen: o.amountFen, destination: o.journal.destination, detail: { ...o.journal.detail, ...detail } });
        return mac2;
      } finally {
        wipe(sk);
      }
    });
    o.onCredited?.();
    const expected = pbocTac(
      keys.tac,
      loadTacData({ newBalanceFen: challenge!.balanceFen + o.amountFen, counter, amountFen: o.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: o.terminalId, date: o.date, time: o.time }),
    );
    if (!equalBytes(expected, tac)) throw new WithdrawalError(`card ${cardId}: TAC does not verify; coins not recorded (resolve with GET TRANSACTION PROVE)`);
    await registry.transfer(serials, bankOwner(o.bankCode), cardOwner(cardId), { kind: 'withdraw', payerCardId: cardId, payerCounter: counter });
    if (intent) o.journal!.journal.close(intent, 'delivered', recordedNote(cardId));
    return { cardId, counter, amountFen: o.amountFen, tac, serials };
  } catch (e) {
    if (e instanceof StatusWordError && intent && o.journal) await closeIfNeverCommitted(card, o.journal.journal, intent);
    if (e instanceof TransportError && challenge) {
      throw new WithdrawalError(`card ${cardId}: answer to CREDIT FOR LOAD lost (${e.message}); resolve load counter ${challenge.counter} with GET TRANSACTION PROVE before retrying`);
    }
    throw e;
  } finally {
    wipe(...Object.values(keys));
  }
}

/** What a LOAD intent records for loadRecording (hex strings: the journal is JSON). */
interface LoadDetail {
  bankCode: string;
  balanceBeforeFen: number;
  terminalId: string;
  date: string;
  time: string;
  serials: string[];
}

const recordedNote = (cardId: string) => `coins recorded in the registry as card ${cardId}'s`;

function loadDetailOf(intent: ValueIntent): LoadDetail {
  const d = intent.detail;
  const ok =
    typeof d.bankCode === 'string' &&
    typeof d.balanceBeforeFen === 'number' &&
    typeof d.terminalId === 'string' &&
    typeof d.date === 'string' &&
    typeof d.time === 'string' &&
    Array.isArray(d.serials) &&
    d.serials.every((x) => typeof x === 'string');
  if (!ok) throw new UndeliverableError(`intent ${intent.id} lacks the load's details (bank, balance, terminal, date, serials)`);
  return d as unknown as LoadDetail;
}

/**
 * Finishes a LOAD intent from the card's stored CREDIT FOR LOAD response: the TAC is verified as
 * withdraw() does, then the registry records the journalled coins as the card's (already so: nothing
 * to do). Coins owned by anyone but the bank's vault or the card are left alone (UndeliverableError).
 * Security: the TAC under the card's TAC key, derived from the central-bank master.
 */
export function loadRecording(registry: Pick<Registry, 'ownerOf' | 'transfer'>, loadMasters: LoadMasters): Deliver {
  return async (intent, proof) => {
    if (intent.type !== 'LOAD') throw new UndeliverableError(`a ${intent.type} intent is not recorded in the registry`);
    const d = loadDetailOf(intent);
    const { tac } = C.creditForLoad.decodeResponse(proof);
    const keys = cardApplicationKeysOf(loadMasters, cardIdToBytes(intent.cardId), LOAD_KEYS);
    const terminalId = fromHex(d.terminalId);
    let expected: Uint8Array;
    try {
      expected = pbocTac(
        keys.tac,
        loadTacData({ newBalanceFen: d.balanceBeforeFen + intent.amountFen, counter: intent.counter, amountFen: intent.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId, date: d.date, time: d.time }),
      );
    } finally {
      wipe(...Object.values(keys));
    }
    if (!equalBytes(expected, tac)) throw new UndeliverableError(`the TAC of load counter ${intent.counter} does not verify; coins not recorded`);
    const serials = d.serials.map(fromHex);
    const card = cardOwner(intent.cardId);
    const vault = bankOwner(d.bankCode);
    const owners = await Promise.all(serials.map((s) => registry.ownerOf(s)));
    if (owners.every((x) => x === card)) return { where: 'registry', note: recordedNote(intent.cardId) };
    if (!owners.every((x) => x === vault)) throw new UndeliverableError(`the registry holds the loaded coins under other owners (${[...new Set(owners)].join(', ')})`);
    await registry.transfer(serials, vault, card, { kind: 'withdraw', payerCardId: intent.cardId, payerCounter: intent.counter });
    return { where: 'registry', note: recordedNote(intent.cardId) };
  };
}
