/**
 * @module Scenario cases from the card's invariants (value moves with their MACs, TACs and
 * signatures verified, byte-identical proofs, counters, PIN block and reload, block and unblock,
 * limits) and the command-specific status words that need a prepared card to provoke. Each needs
 * only what it names: the runner skips it otherwise.
 */
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { fromHex } from '../base/hex.js';
import * as C from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { COMMANDS } from '../applet-spec/commands.js';
import { SW, swTriesLeft } from '../applet-spec/status-words.js';
import { equalBytes } from '../base/bytes.js';
import { CardSession } from '../host/card-session.js';
import { type CaseContext } from './case-context.js';
import { CaseSkip, check, type ConformanceCase } from './conformance-case.js';
import { refusalCase } from './spec-cases.js';
import { CONFORMANCE_TERMINAL_ID, loadAndCheck, loadOneCoin, mintTestCoin, purchaseAndCheck, readNumber } from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const VALUE_KEYS = ['cbMaster', 'coinSigning'] as const;

/** Command-specific status words, each provoked on a card prepared for it. */
function commandSwCases(): ConformanceCase[] {
  return [
    refusalCase({
      id: 'SEL-SW-6A82-AID',
      clause: C.select.mirrors,
      rule: 'SELECT of an AID the card does not hold (F044524D4202) is answered 6A82',
      needs: { states: ISSUED },
      what: 'SELECT',
      expected: [SW.FILE_NOT_FOUND],
      provoke: (ctx) => ctx.send(C.select, { aid: Uint8Array.of(0xf0, 0x44, 0x52, 0x4d, 0x42, 0x02) }),
    }),
    refusalCase({
      id: 'GETRESP-SW-6985-NO61',
      clause: C.getResponse.mirrors,
      rule: 'GET RESPONSE not directly after a 61xx answer is refused 6985',
      needs: { states: ISSUED },
      what: 'GET RESPONSE',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      provoke: (ctx) => ctx.raw(fromHex('00C0000000')),
    }),
    refusalCase({
      id: 'GETCHAL-SW-6700-LE',
      clause: C.getChallenge.mirrors,
      rule: 'GET CHALLENGE with Le other than 4 or 8 (here 5) is refused 6700',
      needs: { states: ISSUED },
      what: 'GET CHALLENGE',
      expected: [SW.WRONG_LENGTH],
      provoke: (ctx) => ctx.raw(fromHex('0084000005')),
    }),
    refusalCase({
      id: 'READLOG-SW-6A83-END',
      clause: C.readLogRecord.mirrors,
      rule: 'READ RECORD of the log one past the last record written is answered 6A83',
      needs: { states: ISSUED },
      what: 'READ RECORD (log)',
      expected: [SW.RECORD_NOT_FOUND],
      provoke: async (ctx) => {
        const n = (await ctx.card.readLog()).length;
        return ctx.send(C.readLogRecord, { record: n + 1 });
      },
    }),
    refusalCase({
      id: 'READCOIN-SW-6A83-END',
      clause: C.readCoinRecord.mirrors,
      rule: 'READ RECORD of the coins one past the last coin held is answered 6A83',
      needs: { states: ISSUED, pin: true },
      what: 'READ RECORD (coins)',
      expected: [SW.RECORD_NOT_FOUND],
      provoke: async (ctx) => {
        await ctx.verifyPin();
        const n = (await ctx.card.listCoins()).length;
        return ctx.send(C.readCoinRecord, { record: n + 1 });
      },
    }),
    refusalCase({
      id: 'PROVE-SW-9406-UNUSED',
      clause: C.getTransactionProve.mirrors,
      rule: 'GET TRANSACTION PROVE of a counter no transaction has used yet is answered 9406',
      needs: { states: ISSUED },
      what: 'GET TRANSACTION PROVE',
      expected: [SW.MAC_NOT_AVAILABLE],
      provoke: async (ctx) => {
        const counter = await readNumber(ctx, 'transactionCounter');
        return ctx.send(C.getTransactionProve, { transactionType: 0x02, counter: counter + 100 });
      },
    }),
    refusalCase({
      id: 'INITUPD-SW-6A88-BLANK',
      clause: C.initializeUpdate.mirrors,
      rule: 'INITIALIZE UPDATE of key version 31 before DGI 8001 is stored (BLANK) is answered 6A88',
      needs: { states: ['BLANK'] },
      what: 'INITIALIZE UPDATE',
      expected: [SW.REFERENCED_DATA_NOT_FOUND],
      provoke: (ctx) => ctx.send(C.initializeUpdate, { keyVersion: KEY_VERSIONS.ISSUANCE, hostChallenge: new Uint8Array(8) }),
    }),
    refusalCase({
      id: 'INITLOAD-SW-9403-KEYINDEX',
      clause: C.initializeForLoad.mirrors,
      rule: 'INITIALIZE FOR LOAD with a key index the card does not have (02) is answered 9403',
      needs: { states: ISSUED },
      what: 'INITIALIZE FOR LOAD',
      expected: [SW.KEY_INDEX_NOT_SUPPORTED],
      provoke: (ctx) => ctx.send(C.initializeForLoad, { keyIndex: 2, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID }),
    }),
    refusalCase({
      id: 'INITLOAD-SW-9412-CAP',
      clause: `${C.initializeForLoad.mirrors}; balance cap`,
      rule: 'INITIALIZE FOR LOAD of one fen more than the room under the balance cap (9F77) is answered 9412',
      needs: { states: ISSUED },
      what: 'INITIALIZE FOR LOAD',
      expected: [SW.OVER_BALANCE_CAP],
      provoke: async (ctx) => {
        const room = (await readNumber(ctx, 'balanceCap')) - (await ctx.card.balance());
        return ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: room + 1, terminalId: CONFORMANCE_TERMINAL_ID });
      },
    }),
    refusalCase({
      id: 'LOAD-SW-9302-MAC2',
      clause: `${C.creditForLoad.mirrors}; MAC2`,
      rule: 'CREDIT FOR LOAD with a MAC2 not made under the card\'s load key is refused 9302',
      needs: { states: ISSUED },
      what: 'CREDIT FOR LOAD',
      expected: [SW.MAC_INVALID],
      provoke: async (ctx) => {
        // The MAC is checked before the coins (creditForLoad), so a coin of any signer serves.
        const coin = { body: { version: 1, denominationFen: 100, serial: new Uint8Array(16).fill(0xc0), issueDate: '20260101', expiryDate: '20361231', keyIndex: 1, m: new Uint8Array(16) }, signature: new Uint8Array(64).fill(0x5a) };
        const init = await ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID });
        ctx.expectSw('INITIALIZE FOR LOAD', init.sw, [SW.OK]);
        return ctx.send(C.creditForLoad, { date: '20261122', time: '101500', coins: [coin], mac2: Uint8Array.of(1, 2, 3, 4) });
      },
    }),
    refusalCase({
      id: 'PUR-SW-9302-MAC1',
      clause: `${C.debitForPurchase.mirrors}; MAC1`,
      rule: "DEBIT FOR PURCHASE with a MAC1 not made under the card's purchase key is refused 9302; no coin leaves",
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'DEBIT FOR PURCHASE',
      expected: [SW.MAC_INVALID],
      // A coin of 1.00 yuan first, so that the purchase gets as far as the MAC.
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: async (ctx) => {
        const init = await ctx.send(C.initializeForPurchase, { keyIndex: 1, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID });
        ctx.expectSw('INITIALIZE FOR PURCHASE', init.sw, [SW.OK]);
        return ctx.send(C.debitForPurchase, { terminalSequence: 1, date: '20261122', time: '101500', unpredictableNumber: new Uint8Array(8), payeeIdentity: 'conformance-merchant', mac1: Uint8Array.of(1, 2, 3, 4) });
      },
    }),
  ];
}

