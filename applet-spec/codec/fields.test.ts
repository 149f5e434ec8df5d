/** @module Tests for the declarative field coders: [value, hex] tables in both directions and strict rejection of malformed input. */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../errors.js';
import {
  bcd,
  bcdAmount,
  bcdDate,
  bcdPin,
  bcdShortDate,
  bcdTime,
  bytes,
  type Coder,
  constant,
  countedList,
  decodePinDigits,
  empty,
  enumeration,
  leaving,
  lengthPrefixed,
  list,
  mapped,
  optional,
  pinBlockFormat2,
  rest,
  struct,
  tlv,
  tlvFields,
  u16,
  u24,
  u32,
  u8,
  uint,
  utf8,
  utf8Rest,
} from './fields.js';
import { fromHex, hex } from '../../base/hex.js';

/** Runs `fn`, which must throw a FormatError, and returns it. */
function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

/**
 * The `what` of the FormatError `fn` throws, without trailing blanks: top-level decodes currently
 * yield "what " with a trailing space (see the it.fails test "names a top-level value without a trailing space").
 */
function whatOf(fn: () => unknown): string {
  return formatError(fn).what.trimEnd();
}

const b = (h: string): Uint8Array => fromHex(h);

/** Short printable form of a value or hex text for test names. */
function show(v: unknown): string {
  let s: string;
  if (v instanceof Uint8Array) s = hex(v) || '(empty)';
  else if (v === undefined) s = 'undefined';
  else s = JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? hex(x) : x));
  return s.length > 48 ? `${s.slice(0, 45)}...` : s;
}

/** Checks a [value, hex] table in both directions: encode(value) gives hex, decode(hex) gives value. */
function bothWays<T>(c: Coder<T>, rows: [T, string][]): void {
  it.each(rows.map(([v, h]) => [show(v), show(fromHex(h)), v, h] as const))(
    'encodes %s as %s and decodes it back',
    (_s, _h, v, h) => {
      expect(hex(c.encode(v))).toBe(hex(fromHex(h)));
      expect(c.decode(fromHex(h))).toEqual(v);
    },
  );
}

/** For a fixed-size coder: every table row, one byte short or one byte long, is rejected with FormatError. */
function strictLength<T>(c: Coder<T>, rows: [T, string][]): void {
  it('declares the encoded size of every value', () => {
    for (const [v] of rows) expect(c.encode(v).length).toBe(c.size);
  });
  it('rejects input one byte short (truncated)', () => {
    for (const [, h] of rows) {
      const full = fromHex(h);
      if (full.length === 0) continue;
      formatError(() => c.decode(full.subarray(0, full.length - 1), 'field'));
    }
  });
  it('rejects a trailing byte after the value', () => {
    for (const [, h] of rows) {
      const e = formatError(() => c.decode(Uint8Array.from([...fromHex(h), 0x00]), 'field'));
      expect(e.what).toBe('field');
      expect(e.message).toMatch(/1 unexpected trailing bytes/);
    }
  });
}

describe('uint / u8 / u16 / u24 / u32', () => {
  describe('u8', () => {
    const rows: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [0x7f, '7F'],
      [0xff, 'FF'],
    ];
    bothWays(u8, rows);
    strictLength(u8, rows);
  });
  describe('u16 big-endian', () => {
    const rows: [number, string][] = [
      [0, '0000'],
      [0x1234, '1234'],
      [0xffff, 'FFFF'],
    ];
    bothWays(u16, rows);
    strictLength(u16, rows);
  });
  describe('u24 big-endian', () => {
    const rows: [number, string][] = [
      [0, '000000'],
      [0x0a0b0c, '0A0B0C'],
      [0xffffff, 'FFFFFF'],
    ];
    bothWays(u24, rows);
    strictLength(u24, rows);
  });
  describe('u32 big-endian', () => {
    const rows: [number, string][] = [
      [0, '00000000'],
      [1, '00000001'],
      [0x01020304, '01020304'],
      [0x80000000, '80000000'],
      [0xffffffff, 'FFFFFFFF'],
    ];
    bothWays(u32, rows);
    strictLength(u32, rows);
  });
  describe('uint(6), beyond 32 bits', () => {
    const rows: [number, string][] = [
      [2 ** 32, '000100000000'],
      [0x010203040506, '010203040506'],
      [2 ** 48 - 1, 'FFFFFFFFFFFF'],
    ];
    bothWays(uint(6), rows);
    strictLength(uint(6), rows);
  });

  it.each([
    ['u8', u8, 256],
    ['u8', u8, -1],
    ['u16', u16, 0x10000],
    ['u24', u24, 0x1000000],
    ['u32', u32, 2 ** 32],
    ['u32', u32, -1],
    ['u32', u32, 1.5],
    ['u32', u32, Number.NaN],
    ['u48', uint(6), 2 ** 48],
  ] as const)('rejects encoding %s %s (not an integer in range)', (name, c, v) => {
    expect(whatOf(() => c.encode(v))).toBe(name);
  });

  it('names the field and offset of a truncated integer inside a structure', () => {
    const e = formatError(() => struct({ counter: u32 }).decode(b('0001'), 'record'));
    expect(e.what).toBe('record counter');
    expect(e.message).toMatch(/needs 4 bytes at offset 0, only 2 left/);
  });
});

