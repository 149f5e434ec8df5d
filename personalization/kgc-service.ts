/**
 * @module The KGC as a service (`drmb kgc serve`): holds the SM9 master keys in its own process and
 * answers key-extraction requests over HTTP on 127.0.0.1 with node's http. A desk's request must come
 * from an authorised desk, carry its valid SM2 signature, be fresh and never seen, and carry a card
 * certificate that verifies; a terminal's request (POST /v1/terminal-keys) must come from a listed
 * terminal key, for the one identity listed with it, and is answered encrypted to that key. Each
 * answer and each refusal goes into the KGC's hash-chained audit log.
 */
import { readRequestBody } from '../io/read-request-body.js';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal, LOCAL_HOST, type LocalService, sendJson } from '../io/local-service.js';
import { equalBytes } from '../base/bytes.js';
import { FormatError } from '../base/format-error.js';
import { hex } from '../base/hex.js';
import { type AuthorizedDesk, isBankEntry, isTerminalEntry, readAuthorizedDesks } from '../keys/authorized-desks.js';
import { publicKeyCheckValue } from '../keys/key-files.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { appendAudit } from './audit-log.js';
import { kgcAnswer, type KgcMasterKeys, kgcTerminalAnswer, yymmdd } from './kgc.js';
import {
  KGC_EXTRACT_PATH,
  KGC_REFUSALS,
  KGC_TERMINAL_PATH,
  kgcAnswerToJson,
  kgcErrorToJson,
  kgcRequestSignatureVerifies,
  KgcRequestFormatError,
  type KgcRefusalCode,
  kgcTerminalAnswerToJson,
  parseKgcRequest,
  parseTerminalKeyRequest,
  type SignedKgcRequest,
  type SignedTerminalKeyRequest,
  terminalRequestSignatureVerifies,
} from './kgc-request.js';

/** How far a request's time may be from the KGC's clock; nonces are remembered for twice as long. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60_000;
/** Largest request body: a certificate and an identity fit in far less. */
export const MAX_BODY_BYTES = 16 * 1024;
/** The one address the service listens on: only processes of this machine reach it. */
export const KGC_HOST = LOCAL_HOST;

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

/** The KGC's service on 127.0.0.1. */
export type KgcService = LocalService;

/** A refusal the service answers with its code's HTTP status; `who` once the listed desk or terminal is known, for the audit log. */
class Refusal extends Error {
  constructor(
    readonly code: KgcRefusalCode,
    message: string,
    readonly who?: AuthorizedDesk,
  ) {
    super(message);
  }
}

/** A parsed request: a desk's for a card's keys, or a terminal's for its own. */
type Parsed = { kind: 'desk'; request: SignedKgcRequest } | { kind: 'terminal'; request: SignedTerminalKeyRequest };

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


/**
 * Starts the service. Security: holds the KGC master keys for the life of the process; answers only
 * on 127.0.0.1; every answer is encrypted to a card key certified by the central bank.
 */
