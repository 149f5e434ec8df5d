/**
 * @module The payee's bank as a service (`drmb bank serve`): online transfers and their confirmations
 * over HTTP on 127.0.0.1 with node's http, JSON with bytes as hex. Every error is a JSON answer with a
 * code, never a stack trace.
 */
import { readRequestBody } from '../io/read-request-body.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal, LOCAL_HOST, type LocalService, sendJson } from '../io/local-service.js';
import { FormatError } from '../base/format-error.js';
import { fromHex } from '../base/hex.js';
import { OnlineRequestError, type OnlineTransferRequest, type PayeeBank } from './payee-bank.js';

/** Submit a transfer: POST, body OnlineTransferJson. */
export const ONLINE_TRANSFER_PATH = '/v1/online-transfers';
/** Fetch confirmations: GET /v1/confirmations/<packet hash hex>[?to=payer:<card ID>|payee:<identity>]. */
export const CONFIRMATIONS_PATH = '/v1/confirmations/';
/** The one address the service listens on. */
export const BANK_HOST = LOCAL_HOST;
/** Largest request: a 64-coin packet and its opened body, in hex, fit well inside. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The HTTP status of each error code the service answers. */
export const BANK_ERRORS = {
  'bad-request': 400,
  'not-found': 404,
  'method-not-allowed': 405,
  refused: 409,
  'too-large': 413,
  internal: 500,
} as const;
export type BankErrorCode = keyof typeof BANK_ERRORS;

/** The request body of ONLINE_TRANSFER_PATH. */
export interface OnlineTransferJson {
  packet: string;
  settlementBody: string;
  withdrawal?: { code: string; salt: string };
  payee: { identity: string; cardId?: string; account?: string };
}

class HttpError extends Error {
  constructor(
    readonly code: BankErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const isHex = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && /^([0-9A-F]{2})+$/i.test(x);
const optionalString = (x: unknown): boolean => x === undefined || (typeof x === 'string' && x.length > 0);

/** The request, strictly; HttpError 'bad-request' naming the first member that is wrong. */
export function parseOnlineTransfer(text: string): OnlineTransferRequest {
  let j: Partial<OnlineTransferJson>;
  try {
    j = JSON.parse(text) as Partial<OnlineTransferJson>;
  } catch {
    throw new HttpError('bad-request', 'the body is not JSON');
  }
  if (typeof j !== 'object' || j === null) throw new HttpError('bad-request', 'the body must be a JSON object');
  if (!isHex(j.packet)) throw new HttpError('bad-request', 'packet must be hex');
  if (!isHex(j.settlementBody)) throw new HttpError('bad-request', 'settlementBody must be hex (the coin list and payer signature the payee opened)');
  const p = j.payee;
  if (typeof p !== 'object' || p === null || typeof p.identity !== 'string' || !p.identity || !optionalString(p.cardId) || !optionalString(p.account)) {
    throw new HttpError('bad-request', 'payee must be { identity, cardId?, account? } with non-empty strings');
  }
  const w = j.withdrawal;
  if (w !== undefined && (typeof w !== 'object' || w === null || typeof w.code !== 'string' || !/^\d{16}$/.test(w.code) || !isHex(w.salt) || w.salt.length !== 32)) {
    throw new HttpError('bad-request', 'withdrawal must be { code: 16 digits, salt: 16 bytes hex }');
  }
  return {
    packet: fromHex(j.packet),
    settlementBody: fromHex(j.settlementBody),
    ...(w ? { withdrawal: { code: w.code, salt: fromHex(w.salt) } } : {}),
    payee: { identity: p.identity, ...(p.cardId !== undefined ? { cardId: p.cardId } : {}), ...(p.account !== undefined ? { account: p.account } : {}) },
  };
}


/** The payee bank's service on 127.0.0.1. */
export type OnlineBankService = LocalService;

/**
 * Starts the service for `bank` on `port` (0: a free one). POST ONLINE_TRANSFER_PATH answers 200 with
 * the confirmations when the owner changed, 409 'refused' with them when the bank or the central bank
 * refused; GET CONFIRMATIONS_PATH answers the confirmations of a packet, 404 when there are none.
 */
export async function startOnlineBankService(bank: PayeeBank, port: number, log: (line: string) => void = () => {}): Promise<OnlineBankService> {
  const send = sendJson;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', `http://${BANK_HOST}`);
      if (url.pathname === ONLINE_TRANSFER_PATH) {
        if (req.method !== 'POST') throw new HttpError('method-not-allowed', `use POST ${ONLINE_TRANSFER_PATH}`);
        const outcome = await bank.submit(parseOnlineTransfer(await readRequestBody(req, MAX_BODY_BYTES, () => new HttpError('too-large', `the request is larger than ${MAX_BODY_BYTES} bytes`))));
        const body = { outcome: outcome.outcome, confirmations: { ...(outcome.central ? { central: outcome.central } : {}), toPayer: outcome.toPayer, toPayee: outcome.toPayee } };
        if (outcome.outcome === 'owner-changed') send(res, 200, body);
        else send(res, BANK_ERRORS.refused, { error: { code: 'refused', reason: outcome.toPayee.reason, message: outcome.toPayee.detail }, ...body });
        return;
      }
      if (url.pathname.startsWith(CONFIRMATIONS_PATH)) {
        if (req.method !== 'GET') throw new HttpError('method-not-allowed', `use GET ${CONFIRMATIONS_PATH}<packet hash>`);
        const packetHash = url.pathname.slice(CONFIRMATIONS_PATH.length);
        if (!/^[0-9A-F]{64}$/i.test(packetHash)) throw new HttpError('bad-request', 'the packet hash must be 64 hex digits (SM3 of the packet)');
        const to = url.searchParams.get('to') ?? undefined;
        const found = await bank.confirmations(packetHash, to);
        if (found.length === 0) throw new HttpError('not-found', `no confirmation for packet ${packetHash.toUpperCase()}${to ? ` to ${to}` : ''}`);
        send(res, 200, { confirmations: found });
        return;
      }
      throw new HttpError('not-found', `the bank answers POST ${ONLINE_TRANSFER_PATH} and GET ${CONFIRMATIONS_PATH}<packet hash>`);
    } catch (e) {
      const err =
        e instanceof HttpError
          ? e
          : e instanceof OnlineRequestError || e instanceof FormatError
            ? new HttpError('bad-request', e.message)
            : new HttpError('internal', 'internal error of the bank');
      // Never a stack trace to the client; the log names the error class and message only.
      if (err.code === 'internal') log(`bank: internal error (${(e as Error)?.name}: ${(e as Error)?.message})`);
      log(`bank: ${BANK_ERRORS[err.code]} ${err.code}: ${err.message}`);
      const allow = (req.url ?? '').startsWith(ONLINE_TRANSFER_PATH) ? 'POST' : 'GET';
      send(res, BANK_ERRORS[err.code], { error: { code: err.code, message: err.message } }, err.code === 'method-not-allowed' ? { allow } : {});
    }
  };
  return listenLocal(port, handle);
}
