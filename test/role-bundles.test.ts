/**
 * @module Role key bundles end to end: each role's bundle holds exactly what the role table says and
 * no secret of another role; each role's commands run with its bundle alone and fail without any one
 * of its keys (so the table is minimal); a command refuses a bundle of another role in one line.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { CEREMONY_KINDS, defaultKeyFileName, type KeyFile, readKeyFile } from '../keys/key-files.js';
import { BUNDLE_MANIFEST_FILE, bundleFileNames, loadRoleKey, readBundleManifest, ROLE_BUNDLES, type Role, ROLES, roleTableMarkdown } from '../keys/role-bundles.js';
import { initKeyDirectory } from '../personalization/key-ceremony.js';
import { runMint } from '../cli/bank/mint.js';
import { runPeerPay } from '../cli/peer/pay.js';
import { runWithdraw } from '../cli/bank/withdraw.js';
import { runExport } from '../cli/keys/export.js';
import { runUserKey } from '../cli/keys/user-key.js';
import { runIssue } from '../cli/perso/issue.js';
import { runPrepare } from '../cli/perso/prepare.js';
import { projectPath } from '../cli/project-path.js';
import { createSimCard } from '../cli/sim/create.js';
import { collectPersoPsam } from '../cli/perso/psam.js';
import { psamPersonalizationMasters } from '../keys/card-keys.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { dgiRecordKey } from '../simulator/card-memory.js';
import { DGIS } from '../applet-spec/dgis.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey } from '../crypto/sm9/sm9.js';
import { verifyAuditLog } from '../personalization/audit-log.js';
import type { KgcService } from '../personalization/kgc-service.js';
import { runAuthorize } from '../cli/kgc/authorize.js';
import { startKgcFromKeys } from '../cli/kgc/serve.js';
import { startBankFromOptions } from '../cli/bank/serve.js';
import { startRegistryFromOptions } from '../cli/registry/serve.js';
import { runRegistryAuthorize } from '../cli/registry/authorize.js';

let dir: string;
const ceremony = () => join(dir, 'keys');
const bundle = (role: Role) => join(dir, 'bundles', role);
const PREP = projectPath('examples', 'profiles', 'prepare.json');
const ISSUE = projectPath('examples', 'profiles', 'issue.json');
const BANK = '102100000001';

let kgc: KgcService;
const kgcAudit = () => join(dir, 'kgc-audit.log');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-role-bundles-'));
  initKeyDirectory(ceremony());
  for (const role of ROLES) runExport({ role, out: bundle(role), keys: ceremony() });
  writeFileSync(join(dir, 'pin'), '864213\n', { mode: 0o600 });
  // The KGC runs apart with its own bundle and knows the desk by the public key of the desk's bundle.
  runAuthorize({ keys: bundle('kgc'), deskKey: bundle('issuance-desk'), name: 'test bank desk 1' });
  kgc = await startKgcFromKeys({ keys: bundle('kgc'), port: '0', audit: kgcAudit() });
}, 120_000);

afterAll(async () => {
  await kgc?.close();
});

/** A card made and prepared with the prep centre's bundle, issued with the desk's bundle through the KGC service. */
async function issuedCard(image: string, cardId: string): Promise<void> {
  await createSimCard({ image, cardId, keys: bundle('prep-centre') });
  await runPrepare({ ...perso(bundle('prep-centre')), profile: PREP, sim: image }, false);
  await runIssue({ ...perso(bundle('issuance-desk')), kgc: kgc.url, profile: ISSUE, sim: image, pinFile: join(dir, 'pin') }, false);
}

/** Every secret of the ceremony as uppercase hex, with the kind and name it belongs to. */
function ceremonySecrets(): { kind: string; name: string; hex: string }[] {
  return CEREMONY_KINDS.flatMap((kind) => {
    const k = readKeyFile(join(ceremony(), defaultKeyFileName(kind)), kind) as KeyFile;
    return Object.entries(k.secret as Record<string, Uint8Array>).map(([name, v]) => ({ kind, name, hex: hex(v) }));
  });
}

