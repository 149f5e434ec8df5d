/** @module Tests for the status-word table: uniqueness, the SW constants, families and formatting. */
import { describe, expect, it } from 'vitest';
import {
  SW,
  describeSw,
  formatSw,
  isSuccess,
  isSuccessOrMoreData,
  statusWordTable,
  swBytesAvailable,
  swFamilyCount,
  swTriesLeft,
  swWrongLe,
} from './status-words.js';
import { expectFormatError } from '../test/expect-format-error.js';


const fixed = statusWordTable.filter((e) => !e.family);

describe('statusWordTable', () => {
  it('defines no code twice', () => {
    const codes = statusWordTable.map((e) => e.sw);
    expect(new Set(codes).size).toBe(codes.length);
  });
  it('uses every name once, in UPPER_SNAKE', () => {
    const names = statusWordTable.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });
  it('gives every entry a known origin, a meaning and a 16-bit code', () => {
    for (const e of statusWordTable) {
      expect(['ISO 7816-4', 'GlobalPlatform', 'PBOC', 'D-RMB']).toContain(e.origin);
      expect(e.meaning.length).toBeGreaterThan(5);
      expect(Number.isInteger(e.sw) && e.sw >= 0 && e.sw <= 0xffff).toBe(true);
    }
  });
  it('lists exactly the three families 61xx, 6Cxx and 63Cx', () => {
    const families = statusWordTable.filter((e) => e.family);
    expect(families.map((e) => [e.sw, e.name])).toEqual([
      [0x6100, 'BYTES_AVAILABLE'],
      [0x6c00, 'WRONG_LE'],
      [0x63c0, 'VERIFY_FAILED_TRIES_LEFT'],
    ]);
  });
  it('marks the project codes 9410-9419 as D-RMB and nothing else', () => {
    const own = fixed.filter((e) => e.origin === 'D-RMB').map((e) => e.sw);
    expect(own).toEqual([0x9410, 0x9411, 0x9412, 0x9413, 0x9414, 0x9415, 0x9416, 0x9417, 0x9418, 0x9419]);
  });
  it('places the PBOC e-purse codes in 93xx/94xx below 9410', () => {
    const pboc = fixed.filter((e) => e.origin === 'PBOC').map((e) => e.sw);
    expect(pboc).toEqual([0x9302, 0x9303, 0x9401, 0x9402, 0x9403, 0x9406]);
  });
  it('gives GP INITIALIZE UPDATE unknown key version the same entry as referenced data not found', () => {
    const e = describeSw(0x6a88);
    expect(e.name).toBe('REFERENCED_DATA_NOT_FOUND');
    expect(e.meaning).toMatch(/key version/);
    expect(e.meaning).toMatch(/referenced data/);
  });
});

describe('SW constants', () => {
  it('has one constant per fixed code and none for the families', () => {
    expect(Object.keys(SW).sort()).toEqual(fixed.map((e) => e.name).sort());
    for (const e of fixed) expect(SW[e.name as keyof typeof SW]).toBe(e.sw);
    expect('BYTES_AVAILABLE' in SW).toBe(false);
  });
  it('maps the names used by the command table to their codes', () => {
    const expected: [keyof typeof SW, number][] = [
      ['OK', 0x9000],
      ['SELECTED_FILE_INVALIDATED', 0x6283],
      ['AUTHENTICATION_FAILED', 0x6300],
      ['WRONG_LENGTH', 0x6700],
      ['SECURITY_STATUS_NOT_SATISFIED', 0x6982],
      ['AUTHENTICATION_METHOD_BLOCKED', 0x6983],
      ['CONDITIONS_OF_USE_NOT_SATISFIED', 0x6985],
      ['INCORRECT_DATA', 0x6a80],
      ['FUNCTION_NOT_SUPPORTED', 0x6a81],
      ['FILE_NOT_FOUND', 0x6a82],
      ['RECORD_NOT_FOUND', 0x6a83],
      ['NOT_ENOUGH_MEMORY', 0x6a84],
      ['INCORRECT_P1P2', 0x6a86],
      ['REFERENCED_DATA_NOT_FOUND', 0x6a88],
      ['INS_NOT_SUPPORTED', 0x6d00],
      ['CLA_NOT_SUPPORTED', 0x6e00],
      ['MEMORY_FAILURE', 0x6581],
      ['MAC_INVALID', 0x9302],
      ['INSUFFICIENT_BALANCE', 0x9401],
      ['KEY_INDEX_NOT_SUPPORTED', 0x9403],
      ['MAC_NOT_AVAILABLE', 0x9406],
      ['COIN_SIGNATURE_INVALID', 0x9410],
      ['DUPLICATE_COIN_SERIAL', 0x9411],
      ['OVER_BALANCE_CAP', 0x9412],
      ['OVER_SINGLE_LIMIT', 0x9413],
      ['NO_EXACT_COIN_SET', 0x9414],
      ['OFFLINE_QUOTA_EXHAUSTED', 0x9415],
    ];
    for (const [name, code] of expected) expect([name, SW[name]]).toEqual([name, code]);
  });
  it('is frozen', () => {
    expect(Object.isFrozen(SW)).toBe(true);
    expect(Object.isFrozen(statusWordTable)).toBe(true);
  });
});

