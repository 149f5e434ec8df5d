/** @module Tests for the JR/T 0025.2 MAC1/MAC2/TAC data layouts: sizes, field offsets, known encodings, errors, and a load MACed over them end to end. */
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, randomBytes } from '../base/bytes.js';
import { u32 } from './codec/fields.js';
import { FormatError } from './errors.js';
import {
  loadMac1Data,
  loadMac2Data,
  loadMac2DataCoder,
  loadTacData,
  loadTacDataCoder,
  MAC_DATA,
  type MacDataName,
  purchaseMac1Data,
  purchaseMac2Data,
  purchaseTacData,
  purchaseTacDataCoder,
} from './mac-data.js';
import { TRANSACTION_TYPES } from './value-formats.js';
import { pbocLoadSessionKey, pbocMac, pbocTac, verifyPbocMac, verifyPbocTac } from '../crypto/pboc.js';

const terminalId = hexToBytes('112233445566');

/** Layout rows of a MAC data coder with their byte offsets (every field has a fixed size). */
function rowsWithOffsets(name: MacDataName): { field: string; offset: number; bytes: number; description: string }[] {
  let offset = 0;
  return MAC_DATA[name].coder.layout('').map((r) => {
    const bytes = Number(r.size);
    const row = { field: r.field, offset, bytes, description: r.description };
    offset += bytes;
    return row;
  });
}

// [layout, builder, fields, expected hex]: one row per layout, with every field distinguishable.
const LAYOUT_TABLE: [MacDataName, (f: never) => Uint8Array, object, string][] = [
  [
    'loadMac1',
    loadMac1Data,
    { balanceFen: 10000, amountFen: 5000, transactionType: 0x02, terminalId },
    '00002710' + '00001388' + '02' + '112233445566',
  ],
  [
    'loadMac2',
    loadMac2Data,
    { amountFen: 5000, transactionType: 0x02, terminalId, date: '20240131', time: '235958' },
    '00001388' + '02' + '112233445566' + '20240131' + '235958',
  ],
  [
    'loadTac',
    loadTacData,
    { newBalanceFen: 15000, counter: 7, amountFen: 5000, transactionType: 0x02, terminalId, date: '20240131', time: '235958' },
    '00003a98' + '00000007' + '00001388' + '02' + '112233445566' + '20240131' + '235958',
  ],
  [
    'purchaseMac1',
    purchaseMac1Data,
    { amountFen: 1, transactionType: 0x06, terminalId, date: '20251231', time: '080910' },
    '00000001' + '06' + '112233445566' + '20251231' + '080910',
  ],
  ['purchaseMac2', purchaseMac2Data, { amountFen: 0xfffffffe }, 'fffffffe'],
  [
    'purchaseTac',
    purchaseTacData,
    { amountFen: 99900, transactionType: 0x06, terminalId, terminalSequence: 0x0a0b0c0d, date: '20251231', time: '080910' },
    '0001863c' + '06' + '112233445566' + '0a0b0c0d' + '20251231' + '080910',
  ],
];

