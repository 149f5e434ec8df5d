/**
 * @module The requesters' side of the KGC service: the issuance desk's requests signed with the desk's
 * key (kgc-request.ts) and posted to `drmb kgc serve`, the answer's keys, encrypted to the card, going
 * straight into issuance; and a terminal's request for its own identity's keys, signed and decrypted
 * with its own SM2 key. Neither ever holds a KGC master key.
 */
import { wipe } from '../base/bytes.js';
import { OperationalError } from '../base/operational-error.js';
import { sm2Decrypt } from '../crypto/sm2.js';
import type { KeyFile } from '../keys/key-files.js';
import type { UserKeySource } from './kgc.js';
import {
  KGC_EXTRACT_PATH,
  KGC_TERMINAL_PATH,
  kgcRequestToJson,
  parseKgcAnswer,
  parseKgcTerminalAnswer,
  signKgcRequest,
  signTerminalKeyRequest,
  terminalKeyRequestToJson,
} from './kgc-request.js';

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

/** The endpoint `path` of the KGC at `url`; KgcError when `url` is not an http(s) URL. */
function endpointOf(url: string, path: string): URL {
  let endpoint: URL;
  try {
    endpoint = new URL(path, url);
  } catch {
    throw new KgcError(`--kgc ${url}: not a URL (e.g. http://127.0.0.1:8790)`);
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new KgcError(`--kgc ${url}: must be an http:// URL`);
  return endpoint;
}

/** Posts `body` to the KGC and returns the text of its 200 answer; KgcError with the KGC's code and message otherwise. */
async function postToKgc(url: string, endpoint: URL, body: string): Promise<string> {
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
  return text;
}

/**
 * A UserKeySource that asks the KGC service at `url` (http://127.0.0.1:PORT), signing each request
 * with `desk`. Throws KgcError with the KGC's code and message when it refuses, and when it cannot be
 * reached. Security: the desk-signing private key; the answer holds keys only the card can decrypt.
 */
export function remoteKgc(url: string, desk: KeyFile<'desk-signing'>, now: () => Date = () => new Date()): UserKeySource {
  const endpoint = endpointOf(url, KGC_EXTRACT_PATH);
  return async (request) => {
    const text = await postToKgc(url, endpoint, kgcRequestToJson(signKgcRequest(desk, request, now())));
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

/** A terminal's own SM9 user keys, in clear in the terminal: dsA (65 bytes, G1) and deB (129 bytes, G2). */
export interface TerminalUserKeys {
  identity: string;
  signKey: Uint8Array;
  encryptKey: Uint8Array;
}

/**
 * Asks the KGC at `url` for the SM9 keys of the terminal's own `identity`, signing with the terminal's
 * SM2 key pair (which the KGC lists bound to that identity: `drmb kgc authorize --terminal-key`), and
 * decrypts the answer with the same key. Throws KgcError as remoteKgc does. Security: the terminal's
 * SM2 private key; the returned keys are the terminal's secrets (the caller wipes them).
 */
export async function terminalKeysFromKgc(url: string, terminal: { privateKey: Uint8Array; publicKey: Uint8Array }, identity: string, now = new Date()): Promise<TerminalUserKeys> {
  const text = await postToKgc(url, endpointOf(url, KGC_TERMINAL_PATH), terminalKeyRequestToJson(signTerminalKeyRequest(terminal, identity, now)));
  let signCipher: Uint8Array;
  let encryptCipher: Uint8Array;
  try {
    const answer = parseKgcTerminalAnswer(text);
    if (answer.identity !== identity) throw new KgcError(`KGC ${url} answered for identity ${answer.identity}, not ${identity}`);
    signCipher = answer.signKey;
    encryptCipher = answer.encryptKey;
  } catch (e) {
    if (e instanceof KgcError) throw e;
    throw new KgcError(`KGC ${url}: the answer does not parse (${(e as Error).message})`);
  }
  let signKey: Uint8Array | undefined;
  try {
    signKey = sm2Decrypt(terminal.privateKey, signCipher);
    return { identity, signKey, encryptKey: sm2Decrypt(terminal.privateKey, encryptCipher) };
  } catch (e) {
    if (signKey) wipe(signKey);
    throw new KgcError(`KGC ${url}: the answer does not decrypt under the terminal's key (${(e as Error).message})`);
  }
}