describe('describeSw', () => {
  it('returns the exact entry for a fixed code', () => {
    expect(describeSw(0x6a82)).toMatchObject({ sw: 0x6a82, name: 'FILE_NOT_FOUND', origin: 'ISO 7816-4' });
    expect(describeSw(0x6300).name).toBe('AUTHENTICATION_FAILED'); // 6300 is not in 63Cx
    expect(describeSw(0x9414)).toMatchObject({ name: 'NO_EXACT_COIN_SET', origin: 'D-RMB' });
  });
  it('describes 61xx with the number of bytes available, 00 meaning 256 or more', () => {
    expect(describeSw(0x6105)).toMatchObject({ sw: 0x6105, name: 'BYTES_AVAILABLE', family: true });
    expect(describeSw(0x6105).meaning).toMatch(/^5 more response bytes/);
    expect(describeSw(0x6100).meaning).toMatch(/^256 or more/);
  });
  it('describes 6Cxx with the exact length, 00 meaning 256', () => {
    expect(describeSw(0x6c10)).toMatchObject({ sw: 0x6c10, name: 'WRONG_LE', family: true });
    expect(describeSw(0x6c10).meaning).toMatch(/exactly 16 bytes/);
    expect(describeSw(0x6c00).meaning).toMatch(/exactly 256 bytes/);
  });
  it('describes 63Cx with the tries left', () => {
    expect(describeSw(0x63c2)).toMatchObject({ sw: 0x63c2, name: 'VERIFY_FAILED_TRIES_LEFT', family: true });
    expect(describeSw(0x63c2).meaning).toMatch(/2 tries left/);
    expect(describeSw(0x63c1).meaning).toMatch(/1 try left/);
    expect(describeSw(0x63c0).meaning).toMatch(/0 tries left/);
  });
  it('answers UNKNOWN for codes in no entry or family', () => {
    for (const sw of [0x1234, 0x63d1, 0x9001, 0x6a89]) {
      expect(describeSw(sw)).toStrictEqual({ sw, name: 'UNKNOWN', meaning: 'unknown status word', origin: 'unknown' });
    }
  });
  it('rejects values that are not status words', () => {
    expectFormatError(() => describeSw(0x10000), 'SW');
    expectFormatError(() => describeSw(-1), 'SW');
  });
});

describe('formatSw', () => {
  it('prints SW=XXXX (NAME)', () => {
    expect(formatSw(0x6a82)).toBe('SW=6A82 (FILE_NOT_FOUND)');
    expect(formatSw(0x9000)).toBe('SW=9000 (OK)');
    expect(formatSw(0x63c2)).toBe('SW=63C2 (VERIFY_FAILED_TRIES_LEFT)');
    expect(formatSw(0x0001)).toBe('SW=0001 (UNKNOWN)');
  });
});

describe('family builders', () => {
  it('builds 61xx, with 256 or more as 6100', () => {
    expect([swBytesAvailable(5), swBytesAvailable(255), swBytesAvailable(256), swBytesAvailable(1000)]).toEqual([0x6105, 0x61ff, 0x6100, 0x6100]);
    expectFormatError(() => swBytesAvailable(0), 'SW 61xx count');
  });
  it('builds 6Cxx for 1..256, with 256 as 6C00', () => {
    expect([swWrongLe(16), swWrongLe(256)]).toEqual([0x6c10, 0x6c00]);
    expectFormatError(() => swWrongLe(257), 'SW 6Cxx count');
    expectFormatError(() => swWrongLe(0), 'SW 6Cxx count');
  });
  it('builds 63Cx for 0..15 tries', () => {
    expect([swTriesLeft(0), swTriesLeft(3), swTriesLeft(15)]).toEqual([0x63c0, 0x63c3, 0x63cf]);
    expectFormatError(() => swTriesLeft(16), 'SW 63Cx count');
  });
  it('swFamilyCount reads back what the builders wrote', () => {
    expect([swFamilyCount(swBytesAvailable(7)), swFamilyCount(swWrongLe(256)), swFamilyCount(swTriesLeft(3))]).toEqual([7, 256, 3]);
    expect(swFamilyCount(0x6a82)).toBeUndefined();
  });
});

describe('isSuccess / isSuccessOrMoreData', () => {
  it('treats only 9000 as success', () => {
    expect([0x9000, 0x6110, 0x9001, 0x6283].map(isSuccess)).toEqual([true, false, false, false]);
  });
  it('adds 61xx as success with more data', () => {
    expect([0x9000, 0x6110, 0x6100, 0x6c10, 0x6283].map(isSuccessOrMoreData)).toEqual([true, true, true, false, false]);
  });
});