/** INITIALIZE FOR PURCHASE, TRANSFER and RENEWAL: the limits and checks before any coin moves (JR/T 0025.2 purchase; D-RMB limits). */
function paymentLimitCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const xfer = (amountFen: number) => ({ amountFen, payeeIdentity: 'conformance-payee', payeeNonce: new Uint8Array(8), withdrawalCode: '0'.repeat(16), date: '20261122', time: '101500' });
  const pur = (amountFen: number) => ({ keyIndex: 1, amountFen, terminalId: CONFORMANCE_TERMINAL_ID });
  // a renewal date after every coin's expiry: the limits are checked as for any payment
  const renew = (amountFen: number) => ({ amountFen, expiringBefore: '99991231', payeeIdentity: 'conformance-bank', payeeNonce: new Uint8Array(8), date: '20261122', time: '101500' });
  for (const [p, cmd] of [
    ['INITPUR', C.initializeForPurchase],
    ['INITXFER', C.initializeForTransfer],
    ['INITRENEW', C.initializeForRenewal],
  ] as const) {
    const send = (ctx: CaseContext, amountFen: number) =>
      p === 'INITPUR' ? ctx.send(C.initializeForPurchase, pur(amountFen)) : p === 'INITXFER' ? ctx.send(C.initializeForTransfer, xfer(amountFen)) : ctx.send(C.initializeForRenewal, renew(amountFen));
    out.push(
      refusalCase({
        id: `${p}-SW-9401-ISSUED`,
        clause: `${cmd.mirrors}; balance`,
        rule: `${cmd.name} of one fen more than the balance is answered 9401`,
        needs: { states: ISSUED, pin: true },
        what: cmd.name,
        expected: [SW.INSUFFICIENT_BALANCE],
        provoke: async (ctx) => {
          await ctx.verifyPin();
          const amount = (await ctx.card.balance()) + 1;
          if (amount > (await readNumber(ctx, 'singleLimit'))) throw new CaseSkip('the balance is at the single payment limit: no amount is over the balance only');
          return send(ctx, amount);
        },
      }),
      refusalCase({
        id: `${p}-SW-9413-LIMIT`,
        clause: `${cmd.mirrors}; single payment limit`,
        rule: `${cmd.name} of one fen more than the single payment limit (9F78), with the balance to pay it, is answered 9413`,
        needs: { states: ISSUED, pin: true, keys: VALUE_KEYS },
        what: cmd.name,
        expected: [SW.OVER_SINGLE_LIMIT],
        prepare: async (ctx) => void (await loadOneCoin(ctx, (await readNumber(ctx, 'singleLimit')) + 1)),
        provoke: async (ctx) => {
          await ctx.verifyPin();
          return send(ctx, (await readNumber(ctx, 'singleLimit')) + 1);
        },
      }),
      refusalCase({
        id: `${p}-SW-6982-THRESHOLD`,
        clause: `${cmd.mirrors}; PIN threshold`,
        rule: `${cmd.name} of one fen above the PIN threshold (DF09) without VERIFY is refused 6982`,
        needs: { states: ISSUED, keys: VALUE_KEYS },
        what: cmd.name,
        expected: [SW.SECURITY_STATUS_NOT_SATISFIED],
        prepare: async (ctx) => void (await loadOneCoin(ctx, (await readNumber(ctx, 'pinThreshold')) + 1)),
        provoke: async (ctx) => send(ctx, (await readNumber(ctx, 'pinThreshold')) + 1),
      }),
      refusalCase({
        id: `${p}-SW-9414-EXACT`,
        clause: `${cmd.mirrors}; exact coin set`,
        rule: `${cmd.name} of 1 fen on a card holding coins but none of 1 fen is answered 9414`,
        needs: { states: ISSUED, keys: VALUE_KEYS },
        what: cmd.name,
        expected: [SW.NO_EXACT_COIN_SET],
        prepare: async (ctx) => void (await loadOneCoin(ctx, 200)),
        provoke: async (ctx) => {
          const summary = (await ctx.card.getData('coinSummary')) as { denominationFen: number; count: number }[];
          if (summary.some((g) => g.denominationFen === 1)) throw new CaseSkip('the card holds a 1-fen coin');
          return send(ctx, 1);
        },
      }),
    );
  }
  out.push(
    refusalCase({
      id: 'INITPUR-SW-9403-KEYINDEX',
      clause: C.initializeForPurchase.mirrors,
      rule: 'INITIALIZE FOR PURCHASE with a key index the card does not have (02) is answered 9403',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'INITIALIZE FOR PURCHASE',
      expected: [SW.KEY_INDEX_NOT_SUPPORTED],
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: (ctx) => ctx.send(C.initializeForPurchase, { keyIndex: 2, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID }),
    }),
  );
  return out;
}

