/**
 * @module Tear cases: where the target can cut the card's power, each value command and a wrong PIN are
 * cut off after the card's 1st, 2nd, ... persistent write until one run completes uncut, and after each
 * cut the card, powered up again, must have done all of the command or none of it (JR/T 0025.2
 * transaction integrity; JCRE 3.0.5 chapter 7 atomicity), as read back and as GET TRANSACTION PROVE
 * answers for the counter the command was given.
 */
import * as C from '../applet-spec/commands.js';
import { SW, swTriesLeft } from '../applet-spec/status-words.js';
import { logRecordCoder, TRANSACTION_TYPES, type TransactionType } from '../applet-spec/value-formats.js';
import { equalBytes } from '../base/bytes.js';
import { fromHex } from '../base/hex.js';
import { TransportError } from '../host/errors.js';
import type { CaseContext } from './case-context.js';
import { type CardState, stateDifferences } from './card-state.js';
import { CaseFailure, CaseSkip, check, type ConformanceCase } from './conformance-case.js';
import { expectedLoadTac, type LoadTerms, loadOneCoin, mintTestCoin, loadAndCheck, purchaseAndCheck, type PurchaseTerms, checkPurchaseResponse } from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const VALUE_KEYS = ['cbMaster', 'coinSigning'] as const;

/** More persistent writes than any one command of the card makes; a command still cut after this many never completes. */
const MAX_WRITES = 64;

/**
 * Runs `attempt` once for each k = 1, 2, ...: `attempt` calls `arm` just before the command under test
 * goes out, which arms a cut after the card's k-th persistent write from then. Each run ends with the
 * card powered up again; after a cut, `afterCut` checks what the card kept. Stops at the first run that
 * completes uncut and returns the context over the card it left.
 */
async function tearAfterEachWrite(
  start: CaseContext,
  what: string,
  attempt: (ctx: CaseContext, arm: () => void) => Promise<void>,
  afterCut: (ctx: CaseContext, k: number) => Promise<void>,
): Promise<CaseContext> {
  const powerCut = start.powerCut;
  if (!powerCut) throw new CaseSkip('the target cannot cut power');
  let ctx = start;
  for (let k = 1; k <= MAX_WRITES; k++) {
    let armed = false;
    const arm = () => {
      powerCut.cutAfterWrites(k);
      armed = true;
    };
    try {
      await attempt(ctx, arm);
    } catch (e) {
      if (!armed || !(e instanceof TransportError)) throw e;
      ctx = await powerCut.restore();
      await afterCut(ctx, k);
      continue;
    }
    check(armed, `${what} was never sent`);
    return powerCut.restore();
  }
  throw new CaseFailure(`${what} was still cut off after ${MAX_WRITES} persistent writes: it never completed`);
}

interface ValueMove {
  what: string;
  type: TransactionType;
  counter: number;
  /** the balance change a completed command makes */
  balanceDeltaFen: number;
  /** checks the stored response GET TRANSACTION PROVE answers, as the completed command's answer would be checked */
  verifyProof(proof: Uint8Array): void;
}

/**
 * After a cut at write k: either nothing readable changed and GET TRANSACTION PROVE of the counter is
 * 9406, or all of the command happened (balance by exactly the amount, counter + 1, one log record of
 * it, nothing else) and the proof verifies and is the same bytes when asked twice.
 */
async function expectAllOrNothing(ctx: CaseContext, before: CardState, k: number, m: ValueMove): Promise<void> {
  const after = await ctx.snapshot();
  const prove = () => ctx.send(C.getTransactionProve, { transactionType: TRANSACTION_TYPES[m.type], counter: m.counter });
  const first = await prove();
  const second = await prove();
  const at = `${m.what} cut after write ${k}`;
  const diff = stateDifferences(before, after);
  if (diff.length === 0) {
    ctx.expectSw(`GET TRANSACTION PROVE of counter ${m.counter} after ${at} left the card as it was`, first.sw, [SW.MAC_NOT_AVAILABLE], first.data);
    return;
  }
  const wholeBalance = (before.balanceFen ?? 0) + m.balanceDeltaFen;
  const wholeCounter = (before.counter ?? 0) + 1;
  const partial = [
    after.balanceFen !== wholeBalance && `balance ${before.balanceFen} -> ${after.balanceFen} fen, not ${wholeBalance}`,
    after.counter !== wholeCounter && `counter ${before.counter} -> ${after.counter}, not ${wholeCounter}`,
    after.log?.[1] !== before.log?.[0] && 'not exactly one new log record',
    after.state !== before.state && `state ${before.state} -> ${after.state}`,
    after.pinTriesLeft !== before.pinTriesLeft && `PIN tries ${before.pinTriesLeft} -> ${after.pinTriesLeft}`,
  ].filter((x): x is string => typeof x === 'string');
  check(partial.length === 0, `${at} left part of it done: ${partial.join('; ')}`);
  const newest = logRecordCoder.decode(fromHex(after.log![0]), 'log record');
  check(
    newest.type === m.type && newest.counter === m.counter && newest.amountFen === Math.abs(m.balanceDeltaFen) && newest.balanceAfterFen === after.balanceFen,
    `${at}: the newest log record is not this ${m.type} (counter ${newest.counter}, ${newest.type}, ${newest.amountFen} fen)`,
  );
  ctx.expectSw(`GET TRANSACTION PROVE of counter ${m.counter} after ${at} completed it`, first.sw, [SW.OK], first.data);
  const proof = C.getTransactionProve.decodeResponse(first.data).storedResponse;
  m.verifyProof(proof);
  check(second.sw === SW.OK && equalBytes(first.data, second.data), `${at}: GET TRANSACTION PROVE answered different bytes the second time`);
}

