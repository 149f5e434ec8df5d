/**
 * @module Journalled persistent memory of the simulated card, with Java Card transaction semantics
 * (JCRE 3.0.5 chapter 7: beginTransaction / commitTransaction / abortTransaction, rollback at the
 * next power-up of a transaction interrupted by power loss) and fault injection that cuts power after
 * the k-th persistent write or at a named point. Images save and load the memory including an
 * interrupted transaction's journal, so a torn card image recovers on its next power-up.
 */
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Thrown when power is cut by fault injection; the card is unusable until powerUp(). */
export class PowerLossError extends Error {
  override readonly name = 'PowerLossError';
  constructor(readonly at: string) {
    super(`card power lost ${at}`);
  }
}

/** Format version of a saved image. */
const IMAGE_VERSION = 1;

interface ImageJson {
  format: 'drmb-card-image';
  version: number;
  records: Record<string, string>;
  /** before-images of an interrupted transaction: key -> hex, or null when the key did not exist */
  journal: Record<string, string | null> | null;
}

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

/**
 * Key-value persistent memory. Every put/delete is one persistent write and is atomic by itself;
 * between begin() and commit() writes are journalled and roll back together on abort() or power loss.
 * commit() is itself one persistent write (the journal being cleared), so a cut just after commit
 * keeps the transaction.
 */
export class PersistentStore {
  private records = new Map<string, Uint8Array>();
  /** before-images of the keys touched by the current transaction */
  private journal: Map<string, Uint8Array | null> | null = null;
  private isPowered = true;
  private writes = 0;
  private cutAfterWrite: number | undefined;
  private written: string[] = [];
  private cutAtPoint: string | undefined;

  /** Persistent writes made since the store was created or loaded (puts, deletes, commits). */
  get writeCount(): number {
    return this.writes;
  }

  get inTransaction(): boolean {
    return this.journal !== null;
  }

  get powered(): boolean {
    return this.isPowered;
  }

  private requirePower(): void {
    if (!this.isPowered) throw new PowerLossError('(card not powered)');
  }

  /** A copy of the record, or undefined. */
  get(key: string): Uint8Array | undefined {
    this.requirePower();
    const v = this.records.get(key);
    return v && v.slice();
  }

  has(key: string): boolean {
    this.requirePower();
    return this.records.has(key);
  }

  /** Keys starting with `prefix`, sorted. */
  keys(prefix = ''): string[] {
    this.requirePower();
    return [...this.records.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  put(key: string, value: Uint8Array): void {
    this.requirePower();
    this.remember(key);
    this.records.set(key, value.slice());
    this.afterWrite(`after write to ${key}`, key);
  }

  delete(key: string): void {
    this.requirePower();
    if (!this.records.has(key)) return;
    this.remember(key);
    this.records.delete(key);
    this.afterWrite(`after delete of ${key}`, key);
  }

  private remember(key: string): void {
    if (this.journal && !this.journal.has(key)) {
      const before = this.records.get(key);
      this.journal.set(key, before ? before.slice() : null);
    }
  }

  private afterWrite(at: string, key = ''): void {
    this.writes++;
    this.written.push(key);
    if (this.cutAfterWrite !== undefined) {
      this.cutAfterWrite--;
      if (this.cutAfterWrite <= 0) {
        this.cutAfterWrite = undefined;
        this.losePower(at);
      }
    }
  }

  /** Starts a transaction (nested transactions are not supported, as in Java Card). */
  begin(): void {
    this.requirePower();
    if (this.journal) throw new Error('PersistentStore: transaction already in progress');
    this.journal = new Map();
  }

  /** Makes every write since begin() permanent (one persistent write). */
  commit(): void {
    this.requirePower();
    if (!this.journal) throw new Error('PersistentStore: no transaction in progress');
    this.journal = null;
    this.afterWrite('after commit', '(commit)');
  }

  /** Rolls back every write since begin(). */
  abort(): void {
    this.requirePower();
    if (!this.journal) return;
    this.rollBack();
  }

  private rollBack(): void {
    if (!this.journal) return;
    for (const [key, before] of this.journal) {
      if (before === null) this.records.delete(key);
      else this.records.set(key, before);
    }
    this.journal = null;
  }

  /** Keys written (and '(commit)' for commits) since the previous call; for tests that audit writes. */
  takeWrites(): string[] {
    const w = this.written;
    this.written = [];
    return w;
  }

  /** Arms a power cut right after the k-th persistent write from now (k >= 1). */
  cutPowerAfterWrites(k: number): void {
    if (!Number.isInteger(k) || k < 1) throw new RangeError('cutPowerAfterWrites: k must be an integer >= 1');
    this.cutAfterWrite = k;
  }

  /** Arms a power cut when the code reaches point(name). */
  cutPowerAt(name: string): void {
    this.cutAtPoint = name;
  }

  disarm(): void {
    this.cutAfterWrite = undefined;
    this.cutAtPoint = undefined;
  }

  /** A named point in the card's code where a test may cut power. */
  point(name: string): void {
    if (this.cutAtPoint === name) {
      this.cutAtPoint = undefined;
      this.losePower(`at ${name}`);
    }
  }

  private losePower(at: string): never {
    this.isPowered = false;
    throw new PowerLossError(at);
  }

  /** Power comes back: an interrupted transaction is rolled back (JCRE 7.6). */
  powerUp(): void {
    this.isPowered = true;
    this.rollBack();
  }

  /** Serializes the memory, including the journal of an interrupted transaction. */
  toImage(): Uint8Array {
    const image: ImageJson = {
      format: 'drmb-card-image',
      version: IMAGE_VERSION,
      records: Object.fromEntries([...this.records].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, toHex(v)])),
      journal: this.journal ? Object.fromEntries([...this.journal].map(([k, v]) => [k, v === null ? null : toHex(v)])) : null,
    };
    return new TextEncoder().encode(JSON.stringify(image, null, 1));
  }

  /** Loads an image written by toImage(); the store starts unpowered-then-powered, so a torn transaction rolls back. */
  static fromImage(bytes: Uint8Array): PersistentStore {
    let image: ImageJson;
    try {
      image = JSON.parse(new TextDecoder().decode(bytes)) as ImageJson;
    } catch {
      throw new Error('card image: not a drmb card image (invalid JSON)');
    }
    if (image.format !== 'drmb-card-image' || image.version !== IMAGE_VERSION) {
      throw new Error(`card image: unsupported format ${String(image.format)} version ${String(image.version)}`);
    }
    const store = new PersistentStore();
    for (const [k, v] of Object.entries(image.records)) store.records.set(k, fromHex(v));
    if (image.journal) {
      store.journal = new Map(Object.entries(image.journal).map(([k, v]) => [k, v === null ? null : fromHex(v)]));
    }
    store.powerUp();
    return store;
  }

  /** Writes the image atomically (temp file + rename), readable by the owner only: it holds card keys. */
  saveToFile(path: string): void {
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, this.toImage(), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }

  static loadFromFile(path: string): PersistentStore {
    return PersistentStore.fromImage(readFileSync(path));
  }
}
