/** @module Key ceremonies: fresh keys of every kind, a whole key directory with its modes and trust anchors, and refusal to overwrite. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DGIS } from '../applet-spec/dgis.js';
import { bytesToHex } from '../base/bytes.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';
import { sm9ExtractSignKey, sm9Sign, sm9Verify } from '../crypto/sm9/sm9.js';
import {
  CEREMONY_KEYS,
  generateKey,
  initKeyDirectory,
  parseTrustAnchors,
  readTrustAnchors,
  TRUST_ANCHORS_FILE,
  trustAnchorsDgiValue,
  trustAnchorsFromKeys,
  trustAnchorsToJson,
} from './key-ceremony.js';
import { type KeyFile, KeyFileError, publicKeyCheckValue, readKeyFile } from '../keys/key-files.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'drmb-ceremony-'));
const modeOf = (p: string) => statSync(p).mode & 0o777;
const upper = (b: Uint8Array) => bytesToHex(b).toUpperCase();
const utf8 = new TextEncoder();

function allSecretHex(dir: string): string[] {
  const out: string[] = [];
  for (const { kind, file } of CEREMONY_KEYS) {
    const k = readKeyFile(join(dir, file), kind) as KeyFile;
    for (const v of Object.values(k.secret as Record<string, Uint8Array>)) out.push(upper(v), bytesToHex(v));
  }
  return out;
}

describe('generateKey', () => {
  it('makes 16-byte random master keys with a KCV each, different on each call', () => {
    const a = generateKey('cb-master');
    const b = generateKey('cb-master');
    expect(Object.keys(a.secret)).toEqual(['scpEnc', 'scpMac', 'scpDek', 'load', 'purchase', 'tac', 'issuerMac', 'pinReload', 'pinUnblock']);
    for (const v of Object.values(a.secret)) expect(v.length).toBe(16);
    expect(Object.keys(a.kcv)).toEqual(Object.keys(a.secret));
    expect(upper(a.secret.load)).not.toBe(upper(b.secret.load));
    expect(new Set(Object.values(a.secret).map(upper)).size).toBe(9);
    const i = generateKey('issuance-master');
    expect(Object.keys(i.secret)).toEqual(['enc', 'mac', 'dek']);
  });

  it('makes a working SM2 coin-signing pair with key index 1 by default, or the index asked', () => {
    const k = generateKey('coin-signing');
    expect(k.keyIndex).toBe(1);
    expect(generateKey('coin-signing', { keyIndex: 7 }).keyIndex).toBe(7);
    const msg = utf8.encode('coin body');
    expect(sm2Verify(k.public.publicKey, msg, sm2Sign(k.secret.privateKey, msg))).toBe(true);
  });

  it('makes a working KGC signature master key (a user key extracted from it verifies)', () => {
    const k = generateKey('kgc-sign');
    const id = utf8.encode('62120000000000000001|2036');
    const user = sm9ExtractSignKey(k.secret.privateKey, id);
    const sig = sm9Sign(user, k.public.publicKey, utf8.encode('m'));
    expect(sm9Verify(k.public.publicKey, id, utf8.encode('m'), sig)).toBe(true);
  });

  it('labels keys with kind, index and date unless a label is given', () => {
    const now = new Date('2026-03-04T05:06:07Z');
    expect(generateKey('cert-signing', { keyIndex: 2, now }).label).toBe('cert-signing 2 2026-03-04');
    expect(generateKey('kgc-encrypt', { now }).created).toBe('2026-03-04T05:06:07.000Z');
    expect(generateKey('kgc-encrypt', { label: 'KGC 2026' }).label).toBe('KGC 2026');
  });

  it('refuses a key index on kinds without one, and indexes outside 1..255', () => {
    expect(() => generateKey('cb-master', { keyIndex: 1 })).toThrow(/keyIndex: a cb-master key has no key index/);
    expect(() => generateKey('coin-signing', { keyIndex: 0 })).toThrow(/keyIndex: must be an integer 1\.\.255/);
    expect(() => generateKey('coin-signing', { keyIndex: 256 })).toThrow(/1\.\.255/);
  });
});

describe('initKeyDirectory', () => {
  it('creates every key file 0600, trust-anchors.json 0644 and the directory 0700', () => {
    const dir = join(tmp(), 'keys');
    const r = initKeyDirectory(dir);
    expect(modeOf(dir)).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual(
      ['cb-master.json', 'cert-signing-1.json', 'coin-signing-1.json', 'issuance-master.json', 'kgc-encrypt.json', 'kgc-sign.json', 'mint-master.json', 'trust-anchors.json'],
    );
    for (const f of r.files) expect(modeOf(f.path)).toBe(f.kind === 'trust-anchors' ? 0o644 : 0o600);
    expect(r.files.map((f) => [f.kind, f.keyIndex])).toEqual([
      ['cb-master', undefined],
      ['issuance-master', undefined],
      ['mint-master', undefined],
      ['coin-signing', 1],
      ['cert-signing', 1],
      ['kgc-sign', undefined],
      ['kgc-encrypt', undefined],
      ['trust-anchors', undefined],
    ]);
  });

  it('lists KCVs that match the files, and no secret', () => {
    const dir = tmp();
    const r = initKeyDirectory(dir);
    for (const f of r.files.filter((x) => x.kind !== 'trust-anchors')) {
      const k = readKeyFile(f.path) as KeyFile;
      expect(k.kind).toBe(f.kind);
      expect(f.kcv).toEqual(Object.fromEntries(Object.entries(k.kcv).map(([n, v]) => [n, upper(v as Uint8Array)])));
    }
    const printed = JSON.stringify(r);
    for (const s of allSecretHex(dir)) expect(printed.includes(s)).toBe(false);
  });

  it('writes trust anchors holding the public keys of the ceremony, KGC key version 1, and no secret', () => {
    const dir = tmp();
    initKeyDirectory(dir);
    const a = readTrustAnchors(join(dir, TRUST_ANCHORS_FILE));
    const coin = readKeyFile(join(dir, 'coin-signing-1.json'), 'coin-signing');
    const cert = readKeyFile(join(dir, 'cert-signing-1.json'), 'cert-signing');
    const ks = readKeyFile(join(dir, 'kgc-sign.json'), 'kgc-sign');
    const ke = readKeyFile(join(dir, 'kgc-encrypt.json'), 'kgc-encrypt');
    expect(a.coinKeys.map((k) => [k.keyIndex, upper(k.publicKey)])).toEqual([[1, upper(coin.public.publicKey)]]);
    expect(upper(a.certSigning.publicKey)).toBe(upper(cert.public.publicKey));
    expect(a.certSigning.keyIndex).toBe(1);
    expect(upper(a.kgcSignMasterPublicKey)).toBe(upper(ks.public.publicKey));
    expect(upper(a.kgcEncryptMasterPublicKey)).toBe(upper(ke.public.publicKey));
    expect(a.kgcKeyVersion).toBe(1);
    const text = readFileSync(join(dir, TRUST_ANCHORS_FILE), 'utf8');
    for (const s of allSecretHex(dir)) expect(text.includes(s)).toBe(false);
  });

  it('refuses a second ceremony into the same directory and changes nothing', () => {
    const dir = tmp();
    initKeyDirectory(dir);
    const before = readFileSync(join(dir, 'cb-master.json'), 'utf8');
    const e = (() => {
      try {
        initKeyDirectory(dir);
      } catch (x) {
        return x as Error;
      }
    })();
    expect(e).toBeInstanceOf(KeyFileError);
    expect(e!.message).toMatch(/already holds .*cb-master\.json.*refusing to overwrite/);
    expect(readFileSync(join(dir, 'cb-master.json'), 'utf8')).toBe(before);
  });

  it('writes nothing when a single target file exists', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'kgc-sign.json'), '{}');
    expect(() => initKeyDirectory(dir)).toThrow(/kgc-sign\.json/);
    expect(readdirSync(dir)).toEqual(['kgc-sign.json']);
  });

  it('replaces every key with { overwrite: true }', () => {
    const dir = tmp();
    const first = initKeyDirectory(dir);
    const second = initKeyDirectory(dir, { overwrite: true });
    expect(second.files[0].kcv.scpEnc).not.toBe(first.files[0].kcv.scpEnc);
    expect(readKeyFile(join(dir, 'cb-master.json'), 'cb-master').kcv.scpEnc).toEqual(Uint8Array.from(Buffer.from(second.files[0].kcv.scpEnc, 'hex')));
    expect(modeOf(join(dir, 'cb-master.json'))).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a directory path that is a file', () => {
    const f = join(tmp(), 'file');
    writeFileSync(f, '');
    expect(() => initKeyDirectory(f)).toThrow(/is not a directory/);
  });
});

describe('trust anchors', () => {
  const anchors = () =>
    trustAnchorsFromKeys({
      coinSigning: [generateKey('coin-signing', { keyIndex: 1 }), generateKey('coin-signing', { keyIndex: 2 })],
      certSigning: generateKey('cert-signing', { keyIndex: 3 }),
      kgcSign: generateKey('kgc-sign'),
      kgcEncrypt: generateKey('kgc-encrypt'),
      kgcKeyVersion: 4,
    });

  it('round-trips through JSON with a KCV per public key', () => {
    const a = anchors();
    const text = trustAnchorsToJson(a);
    const doc = JSON.parse(text);
    expect(doc.coinKeys[1]).toEqual({ keyIndex: 2, publicKey: upper(a.coinKeys[1].publicKey), kcv: upper(publicKeyCheckValue(a.coinKeys[1].publicKey)) });
    const back = parseTrustAnchors(text, 't.json');
    expect(back.coinKeys.map((k) => k.keyIndex)).toEqual([1, 2]);
    expect(upper(back.kgcSignMasterPublicKey)).toBe(upper(a.kgcSignMasterPublicKey));
    expect(back.certSigning.keyIndex).toBe(3);
    expect(back.kgcKeyVersion).toBe(4);
  });

  it('rejects a changed public key by its KCV', () => {
    const a = anchors();
    const doc = JSON.parse(trustAnchorsToJson(a));
    doc.certSigning.publicKey = doc.coinKeys[0].publicKey;
    expect(() => parseTrustAnchors(JSON.stringify(doc), 't.json')).toThrow('t.json: certSigning.kcv: does not match the public key');
  });

  it('rejects an SM9 public key that is not on the curve, and repeated coin key indexes', () => {
    const doc = JSON.parse(trustAnchorsToJson(anchors()));
    const bad = { ...doc, kgcEncrypt: { publicKey: '04' + '11'.repeat(64), kcv: '000000' } };
    expect(() => parseTrustAnchors(JSON.stringify(bad), 't.json')).toThrow('t.json: kgcEncrypt.publicKey: is not a valid point');
    const dup = { ...doc, coinKeys: [doc.coinKeys[0], { ...doc.coinKeys[1], keyIndex: 1 }] };
    expect(() => parseTrustAnchors(JSON.stringify(dup), 't.json')).toThrow('t.json: coinKeys: has a repeated key index');
  });

  it('gives the DGI E001 value, which the DGI coder encodes and decodes unchanged', () => {
    const a = anchors();
    const v = trustAnchorsDgiValue(a);
    const back = DGIS.trustAnchors.coder.decode(DGIS.trustAnchors.coder.encode(v));
    expect(back.coinKeys.map((k) => [k.keyIndex, upper(k.publicKey)])).toEqual(a.coinKeys.map((k) => [k.keyIndex, upper(k.publicKey)]));
    expect(upper(back.kgcSignMasterPublicKey)).toBe(upper(a.kgcSignMasterPublicKey));
    expect(upper(back.kgcEncryptMasterPublicKey)).toBe(upper(a.kgcEncryptMasterPublicKey));
    expect(back.kgcKeyVersion).toBe(4);
  });

  it('names a missing trust-anchors file', () => {
    const p = join(tmp(), TRUST_ANCHORS_FILE);
    expect(existsSync(p)).toBe(false);
    expect(() => readTrustAnchors(p)).toThrow(`${p}: does not exist`);
  });
});