/** PIN cases: tries counted down and reported, the block, and the issuer's reload (JR/T 0025.2 PIN). */
function pinCases(): ConformanceCase[] {
  return [
    {
      id: 'VERIFY-SW-63CX-ISSUED',
      clause: C.verify.mirrors,
      rule: 'a wrong PIN is answered 63Cx with one try less, GET DATA 9F17 agrees, and the right PIN then restores the tries',
      needs: { states: ISSUED, pin: true, destructive: true },
      async run(ctx) {
        await ctx.select();
        const tries = await readNumber(ctx, 'pinTriesLeft');
        if (tries < 2) throw new CaseSkip(`only ${tries} PIN try left: a wrong PIN would block the card`);
        const wrong = ctx.profile.pin === '000000' ? '111111' : '000000';
        const r = await ctx.send(C.verify, { pin: wrong });
        ctx.expectSw('VERIFY with a wrong PIN', r.sw, [swTriesLeft(tries - 1)]);
        check((await readNumber(ctx, 'pinTriesLeft')) === tries - 1, 'GET DATA 9F17 does not show one try less after a wrong PIN');
        await ctx.verifyPin();
        check((await readNumber(ctx, 'pinTriesLeft')) === tries, 'the right PIN did not restore the tries');
      },
    },
    {
      id: 'CHGPIN-SW-63CX-ISSUED',
      clause: C.changePin.mirrors,
      rule: 'CHANGE PIN with a wrong current PIN is answered 63Cx with one try less and the PIN stays as it was',
      needs: { states: ISSUED, pin: true, destructive: true },
      async run(ctx) {
        await ctx.select();
        const tries = await readNumber(ctx, 'pinTriesLeft');
        if (tries < 2) throw new CaseSkip(`only ${tries} PIN try left`);
        const wrong = ctx.profile.pin === '000000' ? '111111' : '000000';
        const r = await ctx.send(C.changePin, { oldPin: wrong, newPin: '246802' });
        ctx.expectSw('CHANGE PIN with a wrong current PIN', r.sw, [swTriesLeft(tries - 1)]);
        await ctx.verifyPin();
      },
    },
    {
      id: 'INV-PIN-BLOCK-RELOAD',
      clause: 'PIN block and reload (JR/T 0025.2 VERIFY, RELOAD PIN)',
      rule: 'wrong PINs count the tries down to 6983; then even the right PIN is refused 6983 until RELOAD PIN, after which it verifies with all tries',
      needs: { states: ISSUED, pin: true, destructive: true, keys: ['cbMaster'] },
      async run(ctx) {
        await ctx.select();
        const limit = await readNumber(ctx, 'pinTriesLeft');
        const wrong = ctx.profile.pin === '000000' ? '111111' : '000000';
        for (let left = limit - 1; left >= 0; left--) {
          const r = await ctx.send(C.verify, { pin: wrong });
          ctx.expectSw('VERIFY with a wrong PIN', r.sw, left === 0 ? [swTriesLeft(0), SW.AUTHENTICATION_METHOD_BLOCKED] : [swTriesLeft(left)]);
        }
        const blocked = await ctx.send(C.verify, { pin: ctx.profile.pin! });
        ctx.expectSw('VERIFY with the right PIN once blocked', blocked.sw, [SW.AUTHENTICATION_METHOD_BLOCKED]);
        await ctx.card.reloadPin(ctx.profile.pin!, ctx.lineMacSigner('pinReload'));
        await ctx.verifyPin();
        const tries = await readNumber(ctx, 'pinTriesLeft');
        check(tries === (ctx.profile.pinTryLimit ?? limit), `after RELOAD PIN the card reports ${tries} tries, not the limit`);
      },
    },
  ];
}

