/**
 * @module The desk's operations on an issued simulated card: block and unblock, reload the PIN, set the
 * limits, change the PIN; each with the desk bundle's issuer-master only, confirmed, recorded in the
 * manifest and the hash-chained audit log; a wrong key (9302), the wrong state (6985) and a missing
 * confirmation change nothing on the card.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SW } from '../../applet-spec/status-words.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError } from '../../host/errors.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { verifyAuditLog } from '../../personalization/audit-log.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { CARD_PIN, issuedCard, posWorld, type PosWorld, transportOf } from '../../test/pos-fixture.js';
import { runExport } from '../keys/export.js';
import { UsageError } from '../output.js';
import { runDeskOperation } from './desk.js';

let w: PosWorld;
let dir: string;
const desk = () => join(dir, 'desk');
const records = () => ({ manifest: join(dir, 'manifest.jsonl'), audit: join(dir, 'audit.log'), operator: 'desk test' });

beforeAll(() => {
  w = posWorld();
  dir = mkdtempSync(join(w.dir, 'desk-'));
  runExport({ role: 'issuance-desk', out: desk(), keys: join(w.dir, 'keys') });
  writeFileSync(join(dir, 'new-pin'), '975310\n');
  writeFileSync(join(dir, 'old-pin'), `${CARD_PIN}\n`);
  writeFileSync(join(dir, 'wrong-pin'), '000000\n');
}, 120_000);

async function cardImage(cardId: string): Promise<string> {
  const image = join(dir, `${cardId}.json`);
  (await issuedCard(w, cardId, [])).saveToFile(image);
  return image;
}

const bytesOf = (path: string) => readFileSync(path).toString('hex');

/** VERIFY on the card of an image (after SELECT), saving what the card remembers (the tries). */
async function verifyOn(sim: string, pin: string): Promise<void> {
  const card = SimulatedCard.fromFile(sim);
  const drmb = new DrmbCard(transportOf(card));
  await drmb.select();
  try {
    await drmb.verifyPin(pin);
  } finally {
    card.saveToFile(sim);
  }
}