describe('bytes(n)', () => {
  const rows: [Uint8Array, string][] = [
    [b('010203'), '010203'],
    [b('FFFFFF'), 'FFFFFF'],
  ];
  bothWays(bytes(3), rows);
  strictLength(bytes(3), rows);

  it('rejects encoding a byte string of the wrong length', () => {
    expect(whatOf(() => bytes(3, 'terminal ID').encode(b('0102')))).toBe('terminal ID');
    expect(whatOf(() => bytes(3, 'terminal ID').encode(b('01020304')))).toBe('terminal ID');
  });

  it('decodes to a copy that does not alias the input', () => {
    const input = b('010203');
    const out = bytes(3).decode(input);
    input[0] = 0xee;
    expect(hex(out)).toBe('010203');
  });
});

describe('rest', () => {
  bothWays(rest(), [
    [new Uint8Array(0), ''],
    [b('01'), '01'],
    [b('A0000006320101'), 'A0000006320101'],
  ]);

  it('enforces its length limits in both directions', () => {
    const aid = rest('AID', { min: 5, max: 16 });
    expect(hex(aid.decode(b('A000000632')))).toBe('A000000632');
    expect(whatOf(() => aid.encode(b('A0000006')))).toBe('AID');
    expect(whatOf(() => aid.encode(new Uint8Array(17)))).toBe('AID');
    formatError(() => aid.decode(b('A0000006')));
    formatError(() => aid.decode(new Uint8Array(17)));
  });
});

describe('lengthPrefixed', () => {
  describe('1-byte length', () => {
    bothWays(lengthPrefixed(1), [
      [new Uint8Array(0), '00'],
      [b('010203'), '03 010203'],
      [new Uint8Array(255).fill(0xab), `FF ${'AB'.repeat(255)}`],
    ]);
  });
  describe('2-byte length', () => {
    bothWays(lengthPrefixed(2), [
      [b('AB'), '0001 AB'],
      [new Uint8Array(256).fill(0x5a), `0100 ${'5A'.repeat(256)}`],
    ]);
  });

  it('rejects a value longer than the length field can say', () => {
    expect(whatOf(() => lengthPrefixed(1, 'blob').encode(new Uint8Array(256)))).toBe('blob');
  });

  it('rejects a value longer than its declared maximum, on encode and on decode', () => {
    const c = lengthPrefixed(1, 'nonce', 4);
    expect(whatOf(() => c.encode(new Uint8Array(5)))).toBe('nonce');
    const e = formatError(() => struct({ nonce: c }).decode(b('05 0102030405'), 'request'));
    expect(e.what).toBe('request nonce');
    expect(e.message).toMatch(/length 5 exceeds 4/);
  });

  it('rejects a length prefix that runs beyond the input', () => {
    const e = formatError(() => struct({ data: lengthPrefixed(1) }).decode(b('05 0102'), 'request'));
    expect(e.what).toBe('request data');
    expect(e.message).toMatch(/needs 5 bytes at offset 1, only 2 left/);
  });

  it('rejects an input too short for the length field itself', () => {
    formatError(() => lengthPrefixed(2).decode(b('00')));
  });
});

