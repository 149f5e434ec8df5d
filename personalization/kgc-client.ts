/**
 * @module The issuance desk's side of the KGC service: each request signed with the desk's key
 * (kgc-request.ts) and posted to `drmb kgc serve`; the answer's keys, encrypted to the card, go
 * straight into issuance. The desk never holds a KGC master key.
 */
import { OperationalError } from '../base/operational-error.js';
import type { KeyFile } from '../keys/key-files.js';
import type { UserKeySource } from './kgc.js';
import { KGC_EXTRACT_PATH, kgcRequestToJson, parseKgcAnswer, signKgcRequest } from './kgc-request.js';

/** The KGC refused, or could not be reached or understood; one line naming the KGC and why. */
export class KgcError extends OperationalError {
  override readonly name = 'KgcError';
  constructor(
    message: string,
    /** the refusal code of the KGC's answer ("unknown-desk"), when it answered */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A UserKeySource that asks the KGC service at `url` (http://127.0.0.1:PORT), signing each request
 * with `desk`. Throws KgcError with the KGC's code and message when it refuses, and when it cannot be
 * reached. Security: the desk-signing private key; the answer holds keys only the card can decrypt.
 */
export function remoteKgc(url: string, desk: KeyFile<'desk-signing'>, now: () => Date = () => new Date()): UserKeySource {
  let endpoint: URL;
  try {
    endpoint = new URL(KGC_EXTRACT_PATH, url);
  } catch {
    throw new KgcError(`--kgc ${url}: not a URL (e.g. http://127.0.0.1:8790)`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new KgcError(`--kgc ${url}: must be an http:// URL`);
  return async (request) => {
    const body = kgcRequestToJson(signKgcRequest(desk, request, now()));
    let res: Response;
    try {
      res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new KgcError(`KGC ${url}: not reachable (${cause})`, undefined, { cause: e });
    }
    const text = await res.text();
    if (!res.ok) {
      let code: string | undefined;
      let message = text.trim().slice(0, 200);
      try {
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        code = err?.code;
        message = err?.message ?? message;
      } catch {
        // not the KGC's JSON: show the start of what came back
      }
      throw new KgcError(`KGC ${url} refused (${res.status}${code ? ` ${code}` : ''}): ${message}`, code);
    }
    try {
      const answer = parseKgcAnswer(text);
      if (answer.identity !== request.identity) throw new KgcError(`KGC ${url} answered for identity ${answer.identity}, not ${request.identity}`);
      return { signKey: answer.signKey, encryptKey: answer.encryptKey };
    } catch (e) {
      if (e instanceof KgcError) throw e;
      throw new KgcError(`KGC ${url}: the answer does not parse (${(e as Error).message})`);
    }
  };
}
