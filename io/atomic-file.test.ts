/** @module writeFileAtomic: the whole file or the previous one, owner-only, no temp file left; whyNotWritable names the reason before anything is written. */
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { whyNotWritable, writeFileAtomic } from './atomic-file.js';

// fsync is where a full disk or an I/O error shows; the tests make it fail once.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, fsyncSync: vi.fn(real.fsyncSync) };
});

const dirWith = (files: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-atomic-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
};

describe('writeFileAtomic', () => {
  it('replaces a file whole with mode 0600, leaving no temp file', () => {
    const dir = dirWith({ 'p.bin': 'old' });
    writeFileAtomic(join(dir, 'p.bin'), Uint8Array.of(1, 2, 3));
    expect([...readFileSync(join(dir, 'p.bin'))]).toEqual([1, 2, 3]);
    expect(statSync(join(dir, 'p.bin')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['p.bin']);
  });

  it('leaves the previous file intact and no temp file when the write fails before the rename', () => {
    const dir = dirWith({ 'intent.json': '{"previous":true}' });
    vi.mocked(fs.fsyncSync).mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expect(() => writeFileAtomic(join(dir, 'intent.json'), '{"next":true}')).toThrow(/EIO/);
    expect(readFileSync(join(dir, 'intent.json'), 'utf8')).toBe('{"previous":true}');
    expect(readdirSync(dir)).toEqual(['intent.json']);
  });

  it('throws ENOENT for a missing directory and creates nothing', () => {
    expect(() => writeFileAtomic('/nonexistent-drmb-dir/p.json', 'x')).toThrow(/ENOENT/);
  });
});

describe('whyNotWritable', () => {
  it('names a missing directory, a directory target and a parent that is a file; undefined when writable', () => {
    const dir = dirWith({ f: 'x' });
    expect(whyNotWritable('/nonexistent-drmb-dir/p.json')).toBe('directory /nonexistent-drmb-dir does not exist');
    expect(whyNotWritable(dir)).toBe(`${dir} is a directory`);
    expect(whyNotWritable(join(dir, 'f', 'p.json'))).toBe(`${join(dir, 'f')} is not a directory`);
    expect(whyNotWritable(join(dir, 'p.json'))).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['f']);
  });
});
