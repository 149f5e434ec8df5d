/**
 * @module One party of `drmb demo` and what it held: it loads keys from its own role's bundle only
 * (loadRoleKey refuses another role's bundle and a kind its role does not hold) and records each kind
 * it loaded, so the demo's report says which party held which keys from what it did, not from a list.
 */
import { join } from 'node:path';
import type { KeyFile, KeyKind } from '../keys/key-files.js';
import { loadRoleKey, ROLE_BUNDLES, type Role } from '../keys/role-bundles.js';
import { readTrustAnchors, TRUST_ANCHORS_FILE, type TrustAnchors } from '../keys/trust-anchors.js';

/** A party as the demo's report shows it: no secret, only key kinds and where they came from. */
export interface PartyReport {
  /** who: "prep centre", "KGC", "POS terminal" */
  party: string;
  role: Role;
  /** the bundle directory it was given, and read nothing else of the key material */
  bundle: string;
  /** the process that held its keys */
  pid: number;
  /** the key kinds it loaded from its bundle */
  keys: KeyKind[];
  /** the other files of its bundle it read: trust-anchors.json, authorized-desks.json */
  files: string[];
  /** keys of its own that no bundle holds (the POS terminal's device key and its SM9 key from the KGC) */
  own: string[];
  /** key kinds it loaded that its role does not hold: none, or the demo is wrong */
  foreignKeys: KeyKind[];
  /** what it did with them */
  did: string[];
}

/** A party of the demo, with the keys it loaded. */
export class DemoParty {
  readonly #loaded = new Set<KeyKind>();
  readonly #files = new Set<string>();
  readonly #own: string[] = [];
  readonly #did: string[] = [];
  /** the process holding its keys; the KGC's is its child process */
  pid = process.pid;

  constructor(
    readonly party: string,
    readonly role: Role,
    readonly bundle: string,
  ) {}

  /** A key of `kind` from its bundle (loadRoleKey: refused when its role holds none). Security: secret; the caller wipes it. */
  key<K extends KeyKind>(kind: K): KeyFile<K> {
    const key = loadRoleKey(this.bundle, this.role, kind, {});
    this.#loaded.add(kind);
    return key;
  }

  /** The trust anchors of its bundle (public). */
  trustAnchors(): TrustAnchors {
    this.#files.add(TRUST_ANCHORS_FILE);
    return readTrustAnchors(join(this.bundle, TRUST_ANCHORS_FILE));
  }

  /** Notes a key kind loaded by its own process elsewhere (the KGC's child), or a non-key file of its bundle it used. */
  noteLoaded(kinds: readonly KeyKind[], files: readonly string[] = []): void {
    for (const k of kinds) this.#loaded.add(k);
    for (const f of files) this.#files.add(f);
  }

  /** Notes a key of its own that comes from no bundle, described without its value. */
  noteOwn(what: string): void {
    this.#own.push(what);
  }

  /** Notes what it did. */
  did(what: string): void {
    this.#did.push(what);
  }

  report(): PartyReport {
    const keys = [...this.#loaded];
    const held = new Set<KeyKind>(ROLE_BUNDLES[this.role].keys.map((k) => k.kind));
    return {
      party: this.party,
      role: this.role,
      bundle: this.bundle,
      pid: this.pid,
      keys,
      files: [...this.#files],
      own: [...this.#own],
      foreignKeys: keys.filter((k) => !held.has(k)),
      did: [...this.#did],
    };
  }
}