describe('mapped', () => {
  const hexText = mapped(bytes(2), hex, fromHex, 'two bytes as hex text');
  bothWays(hexText, [
    ['ABCD', 'ABCD'],
    ['0000', '0000'],
  ]);

  it('keeps the inner size and takes its own description', () => {
    expect(hexText.size).toBe(2);
    expect(hexText.describe).toBe('two bytes as hex text');
    expect(hexText.layout('x')).toEqual([{ field: 'x', size: '2', description: 'two bytes as hex text' }]);
  });
});

describe('utf8 (1-byte length, then UTF-8)', () => {
  bothWays(utf8(), [
    ['', '00'],
    ['bob', '03 626F62'],
    // U+4EBA U+6C11 U+5E01: three bytes each, so the length counts bytes, not characters
    ['人民币', '09 E4BABA E6B091 E5B881'],
    ['13800138000#20281231', '14 3133383030313338303030 23 3230323831323331'],
  ]);

  it.each([
    ['a lone continuation byte', '01 80'],
    ['a truncated 2-byte sequence', '02 C328'],
    ['an overlong encoding of "/"', '02 C0AF'],
    ['the byte FF', '01 FF'],
    ['a UTF-16 surrogate encoded in UTF-8', '03 EDA080'],
  ])('rejects %s as invalid UTF-8', (_t, h) => {
    const e = formatError(() => struct({ name: utf8() }).decode(b(h), 'holder'));
    expect(e.what).toBe('holder name');
    expect(e.message).toMatch(/not valid UTF-8/);
  });

  it('counts the maximum in bytes, not characters', () => {
    const id = utf8('identity', 4);
    expect(hex(id.encode('abcd'))).toBe('0461626364');
    expect(whatOf(() => id.encode('abcde'))).toBe('identity');
    expect(whatOf(() => id.encode('人民'))).toBe('identity'); // 2 characters, 6 bytes
  });

  it('rejects a length beyond the input', () => {
    formatError(() => utf8().decode(b('05 626F62')));
  });
});

describe('utf8Rest (UTF-8 filling its container)', () => {
  bothWays(utf8Rest(), [
    ['', ''],
    ['bob', '626F62'],
    ['张三', 'E5BCA0 E4B889'],
  ]);

  it('rejects bytes that are not UTF-8', () => {
    const e = formatError(() => utf8Rest().decode(b('62FF'), 'DF03'));
    expect(e.what).toBe('DF03');
    expect(e.message).toMatch(/not valid UTF-8/);
  });
});

describe('bcd (packed BCD, left-padded with 0)', () => {
  describe('n20 card ID', () => {
    const rows: [string, string][] = [
      ['12345678901234567890', '12345678901234567890'],
      ['00000000000000000001', '00000000000000000001'],
      ['99999999999999999999', '99999999999999999999'],
    ];
    bothWays(bcd(20), rows);
    strictLength(bcd(20), rows);
  });
  describe('odd digit counts pad one 0 nibble on the left', () => {
    bothWays(bcd(3), [
      ['123', '0123'],
      ['000', '0000'],
    ]);
    bothWays(bcd(1), [['7', '07']]);
  });

  it.each([
    ['too few digits', '123'],
    ['too many digits', '12345'],
    ['a letter', '12A4'],
    ['a sign', '-123'],
  ])('rejects encoding a string with %s', (_t, v) => {
    expect(whatOf(() => bcd(4, 'currency').encode(v))).toBe('currency');
  });

  it.each([
    ['high nibble A', 'A0'],
    ['low nibble F', '1F'],
    ['both nibbles', 'FF'],
  ])('rejects a byte with a non-BCD nibble (%s)', (_t, byte) => {
    const e = formatError(() => struct({ currency: bcd(4) }).decode(b(`01${byte}`), 'record'));
    expect(e.what).toBe('record currency');
    expect(e.message).toMatch(/is not BCD/);
  });

  it('rejects a non-zero pad digit in front of an odd digit count', () => {
    const e = formatError(() => struct({ code: bcd(3) }).decode(b('1234'), 'record'));
    expect(e.what).toBe('record code');
    expect(e.message).toMatch(/non-zero pad digit/);
  });
});

