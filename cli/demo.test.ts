/** @module `drmb demo`: the main job end to end on simulated cards, each party with its own bundle, the KGC, the registry and the bank's online service in their own processes, and what its report shows. */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { CEREMONY_KINDS, loadKey } from '../keys/key-files.js';
import { readBundleManifest, ROLE_BUNDLES } from '../keys/role-bundles.js';
import { verifyAuditLog } from '../personalization/audit-log.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { DEMO_PIN, formatDemo, runDemo } from './demo.js';

describe('drmb demo', () => {
  it('runs every party with its own bundle alone and the KGC, the registry and the bank in their own processes, and reports what the card says and who held which keys, without secrets', async () => {
    const report = await runDemo({ cardId: '62120000000000004242' });
    expect(report.card).toMatchObject({ cardId: '62120000000000004242', state: 'ISSUED', identity: '62120000000000004242|2036', balanceFen: 0, pinTriesLeft: 3 });
    expect(report.stages.map((s) => [s.stage, s.result])).toEqual([['prepare', 'done'], ['issue', 'done']]);
    const text = formatDemo(report) + JSON.stringify(report);
    for (const kind of CEREMONY_KINDS) {
      for (const secret of Object.values(loadKey(kind, { dir: report.ceremony, env: {} }).secret)) expect(text).not.toContain(hex(secret));
    }
    for (const f of readdirSync(report.ceremony).filter((f) => f !== 'trust-anchors.json')) {
      expect(statSync(join(report.ceremony, f)).mode & 0o777).toBe(0o600);
    }
    // The saved image is the issued card: it keeps its state and PIN across runs.
    const card = new DrmbCard(directTransport(SimulatedCard.fromFile(report.image)));
    expect((await card.select()).state).toBe('ISSUED');
    await card.verifyPin(DEMO_PIN);
    expect(readFileSync(report.manifest, 'utf8').trim().split('\n')).toHaveLength(4);

    // The money: every step happened, the double spend was caught, and value is conserved.
    const life = report.life!;
    // Deposits: the change the terminal's float paid into card A (on the card's receipt), the purchase, the transfer (on card B's receipt).
    expect(life.steps.map((s) => s.step)).toEqual(['mint', 'withdraw', 'pos purchase', 'peer payment', 'deposit', 'deposit', 'deposit', 'online payment', 'double spend', 'blacklist']);
    // Online, card B pays its 50.00 yuan back: the registry showed card A as owner before card A imported.
    expect(life.steps.find((s) => s.step === 'online payment')!.detail).toMatch(/^50\.00 yuan from card 62120000000000004243 to card 62120000000000004242: the registry recorded card:62120000000000004242 as owner .* before card 62120000000000004242 imported$/);
    expect(life.steps.filter((s) => s.step === 'deposit').map((s) => s.detail)).toEqual([expect.stringMatching(/change .* receipt/), expect.stringMatching(/from card/), expect.stringMatching(/transfer settled on card B's receipt/)]);
    expect(life.steps.find((s) => s.step === 'double spend')!.detail).toMatch(/^caught at settlement/);
    expect(life.steps.find((s) => s.step === 'blacklist')!.detail).toMatch(/BlacklistedCardError/);
    expect(life.blacklist).toEqual(['62120000000000004242']);
    expect(life.doubleSpendProofs).toBe(1);
    expect(life.cards).toEqual([
      { cardId: '62120000000000004242', balanceFen: 27_000 },
      { cardId: '62120000000000004243', balanceFen: 0 },
    ]);
    expect(life.conserved).toBe(true);
    expect(life.registry.reduce((s, r) => s + r.balanceFen, 0)).toBe(life.mintedFen);

    // Each party was given its own role's bundle and loaded only keys its role holds.
    expect(report.parties.map((p) => [p.party, p.role, p.keys])).toEqual([
      ["central bank's prep centre", 'prep-centre', ['cb-master', 'issuance-master', 'cert-signing']],
      ['KGC', 'kgc', ['kgc-sign', 'kgc-encrypt']],
      ["issuing bank's issuance desk", 'issuance-desk', ['issuance-master', 'desk-signing']],
      ["issuing bank's vault", 'bank-vault', ['bank-signing', 'load-master']],
      ["issuing bank's online service (bank 102100000001)", 'bank-vault', ['bank-signing']],
      ["merchant's bank (bank 103100000002)", 'bank-vault', ['bank-signing']],
      ["merchant's acquirer (PSAMs)", 'pos', ['purchase-master']],
      ['POS terminal', 'pos', []],
      ["central bank's registry", 'registry', ['mint-master', 'coin-signing']],
    ]);
    for (const p of report.parties) {
      expect(readBundleManifest(p.bundle)!.role).toBe(p.role);
      expect(p.bundle.startsWith(join(report.dir, 'bundles'))).toBe(true);
      expect(p.foreignKeys).toEqual([]);
      for (const k of p.keys) expect(ROLE_BUNDLES[p.role].keys.map((x) => x.kind)).toContain(k);
    }
    expect(report.parties.find((p) => p.party === 'POS terminal')!.own).toEqual([expect.stringMatching(/^SM2 device key/), expect.stringMatching(/^SM9 signing key of pos-0001@merchant\.example, from the KGC/)]);
    expect(formatDemo(report)).toMatch(/Parties \(each given only its role's bundle/);
    expect(formatDemo(report).match(/no other party's key loaded/g)).toHaveLength(9);

    // The KGC ran as its own process, now stopped, and its audit log holds the extractions: both cards, the terminal and card A's wallet.
    const kgc = report.parties.find((p) => p.role === 'kgc')!;
    expect(kgc.pid).toBe(report.kgc.pid);
    expect(report.kgc.pid).not.toBe(process.pid);
    // So did the registry (with the registry bundle's keys) and the issuing bank's online service (with no key): three other processes, now stopped.
    const own = report.parties.filter((p) => p.pid !== process.pid);
    expect(own.map((p) => p.party)).toEqual(['KGC', "issuing bank's online service (bank 102100000001)", "central bank's registry"]);
    expect(new Set(own.map((p) => p.pid)).size).toBe(3);
    expect(report.pid).toBe(process.pid);
    for (const p of own) expect(() => process.kill(p.pid, 0)).toThrow(/ESRCH/);
    expect(formatDemo(report).match(/its own process/g)).toHaveLength(3);
    expect(verifyAuditLog(report.kgc.audit)).toBe(0);
    const extractions = readFileSync(report.kgc.audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; operator: string; cardId?: string; detail: { identity: string } }).filter((e) => e.action === 'extract');
    expect(extractions.map((e) => [e.operator, e.cardId, e.detail.identity])).toEqual([
      ['desk demo issuing bank, desk 1', '62120000000000004242', '62120000000000004242|2036'],
      ['desk demo issuing bank, desk 1', '62120000000000004243', '62120000000000004243|2036'],
      ['terminal demo merchant, POS terminal 1', undefined, 'pos-0001@merchant.example'],
      ['terminal demo holder of card 62120000000000004242, wallet', undefined, '62120000000000004242|2036'],
    ]);
    expect(report.kgc.extractions).toBe(4);
  }, 240_000);

  it('refuses a --dir that is not empty, before any key is made, in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-demo-used-'));
    writeFileSync(join(dir, 'something'), 'x');
    await expect(runDemo({ dir })).rejects.toThrow(`--dir ${dir} is not empty: give a new or empty folder, or leave --dir out for a temporary one`);
    expect(readdirSync(dir)).toEqual(['something']);
  });

  it('stops the KGC process also when a later step fails', async () => {
    const lines: string[] = [];
    // A card ID that is not 20 digits fails at the card factory, after the KGC has started.
    await expect(runDemo({ cardId: '6212-not-a-card-id', progress: (l) => lines.push(l) })).rejects.toThrow();
    const pid = Number(lines.find((l) => l.startsWith('KGC listening on'))!.match(/pid (\d+)$/)![1]);
    expect(pid).not.toBe(process.pid);
    expect(lines.at(-1)).toBe(`KGC process ${pid} stopped (exit code 0)`);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  }, 60_000);
});
