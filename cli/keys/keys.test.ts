/** @module `drmb keys init | generate | show`: collected data and printed output (human and --json) carry KCVs and public keys only, files are 0600, overwriting is refused unless asked. */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FormatError } from '../../applet-spec/errors.js';
import { bytesToHex } from '../../base/bytes.js';
import { CEREMONY_KEYS } from '../../personalization/key-ceremony.js';
import { CEREMONY_KINDS, KEY_KINDS, type KeyFile, readKeyFile } from '../../keys/key-files.js';
import { UsageError } from '../output.js';
import { generateKeyFile, parseKeyIndex, registerKeysGenerate } from './generate.js';
import { initKeys, registerKeysInit } from './init.js';
import { registerKeysShow, showKeyFile } from './show.js';
import { registerKeysExport } from './export.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'drmb-cli-keys-'));
const modeOf = (p: string) => statSync(p).mode & 0o777;

/** Secret hex (both cases) of every key file in a directory. */
function secretsIn(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const k = readKeyFile(p) as KeyFile;
    for (const v of Object.values(k.secret as Record<string, Uint8Array>)) out.push(bytesToHex(v), bytesToHex(v).toUpperCase());
  }
  return out;
}

function expectNoSecrets(text: string, secrets: string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) expect(text.includes(s), 'secret hex in output').toBe(false);
}

