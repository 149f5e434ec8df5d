/**
 * @module Benchmark (issue 7): POS purchase host time for a 5-coin payment and its APDU count, on an
 * in-process simulated card issued from a key ceremony, with an in-process simulated PSAM. Host time is
 * the wall time of PosTerminal.pay minus the time spent inside the simulated card and the PSAM; it
 * includes the queue file's fsyncs. The APDU count is the user card's. Also the
 * fixed-key coin verifier against plain SM2 verification.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { coinBodyCoder } from '../applet-spec/value-formats.js';
import { sm2PrecomputeVerifier, sm2Verify } from '../crypto/sm2.js';
import { directTransport } from '../host/direct-transport.js';
import { DrmbCard } from '../host/drmb-card.js';
import { hostStack } from '../host/pcsc.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { Psam } from '../host/psam.js';
import { wrapTransport } from '../host/transport.js';
import { issuedCard, mint, posPsam, posTerminal, posWorld } from '../test/pos-fixture.js';
import type { Benchmark } from './harness.js';

export const posBench: Benchmark = {
  name: 'pos',
  title: 'POS purchase of 5 coins on an in-process simulated card: host time and APDUs',
  async run(b) {
    const w = posWorld();
    // Five 10-yuan coins and one 100-yuan coin: 50 yuan is paid with exactly five coins.
    const image = (await issuedCard(w, '62120000000000009001', [1000, 1000, 1000, 1000, 1000, 10000])).toImage();
    const dir = mkdtempSync(join(tmpdir(), 'drmb-pos-bench-'));
    try {
      const host: number[] = [];
      let apdus = 0;
      let coins = 0;
      // the first rounds warm the JIT and are not counted
      const warmup = b.size(10, 1);
      const rounds = warmup + b.size(50, 2);
      for (let i = 0; i < rounds; i++) {
        // A fresh copy of the card (its offline count limit allows 10 payments) and a fresh queue (the same
        // image paying again reuses its counter, which a queue keeps apart as double spending).
        const sim = SimulatedCard.fromImage(image);
        let cardMs = 0;
        const psamWire = posPsam(w).transport;
        const psam = new Psam(
          wrapTransport(psamWire, async (apdu) => {
            const t0 = performance.now();
            try {
              return await psamWire.transmit(apdu);
            } finally {
              cardMs += performance.now() - t0;
            }
          }),
        );
        const pos = posTerminal(w, join(dir, `queue-${i}.jsonl`), { psam });
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
        if (i >= warmup) host.push(total - cardMs);
        apdus = count;
        coins = r.coinCount;
      }
      if (coins !== 5) throw new Error(`POS bench: paid with ${coins} coins, not 5`);
      b.log('POS purchase (issue 7)');
      b.recordMedian('host-ms', `POS purchase, ${coins} coins, host time (card excluded)`, host);
      b.record('apdus', 'APDUs per payment', apdus, 'APDUs');

      // The coin checks of that payment: the precomputed fixed-key verifier against plain verification.
      const key = w.anchors.coinKeys[0].publicKey;
      const sample = Array.from({ length: 5 }, () => mint(w, 1000));
      const bodies = sample.map((c) => coinBodyCoder.encode(c.body));
      const verifier = sm2PrecomputeVerifier(key);
      await b.compare(
        'five coin signatures: fixed-key verifier vs plain SM2 verify',
        ['verify-precomputed-x5', 'sm2PrecomputeVerifier.verify x5', () => sample.every((c, i) => verifier.verify(c.signature, bodies[i]))],
        ['verify-plain-x5', 'sm2Verify x5', () => sample.every((c, i) => sm2Verify(key, bodies[i], c.signature))],
        { budgetMs: 400 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
