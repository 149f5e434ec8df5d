/**
 * @module Tear cases: where the target can cut the card's power, each value command and a wrong PIN are
 * cut off after the card's 1st, 2nd, ... persistent write until one run completes uncut, and after each
 * cut the card, powered up again, must have done all of the command or none of it (JR/T 0025.2
 * transaction integrity; JCRE 3.0.5 chapter 7 atomicity), as read back and as GET TRANSACTION PROVE
 * answers for the counter the command was given; a torn import's packet, sent again, must then be taken
 * exactly once.
 */
import * as C from '../applet-spec/commands.js';
import { SW, swTriesLeft } from '../applet-spec/status-words.js';
import { coinSummaryCoder } from '../applet-spec/data-objects.js';
import { type Coin, exportPacketCoder, logRecordCoder, TRANSACTION_TYPES, type TransactionType } from '../applet-spec/value-formats.js';
import { equalBytes } from '../base/bytes.js';
import { fromHex } from '../base/hex.js';
import { TransportError } from '../host/errors.js';
import type { CaseContext } from './case-context.js';
import { type CardState, stateDifferences } from './card-state.js';
import { CaseFailure, CaseSkip, check, type ConformanceCase } from './conformance-case.js';
import {
  checkImportResponse,
  checkPurchaseResponse,
  checkTransferPacket,
  expectedLoadTac,
  importAndCheck,
  type LoadTerms,
  loadAndCheck,
  loadOneCoin,
  mintTestCoin,
  type PacketToCard,
  packetToCard,
  purchaseAndCheck,
  type PurchaseTerms,
  transferAndCheck,
  type TransferTerms,
} from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const VALUE_KEYS = ['cbMaster', 'coinSigning'] as const;
const RECEIVE_KEYS = ['coinSigning', 'kgcSign', 'kgcEncrypt'] as const;

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
  afterCut: (ctx: CaseContext, k: number) => Promise<unknown>,
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
  /** the coins a completed command adds, where the runner knows them: the coin summary must grow by exactly these */
  coinsAdded?: readonly Coin[];
}

/** What a cut left: none of the command, or all of it with the proof GET TRANSACTION PROVE answered. */
type CutOutcome = { done: false } | { done: true; proof: Uint8Array };

/** Coins held per denomination, from the hex of GET DATA DF20 (CardState.coinSummary). */
function coinCounts(summaryHex: string | undefined): Map<number, number> {
  const counts = new Map<number, number>();
  if (summaryHex === undefined) return counts;
  for (const { denominationFen, count } of coinSummaryCoder.decode(fromHex(summaryHex), 'coin summary')) counts.set(denominationFen, count);
  return counts;
}

/** Where the coins held after differ from those held before plus `added`, as "100 fen coins 2 -> 3, not 4". */
function coinCountDifferences(before: string | undefined, after: string | undefined, added: readonly Coin[]): string[] {
  const expected = coinCounts(before);
  for (const c of added) expected.set(c.body.denominationFen, (expected.get(c.body.denominationFen) ?? 0) + 1);
  const held = coinCounts(after);
  const was = coinCounts(before);
  return [...new Set([...expected.keys(), ...held.keys()])]
    .filter((d) => (expected.get(d) ?? 0) !== (held.get(d) ?? 0))
    .map((d) => `${d} fen coins ${was.get(d) ?? 0} -> ${held.get(d) ?? 0}, not ${expected.get(d) ?? 0}`);
}

/**
 * After a cut at write k: either nothing readable changed and GET TRANSACTION PROVE of the counter is
 * 9406, or all of the command happened (balance by exactly the amount, counter + 1, one log record of
 * it, the coins it adds where the runner knows them, nothing else) and the proof verifies and is the
 * same bytes when asked twice.
 */
