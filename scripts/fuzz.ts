/** @module Long fuzzing campaigns against the simulated card: `npm run fuzz -- [apdusPerState] [seed]`. */
import { APP_STATE_NAMES } from '../applet-spec/lifecycle.js';
import { fuzzCard } from '../test/apdu-fuzzer.js';
import { stateImages } from '../test/state-images.js';

const perState = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const images = stateImages();
let failures = 0;
for (const [i, state] of APP_STATE_NAMES.entries()) {
  const t0 = performance.now();
  const r = fuzzCard(images[state], seed + i, perState);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${state.padEnd(10)} ${r.apdus} APDUs in ${s} s, seed ${seed + i}, ${r.violations.length} violations, ${r.sws.size} distinct SWs`);
  for (const v of r.violations) console.log(`  #${v.index} ${v.problem}\n    => ${v.apdu}\n    <= ${v.response}`);
  failures += r.violations.length;
}
process.exitCode = failures ? 1 : 0;