/** Runs `drmb keys ...` through commander with stdout and stderr captured. */
async function run(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const program = new Command('drmb').exitOverride();
  const keys = program.command('keys').exitOverride();
  registerKeysInit(keys);
  registerKeysGenerate(keys);
  registerKeysShow(keys);
  registerKeysExport(keys);
  keys.commands.forEach((c) => c.exitOverride());
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    await program.parseAsync(['node', 'drmb', 'keys', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { stdout, stderr };
}

afterEach(() => vi.restoreAllMocks());

describe('drmb keys init', () => {
  it('collects every file with kind, index and KCVs; key files are 0600 and hold the secrets the result does not', () => {
    const dir = tmp();
    const r = initKeys(dir);
    expect(r.files.map((f) => f.kind)).toEqual([...CEREMONY_KINDS, 'trust-anchors']);
    const keyPaths = r.files.filter((f) => f.kind !== 'trust-anchors').map((f) => f.path);
    for (const p of keyPaths) expect(modeOf(p)).toBe(0o600);
    expect(r.files.find((f) => f.kind === 'coin-signing')!.keyIndex).toBe(1);
    expectNoSecrets(JSON.stringify(r), secretsIn(keyPaths));
  });

  it('prints KCVs and never a secret, in human and JSON output', async () => {
    const dir = tmp();
    const human = await run(['init', '--dir', dir]);
    const paths = CEREMONY_KEYS.map((k) => join(dir, k.file));
    const secrets = secretsIn(paths);
    expect(human.stdout).toMatch(/cb-master\.json {2}cb-master {2}mode 0600 {2}KCV scpEnc=[0-9A-F]{6} scpMac=[0-9A-F]{6}/);
    expect(human.stdout).toMatch(/coin-signing-1\.json {2}coin-signing #1 {2}mode 0600 {2}KCV publicKey=[0-9A-F]{6}/);
    expect(human.stdout).toMatch(/trust-anchors\.json {2}trust-anchors {2}mode 0644/);
    expect(human.stderr).toMatch(/generating keys/);
    expectNoSecrets(human.stdout + human.stderr, secrets);

    const dir2 = tmp();
    const json = await run(['init', '--dir', dir2, '--json']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.files).toHaveLength(8);
    expect(parsed.files[0].kcv.load).toMatch(/^[0-9A-F]{6}$/);
    expectNoSecrets(json.stdout + json.stderr, secretsIn(CEREMONY_KEYS.map((k) => join(dir2, k.file))));
  });

  it('refuses to overwrite an existing key directory, and replaces it with --overwrite', async () => {
    const dir = tmp();
    await run(['init', '--dir', dir]);
    const before = readFileSync(join(dir, 'cb-master.json'), 'utf8');
    await expect(run(['init', '--dir', dir])).rejects.toThrow(/refusing to overwrite \(use --overwrite/);
    expect(readFileSync(join(dir, 'cb-master.json'), 'utf8')).toBe(before);
    await run(['init', '--dir', dir, '--overwrite']);
    expect(readFileSync(join(dir, 'cb-master.json'), 'utf8')).not.toBe(before);
    expect(modeOf(join(dir, 'cb-master.json'))).toBe(0o600);
  });
});

describe('drmb keys generate', () => {
  it.each(KEY_KINDS)('creates a %s key file 0600 and returns only its public summary', (kind) => {
    const out = join(tmp(), `${kind}.json`);
    const r = generateKeyFile(kind, out, { label: `cli ${kind}` });
    expect(modeOf(out)).toBe(0o600);
    expect(r.path).toBe(out);
    expect(r.kind).toBe(kind);
    expect(r.label).toBe(`cli ${kind}`);
    expect(Object.keys(r).sort()).toEqual(['created', 'kcv', 'kind', 'label', 'path', ...(r.keyIndex ? ['keyIndex'] : []), ...(r.public ? ['public'] : [])].sort());
    expectNoSecrets(JSON.stringify(r), secretsIn([out]));
  });

  it('records the key index asked for coin-signing keys', async () => {
    const out = join(tmp(), 'coin-3.json');
    const { stdout } = await run(['generate', 'coin-signing', '--out', out, '--index', '3', '--json']);
    expect(JSON.parse(stdout).keyIndex).toBe(3);
    expect(readKeyFile(out, 'coin-signing').keyIndex).toBe(3);
    expectNoSecrets(stdout, secretsIn([out]));
  });

  it('prints KCVs and the public key in human output, never the private key', async () => {
    const out = join(tmp(), 'kgc.json');
    const { stdout } = await run(['generate', 'kgc-encrypt', '--out', out, '--label', 'KGC 2026']);
    expect(stdout).toMatch(/kind: {5}kgc-encrypt\nlabel: {4}KGC 2026/);
    expect(stdout).toMatch(/KCV publicKey {3}[0-9A-F]{6}/);
    expect(stdout).toMatch(/public publicKey: 04[0-9A-F]{128}/);
    expectNoSecrets(stdout, secretsIn([out]));
  });

  it('refuses to overwrite an existing file, and replaces it with --overwrite', async () => {
    const out = join(tmp(), 'cb.json');
    generateKeyFile('cb-master', out);
    const before = readFileSync(out, 'utf8');
    expect(() => generateKeyFile('cb-master', out)).toThrow(/already exists; refusing to overwrite/);
    await expect(run(['generate', 'cb-master', '--out', out])).rejects.toThrow(FormatError);
    expect(readFileSync(out, 'utf8')).toBe(before);
    generateKeyFile('cb-master', out, { overwrite: true });
    expect(readFileSync(out, 'utf8')).not.toBe(before);
    expect(modeOf(out)).toBe(0o600);
  });

  it('rejects an unknown kind, an index on a master key, and an index outside 1..255', async () => {
    const out = join(tmp(), 'x.json');
    expect(() => generateKeyFile('master', out)).toThrow(UsageError);
    expect(() => generateKeyFile('master', out)).toThrow('unknown key kind "master"; expected one of cb-master, issuance-master, mint-master, coin-signing, cert-signing, kgc-sign, kgc-encrypt, load-master, purchase-master, desk-signing');
    expect(() => generateKeyFile('cb-master', out, { index: 2 })).toThrow('--index applies to coin-signing and cert-signing keys only, not cb-master');
    expect(() => parseKeyIndex('0')).toThrow('key index "0" must be an integer 1..255');
    expect(() => parseKeyIndex('2x')).toThrow(UsageError);
    await expect(run(['generate', 'coin-signing', '--out', out, '--index', '256'])).rejects.toThrow(/1\.\.255/);
    expect(readdirSync(join(out, '..'))).toEqual([]);
  });
});

describe('drmb keys export', () => {
  it('prints each file of the bundle with its mode and KCVs, in human and JSON output, and never a secret', async () => {
    const dir = tmp();
    initKeys(join(dir, 'keys'));
    const secrets = secretsIn(CEREMONY_KEYS.map((k) => join(dir, 'keys', k.file)));
    const human = await run(['export', '--role', 'bank-vault', '--out', join(dir, 'vault'), '--keys', join(dir, 'keys')]);
    expect(human.stdout).toMatch(/load-master\.json {2}load-master {2}mode 0600 {2}cut from cb-master {2}KCV load=[0-9A-F]{6} tac=[0-9A-F]{6}/);
    expect(human.stdout).toMatch(/bundle\.json {2}bundle {2}mode 0644 {2}written/);
    const json = await run(['export', '--role', 'prep-centre', '--out', join(dir, 'prep'), '--keys', join(dir, 'keys'), '--json']);
    expect(JSON.parse(json.stdout).files.map((f: { kind: string }) => f.kind)).toEqual(['cb-master', 'issuance-master', 'cert-signing', 'trust-anchors', 'bundle']);
    expectNoSecrets(human.stdout + human.stderr + json.stdout + json.stderr, secrets);
    const shown = await run(['show', join(dir, 'vault', 'bundle.json')]);
    expect(shown.stdout).toMatch(/bank-vault bundle, exported .*\nload-master\.json {7}load-master {2}KCV load=[0-9A-F]{6} tac=[0-9A-F]{6}\nbank-signing\.json {6}bank-signing {2}KCV publicKey=[0-9A-F]{6}\ntrust-anchors\.json {5}trust-anchors/);
    expect(shown.stdout).toMatch(/\nbank public key 04[0-9A-F]{128}$/m);
    await run(['export', '--role', 'kgc', '--out', join(dir, 'kgc'), '--keys', join(dir, 'keys')]);
    expect(showKeyFile(join(dir, 'kgc', 'authorized-desks.json'))).toEqual({ path: join(dir, 'kgc', 'authorized-desks.json'), kind: 'authorized-desks', desks: [] });
  });
});

describe('drmb keys show', () => {
  it('shows kind, label, index, KCVs and public key of a key file, and no secret', async () => {
    const out = join(tmp(), 'cert.json');
    generateKeyFile('cert-signing', out, { index: 2, label: 'cert 2' });
    const r = showKeyFile(out);
    expect(r).toMatchObject({ path: out, kind: 'cert-signing', label: 'cert 2', keyIndex: 2 });
    expect(r).not.toHaveProperty('warning');
    expect(r).not.toHaveProperty('secret');
    const human = await run(['show', out]);
    expect(human.stdout).toContain('kind:     cert-signing (key index 2)');
    const json = await run(['show', out, '--json']);
    expect(JSON.parse(json.stdout).kcv.publicKey).toMatch(/^[0-9A-F]{6}$/);
    expectNoSecrets(JSON.stringify(r) + human.stdout + json.stdout, secretsIn([out]));
  });

  it('warns about a key file readable by others', async () => {
    const out = join(tmp(), 'cb.json');
    generateKeyFile('cb-master', out);
    chmodSync(out, 0o644);
    expect((showKeyFile(out) as { warning?: string }).warning).toMatch(/mode 0644; key files should be 0600/);
    const { stderr } = await run(['show', out]);
    expect(stderr).toMatch(/drmb: warning: .*mode 0644/);
  });

  it('rejects a tampered key file, naming the field and not the secret', async () => {
    const out = join(tmp(), 'cb.json');
    generateKeyFile('cb-master', out);
    const secrets = secretsIn([out]);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    doc.kcv.tac = doc.kcv.tac === 'ABCDEF' ? '123456' : 'ABCDEF';
    writeFileSync(out, JSON.stringify(doc));
    let message = '';
    await run(['show', out]).catch((e: Error) => (message = e.message));
    expect(message).toBe(`${out}: kcv.tac: does not match secret.tac: the file is corrupted or was altered`);
    expectNoSecrets(message, secrets);
  });

  it('shows a trust-anchors file with its public keys and KCVs', async () => {
    const dir = tmp();
    initKeys(dir);
    const r = showKeyFile(join(dir, 'trust-anchors.json'));
    expect(r.kind).toBe('trust-anchors');
    const human = await run(['show', join(dir, 'trust-anchors.json')]);
    expect(human.stdout).toMatch(/trust anchors \(public\), KGC key version 1/);
    expect(human.stdout).toMatch(/coin key 1 {5}KCV [0-9A-F]{6} {2}04[0-9A-F]{128}/);
    expectNoSecrets(human.stdout, secretsIn(CEREMONY_KEYS.map((k) => join(dir, k.file))));
  });
});
