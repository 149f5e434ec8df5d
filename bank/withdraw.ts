/**
 * @module Withdrawal: the commercial bank loads coins from its vault onto a card (INITIALIZE FOR LOAD,
 * MAC1 checked, MAC2 over amount and coin list, CREDIT FOR LOAD) and records the card as the coins'
 * owner only after the card's TAC proves the load (JR/T 0025.2 load, D-RMB coin list in MAC2). A lost
 * answer is resolved with GET TRANSACTION PROVE before anything is recorded or retried.
 */
import { type Coin, coinListCoder, TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { concatBytes, equalBytes, wipe } from '../crypto/bytes.js';
import { loadMac1Data, loadMac2Data, loadTacData, pbocLoadSessionKey, pbocMac, pbocTac } from '../crypto/pboc.js';
import { sm3 } from '../crypto/sm3.js';
import type { DrmbCard, LoadChallenge } from '../host/drmb-card.js';
import { TransportError } from '../host/errors.js';
import { cardApplicationKeys, cardIdToBytes } from '../personalization/card-keys.js';
import type { KeyFile } from '../personalization/key-files.js';
import { bankOwner, cardOwner, type Registry } from './registry.js';

const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

/** A withdrawal that cannot go on; nothing was recorded. */
export class WithdrawalError extends Error {
  override readonly name = 'WithdrawalError';
}

/** Coins of the vault adding up to exactly `amountFen`, largest first; undefined when none do. */
export function pickExactCoins(vault: readonly Coin[], amountFen: number): Coin[] | undefined {
  const sorted = [...vault].sort((a, b) => b.body.denominationFen - a.body.denominationFen);
  const picked: Coin[] = [];
  const go = (i: number, left: number): boolean => {
    if (left === 0) return true;
    for (let j = i; j < sorted.length; j++) {
      const d = sorted[j].body.denominationFen;
      if (d > left || (j > i && d === sorted[j - 1].body.denominationFen)) continue;
      picked.push(sorted[j]);
      if (go(j + 1, left - d)) return true;
      picked.pop();
    }
    return false;
  };
  return go(0, amountFen) ? picked : undefined;
}

export interface WithdrawOptions {
  bankCode: string;
  amountFen: number;
  /** central-bank master keys: the card's load and TAC keys derive from them by card ID */
  cbMaster: KeyFile<'cb-master'>;
  terminalId: Uint8Array;
  date: string;
  time: string;
}

export interface WithdrawResult {
  cardId: string;
  counter: number;
  amountFen: number;
  tac: Uint8Array;
  serials: Uint8Array[];
}

/**
 * Loads `amountFen` from the bank's vault onto the selected card. Security: MAC2 under the card's load
 * key, TAC under its TAC key; the registry changes owner only after the TAC verifies. On a lost
 * answer (TransportError during CREDIT FOR LOAD) nothing is recorded: the caller reconnects and asks
 * GET TRANSACTION PROVE (LOAD, counter) before recording or retrying.
 */
export async function withdraw(card: DrmbCard, registry: Registry, o: WithdrawOptions): Promise<WithdrawResult> {
  const info = await card.select();
  if (info.state !== 'ISSUED' || !info.cardId) throw new WithdrawalError(`card is ${info.state}, not ISSUED`);
  const cardId = info.cardId;
  const coins = pickExactCoins(await registry.coinsOf(bankOwner(o.bankCode)), o.amountFen);
  if (!coins) throw new WithdrawalError(`the vault of bank ${o.bankCode} holds no coins adding up to exactly ${o.amountFen} fen`);
  const keys = cardApplicationKeys(o.cbMaster, cardIdToBytes(cardId));
  let challenge: LoadChallenge | undefined;
  try {
    const { counter, tac } = await card.loadCoins(coins, o.terminalId, { date: o.date, time: o.time }, (c) => {
      challenge = c;
      const sk = pbocLoadSessionKey(keys.load, c.cardRandom, u32(c.counter));
      try {
        const mac1 = pbocMac(sk, loadMac1Data({ balanceFen: c.balanceFen, amountFen: c.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: o.terminalId }));
        if (!equalBytes(mac1, c.mac1)) throw new WithdrawalError(`card ${cardId}: MAC1 does not verify (not a card of this issuer, or wrong keys)`);
        const data = loadMac2Data({ amountFen: c.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: o.terminalId, date: o.date, time: o.time });
        return pbocMac(sk, concatBytes(data, sm3(coinListCoder.encode(coins))));
      } finally {
        wipe(sk);
      }
    });
    const expected = pbocTac(
      keys.tac,
      loadTacData({ newBalanceFen: challenge!.balanceFen + o.amountFen, counter, amountFen: o.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: o.terminalId, date: o.date, time: o.time }),
    );
    if (!equalBytes(expected, tac)) throw new WithdrawalError(`card ${cardId}: TAC does not verify; coins not recorded (resolve with GET TRANSACTION PROVE)`);
    const serials = coins.map((c) => c.body.serial);
    await registry.transfer(serials, bankOwner(o.bankCode), cardOwner(cardId), { kind: 'withdraw', payerCardId: cardId, payerCounter: counter });
    return { cardId, counter, amountFen: o.amountFen, tac, serials };
  } catch (e) {
    if (e instanceof TransportError && challenge) {
      throw new WithdrawalError(`card ${cardId}: answer to CREDIT FOR LOAD lost (${e.message}); resolve load counter ${challenge.counter} with GET TRANSACTION PROVE before retrying`);
    }
    throw e;
  } finally {
    wipe(...Object.values(keys));
  }
}
