/**
 * @module Fuzzing the simulated card in every lifecycle state with a fixed seed: no exception escapes,
 * only listed status words come back, failing commands write nothing but counters. CI runs
 * FUZZ_APDUS_PER_STATE (default 20,000, i.e. 10^5 in all); `npm run fuzz` runs longer campaigns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_STATE_NAMES, type AppState } from '../applet-spec/lifecycle.js';
import { fuzzCard } from './apdu-fuzzer.js';
import { stateImages } from './state-images.js';

const PER_STATE = Number(process.env.FUZZ_APDUS_PER_STATE ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);

let images: Record<AppState, Uint8Array>;
beforeAll(() => {
  images = stateImages();
}, 60_000);

describe.each(APP_STATE_NAMES)('fuzzing a %s card (slow)', (state) => {
  it(`answers ${PER_STATE} random and mutated APDUs with listed status words and no stray writes`, () => {
    const report = fuzzCard(images[state], SEED + APP_STATE_NAMES.indexOf(state), PER_STATE);
    expect(report.violations, JSON.stringify(report.violations.slice(0, 5), null, 1)).toEqual([]);
    // The fuzzer must reach past the card OS: several distinct answers, including success.
    expect(report.sws.size).toBeGreaterThan(5);
    expect(report.sws.get(0x9000) ?? 0).toBeGreaterThan(0);
  }, 300_000);
});
