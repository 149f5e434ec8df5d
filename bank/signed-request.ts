/**
 * @module A commercial bank's signed requests to the central bank's registry service: the bank signs,
 * with its bank-signing key, the method, the path and query, the time, a fresh nonce and the SM3 of the
 * body, under a signer ID of their own (BANK_REQUEST_SIGNER_ID), and sends them in four headers. The
 * registry takes a request only from a key on its list of authorised banks (authorized-banks.json),
 * within REQUEST_MAX_SKEW_MS of its clock, and never the same nonce twice.
 */
import { equalBytes, randomBytes } from '../base/bytes.js';
import { fromHex, hex } from '../base/hex.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { type AuthorizedDesk, isBankEntry } from '../keys/authorized-desks.js';
import { publicKeyCheckValue } from '../keys/key-files.js';

/** The SM2 signer ID of a bank's request (GB/T 32918.2 Z_A), so that no other signature of the key passes for one. */
export const BANK_REQUEST_SIGNER_ID = 'DRMB-BANK-REQUEST';
/** The headers of a signed request (lowercase, as node's http gives them). */
export const SIGNED_REQUEST_HEADERS = { key: 'x-drmb-bank-key', time: 'x-drmb-time', nonce: 'x-drmb-nonce', signature: 'x-drmb-signature' } as const;
/** How far the request's time may be from the registry's clock. */
export const REQUEST_MAX_SKEW_MS = 5 * 60_000;
const NONCE_BYTES = 16;

/** The signing key of a bank: its bank-signing key pair. */
export interface BankSigner {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** The signed bytes: each member on its own line, the body only as its SM3 hash. */
function signedBytes(method: string, pathAndQuery: string, time: string, nonce: string, body: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`${BANK_REQUEST_SIGNER_ID}\n${method}\n${pathAndQuery}\n${time}\n${nonce}\n${hex(sm3(body))}`);
}

/** The headers that sign a request. Security: the bank-signing private key. */
export function signBankRequest(signer: BankSigner, method: string, pathAndQuery: string, body: string, now = new Date()): Record<string, string> {
  const time = now.toISOString();
  const nonce = hex(randomBytes(NONCE_BYTES));
  const signature = sm2Sign(signer.privateKey, signedBytes(method, pathAndQuery, time, nonce, new TextEncoder().encode(body)), { id: BANK_REQUEST_SIGNER_ID });
  return { [SIGNED_REQUEST_HEADERS.key]: hex(signer.publicKey), [SIGNED_REQUEST_HEADERS.time]: time, [SIGNED_REQUEST_HEADERS.nonce]: nonce, [SIGNED_REQUEST_HEADERS.signature]: hex(signature) };
}

/** Why a request is not taken: unsigned, signed by a key not listed, stale, replayed, or a bad signature. */
export class BankRequestRefusal extends Error {
  constructor(
    readonly code: 'unsigned' | 'unknown-bank' | 'stale-request' | 'replay' | 'bad-signature',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The registry's check of signed requests against its list, with the nonces it has seen (kept for
 * twice the allowed skew, so a replay is refused as long as its time would pass).
 */
export class BankRequestVerifier {
  readonly #seen = new Map<string, number>();

  constructor(
    /** the list, read at each request so that `drmb registry authorize` takes effect at once */
    readonly listed: () => readonly AuthorizedDesk[],
    readonly now: () => Date = () => new Date(),
  ) {}

  /** The authorised bank that signed the request, or BankRequestRefusal. */
  verify(headers: Record<string, string | string[] | undefined>, method: string, pathAndQuery: string, body: string): AuthorizedDesk & { bankCode: string } {
    const h = (name: string) => {
      const v = headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const [key, time, nonce, signature] = [h(SIGNED_REQUEST_HEADERS.key), h(SIGNED_REQUEST_HEADERS.time), h(SIGNED_REQUEST_HEADERS.nonce), h(SIGNED_REQUEST_HEADERS.signature)];
    if (!key || !time || !nonce || !signature) throw new BankRequestRefusal('unsigned', `a bank's request carries ${Object.values(SIGNED_REQUEST_HEADERS).join(', ')}`);
    if (!/^[0-9A-F]{130}$/i.test(key) || !/^[0-9A-F]{32}$/i.test(nonce) || !/^[0-9A-F]{128}$/i.test(signature)) throw new BankRequestRefusal('unsigned', 'the signature headers are malformed');
    const publicKey = fromHex(key);
    const bank = this.listed().find((d) => isBankEntry(d) && equalBytes(d.publicKey, publicKey));
    if (!bank || !isBankEntry(bank)) throw new BankRequestRefusal('unknown-bank', `bank key ${hex(publicKeyCheckValue(publicKey))} is not among the registry's authorised banks`);
    let ok = false;
    try {
      ok = sm2Verify(publicKey, signedBytes(method, pathAndQuery, time, nonce.toUpperCase(), new TextEncoder().encode(body)), fromHex(signature), { id: BANK_REQUEST_SIGNER_ID });
    } catch {
      ok = false;
    }
    if (!ok) throw new BankRequestRefusal('bad-signature', `the signature does not verify under the key of "${bank.name}"`);
    const t = Date.parse(time);
    const nowMs = this.now().getTime();
    if (Number.isNaN(t) || Math.abs(nowMs - t) > REQUEST_MAX_SKEW_MS) throw new BankRequestRefusal('stale-request', `the request time ${time} is more than ${REQUEST_MAX_SKEW_MS / 1000} s from the registry's clock`);
    for (const [n, at] of this.#seen) if (at < nowMs - 2 * REQUEST_MAX_SKEW_MS) this.#seen.delete(n);
    const id = nonce.toUpperCase();
    if (this.#seen.has(id)) throw new BankRequestRefusal('replay', 'this request (its nonce) has been taken already');
    this.#seen.set(id, t);
    return bank;
  }
}
