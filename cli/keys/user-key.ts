/**
 * @module `drmb keys user-key`: the KGC extracts one holder's SM9 private key for an identity into an
 * owner-only file: the encryption key (GM/T 0044 part 4 clause 6.3) for a payee who opens transfers on
 * its own terminal rather than a card (`drmb peer open`), or with --sign the signing key (GM/T 0044
 * part 2 clause 5) of a POS terminal that signs the change it pays (`drmb pos pay --terminal-key`).
 * Cards get their keys at issuance, encrypted to the card.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { fromHex, hex } from '../../base/hex.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey } from '../../crypto/sm9/sm9.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { keyDirOf, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';

const FORMAT = 'drmb-sm9-user-key';
/** An SM9 encryption private key is a point of G2 (0x04 || x || y, 129 bytes), a signing key a point of G1 (65 bytes). */
const KEY_LENGTH = { encrypt: 129, sign: 65 } as const;
/** The kinds of user key: for opening packets, or for signing them. */
export type UserKeyKind = keyof typeof KEY_LENGTH;

export interface UserKeyFile {
  format: typeof FORMAT;
  kind: UserKeyKind;
  identity: string;
  privateKey: string;
}

/** Writes the identity's encryption key (signing key with `sign`), refusing to overwrite an existing file. Security: the KGC's master key is used and wiped here. */
export function runUserKey(o: { identity: string; out: string; keys?: string; sign?: boolean }): { identity: string; path: string; kind: UserKeyKind } {
  if (!o.identity || new TextEncoder().encode(o.identity).length > 64) throw new UsageError('--identity must be 1 to 64 bytes of UTF-8');
  if (existsSync(o.out)) throw new UsageError(`--out: ${o.out} exists; a user key is never overwritten`);
  const dir = keyDirOf(o);
  const kind: UserKeyKind = o.sign ? 'sign' : 'encrypt';
  if (!dir) throw new UsageError(`--keys <dir> (or DRMB_KEY_DIR) is needed: the KGC ${kind === 'sign' ? 'signing' : 'encryption'} master key`);
  const master = RoleKeys.open(dir, 'drmb keys user-key').key(kind === 'sign' ? 'kgc-sign' : 'kgc-encrypt');
  const id = new TextEncoder().encode(o.identity);
  const key = kind === 'sign' ? sm9ExtractSignKey(master.secret.privateKey, id) : sm9ExtractEncryptKey(master.secret.privateKey, id);
  try {
    const file: UserKeyFile = { format: FORMAT, kind, identity: o.identity, privateKey: hex(key) };
    try {
      writeFileAtomic(o.out, `${JSON.stringify(file, null, 1)}\n`);
    } catch (e) {
      throw new UsageError(`--out: cannot write ${o.out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  } finally {
    key.fill(0);
    master.secret.privateKey.fill(0);
  }
  return { identity: o.identity, path: o.out, kind };
}

/** Reads a user key file of `kind` (an encryption key by default); UsageError naming the option otherwise. */
export function readUserKey(path: string, option: string, kind: UserKeyKind = 'encrypt'): { identity: string; privateKey: Uint8Array } {
  let j: Partial<UserKeyFile>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as Partial<UserKeyFile>;
  } catch (e) {
    throw new UsageError(`${option}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
  if (j.format !== FORMAT || j.kind !== kind || typeof j.identity !== 'string' || typeof j.privateKey !== 'string' || !/^([0-9A-F]{2})+$/i.test(j.privateKey) || j.privateKey.length !== KEY_LENGTH[kind] * 2) {
    throw new UsageError(`${option}: ${path} is not an SM9 user ${kind === 'sign' ? 'signing' : 'encryption'} key written by drmb keys user-key${kind === 'sign' ? ' --sign' : ''}`);
  }
  return { identity: j.identity, privateKey: fromHex(j.privateKey) };
}

export function registerKeysUserKey(keys: Cli): void {
  const cmd = keys
    .command('user-key')
    .description("KGC: extract a holder's SM9 encryption private key (or with --sign, signing key) for an identity into a new owner-only file (for opening transfers, or signing change, without a card)")
    .requiredOption('--identity <id>', 'the SM9 identity, exactly as payers address it (e.g. a card ID with its validity suffix)')
    .requiredOption('--out <file>', 'key file to create (mode 0600)')
    .option('--sign', "the signing key instead (a POS terminal's, for the change it signs: drmb pos pay --terminal-key)");
  withJson(withKeys(cmd, 'reads kgc-encrypt, or kgc-sign with --sign')).action((o: { identity: string; out: string; keys?: string; sign?: boolean; json?: boolean }) => {
    emit(runUserKey(o), !!o.json, (r) => `SM9 ${r.kind === 'sign' ? 'signing' : 'encryption'} key of '${r.identity}' written to ${r.path} (mode 0600)`);
  });
}
