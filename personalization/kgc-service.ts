/**
 * @module The KGC as a service (`drmb kgc serve`): holds the SM9 master keys in its own process and
 * answers key-extraction requests over HTTP on 127.0.0.1 with node's http. A request must come from
 * an authorised desk, carry its valid SM2 signature, be fresh and never seen, and carry a card
 * certificate that verifies; each answer and each refusal goes into the KGC's hash-chained audit log.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { equalBytes } from '../base/bytes.js';
import { FormatError } from '../base/format-error.js';
import { hex } from '../base/hex.js';
import { type AuthorizedDesk, readAuthorizedDesks } from '../keys/authorized-desks.js';
import { publicKeyCheckValue } from '../keys/key-files.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { appendAudit } from './audit-log.js';
import { kgcAnswer, type KgcMasterKeys, yymmdd } from './kgc.js';
import {
  KGC_EXTRACT_PATH,
  KGC_REFUSALS,
  kgcAnswerToJson,
  kgcErrorToJson,
  kgcRequestSignatureVerifies,
  KgcRequestFormatError,
  type KgcRefusalCode,
  parseKgcRequest,
  type SignedKgcRequest,
} from './kgc-request.js';

/** How far a request's time may be from the KGC's clock; nonces are remembered for twice as long. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60_000;
/** Largest request body: a certificate and an identity fit in far less. */
export const MAX_BODY_BYTES = 16 * 1024;
/** The one address the service listens on: only processes of this machine reach it. */
export const KGC_HOST = '127.0.0.1';

export interface KgcServiceOptions {
  master: KgcMasterKeys;
  /** the certificate key (certSigning) verifies the card certificates; kgcKeyVersion goes into the answer */
  anchors: Pick<TrustAnchors, 'certSigning' | 'kgcKeyVersion'>;
  /** authorized-desks.json, read at each request so that `drmb kgc authorize` takes effect at once */
  desksPath: string;
  /** the KGC's hash-chained audit log (personalization/audit-log.ts) */
  auditPath: string;
  /** TCP port; 0 picks a free one (tests) */
  port: number;
  maxSkewMs?: number;
  now?: () => Date;
  /** one line per request answered or refused (no secrets) */
  log?: (line: string) => void;
}