/** Invariants of the value commands, with every MAC, TAC and signature checked by the runner. */
function valueCases(): ConformanceCase[] {
  return [
    {
      id: 'INV-LOAD',
      clause: 'load (JR/T 0025.2 INITIALIZE FOR LOAD / CREDIT FOR LOAD)',
      rule: 'a load with a correct MAC2 answers a valid MAC1 and TAC, adds the amount, steps the counter by one, logs it, and proves it by GET TRANSACTION PROVE',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      async run(ctx) {
        await ctx.select();
        const before = await ctx.snapshot();
        const r = await loadOneCoin(ctx, 500);
        const after = await ctx.snapshot();
        check(after.balanceFen === (before.balanceFen ?? 0) + 500, `balance ${before.balanceFen} -> ${after.balanceFen} after loading 500 fen`);
        check(after.counter === (before.counter ?? 0) + 1, `counter ${before.counter} -> ${after.counter} after one load`);
        const log = (await ctx.card.readLog())[0];
        check(log?.type === 'LOAD' && log.amountFen === 500 && log.balanceAfterFen === after.balanceFen, 'the latest log record is not this load');
        const proof = await ctx.card.transactionProof('LOAD', r.counter);
        check(!!proof && equalBytes(proof, r.tac), 'GET TRANSACTION PROVE of the load does not answer its TAC');
      },
    },
    {
      id: 'INV-PURCHASE',
      clause: 'purchase (JR/T 0025.2 INITIALIZE FOR PURCHASE / DEBIT FOR PURCHASE)',
      rule: 'a purchase with a correct MAC1 answers a valid MAC2, TAC and a packet whose coins and SM9 signature verify under the trust anchors, and takes exactly the amount',
      needs: { states: ISSUED, keys: [...VALUE_KEYS, 'trustAnchors'] },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 300);
        const before = await ctx.snapshot();
        await ctx.select();
        await purchaseAndCheck(ctx, 300);
        const after = await ctx.snapshot();
        check(after.balanceFen === (before.balanceFen ?? 0) - 300, `balance ${before.balanceFen} -> ${after.balanceFen} after paying 300 fen`);
        check(after.counter === (before.counter ?? 0) + 1, `counter ${before.counter} -> ${after.counter} after one purchase`);
      },
    },
    {
      id: 'INV-PROVE-IDENTICAL',
      clause: 'GET TRANSACTION PROVE (JR/T 0025.2)',
      rule: 'GET TRANSACTION PROVE answers, twice and byte for byte, the response the purchase returned',
      needs: { states: ISSUED, keys: [...VALUE_KEYS, 'trustAnchors'] },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 200);
        const p = await purchaseAndCheck(ctx, 200);
        for (const n of ['first', 'second']) {
          await ctx.select();
          const proof = await ctx.card.transactionProof('PURCHASE', p.counter);
          check(!!proof && equalBytes(proof, p.response), `the ${n} GET TRANSACTION PROVE differs from the DEBIT FOR PURCHASE response`);
        }
      },
    },
    {
      id: 'INV-COUNTER-MONOTONIC',
      clause: 'transaction counter (EMV 9F36, D-RMB 4 bytes)',
      rule: 'each committed value command steps the counter by exactly one and a refused one leaves it; it never goes back',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      async run(ctx) {
        await ctx.select();
        const seen = [await readNumber(ctx, 'transactionCounter')];
        await loadAndCheck(ctx, [mintTestCoin(ctx, 100)]);
        seen.push(await readNumber(ctx, 'transactionCounter'));
        const init = await ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID });
        ctx.expectSw('INITIALIZE FOR LOAD', init.sw, [SW.OK]);
        const bad = await ctx.send(C.creditForLoad, { date: '20261122', time: '101500', coins: [mintTestCoin(ctx, 100)], mac2: Uint8Array.of(9, 9, 9, 9) });
        ctx.expectSw('CREDIT FOR LOAD with a bad MAC2', bad.sw, [SW.MAC_INVALID]);
        seen.push(await readNumber(ctx, 'transactionCounter'));
        await loadAndCheck(ctx, [mintTestCoin(ctx, 100)]);
        seen.push(await readNumber(ctx, 'transactionCounter'));
        const steps = seen.slice(1).map((v, i) => v - seen[i]);
        check(steps.join(',') === '1,0,1', `counter went ${seen.join(' -> ')}; expected steps 1, 0, 1`);
      },
    },
    refusalCase({
      id: 'SETSTATUS-SW-6985-COINS',
      clause: `${C.setStatus.mirrors}; no termination with coins`,
      rule: 'SET STATUS (terminate) over a secure channel while coins remain on the card is refused 6985',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'SET STATUS',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: async (ctx) => {
        await ctx.select();
        const channel = await ctx.card.openSecureChannel(ctx.scpKeys(KEY_VERSIONS.PERSONALIZATION), { kvn: KEY_VERSIONS.PERSONALIZATION });
        const r = await new CardSession(channel).exchange(C.setStatus, { aid: DRMB_AID }, { secure: false, accept: [SW.CONDITIONS_OF_USE_NOT_SATISFIED] });
        return { sw: r.sw, data: r.data };
      },
    }),
  ];
}

