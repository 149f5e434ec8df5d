/**
 * @module Role key bundles: the one table of which party holds which key and which drmb commands it
 * runs (the export of `drmb keys export`, the loaders' refusals and docs/key-files.md all read it), the
 * bundle manifest (bundle.json), and RoleKeys, through which every command loads its keys from its
 * role's bundle, or from a whole ceremony directory in development.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OperationalError } from '../base/operational-error.js';
import { hex } from '../base/hex.js';
import { sm2IsValidPublicKey } from '../crypto/sm2.js';
import { AUTHORIZED_BANKS_FILE, AUTHORIZED_DESKS_FILE } from './authorized-desks.js';
import {
  defaultKeyFileName,
  type Env,
  KEY_DIR_ENV,
  KEY_FILE_FORMAT,
  KEY_FILE_VERSION,
  type KeyFile,
  KeyFileError,
  type KeyKind,
  loadKey,
  ISSUER_MASTER_KEY_NAMES,
  LOAD_MASTER_KEY_NAMES,
  PURCHASE_MASTER_KEY_NAMES,
  computeKcvs,
  readKeyText,
  wipeKeyFile,
} from './key-files.js';
import { psamPersonalizationMasters } from './card-keys.js';
import { readTrustAnchors, TRUST_ANCHORS_FILE, type TrustAnchors } from './trust-anchors.js';

/** The parties of a deployment, each with its own bundle. */
export const ROLES = ['prep-centre', 'kgc', 'issuance-desk', 'bank-vault', 'pos', 'registry'] as const;
/**
 * A party of the system that holds its own key bundle: prep centre, KGC, issuance desk, bank vault,
 * POS acquirer, registry.
 */
export type Role = (typeof ROLES)[number];

/** What one role holds and does. */
export interface RoleSpec {
  /** who plays the role */
  party: string;
  /** the key files of its bundle, each with why the role needs it */
  keys: readonly { kind: KeyKind; why: string }[];
  /** its other files besides trust-anchors.json (which every bundle holds), with why */
  files: readonly { name: string; why: string }[];
  /** the drmb commands that load this role's keys */
  commands: readonly string[];
}

/**
 * Which role holds which key, and which commands each role runs: the one table. A bundle holds
 * exactly these keys plus trust-anchors.json; a command loading a key its role does not list fails
 * (RoleKeys.key), so the table cannot say less than the commands use; the role-bundle test shows
 * that each command fails without each listed key, so it says no more.
 */
