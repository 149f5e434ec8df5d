/** @module Journalled persistent memory: atomicity, rollback on power loss, fault injection, images (checksum, strict decoding, atomic saves). */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { editCardImage } from '../test/edit-card-image.js';
import { CardImageError } from './card-image-error.js';
import { imageChecksumInput, PersistentStore, PowerLossError } from './persistent-store.js';

const b = (...x: number[]) => Uint8Array.from(x);

describe('PersistentStore', () => {
  it('keeps writes made outside a transaction, each atomically', () => {
    const s = new PersistentStore();
    s.put('a', b(1));
    s.put('b', b(2));
    expect(s.get('a')).toEqual(b(1));
    expect(s.writeCount).toBe(2);
  });

  it('returns copies, so callers cannot change memory behind the journal', () => {
    const s = new PersistentStore();
    const v = b(1, 2);
    s.put('a', v);
    v[0] = 9;
    s.get('a')![1] = 9;
    expect(s.get('a')).toEqual(b(1, 2));
  });

  it('rolls back every write of an aborted transaction, including deletes and new keys', () => {
    const s = new PersistentStore();
    s.put('a', b(1));
    s.put('gone', b(7));
    s.begin();
    s.put('a', b(2));
    s.put('new', b(3));
    s.delete('gone');
    s.abort();
    expect(s.get('a')).toEqual(b(1));
    expect(s.has('new')).toBe(false);
    expect(s.get('gone')).toEqual(b(7));
  });

  it('rolls back an interrupted transaction at the next power-up, for every tear point', () => {
    for (let k = 1; k <= 3; k++) {
      const s = new PersistentStore();
      s.put('x', b(0));
      s.put('y', b(0));
      s.cutPowerAfterWrites(k);
      expect(() => {
        s.begin();
        s.put('x', b(1));
        s.put('y', b(1));
        s.commit();
      }).toThrow(PowerLossError);
      expect(() => s.get('x')).toThrow(PowerLossError);
      s.powerUp();
      // k = 3 is the commit itself: the transaction survives; before it, nothing does.
      const expected = k === 3 ? b(1) : b(0);
      expect([s.get('x'), s.get('y')]).toEqual([expected, expected]);
      expect(s.inTransaction).toBe(false);
    }
  });

  it('cuts power at a named point and only there', () => {
    const s = new PersistentStore();
    s.cutPowerAt('before-response');
    s.point('elsewhere');
    expect(() => s.point('before-response')).toThrow(/before-response/);
    s.powerUp();
    expect(() => s.point('before-response')).not.toThrow();
  });

  it('refuses nested transactions', () => {
    const s = new PersistentStore();
    s.begin();
    expect(() => s.begin()).toThrow(/already/);
  });

  it('saves an image with a torn transaction that rolls back when loaded', () => {
    const s = new PersistentStore();
    s.put('coins', b(1, 2, 3));
    s.cutPowerAfterWrites(1);
    s.begin();
    expect(() => s.put('coins', b(9))).toThrow(PowerLossError);
    const image = s.toImage();
    const loaded = PersistentStore.fromImage(image);
    expect(loaded.get('coins')).toEqual(b(1, 2, 3));
  });

  it('writes image files readable by the owner only, and reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-store-'));
    const path = join(dir, 'card.json');
    const s = new PersistentStore();
    s.put('k', b(0xaa));
    s.saveToFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(PersistentStore.loadFromFile(path).get('k')).toEqual(b(0xaa));
  });

  it('rejects a file that is not a card image', () => {
    expect(() => PersistentStore.fromImage(new TextEncoder().encode('{"format":"x"}'))).toThrow('card image is not a drmb card image');
    expect(() => PersistentStore.fromImage(b(1, 2))).toThrow(/is damaged: not complete JSON/);
  });
});

