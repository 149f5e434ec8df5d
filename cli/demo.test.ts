/** @module `drmb demo`: the main job end to end on a simulated card, and what its report shows. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { loadKey } from '../keys/key-files.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { DEMO_PIN, formatDemo, runDemo } from './demo.js';

describe('drmb demo', () => {
  it('prepares and issues a simulated card and reports what the card says, without secrets', async () => {
    const report = await runDemo({ cardId: '62120000000000004242' });
    expect(report.card).toMatchObject({ cardId: '62120000000000004242', state: 'ISSUED', identity: '62120000000000004242|2036', balanceFen: 0, pinTriesLeft: 3 });
    expect(report.stages.map((s) => [s.stage, s.result])).toEqual([['prepare', 'done'], ['issue', 'done']]);
    const text = formatDemo(report) + JSON.stringify(report);
    const cb = loadKey('cb-master', { dir: join(report.dir, 'keys'), env: {} });
    for (const secret of Object.values(cb.secret)) expect(text).not.toContain(hex(secret));
    for (const f of readdirSync(join(report.dir, 'keys')).filter((f) => f !== 'trust-anchors.json')) {
      expect(statSync(join(report.dir, 'keys', f)).mode & 0o777).toBe(0o600);
    }
    // The saved image is the issued card: it keeps its state and PIN across runs.
    const card = new DrmbCard(directTransport(SimulatedCard.fromFile(report.image)));
    expect((await card.select()).state).toBe('ISSUED');
    await card.verifyPin(DEMO_PIN);
    expect(readFileSync(report.manifest, 'utf8').trim().split('\n')).toHaveLength(4);

    // The money: every step happened, the double spend was caught, and value is conserved.
    const life = report.life!;
    // Deposits: the change the terminal's float paid into card A (on the card's receipt), the purchase, the transfer (on card B's receipt).
    expect(life.steps.map((s) => s.step)).toEqual(['mint', 'withdraw', 'pos purchase', 'peer payment', 'deposit', 'deposit', 'deposit', 'double spend', 'blacklist']);
    expect(life.steps.filter((s) => s.step === 'deposit').map((s) => s.detail)).toEqual([expect.stringMatching(/change .* receipt/), expect.stringMatching(/from card/), expect.stringMatching(/transfer settled on card B's receipt/)]);
    expect(life.steps.find((s) => s.step === 'double spend')!.detail).toMatch(/^caught at settlement/);
    expect(life.steps.find((s) => s.step === 'blacklist')!.detail).toMatch(/BlacklistedCardError/);
    expect(life.blacklist).toEqual(['62120000000000004242']);
    expect(life.doubleSpendProofs).toBe(1);
    expect(life.cards).toEqual([
      { cardId: '62120000000000004242', balanceFen: 22_000 },
      { cardId: '62120000000000004243', balanceFen: 5_000 },
    ]);
    expect(life.conserved).toBe(true);
    expect(life.registry.reduce((s, r) => s + r.balanceFen, 0)).toBe(life.mintedFen);
  }, 120_000);
});