describe('MAC and TAC data layouts (JR/T 0025.2)', () => {
  it.each(LAYOUT_TABLE)('%s encodes the documented fields in order', (_name, build, fields, hex) => {
    expect(bytesToHex(build(fields as never))).toBe(hex);
  });

  it('layouts have the PBOC lengths: load MAC1 15, MAC2 18, TAC 26 (4-byte D-RMB counter); purchase MAC1 18, MAC2 4, TAC 22', () => {
    const total = (name: MacDataName) => rowsWithOffsets(name).reduce((n, r) => n + r.bytes, 0);
    expect(total('loadMac1')).toBe(15);
    expect(total('loadMac2')).toBe(18);
    expect(total('loadTac')).toBe(26);
    expect(total('purchaseMac1')).toBe(18);
    expect(total('purchaseMac2')).toBe(4);
    expect(total('purchaseTac')).toBe(22);
    for (const name of Object.keys(MAC_DATA) as MacDataName[]) expect(MAC_DATA[name].coder.size, name).toBe(total(name));
  });

  it('published layout rows have fixed sizes and add up to what the builders produce', () => {
    for (const [name, build, fields, hex] of LAYOUT_TABLE) {
      const rows = rowsWithOffsets(name);
      for (const r of rows) expect(Number.isInteger(r.bytes) && r.bytes > 0, `${name}.${r.field}`).toBe(true);
      const end = rows.at(-1)!.offset + rows.at(-1)!.bytes;
      expect(end).toBe(build(fields as never).length);
      expect(2 * end).toBe(hex.length);
    }
  });

  it('field positions: load TAC has the 4-byte counter at offset 4 and terminal ID at 13; purchase TAC the sequence at 11', () => {
    const at = (name: MacDataName, field: string) => rowsWithOffsets(name).find((r) => r.field === field);
    expect(at('loadTac', 'counter')).toMatchObject({ offset: 4, bytes: 4 });
    expect(at('loadTac', 'terminalId')).toMatchObject({ offset: 13, bytes: 6 });
    expect(at('loadTac', 'date')).toMatchObject({ offset: 19, bytes: 4 });
    expect(at('purchaseTac', 'terminalSequence')).toMatchObject({ offset: 11, bytes: 4 });
    expect(at('purchaseTac', 'time')).toMatchObject({ offset: 19, bytes: 3 });
    expect(at('loadMac1', 'transactionType')).toMatchObject({ offset: 8, bytes: 1 });
  });

  it('changing any one field changes exactly that field’s bytes, and the MAC', () => {
    const key = randomBytes(16);
    for (const [name, build, fields] of LAYOUT_TABLE) {
      const base = build(fields as never);
      const baseMac = bytesToHex(pbocMac(key, base));
      for (const row of rowsWithOffsets(name)) {
        const value = (fields as Record<string, unknown>)[row.field];
        let changed: unknown;
        if (typeof value === 'number') changed = value % 2 === 0 ? value + 1 : value - 1;
        else if (typeof value === 'string') {
          // The last digit moves by one, so a date or time stays valid.
          const last = Number(value.at(-1));
          changed = value.slice(0, -1) + String(last % 2 === 0 ? last + 1 : last - 1);
        } else {
          const b = (value as Uint8Array).slice();
          b[b.length - 1] ^= 1;
          changed = b;
        }
        const mutated = build({ ...fields, [row.field]: changed } as never);
        for (let i = 0; i < base.length; i++) {
          const inField = i >= row.offset && i < row.offset + row.bytes;
          if (!inField) expect(mutated[i], `${name}.${row.field} byte ${i}`).toBe(base[i]);
        }
        expect(bytesToHex(mutated.subarray(row.offset, row.offset + row.bytes))).not.toBe(
          bytesToHex(base.subarray(row.offset, row.offset + row.bytes)),
        );
        expect(bytesToHex(pbocMac(key, mutated)), `${name}.${row.field}`).not.toBe(baseMac);
      }
    }
  });

  it('each layout decodes its own encoding back to the fields (the host and issuer read the same bytes)', () => {
    for (const [name, , fields, hex] of LAYOUT_TABLE) {
      expect(MAC_DATA[name].coder.decode(hexToBytes(hex), name), name).toEqual(fields);
    }
    expect(purchaseTacDataCoder.decode(hexToBytes(LAYOUT_TABLE[5][3])).terminalSequence).toBe(0x0a0b0c0d);
  });

  it('rejects out-of-range amounts, wrong-length terminal IDs, bad dates and times, non-BCD bytes and missing fields with FormatError', () => {
    const ok = { balanceFen: 1, amountFen: 1, transactionType: 2, terminalId };
    expect(() => loadMac1Data({ ...ok, amountFen: 2 ** 32 })).toThrow(FormatError);
    expect(() => loadMac1Data({ ...ok, amountFen: -1 })).toThrow(FormatError);
    expect(() => loadMac1Data({ ...ok, amountFen: 1.5 })).toThrow(FormatError);
    expect(() => loadMac1Data({ ...ok, transactionType: 256 })).toThrow(FormatError);
    expect(() => loadMac1Data({ ...ok, terminalId: new Uint8Array(5) })).toThrow(FormatError);
    expect(() => loadMac1Data({ ...ok, terminalId: undefined } as never)).toThrow(FormatError);
    const m2 = { amountFen: 1, transactionType: 2, terminalId, time: '120000' };
    expect(() => loadMac2Data({ ...m2, date: '2024013' })).toThrow(FormatError);
    expect(() => loadMac2Data({ ...m2, date: '2024013a' })).toThrow(FormatError);
    expect(() => loadMac2Data({ ...m2, date: '20240230' })).toThrow(FormatError);
    expect(() => loadMac2Data({ ...m2, date: '20240131', time: '240000' })).toThrow(FormatError);
    expect(() => loadMac2DataCoder.decode(hexToBytes('00000001' + '02' + '112233445566' + '20240a31' + '120000'))).toThrow(FormatError);
    expect(() => loadTacData({ ...m2, date: '20240131', newBalanceFen: 1, counter: 2 ** 32 })).toThrow(FormatError);
    expect(() => loadTacDataCoder.decode(new Uint8Array(25))).toThrow(FormatError);
  });

  it('the load and purchase transaction types are the JR/T 0025.2 e-purse ones (02, 06)', () => {
    expect(TRANSACTION_TYPES.LOAD).toBe(0x02);
    expect(TRANSACTION_TYPES.PURCHASE).toBe(0x06);
  });

  it('a load runs end to end: card MAC1 verified by host, host MAC2 verified by card, TAC checked by issuer', () => {
    const dlk = randomBytes(16);
    const dtk = randomBytes(16);
    const cardRandom = randomBytes(4);
    const counter = 9;
    const tx = { amountFen: 2000, transactionType: TRANSACTION_TYPES.LOAD, terminalId };
    const clock = { date: '20240301', time: '101500' };

    const cardKey = pbocLoadSessionKey(dlk, cardRandom, u32.encode(counter));
    const mac1 = pbocMac(cardKey, loadMac1Data({ balanceFen: 500, ...tx }));
    const hostKey = pbocLoadSessionKey(dlk, cardRandom, u32.encode(counter));
    expect(verifyPbocMac(hostKey, loadMac1Data({ balanceFen: 500, ...tx }), mac1)).toBe(true);
    expect(verifyPbocMac(hostKey, loadMac1Data({ balanceFen: 501, ...tx }), mac1)).toBe(false);

    const mac2 = pbocMac(hostKey, loadMac2Data({ ...tx, ...clock }));
    expect(verifyPbocMac(cardKey, loadMac2Data({ ...tx, ...clock }), mac2)).toBe(true);
    expect(verifyPbocMac(cardKey, loadMac2Data({ ...tx, ...clock, amountFen: 20000 }), mac2)).toBe(false);

    const tacData = loadTacData({ newBalanceFen: 2500, counter, ...tx, ...clock });
    expect(verifyPbocTac(dtk, tacData, pbocTac(dtk, tacData))).toBe(true);
    expect(verifyPbocTac(dtk, loadTacData({ newBalanceFen: 2500, counter: counter + 1, ...tx, ...clock }), pbocTac(dtk, tacData))).toBe(false);
  });
});
