/** @module `drmb kgc authorize`: adds an issuance desk's public key to the KGC's list of authorised desks (authorized-desks.json of its bundle). */
import { existsSync, statSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { equalBytes } from '../../base/bytes.js';
import { fromHex, hex } from '../../base/hex.js';
import { sm2IsValidPublicKey } from '../../crypto/sm2.js';
import { AUTHORIZED_DESKS_FILE, readAuthorizedDesks, writeAuthorizedDesks } from '../../keys/authorized-desks.js';
import { publicKeyCheckValue } from '../../keys/key-files.js';
import { readBundleManifest, RoleKeys } from '../../keys/role-bundles.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface KgcAuthorizeOptions {
  keys?: string;
  deskKey: string;
  name: string;
  json?: boolean;
}

/** The desk's public key of --desk-key: 130 hex digits, or an issuance-desk bundle directory (its bundle.json). */
export function deskPublicKeyOf(text: string): Uint8Array {
  if (existsSync(text) && statSync(text).isDirectory()) {
    const m = readBundleManifest(text);
    if (m?.role !== 'issuance-desk' || !m.deskPublicKey) throw new UsageError(`--desk-key: ${text} is not an issuance-desk bundle`);
    return m.deskPublicKey;
  }
  if (!/^[0-9A-Fa-f]{130}$/.test(text)) throw new UsageError('--desk-key must be an SM2 public key (130 hex digits, 04||x||y) or an issuance-desk bundle directory');
  const key = fromHex(text);
  if (!sm2IsValidPublicKey(key)) throw new UsageError('--desk-key is not a valid SM2 public key');
  return key;
}

/** Adds the desk; refuses a key already listed. The running service reads the list at each request. */
export function runAuthorize(o: KgcAuthorizeOptions, now = new Date()): { path: string; name: string; kcv: string; desks: number } {
  if (!o.name || o.name.length > 200 || /[\u0000-\u001f]/.test(o.name)) throw new UsageError('--name must be 1 to 200 characters without control characters');
  const publicKey = deskPublicKeyOf(o.deskKey);
  const path = RoleKeys.open(keyDirOf(o), 'drmb kgc authorize').file(AUTHORIZED_DESKS_FILE);
  const desks = existsSync(path) ? readAuthorizedDesks(path) : [];
  const kcv = hex(publicKeyCheckValue(publicKey));
  const same = desks.find((d) => equalBytes(d.publicKey, publicKey));
  if (same) throw new UsageError(`--desk-key: key ${kcv} is already authorised, as "${same.name}"`);
  desks.push({ name: o.name, publicKey, added: now.toISOString() });
  writeAuthorizedDesks(path, desks, { overwrite: true });
  return { path, name: o.name, kcv, desks: desks.length };
}

export function registerKgcAuthorize(kgc: Cli): void {
  const cmd = kgc
    .command('authorize')
    .description("authorise an issuance desk: add its desk-signing public key to the KGC's list")
    .requiredOption('--desk-key <hex|dir>', "the desk's SM2 public key (130 hex digits), or its issuance-desk bundle directory")
    .requiredOption('--name <name>', 'who the desk is, for the audit log (e.g. "ICBC Beijing desk 3")');
  withJson(withKeys(cmd, 'a kgc bundle')).action((o: KgcAuthorizeOptions) => {
    emit(runAuthorize(o), !!o.json, (r) => `authorised "${r.name}" (key KCV ${r.kcv}) in ${r.path}; ${r.desks} desk(s) listed`);
  });
}