/** Lifecycle: block and unblock by issuer script. */
function lifecycleCases(): ConformanceCase[] {
  return [
    {
      id: 'INV-BLOCK-UNBLOCK',
      clause: 'lifecycle ISSUED <-> LOCKED (EMV Book 3 6.5.1, 6.5.2)',
      rule: 'APPLICATION BLOCK with a valid line MAC locks (SELECT 6283, payments 6985, balance still readable); APPLICATION UNBLOCK restores ISSUED with the balance unchanged',
      needs: { states: ISSUED, keys: ['cbMaster'], destructive: true },
      async run(ctx) {
        const before = await ctx.snapshot();
        await ctx.select();
        await ctx.card.block(ctx.lineMacSigner('issuerMac'));
        const sel = await ctx.send(C.select, { aid: DRMB_AID });
        ctx.expectSw('SELECT of a locked application', sel.sw, [SW.SELECTED_FILE_INVALIDATED]);
        check(C.select.decodeResponse(sel.data).proprietary.issuerData.appState === 'LOCKED', 'the FCI does not say LOCKED');
        const pay = await ctx.send(C.initializeForPurchase, { keyIndex: 1, amountFen: 1, terminalId: CONFORMANCE_TERMINAL_ID });
        ctx.expectSw('INITIALIZE FOR PURCHASE on a locked card', pay.sw, [SW.CONDITIONS_OF_USE_NOT_SATISFIED]);
        check((await ctx.card.balance()) === before.balanceFen, 'the balance changed or is unreadable while locked');
        await ctx.card.unblock(ctx.lineMacSigner('issuerMac'));
        const after = await ctx.snapshot();
        check(after.state === 'ISSUED', `after APPLICATION UNBLOCK the card is ${after.state}`);
        check(after.balanceFen === before.balanceFen, 'the balance changed across block and unblock');
      },
    },
  ];
}

