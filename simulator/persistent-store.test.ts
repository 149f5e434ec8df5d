/** @module Journalled persistent memory: atomicity, rollback on power loss, fault injection, images. */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PersistentStore, PowerLossError } from './persistent-store.js';

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
    expect(() => PersistentStore.fromImage(new TextEncoder().encode('{"format":"x"}'))).toThrow(/unsupported format/);
    expect(() => PersistentStore.fromImage(b(1, 2))).toThrow(/invalid JSON/);
  });
});
