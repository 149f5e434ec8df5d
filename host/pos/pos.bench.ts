/**
 * @module Benchmark (issue 7): POS purchase host time for a 5-coin payment (goal at most 60 ms) and
 * its APDU count (goal at most 5), on an in-process simulated card issued from a key ceremony. Host
 * time is the wall time of PosTerminal.pay minus the time spent inside the simulated card; it
 * includes the queue file's fsyncs. Also the fixed-key coin verifier against plain SM2 verification.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { coinBodyCoder } from '../../applet-spec/value-formats.js';
import { sm2PrecomputeVerifier, sm2Verify } from '../../crypto/sm2.js';
import { compare, report, type Timing } from '../../scripts/bench-harness.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { directTransport } from '../direct-transport.js';
import { DrmbCard } from '../drmb-card.js';
import { hostStack } from '../pcsc.js';
import { issuedCard, mint, posTerminal, posWorld } from '../../test/pos-fixture.js';

export default async function () {
  const w = posWorld();
  // Five 10-yuan coins and one 100-yuan coin: 50 yuan is paid with exactly five coins.
  const image = (await issuedCard(w, '62120000000000009001', [1000, 1000, 1000, 1000, 1000, 10000])).toImage();
  const dir = mkdtempSync(join(tmpdir(), 'drmb-pos-bench-'));

  const host: number[] = [];
  let apdus = 0;
  let coins = 0;
  const rounds = 60;
  for (let i = 0; i < rounds; i++) {
    // A fresh copy of the card (its offline count limit allows 10 payments) and a fresh queue (the same
    // image paying again reuses its counter, which a queue keeps apart as double spending).
    const sim = SimulatedCard.fromImage(image);
    const pos = posTerminal(w, join(dir, `queue-${i}.jsonl`));
    let cardMs = 0;
    let count = 0;
    const counting = directTransport({
      atr: sim.atr,
      transmit(apdu: Uint8Array) {
        count++;
        const t0 = performance.now();
        const r = sim.transmit(apdu);
        cardMs += performance.now() - t0;
        return r;
      },
    });
    const card = new DrmbCard(hostStack(counting, sim.powerOn()));
    const t0 = performance.now();
    const r = await pos.pay(card, 5000);
    const total = performance.now() - t0;
    if (i >= 10) host.push(total - cardMs); // first rounds warm the JIT
    apdus = count;
    coins = r.coinCount;
  }
  host.sort((a, b) => a - b);
  const median = host[host.length >> 1];
  const timing: Timing = { name: `POS purchase, ${coins} coins, host time (card excluded)`, medianMs: median, opsPerSec: 1000 / median, samples: host.length };
  console.log('POS purchase (issue 7)');
  report(timing);
  console.log(`  host time median ${median.toFixed(2)} ms  goal <= 60 ms  ${median <= 60 ? 'MET' : 'NOT MET'}`);
  console.log(`  APDUs per payment ${apdus}  goal <= 5  ${apdus <= 5 ? 'MET' : 'NOT MET'}`);

  // The coin checks of that payment: the precomputed fixed-key verifier against plain verification.
  const key = w.anchors.coinKeys[0].publicKey;
  const sample = Array.from({ length: 5 }, () => mint(w, 1000));
  const bodies = sample.map((c) => coinBodyCoder.encode(c.body));
  const verifier = sm2PrecomputeVerifier(key);
  await compare(
    'five coin signatures: fixed-key verifier vs plain SM2 verify',
    ['sm2PrecomputeVerifier.verify x5', () => sample.every((c, i) => verifier.verify(c.signature, bodies[i]))],
    ['sm2Verify x5', () => sample.every((c, i) => sm2Verify(key, bodies[i], c.signature))],
    0.8,
    400,
  );
}
