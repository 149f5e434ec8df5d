/** @module Tests for the DGI codec (EMV CPS v1.1 4.3.2 / Annex A). */
import { describe, expect, it } from 'vitest';
import { dgiToHex, encodeDgi, encodeDgiList, parseDgiList, type Dgi } from './dgi.js';
import { fromHex, hex } from '../../base/hex.js';
import { expectFormatError } from '../../test/expect-format-error.js';


const filled = (n: number) => new Uint8Array(n).fill(0xab);
const ab = (n: number) => 'AB'.repeat(n);

describe('encodeDgi / parseDgiList', () => {
  // [name, value, hex]: checked in both directions.
  const table: [string, Dgi, string][] = [
    ['length 0', { dgi: 0x7fff, value: new Uint8Array(0) }, '7FFF 00'],
    ['length 3', { dgi: 0x0101, value: fromHex('700100') }, '0101 03 700100'],
    ['length 254, the largest 1-byte length', { dgi: 0x8a01, value: filled(254) }, `8A01 FE ${ab(254)}`],
    ['length 255, the smallest 3-byte length', { dgi: 0x8a02, value: filled(255) }, `8A02 FF00FF ${ab(255)}`],
    ['length 1000', { dgi: 0xe001, value: filled(1000) }, `E001 FF03E8 ${ab(1000)}`],
    ['length 65535', { dgi: 0x0102, value: filled(65535) }, `0102 FFFFFF ${ab(65535)}`],
  ];
  it.each(table)('%s encodes to and parses from its hex', (_n, value, h) => {
    expect(hex(encodeDgi(value))).toBe(hex(fromHex(h)));
    const [parsed, ...rest] = parseDgiList(fromHex(h));
    expect(rest).toEqual([]);
    expect(parsed.dgi).toBe(value.dgi);
    expect(hex(parsed.value)).toBe(hex(value.value));
  });

  it('encodes a list in order and parses it back', () => {
    const list: Dgi[] = [
      { dgi: 0x0101, value: fromHex('7003DF0100') },
      { dgi: 0x9000, value: fromHex('112233') },
      { dgi: 0x7fff, value: new Uint8Array(0) },
    ];
    const h = '0101 05 7003DF0100  9000 03 112233  7FFF 00';
    expect(hex(encodeDgiList(list))).toBe(hex(fromHex(h)));
    expect(parseDgiList(fromHex(h))).toStrictEqual(list);
    expect(parseDgiList(new Uint8Array(0))).toEqual([]);
  });

  it('prints DGIs as 4 uppercase hex digits', () => {
    expect(dgiToHex(0x8a01)).toBe('8A01');
    expect(dgiToHex(0x0101)).toBe('0101');
  });
});

describe('malformed DGIs', () => {
  it('rejects a truncated identifier', () => {
    expectFormatError(() => parseDgiList(fromHex('01')), 'DGI identifier');
    expectFormatError(() => parseDgiList(fromHex('7FFF00 01')), 'DGI identifier');
  });
  it('rejects a missing or truncated length', () => {
    expectFormatError(() => parseDgiList(fromHex('0101')), 'DGI 0101 length');
    expectFormatError(() => parseDgiList(fromHex('0101 FF01')), 'DGI 0101 length');
  });
  it('rejects a value shorter than its length', () => {
    expectFormatError(() => parseDgiList(fromHex('8A01 05 0102')), 'DGI 8A01 value');
    expectFormatError(() => parseDgiList(fromHex(`8A01 FF03E8 ${ab(999)}`)), 'DGI 8A01 value');
  });
  it('rejects the 3-byte form for a length below 255 unless strict is off', () => {
    expectFormatError(() => parseDgiList(fromHex('0101 FF0002 AABB')), 'DGI 0101 length');
    expect(parseDgiList(fromHex('0101 FF0002 AABB'), { strict: false })).toStrictEqual([{ dgi: 0x0101, value: fromHex('AABB') }]);
  });
  it('rejects values over 65535 bytes and identifiers outside 0000..FFFF', () => {
    expectFormatError(() => encodeDgi({ dgi: 0x8a01, value: new Uint8Array(65536) }), 'DGI 8A01 length');
    expectFormatError(() => encodeDgi({ dgi: 0x10000, value: new Uint8Array(0) }), 'DGI identifier');
    expectFormatError(() => encodeDgi({ dgi: -1, value: new Uint8Array(0) }), 'DGI identifier');
  });
});
