/** @module Tests for the APDU codec (ISO/IEC 7816-4 cases 1-4, short and extended, chaining) and the hex helpers. */
import { describe, expect, it } from 'vitest';
import { loadVectors } from '../../test/vectors.js';
import {
  chainCommand,
  claAllowsChaining,
  decodeCommandApdu,
  decodeResponseApdu,
  encodeCommandApdu,
  encodeResponseApdu,
  joinChain,
  swToHex,
  type CommandApdu,
} from './apdu.js';
import { fromHex, hex } from '../../base/hex.js';
import { expectFormatError } from '../../test/expect-format-error.js';


const bytes = (h: string) => fromHex(h);
const filled = (n: number, b = 0xab) => new Uint8Array(n).fill(b);
const ab = (n: number) => 'AB'.repeat(n);

// [name, value, hex]: checked in both directions (encode(value) === hex and decode(hex) equals value).
const roundTrip: [string, CommandApdu, string][] = [
  ['case 1', { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: bytes('') }, '00A40400'],
  ['case 2S', { cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x79, data: bytes(''), le: 5 }, '80CA9F7905'],
  ['case 2S, Le 00 = 256', { cla: 0x00, ins: 0xc0, p1: 0x00, p2: 0x00, data: bytes(''), le: 256 }, '00C0000000'],
  ['case 3S', { cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x00, data: bytes('123456FF') }, '00200000 04 123456FF'],
  ['case 3S, Lc FF', { cla: 0x80, ins: 0xe2, p1: 0x00, p2: 0x00, data: filled(255) }, `80E20000 FF ${ab(255)}`],
  ['case 4S', { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: bytes('A0000003330101'), le: 0x10 }, '00A40400 07 A0000003330101 10'],
  ['case 4S, Le 00 = 256', { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: bytes('A0000003330101'), le: 256 }, '00A40400 07 A0000003330101 00'],
  ['case 2E', { cla: 0x00, ins: 0xb0, p1: 0x00, p2: 0x00, data: bytes(''), le: 300, extended: true }, '00B00000 00 012C'],
  ['case 2E, Le 0000 = 65536', { cla: 0x00, ins: 0xb0, p1: 0x00, p2: 0x00, data: bytes(''), le: 65536, extended: true }, '00B00000 00 0000'],
  ['case 2E forced for a small Le', { cla: 0x80, ins: 0xca, p1: 0x9f, p2: 0x79, data: bytes(''), le: 5, extended: true }, '80CA9F79 00 0005'],
  ['case 3E', { cla: 0x80, ins: 0x52, p1: 0x08, p2: 0x00, data: filled(256), extended: true }, `80520800 00 0100 ${ab(256)}`],
  ['case 3E forced for small data', { cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x00, data: bytes('1234'), extended: true }, '00200000 00 0002 1234'],
  ['case 4E with Le', { cla: 0x80, ins: 0x54, p1: 0x01, p2: 0x00, data: bytes('010203'), le: 1000, extended: true }, '80540100 00 0003 010203 03E8'],
  ['case 4E, Le 0000 = 65536', { cla: 0x80, ins: 0x52, p1: 0x08, p2: 0x00, data: filled(300), le: 65536, extended: true }, `80520800 00 012C ${ab(300)} 0000`],
  ['case 4E, Le 256 forced', { cla: 0x80, ins: 0x52, p1: 0x08, p2: 0x00, data: filled(2), le: 256, extended: true }, '80520800 00 0002 ABAB 0100'],
];