export const ROLE_BUNDLES: Readonly<Record<Role, RoleSpec>> = {
  'prep-centre': {
    party: "the central bank's card preparation centre (and the card factory that loads kvn 30)",
    keys: [
      { kind: 'cb-master', why: "derives each card's kvn 30 SCP03 keys (secure channel of prep) and the six SM4 application keys it writes in DGI 8000" },
      { kind: 'issuance-master', why: "derives the card's kvn 31 issuance keys it writes in DGI 8001" },
      { kind: 'cert-signing', why: "signs the card certificate over the card's SM2 key (DGI 7F21)" },
    ],
    files: [],
    commands: ['drmb sim create', 'drmb perso prepare', 'drmb perso run-script'],
  },
  kgc: {
    party: 'the IBC key-generation centre',
    keys: [
      { kind: 'kgc-sign', why: "extracts holders' SM9 signing keys (GM/T 0044 part 2 5.2)" },
      { kind: 'kgc-encrypt', why: "extracts holders' SM9 encryption keys (GM/T 0044 part 4 5.2)" },
    ],
    files: [{ name: AUTHORIZED_DESKS_FILE, why: "the issuance desks whose signed requests it answers, and the terminals each bound to the one identity whose keys it may obtain" }],
    commands: ['drmb kgc serve', 'drmb kgc authorize', 'drmb keys user-key'],
  },
  'issuance-desk': {
    party: "a commercial bank's issuance desk",
    keys: [
      { kind: 'issuance-master', why: "derives the card's kvn 31 SCP03 keys to open the issuance secure channel (issuance, and SET STATUS when the desk terminates a card)" },
      { kind: 'desk-signing', why: 'signs its key-extraction requests to the KGC, which knows the desk by its public key' },
      { kind: 'issuer-master', why: "derives the card's issuer-script keys: the line MACs of APPLICATION BLOCK/UNBLOCK and PUT DATA (issuerMac) and of RELOAD PIN (pinReload), for a holder's card at the desk" },
    ],
    files: [],
    commands: ['drmb perso issue', 'drmb perso run-script', 'drmb card block', 'drmb card unblock', 'drmb card reload-pin', 'drmb card set-limits', 'drmb card terminate', 'drmb card return'],
  },
  'bank-vault': {
    party: "a commercial bank's vault counter, which loads coins onto cards and gives POS terminals their change float",
    keys: [
      { kind: 'load-master', why: "derives the card's load key (MAC1, MAC2 of a load) and TAC key (the TAC that proves the load before the registry records it)" },
      { kind: 'bank-signing', why: "signs the bank's requests to the registry service (withdrawals from its vault, deposits, forwarded online payments), which knows the bank by its public key and code" },
    ],
    files: [],
    commands: ['drmb bank withdraw', 'drmb card recover', 'drmb bank redeem', 'drmb bank serve --central', 'drmb bank deposit --central', 'drmb pos float', 'drmb card return --central', 'drmb bank renew'],
  },
  pos: {
    party: "a merchant's acquirer: it makes and personalizes the PSAMs of its POS terminals, which then hold the key",
    keys: [
      {
        kind: 'purchase-master',
        why: "the purchase master a PSAM derives each card's purchase key from (MAC1, MAC2), written into the PSAM at drmb perso psam, and the PSAMs' own personalization masters; the terminal itself (drmb pos pay) loads no key, only trust-anchors.json",
      },
    ],
    files: [],
    commands: ['drmb sim create --psam', 'drmb perso psam', 'drmb pos pay'],
  },
  registry: {
    party: "the central bank's back office: mint, registry and settlement",
    keys: [
      { kind: 'mint-master', why: "derives the denomination keys that make and check each coin's m (bank/mint.ts)" },
      { kind: 'coin-signing', why: "signs the coins it mints, and under a signer ID of their own the confirmations of online payments (bank/online-confirmation.ts)" },
    ],
    files: [{ name: AUTHORIZED_BANKS_FILE, why: 'the commercial banks whose signed requests the registry service takes, each bound to its bank code' }],
    commands: ['drmb bank mint', 'drmb bank deposit', 'drmb bank redeem', 'drmb bank serve', 'drmb registry serve', 'drmb registry authorize', 'drmb card return --registry', 'drmb bank renew --registry'],
  },
};

export const BUNDLE_FORMAT = 'drmb-key-bundle';
export const BUNDLE_VERSION = 1;
/** The manifest file that makes a directory a bundle. */
export const BUNDLE_MANIFEST_FILE = 'bundle.json';

/** Whether `x` is one of the ROLES. */
export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** The roles that run `command` ("drmb perso issue"), from the table. */
export function rolesOf(command: string): Role[] {
  return ROLES.filter((r) => ROLE_BUNDLES[r].commands.includes(command));
}

/** The file names a bundle of `role` holds besides bundle.json: its key files, its other files, trust-anchors.json. */
export function bundleFileNames(role: Role): string[] {
  const spec = ROLE_BUNDLES[role];
  return [...spec.keys.map((k) => defaultKeyFileName(k.kind)), ...spec.files.map((f) => f.name), TRUST_ANCHORS_FILE];
}

/** The kind of each file of a bundle of `role`, by file name: its key kinds, 'authorized-desks', 'authorized-banks', 'trust-anchors'. */
export function bundleFileKinds(role: Role): Record<string, string> {
  const spec = ROLE_BUNDLES[role];
  const other: Record<string, string> = { [AUTHORIZED_DESKS_FILE]: 'authorized-desks', [AUTHORIZED_BANKS_FILE]: 'authorized-banks' };
  return Object.fromEntries([
    ...spec.keys.map((k) => [defaultKeyFileName(k.kind), k.kind]),
    ...spec.files.map((f) => [f.name, other[f.name] ?? f.name]),
    [TRUST_ANCHORS_FILE, 'trust-anchors'],
  ]);
}

/** A refusal of a key directory or bundle, as one line (exit code 1). */
export class RoleBundleError extends OperationalError {
  override readonly name = 'RoleBundleError';
}