function loadTear(): ConformanceCase {
  return {
    id: 'TEAR-LOAD',
    clause: 'load atomicity (JR/T 0025.2 CREDIT FOR LOAD; JCRE 7)',
    rule: 'CREDIT FOR LOAD cut off after any persistent write loads all (TAC provable, byte-identical) or nothing (GET TRANSACTION PROVE 9406)',
    needs: { states: ISSUED, keys: VALUE_KEYS, powerCut: true },
    async run(start) {
      let before: CardState = {} as CardState;
      let terms: LoadTerms | undefined;
      await tearAfterEachWrite(
        start,
        'CREDIT FOR LOAD',
        async (ctx, arm) => {
          await ctx.select();
          before = await ctx.snapshot();
          await loadAndCheck(ctx, [mintTestCoin(ctx, 100)], (t) => {
            terms = t;
            arm();
          });
        },
        (ctx, k) =>
          expectAllOrNothing(ctx, before, k, {
            what: 'CREDIT FOR LOAD',
            type: 'LOAD',
            counter: terms!.counter,
            balanceDeltaFen: terms!.amountFen,
            verifyProof: (proof) => check(equalBytes(proof, expectedLoadTac(ctx, terms!)), "the proved load's TAC is not the one the card's TAC key gives"),
          }),
      );
    },
  };
}

function purchaseTear(): ConformanceCase {
  return {
    id: 'TEAR-PURCHASE',
    clause: 'purchase atomicity (JR/T 0025.2 DEBIT FOR PURCHASE; JCRE 7)',
    rule: 'DEBIT FOR PURCHASE cut off after any persistent write pays all (response provable, verifying, byte-identical) or nothing (GET TRANSACTION PROVE 9406)',
    needs: { states: ISSUED, keys: [...VALUE_KEYS, 'trustAnchors'], pin: true, powerCut: true },
    async run(start) {
      // Coins for the purchases that complete: the one cut after its commit and the last, uncut.
      await start.select();
      for (let i = 0; i < 3; i++) await loadOneCoin(start, 100);
      let before: CardState = {} as CardState;
      let terms: PurchaseTerms | undefined;
      await tearAfterEachWrite(
        start,
        'DEBIT FOR PURCHASE',
        async (ctx, arm) => {
          await ctx.select();
          before = await ctx.snapshot();
          await ctx.select();
          await ctx.verifyPin();
          await purchaseAndCheck(ctx, 100, (t) => {
            terms = t;
            arm();
          });
        },
        (ctx, k) =>
          expectAllOrNothing(ctx, before, k, {
            what: 'DEBIT FOR PURCHASE',
            type: 'PURCHASE',
            counter: terms!.counter,
            balanceDeltaFen: -terms!.amountFen,
            verifyProof: (proof) => void checkPurchaseResponse(ctx, terms!, proof),
          }),
      );
    },
  };
}

function pinTear(): ConformanceCase {
  return {
    id: 'TEAR-VERIFY',
    clause: 'PIN try counter (ISO/IEC 7816-4 11.5.6; JR/T 0025.2 VERIFY)',
    rule: 'VERIFY with a wrong PIN cut off after any persistent write has still cost its try, and nothing else changed',
    needs: { states: ISSUED, pin: true, destructive: true, powerCut: true },
    async run(start) {
      await start.select();
      const before = await start.snapshot();
      const tries = before.pinTriesLeft;
      if (tries === undefined || tries < 2) throw new CaseSkip(`${tries ?? 'no'} PIN tries left: a wrong PIN could block the card`);
      const wrong = start.profile.pin === '000000' ? '111111' : '000000';
      const end = await tearAfterEachWrite(
        start,
        'VERIFY',
        async (ctx, arm) => {
          await ctx.select();
          arm();
          const r = await ctx.send(C.verify, { pin: wrong });
          ctx.expectSw('VERIFY with a wrong PIN', r.sw, [swTriesLeft(tries - 1)]);
        },
        async (ctx, k) => {
          const after = await ctx.snapshot();
          const expected = { ...before, pinTriesLeft: tries - 1 };
          const diff = stateDifferences(expected, after);
          check(diff.length === 0, `VERIFY with a wrong PIN cut after write ${k}: ${diff.join('; ')} (expected one try less, nothing else changed)`);
          // The right PIN gives the tries back for the next run.
          await ctx.select();
          await ctx.verifyPin();
        },
      );
      await end.select();
      await end.verifyPin();
    },
  };
}

/** Every tear case; each needs power-cut control and is skipped, with the reason, on targets without it. */
export function tearCases(): ConformanceCase[] {
  return [loadTear(), purchaseTear(), pinTear()];
}
