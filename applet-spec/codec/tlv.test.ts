/** @module Tests for the BER-TLV codec (EMV Book 3 Annex B, ISO/IEC 7816-4 BER-TLV). */
import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../base/hex.js';
import {
  encodeLength,
  encodeTag,
  encodeTlv,
  encodeTlvList,
  findTlv,
  findTlvDeep,
  isConstructedTag,
  parseTlv,
  parseTlvOne,
  tagToHex,
} from './tlv.js';
import { expectFormatError } from '../../test/expect-format-error.js';


describe('tags', () => {
  // [tag, tag field hex]
  const tags: [number, string][] = [
    [0x70, '70'],
    [0x84, '84'],
    [0x6f, '6F'],
    [0x9f79, '9F79'],
    [0x9f02, '9F02'], // EMV two-byte tag with a number below 31
    [0x9f17, '9F17'],
    [0xbf0c, 'BF0C'],
    [0x7f21, '7F21'],
    [0xdf01, 'DF01'],
    [0x5f25, '5F25'],
    [0xdf8101, 'DF8101'],
    [0x9f8120, '9F8120'],
  ];
  it.each(tags.map(([tag, h]) => ({ tag, h })))('tag $h encodes to and parses from its tag field', ({ tag, h }) => {
    expect(hex(encodeTag(tag))).toBe(h);
    expect(tagToHex(tag)).toBe(h);
    expect(parseTlvOne(fromHex(h + '00')).tag).toBe(tag);
  });

  it('marks tags with b6 of the first byte as constructed', () => {
    expect([0x70, 0x6f, 0xa5, 0xbf0c, 0x7f21].map(isConstructedTag)).toEqual([true, true, true, true, true]);
    expect([0x84, 0x50, 0x9f79, 0xdf01, 0x5f25, 0xdf8101].map(isConstructedTag)).toEqual([false, false, false, false, false, false]);
  });

  it('rejects tag numbers that are not well-formed 1-3 byte tags', () => {
    expectFormatError(() => encodeTag(0x9f), 'TLV tag 9F'); // announces a second byte
    expectFormatError(() => encodeTag(0x9f80), 'TLV tag 9F80'); // leading-zero subsequent byte
    expectFormatError(() => encodeTag(0x9f81), 'TLV tag 9F81'); // last byte has b8 set
    expectFormatError(() => encodeTag(0x7001), 'TLV tag 7001'); // 70 is a one-byte tag
    expectFormatError(() => encodeTag(0xdf0101), 'TLV tag DF0101'); // second byte ends the tag early
    expectFormatError(() => encodeTag(0xdf8181), 'TLV tag DF8181'); // would need a 4th byte
    expectFormatError(() => encodeTag(0xff), 'TLV tag FF');
    expectFormatError(() => encodeTag(0), 'TLV tag');
    expectFormatError(() => encodeTag(0x1000000), 'TLV tag');
  });
});

describe('lengths', () => {
  // [length, length field hex]
  const lengths: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7F'],
    [128, '8180'],
    [255, '81FF'],
    [256, '820100'],
    [65535, '82FFFF'],
    [65536, '83010000'],
  ];
  it.each(lengths)('length %i encodes to and parses from %s', (n, h) => {
    expect(hex(encodeLength(n))).toBe(h);
    const value = new Uint8Array(n).fill(0x5a);
    const encoded = encodeTlv(0xc1, value);
    expect(hex(encoded.subarray(0, 1 + h.length / 2))).toBe('C1' + h);
    const parsed = parseTlvOne(encoded);
    expect(parsed.tag).toBe(0xc1);
    expect(parsed.value.length).toBe(n);
    expect(hex(parsed.value)).toBe(hex(value));
  });
  it('encodes the largest 3-byte length as 83 FFFFFF', () => {
    expect(hex(encodeLength(0xffffff))).toBe('83FFFFFF');
  });
  it('rejects lengths that do not fit 83 xxxxxx', () => {
    expectFormatError(() => encodeLength(0x1000000), 'TLV length');
    expectFormatError(() => encodeLength(-1), 'TLV length');
  });
});