describe('bcdAmount (fen as n12)', () => {
  const rows: [number, string][] = [
    [0, '000000000000'],
    [1, '000000000001'],
    [12345, '000000012345'],
    [100000, '000000100000'],
    [999999999999, '999999999999'],
  ];
  bothWays(bcdAmount(12), rows);
  strictLength(bcdAmount(12), rows);
  bothWays(bcdAmount(4), [[9999, '9999']]);

  it.each([
    ['negative', -1],
    ['13 digits', 10 ** 12],
    ['fractional', 1.5],
    ['not a number', Number.NaN],
  ])('rejects encoding an amount that is %s', (_t, v) => {
    expect(whatOf(() => bcdAmount(12).encode(v))).toBe('n12 amount');
  });

  it('rejects non-BCD amount bytes', () => {
    formatError(() => bcdAmount(12).decode(b('00000001234A')));
  });
});

describe('bcdDate (YYYYMMDD, validated)', () => {
  const rows: [string, string][] = [
    ['20261122', '20261122'],
    ['20240229', '20240229'], // leap year
    ['20000229', '20000229'], // divisible by 400: leap year
    ['20361231', '20361231'],
    ['20260101', '20260101'],
  ];
  bothWays(bcdDate, rows);
  strictLength(bcdDate, rows);

  it.each([
    ['30 February', '20260230'],
    ['29 February of a common year', '20230229'],
    ['29 February 1900 (divisible by 100, not by 400)', '19000229'],
    ['31 April', '20260431'],
    ['month 13', '20261301'],
    ['month 00', '20260001'],
    ['day 00', '20261100'],
    ['day 32', '20260132'],
  ])('rejects a date that is not in the calendar: %s', (_t, v) => {
    expect(whatOf(() => bcdDate.encode(v))).toBe('date');
    expect(whatOf(() => bcdDate.decode(b(v), 'date'))).toBe('date');
  });

  it('rejects encoding a date that is not 8 digits', () => {
    formatError(() => bcdDate.encode('2026112'));
    formatError(() => bcdDate.encode('2026-11-22'));
  });

  // BUG: bcdDate (fields.ts line 277) and bcdTime (line 290) throw FormatError('date' / 'time') from
  // the mapped check, so a bad date inside a struct loses its field path: decoding the coin body
  // below gives what = 'date' instead of 'coin body expiryDate'.
  it('names the field of an invalid date inside a structure', () => {
    const record = struct({ issueDate: bcdDate, expiryDate: bcdDate });
    const e = formatError(() => record.decode(b('20260101 20260230'), 'coin body'));
    expect(e.what).toBe('coin body expiryDate');
  });
});

describe('bcdShortDate (YYMMDD)', () => {
  bothWays(bcdShortDate, [
    ['261122', '261122'],
    ['361231', '361231'],
  ]);
});

describe('bcdTime (HHMMSS, validated)', () => {
  const rows: [string, string][] = [
    ['000000', '000000'],
    ['120530', '120530'],
    ['235959', '235959'],
  ];
  bothWays(bcdTime, rows);
  strictLength(bcdTime, rows);

  it.each([
    ['hour 24', '246000'],
    ['hour 24 exactly', '240000'],
    ['minute 60', '236000'],
    ['second 60', '235960'],
  ])('rejects a time that is not a time of day: %s', (_t, v) => {
    expect(whatOf(() => bcdTime.encode(v))).toBe('time');
    expect(whatOf(() => bcdTime.decode(b(v), 'time'))).toBe('time');
  });

  it('rejects non-BCD time bytes', () => {
    formatError(() => bcdTime.decode(b('12A000')));
  });
});