/** bundle.json: what a bundle is for and what it holds. */
export interface BundleManifest {
  role: Role;
  /** ISO 8601 time of the export */
  created: string;
  /** the files of the bundle with their kind ('trust-anchors', 'authorized-desks' or a key kind) and KCVs */
  files: { name: string; kind: string; kcv?: Record<string, string> }[];
  /** issuance-desk only: the public key of its desk-signing key, which the KGC authorises */
  deskPublicKey?: Uint8Array;
  /** bank-vault only: the public key of its bank-signing key, which the registry authorises */
  bankPublicKey?: Uint8Array;
}

/**
 * The roles whose bundle holds a signing key of their own, made fresh at export rather than copied
 * from the ceremony, the manifest member that shows its public key, and who lists that key.
 */
export const OWN_SIGNING_KEYS = {
  'issuance-desk': { kind: 'desk-signing', member: 'deskPublicKey', authorize: 'drmb kgc authorize --desk-key' },
  'bank-vault': { kind: 'bank-signing', member: 'bankPublicKey', authorize: 'drmb registry authorize --bank-key' },
} as const satisfies Partial<Record<Role, { kind: KeyKind; member: keyof BundleManifest; authorize: string }>>;

type OwnKeyMember = (typeof OWN_SIGNING_KEYS)[keyof typeof OWN_SIGNING_KEYS]['member'];
const OWN_KEY_MEMBERS: readonly OwnKeyMember[] = Object.values(OWN_SIGNING_KEYS).map((o) => o.member);

/** JSON text of a bundle manifest. */
export function bundleManifestToJson(m: BundleManifest): string {
  const doc: Record<string, unknown> = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, role: m.role, created: m.created, files: m.files };
  for (const member of OWN_KEY_MEMBERS) if (m[member]) doc[member] = hex(m[member]);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Parses bundle.json: format, version, a known role, and a file list that is exactly the role's
 * (a bundle listing a key its role does not hold is refused, so a widened bundle is not used).
 */
export function parseBundleManifest(text: string, source: string): BundleManifest {
  const fail = (field: string | undefined, detail: string): never => {
    throw new KeyFileError(source, field, detail);
  };
  let doc: { format?: unknown; version?: unknown; role?: unknown; created?: unknown; files?: unknown } & Partial<Record<OwnKeyMember, unknown>>;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(undefined, 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== BUNDLE_FORMAT) fail('format', `must be "${BUNDLE_FORMAT}"`);
  if (doc.version !== BUNDLE_VERSION) fail('version', `must be ${BUNDLE_VERSION}`);
  const role = doc.role;
  if (!isRole(role)) return fail('role', `must be one of ${ROLES.join(', ')}`);
  if (typeof doc.created !== 'string' || Number.isNaN(Date.parse(doc.created))) fail('created', 'must be an ISO 8601 time');
  if (!Array.isArray(doc.files) || !doc.files.every((f) => typeof f?.name === 'string' && typeof f?.kind === 'string')) return fail('files', 'must list { name, kind } objects');
  const names = (doc.files as { name: string }[]).map((f) => f.name).sort();
  const expected = bundleFileNames(role).sort();
  if (names.join() !== expected.join()) fail('files', `a ${role} bundle holds exactly ${expected.join(', ')}`);
  const kinds = bundleFileKinds(role);
  const wrong = (doc.files as { name: string; kind: string }[]).find((f) => kinds[f.name] !== f.kind);
  if (wrong) fail('files', `${wrong.name} must be of kind ${kinds[wrong.name]}, not ${wrong.kind}`);
  const own: Partial<Record<OwnKeyMember, Uint8Array>> = {};
  const mine = (OWN_SIGNING_KEYS as Partial<Record<Role, { member: OwnKeyMember }>>)[role]?.member;
  for (const member of OWN_KEY_MEMBERS) {
    const text = doc[member];
    if (member !== mine) {
      if (text !== undefined) fail(member, `a ${role} bundle has no ${member === 'deskPublicKey' ? 'desk' : 'bank'} key`);
      continue;
    }
    if (typeof text !== 'string' || !/^[0-9a-fA-F]{130}$/.test(text)) return fail(member, 'must be 130 hex digits');
    const key = Uint8Array.from(text.match(/../g)!, (x) => parseInt(x, 16));
    if (!sm2IsValidPublicKey(key)) fail(member, 'is not a valid SM2 point');
    own[member] = key;
  }
  return { role, created: doc.created as string, files: doc.files as BundleManifest['files'], ...own };
}