describe('encodeCommandApdu / decodeCommandApdu', () => {
  it.each(roundTrip)('%s encodes to and decodes from its hex', (_name, value, h) => {
    expect(hex(encodeCommandApdu(value))).toBe(hex(fromHex(h)));
    expect(decodeCommandApdu(fromHex(h))).toStrictEqual(value);
  });

  it('picks extended encoding by itself when Nc > 255 or Ne > 256', () => {
    expect(hex(encodeCommandApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, data: bytes(''), le: 257 }))).toBe('00B00000000101');
    expect(hex(encodeCommandApdu({ cla: 0x80, ins: 0x52, p1: 0, p2: 0, data: filled(256), le: 1 }))).toBe(`80520000000100${ab(256)}0001`);
  });

  it('encodes case 1 as the bare header even when extended is forced (case 1 has no length field)', () => {
    expect(hex(encodeCommandApdu({ cla: 0x80, ins: 0xf2, p1: 0x20, p2: 0x02, data: bytes(''), extended: true }))).toBe('80F22002');
  });

  it('re-encodes every command APDU in the SCP03 vectors byte for byte, with the case the vector names', () => {
    const v = loadVectors('scp03');
    const commands: string[] = [v.plain.get_eid_cmd, v.plain.case_1, v.plain.case_2, v.plain.case_3, v.plain.case_4];
    for (const s of v.sessions) commands.push(s.init_update_cmd, s.ext_auth_cmd, s.get_eid_cmd, s.case_1, s.case_2, s.case_3, s.case_4);
    for (const c of commands) expect(hex(encodeCommandApdu(decodeCommandApdu(fromHex(c))))).toBe(c.toUpperCase());
    const plain = (k: 'case_1' | 'case_2' | 'case_3' | 'case_4') => decodeCommandApdu(fromHex(v.plain[k]));
    expect([plain('case_1').data.length, plain('case_1').le]).toEqual([0, undefined]);
    expect([plain('case_2').data.length, plain('case_2').le]).toEqual([0, 256]);
    expect([plain('case_3').data.length > 0, plain('case_3').le]).toEqual([true, undefined]);
    expect([plain('case_4').data.length > 0, plain('case_4').le]).toEqual([true, 256]);
  });

  it('rejects a command shorter than the 4-byte header', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A404')), 'APDU header');
  });
  it('rejects a short Lc larger than the data present (truncated)', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 05 0102')), 'APDU Lc');
  });
  it('rejects bytes after a short Le', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 02 0102 00 00')), 'APDU trailing bytes');
  });
  it('rejects B1 = 00 followed by a single byte (extended header cut short)', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 00 01')), 'APDU extended header');
  });
  it('rejects an extended Lc larger than the data present', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 00 0003 0102')), 'APDU Lc');
  });
  it('rejects an extended Lc of 0000 followed by a body', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 00 0000 01')), 'APDU Lc');
  });
  it('rejects a 1-byte Le after extended Lc and data', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 00 0003 010203 00')), 'APDU extended header');
  });
  it('rejects bytes after an extended Le', () => {
    expectFormatError(() => decodeCommandApdu(bytes('00A40400 00 0003 010203 0000 00')), 'APDU trailing bytes');
  });

  it('rejects header fields that are not bytes', () => {
    const base = { cla: 0, ins: 0xa4, p1: 4, p2: 0, data: bytes('') };
    expectFormatError(() => encodeCommandApdu({ ...base, cla: 0x100 }), 'APDU CLA');
    expectFormatError(() => encodeCommandApdu({ ...base, ins: -1 }), 'APDU INS');
    expectFormatError(() => encodeCommandApdu({ ...base, p1: 1.5 }), 'APDU P1');
    expectFormatError(() => encodeCommandApdu({ ...base, p2: 256 }), 'APDU P2');
  });
  it('rejects Nc > 65535 and Ne outside 1..65536', () => {
    const base = { cla: 0, ins: 0xa4, p1: 4, p2: 0, data: bytes('') };
    expectFormatError(() => encodeCommandApdu({ ...base, data: new Uint8Array(65536) }), 'APDU Lc');
    expectFormatError(() => encodeCommandApdu({ ...base, le: 0 }), 'APDU Le');
    expectFormatError(() => encodeCommandApdu({ ...base, le: 65537 }), 'APDU Le');
  });
});

describe('encodeResponseApdu / decodeResponseApdu', () => {
  const table: [string, { data: Uint8Array; sw: number }, string][] = [
    ['status only', { data: bytes(''), sw: 0x9000 }, '9000'],
    ['data and status', { data: bytes('000186A0'), sw: 0x9000 }, '000186A09000'],
    ['error status', { data: bytes(''), sw: 0x6a82 }, '6A82'],
    ['more data', { data: bytes('0102'), sw: 0x6110 }, '01026110'],
  ];
  it.each(table)('%s encodes to and decodes from its hex', (_n, value, h) => {
    expect(hex(encodeResponseApdu(value))).toBe(h);
    expect(decodeResponseApdu(fromHex(h))).toStrictEqual(value);
  });
  it('rejects a response without both status bytes', () => {
    expectFormatError(() => decodeResponseApdu(bytes('90')), 'response APDU');
    expectFormatError(() => decodeResponseApdu(bytes('')), 'response APDU');
  });
  it('rejects a status word outside 0000..FFFF', () => {
    expectFormatError(() => encodeResponseApdu({ data: bytes(''), sw: 0x10000 }), 'SW');
  });
});

describe('swToHex', () => {
  it('prints 4 uppercase digits', () => {
    expect(swToHex(0x6a82)).toBe('6A82');
    expect(swToHex(0x9000)).toBe('9000');
    expect(swToHex(0x0001)).toBe('0001');
  });
  it('rejects a value that is not a status word', () => {
    expectFormatError(() => swToHex(0x10000), 'SW');
  });
});