describe('bcdPin (4-12 digits, odd count padded with F)', () => {
  bothWays(bcdPin(), [
    ['1234', '1234'],
    ['12345', '12345F'],
    ['000000', '000000'],
    ['123456789012', '123456789012'],
    ['12345678901', '12345678901F'],
  ]);

  it.each([
    ['too short', '123'],
    ['too long', '1234567890123'],
    ['with a non-digit', '12a4'],
    ['empty', ''],
  ])('rejects encoding a PIN %s, without echoing it', (_t, v) => {
    const e = formatError(() => bcdPin().encode(v));
    expect(e.what).toBe('PIN');
    if (v) expect(e.message).not.toContain(v);
  });

  it.each([
    ['too short (3 digits)', '123F'],
    ['too short (2 digits)', '12'],
    ['too long (13 digits)', '1234567890123F'],
    ['empty', ''],
    ['a non-BCD high nibble', '1A34'],
    ['a non-BCD low nibble', '12A4'],
    ['an F pad that is not the last nibble', '1F34'],
    ['an F pad byte after an even count', '1234FF'],
    ['F in a high nibble', '12F4'],
  ])('rejects decoding a PIN %s', (_t, h) => {
    const e = formatError(() => struct({ pin: bcdPin() }).decode(b(h), 'VERIFY'));
    expect(e.what).toBe('VERIFY pin');
    expect(e.message).not.toMatch(/\d{4}/); // never echoes the digits
  });

  it('honours custom digit limits', () => {
    expect(hex(bcdPin(6, 6).encode('123456'))).toBe('123456');
    formatError(() => bcdPin(6, 6).encode('1234'));
    formatError(() => bcdPin(6, 6).decode(b('1234')));
  });
});

describe('decodePinDigits', () => {
  it('reads digits and stops at a final F pad', () => {
    expect(decodePinDigits(b('12345F'), 4, 12, 'PIN')).toBe('12345');
    expect(decodePinDigits(b('1234'), 4, 12, 'PIN')).toBe('1234');
  });

  it('reports the caller-supplied name', () => {
    expect(formatError(() => decodePinDigits(b('12'), 4, 12, 'CHANGE PIN old PIN')).what).toBe('CHANGE PIN old PIN');
  });
});

describe('pinBlockFormat2 (ISO 9564-1 format 2)', () => {
  const rows: [string, string][] = [
    ['1234', '241234FFFFFFFFFF'],
    ['12345', '2512345FFFFFFFFF'],
    ['000000', '26000000FFFFFFFF'],
    ['123456789012', '2C123456789012FF'],
  ];
  bothWays(pinBlockFormat2, rows);
  strictLength(pinBlockFormat2, rows);

  it.each([
    ['too short', '123'],
    ['too long', '1234567890123'],
    ['with a non-digit', '12a4'],
  ])('rejects encoding a PIN %s', (_t, v) => {
    expect(whatOf(() => pinBlockFormat2.encode(v))).toBe('PIN block');
  });

  it.each([
    ['control nibble 1 (format 1)', '141234FFFFFFFFFF'],
    ['control nibble 0 (format 0)', '041234FFFFFFFFFF'],
    ['PIN length 3', '23123FFFFFFFFFFF'],
    ['PIN length 13', '2D1234567890123F'],
    ['PIN length F', '2F1234FFFFFFFFFF'],
    ['a non-digit PIN nibble', '24123AFFFFFFFFFF'],
    ['fill that is not F', '241234FFFFFFFF00'],
    ['a fifth digit where fill is due', '2412345FFFFFFFFF'],
  ])('rejects a bad PIN block: %s', (_t, h) => {
    const e = formatError(() => struct({ pinBlock: pinBlockFormat2 }).decode(b(h), 'DGI 8010'));
    expect(e.what).toBe('DGI 8010 pinBlock');
    expect(e.message).toMatch(/not a format 2 PIN block/);
  });
});

describe('constant', () => {
  const pad = constant(b('800000'), 'padding');
  bothWays(pad, [[undefined, '800000']]);

  it('describes itself with its bytes', () => {
    expect(pad.describe).toBe('padding = 800000');
    expect(pad.size).toBe(3);
  });

  it('rejects bytes that differ from the constant', () => {
    const e = formatError(() => struct({ n: u8, pad }).decode(b('01 800001'), 'block'));
    expect(e.what).toBe('block pad');
    expect(e.message).toMatch(/expected 800000/);
  });

  it('rejects a truncated constant', () => {
    formatError(() => pad.decode(b('8000')));
  });
});