/** A copy of the role's bundle without one of its files. */
function bundleWithout(role: Role, file: string): string {
  const copy = mkdtempSync(join(dir, `${role}-without-`));
  cpSync(bundle(role), copy, { recursive: true });
  rmSync(join(copy, file));
  return copy;
}

const perso = (keys: string) => ({ keys, manifest: join(dir, 'm.jsonl'), audit: join(dir, 'a.log'), operator: 'test' });

describe('drmb keys export', () => {
  it.each(ROLES)('writes the %s bundle of exactly its files, key files 0600, with no secret of a key the role does not hold', (role) => {
    const files = readdirSync(bundle(role)).sort();
    expect(files).toEqual([...bundleFileNames(role), BUNDLE_MANIFEST_FILE].sort());
    expect(readBundleManifest(bundle(role))!.role).toBe(role);
    const own = new Set<string>();
    for (const { kind } of ROLE_BUNDLES[role].keys) {
      const path = join(bundle(role), defaultKeyFileName(kind));
      expect(statSync(path).mode & 0o777).toBe(0o600);
      for (const v of Object.values(readKeyFile(path, kind).secret as Record<string, Uint8Array>)) own.add(hex(v));
    }
    const text = files.map((f) => readFileSync(join(bundle(role), f), 'utf8').toUpperCase()).join('\n');
    const foreign = ceremonySecrets().filter((s) => !own.has(s.hex) && text.includes(s.hex));
    expect(foreign.map((s) => `${s.kind}.${s.name}`)).toEqual([]);
  });

  it('cuts the load and purchase masters out of cb-master with the same KCVs, and nothing else of it', () => {
    const cb = readKeyFile(join(ceremony(), 'cb-master.json'), 'cb-master');
    const load = readKeyFile(join(bundle('bank-vault'), 'load-master.json'), 'load-master');
    const purchase = loadRoleKey(bundle('pos'), 'pos', 'purchase-master', {});
    expect(Object.keys(load.secret)).toEqual(['load', 'tac']);
    expect([hex(load.secret.load), hex(load.kcv.tac)]).toEqual([hex(cb.secret.load), hex(cb.kcv.tac)]);
    expect(Object.keys(purchase.secret)).toEqual(['purchase', 'psamEnc', 'psamMac', 'psamDek']);
    expect(hex(purchase.secret.purchase)).toBe(hex(cb.secret.purchase));
    // The PSAM personalization masters are derived one-way from the SCP masters, never a copy of them.
    const psam = psamPersonalizationMasters(cb);
    expect([purchase.secret.psamEnc, purchase.secret.psamMac, purchase.secret.psamDek].map(hex)).toEqual([psam.enc, psam.mac, psam.dek].map(hex));
    for (const k of [cb.secret.scpEnc, cb.secret.scpMac, cb.secret.scpDek]) expect([purchase.secret.psamEnc, purchase.secret.psamMac, purchase.secret.psamDek].map(hex)).not.toContain(hex(k));
    // A ceremony directory gives the same key, cut on the fly, for development.
    expect(hex(loadRoleKey(ceremony(), 'pos', 'purchase-master', {}).secret.purchase)).toBe(hex(cb.secret.purchase));
  });

  it('gives a bank a fresh signing key of its own, and the registry an empty list of banks that drmb registry authorize adds it to, bound to its code', () => {
    const bank = readKeyFile(join(bundle('bank-vault'), 'bank-signing.json'), 'bank-signing');
    expect(hex(readBundleManifest(bundle('bank-vault'))!.bankPublicKey!)).toBe(hex(bank.public.publicKey));
    const registry = join(dir, 'fresh-registry');
    runExport({ role: 'registry', out: registry, keys: ceremony() });
    expect(JSON.parse(readFileSync(join(registry, 'authorized-banks.json'), 'utf8')).desks).toEqual([]);
    runRegistryAuthorize({ keys: registry, bankKey: bundle('bank-vault'), bankCode: BANK, name: 'test bank' });
    expect(JSON.parse(readFileSync(join(registry, 'authorized-banks.json'), 'utf8')).desks).toMatchObject([{ name: 'test bank', bankCode: BANK, publicKey: hex(bank.public.publicKey) }]);
    expect(() => runRegistryAuthorize({ keys: registry, bankKey: bundle('bank-vault'), bankCode: '103100000002', name: 'again' })).toThrow(/is already authorised, as "test bank"/);
    const other = join(dir, 'other-bank');
    runExport({ role: 'bank-vault', out: other, keys: ceremony() });
    expect(() => runRegistryAuthorize({ keys: registry, bankKey: other, bankCode: BANK, name: 'impostor' })).toThrow(`--bank-code ${BANK} is already authorised, as "test bank"`);
    expect(() => runRegistryAuthorize({ keys: registry, bankKey: bundle('issuance-desk'), bankCode: '103100000002', name: 'desk' })).toThrow('is not a bank-vault bundle');
  });

  it('gives an issuance desk a fresh desk key of its own, and the KGC an empty list of desks', () => {
    const desk = readKeyFile(join(bundle('issuance-desk'), 'desk-signing.json'), 'desk-signing');
    expect(hex(readBundleManifest(bundle('issuance-desk'))!.deskPublicKey!)).toBe(hex(desk.public.publicKey));
    const fresh = join(dir, 'fresh-kgc');
    runExport({ role: 'kgc', out: fresh, keys: ceremony() });
    expect(JSON.parse(readFileSync(join(fresh, 'authorized-desks.json'), 'utf8')).desks).toEqual([]);
    // drmb kgc authorize (run in beforeAll) added the desk by its bundle's public key.
    expect(JSON.parse(readFileSync(join(bundle('kgc'), 'authorized-desks.json'), 'utf8')).desks).toMatchObject([{ name: 'test bank desk 1', publicKey: hex(desk.public.publicKey) }]);
    expect(() => runAuthorize({ keys: bundle('kgc'), deskKey: hex(desk.public.publicKey), name: 'again' })).toThrow(/is already authorised, as "test bank desk 1"/);
  });

  it('refuses to overwrite a bundle unless asked, refuses a bundle as the source, and names the valid roles for a bad one', () => {
    const before = readFileSync(join(bundle('pos'), 'purchase-master.json'), 'utf8');
    expect(() => runExport({ role: 'pos', out: bundle('pos'), keys: ceremony() })).toThrow(/already holds .*refusing to overwrite \(use --overwrite/);
    expect(readFileSync(join(bundle('pos'), 'purchase-master.json'), 'utf8')).toBe(before);
    expect(runExport({ role: 'pos', out: bundle('pos'), keys: ceremony(), overwrite: true }).files.map((f) => f.kind)).toEqual(['purchase-master', 'trust-anchors', 'bundle']);
    expect(() => runExport({ role: 'pos', out: join(dir, 'x'), keys: bundle('registry') })).toThrow(/is a role bundle; export from the ceremony directory/);
    expect(() => runExport({ role: 'cashier', out: join(dir, 'x'), keys: ceremony() })).toThrow('unknown role "cashier"; the roles are prep-centre, kgc, issuance-desk, bank-vault, pos, registry');
  });

  it('documents the role table in docs/key-files.md exactly as the code holds it', () => {
    expect(readFileSync(projectPath('docs', 'key-files.md'), 'utf8')).toContain(roleTableMarkdown());
  });
});

describe('each role runs its commands with its bundle alone (slow: personalizes simulated cards, withdraws, pays)', () => {
  it('prep centre: makes and prepares a card; without any one of its keys it cannot', async () => {
    const image = join(dir, 'prep.json');
    await createSimCard({ image, cardId: '62120000000000007001', keys: bundle('prep-centre') });
    expect(await runPrepare({ ...perso(bundle('prep-centre')), profile: PREP, sim: image }, false)).toMatchObject({ result: 'done' });
    const other = join(dir, 'prep2.json');
    await expect(createSimCard({ image: other, cardId: '62120000000000007002', keys: bundleWithout('prep-centre', 'cb-master.json') })).rejects.toThrow(/cb-master key: not found/);
    await createSimCard({ image: other, cardId: '62120000000000007002', keys: bundle('prep-centre') });
    for (const kind of ['cb-master', 'issuance-master', 'cert-signing'] as const) {
      await expect(runPrepare({ ...perso(bundleWithout('prep-centre', defaultKeyFileName(kind))), profile: PREP, sim: other }, false)).rejects.toThrow(`${kind} key: not found`);
    }
    expect(SimulatedCard.fromFile(other).memory.state).toBe('BLANK');
  });

  it('registry mints and bank vault withdraws onto a card, each with its own bundle; without its keys neither can', async () => {
    const image = join(dir, 'vault.json');
    const cardId = '62120000000000007003';
    await issuedCard(image, cardId);
    const registry = join(dir, 'registry');
    for (const kind of ['mint-master', 'coin-signing'] as const) {
      await expect(runMint({ keys: bundleWithout('registry', defaultKeyFileName(kind)), registry, amount: '100.00', toBank: BANK })).rejects.toThrow(`${kind} key: not found`);
    }
    expect(await runMint({ keys: bundle('registry'), registry, amount: '100.00', toBank: BANK })).toMatchObject({ coins: 1 });
    const withdraw = { registry, amount: '100.00', bankCode: BANK, sim: image, terminalId: '100000000001' };
    await expect(runWithdraw({ ...withdraw, keys: bundleWithout('bank-vault', 'load-master.json') })).rejects.toThrow('load-master key: not found');
    expect(await runWithdraw({ ...withdraw, keys: bundle('bank-vault') })).toMatchObject({ cardId, amountFen: 10_000 });
    expect(SimulatedCard.fromFile(image).memory.balanceFen).toBe(10_000);
  });

  it('issuance desk issues through the KGC service, each with its bundle alone; the card holds the SM9 keys of its identity', async () => {
    const image = join(dir, 'desk.json');
    const cardId = '62120000000000007004';
    await issuedCard(image, cardId);
    const card = SimulatedCard.fromFile(image);
    expect(card.memory.state).toBe('ISSUED');
    const identity = new TextEncoder().encode(`${cardId}|2036`);
    const master = (kind: 'kgc-sign' | 'kgc-encrypt') => readKeyFile(join(ceremony(), `${kind}.json`), kind).secret.privateKey;
    expect(hex(card.memory.record(dgiRecordKey(DGIS.sm9SignKey.dgi))!)).toBe(hex(sm9ExtractSignKey(master('kgc-sign'), identity)));
    expect(hex(card.memory.record(dgiRecordKey(DGIS.sm9EncryptKey.dgi))!)).toBe(hex(sm9ExtractEncryptKey(master('kgc-encrypt'), identity)));
    expect(verifyAuditLog(kgcAudit())).toBe(0);
    expect(readFileSync(kgcAudit(), 'utf8')).toContain(`"cardId":"${cardId}"`);
  });

  it('the cards issued through the KGC sign and decrypt with their SM9 keys: a peer payment from one to the other is taken', async () => {
    // The vault's card (issued through the KGC above, holding 100.00 yuan) pays the desk's card.
    const payer = join(dir, 'vault.json');
    const payee = join(dir, 'desk.json');
    expect(SimulatedCard.fromFile(payer).memory.balanceFen).toBe(10_000);
    const r = await runPeerPay({ amount: '100.00', fromSim: payer, toSim: payee, packetOut: join(dir, 'transfer.bin'), pinFile: join(dir, 'pin'), journal: join(dir, 'journal') });
    expect(r).toMatchObject({ payerCardId: '62120000000000007003', payeeCardId: '62120000000000007004', amountFen: 10_000 });
    expect([SimulatedCard.fromFile(payer).memory.balanceFen, SimulatedCard.fromFile(payee).memory.balanceFen]).toEqual([0, 10_000]);
  });

  it('issuance desk and KGC: without any one of their keys or the list of desks, neither works', async () => {
    const image = join(dir, 'desk2.json');
    await createSimCard({ image, cardId: '62120000000000007005', keys: bundle('prep-centre') });
    await runPrepare({ ...perso(bundle('prep-centre')), profile: PREP, sim: image }, false);
    for (const kind of ['issuance-master', 'desk-signing'] as const) {
      await expect(runIssue({ ...perso(bundleWithout('issuance-desk', defaultKeyFileName(kind))), kgc: kgc.url, profile: ISSUE, sim: image, pinFile: join(dir, 'pin') }, false)).rejects.toThrow(`${kind} key: not found`);
    }
    for (const file of ['kgc-sign.json', 'kgc-encrypt.json', 'authorized-desks.json']) {
      await expect(startKgcFromKeys({ keys: bundleWithout('kgc', file), port: '0', audit: join(dir, 'other-audit.log') })).rejects.toThrow(/not found|does not exist/);
    }
    expect(SimulatedCard.fromFile(image).memory.state).toBe('PREPARED');
  });

  it('the KGC runs as its own process: drmb kgc serve prints its address, a desk issues through it, SIGTERM stops it', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const entry = `const { main } = await import(${JSON.stringify(join(root, 'cli', 'drmb.ts'))}); await main(['node', 'drmb', ...process.argv.slice(1)]);`;
    const args = ['kgc', 'serve', '--keys', bundle('kgc'), '--port', '0', '--audit', join(dir, 'process-audit.log'), '--json'];
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      const address = await new Promise<{ url: string }>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (/\}\s*$/.test(out)) resolve(JSON.parse(out));
        });
        child.on('exit', (code) => reject(new Error(`drmb kgc serve exited ${code}`)));
      });
      expect(address.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const image = join(dir, 'process.json');
      await createSimCard({ image, cardId: '62120000000000007006', keys: bundle('prep-centre') });
      await runPrepare({ ...perso(bundle('prep-centre')), profile: PREP, sim: image }, false);
      expect(await runIssue({ ...perso(bundle('issuance-desk')), kgc: address.url, profile: ISSUE, sim: image, pinFile: join(dir, 'pin') }, false)).toMatchObject({ result: 'done' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(verifyAuditLog(join(dir, 'process-audit.log'))).toBe(0);
  }, 60_000);

  it('KGC extracts a user key for a payee without a card; without its encryption master it cannot', () => {
    expect(runUserKey({ identity: 'payee@example', out: join(dir, 'payee.key'), keys: bundle('kgc') })).toMatchObject({ identity: 'payee@example' });
    expect(() => runUserKey({ identity: 'payee@example', out: join(dir, 'payee2.key'), keys: bundleWithout('kgc', 'kgc-encrypt.json') })).toThrow('kgc-encrypt key: not found');
  });

  it('POS: the acquirer makes and personalizes a PSAM with the pos bundle alone, and not without its purchase master', async () => {
    const psamImage = join(dir, 'pos-psam.json');
    await createSimCard({ image: psamImage, psam: true, cardId: '88000000000000000901', keys: bundle('pos') });
    expect(await collectPersoPsam({ sim: psamImage, keys: bundle('pos'), terminalId: '202612040001' })).toMatchObject({ psamId: '88000000000000000901', state: 'ISSUED' });
    const other = join(dir, 'pos-psam-2.json');
    await expect(createSimCard({ image: other, psam: true, keys: bundleWithout('pos', 'purchase-master.json') })).rejects.toThrow('purchase-master key: not found');
    await createSimCard({ image: other, psam: true, cardId: '88000000000000000902', keys: bundle('pos') });
    await expect(collectPersoPsam({ sim: other, keys: bundleWithout('pos', 'purchase-master.json'), terminalId: '202612040002' })).rejects.toThrow('purchase-master key: not found');
  });
});

