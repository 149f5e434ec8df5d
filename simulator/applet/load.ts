/**
 * @module load: a coin load from the bank (JR/T 0025.2 load): INITIALIZE FOR LOAD proves the card with
 * MAC1; CREDIT FOR LOAD checks MAC2 and every coin, then commits coins, counter, log and proof at once.
 */
import { creditForLoad } from '../../applet-spec/commands/credit-for-load.js';
import { ALGORITHM_SM4, APPLICATION_KEY_INDEX, APPLICATION_KEY_VERSION, initializeForLoad } from '../../applet-spec/commands/initialize-for-load.js';
import { u32 } from '../../applet-spec/codec/fields.js';
import { SW } from '../../applet-spec/status-words.js';
import { TRANSACTION_TYPES } from '../../applet-spec/value-formats.js';
import { verifyCoinList } from '../../coins/verify-coin-list.js';
import { concatBytes, equalBytes } from '../../base/bytes.js';
import { loadMac1Data, loadMac2Data, loadTacData } from '../../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac, pbocTac } from '../../crypto/pboc.js';
import { sm3 } from '../../crypto/sm3.js';
import { check, IsoException } from '../iso-exception.js';
import { IMPORT_FAULT_SW } from './receive.js';
import { type Handler, type Route, route } from './route.js';

const startLoad: Handler<typeof initializeForLoad> = (r, ctx) => {
  check(r.keyIndex === APPLICATION_KEY_INDEX, SW.KEY_INDEX_NOT_SUPPORTED);
  check(r.amountFen > 0, SW.INCORRECT_DATA, 'zero amount');
  const m = ctx.memory;
  const balanceFen = m.balanceFen;
  check(balanceFen + r.amountFen <= m.risk.balanceCapFen, SW.OVER_BALANCE_CAP);
  const cardRandom = ctx.random(4);
  const counter = m.counter;
  const sessionKey = pbocLoadSessionKey(ctx.appKey('load')!, cardRandom, u32.encode(counter));
  const mac1 = pbocMac(sessionKey, loadMac1Data({ balanceFen, amountFen: r.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: r.terminalId }));
  ctx.session.load = { amountFen: r.amountFen, terminalId: r.terminalId, sessionKey, counter };
  return { balanceFen, counter, keyVersion: APPLICATION_KEY_VERSION, algorithmId: ALGORITHM_SM4, cardRandom, mac1 };
};

const credit: Handler<typeof creditForLoad> = (r, ctx, apdu) => {
  const load = ctx.session.load!;
  ctx.session.load = undefined;
  // The coin list as sent, between date and time (7 bytes) and MAC2 (4 bytes): MAC2 covers its SM3.
  const coinListBytes = apdu.data.subarray(7, apdu.data.length - 4);
  const mac2Data = concatBytes(
    loadMac2Data({ amountFen: load.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId: load.terminalId, date: r.date, time: r.time }),
    sm3(coinListBytes),
  );
  check(equalBytes(pbocMac(load.sessionKey, mac2Data), r.mac2), SW.MAC_INVALID, 'MAC2');
  const sum = r.coins.reduce((s, c) => s + c.body.denominationFen, 0);
  check(sum === load.amountFen && r.coins.length > 0, SW.INCORRECT_DATA, 'coins do not add up to the amount');
  // Each coin as IMPORT COINS checks it, with the same status words: format, key and signature (9410), expiry on the load date (9418), serial (9411).
  const fault = verifyCoinList(r.coins, coinListBytes, { verifier: ctx.packetAnchors.coinVerifier, atDate: r.date, isHeld: ctx.heldSerials() });
  if (fault) throw new IsoException(IMPORT_FAULT_SW[fault.fault], `coin ${fault.index}: ${fault.fault}`);
  ctx.checkRoom(sum, r.coins.length);

  const m = ctx.memory;
  const newBalance = m.balanceFen + sum;
  const tac = pbocTac(
    ctx.appKey('tac')!,
    loadTacData({ newBalanceFen: newBalance, counter: load.counter, amountFen: sum, transactionType: TRANSACTION_TYPES.LOAD, terminalId: load.terminalId, date: r.date, time: r.time }),
  );
  const response = { tac };
  const store = m.store;
  store.begin();
  m.setCoins([...m.coins, ...r.coins]);
  m.setCounter(load.counter + 1);
  m.setOfflineUse({ count: 0, amountFen: 0 });
  m.appendLog({
    counter: load.counter,
    type: 'LOAD',
    amountFen: sum,
    balanceAfterFen: newBalance,
    counterparty: concatBytes(new Uint8Array(4), load.terminalId),
    date: r.date,
    time: r.time,
    coinSetHash: sm3(coinListBytes).subarray(0, 8),
  });
  m.putProof(TRANSACTION_TYPES.LOAD, load.counter, creditForLoad.encodeResponse(response));
  store.commit();
  return response;
};

export const load: readonly Route[] = [route(initializeForLoad, startLoad), route(creditForLoad, credit)];