describe('chainCommand / joinChain (ISO 7816-4 command chaining)', () => {
  const data600 = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
  const long: CommandApdu = { cla: 0x80, ins: 0x52, p1: 0x08, p2: 0x00, data: data600, le: 0x40 };

  it('splits 600 bytes into 255 + 255 + 90 with b5 set on all but the last block and Le only on the last', () => {
    const blocks = chainCommand(long);
    expect(blocks.map((b) => b.data.length)).toEqual([255, 255, 90]);
    expect(blocks.map((b) => b.cla)).toEqual([0x90, 0x90, 0x80]);
    expect(blocks.map((b) => b.le)).toEqual([undefined, undefined, 0x40]);
    expect(blocks.every((b) => b.ins === 0x52 && b.p1 === 0x08 && b.p2 === 0x00)).toBe(true);
    expect(hex(encodeCommandApdu(blocks[0]))).toBe(`90520800FF${hex(data600.subarray(0, 255))}`);
    expect(hex(encodeCommandApdu(blocks[2]))).toBe(`805208005A${hex(data600.subarray(510))}40`);
  });
  it('joinChain undoes chainCommand', () => {
    expect(joinChain(chainCommand(long))).toStrictEqual(long);
    const ext: CommandApdu = { ...long, extended: true };
    expect(joinChain(chainCommand(ext, 100))).toStrictEqual(ext);
  });
  it('returns the command itself when the data fits in one block', () => {
    const c: CommandApdu = { ...long, data: filled(255) };
    const blocks = chainCommand(c);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toBe(c);
    expect(joinChain(blocks)).toStrictEqual(c);
  });
  it('splits exactly at block boundaries and honours blockSize', () => {
    expect(chainCommand({ ...long, data: filled(510) }).map((b) => b.data.length)).toEqual([255, 255]);
    expect(chainCommand({ ...long, data: filled(250) }, 100).map((b) => b.data.length)).toEqual([100, 100, 50]);
  });
  it('carries extended onto every block', () => {
    const blocks = chainCommand({ ...long, extended: true }, 300);
    expect(blocks.map((b) => b.extended)).toEqual([true, true]);
  });
  it('sets b5 on the interindustry class 00 and the secure-messaging class 84', () => {
    expect(chainCommand({ ...long, cla: 0x00 }).map((b) => b.cla)).toEqual([0x10, 0x10, 0x00]);
    expect(chainCommand({ ...long, cla: 0x84 }).map((b) => b.cla)).toEqual([0x94, 0x94, 0x84]);
  });
  it('rejects a CLA that already has the chaining bit, even for one block', () => {
    expectFormatError(() => chainCommand({ ...long, cla: 0x90 }), 'chain CLA');
    expectFormatError(() => chainCommand({ ...long, cla: 0x10, data: filled(4) }), 'chain CLA');
  });
  it('rejects splitting under an RFU or invalid class', () => {
    expect(claAllowsChaining(0x20)).toBe(false);
    expect(claAllowsChaining(0xff)).toBe(false);
    expect(claAllowsChaining(0x60)).toBe(true);
    expectFormatError(() => chainCommand({ ...long, cla: 0x20 }), 'chain CLA');
  });
  it('rejects a block size outside 1..65535', () => {
    expectFormatError(() => chainCommand(long, 0), 'chain block size');
  });

  it('rejects an empty chain', () => {
    expectFormatError(() => joinChain([]), 'chain');
  });
  it('rejects a chain whose last block still has b5 set', () => {
    const blocks = chainCommand(long);
    expectFormatError(() => joinChain(blocks.slice(0, 2)), 'chain last block CLA');
  });
  it('rejects a chain with a block other than the last lacking b5', () => {
    const blocks = chainCommand(long);
    blocks[1] = { ...blocks[1], cla: 0x80 };
    expectFormatError(() => joinChain(blocks), 'chain block 1 CLA');
  });
  it('rejects blocks whose class differs apart from b5', () => {
    const blocks = chainCommand(long);
    blocks[0] = { ...blocks[0], cla: 0x94 };
    expectFormatError(() => joinChain(blocks), 'chain block 0 CLA');
  });
  it('rejects blocks with a different INS, P1 or P2', () => {
    for (const change of [{ ins: 0x54 }, { p1: 0x07 }, { p2: 0x01 }]) {
      const blocks = chainCommand(long);
      blocks[0] = { ...blocks[0], ...change };
      expectFormatError(() => joinChain(blocks), 'chain block 0 header');
    }
  });
  it('rejects Le on a block other than the last', () => {
    const blocks = chainCommand(long);
    blocks[0] = { ...blocks[0], le: 256 };
    expectFormatError(() => joinChain(blocks), 'chain block 0 Le');
  });
});

describe('hex / fromHex', () => {
  it('prints uppercase without separators', () => {
    expect(hex(Uint8Array.of(0x00, 0x6a, 0x82, 0xff))).toBe('006A82FF');
    expect(hex(new Uint8Array(0))).toBe('');
  });
  it('reads either case and ignores spaces', () => {
    expect(Array.from(fromHex('00 a4 04 00'))).toEqual([0x00, 0xa4, 0x04, 0x00]);
    expect(Array.from(fromHex('6A82'))).toEqual([0x6a, 0x82]);
    expect(fromHex('')).toStrictEqual(new Uint8Array(0));
  });
  it('rejects an odd number of digits and non-hex characters', () => {
    expectFormatError(() => fromHex('ABC'), 'hex');
    expectFormatError(() => fromHex('0G'), 'hex');
    expectFormatError(() => fromHex('0x12'), 'hex');
  });
});
