/**
 * @module `drmb kgc authorize`: adds an issuance desk's public key, or a terminal's public key bound to
 * its one SM9 identity, to the KGC's list of authorised requesters (authorized-desks.json of its bundle).
 */
import { existsSync, statSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { equalBytes } from '../../base/bytes.js';
import { fromHex, hex } from '../../base/hex.js';
import { sm2IsValidPublicKey } from '../../crypto/sm2.js';
import { AUTHORIZED_DESKS_FILE, readAuthorizedDesks, writeAuthorizedDesks } from '../../keys/authorized-desks.js';
import { publicKeyCheckValue } from '../../keys/key-files.js';
import { OWN_SIGNING_KEYS, readBundleManifest, RoleKeys } from '../../keys/role-bundles.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface KgcAuthorizeOptions {
  keys?: string;
  /** an issuance desk's key (or bundle); exclusive with terminalKey */
  deskKey?: string;
  /** a terminal's own SM2 public key, 130 hex digits; needs identity */
  terminalKey?: string;
  /** the terminal's SM9 identity, the only one whose keys it may obtain */
  identity?: string;
  name: string;
  json?: boolean;
}

/**
 * The public key of a key option (`--desk-key`, `--bank-key`, `--terminal-key`): 130 hex digits, or,
 * given `role`, a bundle directory of that role, whose bundle.json shows its own signing key's public part.
 */
export function publicKeyOption(text: string, option: string, role?: keyof typeof OWN_SIGNING_KEYS): Uint8Array {
  if (role && existsSync(text) && statSync(text).isDirectory()) {
    const m = readBundleManifest(text);
    const key = m?.role === role ? m[OWN_SIGNING_KEYS[role].member] : undefined;
    if (!key) throw new UsageError(`${option}: ${text} is not ${role === 'issuance-desk' ? 'an' : 'a'} ${role} bundle`);
    return key;
  }
  if (!/^[0-9A-Fa-f]{130}$/.test(text)) throw new UsageError(`${option} must be an SM2 public key (130 hex digits, 04||x||y)${role ? ` or ${role === 'issuance-desk' ? 'an' : 'a'} ${role} bundle directory` : ''}`);
  const key = fromHex(text);
  if (!sm2IsValidPublicKey(key)) throw new UsageError(`${option} is not a valid SM2 public key`);
  return key;
}

/**
 * Adds the desk, or the terminal with its identity; refuses a key already listed. The running
 * service reads the list at each request.
 */
export function runAuthorize(o: KgcAuthorizeOptions, now = new Date()): { path: string; name: string; kcv: string; desks: number; identity?: string } {
  if (!o.name || o.name.length > 200 || /[\u0000-\u001f]/.test(o.name)) throw new UsageError('--name must be 1 to 200 characters without control characters');
  if ((o.deskKey === undefined) === (o.terminalKey === undefined)) throw new UsageError('give either --desk-key (an issuance desk) or --terminal-key with --identity (a terminal)');
  if (o.deskKey !== undefined && o.identity !== undefined) throw new UsageError('--identity binds a terminal (--terminal-key); a desk asks for the identities of the cards it issues');
  if (o.terminalKey !== undefined && (!o.identity || new TextEncoder().encode(o.identity).length > 64)) throw new UsageError('--terminal-key needs --identity, 1 to 64 bytes of UTF-8: the one identity whose keys the terminal may obtain');
  const publicKey = o.deskKey !== undefined ? publicKeyOption(o.deskKey, '--desk-key', 'issuance-desk') : publicKeyOption(o.terminalKey!, '--terminal-key');
  const path = RoleKeys.open(keyDirOf(o), 'drmb kgc authorize').file(AUTHORIZED_DESKS_FILE);
  const desks = existsSync(path) ? readAuthorizedDesks(path) : [];
  const kcv = hex(publicKeyCheckValue(publicKey));
  const same = desks.find((d) => equalBytes(d.publicKey, publicKey));
  if (same) throw new UsageError(`--desk-key: key ${kcv} is already authorised, as "${same.name}"`);
  desks.push({ name: o.name, publicKey, added: now.toISOString(), ...(o.identity !== undefined ? { identity: o.identity } : {}) });
  writeAuthorizedDesks(path, desks, { overwrite: true });
  return { path, name: o.name, kcv, desks: desks.length, ...(o.identity !== undefined ? { identity: o.identity } : {}) };
}

export function registerKgcAuthorize(kgc: Cli): void {
  const cmd = kgc
    .command('authorize')
    .description("authorise an issuance desk (its desk-signing public key), or a terminal (its own SM2 public key, for its own identity's SM9 keys), in the KGC's list")
    .option('--desk-key <hex|dir>', "the desk's SM2 public key (130 hex digits), or its issuance-desk bundle directory")
    .option('--terminal-key <hex>', "a terminal's own SM2 public key (130 hex digits): it may obtain the keys of --identity only, encrypted to this key")
    .option('--identity <id>', "with --terminal-key: the terminal's SM9 identity (e.g. pos-0001@merchant.example)")
    .requiredOption('--name <name>', 'who the desk or terminal is, for the audit log (e.g. "ICBC Beijing desk 3")');
  withJson(withKeys(cmd, 'a kgc bundle')).action((o: KgcAuthorizeOptions) => {
    emit(runAuthorize(o), !!o.json, (r) => `authorised "${r.name}" (key KCV ${r.kcv}${r.identity !== undefined ? `, terminal of identity ${r.identity}` : ''}) in ${r.path}; ${r.desks} requester(s) listed`);
  });
}
