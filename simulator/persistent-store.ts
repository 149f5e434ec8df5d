/**
 * @module Journalled persistent memory of the simulated card, with Java Card transaction semantics
 * (JCRE 3.0.5 chapter 7: beginTransaction / commitTransaction / abortTransaction, rollback at the
 * next power-up of a transaction interrupted by power loss) and fault injection that cuts power after
 * the k-th persistent write or at a named point. Images save and load the memory including an
 * interrupted transaction's journal, so a torn card image recovers on its next power-up.
 * Card images are format version 2: JSON with the records, the journal and an SM3 checksum over their
 * canonical encoding (imageChecksumInput says exactly which bytes), decoded strictly and saved atomically.
 * Version 1 images carry no checksum, so an edited one cannot be told from a good one: they are refused
 * with a message saying how to make the card again (drmb sim create, then personalization).
 */
import { readFileSync } from 'node:fs';
import { lengthPrefixed, u32, u8, utf8 } from '../applet-spec/codec/fields.js';
import { fromHex, hex } from '../base/hex.js';
import { concatBytes } from '../base/bytes.js';
import { sm3 } from '../crypto/sm3.js';
import { PRIVATE_FILE_MODE, writeFileAtomic } from '../io/atomic-file.js';
import { CardImageError } from './card-image-error.js';

/** Thrown when power is cut by fault injection; the card is unusable until powerUp(). */
export class PowerLossError extends Error {
  override readonly name = 'PowerLossError';
  constructor(readonly at: string) {
    super(`card power lost ${at}`);
  }
}

/** Format version of a saved image; version 1 (no checksum) is refused. */
const IMAGE_VERSION = 2;
const IMAGE_FORMAT = 'drmb-card-image';

interface ImageJson {
  format: typeof IMAGE_FORMAT;
  version: number;
  records: Record<string, string>;
  /** before-images of an interrupted transaction: key -> hex, or null when the key did not exist */
  journal: Record<string, string | null> | null;
  /** SM3 of imageChecksumInput(records, journal), hex */
  sm3: string;
}

/** The top-level fields of a version 2 image, each required, no other allowed. */
const IMAGE_FIELDS: readonly (keyof ImageJson)[] = ['format', 'version', 'records', 'journal', 'sm3'];

/** Store keys are printable ASCII (they are JSON member names and go into the checksum with a 1-byte length). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const keyCoder = utf8('store key');
const valueCoder = lengthPrefixed(4, 'record value');
const byKey = <T>([a]: [string, T], [b]: [string, T]): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The bytes an image's checksum is the SM3 of:
 *   "drmb-card-image" (1-byte length, then ASCII), version (u8, 02),
 *   record count (u32 big-endian), then each record in ascending key order:
 *     key (1-byte length, then ASCII) || value (4-byte big-endian length, then the bytes);
 *   journal marker (u8: 00 no interrupted transaction, 01 one), and with 01:
 *     entry count (u32), then each entry in ascending key order:
 *     key (1-byte length, then ASCII) || 00 (the key did not exist before the transaction)
 *                                      or 01 || before-image (4-byte length, then the bytes).
 * Every length is explicit, so no two different memories share these bytes.
 */
export function imageChecksumInput(records: ReadonlyMap<string, Uint8Array>, journal: ReadonlyMap<string, Uint8Array | null> | null): Uint8Array {
  const parts: Uint8Array[] = [keyCoder.encode(IMAGE_FORMAT), u8.encode(IMAGE_VERSION), u32.encode(records.size)];
  for (const [k, v] of [...records].sort(byKey)) parts.push(keyCoder.encode(k), valueCoder.encode(v));
  parts.push(u8.encode(journal ? 1 : 0));
  if (journal) {
    parts.push(u32.encode(journal.size));
    for (const [k, v] of [...journal].sort(byKey)) parts.push(keyCoder.encode(k), v === null ? u8.encode(0) : concatBytes(u8.encode(1), valueCoder.encode(v)));
  }
  return concatBytes(...parts);
}

const damaged = (reason: string) => CardImageError.damaged(reason);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Bytes of one hex value of the image: whole bytes, hex digits only (no spaces). */
function imageHex(text: unknown, what: string): Uint8Array {
  if (typeof text !== 'string') throw damaged(`${what} is not a hex string`);
  if (/\s/.test(text)) throw damaged(`${what}: white space in hex`);
  try {
    return fromHex(text);
  } catch (e) {
    throw damaged(`${what}: ${(e as Error).message}`);
  }
}

