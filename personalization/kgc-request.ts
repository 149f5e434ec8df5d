/**
 * @module The KGC service's messages (JSON over HTTP): a key-extraction request signed by an issuance
 * desk's SM2 key over its canonical text, with a time and a random nonce against replay; the answer
 * with the user keys SM2-encrypted to the card; a terminal's request for its own identity's keys,
 * signed by its own SM2 key, and the answer encrypted to that key; and the error body. One home for both sides.
 */
import { randomBytes } from '../base/bytes.js';
import { fromHex, hex } from '../base/hex.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';
import type { KeyFile } from '../keys/key-files.js';
import type { EncryptedUserKeys, KeyExtractionRequest } from './kgc.js';

export const KGC_REQUEST_FORMAT = 'drmb-kgc-request';
export const KGC_ANSWER_FORMAT = 'drmb-kgc-answer';
export const KGC_TERMINAL_REQUEST_FORMAT = 'drmb-kgc-terminal-request';
export const KGC_TERMINAL_ANSWER_FORMAT = 'drmb-kgc-terminal-answer';
/** The path a desk posts its requests to. */
export const KGC_EXTRACT_PATH = '/v1/user-keys';
/** The path a terminal posts the request for its own keys to. */
export const KGC_TERMINAL_PATH = '/v1/terminal-keys';
/** Bytes of the request nonce: 128 random bits never repeat in practice. */
export const NONCE_BYTES = 16;

/** A request as it travels: the extraction request, who asks, when, and the desk's signature. */
export interface SignedKgcRequest extends KeyExtractionRequest {
  /** the desk's SM2 public key (65 bytes), looked up in the KGC's authorised desks */
  deskPublicKey: Uint8Array;
  /** ISO 8601 time of signing; the KGC refuses a request far from its own clock */
  time: string;
  /** 16 random bytes; the KGC refuses a nonce it has answered before */
  nonce: Uint8Array;
  /** SM2 signature r||s (GB/T 32918.2, default user ID) over {@link signedText} */
  signature: Uint8Array;
}

/** Why the KGC refused, with the HTTP status it answers. */
export const KGC_REFUSALS = {
  'bad-request': 400,
  'bad-signature': 401,
  'stale-request': 401,
  'unknown-desk': 403,
  'unknown-terminal': 403,
  'wrong-identity': 403,
  'not-found': 404,
  'method-not-allowed': 405,
  replay: 409,
  'too-large': 413,
  'bad-certificate': 422,
  internal: 500,
} as const;
export type KgcRefusalCode = keyof typeof KGC_REFUSALS;

/**
 * The signed text: the members in this fixed order as compact JSON, bytes as uppercase hex. Both
 * sides rebuild it from the values, never from the received text, so spacing or order on the wire
 * does not matter and nothing outside it is signed.
 */