describe('the registry and the payee bank as services', () => {
  it('the registry serves with the registry bundle alone, not without its mint master or coin-signing key, and refuses a bank-vault bundle', async () => {
    const reg = (keys: string) => ({ keys, registry: join(dir, `registry-service-${keys.split('/').pop()}`), port: '0' });
    await expect(startRegistryFromOptions(reg(bundleWithout('registry', 'mint-master.json')))).rejects.toThrow(/mint-master key: not found/);
    await expect(startRegistryFromOptions(reg(bundleWithout('registry', 'coin-signing-1.json')))).rejects.toThrow(/coin-signing key: not found/);
    await expect(startRegistryFromOptions(reg(bundle('bank-vault')))).rejects.toThrow(`${bundle('bank-vault')} is a bank-vault bundle; drmb registry serve needs a registry bundle`);
    await expect(startRegistryFromOptions(reg(bundleWithout('registry', 'authorized-banks.json')))).rejects.toThrow(/authorized-banks\.json does not exist/);
    const registry = await startRegistryFromOptions(reg(bundle('registry')));
    try {
      expect(registry.keys.map((k) => k.kind)).toEqual(['mint-master', 'coin-signing']);
      // The payee's bank forwards to it with its own bank-signing key, and cannot without it.
      await expect(startBankFromOptions({ keys: bundleWithout('bank-vault', 'bank-signing.json'), central: registry.url, port: '0', bankCode: BANK, bankData: join(dir, 'bank-central') })).rejects.toThrow(/bank-signing key: not found/);
      const bank = await startBankFromOptions({ keys: bundle('bank-vault'), central: registry.url, port: '0', bankCode: BANK, bankData: join(dir, 'bank-central') });
      await bank.close();
      // Without --central the desk runs in the bank's process and needs the registry's coin-signing key.
      await expect(startBankFromOptions({ keys: bundle('bank-vault'), registry: join(dir, 'bank-own-registry'), port: '0', bankCode: BANK, bankData: join(dir, 'bank-own') })).rejects.toThrow(
        `${bundle('bank-vault')} is a bank-vault bundle; drmb bank serve needs a registry bundle`,
      );
    } finally {
      await registry.close();
    }
  }, 60_000);
});