/** The manifest of a bundle directory, or undefined when `dir` has no bundle.json (a ceremony directory). */
export function readBundleManifest(dir: string): BundleManifest | undefined {
  const path = join(dir, BUNDLE_MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  return parseBundleManifest(readKeyText(path), path);
}

const article = (role: string) => (/^[aeiou]/.test(role) ? 'an' : 'a');

/** "an issuance-desk bundle", "a prep-centre or an issuance-desk bundle". */
function bundlesPhrase(roles: readonly Role[]): string {
  return `${roles.map((r) => `${article(r)} ${r}`).join(' or ')} bundle`;
}

/** The application masters a narrower kind copies out of cb-master. */
const CB_MASTER_PARTS: Partial<Record<KeyKind, readonly string[]>> = {
  'load-master': LOAD_MASTER_KEY_NAMES,
  'issuer-master': ISSUER_MASTER_KEY_NAMES,
  'purchase-master': PURCHASE_MASTER_KEY_NAMES,
};

/**
 * The narrower key file of `kind` (load-master, purchase-master) cut out of a cb-master: the same
 * secrets, hence the same KCVs, label and creation time noted; a purchase-master adds the PSAM
 * personalization masters derived one-way from the SCP masters. Security: holds secrets; wipe it.
 */
export function cutFromCbMaster<K extends 'load-master' | 'purchase-master' | 'issuer-master'>(cbMaster: KeyFile<'cb-master'>, kind: K): KeyFile<K> {
  const psam = kind === 'purchase-master' ? psamPersonalizationMasters(cbMaster) : undefined;
  const derived: Record<string, Uint8Array> = psam ? { psamEnc: psam.enc, psamMac: psam.mac, psamDek: psam.dek } : {};
  const names = CB_MASTER_PARTS[kind]!;
  const secret = Object.fromEntries(names.map((n) => [n, derived[n] ?? cbMaster.secret[n as keyof KeyFile<'cb-master'>['secret']].slice()]));
  const label = `${kind} of ${cbMaster.label}`.slice(0, 200);
  return {
    format: KEY_FILE_FORMAT,
    version: KEY_FILE_VERSION,
    kind,
    label,
    created: cbMaster.created,
    kcv: computeKcvs(kind, secret),
    secret,
  } as unknown as KeyFile<K>;
}

/**
 * The keys of one command, from its role's bundle or from a ceremony directory (every role's keys in
 * one place, for development and the demo). A bundle of a role that does not run the command is
 * refused at open; a key the command's roles do not hold is refused at `key`, whichever the source.
 * Open it with {@link RoleKeys.open} (a command) or {@link loadRoleKey} (a role); the constructor
 * checks nothing.
 */
export class RoleKeys {
  constructor(
    /** the command, for messages: "drmb perso issue" */
    readonly command: string,
    /** the directory, undefined when keys come from DRMB_KEY_* variables only */
    readonly dir: string | undefined,
    /** the bundle's manifest, undefined for a ceremony directory */
    readonly bundle: BundleManifest | undefined,
    private readonly env: Env,
    /** the roles whose keys may be loaded: the bundle's, or every role that runs the command */
    private readonly roles: readonly Role[],
  ) {}

  /**
   * Opens the keys of `command` in `dir` (default DRMB_KEY_DIR). Throws RoleBundleError when `dir`
   * is a bundle of a role that does not run the command, naming both roles.
   */
  static open(dir: string | undefined, command: string, env: Env = process.env): RoleKeys {
    const roles = rolesOf(command);
    if (roles.length === 0) throw new TypeError(`no role runs ${command}: add it to ROLE_BUNDLES`);
    const d = dir ?? (env[KEY_DIR_ENV] || undefined);
    const bundle = d !== undefined ? readBundleManifest(d) : undefined;
    if (bundle && !roles.includes(bundle.role)) {
      throw new RoleBundleError(`${d} is ${article(bundle.role)} ${bundle.role} bundle; ${command} needs ${bundlesPhrase(roles)}`);
    }
    return new RoleKeys(command, d, bundle, env, bundle ? [bundle.role] : roles);
  }

  /** The role of the bundle, or undefined for a ceremony directory. */
  get role(): Role | undefined {
    return this.bundle?.role;
  }

  /** True for a ceremony directory (or keys from variables only): every role's keys, development only. */
  get isCeremony(): boolean {
    return this.bundle === undefined;
  }

  /** Whether the command's roles here hold a key of `kind`. */
  holds(kind: KeyKind): boolean {
    return this.roles.some((r) => ROLE_BUNDLES[r].keys.some((k) => k.kind === kind));
  }

  /**
   * A key of `kind` (environment variables first, then the directory: keys/key-files.ts loadKey).
   * In a ceremony directory without a file of a narrower kind (load-master, purchase-master), the key
   * is cut from cb-master. Throws RoleBundleError when the command's role does not hold the kind.
   * The caller wipes it (wipeKeyFile).
   */
  key<K extends KeyKind>(kind: K): KeyFile<K> {
    if (!this.holds(kind)) {
      const why = this.bundle ? `${article(this.bundle.role)} ${this.bundle.role} bundle holds none` : `its role (${this.roles.join(', ')}) holds none`;
      throw new RoleBundleError(`${this.command} cannot use a ${kind} key: ${why} (keys/role-bundles.ts)`);
    }
    return this.load(kind);
  }

  /**
   * A key the command's role does not hold, from a ceremony directory only: the development
   * short-cuts (the in-process KGC of `drmb perso issue` without --kgc). Refused for a bundle, naming `instead`.
   */
  ceremonyKey<K extends KeyKind>(kind: K, instead: string): KeyFile<K> {
    if (this.bundle) throw new RoleBundleError(`${this.command} with ${article(this.bundle.role)} ${this.bundle.role} bundle: ${instead}`);
    return this.load(kind);
  }

  private load<K extends KeyKind>(kind: K): KeyFile<K> {
    const parts = CB_MASTER_PARTS[kind];
    if (parts && this.bundle === undefined && this.dir !== undefined && !existsSync(join(this.dir, defaultKeyFileName(kind)))) {
      const cb = loadKey('cb-master', { dir: this.dir, env: this.env });
      try {
        return cutFromCbMaster(cb, kind as 'load-master' | 'purchase-master' | 'issuer-master') as unknown as KeyFile<K>;
      } finally {
        wipeKeyFile(cb);
      }
    }
    return loadKey(kind, { dir: this.dir, env: this.env });
  }

  /** The trust anchors of the bundle or ceremony (trust-anchors.json, public). */
  trustAnchors(): TrustAnchors {
    if (this.dir === undefined) throw new RoleBundleError(`${this.command}: --keys <dir> (or ${KEY_DIR_ENV}) is needed for ${TRUST_ANCHORS_FILE}`);
    return readTrustAnchors(join(this.dir, TRUST_ANCHORS_FILE));
  }

  /** The path of another file of the role (authorized-desks.json of the kgc). */
  file(name: string): string {
    if (this.dir === undefined) throw new RoleBundleError(`${this.command}: --keys <dir> (or ${KEY_DIR_ENV}) is needed for ${name}`);
    return join(this.dir, name);
  }
}

/**
 * One key of `role` from `dir`, a bundle of that role or a ceremony directory (narrower kinds cut
 * from cb-master there): e.g. `loadRoleKey(dir, 'pos', 'purchase-master')` for the PSAM's purchase
 * master at `drmb perso psam`. Refuses a bundle of another role, and a kind the role does not hold.
 */
export function loadRoleKey<K extends KeyKind>(dir: string | undefined, role: Role, kind: K, env: Env = process.env): KeyFile<K> {
  if (!ROLE_BUNDLES[role].keys.some((k) => k.kind === kind)) throw new RoleBundleError(`${article(role)} ${role} bundle holds no ${kind} key`);
  const d = dir ?? (env[KEY_DIR_ENV] || undefined);
  const bundle = d !== undefined ? readBundleManifest(d) : undefined;
  if (bundle && bundle.role !== role) throw new RoleBundleError(`${d} is ${article(bundle.role)} ${bundle.role} bundle, not ${article(role)} ${role} bundle`);
  return new RoleKeys(`the ${role} role`, d, bundle, env, [role]).key(kind);
}

/** The table as Markdown, for docs/key-files.md (a test checks the document holds it as generated). */
export function roleTableMarkdown(): string {
  const rows = ROLES.map((r) => {
    const s = ROLE_BUNDLES[r];
    const held = [...s.keys.map((k) => `\`${k.kind}\`: ${k.why}`), ...s.files.map((f) => `\`${f.name}\`: ${f.why}`)].join('; ');
    return `| \`${r}\` | ${s.party} | ${held} | ${s.commands.map((c) => `\`${c}\``).join(', ')} |`;
  });
  return ['| Role | Party | Holds (besides `trust-anchors.json`), and why | Commands |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
