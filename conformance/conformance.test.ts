/** @module The conformance suite against simulated cards: a conforming card passes every case, and deliberately faulty cards are caught by named cases. */
import { describe, expect, it } from 'vitest';
import { simTarget, type CardWrapper } from '../cli/conformance/sim-target.js';
import { swOf } from '../host/transport.js';
import { CARD_FAULT_NAMES, type CardFaultName } from '../simulator/card-faults.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { conformanceCards } from '../test/conformance-cards.js';
import { COMMANDS } from '../applet-spec/commands.js';
import { CASE_ID_PATTERN } from './conformance-case.js';
import { loadProfile } from './profile.js';
import { type CaseResult, runCases, selectCases } from './runner.js';
import { COMMAND_PREFIXES } from './spec-cases.js';
import { UNPROVOKED } from './listed-sw-cases.js';
import { specCoverage, swText } from './spec-coverage.js';
import { conformanceSuite } from './suite.js';

async function runAgainst(wrap?: CardWrapper, only: string[] = [], withoutPowerCut = false): Promise<CaseResult[]> {
  const cards = await conformanceCards();
  const target = await simTarget([cards.images.ISSUED!, cards.images.BLANK!, cards.images.PREPARED!], 'conformance test card', wrap);
  return runCases(selectCases(conformanceSuite(), only).cases, withoutPowerCut ? { ...target, powerCut: undefined } : target, { profile: loadProfile(cards.profilePath) });
}

/** A card whose answers pass through `rewrite` (response, command) on the way out. */
function faulty(rewrite: (response: Uint8Array, command: Uint8Array) => Uint8Array): CardWrapper {
  return (card) => ({
    get atr() {
      return card.atr;
    },
    transmit: (command) => rewrite(card.transmit(command), command),
  });
}

/** The same card made again as a faulty variant of the simulator (`drmb sim serve --fault`). */
function withFault(fault: CardFaultName): CardWrapper {
  return (card) => {
    const variant = SimulatedCard.fromImage(card.toImage(), { fault });
    variant.powerOn();
    return variant;
  };
}

const failedIds = (results: CaseResult[]) => results.filter((r) => r.verdict === 'fail').map((r) => r.id);