describe('enumeration', () => {
  const onOff = enumeration({ ON: 0x01, OFF: 0x02, UNKNOWN: 0xff }, 'switch');
  bothWays(onOff, [
    ['ON', '01'],
    ['OFF', '02'],
    ['UNKNOWN', 'FF'],
  ]);

  it('lists its codes in its description', () => {
    expect(onOff.describe).toBe('switch (01 ON, 02 OFF, FF UNKNOWN)');
  });

  it('rejects an unknown code on decode', () => {
    const e = formatError(() => struct({ state: onOff }).decode(b('03'), 'status'));
    expect(e.what).toBe('status state');
    expect(e.message).toMatch(/unknown switch code 03/);
  });

  it('rejects an unknown name on encode', () => {
    expect(whatOf(() => onOff.encode('DIM' as never))).toBe('switch');
  });

  // BUG: enumeration.write (fields.ts line 391) looks the name up with `values[v]`, which also finds
  // Object.prototype members; encode('toString') pushes a function and yields byte 00 instead of throwing.
  it('rejects a name inherited from Object.prototype on encode', () => {
    expect(whatOf(() => onOff.encode('toString' as never))).toBe('switch');
  });

  it('refuses a definition that gives two names the same code', () => {
    expect(() => enumeration({ A: 1, B: 1 }, 'broken')).toThrow(/code 1 defined twice/);
  });
});

describe('empty', () => {
  bothWays(empty, [[{}, '']]);

  it('rejects any data', () => {
    expect(formatError(() => empty.decode(b('00'), 'GET BALANCE data')).what).toBe('GET BALANCE data');
  });

  it('has no layout rows', () => {
    expect(empty.layout('x')).toEqual([]);
  });
});

describe('struct', () => {
  const header = struct(
    {
      version: u8,
      terminal: struct({ id: bytes(6), sequence: u32 }, 'terminal'),
      date: bcdDate,
      time: bcdTime,
    },
    'header',
  );

  bothWays(header, [
    [
      { version: 1, terminal: { id: b('112233445566'), sequence: 7 }, date: '20261122', time: '093000' },
      '01 112233445566 00000007 20261122 093000',
    ],
  ]);

  it('sums fixed field sizes', () => {
    expect(header.size).toBe(1 + 6 + 4 + 4 + 3);
  });

  it('has no fixed size when a field varies', () => {
    expect(struct({ a: u8, b: utf8() }).size).toBeUndefined();
  });

  it('names a nested field by its dotted path when truncated', () => {
    const e = formatError(() => header.decode(b('01 112233445566 000000'), 'packet'));
    expect(e.what).toBe('packet terminal.sequence');
  });

  it('rejects trailing bytes after the last field', () => {
    const e = formatError(() => header.decode(b('01 112233445566 00000007 20261122 093000 00'), 'packet'));
    expect(e.what).toBe('packet');
  });

  it('leaves constant fields out of the value', () => {
    const tagged = struct({ marker: constant(b('A5'), 'marker'), n: u8 });
    expect(hex(tagged.encode({ n: 1 }))).toBe('A501');
    expect(tagged.decode(b('A501'))).toEqual({ n: 1 });
    expect('marker' in tagged.decode(b('A501'))).toBe(false);
  });

  it('lays out nested fields with dotted names', () => {
    expect(header.layout('').map((r) => r.field)).toEqual(['version', 'terminal.id', 'terminal.sequence', 'date', 'time']);
    expect(header.layout('hdr')[1]).toEqual({ field: 'hdr.terminal.id', size: '6', description: '6 bytes' });
  });
});

describe('optional (trailing field)', () => {
  const c = struct({ a: u8, b: optional(u16) });
  bothWays(c, [
    [{ a: 1, b: 0x0203 }, '01 0203'],
    [{ a: 1 }, '01'],
  ]);

  it('decodes an absent field as a missing property', () => {
    expect('b' in c.decode(b('01'))).toBe(false);
  });

  it('still checks a present field strictly', () => {
    formatError(() => c.decode(b('01 02')));
    formatError(() => c.decode(b('01 020304')));
  });

  it('marks the field optional in the layout', () => {
    expect(c.layout('')[1]).toMatchObject({ field: 'b?', size: '2' });
  });
});