describe('a command refuses a bundle of another role', () => {
  it('names the bundle it was given and the one it needs, in one line', async () => {
    const image = join(dir, 'refused.json');
    await expect(runIssue({ ...perso(bundle('pos')), profile: ISSUE, sim: image, pinFile: join(dir, 'pin') }, false)).rejects.toThrow(
      `${bundle('pos')} is a pos bundle; drmb perso issue needs an issuance-desk bundle`,
    );
    await expect(runWithdraw({ keys: bundle('registry'), registry: join(dir, 'registry'), amount: '1.00', bankCode: BANK, sim: image, terminalId: '100000000001' })).rejects.toThrow(
      `${bundle('registry')} is a registry bundle; drmb bank withdraw needs a bank-vault bundle`,
    );
    await expect(createSimCard({ image, cardId: '62120000000000007009', keys: bundle('bank-vault') })).rejects.toThrow('is a bank-vault bundle; drmb sim create needs a prep-centre bundle');
    expect(() => runUserKey({ identity: 'x', out: join(dir, 'x.key'), keys: bundle('issuance-desk') })).toThrow('is an issuance-desk bundle; drmb keys user-key needs a kgc bundle');
  });

  it('keeps the KGC master keys from an issuance desk: with a desk bundle, issuance needs the KGC service', async () => {
    await expect(runIssue({ ...perso(bundle('issuance-desk')), profile: ISSUE, sim: join(dir, 'refused.json'), pinFile: join(dir, 'pin') }, false)).rejects.toThrow(
      'drmb perso issue with an issuance-desk bundle: the KGC master keys are the KGC\'s; give --kgc URL of a drmb kgc serve',
    );
  });
});