describe('constructed objects', () => {
  // FCI layout from the command table: 6F{84 AID, A5{50 label, BF0C{DF01 card ID, DF02 state}}}
  const fciHex = '6F1D 8407A0000003330101 A512 5004 44524D42 BF0C09 DF01021234 DF02011F';
  const fci = () =>
    encodeTlv(
      0x6f,
      encodeTlvList([
        { tag: 0x84, value: fromHex('A0000003330101') },
        {
          tag: 0xa5,
          value: encodeTlvList([
            { tag: 0x50, value: new TextEncoder().encode('DRMB') },
            { tag: 0xbf0c, value: encodeTlvList([{ tag: 0xdf01, value: fromHex('1234') }, { tag: 0xdf02, value: fromHex('1F') }]) },
          ]),
        },
      ]),
    );

  it('nests by encoding lists as values', () => {
    expect(hex(fci())).toBe(hex(fromHex(fciHex)));
  });
  it('parses constructed values into children recursively', () => {
    const [top] = parseTlv(fromHex(fciHex));
    expect(top.tag).toBe(0x6f);
    expect(top.constructed).toBe(true);
    expect(top.children!.map((c) => c.tag)).toEqual([0x84, 0xa5]);
    const a5 = findTlv(top.children!, 0xa5)!;
    expect(a5.children!.map((c) => c.tag)).toEqual([0x50, 0xbf0c]);
    const bf0c = findTlv(a5.children!, 0xbf0c)!;
    expect(bf0c.children).toStrictEqual([
      { tag: 0xdf01, constructed: false, value: fromHex('1234') },
      { tag: 0xdf02, constructed: false, value: fromHex('1F') },
    ]);
    expect(hex(findTlv(top.children!, 0x84)!.value)).toBe('A0000003330101');
  });
  it('findTlv looks at direct members only, findTlvDeep descends', () => {
    const list = parseTlv(fromHex(fciHex));
    expect(findTlv(list, 0xdf01)).toBeUndefined();
    expect(hex(findTlvDeep(list, 0xdf01)!.value)).toBe('1234');
    expect(findTlvDeep(list, 0x9f79)).toBeUndefined();
  });
  it('leaves constructed values unparsed with recursive: false', () => {
    const [top] = parseTlv(fromHex(fciHex), { recursive: false });
    expect(top.children).toBeUndefined();
    expect(hex(top.value)).toBe(hex(fromHex(fciHex).subarray(2)));
  });
  it('parses an empty constructed object and an empty buffer', () => {
    expect(parseTlvOne(fromHex('7000'))).toStrictEqual({ tag: 0x70, constructed: true, value: new Uint8Array(0), children: [] });
    expect(parseTlv(new Uint8Array(0))).toEqual([]);
  });
  it('parses a list of several top-level objects', () => {
    const list = parseTlv(fromHex('9F7904000186A0 9F36020007 9F170103'));
    expect(list.map((t) => tagToHex(t.tag))).toEqual(['9F79', '9F36', '9F17']);
    expect(hex(list[1].value)).toBe('0007');
  });
});

describe('malformed TLV', () => {
  it('rejects a non-minimal 81 length in strict mode and accepts it when not strict', () => {
    expectFormatError(() => parseTlv(fromHex('9F79 8105 0102030405')), 'TLV 9F79 length');
    expect(hex(parseTlvOne(fromHex('9F79 8105 0102030405'), { strict: false }).value)).toBe('0102030405');
  });
  it('rejects non-minimal 82 and 83 lengths', () => {
    expectFormatError(() => parseTlv(fromHex('9F79 820005 0102030405')), 'TLV 9F79 length');
    expectFormatError(() => parseTlv(fromHex(`C1 8300FFFF ${'00'.repeat(0xffff)}`)), 'TLV C1 length');
  });
  it('rejects the indefinite length 80', () => {
    expectFormatError(() => parseTlv(fromHex('70 80 8401AA 0000')), 'TLV 70 length');
  });
  it('rejects length fields of 84 and longer', () => {
    expectFormatError(() => parseTlv(fromHex('C1 8400000001 AA')), 'TLV C1 length');
  });
  it('rejects a truncated tag', () => {
    expectFormatError(() => parseTlv(fromHex('9F')), 'TLV tag');
    expectFormatError(() => parseTlv(fromHex('DF81')), 'TLV tag');
    expectFormatError(() => parseTlv(fromHex('8401AA 9F')), 'TLV tag');
  });
  it('rejects tags longer than 3 bytes and a leading-zero subsequent byte', () => {
    expectFormatError(() => parseTlv(fromHex('DF818101 00')), 'TLV tag');
    expectFormatError(() => parseTlv(fromHex('9F80 00')), 'TLV tag');
  });
  it('rejects a missing or truncated length', () => {
    expectFormatError(() => parseTlv(fromHex('9F79')), 'TLV 9F79 length');
    expectFormatError(() => parseTlv(fromHex('9F79 8201')), 'TLV 9F79 length');
  });
  it('rejects a value shorter than its length', () => {
    expectFormatError(() => parseTlv(fromHex('9F79 05 0102')), 'TLV 9F79 value');
  });
  it('rejects 00 and FF padding between objects', () => {
    expectFormatError(() => parseTlv(fromHex('8401AA 00 8401BB')), 'TLV tag');
    expectFormatError(() => parseTlv(fromHex('FF 8401AA')), 'TLV tag');
  });
  it('names the path of a nested error', () => {
    expectFormatError(() => parseTlv(fromHex('6F05 A503 5005 41')), 'TLV 6F/A5/50 value');
    expectFormatError(() => parseTlv(fromHex('6F03 A501 9F')), 'TLV 6F/A5/tag');
  });
  it('parseTlvOne rejects trailing bytes and empty input', () => {
    expectFormatError(() => parseTlvOne(fromHex('8401AA 8401BB')), 'TLV trailing bytes');
    expectFormatError(() => parseTlvOne(new Uint8Array(0)), 'TLV');
  });
  it('a constructed object must hold whole objects', () => {
    expectFormatError(() => parseTlv(fromHex('7003 9F7901')), 'TLV 70/9F79 value');
  });
});