describe('list (items until the input ends)', () => {
  const c = list(u16, { min: 1, max: 3, describe: 'amounts' });
  bothWays(c, [
    [[1], '0001'],
    [[1, 2, 3], '0001 0002 0003'],
  ]);

  it('rejects fewer items than the minimum, on encode and on decode', () => {
    expect(whatOf(() => c.encode([]))).toBe('amounts');
    formatError(() => c.decode(new Uint8Array(0)));
  });

  it('rejects more items than the maximum, on encode and on decode', () => {
    expect(whatOf(() => c.encode([1, 2, 3, 4]))).toBe('amounts');
    const e = formatError(() => struct({ amounts: c }).decode(b('0001 0002 0003 0004'), 'summary'));
    expect(e.what).toBe('summary amounts');
    expect(e.message).toMatch(/4 items, expected 1..3/);
  });

  it('rejects a partial last item and names its index', () => {
    const e = formatError(() => struct({ amounts: c }).decode(b('0001 00'), 'summary'));
    expect(e.what).toBe('summary amounts[1]');
  });

  it('accepts an empty list without limits', () => {
    expect(list(u8).decode(new Uint8Array(0))).toEqual([]);
  });
});

describe('countedList (1-byte count, then items)', () => {
  const c = countedList(u16, 2, 'amounts');
  bothWays(c, [
    [[], '00'],
    [[0x0102], '01 0102'],
    [[0x0102, 0x0304], '02 0102 0304'],
  ]);

  it('rejects more items than the maximum on encode', () => {
    expect(whatOf(() => c.encode([1, 2, 3]))).toBe('amounts');
  });

  it('rejects a count above the maximum on decode', () => {
    const e = formatError(() => struct({ amounts: c }).decode(b('03 0001 0002 0003'), 'summary'));
    expect(e.what).toBe('summary amounts');
    expect(e.message).toMatch(/3 items, at most 2/);
  });

  it('rejects a count larger than the items present', () => {
    const e = formatError(() => struct({ amounts: c }).decode(b('02 0001'), 'summary'));
    expect(e.what).toBe('summary amounts[1]');
  });

  it('rejects items after the counted ones', () => {
    formatError(() => c.decode(b('01 0001 0002')));
  });

  it('rejects an input with no count byte', () => {
    formatError(() => c.decode(new Uint8Array(0)));
  });
});

describe('tlv (one BER-TLV object)', () => {
  const balance = tlv(0x9f79, bcdAmount(12));
  bothWays(balance, [
    [0, '9F79 06 000000000000'],
    [12345, '9F79 06 000000012345'],
  ]);
  describe('with a long length', () => {
    bothWays(tlv(0xdf16, rest()), [[new Uint8Array(200).fill(0x11), `DF16 81C8 ${'11'.repeat(200)}`]]);
  });

  it('rejects an object with a different tag', () => {
    const e = formatError(() => struct({ balance }).decode(b('9F78 06 000000012345'), 'GET DATA'));
    expect(e.what).toBe('GET DATA balance');
    expect(e.message).toMatch(/expected tag 9F79, found 9F78/);
  });

  it('rejects a value that is shorter than its length says', () => {
    formatError(() => balance.decode(b('9F79 06 0000000123')));
  });

  it('rejects a value the inner coder does not fully consume', () => {
    const e = formatError(() => balance.decode(b('9F79 07 00000001234500'), 'GET DATA'));
    expect(e.what).toBe('GET DATA 9F79');
  });

  it('rejects a truncated tag or length', () => {
    formatError(() => balance.decode(b('9F')));
    formatError(() => balance.decode(b('9F79')));
    formatError(() => tlv(0x70, rest()).decode(b('70 81')));
  });

  it('rejects an empty input as a missing object', () => {
    expect(formatError(() => balance.decode(new Uint8Array(0), 'GET DATA')).message).toMatch(/missing TLV/);
  });

  it('rejects an indefinite length', () => {
    formatError(() => tlv(0x70, rest()).decode(b('70 80 0000')));
  });

  it('reads exactly one object and leaves the next field alone', () => {
    const c = struct({ balance, mac: bytes(4) });
    expect(c.decode(b('9F79 06 000000012345 AABBCCDD'))).toEqual({ balance: 12345, mac: b('AABBCCDD') });
  });
});