function imageKey(key: string, what: string): string {
  if (!KEY_PATTERN.test(key)) throw damaged(`${what} key ${JSON.stringify(key.slice(0, 80))} is not 1-255 printable ASCII characters`);
  return key;
}

/** The records and journal of an image, refused unless every field is as toImage() writes it and the checksum matches. */
function decodeImage(bytes: Uint8Array): { records: Map<string, Uint8Array>; journal: Map<string, Uint8Array | null> | null } {
  let image: unknown;
  try {
    image = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw damaged(bytes.length ? 'not complete JSON (truncated or half-written?)' : 'the file is empty');
  }
  if (!isPlainObject(image) || image.format !== IMAGE_FORMAT) throw new CardImageError('is not a drmb card image');
  if (image.version === 1) {
    throw new CardImageError(
      'is format version 1, which has no checksum and is no longer loaded; make the card again: drmb sim create --image <file> --card-id <id>, then drmb perso prepare and drmb perso issue with --sim <file>',
    );
  }
  if (image.version !== IMAGE_VERSION) throw new CardImageError(`has format version ${JSON.stringify(image.version)}; this drmb reads version ${IMAGE_VERSION}`);
  for (const k of Object.keys(image)) if (!(IMAGE_FIELDS as readonly string[]).includes(k)) throw damaged(`unknown field ${JSON.stringify(k)}`);
  for (const k of IMAGE_FIELDS) if (!(k in image)) throw damaged(`missing field "${k}"`);

  if (!isPlainObject(image.records)) throw damaged('"records" is not an object');
  const records = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(image.records)) records.set(imageKey(k, 'record'), imageHex(v, `record ${k}`));

  let journal: Map<string, Uint8Array | null> | null = null;
  if (image.journal !== null) {
    if (!isPlainObject(image.journal)) throw damaged('"journal" is neither null nor an object');
    journal = new Map();
    for (const [k, v] of Object.entries(image.journal)) journal.set(imageKey(k, 'journal'), v === null ? null : imageHex(v, `journal entry ${k}`));
  }

  const checksum = imageHex(image.sm3, '"sm3"');
  if (checksum.length !== 32) throw damaged(`"sm3" is ${checksum.length} bytes, not 32`);
  if (hex(checksum) !== hex(sm3(imageChecksumInput(records, journal)))) throw damaged('checksum mismatch');
  return { records, journal };
}

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

  /** Serializes the memory, including the journal of an interrupted transaction, with its checksum. */
  toImage(): Uint8Array {
    const image: ImageJson = {
      format: IMAGE_FORMAT,
      version: IMAGE_VERSION,
      records: Object.fromEntries([...this.records].sort(byKey).map(([k, v]) => [k, hex(v)])),
      journal: this.journal ? Object.fromEntries([...this.journal].sort(byKey).map(([k, v]) => [k, v === null ? null : hex(v)])) : null,
      sm3: hex(sm3(imageChecksumInput(this.records, this.journal))),
    };
    return new TextEncoder().encode(JSON.stringify(image, null, 1));
  }

  /**
   * Loads an image written by toImage(); throws CardImageError unless its structure is exact and its
   * checksum matches. The store starts unpowered-then-powered, so a torn transaction rolls back.
   */
  static fromImage(bytes: Uint8Array): PersistentStore {
    const { records, journal } = decodeImage(bytes);
    const store = new PersistentStore();
    store.records = records;
    store.journal = journal;
    store.powerUp();
    return store;
  }

  /**
   * Writes the image atomically (temp file in the same directory, fsync, rename, directory fsync: the
   * file is the old image or the new one, never half of either), readable by the owner only: it holds
   * card keys. Throws CardImageError naming the file.
   */
  saveToFile(path: string): void {
    const image = this.toImage();
    try {
      writeFileAtomic(path, image, PRIVATE_FILE_MODE);
    } catch (e) {
      throw new CardImageError(`could not be saved: ${(e as Error).message}`, path);
    }
  }

  /** Reads an image file; every failure is a CardImageError naming the file. */
  static loadFromFile(path: string): PersistentStore {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new CardImageError(`cannot be read: ${(e as Error).message}`, path);
    }
    try {
      return PersistentStore.fromImage(bytes);
    } catch (e) {
      throw e instanceof CardImageError ? e.at(path) : e;
    }
  }
}