export async function startKgcService(o: KgcServiceOptions): Promise<KgcService> {
  const now = o.now ?? (() => new Date());
  const maxSkewMs = o.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  const log = o.log ?? (() => {});
  const seen = noncesFromAudit(o.auditPath, now().getTime() - 2 * maxSkewMs);

  /** The members the audit log keeps of a request: who asked (by key check value), for which identity, when, and its nonce. */
  const requestDetail = (r: Parsed): Record<string, unknown> =>
    r.kind === 'desk'
      ? { identity: r.request.identity, nonce: hex(r.request.nonce), requestTime: r.request.time, deskKcv: hex(publicKeyCheckValue(r.request.deskPublicKey)) }
      : { identity: r.request.identity, nonce: hex(r.request.nonce), requestTime: r.request.time, terminalKcv: hex(publicKeyCheckValue(r.request.terminalPublicKey)) };
  const requesterKey = (r: Parsed) => (r.kind === 'desk' ? r.request.deskPublicKey : r.request.terminalPublicKey);

  const audit = (action: string, who: AuthorizedDesk | undefined, r: Parsed | undefined, detail: Record<string, unknown>, cardId?: string) => {
    appendAudit(o.auditPath, {
      time: now().toISOString(),
      operator: who ? `${isTerminalEntry(who) ? 'terminal' : 'desk'} ${who.name}` : r ? `unknown ${r.kind} ${hex(publicKeyCheckValue(requesterKey(r)))}` : 'unknown',
      action,
      cardId,
      detail: { ...(r ? requestDetail(r) : {}), ...detail },
    });
  };

  const listed = (): AuthorizedDesk[] => {
    try {
      return readAuthorizedDesks(o.desksPath);
    } catch (e) {
      log(`kgc: the list of authorised desks cannot be read: ${(e as Error).message}`);
      throw new Refusal('internal', 'the KGC cannot read its list of authorised desks');
    }
  };

  /** The freshness and replay checks every request passes once its signer is known; remembers the nonce. */
  const fresh = (time: string, nonceBytes: Uint8Array, who: AuthorizedDesk): (() => void) => {
    const t = Date.parse(time);
    const nowMs = now().getTime();
    if (Math.abs(nowMs - t) > maxSkewMs) throw new Refusal('stale-request', `the request time ${time} is more than ${maxSkewMs / 1000} s from the KGC's clock`, who);
    for (const [n, at] of seen) if (at < nowMs - 2 * maxSkewMs) seen.delete(n);
    const nonce = hex(nonceBytes);
    if (seen.has(nonce)) throw new Refusal('replay', 'this request (its nonce) has been answered already', who);
    return () => seen.set(nonce, t);
  };

  /** Answers one parsed desk request, or throws a Refusal. A terminal's key is no desk's. */
  const answer = (r: SignedKgcRequest): { body: string; desk: AuthorizedDesk; cardId: string } => {
    const desk = listed().find((d) => !isTerminalEntry(d) && !isBankEntry(d) && equalBytes(d.publicKey, r.deskPublicKey));
    if (!desk) throw new Refusal('unknown-desk', `desk key ${hex(publicKeyCheckValue(r.deskPublicKey))} is not among the KGC's authorised desks`);
    if (!kgcRequestSignatureVerifies(r)) throw new Refusal('bad-signature', "the signature does not verify under the desk's key", desk);
    const remember = fresh(r.time, r.nonce, desk);
    let result: ReturnType<typeof kgcAnswer>;
    try {
      result = kgcAnswer(o.master, o.anchors, r, yymmdd(now()));
    } catch (e) {
      if (e instanceof FormatError) throw new Refusal(e.what === 'identity' ? 'bad-request' : 'bad-certificate', e.message, desk);
      throw e;
    }
    remember();
    const body = kgcAnswerToJson({ cardId: result.cert.cardId, identity: r.identity, kgcKeyVersion: o.anchors.kgcKeyVersion, ...result.keys });
    return { body, desk, cardId: result.cert.cardId };
  };

  /**
   * Answers one parsed terminal request, or throws a Refusal: the key must be listed as a terminal's
   * and the identity must be the one listed with it, so a terminal obtains its own keys and no one else's.
   */
  const answerTerminal = (r: SignedTerminalKeyRequest): { body: string; terminal: AuthorizedDesk } => {
    const terminal = listed().find((d) => isTerminalEntry(d) && equalBytes(d.publicKey, r.terminalPublicKey));
    if (!terminal) throw new Refusal('unknown-terminal', `terminal key ${hex(publicKeyCheckValue(r.terminalPublicKey))} is not among the KGC's authorised terminals`);
    if (!terminalRequestSignatureVerifies(r)) throw new Refusal('bad-signature', "the signature does not verify under the terminal's key", terminal);
    if (r.identity !== terminal.identity) throw new Refusal('wrong-identity', `terminal "${terminal.name}" obtains the keys of its own identity only`, terminal);
    const remember = fresh(r.time, r.nonce, terminal);
    let keys: ReturnType<typeof kgcTerminalAnswer>;
    try {
      keys = kgcTerminalAnswer(o.master, r.identity, r.terminalPublicKey);
    } catch (e) {
      if (e instanceof FormatError) throw new Refusal('bad-request', e.message, terminal);
      throw e;
    }
    remember();
    return { body: kgcTerminalAnswerToJson({ identity: r.identity, kgcKeyVersion: o.anchors.kgcKeyVersion, ...keys }), terminal };
  };

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => sendJson(res, status, body, headers);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let parsed: Parsed | undefined;
    try {
      const path = (req.url ?? '').split('?')[0];
      if (path !== KGC_EXTRACT_PATH && path !== KGC_TERMINAL_PATH) throw new Refusal('not-found', `the KGC answers POST ${KGC_EXTRACT_PATH} and POST ${KGC_TERMINAL_PATH} only`);
      if (req.method !== 'POST') throw new Refusal('method-not-allowed', `use POST ${path}`);
      const text = await readRequestBody(req, MAX_BODY_BYTES, () => new Refusal('too-large', `the request is larger than ${MAX_BODY_BYTES} bytes`));
      try {
        parsed = path === KGC_EXTRACT_PATH ? { kind: 'desk', request: parseKgcRequest(text) } : { kind: 'terminal', request: parseTerminalKeyRequest(text) };
      } catch (e) {
        if (e instanceof KgcRequestFormatError) throw new Refusal('bad-request', e.message);
        throw e;
      }
      if (parsed.kind === 'desk') {
        const a = answer(parsed.request);
        audit('extract', a.desk, parsed, { kgcKeyVersion: o.anchors.kgcKeyVersion }, a.cardId);
        log(`kgc: answered desk ${a.desk.name} for card ${a.cardId}, identity ${parsed.request.identity}`);
        send(res, 200, a.body);
      } else {
        const a = answerTerminal(parsed.request);
        audit('extract', a.terminal, parsed, { kgcKeyVersion: o.anchors.kgcKeyVersion });
        log(`kgc: answered terminal ${a.terminal.name}, identity ${parsed.request.identity}`);
        send(res, 200, a.body);
      }
    } catch (e) {
      const refusal = e instanceof Refusal ? e : new Refusal('internal', 'internal error of the KGC');
      // Never a stack trace to the client; the log names the error class and message only.
      if (!(e instanceof Refusal)) log(`kgc: internal error (${(e as Error)?.name}: ${(e as Error)?.message})`);
      log(`kgc: refused ${KGC_REFUSALS[refusal.code]} ${refusal.code}: ${refusal.message}`);
      try {
        audit('refused', refusal.who, parsed, { code: refusal.code, reason: refusal.message });
      } catch (auditError) {
        log(`kgc: cannot write the audit log (${(auditError as Error).message})`);
      }
      send(res, KGC_REFUSALS[refusal.code], kgcErrorToJson(refusal.code, refusal.message), refusal.code === 'method-not-allowed' ? { allow: 'POST' } : {});
    }
  };

  return listenLocal(o.port, handle);
}