describe('tlvFields (TLV members by tag)', () => {
  const template = tlvFields(
    {
      id: { tag: 0xdf01, coder: bcd(4) },
      amount: { tag: 0x9f79, coder: bcdAmount(12) },
      note: { tag: 0xdf24, coder: utf8Rest(), optional: true },
    },
    'test template',
  );

  bothWays(template, [
    [{ id: '1234', amount: 5 }, 'DF01 02 1234  9F79 06 000000000005'],
    [{ id: '1234', amount: 5, note: 'bob' }, 'DF01 02 1234  9F79 06 000000000005  DF24 03 626F62'],
  ]);

  it('decodes members in any order', () => {
    expect(template.decode(b('DF24 03 626F62  9F79 06 000000000005  DF01 02 1234'))).toEqual({ id: '1234', amount: 5, note: 'bob' });
    expect(template.decode(b('9F79 06 000000000005  DF01 02 1234'))).toEqual({ id: '1234', amount: 5 });
  });

  it('rejects an unknown tag', () => {
    const e = formatError(() => struct({ t: template }).decode(b('DF01 02 1234  9F79 06 000000000005  DF02 01 1F'), 'record'));
    expect(e.what).toBe('record t');
    expect(e.message).toMatch(/unexpected tag DF02 in test template/);
  });

  it('rejects a tag that appears twice', () => {
    const e = formatError(() => struct({ t: template }).decode(b('DF01 02 1234  DF01 02 5678  9F79 06 000000000005'), 'record'));
    expect(e.what).toBe('record t');
    expect(e.message).toMatch(/tag DF01 appears twice/);
  });

  it('rejects a missing mandatory member on decode', () => {
    const e = formatError(() => struct({ t: template }).decode(b('DF01 02 1234'), 'record'));
    expect(e.what).toBe('record t');
    expect(e.message).toMatch(/mandatory amount \(9F79\) missing/);
  });

  it('rejects a missing mandatory member on encode', () => {
    expect(whatOf(() => template.encode({ id: '1234' } as never))).toBe('test template');
  });

  it('names the tag of a member whose value does not decode', () => {
    expect(whatOf(() => template.decode(b('DF01 02 12A4  9F79 06 000000000005'), 'record'))).toBe('record DF01');
  });

  it('rejects a truncated member', () => {
    formatError(() => template.decode(b('DF01 02 1234  9F79 06 0000')));
  });

  it('refuses a definition that uses one tag for two members', () => {
    expect(() => tlvFields({ a: { tag: 0xdf01, coder: u8 }, b: { tag: 0xdf01, coder: u16 } }, 'broken')).toThrow(/DF01 used twice/);
  });
});

describe('leaving (a variable value followed by a fixed trailer)', () => {
  const withMac = struct({ data: leaving(rest(), 4), mac: bytes(4) });
  bothWays(withMac, [
    [{ data: b('010203'), mac: b('AABBCCDD') }, '010203 AABBCCDD'],
    [{ data: new Uint8Array(0), mac: b('AABBCCDD') }, 'AABBCCDD'],
  ]);

  it('rejects input shorter than the trailer', () => {
    const e = formatError(() => withMac.decode(b('AABBCC'), 'PUT DATA'));
    expect(e.what).toBe('PUT DATA data');
    expect(e.message).toMatch(/too short for the 4-byte trailer/);
  });

  it('decodes the inner value strictly, so it cannot swallow trailer bytes', () => {
    const c = struct({ data: leaving(struct({ a: u8, b: bytes(2) }), 4), mac: bytes(4) });
    expect(c.decode(b('01 0203 AABBCCDD'))).toEqual({ data: { a: 1, b: b('0203') }, mac: b('AABBCCDD') });
    formatError(() => c.decode(b('01 0203 EE AABBCCDD')));
  });
});

describe('error naming', () => {
  // BUG: Reader.take (fields.ts line 29) and the leaf coders build `what` as `${r.what} ${field}`;
  // at top level field is '', so u32.decode(fromHex('0102'), 'counter') throws what = 'counter '
  // (trailing space) and the message reads 'counter : needs 4 bytes ...'.
  it('names a top-level value without a trailing space', () => {
    expect(formatError(() => u32.decode(b('0102'), 'counter')).what).toBe('counter');
  });

  it('uses "value" when decode is given no name', () => {
    expect(formatError(() => u8.decode(b('0102'))).what).toBe('value');
  });
});
