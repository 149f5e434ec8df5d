/**
 * @module The KGC service over real HTTP on 127.0.0.1 (port 0): it answers an authorised desk's signed
 * request with keys only the certified card can decrypt, and refuses an unknown desk, a bad signature,
 * a bad certificate, a stale request and a replay (also after a restart) with JSON errors and their
 * HTTP status, never a stack trace; it answers a listed terminal with the keys of its own identity only,
 * encrypted to the terminal's key; every answer and refusal is in a hash-chained audit log that verifies.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { sm2Decrypt, sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey } from '../crypto/sm9/sm9.js';
import { writeAuthorizedDesks } from '../keys/authorized-desks.js';
import { type KeyFile, loadKey } from '../keys/key-files.js';
import { readTrustAnchors, type TrustAnchors } from '../keys/trust-anchors.js';
import { verifyAuditLog } from './audit-log.js';
import { issueCardCertificate } from './card-certificate.js';
import { generateKey, initKeyDirectory } from './key-ceremony.js';
import { KgcError, remoteKgc, terminalKeysFromKgc } from './kgc-client.js';
import { KGC_EXTRACT_PATH, KGC_TERMINAL_PATH, kgcRequestToJson, signKgcRequest, signTerminalKeyRequest, terminalKeyRequestToJson } from './kgc-request.js';
import { type KgcService, startKgcService } from './kgc-service.js';

const CARD_ID = '62120000000000008001';
const IDENTITY = `${CARD_ID}|2036`;
let dir: string;
let service: KgcService;
let desk: KeyFile<'desk-signing'>;
let master: { signPrivateKey: Uint8Array; encryptPrivateKey: Uint8Array };
let anchors: TrustAnchors;
const card = sm2GenerateKeyPair();
const TERMINAL_IDENTITY = 'pos-0001@merchant.example';
/** A POS terminal's own device key, listed by the KGC bound to TERMINAL_IDENTITY. */
const terminal = sm2GenerateKeyPair();
let certificate: Uint8Array;
const audit = () => join(dir, 'kgc-audit.log');

