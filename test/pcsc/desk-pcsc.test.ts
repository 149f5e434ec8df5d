/**
 * @module The desk's operations through the real PC/SC stack: an issued simulated card served into
 * pcscd's vpcd reader is blocked, unblocked, given new limits and a new PIN, then loaded, its coins
 * renewed, and returned (its coins paid to the bank's vault, the card terminated), with the same commands as
 * for a simulated image, the desk holding its issuance-desk bundle only. Slow suite; never skipped in CI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SW } from '../../applet-spec/status-words.js';
import { runDeskOperation } from '../../cli/card/desk.js';
import { runCardReturn } from '../../cli/card/return.js';
import { runMint } from '../../cli/bank/mint.js';
import { runWithdraw } from '../../cli/bank/withdraw.js';
import { runRenew } from '../../cli/bank/renew.js';
import { runUserKey } from '../../cli/keys/user-key.js';
import { runExport } from '../../cli/keys/export.js';
import { runIssue } from '../../cli/perso/issue.js';
import { runPrepare } from '../../cli/perso/prepare.js';
import { projectPath } from '../../cli/project-path.js';
import { createSimCard } from '../../cli/sim/create.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { StatusWordError } from '../../host/errors.js';
import { loadPcsc, openReader } from '../../host/pcsc.js';
import { verifyAuditLog } from '../../personalization/audit-log.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { startPcscd, type PcscdHandle } from '../../scripts/pcsc-harness.js';
import { type CardChild, maySkip, missing, READER, skipReason, spawnServe, waitReader } from './pcsc-fixture.js';

if (maySkip) console.warn(`test/pcsc/desk-pcsc.test.ts skipped: ${skipReason}`);

describe.skipIf(maySkip)(`the desk's operations through PC/SC${skipReason && ` (skipped: ${skipReason})`}`, { timeout: 90_000 }, () => {
  let pcscd: PcscdHandle | undefined;
  let dir: string;
  let child: CardChild | undefined;
  const CARD = '62120000000000003101';

  beforeAll(async () => {
    if (missing.length) throw new Error(`CI=${process.env.CI}: the PC/SC suite cannot be skipped in CI; ${skipReason}`);
    await loadPcsc();
    dir = mkdtempSync(join(tmpdir(), 'drmb-desk-pcsc-'));
    initKeyDirectory(join(dir, 'keys'));
    runExport({ role: 'issuance-desk', out: join(dir, 'desk'), keys: join(dir, 'keys') });
    writeFileSync(join(dir, 'pin'), '975310\n', { mode: 0o600 });
    writeFileSync(join(dir, 'new-pin'), '135246\n', { mode: 0o600 });
    // The card is made and issued as a simulated image, then served into the reader.
    const image = join(dir, 'card.json');
    const common = { keys: join(dir, 'keys'), manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'prep', sim: image };
    await createSimCard({ image, cardId: CARD, keys: join(dir, 'keys') });
    await runPrepare({ ...common, profile: projectPath('examples', 'profiles', 'prepare.json') }, false);
    await runIssue({ ...common, profile: projectPath('examples', 'profiles', 'issue.json'), pinFile: join(dir, 'pin') }, false);
    pcscd = await startPcscd();
    child = spawnServe(image, 35963);
    await child.waitFor('card inserted in vpcd 127.0.0.1:35963', 20_000);
    await waitReader(true, READER);
  }, 120_000);

  afterAll(async () => {
    try {
      await child?.quit();
    } finally {
      await pcscd?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  const desk = () => ({ reader: READER, keys: join(dir, 'desk'), manifest: join(dir, 'desk.jsonl'), audit: join(dir, 'desk-audit.log'), operator: 'desk 1', yes: true });

  it('blocks the card in the reader, refuses a second block (6985), and unblocks it', async () => {
    expect((await runDeskOperation('block', desk())).after.state).toBe('LOCKED');
    const again = await runDeskOperation('block', desk()).catch((e: unknown) => e);
    expect((again as StatusWordError).sw).toBe(SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    expect((await runDeskOperation('unblock', desk())).after.state).toBe('ISSUED');
  });

  it('sets the limits and reloads the PIN, read back through the host library; the audit chain holds', async () => {
    expect((await runDeskOperation('set-limits', { ...desk(), singleLimit: '300.00' })).after.singleLimitFen).toBe(30_000);
    expect((await runDeskOperation('reload-pin', { ...desk(), pinFile: join(dir, 'new-pin') })).after.pinTriesLeft).toBe(3);
    const t = await openReader(READER);
    try {
      const card = new DrmbCard(t);
      expect(await card.select()).toMatchObject({ state: 'ISSUED', cardId: CARD });
      await card.verifyPin('135246');
      expect(await card.getData('singleLimit')).toBe(30_000);
    } finally {
      await t.close();
    }
    // the holder then changes the PIN back with the one the desk gave
    expect((await runDeskOperation('change-pin', { ...desk(), oldPinFile: join(dir, 'new-pin'), pinFile: join(dir, 'pin') })).after.pinTriesLeft).toBe(3);
    expect(verifyAuditLog(join(dir, 'desk-audit.log'))).toBe(0);
  });

  it('renews the coins of the card in the reader, then returns it last: terminate is refused while it holds coins; the return pays them to the vault, the holder in cash, and terminates it', async () => {
    const bank = '102100000001';
    const bundles = join(dir, 'bundles');
    for (const role of ['registry', 'bank-vault', 'kgc'] as const) runExport({ role, out: join(bundles, role), keys: join(dir, 'keys') });
    runUserKey({ identity: `vault@${bank}`, out: join(dir, 'bank.key'), keys: join(bundles, 'kgc') });
    const registry = join(dir, 'registry');
    await runMint({ amount: '250', toBank: bank, keys: join(bundles, 'registry'), registry, yes: true });
    const journal = join(dir, 'journal');
    await runWithdraw({ amount: '150.00', bankCode: bank, reader: READER, terminalId: '100000000001', keys: join(bundles, 'bank-vault'), registry, journal });
    // the bank renews its coins first: fresh ones, expiring in 2100, in place of all it holds
    await runMint({ amount: '150', toBank: bank, keys: join(bundles, 'registry'), registry, yes: true, expiry: '21000101' });
    const renewed = await runRenew({ reader: READER, keys: join(dir, 'keys'), registry, bankCode: bank, bankKey: join(dir, 'bank.key'), before: '20991231', terminalId: '100000000001', renewals: join(dir, 'renewals'), journal, pinFile: join(dir, 'pin'), audit: join(dir, 'desk-audit.log'), operator: 'vault 1' });
    expect(renewed).toMatchObject({ renewedFen: 15_000, balanceFen: 15_000 });
    await expect(runDeskOperation('terminate', desk())).rejects.toThrow('still holds 150.00 yuan');
    const r = await runCardReturn({
      ...desk(),
      vaultKeys: join(bundles, 'registry'),
      registry,
      bankCode: bank,
      bankKey: join(dir, 'bank.key'),
      returns: join(dir, 'returns'),
      journal,
      pinFile: join(dir, 'pin'),
    });
    expect(r).toMatchObject({ cardId: CARD, paidOutFen: 15_000, state: 'TERMINATED' });
    const t = await openReader(READER);
    try {
      const e = await new DrmbCard(t).select().catch((x: unknown) => x);
      expect((e as StatusWordError).sw).toBe(SW.FUNCTION_NOT_SUPPORTED);
    } finally {
      await t.close();
    }
    expect(verifyAuditLog(join(dir, 'desk-audit.log'))).toBe(0);
  });
});
