/**
 * @module The lists of authorised requesters, one format for both: the KGC's (authorized-desks.json in
 * a kgc bundle), the SM2 public keys whose signed key-extraction requests it answers, each an issuance
 * desk (the keys of the cards it issues) or a terminal bound to its one identity (its own keys); and the
 * central bank registry's (authorized-banks.json in a registry bundle), the commercial banks whose
 * signed requests it takes, each bound to its bank code. Public data, but its integrity decides who
 * gets SM9 user keys or moves a vault's coins, so it is written owner-only like a key file.
 */
import { hex } from '../base/hex.js';
import { sm2IsValidPublicKey } from '../crypto/sm2.js';
import { KeyFileError, publicKeyCheckValue, readKeyText, writeFileExclusive } from './key-files.js';

export const AUTHORIZED_DESKS_FORMAT = 'drmb-authorized-desks';
export const AUTHORIZED_DESKS_FILE = 'authorized-desks.json';
/** The registry's list of the commercial banks it takes signed requests from, in the same format. */
export const AUTHORIZED_BANKS_FILE = 'authorized-banks.json';
/** Mode of the list: owner-only, as adding a key to it grants the right to obtain SM9 user keys. */
export const AUTHORIZED_DESKS_MODE = 0o600;

/** Longest identity a terminal entry may name, in UTF-8 bytes: the KGC's limit for every identity (personalization/kgc.ts). */
const MAX_TERMINAL_IDENTITY_BYTES = 64;

/** One authorised requester: an issuance desk, a terminal when `identity` is present, a bank when `bankCode` is. */
export interface AuthorizedDesk {
  /** for people and the audit log: the bank and desk, e.g. "ICBC Beijing desk 3" */
  name: string;
  /** SM2 public key 04||x||y, 65 bytes: the desk's desk-signing key, or the terminal's own device key */
  publicKey: Uint8Array;
  /** ISO 8601 time it was added */
  added: string;
  /**
   * A terminal (a payee without a card, such as a POS terminal signing its change): the one SM9
   * identity whose keys it may obtain, encrypted to its own key. A terminal obtains no card's keys,
   * and a desk no terminal's: the KGC tells them apart by this member alone.
   */
  identity?: string;
  /**
   * A commercial bank (the registry's list): its 12-digit code. The bank's requests move the coins of
   * its own vault only, and forward online payments in its own name only.
   */
  bankCode?: string;
}

/** Whether the entry is a bank's (bound to its bank code). */
export function isBankEntry(d: AuthorizedDesk): d is AuthorizedDesk & { bankCode: string } {
  return d.bankCode !== undefined;
}

/** Whether the entry is a terminal's (bound to one identity) rather than a desk's. */
export function isTerminalEntry(d: AuthorizedDesk): d is AuthorizedDesk & { identity: string } {
  return d.identity !== undefined;
}

/** JSON text of the list (uppercase hex, each key with its KCV, first 3 bytes of SM3(public key)). */
export function authorizedDesksToJson(desks: readonly AuthorizedDesk[]): string {
  const doc = {
    format: AUTHORIZED_DESKS_FORMAT,
    version: 1,
    desks: desks.map((d) => ({ name: d.name, publicKey: hex(d.publicKey), kcv: hex(publicKeyCheckValue(d.publicKey)), added: d.added, ...(isTerminalEntry(d) ? { identity: d.identity } : {}), ...(isBankEntry(d) ? { bankCode: d.bankCode } : {}) })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Parses and checks the list: format, version, names, points on the curve, KCVs, no key twice. */
export function parseAuthorizedDesks(text: string, source: string): AuthorizedDesk[] {
  const fail = (field: string | undefined, detail: string): never => {
    throw new KeyFileError(source, field, detail);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(undefined, 'is not valid JSON');
  }
  const d = doc as { format?: unknown; version?: unknown; desks?: unknown };
  if (typeof doc !== 'object' || doc === null || d.format !== AUTHORIZED_DESKS_FORMAT) fail('format', `must be "${AUTHORIZED_DESKS_FORMAT}"`);
  if (d.version !== 1) fail('version', 'must be 1');
  if (!Array.isArray(d.desks)) return fail('desks', 'must be a list');
  const out = d.desks.map((entry: unknown, i: number): AuthorizedDesk => {
    const e = (entry ?? {}) as { name?: unknown; publicKey?: unknown; kcv?: unknown; added?: unknown; identity?: unknown; bankCode?: unknown };
    const at = `desks[${i}]`;
    if (typeof e.name !== 'string' || e.name.length < 1 || e.name.length > 200 || /[\u0000-\u001f]/.test(e.name)) fail(`${at}.name`, 'must be 1 to 200 characters without control characters');
    if (typeof e.publicKey !== 'string' || !/^[0-9a-fA-F]{130}$/.test(e.publicKey)) fail(`${at}.publicKey`, 'must be 130 hex digits (SM2 04||x||y)');
    const publicKey = Uint8Array.from((e.publicKey as string).match(/../g)!, (x) => parseInt(x, 16));
    if (!sm2IsValidPublicKey(publicKey)) fail(`${at}.publicKey`, 'is not a valid SM2 point');
    if (typeof e.kcv !== 'string' || e.kcv.toUpperCase() !== hex(publicKeyCheckValue(publicKey))) fail(`${at}.kcv`, 'does not match the public key: the file is corrupted or was altered');
    if (typeof e.added !== 'string' || Number.isNaN(Date.parse(e.added))) fail(`${at}.added`, 'must be an ISO 8601 time');
    if (e.bankCode !== undefined) {
      if (e.identity !== undefined) fail(`${at}`, 'is a bank (bankCode) or a terminal (identity), not both');
      if (typeof e.bankCode !== 'string' || !/^\d{12}$/.test(e.bankCode)) fail(`${at}.bankCode`, 'must be 12 digits');
      return { name: e.name as string, publicKey, added: e.added as string, bankCode: e.bankCode as string };
    }
    if (e.identity !== undefined) {
      const bytes = typeof e.identity === 'string' ? new TextEncoder().encode(e.identity).length : 0;
      if (bytes < 1 || bytes > MAX_TERMINAL_IDENTITY_BYTES) fail(`${at}.identity`, `must be 1 to ${MAX_TERMINAL_IDENTITY_BYTES} bytes of UTF-8`);
      return { name: e.name as string, publicKey, added: e.added as string, identity: e.identity as string };
    }
    return { name: e.name as string, publicKey, added: e.added as string };
  });
  if (new Set(out.map((x) => hex(x.publicKey))).size !== out.length) fail('desks', 'lists a key twice');
  return out;
}

/** Reads authorized-desks.json. */
export function readAuthorizedDesks(path: string): AuthorizedDesk[] {
  return parseAuthorizedDesks(readKeyText(path), path);
}

/** Writes authorized-desks.json (mode 0600); refuses to overwrite unless asked (then atomically). */
export function writeAuthorizedDesks(path: string, desks: readonly AuthorizedDesk[], opts: { overwrite?: boolean } = {}): void {
  writeFileExclusive(path, authorizedDesksToJson(desks), AUTHORIZED_DESKS_MODE, opts);
}