describe('the desk operations', () => {
  it('blocks a lost card and unblocks it when found, with the desk bundle alone, each recorded in the manifest and the audit chain', async () => {
    const sim = await cardImage('62120000000000009101');
    const blocked = await runDeskOperation('block', { sim, keys: desk(), yes: true, ...records() });
    expect([blocked.before.state, blocked.after.state]).toEqual(['ISSUED', 'LOCKED']);
    const unblocked = await runDeskOperation('unblock', { sim, keys: desk(), yes: true, ...records() });
    expect(unblocked.after.state).toBe('ISSUED');
    const manifest = readFileSync(records().manifest, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cardId: string; stage: string; result: string });
    expect(manifest.filter((e) => e.cardId === '62120000000000009101').map((e) => [e.stage, e.result])).toEqual([['block', 'done'], ['unblock', 'done']]);
    expect(verifyAuditLog(records().audit)).toBe(0);
  });

  it('refuses to block a card that is blocked already (the card answers 6985) and records the failure; the card is unchanged', async () => {
    const sim = await cardImage('62120000000000009102');
    await runDeskOperation('block', { sim, keys: desk(), yes: true, ...records() });
    const before = bytesOf(sim);
    const e = await runDeskOperation('block', { sim, keys: desk(), yes: true, ...records() }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StatusWordError);
    expect((e as StatusWordError).sw).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(bytesOf(sim)).toBe(before);
    expect(readFileSync(records().audit, 'utf8')).toContain('"action":"block failed"');
  });

  it("is refused by the card under another issuer's keys (9302) and the card is unchanged", async () => {
    const sim = await cardImage('62120000000000009103');
    const other = join(dir, 'other-ceremony');
    initKeyDirectory(other);
    runExport({ role: 'issuance-desk', out: join(dir, 'other-desk'), keys: other });
    const before = bytesOf(sim);
    const e = await runDeskOperation('block', { sim, keys: join(dir, 'other-desk'), yes: true, ...records() }).catch((x: unknown) => x);
    expect((e as StatusWordError).sw).toBe(SW.MAC_INVALID);
    expect(bytesOf(sim)).toBe(before);
  }, 60_000);

  it('reloads a forgotten PIN: the tries are full again and the new PIN verifies', async () => {
    const sim = await cardImage('62120000000000009104');
    await expect(verifyOn(sim, '000000')).rejects.toThrow();
    const r = await runDeskOperation('reload-pin', { sim, keys: desk(), yes: true, pinFile: join(dir, 'new-pin'), ...records() });
    expect([r.before.pinTriesLeft, r.after.pinTriesLeft]).toEqual([2, 3]);
    await verifyOn(sim, '975310');
  });

  it('sets the limits by PUT DATA and shows them after; a holder changes the PIN with the current one, and not with a wrong one', async () => {
    const sim = await cardImage('62120000000000009105');
    const r = await runDeskOperation('set-limits', { sim, keys: desk(), yes: true, singleLimit: '500.00', pinThreshold: '100', ...records() });
    expect([r.after.singleLimitFen, r.after.pinThresholdFen]).toEqual([50_000, 10_000]);
    expect(r.after.balanceCapFen).toBe(r.before.balanceCapFen);
    await expect(runDeskOperation('change-pin', { sim, yes: true, oldPinFile: join(dir, 'wrong-pin'), pinFile: join(dir, 'new-pin'), ...records() })).rejects.toThrow(StatusWordError);
    const changed = await runDeskOperation('change-pin', { sim, yes: true, oldPinFile: join(dir, 'old-pin'), pinFile: join(dir, 'new-pin'), ...records() });
    expect(changed.after.pinTriesLeft).toBe(3);
    await verifyOn(sim, '975310');
  });

  it('changes nothing without a confirmation, and refuses a bundle of another role or a missing option before the card is touched', async () => {
    const sim = await cardImage('62120000000000009106');
    const before = bytesOf(sim);
    await expect(runDeskOperation('block', { sim, keys: desk(), ...records() })).rejects.toThrow(/needs a confirmation: add --yes/);
    // The bundle's issuer-master is what the desk operations need (the role table's minimality).
    const without = join(dir, 'desk-without');
    cpSync(desk(), without, { recursive: true });
    rmSync(join(without, 'issuer-master.json'));
    await expect(runDeskOperation('block', { sim, keys: without, yes: true, ...records() })).rejects.toThrow('issuer-master key: not found');
    const vault = join(dir, 'vault');
    runExport({ role: 'bank-vault', out: vault, keys: join(w.dir, 'keys') });
    await expect(runDeskOperation('block', { sim, keys: vault, yes: true, ...records() })).rejects.toThrow('is a bank-vault bundle; drmb card block needs an issuance-desk bundle');
    await expect(runDeskOperation('set-limits', { sim, keys: desk(), yes: true, ...records() })).rejects.toThrow(UsageError);
    await expect(runDeskOperation('set-limits', { sim, keys: desk(), yes: true, singleLimit: 'lots', ...records() })).rejects.toThrow('--single-limit must be an amount in yuan');
    expect(bytesOf(sim)).toBe(before);
  });

  it('terminates a card with no coins left through the issuance channel, after a confirmation; the card then answers nothing', async () => {
    const sim = await cardImage('62120000000000009107');
    const before = bytesOf(sim);
    await expect(runDeskOperation('terminate', { sim, keys: desk(), ...records() })).rejects.toThrow(/needs a confirmation: add --yes/);
    expect(bytesOf(sim)).toBe(before);
    const r = await runDeskOperation('terminate', { sim, keys: desk(), yes: true, ...records() });
    expect([r.before.state, r.after.state]).toEqual(['ISSUED', 'TERMINATED']);
    const card = SimulatedCard.fromFile(sim);
    const e = await new DrmbCard(transportOf(card)).select().catch((x: unknown) => x);
    expect((e as StatusWordError).sw).toBe(SW.FUNCTION_NOT_SUPPORTED);
    expect(readFileSync(records().audit, 'utf8')).toContain('"action":"terminate"');
    expect(verifyAuditLog(records().audit)).toBe(0);
  });

  it('refuses to terminate a card that holds coins, naming the amount and drmb card return; the card refuses it too (6985)', async () => {
    const sim = join(dir, 'with-coins.json');
    const card = await issuedCard(w, '62120000000000009108', [10_000]);
    card.saveToFile(sim);
    const before = bytesOf(sim);
    await expect(runDeskOperation('terminate', { sim, keys: desk(), yes: true, ...records() })).rejects.toThrow('still holds 100.00 yuan: pay its coins out first (drmb card return)');
    expect(bytesOf(sim)).toBe(before);
    // the card's own rule, asked directly through the same channel
    const { openSecureChannel } = await import('../../host/secure-channel.js');
    const { cardIssuanceKeys, cardIdToBytes } = await import('../../keys/card-keys.js');
    const { KEY_VERSIONS } = await import('../../applet-spec/commands/initialize-update.js');
    const { loadRoleKey } = await import('../../keys/role-bundles.js');
    const master = loadRoleKey(desk(), 'issuance-desk', 'issuance-master');
    const t = transportOf(card);
    const drmb = new DrmbCard(t);
    await drmb.select();
    const channel = await openSecureChannel(t, cardIssuanceKeys(master.secret, cardIdToBytes('62120000000000009108')), { kvn: KEY_VERSIONS.ISSUANCE });
    const refused = await drmb.terminate(channel).catch((x: unknown) => x);
    expect((refused as StatusWordError).sw).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    await drmb.select();
    expect(await drmb.balance()).toBe(10_000);
  });

  it('refuses each operation in a state its command does not allow (6985), and a channel of a key version outside the card\'s set (6A86), changing nothing', async () => {
    const sim = await cardImage('62120000000000009109');
    const o = { sim, keys: desk(), yes: true, ...records() };
    const refusedSw = async (p: Promise<unknown>) => ((await p.catch((x: unknown) => x)) as StatusWordError).sw;
    let before = bytesOf(sim);
    expect(await refusedSw(runDeskOperation('unblock', o))).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(bytesOf(sim)).toBe(before);
    await runDeskOperation('block', o);
    before = bytesOf(sim);
    expect(await refusedSw(runDeskOperation('reload-pin', { ...o, pinFile: join(dir, 'new-pin') }))).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(await refusedSw(runDeskOperation('change-pin', { ...o, pinFile: join(dir, 'new-pin'), oldPinFile: join(dir, 'old-pin') }))).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect(bytesOf(sim)).toBe(before);
    // SET STATUS goes through the issuance channel, kvn 31: INITIALIZE UPDATE of key version 32 is refused (P1 allows 00, 30, 31)
    const { openSecureChannel } = await import('../../host/secure-channel.js');
    const { cardIssuanceKeys, cardIdToBytes } = await import('../../keys/card-keys.js');
    const { loadRoleKey } = await import('../../keys/role-bundles.js');
    const card = SimulatedCard.fromFile(sim);
    const t = transportOf(card);
    await new DrmbCard(t).select();
    const keys = cardIssuanceKeys(loadRoleKey(desk(), 'issuance-desk', 'issuance-master').secret, cardIdToBytes('62120000000000009109'));
    expect(await refusedSw(openSecureChannel(t, keys, { kvn: 0x32 }))).toBe(SW.INCORRECT_P1P2);
    card.saveToFile(sim);
    expect(bytesOf(sim)).toBe(before);
  });
});