export function signedText(r: Omit<SignedKgcRequest, 'signature'>): Uint8Array {
  const doc = { format: KGC_REQUEST_FORMAT, version: 1, desk: hex(r.deskPublicKey), certificate: hex(r.certificate), identity: r.identity, time: r.time, nonce: hex(r.nonce) };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** Signs a request with the desk's key, a fresh nonce and the time `now`. Security: the desk-signing private key. */
export function signKgcRequest(desk: KeyFile<'desk-signing'>, request: KeyExtractionRequest, now = new Date()): SignedKgcRequest {
  const unsigned = { certificate: request.certificate, identity: request.identity, deskPublicKey: desk.public.publicKey, time: now.toISOString(), nonce: randomBytes(NONCE_BYTES) };
  return { ...unsigned, signature: sm2Sign(desk.secret.privateKey, signedText(unsigned)) };
}

/** Whether the signature verifies under the desk key the request names (membership is checked apart). */
export function kgcRequestSignatureVerifies(r: SignedKgcRequest): boolean {
  try {
    return sm2Verify(r.deskPublicKey, signedText(r), r.signature);
  } catch {
    return false;
  }
}

/** The JSON body of a request. */
export function kgcRequestToJson(r: SignedKgcRequest): string {
  return JSON.stringify({
    format: KGC_REQUEST_FORMAT,
    version: 1,
    desk: hex(r.deskPublicKey),
    certificate: hex(r.certificate),
    identity: r.identity,
    time: r.time,
    nonce: hex(r.nonce),
    signature: hex(r.signature),
  });
}

/** A request body that does not parse; `message` names the member at fault. */
export class KgcRequestFormatError extends Error {
  override readonly name = 'KgcRequestFormatError';
}

const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/**
 * The members of a request body of `format` version 1, none but `members`, with a reader of hex
 * members and the checked identity and time; throws KgcRequestFormatError naming the member.
 */
function requestBody(text: string, format: string, members: readonly string[]): { bytes: (name: string, length?: number) => Uint8Array; identity: string; time: string } {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KgcRequestFormatError('the body is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new KgcRequestFormatError('the body is not a JSON object');
  if (doc.format !== format || doc.version !== 1) throw new KgcRequestFormatError(`format must be "${format}" version 1`);
  const known = new Set(['format', 'version', ...members]);
  const extra = Object.keys(doc).find((k) => !known.has(k));
  if (extra) throw new KgcRequestFormatError(`${extra}: is not a member of a request`);
  const bytes = (name: string, length?: number): Uint8Array => {
    const v = doc[name];
    if (typeof v !== 'string' || !HEX.test(v) || v.length === 0) throw new KgcRequestFormatError(`${name}: must be hex`);
    if (length !== undefined && v.length !== 2 * length) throw new KgcRequestFormatError(`${name}: must be ${length} bytes`);
    return fromHex(v);
  };
  if (typeof doc.identity !== 'string') throw new KgcRequestFormatError('identity: must be a string');
  if (typeof doc.time !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(doc.time) || Number.isNaN(Date.parse(doc.time))) throw new KgcRequestFormatError('time: must be an ISO 8601 time');
  return { bytes, identity: doc.identity, time: doc.time };
}

/** Parses a request body, checking every member's presence, type and length; throws KgcRequestFormatError. */
export function parseKgcRequest(text: string): SignedKgcRequest {
  const { bytes, identity, time } = requestBody(text, KGC_REQUEST_FORMAT, ['desk', 'certificate', 'identity', 'time', 'nonce', 'signature']);
  const certificate = bytes('certificate');
  if (certificate.length > 1024) throw new KgcRequestFormatError('certificate: longer than any card certificate');
  return { deskPublicKey: bytes('desk', 65), certificate, identity, time, nonce: bytes('nonce', NONCE_BYTES), signature: bytes('signature', 64) };
}

/** The KGC's answer: the card it answered for and the keys encrypted to that card. */
export interface KgcAnswer extends EncryptedUserKeys {
  cardId: string;
  identity: string;
  kgcKeyVersion: number;
}

export function kgcAnswerToJson(a: KgcAnswer): string {
  return JSON.stringify({ format: KGC_ANSWER_FORMAT, version: 1, cardId: a.cardId, identity: a.identity, kgcKeyVersion: a.kgcKeyVersion, signKey: hex(a.signKey), encryptKey: hex(a.encryptKey) });
}

/** Parses an answer; throws KgcRequestFormatError naming the member. */
export function parseKgcAnswer(text: string): KgcAnswer {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KgcRequestFormatError('the answer is not JSON');
  }
  if (doc?.format !== KGC_ANSWER_FORMAT || doc.version !== 1) throw new KgcRequestFormatError(`the answer's format must be "${KGC_ANSWER_FORMAT}" version 1`);
  const keys = encryptedKeysOf(doc);
  if (typeof doc.cardId !== 'string' || typeof doc.identity !== 'string' || typeof doc.kgcKeyVersion !== 'number') throw new KgcRequestFormatError('cardId, identity and kgcKeyVersion are needed');
  return { cardId: doc.cardId, identity: doc.identity, kgcKeyVersion: doc.kgcKeyVersion, ...keys };
}

/** The signKey and encryptKey members of an answer, as bytes. */
function encryptedKeysOf(doc: Record<string, unknown>): EncryptedUserKeys {
  for (const name of ['signKey', 'encryptKey']) {
    if (typeof doc[name] !== 'string' || !HEX.test(doc[name] as string) || (doc[name] as string).length === 0) throw new KgcRequestFormatError(`${name}: must be hex`);
  }
  return { signKey: fromHex(doc.signKey as string), encryptKey: fromHex(doc.encryptKey as string) };
}

/** The error body: { "error": { "code": "unknown-desk", "message": "…" } }. */
export function kgcErrorToJson(code: KgcRefusalCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * A terminal's request for the SM9 keys of its own identity (a payee without a card: a POS terminal
 * signs its change packets with them), signed by the terminal's own SM2 key, which the KGC lists bound
 * to that identity; the answer comes SM2-encrypted to the same key, so only the terminal reads it.
 */
export interface SignedTerminalKeyRequest {
  /** the terminal's SM2 public key (65 bytes), looked up in the KGC's list with its identity */
  terminalPublicKey: Uint8Array;
  identity: string;
  /** ISO 8601 time of signing */
  time: string;
  /** 16 random bytes against replay */
  nonce: Uint8Array;
  /** SM2 signature r||s (GB/T 32918.2, default user ID) over {@link terminalSignedText} */
  signature: Uint8Array;
}

/**
 * The signed text of a terminal request, built as {@link signedText} is; its own format name keeps a
 * desk's signature from ever passing as a terminal's, and the reverse.
 */
export function terminalSignedText(r: Omit<SignedTerminalKeyRequest, 'signature'>): Uint8Array {
  const doc = { format: KGC_TERMINAL_REQUEST_FORMAT, version: 1, terminal: hex(r.terminalPublicKey), identity: r.identity, time: r.time, nonce: hex(r.nonce) };
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** Signs a terminal's request for the keys of `identity` with its own key pair. Security: the terminal's SM2 private key. */
export function signTerminalKeyRequest(terminal: { privateKey: Uint8Array; publicKey: Uint8Array }, identity: string, now = new Date()): SignedTerminalKeyRequest {
  const unsigned = { terminalPublicKey: terminal.publicKey, identity, time: now.toISOString(), nonce: randomBytes(NONCE_BYTES) };
  return { ...unsigned, signature: sm2Sign(terminal.privateKey, terminalSignedText(unsigned)) };
}

/** Whether the signature verifies under the terminal key the request names (membership is checked apart). */
export function terminalRequestSignatureVerifies(r: SignedTerminalKeyRequest): boolean {
  try {
    return sm2Verify(r.terminalPublicKey, terminalSignedText(r), r.signature);
  } catch {
    return false;
  }
}

/** The JSON body of a terminal request. */
export function terminalKeyRequestToJson(r: SignedTerminalKeyRequest): string {
  return JSON.stringify({ format: KGC_TERMINAL_REQUEST_FORMAT, version: 1, terminal: hex(r.terminalPublicKey), identity: r.identity, time: r.time, nonce: hex(r.nonce), signature: hex(r.signature) });
}

/** Parses a terminal request body; throws KgcRequestFormatError naming the member. */
export function parseTerminalKeyRequest(text: string): SignedTerminalKeyRequest {
  const { bytes, identity, time } = requestBody(text, KGC_TERMINAL_REQUEST_FORMAT, ['terminal', 'identity', 'time', 'nonce', 'signature']);
  return { terminalPublicKey: bytes('terminal', 65), identity, time, nonce: bytes('nonce', NONCE_BYTES), signature: bytes('signature', 64) };
}

/** The KGC's answer to a terminal: its identity's keys, encrypted to the terminal's key. */
export interface KgcTerminalAnswer extends EncryptedUserKeys {
  identity: string;
  kgcKeyVersion: number;
}

export function kgcTerminalAnswerToJson(a: KgcTerminalAnswer): string {
  return JSON.stringify({ format: KGC_TERMINAL_ANSWER_FORMAT, version: 1, identity: a.identity, kgcKeyVersion: a.kgcKeyVersion, signKey: hex(a.signKey), encryptKey: hex(a.encryptKey) });
}

/** Parses a terminal answer; throws KgcRequestFormatError naming the member. */
export function parseKgcTerminalAnswer(text: string): KgcTerminalAnswer {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KgcRequestFormatError('the answer is not JSON');
  }
  if (doc?.format !== KGC_TERMINAL_ANSWER_FORMAT || doc.version !== 1) throw new KgcRequestFormatError(`the answer's format must be "${KGC_TERMINAL_ANSWER_FORMAT}" version 1`);
  const keys = encryptedKeysOf(doc);
  if (typeof doc.identity !== 'string' || typeof doc.kgcKeyVersion !== 'number') throw new KgcRequestFormatError('identity and kgcKeyVersion are needed');
  return { identity: doc.identity, kgcKeyVersion: doc.kgcKeyVersion, ...keys };
}