function start(): Promise<KgcService> {
  return startKgcService({ master, anchors, desksPath: join(dir, 'authorized-desks.json'), auditPath: audit(), port: 0 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-kgc-service-'));
  const keys = join(dir, 'keys');
  initKeyDirectory(keys);
  anchors = readTrustAnchors(join(keys, 'trust-anchors.json'));
  master = { signPrivateKey: loadKey('kgc-sign', { dir: keys, env: {} }).secret.privateKey, encryptPrivateKey: loadKey('kgc-encrypt', { dir: keys, env: {} }).secret.privateKey };
  const certSigning = loadKey('cert-signing', { dir: keys, env: {} });
  certificate = issueCardCertificate({ privateKey: certSigning.secret.privateKey, keyIndex: certSigning.keyIndex }, CARD_ID, '361231', card.publicKey);
  desk = generateKey('desk-signing');
  writeAuthorizedDesks(join(dir, 'authorized-desks.json'), [
    { name: 'test desk 1', publicKey: desk.public.publicKey, added: new Date().toISOString() },
    { name: 'test terminal 1', publicKey: terminal.publicKey, added: new Date().toISOString(), identity: TERMINAL_IDENTITY },
  ]);
  service = await start();
}, 60_000);

afterAll(async () => {
  await service?.close();
});

async function post(body: string, path = KGC_EXTRACT_PATH, method = 'POST'): Promise<{ status: number; json: { error?: { code: string; message: string }; signKey?: string; encryptKey?: string; cardId?: string }; text: string }> {
  const res = await fetch(`${service.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? body : undefined });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

const request = (over: { desk?: KeyFile<'desk-signing'>; identity?: string; certificate?: Uint8Array; now?: Date } = {}) =>
  signKgcRequest(over.desk ?? desk, { certificate: over.certificate ?? certificate, identity: over.identity ?? IDENTITY }, over.now);

function auditLines(): { action: string; operator: string; detail: { code?: string; nonce?: string } }[] {
  return readFileSync(audit(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('the KGC service', () => {
  it("answers an authorised desk with the identity's SM9 keys encrypted to the certified card key, and logs it", async () => {
    const r = await post(kgcRequestToJson(request()));
    expect(r.status).toBe(200);
    expect(r.json.cardId).toBe(CARD_ID);
    const id = new TextEncoder().encode(IDENTITY);
    expect(hex(sm2Decrypt(card.privateKey, Uint8Array.from(Buffer.from(r.json.signKey!, 'hex'))))).toBe(hex(sm9ExtractSignKey(master.signPrivateKey, id)));
    expect(hex(sm2Decrypt(card.privateKey, Uint8Array.from(Buffer.from(r.json.encryptKey!, 'hex'))))).toBe(hex(sm9ExtractEncryptKey(master.encryptPrivateKey, id)));
    expect(auditLines().at(-1)).toMatchObject({ action: 'extract', operator: 'desk test desk 1' });
  });

  it('refuses a desk it does not list with 403 unknown-desk', async () => {
    const r = await post(kgcRequestToJson(request({ desk: generateKey('desk-signing') })));
    expect([r.status, r.json.error!.code]).toEqual([403, 'unknown-desk']);
    expect(auditLines().at(-1)).toMatchObject({ action: 'refused', detail: { code: 'unknown-desk' } });
  });

  it('refuses a request altered after signing with 401 bad-signature', async () => {
    const signed = request();
    const r = await post(kgcRequestToJson({ ...signed, identity: 'someone else' }));
    expect([r.status, r.json.error!.code]).toEqual([401, 'bad-signature']);
  });

  it('refuses a certificate the central bank did not sign with 422 bad-certificate', async () => {
    const forged = issueCardCertificate({ privateKey: generateKey('cert-signing').secret.privateKey, keyIndex: 1 }, CARD_ID, '361231', sm2GenerateKeyPair().publicKey);
    const r = await post(kgcRequestToJson(request({ certificate: forged })));
    expect([r.status, r.json.error!.code]).toEqual([422, 'bad-certificate']);
    expect(r.json.error!.message).toMatch(/signature does not verify/);
  });

  it('refuses a request replayed, also by a restarted service, with 409 replay; and a stale one with 401', async () => {
    const body = kgcRequestToJson(request());
    expect((await post(body)).status).toBe(200);
    const again = await post(body);
    expect([again.status, again.json.error!.code]).toEqual([409, 'replay']);
    await service.close();
    service = await start();
    expect((await post(body)).json.error!.code).toBe('replay');
    const stale = await post(kgcRequestToJson(request({ now: new Date(Date.now() - 10 * 60_000) })));
    expect([stale.status, stale.json.error!.code]).toEqual([401, 'stale-request']);
  });

  it('answers malformed requests, other paths and methods with JSON errors and never a stack trace', async () => {
    const cases = [
      [await post('{not json'), 400, 'bad-request'],
      [await post(JSON.stringify({ format: 'drmb-kgc-request', version: 1 })), 400, 'bad-request'],
      [await post(kgcRequestToJson(request({ identity: 'x'.repeat(65) }))), 400, 'bad-request'],
      [await post('{}', '/admin'), 404, 'not-found'],
      [await post('', KGC_EXTRACT_PATH, 'GET'), 405, 'method-not-allowed'],
      [await post('x'.repeat(20_000)), 413, 'too-large'],
    ] as const;
    for (const [r, status, code] of cases) {
      expect([r.status, r.json.error!.code]).toEqual([status, code]);
      expect(r.text).not.toMatch(/\n\s+at /);
    }
  });

  it("answers a listed terminal with the SM9 keys of its own identity encrypted to the terminal's key, and logs it", async () => {
    const r = await post(terminalKeyRequestToJson(signTerminalKeyRequest(terminal, TERMINAL_IDENTITY)), KGC_TERMINAL_PATH);
    expect(r.status).toBe(200);
    const id = new TextEncoder().encode(TERMINAL_IDENTITY);
    expect(hex(sm2Decrypt(terminal.privateKey, Uint8Array.from(Buffer.from(r.json.signKey!, 'hex'))))).toBe(hex(sm9ExtractSignKey(master.signPrivateKey, id)));
    expect(hex(sm2Decrypt(terminal.privateKey, Uint8Array.from(Buffer.from(r.json.encryptKey!, 'hex'))))).toBe(hex(sm9ExtractEncryptKey(master.encryptPrivateKey, id)));
    expect(auditLines().at(-1)).toMatchObject({ action: 'extract', operator: 'terminal test terminal 1', detail: { identity: TERMINAL_IDENTITY } });
  });

  it("refuses a terminal another identity's keys (403 wrong-identity), an unlisted terminal (403 unknown-terminal), and a terminal's key on the desks' path (403 unknown-desk)", async () => {
    const other = await post(terminalKeyRequestToJson(signTerminalKeyRequest(terminal, IDENTITY)), KGC_TERMINAL_PATH);
    expect([other.status, other.json.error!.code]).toEqual([403, 'wrong-identity']);
    expect(auditLines().at(-1)).toMatchObject({ action: 'refused', operator: 'terminal test terminal 1', detail: { code: 'wrong-identity', identity: IDENTITY } });
    const stranger = await post(terminalKeyRequestToJson(signTerminalKeyRequest(sm2GenerateKeyPair(), TERMINAL_IDENTITY)), KGC_TERMINAL_PATH);
    expect([stranger.status, stranger.json.error!.code]).toEqual([403, 'unknown-terminal']);
    const asDesk = { ...generateKey('desk-signing'), secret: { privateKey: terminal.privateKey }, public: { publicKey: terminal.publicKey } } as KeyFile<'desk-signing'>;
    const card = await post(kgcRequestToJson(request({ desk: asDesk })));
    expect([card.status, card.json.error!.code]).toEqual([403, 'unknown-desk']);
    // A desk's signed request posted as a terminal's does not parse as one.
    expect((await post(kgcRequestToJson(request()), KGC_TERMINAL_PATH)).json.error!.code).toBe('bad-request');
  });

  it('keeps an audit log whose hash chain verifies, holding no key', () => {
    expect(verifyAuditLog(audit())).toBe(0);
    const text = readFileSync(audit(), 'utf8').toUpperCase();
    for (const secret of [master.signPrivateKey, master.encryptPrivateKey, desk.secret.privateKey, terminal.privateKey]) expect(text).not.toContain(hex(secret));
  });
});

describe('remoteKgc, the desk side', () => {
  it('returns the encrypted keys, and turns a refusal or an unreachable KGC into one KgcError line', async () => {
    const keys = await remoteKgc(service.url, desk)({ certificate, identity: IDENTITY });
    expect(sm2Decrypt(card.privateKey, keys.signKey)).toHaveLength(65);
    const stranger = remoteKgc(service.url, generateKey('desk-signing'));
    const refused = await stranger({ certificate, identity: IDENTITY }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KgcError);
    expect(refused).toMatchObject({ code: 'unknown-desk', message: expect.stringMatching(/^KGC http:\/\/127\.0\.0\.1:\d+ refused \(403 unknown-desk\): desk key [0-9A-F]{6} is not among the KGC's authorised desks$/) });
    await expect(remoteKgc('http://127.0.0.1:1', desk)({ certificate, identity: IDENTITY })).rejects.toThrow(/KGC http:\/\/127\.0\.0\.1:1: not reachable/);
  });
});

describe('terminalKeysFromKgc, the terminal side', () => {
  it("returns the terminal's own keys decrypted with its key, and a refusal as one KgcError line", async () => {
    const keys = await terminalKeysFromKgc(service.url, terminal, TERMINAL_IDENTITY);
    expect(hex(keys.signKey)).toBe(hex(sm9ExtractSignKey(master.signPrivateKey, new TextEncoder().encode(TERMINAL_IDENTITY))));
    expect(keys.encryptKey).toHaveLength(129);
    await expect(terminalKeysFromKgc(service.url, terminal, 'someone@else.example')).rejects.toThrow(/refused \(403 wrong-identity\): terminal "test terminal 1" obtains the keys of its own identity only$/);
  });
});
