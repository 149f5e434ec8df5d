/** @module `drmb perso` and `drmb sim create`: the commands' collect functions over simulated card images. */
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../../base/hex.js';
import { DrmbCard } from '../../host/drmb-card.js';
import { directTransport } from '../../host/direct-transport.js';
import { cardApplicationKeys, cardIdToBytes } from '../../keys/card-keys.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { loadKey } from '../../keys/key-files.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { projectPath } from '../project-path.js';
import { createSimCard } from '../sim/create.js';
import { runIssue } from './issue.js';
import { prepareDryRun, runPrepare } from './prepare.js';
import { runScriptFile } from './run-script.js';

let dir: string;
const PREP = projectPath('examples', 'profiles', 'prepare.json');
const ISSUE = projectPath('examples', 'profiles', 'issue.json');
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-perso-cli-'));
  initKeyDirectory(join(dir, 'keys'));
  writeFileSync(join(dir, 'pin'), '864213\n', { mode: 0o600 });
}, 60_000);

const common = () => ({ keys: join(dir, 'keys'), manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'test' });

describe('drmb perso', () => {
  it('prepares and issues a simulated card image that keeps its state on disk', async () => {
    const image = join(dir, 'card1.json');
    await createSimCard({ image, cardId: '62120000000000001001', keys: join(dir, 'keys') });
    expect(statSync(image).mode & 0o777).toBe(0o600);
    expect(await runPrepare({ ...common(), profile: PREP, sim: image }, false)).toMatchObject({ result: 'done', cardId: '62120000000000001001' });
    expect(await runIssue({ ...common(), profile: ISSUE, sim: image, pinFile: join(dir, 'pin') }, false)).toMatchObject({ result: 'done', identity: '62120000000000001001|2036' });
    const card = new DrmbCard(directTransport(SimulatedCard.fromFile(image)));
    expect((await card.select()).state).toBe('ISSUED');
    await card.verifyPin('864213');
    expect(await runPrepare({ ...common(), profile: PREP, sim: image }, false)).toMatchObject({ result: 'skipped', reason: 'card is already ISSUED' });
  });

  it('prints a dry-run script without keys, whose full form replayed on a fresh card reaches PREPARED', async () => {
    const cardId = '62120000000000001002';
    const r = prepareDryRun({ ...common(), profile: PREP, dryRun: true, cardId });
    const appKeys = cardApplicationKeys(loadKey('cb-master', { dir: join(dir, 'keys'), env: {} }), cardIdToBytes(cardId));
    for (const k of Object.values(appKeys)) {
      expect(r.script).not.toContain(hex(k));
      expect(r.fullScript).not.toContain(hex(k));
    }
    expect(r.script).toContain('bytes of encrypted key material redacted');
    const scriptFile = join(dir, 'prep.script');
    writeFileSync(scriptFile, r.fullScript, { mode: 0o600 });
    const image = join(dir, 'card2.json');
    await createSimCard({ image, cardId, keys: join(dir, 'keys') });
    expect(await runScriptFile(scriptFile, { keys: join(dir, 'keys'), sim: image })).toEqual({ cardId, commands: 5 });
    const card = new DrmbCard(directTransport(SimulatedCard.fromFile(image)));
    expect(await card.select()).toMatchObject({ state: 'PREPARED', cardId, label: 'D-RMB' });
    expect(await card.getData('singleLimit')).toBe(100_000);
    // The same script on another card is refused before anything is written.
    const other = join(dir, 'card3.json');
    await createSimCard({ image: other, cardId: '62120000000000001003', keys: join(dir, 'keys') });
    await expect(runScriptFile(scriptFile, { keys: join(dir, 'keys'), sim: other })).rejects.toThrow(/script is for card 62120000000000001002/);
  });

  it('rejects an invalid profile naming the field and the reason', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ kind: 'prepare', institution: '1', cardForm: 'dual', label: 'X', validity: { effective: '261101', expiry: '361231' }, applicationVersion: '0100', risk: { singleLimitFen: 200000, balanceCapFen: 500000, offlineCountLimit: 10, offlineAmountLimitFen: 200000, maxCoins: 100, pinThresholdFen: 0 } }));
    await expect(runPrepare({ ...common(), profile: bad, sim: join(dir, 'card1.json') }, false)).rejects.toThrow(/risk\.singleLimitFen/);
    await expect(runPrepare({ ...common(), profile: bad, sim: join(dir, 'card1.json') }, false)).rejects.toThrow(/institution/);
  });

  it('takes the PIN only from a file (or a terminal), and names a bad PIN file', async () => {
    writeFileSync(join(dir, 'badpin'), 'abc\n');
    await expect(runIssue({ ...common(), profile: ISSUE, sim: join(dir, 'card1.json'), pinFile: join(dir, 'badpin') }, false)).rejects.toThrow(/--pin-file/);
    await expect(runIssue({ ...common(), profile: ISSUE, sim: join(dir, 'card1.json') }, false)).rejects.toThrow(/no PIN/);
  });

  it('refuses to overwrite a card image and names a malformed card ID', async () => {
    await expect(createSimCard({ image: join(dir, 'card1.json'), cardId: '62120000000000001001', keys: join(dir, 'keys') })).rejects.toThrow(/exists/);
    await expect(createSimCard({ image: join(dir, 'x.json'), cardId: '123', keys: join(dir, 'keys') })).rejects.toThrow(/--card-id/);
  });
});