/** The card OS: an instruction no command uses (ISO 7816-4 5.1.2). */
function cardOsCases(): ConformanceCase[] {
  const used = new Set(COMMANDS.map((c) => c.ins));
  const ins = [0x02, 0x04, 0x06].find((i) => !used.has(i))!;
  return [
    refusalCase({
      id: 'CARD-SW-6D00-INS',
      clause: 'ISO/IEC 7816-4 5.1.2',
      rule: `an instruction no D-RMB command uses (INS ${ins.toString(16).padStart(2, '0').toUpperCase()}) is refused 6D00 under classes 00 and 80`,
      needs: { states: ISSUED },
      what: 'an unknown INS',
      expected: [SW.INS_NOT_SUPPORTED],
      provoke: async (ctx) => {
        const a = await ctx.raw(Uint8Array.of(0x00, ins, 0, 0));
        ctx.expectSw(`00 ${ins.toString(16)} 00 00`, a.sw, [SW.INS_NOT_SUPPORTED]);
        return ctx.raw(Uint8Array.of(0x80, ins, 0, 0));
      },
    }),
  ];
}

/** Every scenario and command-specific case. */
export function invariantCases(): ConformanceCase[] {
  return [...cardOsCases(), ...commandSwCases(), ...paymentLimitCases(), ...pinCases(), ...valueCases(), ...lifecycleCases()];
}