async function expectAllOrNothing(ctx: CaseContext, before: CardState, k: number, m: ValueMove): Promise<CutOutcome> {
  const after = await ctx.snapshot();
  const prove = () => ctx.send(C.getTransactionProve, { transactionType: TRANSACTION_TYPES[m.type], counter: m.counter });
  const first = await prove();
  const second = await prove();
  const at = `${m.what} cut after write ${k}`;
  const diff = stateDifferences(before, after);
  if (diff.length === 0) {
    ctx.expectSw(`GET TRANSACTION PROVE of counter ${m.counter} after ${at} left the card as it was`, first.sw, [SW.MAC_NOT_AVAILABLE], first.data);
    return { done: false };
  }
  const wholeBalance = (before.balanceFen ?? 0) + m.balanceDeltaFen;
  const wholeCounter = (before.counter ?? 0) + 1;
  const partial = [
    after.balanceFen !== wholeBalance && `balance ${before.balanceFen} -> ${after.balanceFen} fen, not ${wholeBalance}`,
    after.counter !== wholeCounter && `counter ${before.counter} -> ${after.counter}, not ${wholeCounter}`,
    after.log?.[1] !== before.log?.[0] && 'not exactly one new log record',
    after.state !== before.state && `state ${before.state} -> ${after.state}`,
    after.pinTriesLeft !== before.pinTriesLeft && `PIN tries ${before.pinTriesLeft} -> ${after.pinTriesLeft}`,
    ...(m.coinsAdded ? coinCountDifferences(before.coinSummary, after.coinSummary, m.coinsAdded) : []),
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
  return { done: true, proof };
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

function transferTear(): ConformanceCase {
  return {
    id: 'TEAR-TRANSFER',
    clause: 'transfer atomicity (D-RMB EXPORT COINS; JCRE 7)',
    rule: "EXPORT COINS cut off after any persistent write pays all (packet provable, opening and verifying as its payee's, byte-identical) or nothing (GET TRANSACTION PROVE 9406)",
    needs: { states: ISSUED, keys: [...VALUE_KEYS, 'kgcEncrypt', 'trustAnchors'], powerCut: true },
    async run(start) {
      // Coins for the transfers that complete: the one cut after its commit and the last, uncut.
      await start.select();
      for (let i = 0; i < 3; i++) await loadOneCoin(start, 100);
      let before: CardState = {} as CardState;
      let terms: TransferTerms | undefined;
      await tearAfterEachWrite(
        start,
        'EXPORT COINS',
        async (ctx, arm) => {
          await ctx.select();
          before = await ctx.snapshot();
          await ctx.select();
          await transferAndCheck(ctx, 100, (t) => {
            terms = t;
            arm();
          });
        },
        (ctx, k) =>
          expectAllOrNothing(ctx, before, k, {
            what: 'EXPORT COINS',
            type: 'TRANSFER',
            counter: terms!.counter,
            balanceDeltaFen: -terms!.amountFen,
            verifyProof: (proof) => void checkTransferPacket(ctx, proof, terms!),
          }),
      );
    },
  };
}

function importTear(): ConformanceCase {
  return {
    id: 'TEAR-IMPORT',
    clause: 'receive atomicity and retry (D-RMB IMPORT COINS; JCRE 7)',
    rule:
      'IMPORT COINS cut off after any persistent write takes all of the packet (receipt provable, byte-identical, and the packet sent again answers it and credits nothing) or none of it (GET TRANSACTION PROVE 9406, and the packet sent again, with no new INITIALIZE FOR RECEIVE, is taken once)',
    needs: { states: ISSUED, keys: RECEIVE_KEYS, powerCut: true },
    async run(start) {
      let before: CardState = {} as CardState;
      let sent: PacketToCard | undefined;
      await tearAfterEachWrite(
        start,
        'IMPORT COINS',
        async (ctx, arm) => {
          await ctx.select();
          before = await ctx.snapshot();
          await ctx.select();
          sent = await packetToCard(ctx, [200, 100]);
          await importAndCheck(ctx, sent, arm);
        },
        async (ctx, k) => {
          const s = sent!;
          const at = `IMPORT COINS cut after write ${k}`;
          await ctx.select();
          const identity = (await ctx.card.getData('ibcIdentity')) as string;
          const cut = await expectAllOrNothing(ctx, before, k, {
            what: 'IMPORT COINS',
            type: 'RECEIVE',
            counter: s.receiveCounter,
            balanceDeltaFen: s.amountFen,
            coinsAdded: s.coins,
            verifyProof: (proof) => checkImportResponse(ctx, s, identity, proof),
          });
          // The same packet again, with no new INITIALIZE FOR RECEIVE: its nonce stays outstanding until a
          // packet carrying it is taken, across power loss (import-coins.ts, initialize-for-receive.ts).
          await ctx.select();
          const again = await ctx.send(C.importCoins, { packet: exportPacketCoder.decode(s.packet) });
          ctx.expectSw(`IMPORT COINS of the same packet after ${at} ${cut.done ? 'took' : 'left'} it`, again.sw, [SW.OK], again.data);
          if (cut.done) check(equalBytes(again.data, cut.proof), `${at} took the packet, but importing it again answers other bytes than its proof`);
          else checkImportResponse(ctx, s, identity, again.data);
          // Either way the packet is now taken exactly once: no coin lost, none doubled.
          const end = await ctx.snapshot();
          const once = [
            end.balanceFen !== (before.balanceFen ?? 0) + s.amountFen && `balance ${before.balanceFen} -> ${end.balanceFen} fen, not ${(before.balanceFen ?? 0) + s.amountFen}`,
            end.counter !== (before.counter ?? 0) + 1 && `counter ${before.counter} -> ${end.counter}, not ${(before.counter ?? 0) + 1}`,
            end.log?.[1] !== before.log?.[0] && 'not exactly one new log record',
            ...coinCountDifferences(before.coinSummary, end.coinSummary, s.coins),
          ].filter((x): x is string => typeof x === 'string');
          check(once.length === 0, `${at}, then the same packet again: not taken exactly once (${once.join('; ')})`);
        },
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
  return [loadTear(), purchaseTear(), transferTear(), importTear(), pinTear()];
}
