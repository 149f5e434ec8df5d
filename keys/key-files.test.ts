/** @module Key files: round trips per kind, 0600 whatever the umask, refusal to overwrite, tamper detection by KCV, environment resolution order, and no secret in any message or summary. */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../applet-spec/errors.js';
import { bytesToHex } from '../base/bytes.js';
import { sm2GetPublicKey } from '../crypto/sm2.js';
import { sm9GenerateEncryptMasterKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import { generateKey } from '../personalization/key-ceremony.js';
import {
  CB_MASTER_KEY_NAMES,
  defaultKeyFileName,
  KEY_KINDS,
  type KeyFile,
  KeyFileError,
  type KeyKind,
  keyEnvNames,
  keyFileFromEnv,
  keyFilePermissionProblem,
  keyFileToJson,
  loadKey,
  parseKeyFile,
  publicSummary,
  readKeyFile,
  resolveKey,
  writeKeyFile,
} from './key-files.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'drmb-keyfiles-'));
const modeOf = (p: string) => statSync(p).mode & 0o777;
const upper = (b: Uint8Array) => bytesToHex(b).toUpperCase();

/** One key of every kind, generated once (SM9 master keys take a few ms each). */
const keys = {} as { [K in KeyKind]: KeyFile<K> };
beforeAll(() => {
  for (const kind of KEY_KINDS) (keys as Record<string, KeyFile>)[kind] = generateKey(kind, { label: `test ${kind}` });
});

/** Every secret of a key file as hex, both cases, and its 8-digit fragments. */
function secretTexts(k: KeyFile): string[] {
  const out: string[] = [];
  for (const v of Object.values(k.secret as Record<string, Uint8Array>)) {
    const h = bytesToHex(v);
    out.push(h, h.toUpperCase());
    for (let i = 0; i + 8 <= h.length; i += 8) out.push(h.slice(i, i + 8), h.slice(i, i + 8).toUpperCase());
  }
  return out;
}

function expectNoSecret(text: string, k: KeyFile): void {
  for (const s of secretTexts(k)) expect(text.includes(s), `found secret fragment ${s.length} digits long`).toBe(false);
}

/** The document of a key file as a mutable object. */
const docOf = (k: KeyFile): any => JSON.parse(keyFileToJson(k));

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('key file round trip', () => {
  it.each(KEY_KINDS)('writes and reads back a %s key file with the same bytes', (kind) => {
    const dir = tmp();
    const path = join(dir, defaultKeyFileName(kind));
    writeKeyFile(path, keys[kind]);
    const back = readKeyFile(path, kind);
    expect(back.kind).toBe(kind);
    expect(back.label).toBe(`test ${kind}`);
    expect(back.created).toBe(keys[kind].created);
    expect(back.keyIndex).toBe(keys[kind].keyIndex);
    for (const [n, v] of Object.entries(keys[kind].secret)) expect(upper((back.secret as Record<string, Uint8Array>)[n])).toBe(upper(v as Uint8Array));
    for (const [n, v] of Object.entries(keys[kind].kcv)) expect(upper((back.kcv as Record<string, Uint8Array>)[n])).toBe(upper(v as Uint8Array));
    if (keys[kind].public) expect(upper(back.public!.publicKey)).toBe(upper(keys[kind].public!.publicKey));
  });

  it('stores uppercase hex, a trailing newline and exactly the documented members', () => {
    const text = keyFileToJson(keys['coin-signing']);
    expect(text.endsWith('}\n')).toBe(true);
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual(['format', 'version', 'kind', 'label', 'created', 'keyIndex', 'kcv', 'public', 'secret']);
    expect(doc.format).toBe('drmb-key');
    expect(doc.version).toBe(1);
    expect(doc.public.publicKey).toMatch(/^04[0-9A-F]{128}$/);
    expect(Object.keys(docOf(keys['cb-master']).secret)).toEqual([...CB_MASTER_KEY_NAMES]);
  });

  it('accepts lowercase hex on reading', () => {
    const doc = docOf(keys['issuance-master']);
    for (const g of ['kcv', 'secret']) for (const n of Object.keys(doc[g])) doc[g][n] = doc[g][n].toLowerCase();
    const back = parseKeyFile(JSON.stringify(doc), 'test', 'issuance-master');
    expect(upper(back.secret.mac)).toBe(upper(keys['issuance-master'].secret.mac));
  });
});

describe('key check values', () => {
  it('cb-master: AES KCV (first 3 bytes of AES(key, 16 x 01)) for scp keys, SM4 KCV (SM4(key, 16 x 00)) for application masters', () => {
    const k = keys['cb-master'];
    const ecb = (alg: string, key: Uint8Array, block: Uint8Array) => {
      const c = createCipheriv(alg, key, null);
      c.setAutoPadding(false);
      return new Uint8Array(c.update(block)).slice(0, 3);
    };
    for (const n of ['scpEnc', 'scpMac', 'scpDek'] as const) expect(upper(k.kcv[n])).toBe(upper(ecb('aes-128-ecb', k.secret[n], new Uint8Array(16).fill(1))));
    for (const n of ['load', 'purchase', 'tac', 'issuerMac', 'pinReload', 'pinUnblock'] as const) {
      expect(upper(k.kcv[n])).toBe(upper(ecb('sm4-ecb', k.secret[n], new Uint8Array(16))));
    }
  });

  it.each(['coin-signing', 'cert-signing', 'kgc-sign', 'kgc-encrypt'] as const)('%s: KCV is the first 3 bytes of SM3(public key)', (kind) => {
    const k = keys[kind];
    expect(upper(k.kcv.publicKey)).toBe(createHash('sm3').update(k.public.publicKey).digest('hex').slice(0, 6).toUpperCase());
  });

  it('asymmetric public keys belong to their private keys and have the documented lengths', () => {
    expect(upper(sm2GetPublicKey(keys['coin-signing'].secret.privateKey))).toBe(upper(keys['coin-signing'].public.publicKey));
    expect(keys['kgc-sign'].public.publicKey.length).toBe(129);
    expect(keys['kgc-encrypt'].public.publicKey.length).toBe(65);
    expect(upper(sm9GenerateSignMasterKey(keys['kgc-sign'].secret.privateKey).publicKey)).toBe(upper(keys['kgc-sign'].public.publicKey));
    expect(upper(sm9GenerateEncryptMasterKey(keys['kgc-encrypt'].secret.privateKey).publicKey)).toBe(upper(keys['kgc-encrypt'].public.publicKey));
  });
});

describe('tamper and corruption detection', () => {
  it('rejects a changed KCV, naming the KCV field', () => {
    const doc = docOf(keys['cb-master']);
    doc.kcv.load = doc.kcv.load === '000000' ? '000001' : '000000';
    const e = errorOf(() => parseKeyFile(JSON.stringify(doc), 'cb.json'));
    expect(e).toBeInstanceOf(KeyFileError);
    expect(e.message).toBe('cb.json: kcv.load: does not match secret.load: the file is corrupted or was altered');
    expect((e as KeyFileError).field).toBe('kcv.load');
  });

  it('rejects a changed secret by its KCV', () => {
    const doc = docOf(keys['cb-master']);
    const s: string = doc.secret.scpMac;
    doc.secret.scpMac = (s[0] === '0' ? '1' : '0') + s.slice(1);
    expect(() => parseKeyFile(JSON.stringify(doc), 'cb.json')).toThrow(/kcv\.scpMac: does not match secret\.scpMac/);
  });

  it('rejects a public key swapped together with its KCV (the pair check)', () => {
    const doc = docOf(keys['coin-signing']);
    doc.public.publicKey = upper(keys['cert-signing'].public.publicKey);
    doc.kcv.publicKey = upper(keys['cert-signing'].kcv.publicKey);
    expect(() => parseKeyFile(JSON.stringify(doc), 'coin.json')).toThrow(/public\.publicKey: does not belong to secret\.privateKey/);
  });

  it('rejects a changed public key by its KCV', () => {
    const doc = docOf(keys['kgc-encrypt']);
    doc.public.publicKey = upper(keys['coin-signing'].public.publicKey);
    expect(() => parseKeyFile(JSON.stringify(doc), 'kgc.json')).toThrow(/kcv\.publicKey: does not match public\.publicKey/);
  });

  it.each([
    ['a short secret', (d: any) => (d.secret.load = d.secret.load.slice(2)), 'secret.load: must be 32 hex digits (16 bytes); found 30 digits'],
    ['a non-hex secret', (d: any) => (d.secret.tac = 'Z' + d.secret.tac.slice(1)), 'secret.tac: must be 32 hex digits (16 bytes); found a non-hex character'],
    ['a missing secret', (d: any) => delete d.secret.pinUnblock, 'secret.pinUnblock: is missing'],
    ['a missing KCV', (d: any) => delete d.kcv.purchase, 'kcv.purchase: is missing'],
    ['an unknown secret', (d: any) => (d.secret.extra = '00'), 'secret.extra: is not a field of this kind of key file'],
    ['an unknown member', (d: any) => (d.comment = 'x'), 'comment: is not a field of a key file'],
    ['another format', (d: any) => (d.format = 'gp-key'), 'format: must be "drmb-key"'],
    ['another version', (d: any) => (d.version = 2), 'version: must be 1'],
    ['an unknown kind', (d: any) => (d.kind = 'master'), 'kind: must be one of'],
    ['a bad creation time', (d: any) => (d.created = 'yesterday'), 'created: must be an ISO 8601 time'],
    ['a key index on a master key', (d: any) => (d.keyIndex = 1), 'keyIndex: a cb-master key file has no key index'],
    ['a public part on a master key', (d: any) => (d.public = { publicKey: '00' }), 'public: a cb-master key file has no public part'],
  ])('rejects %s, naming the field', (_name, change, message) => {
    const doc = docOf(keys['cb-master']);
    change(doc);
    const e = errorOf(() => parseKeyFile(JSON.stringify(doc), 'cb.json'));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(message);
    expectNoSecret(e.message, keys['cb-master']);
  });

  it('rejects a coin-signing file without a key index, or with index 0 or 256', () => {
    for (const v of [undefined, 0, 256, 1.5]) {
      const doc = docOf(keys['coin-signing']);
      doc.keyIndex = v;
      expect(() => parseKeyFile(JSON.stringify(doc), 'coin.json')).toThrow(/keyIndex: must be an integer 1\.\.255/);
    }
  });

  it('rejects a file of another kind than expected', () => {
    expect(() => parseKeyFile(keyFileToJson(keys['issuance-master']), 'x.json', 'cb-master')).toThrow('x.json: kind: is issuance-master, expected cb-master');
  });

  it('reports a JSON syntax error by line and column without quoting the text (it may be a key)', () => {
    // V8 quotes the text near an unexpected token: here the secret itself.
    const quoted = keyFileToJson(keys['cb-master']).replace(/"scpDek": "([0-9A-F]{32})"/, "\"scpDek\": '$1'");
    const e1 = errorOf(() => parseKeyFile(quoted, 'cb.json'));
    expect(e1.message).toBe('cb.json: is not valid JSON');
    expectNoSecret(e1.message, keys['cb-master']);
    const text = keyFileToJson(keys['cb-master']).replace(/("scpDek": "[0-9A-F]{32}")/, '$1 oops');
    const e2 = errorOf(() => parseKeyFile(text, 'cb.json'));
    expect(e2.message).toBe('cb.json: is not valid JSON at line 21, column 50');
  });

  it('refuses to write a key file whose KCV does not match, and writes nothing', () => {
    const dir = tmp();
    const bad = { ...keys['issuance-master'], kcv: { ...keys['issuance-master'].kcv, mac: Uint8Array.of(0, 0, 0) } };
    expect(() => writeKeyFile(join(dir, 'i.json'), bad)).toThrow(/kcv\.mac/);
    expect(() => statSync(join(dir, 'i.json'))).toThrow();
  });
});

describe('file permissions and overwriting', () => {
  it('creates key files with mode 0600', () => {
    const p = join(tmp(), 'k.json');
    writeKeyFile(p, keys['kgc-sign']);
    expect(modeOf(p)).toBe(0o600);
    expect(keyFilePermissionProblem(p)).toBeUndefined();
  });

  it('creates mode 0600 even when the umask is 000 (child process)', () => {
    const dir = tmp();
    const p = join(dir, 'umask.json');
    const script = join(dir, 'write.ts');
    const lib = fileURLToPath(new URL('../personalization/key-ceremony.js', import.meta.url)).replace(/\.js$/, '.ts');
    const files = fileURLToPath(new URL('./key-files.js', import.meta.url)).replace(/\.js$/, '.ts');
    writeFileSync(
      script,
      `import { generateKey } from ${JSON.stringify(lib)};\nimport { writeKeyFile } from ${JSON.stringify(files)};\n` +
        `writeKeyFile(${JSON.stringify(p)}, generateKey('issuance-master'));\nconsole.log(process.umask().toString(8));\n`,
    );
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const out = execFileSync('sh', ['-c', `umask 000 && ${JSON.stringify(tsx)} ${JSON.stringify(script)}`], { encoding: 'utf8' });
    expect(out.trim()).toBe('0');
    expect(modeOf(p)).toBe(0o600);
  });

  it('refuses to overwrite an existing file and leaves it unchanged', () => {
    const p = join(tmp(), 'k.json');
    writeKeyFile(p, keys['cb-master']);
    const before = readFileSync(p, 'utf8');
    const e = errorOf(() => writeKeyFile(p, keys['issuance-master']));
    expect(e).toBeInstanceOf(KeyFileError);
    expect(e.message).toMatch(/already exists; refusing to overwrite/);
    expect(readFileSync(p, 'utf8')).toBe(before);
  });

  it('replaces an existing world-readable file with { overwrite: true }, ending at mode 0600', () => {
    const p = join(tmp(), 'k.json');
    writeFileSync(p, 'old');
    chmodSync(p, 0o644);
    expect(keyFilePermissionProblem(p)).toMatch(/mode 0644; key files should be 0600/);
    writeKeyFile(p, keys['issuance-master'], { overwrite: true });
    expect(modeOf(p)).toBe(0o600);
    expect(readKeyFile(p, 'issuance-master').label).toBe('test issuance-master');
  });

  it('names a missing directory', () => {
    const p = join(tmp(), 'no', 'k.json');
    expect(() => writeKeyFile(p, keys['cb-master'])).toThrow(/directory .*no does not exist/);
  });

  it('names a missing file on reading', () => {
    const p = join(tmp(), 'nothing.json');
    expect(() => readKeyFile(p)).toThrow(`${p}: does not exist`);
  });
});

describe('environment variables and resolution order', () => {
  it('names the variables DRMB_KEY_<KIND> and DRMB_KEY_<KIND>_FILE', () => {
    expect(keyEnvNames('cb-master')).toEqual({ json: 'DRMB_KEY_CB_MASTER', file: 'DRMB_KEY_CB_MASTER_FILE' });
    expect(keyEnvNames('kgc-encrypt')).toEqual({ json: 'DRMB_KEY_KGC_ENCRYPT', file: 'DRMB_KEY_KGC_ENCRYPT_FILE' });
  });

  it('has the documented default file names', () => {
    expect(KEY_KINDS.map((k) => defaultKeyFileName(k))).toEqual([
      'cb-master.json',
      'issuance-master.json',
      'mint-master.json',
      'coin-signing-1.json',
      'cert-signing-1.json',
      'kgc-sign.json',
      'kgc-encrypt.json',
      'load-master.json',
      'purchase-master.json',
      'desk-signing.json',
      'bank-signing.json',
      'issuer-master.json',
    ]);
    expect(defaultKeyFileName('coin-signing', 3)).toBe('coin-signing-3.json');
  });

  it('reads the JSON document from DRMB_KEY_<KIND> and a path from DRMB_KEY_<KIND>_FILE', () => {
    const p = join(tmp(), 'x.json');
    writeKeyFile(p, keys['issuance-master']);
    expect(keyFileFromEnv('issuance-master', { DRMB_KEY_ISSUANCE_MASTER: keyFileToJson(keys['issuance-master']) })!.label).toBe('test issuance-master');
    expect(keyFileFromEnv('issuance-master', { DRMB_KEY_ISSUANCE_MASTER_FILE: p })!.label).toBe('test issuance-master');
    expect(keyFileFromEnv('issuance-master', {})).toBeUndefined();
  });

  it('refuses both variables set at once', () => {
    const env = { DRMB_KEY_CB_MASTER: keyFileToJson(keys['cb-master']), DRMB_KEY_CB_MASTER_FILE: '/x' };
    expect(() => keyFileFromEnv('cb-master', env)).toThrow(/DRMB_KEY_CB_MASTER and DRMB_KEY_CB_MASTER_FILE: are both set/);
  });

  it('refuses a variable holding a key of another kind', () => {
    expect(() => keyFileFromEnv('cb-master', { DRMB_KEY_CB_MASTER: keyFileToJson(keys['issuance-master']) })).toThrow(
      'environment variable DRMB_KEY_CB_MASTER: kind: is issuance-master, expected cb-master',
    );
  });

  it('resolves environment first, then path, then the directory', () => {
    const dir = tmp();
    const a = generateKey('cb-master', { label: 'in dir' });
    const b = generateKey('cb-master', { label: 'at path' });
    const c = generateKey('cb-master', { label: 'in env' });
    writeKeyFile(join(dir, 'cb-master.json'), a);
    writeKeyFile(join(dir, 'other.json'), b);
    const env = { DRMB_KEY_CB_MASTER: keyFileToJson(c) };
    expect(resolveKey('cb-master', { dir, path: join(dir, 'other.json'), env })).toMatchObject({ source: 'environment variable DRMB_KEY_CB_MASTER' });
    expect(loadKey('cb-master', { dir, path: join(dir, 'other.json'), env }).label).toBe('in env');
    expect(loadKey('cb-master', { dir, path: join(dir, 'other.json'), env: {} }).label).toBe('at path');
    expect(loadKey('cb-master', { dir, env: {} }).label).toBe('in dir');
    expect(loadKey('cb-master', { env: { DRMB_KEY_DIR: dir } }).label).toBe('in dir');
    expect(resolveKey('cb-master', { dir, env: { DRMB_KEY_CB_MASTER_FILE: join(dir, 'other.json') } }).source).toBe(
      `file ${join(dir, 'other.json')} (from DRMB_KEY_CB_MASTER_FILE)`,
    );
  });

  it('finds coin-signing keys by index in a directory and checks the index of the key found', () => {
    const dir = tmp();
    writeKeyFile(join(dir, 'coin-signing-2.json'), generateKey('coin-signing', { keyIndex: 2 }));
    expect(loadKey('coin-signing', { dir, keyIndex: 2, env: {} }).keyIndex).toBe(2);
    expect(() => loadKey('coin-signing', { dir, env: {} })).toThrow(/coin-signing-1\.json does not exist/);
    expect(() => loadKey('coin-signing', { keyIndex: 2, env: { DRMB_KEY_COIN_SIGNING: keyFileToJson(keys['coin-signing']) } })).toThrow(
      'environment variable DRMB_KEY_COIN_SIGNING: keyIndex: is 1, expected 2',
    );
  });

  it('names every place it looked when no key is found', () => {
    const dir = tmp();
    expect(() => loadKey('kgc-sign', { dir, env: {} })).toThrow(
      `kgc-sign key: not found: DRMB_KEY_KGC_SIGN and DRMB_KEY_KGC_SIGN_FILE are not set, and ${join(dir, 'kgc-sign.json')} does not exist`,
    );
    expect(() => loadKey('kgc-sign', { path: join(dir, 'k.json'), env: {} })).toThrow(/DRMB_KEY_KGC_SIGN_FILE are not set, and .*k\.json does not exist/);
    expect(() => loadKey('kgc-sign', { env: {} })).toThrow(/no key file or key directory was given \(--keys, or DRMB_KEY_DIR\)/);
  });
});

describe('no secret in messages or summaries', () => {
  it('publicSummary has kind, label, index, KCVs and public key, and no secret', () => {
    const s = publicSummary(keys['coin-signing']);
    expect(s).toEqual({
      kind: 'coin-signing',
      label: 'test coin-signing',
      created: keys['coin-signing'].created,
      keyIndex: 1,
      kcv: { publicKey: upper(keys['coin-signing'].kcv.publicKey) },
      public: { publicKey: upper(keys['coin-signing'].public.publicKey) },
    });
    for (const kind of KEY_KINDS) expectNoSecret(JSON.stringify(publicSummary(keys[kind])), keys[kind]);
  });

  it('no thrown message of any failing read contains secret hex', () => {
    const messages: string[] = [];
    const collect = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        messages.push(String((e as Error).message), String((e as Error).stack));
      }
    };
    for (const kind of KEY_KINDS) {
      const k = keys[kind];
      const text = keyFileToJson(k);
      // every secret hex digit changed in turn, truncated, extended, non-hex, wrong type
      for (const name of Object.keys(k.secret)) {
        const doc = docOf(k);
        const s: string = doc.secret[name];
        for (const v of [s.slice(1), s + '0', s.replace(/./, 'g'), (s[5] === 'A' ? 'B' : 'A') + s.slice(1), Number.parseInt(s.slice(0, 8), 16)]) {
          collect(() => parseKeyFile(JSON.stringify({ ...doc, secret: { ...doc.secret, [name]: v } }), 'f'));
        }
      }
      collect(() => parseKeyFile(text.slice(0, text.length - 20), 'f'));
      collect(() => parseKeyFile(text.replace('"secret"', '"secret" x'), 'f'));
      collect(() => parseKeyFile(text, 'f', kind === 'cb-master' ? 'kgc-sign' : 'cb-master'));
      collect(() => keyFileFromEnv(kind, { [keyEnvNames(kind).json]: text.replace('"kcv"', '"kcv2"') }));
      collect(() => resolveKey(kind, { keyIndex: 9, env: { [keyEnvNames(kind).json]: text } }));
    }
    expect(messages.length).toBeGreaterThan(100);
    for (const kind of KEY_KINDS) for (const m of messages) expectNoSecret(m, keys[kind]);
  });
});