export interface KgcService {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A refusal the service answers with its code's HTTP status; `desk` once the desk is known, for the audit log. */
class Refusal extends Error {
  constructor(
    readonly code: KgcRefusalCode,
    message: string,
    readonly desk?: AuthorizedDesk,
  ) {
    super(message);
  }
}

/** The nonces answered within the freshness window, from the audit log, so a restart does not reopen them to replay. */
function noncesFromAudit(auditPath: string, sinceMs: number): Map<string, number> {
  const seen = new Map<string, number>();
  if (!existsSync(auditPath)) return seen;
  for (const line of readFileSync(auditPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as { action?: string; detail?: { nonce?: unknown; requestTime?: unknown } };
      const t = typeof e.detail?.requestTime === 'string' ? Date.parse(e.detail.requestTime) : NaN;
      if (e.action === 'extract' && typeof e.detail?.nonce === 'string' && t >= sinceMs) seen.set(e.detail.nonce, t);
    } catch {
      // a damaged line is verifyAuditLog's to report; it holds no nonce to trust
    }
  }
  return seen;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Refusal('too-large', `the request is larger than ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the service. Security: holds the KGC master keys for the life of the process; answers only
 * on 127.0.0.1; every answer is encrypted to a card key certified by the central bank.
 */
export async function startKgcService(o: KgcServiceOptions): Promise<KgcService> {
  const now = o.now ?? (() => new Date());
  const maxSkewMs = o.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const log = o.log ?? (() => {});
  const seen = noncesFromAudit(o.auditPath, now().getTime() - 2 * maxSkewMs);

  const audit = (action: string, desk: AuthorizedDesk | undefined, r: SignedKgcRequest | undefined, detail: Record<string, unknown>, cardId?: string) => {
    appendAudit(o.auditPath, {
      time: now().toISOString(),
      operator: desk ? `desk ${desk.name}` : r ? `unknown desk ${hex(publicKeyCheckValue(r.deskPublicKey))}` : 'unknown',
      action,
      cardId,
      detail: { ...(r ? { identity: r.identity, nonce: hex(r.nonce), requestTime: r.time, deskKcv: hex(publicKeyCheckValue(r.deskPublicKey)) } : {}), ...detail },
    });
  };

  /** Answers one parsed request, or throws a Refusal. */
  const answer = (r: SignedKgcRequest): { body: string; desk: AuthorizedDesk; cardId: string } => {
    let desks: AuthorizedDesk[];
    try {
      desks = readAuthorizedDesks(o.desksPath);
    } catch (e) {
      log(`kgc: the list of authorised desks cannot be read: ${(e as Error).message}`);
      throw new Refusal('internal', 'the KGC cannot read its list of authorised desks');
    }
    const desk = desks.find((d) => equalBytes(d.publicKey, r.deskPublicKey));
    if (!desk) throw new Refusal('unknown-desk', `desk key ${hex(publicKeyCheckValue(r.deskPublicKey))} is not among the KGC's authorised desks`);
    if (!kgcRequestSignatureVerifies(r)) throw new Refusal('bad-signature', "the signature does not verify under the desk's key", desk);
    const t = Date.parse(r.time);
    const nowMs = now().getTime();
    if (Math.abs(nowMs - t) > maxSkewMs) throw new Refusal('stale-request', `the request time ${r.time} is more than ${maxSkewMs / 1000} s from the KGC's clock`, desk);
    for (const [n, at] of seen) if (at < nowMs - 2 * maxSkewMs) seen.delete(n);
    const nonce = hex(r.nonce);
    if (seen.has(nonce)) throw new Refusal('replay', 'this request (its nonce) has been answered already', desk);
    let result: ReturnType<typeof kgcAnswer>;
    try {
      result = kgcAnswer(o.master, o.anchors, r, yymmdd(now()));
    } catch (e) {
      if (e instanceof FormatError) throw new Refusal(e.what === 'identity' ? 'bad-request' : 'bad-certificate', e.message, desk);
      throw e;
    }
    seen.set(nonce, t);
    const body = kgcAnswerToJson({ cardId: result.cert.cardId, identity: r.identity, kgcKeyVersion: o.anchors.kgcKeyVersion, ...result.keys });
    return { body, desk, cardId: result.cert.cardId };
  };

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(`${body}\n`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let parsed: SignedKgcRequest | undefined;
    try {
      if ((req.url ?? '').split('?')[0] !== KGC_EXTRACT_PATH) throw new Refusal('not-found', `the KGC answers POST ${KGC_EXTRACT_PATH} only`);
      if (req.method !== 'POST') throw new Refusal('method-not-allowed', `use POST ${KGC_EXTRACT_PATH}`);
      const text = await readBody(req);
      try {
        parsed = parseKgcRequest(text);
      } catch (e) {
        if (e instanceof KgcRequestFormatError) throw new Refusal('bad-request', e.message);
        throw e;
      }
      const a = answer(parsed);
      audit('extract', a.desk, parsed, { kgcKeyVersion: o.anchors.kgcKeyVersion }, a.cardId);
      log(`kgc: answered desk ${a.desk.name} for card ${a.cardId}, identity ${parsed.identity}`);
      send(res, 200, a.body);
    } catch (e) {
      const refusal = e instanceof Refusal ? e : new Refusal('internal', 'internal error of the KGC');
      // Never a stack trace to the client; the log names the error class and message only.
      if (!(e instanceof Refusal)) log(`kgc: internal error (${(e as Error)?.name}: ${(e as Error)?.message})`);
      const desk = refusal.desk;
      log(`kgc: refused ${KGC_REFUSALS[refusal.code]} ${refusal.code}: ${refusal.message}`);
      try {
        audit('refused', desk, parsed, { code: refusal.code, reason: refusal.message });
      } catch (auditError) {
        log(`kgc: cannot write the audit log (${(auditError as Error).message})`);
      }
      send(res, KGC_REFUSALS[refusal.code], kgcErrorToJson(refusal.code, refusal.message), refusal.code === 'method-not-allowed' ? { allow: 'POST' } : {});
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, KGC_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${KGC_HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
