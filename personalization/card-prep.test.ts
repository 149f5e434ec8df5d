/** @module Card prep and issuance of simulated cards through the host library: results, manifest, failure paths. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { TransportError } from '../host/errors.js';
import { stack } from '../host/transport.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { verifyAuditLog } from './audit-log.js';
import { cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { issueCard, type IssueKeys, PersoError, prepareCard, type PrepareKeys } from './card-prep.js';
import { inProcessKgc } from './kgc.js';
import { generateKey, initKeyDirectory, readTrustAnchors } from './key-ceremony.js';
import { type KeyKind, loadKey } from '../keys/key-files.js';
import { Manifest } from './manifest.js';
import { projectPath } from '../cli/project-path.js';
import { loadIssueProfile, loadPrepareProfile } from './profiles.js';

const EXAMPLES = projectPath('examples', 'profiles');
let dir: string;
let prepKeys: PrepareKeys;
let issueKeys: IssueKeys;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-perso-'));
  initKeyDirectory(join(dir, 'keys'));
  const k = <K extends KeyKind>(kind: K) => loadKey(kind, { dir: join(dir, 'keys'), env: {} });
  const anchors = readTrustAnchors(join(dir, 'keys', 'trust-anchors.json'));
  prepKeys = { cbMaster: k('cb-master'), issuanceMaster: k('issuance-master'), certSigning: k('cert-signing'), anchors };
  const kgcSign = k('kgc-sign');
  const kgcEncrypt = k('kgc-encrypt');
  issueKeys = { issuanceMaster: prepKeys.issuanceMaster, kgc: inProcessKgc({ signPrivateKey: kgcSign.secret.privateKey, encryptPrivateKey: kgcEncrypt.secret.privateKey }, anchors), anchors };
}, 60_000);

/** A blank simulated card whose personalization keys derive from the ceremony's central-bank master. */
function blankCard(cardId: string): SimulatedCard {
  return new SimulatedCard({ manufacture: { cardId, personalizationKeys: cardScpKeys(prepKeys.cbMaster, cardIdToBytes(cardId)) } });
}

const transportOf = (card: SimulatedCard) => stack(directTransport(card), getResponse());
const ctx = (name: string) => ({ operator: 'tester', manifest: new Manifest(join(dir, `${name}.jsonl`)), auditPath: join(dir, `${name}.audit`) });

