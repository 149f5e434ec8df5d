/**
 * @module The seed's confirmations of an online payment as messages: the central bank's to the payee's
 * bank (SM2-signed), and the payee's bank's to the payer and to the payee; each with an id, sender,
 * recipient, packet hash, outcome and time, kept in the sender's own table and fetched by packet hash.
 */
import { fromHex, hex } from '../base/hex.js';
import { sm2Sign, sm2Verify } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import type { Queryable } from './db.js';

/** What the payment came to: the owner changed (the payee may import), or it was refused (it must not). */
export type ConfirmationOutcome = 'owner-changed' | 'refused';

/** The signed (or, for the commercial bank, recorded) content of a confirmation. */
export interface ConfirmationBody {
  /** 'central-bank' or 'bank:<12-digit code>' */
  from: string;
  /** 'bank:<code>' (to the payee's bank), 'payer:<card ID>' or 'payee:<SM9 identity>' */
  to: string;
  /** hex SM3 of the export packet, upper case: how every side finds the message */
  packetHash: string;
  outcome: ConfirmationOutcome;
  /** refused: the refusal's code (the registry's reason, or the payee bank's own check) */
  reason?: string;
  /** one line for a person */
  detail: string;
  /** owner-changed: the coins' new owner in the registry, and the amount */
  newOwner?: string;
  amountFen?: number;
  /** hex SM3 of the withdrawal code the central bank recorded, when the transfer carried one */
  withdrawalCodeHash?: string;
  /** the central bank's confirmation this one relays (commercial bank messages) */
  relays?: string;
  /** ISO 8601 */
  time: string;
}

/**
 * A confirmation of an online payment: its body, its id (SM3 of the canonical body) and, from the
 * central bank, its SM2 signature.
 */
export interface Confirmation extends ConfirmationBody {
  /** hex SM3 of the body's canonical JSON: the same body always has the same id */
  id: string;
  /** SM2 r||s hex of the central bank over the canonical JSON (CONFIRMATION_SIGNER_ID), with its coin-key index */
  signature?: { keyIndex: number; value: string };
}

/**
 * The SM2 signer ID (GB/T 32918.2 5.5, Z_A) of a confirmation. The central bank signs confirmations
 * with its coin-signing key under this ID, not the default one the coins use, so a confirmation's
 * signature can never stand for a coin's, nor a coin's for a confirmation (Z_A differs).
 */
export const CONFIRMATION_SIGNER_ID = 'DRMB-ONLINE-CONFIRMATION';

const FIELDS: readonly (keyof ConfirmationBody)[] = ['from', 'to', 'packetHash', 'outcome', 'reason', 'detail', 'newOwner', 'amountFen', 'withdrawalCodeHash', 'relays', 'time'];
const utf8 = new TextEncoder();

/** The canonical JSON of a body: fixed key order, absent fields left out. */
function canonical(b: ConfirmationBody): Uint8Array {
  const o: Record<string, unknown> = {};
  for (const k of FIELDS) if (b[k] !== undefined) o[k] = b[k];
  return utf8.encode(JSON.stringify(o));
}

/** Only the body's own fields, whatever else the object carries. */
function bodyOf(c: ConfirmationBody): ConfirmationBody {
  const o: Record<string, unknown> = {};
  for (const k of FIELDS) if (c[k] !== undefined) o[k] = c[k];
  return o as unknown as ConfirmationBody;
}

/** A confirmation with its id; signed with `key` (the central bank's coin-signing key) when given. */
export function makeConfirmation(body: ConfirmationBody, key?: { privateKey: Uint8Array; keyIndex: number }): Confirmation {
  const b = bodyOf(body);
  const bytes = canonical(b);
  const id = hex(sm3(bytes));
  if (!key) return { ...b, id };
  return { ...b, id, signature: { keyIndex: key.keyIndex, value: hex(sm2Sign(key.privateKey, bytes, { id: CONFIRMATION_SIGNER_ID })) } };
}

/** Whether a confirmation's id matches its body and it carries a central-bank signature that verifies under the trust anchors. */
export function centralConfirmationVerifies(c: Confirmation, anchors: Pick<TrustAnchors, 'coinKeys'>): boolean {
  const bytes = canonical(bodyOf(c));
  if (hex(sm3(bytes)) !== c.id || !c.signature || c.from !== 'central-bank') return false;
  const key = anchors.coinKeys.find((k) => k.keyIndex === c.signature!.keyIndex);
  if (!key || !/^[0-9A-F]{128}$/i.test(c.signature.value)) return false;
  return sm2Verify(key.publicKey, bytes, fromHex(c.signature.value), { id: CONFIRMATION_SIGNER_ID });
}

/**
 * The table of one party's confirmations (PostgreSQL dialect, same on PGlite): the central bank keeps
 * it beside the registry, the payee's bank in its own database. Idempotent.
 */
export const CONFIRMATIONS_SQL = `
CREATE TABLE IF NOT EXISTS confirmations (
  id text PRIMARY KEY,
  packet_hash text NOT NULL,
  from_party text NOT NULL,
  to_party text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('owner-changed', 'refused')),
  message text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS confirmations_packet ON confirmations (packet_hash);
`;

/** Records a confirmation (the same one twice is one row). */
export async function recordConfirmation(q: Queryable, c: Confirmation): Promise<void> {
  await q.query(`INSERT INTO confirmations (id, packet_hash, from_party, to_party, outcome, message) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`, [
    c.id,
    c.packetHash,
    c.from,
    c.to,
    c.outcome,
    JSON.stringify(c),
  ]);
}

/** The confirmations of a packet, oldest first, optionally only those to one recipient. */
export async function confirmationsOf(q: Queryable, packetHash: string, to?: string): Promise<Confirmation[]> {
  const r = await q.query<{ message: string }>(
    `SELECT message FROM confirmations WHERE packet_hash = $1 AND ($2::text IS NULL OR to_party = $2) ORDER BY at, id`,
    [packetHash.toUpperCase(), to ?? null],
  );
  return r.rows.map((row) => JSON.parse(row.message) as Confirmation);
}
