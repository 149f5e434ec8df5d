/**
 * @module The payee side's client of the payee bank's online service (bank/online-bank-service.ts):
 * submit a transfer, fetch confirmations. A bank that cannot be reached, or answers no JSON, is an
 * OnlineBankUnreachableError; a refusal is an answer, returned like a confirmation.
 */
import { OperationalError } from '../base/operational-error.js';
import { hex } from '../base/hex.js';
import { fetchJson, postJson } from '../io/local-service.js';
import { CONFIRMATIONS_PATH, ONLINE_TRANSFER_PATH, type OnlineTransferJson } from './online-bank-service.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { centralConfirmationVerifies, type Confirmation } from './online-confirmation.js';
import type { OnlinePaymentOutcome, OnlineTransferRequest } from './payee-bank.js';

/** The bank did not answer, or answered something that is no answer of the service. */
export class OnlineBankUnreachableError extends OperationalError {
  override readonly name = 'OnlineBankUnreachableError';
}

/** What the bank answered: the confirmations (owner changed or refused), or an error that confirms nothing (a bad request). */
export type OnlineSubmitAnswer = OnlinePaymentOutcome | { outcome: 'error'; code: string; message: string };

const call = (url: string, init?: RequestInit) => fetchJson(url, init, (m) => new OnlineBankUnreachableError(`the bank at ${m}`));

/** Submits an online transfer to the bank at `bankUrl` (http://127.0.0.1:PORT). */
export async function submitOnlineTransfer(bankUrl: string, req: OnlineTransferRequest): Promise<OnlineSubmitAnswer> {
  const body: OnlineTransferJson = {
    packet: hex(req.packet),
    settlementBody: hex(req.settlementBody),
    ...(req.withdrawal ? { withdrawal: { code: req.withdrawal.code, salt: hex(req.withdrawal.salt) } } : {}),
    payee: req.payee,
  };
  const { json } = await call(new URL(ONLINE_TRANSFER_PATH, bankUrl).href, postJson(body));
  const c = json.confirmations as { central?: Confirmation; toPayer?: Confirmation; toPayee?: Confirmation } | undefined;
  if ((json.outcome === 'owner-changed' || json.outcome === 'refused') && c?.toPayer && c.toPayee) {
    return { outcome: json.outcome, ...(c.central ? { central: c.central } : {}), toPayer: c.toPayer, toPayee: c.toPayee };
  }
  const error = json.error as { code?: unknown; message?: unknown } | undefined;
  if (typeof error?.code === 'string' && typeof error.message === 'string') return { outcome: 'error', code: error.code, message: error.message };
  throw new OnlineBankUnreachableError(`the bank at ${bankUrl} answered neither confirmations nor an error`);
}

/** The confirmations the bank holds for a packet (hex SM3), optionally only those to 'payer:<card ID>' or 'payee:<identity>'; [] when none. */
export async function fetchConfirmations(bankUrl: string, packetHash: string, to?: string): Promise<Confirmation[]> {
  const url = new URL(CONFIRMATIONS_PATH + packetHash, bankUrl);
  if (to) url.searchParams.set('to', to);
  const { status, json } = await call(url.href);
  if (status === 404) return [];
  if (!Array.isArray(json.confirmations)) throw new OnlineBankUnreachableError(`the bank at ${bankUrl} answered HTTP ${status} without confirmations`);
  return json.confirmations as Confirmation[];
}

/**
 * Why an 'owner-changed' answer does not let the payee import, or undefined when it does: the central
 * bank's confirmation must be there, verify under the trust anchors, be for this packet and name
 * `newOwner`, and the bank's confirmation to the payee must relay it. Security: the payee side imports
 * on the central bank's signature, not on its own bank's word.
 */
export function whyNotConfirmed(answer: OnlinePaymentOutcome, packetHash: string, newOwner: string, anchors: Pick<TrustAnchors, 'coinKeys'>): string | undefined {
  const c = answer.central;
  if (!c) return "the answer carries no central-bank confirmation";
  if (!centralConfirmationVerifies(c, anchors)) return `the central bank's confirmation ${c.id} does not verify under the trust anchors`;
  if (c.packetHash !== packetHash.toUpperCase() || c.outcome !== 'owner-changed') return `the central bank's confirmation ${c.id} is not the owner change of packet ${packetHash}`;
  if (c.newOwner !== newOwner) return `the central bank's confirmation names ${c.newOwner} as the owner, not ${newOwner}`;
  if (answer.toPayee.relays !== c.id) return "the bank's confirmation to the payee does not relay the central bank's";
  return undefined;
}