describe('card image checksum', () => {
  const store = () => {
    const s = new PersistentStore();
    s.put('coins', b(1, 2, 3));
    s.put('state', b(0x1f));
    return s;
  };

  it('hashes exactly the documented bytes: format, version, counted records in key order, journal marker', () => {
    const s = new PersistentStore();
    s.put('b', b(0xbb));
    s.put('a', b());
    const format = '0F' + hex(new TextEncoder().encode('drmb-card-image'));
    expect(hex(imageChecksumInput(new Map([['b', b(0xbb)], ['a', b()]]), null))).toBe(`${format}02` + '00000002' + '0161' + '00000000' + '0162' + '00000001BB' + '00');
    expect(hex(imageChecksumInput(new Map(), new Map([['x', null], ['y', b(7)]])))).toBe(`${format}02` + '00000000' + '01' + '00000002' + '0178' + '00' + '0179' + '01' + '0000000107');
    expect(JSON.parse(new TextDecoder().decode(s.toImage())).sm3).toMatch(/^[0-9A-F]{64}$/);
  });

  it('refuses an image whose record was edited by hand (checksum mismatch), leaving nothing loaded', () => {
    const edited = editCardImage(store().toImage(), (j) => (j.records.coins = '010209'));
    expect(() => PersistentStore.fromImage(edited)).toThrow(new CardImageError('is damaged: checksum mismatch'));
    const dropped = editCardImage(store().toImage(), (j) => delete j.records.coins);
    expect(() => PersistentStore.fromImage(dropped)).toThrow(/checksum mismatch/);
  });

  it('refuses an image whose journal was edited, so a torn transaction cannot be turned into another one', () => {
    const s = store();
    s.cutPowerAfterWrites(1);
    s.begin();
    expect(() => s.put('coins', b(9))).toThrow(PowerLossError);
    const edited = editCardImage(s.toImage(), (j) => ((j.journal as Record<string, string>).coins = '0102030405'));
    expect(() => PersistentStore.fromImage(edited)).toThrow(/checksum mismatch/);
  });

  it.each([
    ['an unknown top-level field', (j: Record<string, unknown>) => (j.comment = 'hi'), /unknown field "comment"/],
    ['a missing field', (j: Record<string, unknown>) => delete j.journal, /missing field "journal"/],
    ['a missing checksum', (j: Record<string, unknown>) => delete j.sm3, /missing field "sm3"/],
    ['records that are not an object', (j: Record<string, unknown>) => (j.records = ['00']), /"records" is not an object/],
    ['a journal that is neither null nor an object', (j: Record<string, unknown>) => (j.journal = 'x'), /"journal" is neither null nor an object/],
    ['bad hex in a record', (j: Record<string, unknown>) => ((j.records as Record<string, string>).coins = '01020Z'), /record coins: hex: invalid character "Z"/],
    ['an odd number of hex digits', (j: Record<string, unknown>) => ((j.records as Record<string, string>).coins = '01020'), /record coins: hex: odd number of digits/],
    ['spaces inside hex', (j: Record<string, unknown>) => ((j.records as Record<string, string>).coins = '01 02 03'), /record coins: white space in hex/],
    ['a record value that is not a string', (j: Record<string, unknown>) => ((j.records as Record<string, unknown>).coins = 7), /record coins is not a hex string/],
    ['a key with a control character', (j: Record<string, unknown>) => ((j.records as Record<string, string>)['co\nins'] = '00'), /record key "co\\nins" is not 1-255 printable ASCII/],
    ['a short checksum', (j: Record<string, unknown>) => (j.sm3 = 'ABCD'), /"sm3" is 2 bytes, not 32/],
    ['an unknown version', (j: Record<string, unknown>) => (j.version = 3), /card image has format version 3; this drmb reads version 2/],
  ])('refuses %s', (_what, edit, message) => {
    expect(() => PersistentStore.fromImage(editCardImage(store().toImage(), edit))).toThrow(message);
  });

  it('refuses a version 1 image (no checksum) with how to make the card again', () => {
    const v1 = editCardImage(store().toImage(), (j) => {
      j.version = 1;
      delete j.sm3;
    });
    expect(() => PersistentStore.fromImage(v1)).toThrow(/is format version 1, which has no checksum .*drmb sim create/);
  });

  it('refuses every truncation of an image (a half-written file)', () => {
    const image = store().toImage();
    for (let n = 0; n < image.length; n++) expect(() => PersistentStore.fromImage(image.subarray(0, n)), `first ${n} bytes`).toThrow(CardImageError);
    expect(() => PersistentStore.fromImage(new Uint8Array(0))).toThrow('card image is damaged: the file is empty');
  });
});

describe('card image files', () => {
  it('saves atomically: the new image replaces the old whole, mode 0600, no temporary file left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-store-'));
    const path = join(dir, 'card.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    const s = new PersistentStore();
    s.put('k', b(0xaa));
    s.saveToFile(path);
    expect(readFileSync(path)).toEqual(Buffer.from(s.toImage()));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['card.json']);
  });

  it('reports a save into a directory that is gone as one line naming the file, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-store-'));
    const path = join(dir, 'gone', 'card.json');
    const err = (() => {
      try {
        new PersistentStore().saveToFile(path);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CardImageError);
    expect((err as Error).message).toMatch(new RegExp(`^card image ${path} could not be saved: ENOENT`));
    expect((err as Error).message).not.toContain('\n');
    mkdirSync(join(dir, 'gone'));
    expect(readdirSync(join(dir, 'gone'))).toEqual([]);
  });

  it('names the file in a load failure and leaves the file as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-store-'));
    const path = join(dir, 'card.json');
    const s = new PersistentStore();
    s.put('k', b(1));
    const damaged = editCardImage(s.toImage(), (j) => (j.records.k = '02'));
    writeFileSync(path, damaged);
    expect(() => PersistentStore.loadFromFile(path)).toThrow(`card image ${path} is damaged: checksum mismatch`);
    expect(readFileSync(path)).toEqual(Buffer.from(damaged));
    expect(() => PersistentStore.loadFromFile(join(dir, 'none.json'))).toThrow(/card image .*none\.json cannot be read: ENOENT/);
    rmSync(dir, { recursive: true });
  });
});
