/**
 * @module `drmb registry authorize`: adds a commercial bank's public key (its bank-signing key), bound
 * to its bank code, to the registry's list of authorised banks (authorized-banks.json of its bundle).
 * The running service reads the list at each request.
 */
import { existsSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { equalBytes } from '../../base/bytes.js';
import { hex } from '../../base/hex.js';
import { AUTHORIZED_BANKS_FILE, isBankEntry, readAuthorizedDesks, writeAuthorizedDesks } from '../../keys/authorized-desks.js';
import { publicKeyCheckValue } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { publicKeyOption } from '../kgc/authorize.js';
import { bankCodeOf, keyDirOf, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface RegistryAuthorizeOptions {
  keys?: string;
  /** the bank's bank-signing public key, 130 hex digits, or its bank-vault bundle */
  bankKey: string;
  bankCode: string;
  name: string;
  json?: boolean;
}

/** Adds the bank; refuses a key already listed, and a bank code already listed under another key. */
export function runRegistryAuthorize(o: RegistryAuthorizeOptions, now = new Date()): { path: string; name: string; bankCode: string; kcv: string; banks: number } {
  if (!o.name || o.name.length > 200 || /[\u0000-\u001f]/.test(o.name)) throw new UsageError('--name must be 1 to 200 characters without control characters');
  const bankCode = bankCodeOf(o.bankCode);
  const publicKey = publicKeyOption(o.bankKey, '--bank-key', 'bank-vault');
  const path = RoleKeys.open(keyDirOf(o), 'drmb registry authorize').file(AUTHORIZED_BANKS_FILE);
  const banks = existsSync(path) ? readAuthorizedDesks(path) : [];
  const kcv = hex(publicKeyCheckValue(publicKey));
  const same = banks.find((d) => equalBytes(d.publicKey, publicKey));
  if (same) throw new UsageError(`--bank-key: key ${kcv} is already authorised, as "${same.name}"`);
  // One key per bank code: a second key for a code would let either move the vault's coins.
  const code = banks.find((d) => isBankEntry(d) && d.bankCode === bankCode);
  if (code) throw new UsageError(`--bank-code ${bankCode} is already authorised, as "${code.name}" with key ${hex(publicKeyCheckValue(code.publicKey))}`);
  banks.push({ name: o.name, publicKey, added: now.toISOString(), bankCode });
  writeAuthorizedDesks(path, banks, { overwrite: true });
  return { path, name: o.name, bankCode, kcv, banks: banks.length };
}

export function registerRegistryAuthorize(group: Cli): void {
  const cmd = group
    .command('authorize')
    .description("authorise a commercial bank (its bank-signing public key, bound to its bank code) in the registry's list: the registry service then takes its signed requests")
    .requiredOption('--bank-key <hex|dir>', "the bank's SM2 public key (130 hex digits), or its bank-vault bundle directory")
    .requiredOption('--bank-code <code>', "the bank's 12-digit code: its requests move its own vault's coins only")
    .requiredOption('--name <name>', 'who the bank is, for the log (e.g. "ICBC head office")');
  withJson(withKeys(cmd, 'a registry bundle')).action((o: RegistryAuthorizeOptions) => {
    emit(runRegistryAuthorize(o), !!o.json, (r) => `authorised "${r.name}" as bank ${r.bankCode} (key KCV ${r.kcv}) in ${r.path}; ${r.banks} bank(s) listed`);
  });
}