describe('conformance suite (slow: personalizes simulated cards)', () => {
  it('a conforming simulated card passes every case, none skipped, each with its APDUs recorded', async () => {
    const results = await runAgainst();
    const notPassed = results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id} ${r.verdict}: ${r.reason}`);
    expect(notPassed).toEqual([]);
    expect(results.length).toBe(conformanceSuite().length);
    expect(results.every((r) => r.apdus.length > 0)).toBe(true);
    // Every listed status word is provoked except those docs/conformance.md names, and those are not.
    const unanswered = Object.fromEntries(
      specCoverage(results.flatMap((r) => r.exchanges))
        .perCommand.map((c) => [c.name, c.listed.filter((sw) => !c.answered.includes(sw)).map(swText)] as const)
        .filter(([, sws]) => sws.length > 0),
    );
    expect(unanswered).toEqual(Object.fromEntries(Object.entries(UNPROVOKED).map(([name, u]) => [name, u.sw])));
  }, 120_000);

  it('catches a card that answers 6A80 where a wrong length must be refused 6700', async () => {
    const results = await runAgainst(faulty((r) => (swOf(r) === 0x6700 ? Uint8Array.of(0x6a, 0x80) : r)),
      conformanceSuite().map((c) => c.id).filter((id) => id.includes('-SW-6700-')),
    );
    expect(failedIds(results)).toContain('GETBAL-SW-6700-LONG');
    expect(failedIds(results).length).toBe(results.length);
  }, 60_000);

  it('catches a card whose load TAC is not the one its TAC key gives', async () => {
    // CREDIT FOR LOAD is 80 52 00 00: flip the last TAC byte of its answer.
    const results = await runAgainst(
      faulty((r, c) => (c[1] === 0x52 && c[2] === 0x00 && swOf(r) === 0x9000 && r.length === 6 ? Uint8Array.of(...r.subarray(0, 3), r[3] ^ 1, 0x90, 0x00) : r)),
      ['INV-LOAD'],
    );
    expect(failedIds(results)).toEqual(['INV-LOAD']);
    expect(results[0].reason).toMatch(/TAC/);
  }, 60_000);

  it('catches a card whose wrong PIN does not count a try (answers 63C3 always)', async () => {
    const results = await runAgainst(faulty((r) => ((swOf(r) & 0xfff0) === 0x63c0 ? Uint8Array.of(0x63, 0xc3) : r)), ['VERIFY-SW-63CX-ISSUED', 'INV-PIN-BLOCK-RELOAD']);
    expect(failedIds(results)).toEqual(['VERIFY-SW-63CX-ISSUED', 'INV-PIN-BLOCK-RELOAD']);
  }, 60_000);
});

describe('tear cases (slow: cut power after every write of each command)', () => {
  it('on a conforming card see both outcomes of a cut: nothing done (proof 9406) and all done (proof 9000)', async () => {
    const results = await runAgainst(undefined, ['TEAR-LOAD', 'TEAR-PURCHASE', 'TEAR-TRANSFER', 'TEAR-IMPORT']);
    expect(results.map((r) => r.id)).toEqual(['TEAR-LOAD', 'TEAR-PURCHASE', 'TEAR-TRANSFER', 'TEAR-IMPORT']);
    for (const r of results) {
      expect(r.verdict, r.reason).toBe('pass');
      // a proof longer than the answer can carry comes as 61xx, the rest by GET RESPONSE
      const proofs = r.exchanges.filter((x) => x.command === 'getTransactionProve').map((x) => (x.sw >> 8 === 0x61 ? 0x9000 : x.sw));
      expect(proofs, r.id).toContain(0x9406);
      expect(proofs, r.id).toContain(0x9000);
    }
  }, 60_000);

  it('catch a card that writes the purchase counter outside the transaction moving the coins, where no uncut case can', async () => {
    const results = await runAgainst(withFault('counter-outside-transaction'));
    expect(failedIds(results)).toEqual(['TEAR-PURCHASE']);
    expect(results.find((r) => r.id === 'TEAR-PURCHASE')!.reason).toMatch(/cut after write \d+ left part of it done: counter \d+ -> \d+, not \d+$/);
  }, 120_000);

  it('catch a card that writes the imported coins outside the transaction taking the packet, where no uncut case can', async () => {
    const results = await runAgainst(withFault('import-coins-outside-transaction'));
    expect(failedIds(results)).toEqual(['TEAR-IMPORT']);
    expect(results.find((r) => r.id === 'TEAR-IMPORT')!.reason).toMatch(/^IMPORT COINS cut after write \d+ left part of it done: balance \d+ -> \d+ fen, not \d+; \d+ fen coins/);
  }, 120_000);

  it('catch a card whose wrong PIN gives its try back after the comparison, once the cut falls between the two writes', async () => {
    const results = await runAgainst(withFault('pin-try-not-counted'), ['TEAR-VERIFY']);
    expect(failedIds(results)).toEqual(['TEAR-VERIFY']);
    expect(results[0].reason).toMatch(/cut after write 2: pinTriesLeft/);
  }, 60_000);

  it('are skipped with the reason, never passed, on a target that cannot cut power', async () => {
    const results = await runAgainst(undefined, ['TEAR-*'], true);
    expect(results.length).toBeGreaterThanOrEqual(5);
    for (const r of results) expect([r.verdict, r.reason]).toEqual(['skip', 'the target cannot cut power']);
  }, 60_000);
});

describe('case IDs', () => {
  const cases = conformanceSuite();

  it('are unique and match the ID pattern', () => {
    const ids = cases.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(CASE_ID_PATTERN);
  });

  it('start with the prefix of a command, INV-, CARD- or TEAR-, and every command has a prefix of its own', () => {
    const prefixes = Object.values(COMMAND_PREFIXES);
    expect(new Set(prefixes).size).toBe(COMMANDS.length);
    for (const c of cases) expect([...prefixes, 'INV', 'CARD', 'TEAR']).toContain(c.id.split('-')[0]);
  });

  it('keep the IDs the brief names', () => {
    const ids = cases.map((c) => c.id);
    for (const id of ['INITPUR-SW-9401-ISSUED', 'VERIFY-SW-63CX-ISSUED', 'GETBAL-EX-1']) expect(ids).toContain(id);
  });

  it('give every command at least one case', () => {
    for (const c of COMMANDS) expect(cases.some((x) => x.id.startsWith(`${COMMAND_PREFIXES[c.id]}-`)), c.name).toBe(true);
  });
});

describe('case selection', () => {
  const cases = conformanceSuite();
  it('--only takes IDs and prefixes ending in *, --skip removes, and a pattern naming no case is reported', () => {
    const r = selectCases(cases, ['GETBAL-*', 'INV-LOAD'], ['GETBAL-EX-1', 'NOPE-*']);
    expect(r.cases.map((c) => c.id)).toContain('INV-LOAD');
    expect(r.cases.every((c) => c.id === 'INV-LOAD' || c.id.startsWith('GETBAL-'))).toBe(true);
    expect(r.cases.map((c) => c.id)).not.toContain('GETBAL-EX-1');
    expect(r.unmatched).toEqual(['NOPE-*']);
  });
});

describe('the faulty card variants of the simulator (slow: runs the suite once per variant)', () => {
  it.each(CARD_FAULT_NAMES)('%s is caught by at least one named case (the conforming card passes them all)', async (fault) => {
    const results = await runAgainst(withFault(fault));
    const failed = failedIds(results);
    expect(failed.length, `no case catches ${fault}`).toBeGreaterThan(0);
    for (const r of results.filter((x) => x.verdict === 'fail')) expect(r.id).toMatch(CASE_ID_PATTERN);
  }, 120_000);
});