describe('prepare and issue', () => {
  it('prepares and issues a card whose state, read through the host library, matches the profiles', async () => {
    const sim = blankCard('62120000000000000901');
    const c = ctx('happy');
    const prep = loadPrepareProfile(join(EXAMPLES, 'prepare.json'));
    const issue = loadIssueProfile(join(EXAMPLES, 'issue.json'));
    const r1 = await prepareCard(transportOf(sim), prep, prepKeys, c);
    expect(r1).toMatchObject({ cardId: '62120000000000000901', result: 'done' });
    const r2 = await issueCard(transportOf(sim), issue, {}, '246810', issueKeys, c);
    expect(r2).toMatchObject({ result: 'done', identity: '62120000000000000901|2036' });
    expect(r1.apdus + r2.apdus, `prep ${r1.apdus} + issue ${r2.apdus} APDUs`).toBeLessThanOrEqual(25);

    const card = new DrmbCard(transportOf(sim));
    expect(await card.select()).toMatchObject({ state: 'ISSUED', cardId: '62120000000000000901', label: 'D-RMB' });
    expect(await card.getData('singleLimit')).toBe(issue.profile.caps.singleLimitFen);
    expect(await card.getData('balanceCap')).toBe(issue.profile.caps.balanceCapFen);
    expect(await card.getData('institution')).toBe(prep.profile.institution);
    expect(await card.getData('pinTriesLeft')).toBe(issue.profile.pin.tryLimit);
    await card.verifyPin('246810');

    const lines = c.manifest.entries();
    expect(lines.map((l) => [l.stage, l.result])).toEqual([['prepare', 'done'], ['issue', 'done']]);
    expect(lines[0].profileHash).toBe(prep.hash);
    expect(Object.keys(lines[0].kcvs!)).toContain('load');
    expect(verifyAuditLog(c.auditPath)).toBe(0);
    const written = readFileSync(c.manifest.path, 'utf8') + readFileSync(c.auditPath, 'utf8');
    expect(written).not.toContain('246810');
  });

  it('reports an already prepared or issued card as skipped and does not touch it', async () => {
    const sim = blankCard('62120000000000000902');
    const c = ctx('skip');
    const prep = loadPrepareProfile(join(EXAMPLES, 'prepare.json'));
    await prepareCard(transportOf(sim), prep, prepKeys, c);
    const image = sim.toImage();
    const again = await prepareCard(transportOf(sim), prep, prepKeys, c);
    expect(again).toMatchObject({ result: 'skipped', reason: 'card is already PREPARED' });
    expect(Buffer.from(sim.toImage()).equals(Buffer.from(image))).toBe(true);
  });

  it('stops after one failed card cryptogram with a wrong master key, leaves the card untouched, and refuses to retry', async () => {
    const sim = blankCard('62120000000000000903');
    const c = ctx('wrong-key');
    const prep = loadPrepareProfile(join(EXAMPLES, 'prepare.json'));
    const wrong = { ...prepKeys, cbMaster: generateKey('cb-master') };
    const image = sim.toImage();
    await expect(prepareCard(transportOf(sim), prep, wrong, c)).rejects.toThrow(/card cryptogram does not match/);
    expect(c.manifest.cryptogramFailures('62120000000000000903', 'prepare')).toBe(1);
    expect(Buffer.from(sim.toImage()).equals(Buffer.from(image))).toBe(true);
    await expect(prepareCard(transportOf(sim), prep, wrong, c)).rejects.toThrow(PersoError);
    // With the right keys and --force, the card is prepared.
    expect((await prepareCard(transportOf(sim), prep, prepKeys, { ...c, force: true })).result).toBe('done');
  });

  it('resumes a prep interrupted by a pulled card: the card is still BLANK and a rerun completes', async () => {
    const sim = blankCard('62120000000000000904');
    const c = ctx('pulled');
    const prep = loadPrepareProfile(join(EXAMPLES, 'prepare.json'));
    sim.store.cutPowerAfterWrites(3);
    await expect(prepareCard(transportOf(sim), prep, prepKeys, c)).rejects.toBeInstanceOf(TransportError);
    sim.store.disarm();
    expect(c.manifest.entries().at(-1)).toMatchObject({ result: 'failed', stage: 'prepare' });
    expect((await prepareCard(transportOf(sim), prep, prepKeys, c)).result).toBe('done');
  });

  it('has the card reject SM9 keys the KGC extracted for another identity, and stay PREPARED', async () => {
    const sim = blankCard('62120000000000000905');
    const c = ctx('wrong-kgc');
    await prepareCard(transportOf(sim), loadPrepareProfile(join(EXAMPLES, 'prepare.json')), prepKeys, c);
    const otherKgc = inProcessKgc({ signPrivateKey: generateKey('kgc-sign').secret.privateKey, encryptPrivateKey: generateKey('kgc-encrypt').secret.privateKey }, issueKeys.anchors);
    await expect(issueCard(transportOf(sim), loadIssueProfile(join(EXAMPLES, 'issue.json')), {}, '246810', { ...issueKeys, kgc: otherKgc }, c)).rejects.toThrow(/6A80/);
    expect(sim.memory.state).toBe('PREPARED');
  });

  it('refuses a PIN outside the profile policy before touching the card', async () => {
    const sim = blankCard('62120000000000000906');
    await expect(issueCard(transportOf(sim), loadIssueProfile(join(EXAMPLES, 'issue.json')), {}, '12', issueKeys, ctx('pin'))).rejects.toThrow(/PIN/);
  });
});
