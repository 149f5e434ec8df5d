/** @module Tests for the PBOC e-purse SM4 cryptography: process keys, MAC1/MAC2/TAC and the MACed data layouts. */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../base/format-error.js';
import { bytesToHex, hexToBytes, randomBytes } from '../base/bytes.js';
import {
  PBOC_LOAD_KEY_TRAILER,
  PBOC_MAC_LAYOUTS,
  PBOC_TRANSACTION_TYPE,
  type PbocLayoutName,
  loadMac1Data,
  loadMac2Data,
  loadTacData,
  pbocLoadSessionKey,
  pbocMac,
  pbocPurchaseSessionKey,
  pbocSessionKey,
  pbocTac,
  purchaseMac1Data,
  purchaseMac2Data,
  purchaseTacData,
  verifyPbocMac,
  verifyPbocTac,
} from './pboc.js';

function nodeEcbBlock(key: Uint8Array, block: Uint8Array): string {
  const c = createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]).toString('hex');
}
/** MAC algorithm 1 computed with OpenSSL: last block of SM4-CBC, IV 0, over data || 80 00.., leftmost 4 bytes. */
function nodeMac4(key: Uint8Array, data: Uint8Array): string {
  const padded = new Uint8Array(data.length + 16 - (data.length % 16));
  padded.set(data);
  padded[data.length] = 0x80;
  const c = createCipheriv('sm4-cbc', key, new Uint8Array(16));
  c.setAutoPadding(false);
  const ct = Buffer.concat([c.update(padded), c.final()]);
  return ct.subarray(ct.length - 16, ct.length - 12).toString('hex');
}

const terminalId = hexToBytes('112233445566');

// [builder, fields, expected hex]: one row per layout, with every field distinguishable.
const LAYOUT_TABLE: [PbocLayoutName, (f: never) => Uint8Array, object, string][] = [
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
    { amountFen: 1, transactionType: 0x06, terminalId, date: hexToBytes('20251231'), time: hexToBytes('080910') },
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

describe('PBOC MACed data layouts (JR/T 0025.2)', () => {
  it.each(LAYOUT_TABLE)('%s encodes the documented fields in order', (_name, build, fields, hex) => {
    expect(bytesToHex(build(fields as never))).toBe(hex);
  });

  it('layouts have the PBOC lengths: load MAC1 15, MAC2 18, TAC 26 (4-byte D-RMB counter); purchase MAC1 18, MAC2 4, TAC 22', () => {
    const total = (name: PbocLayoutName) => PBOC_MAC_LAYOUTS[name].reduce((n, r) => n + r.bytes, 0);
    expect(total('loadMac1')).toBe(15);
    expect(total('loadMac2')).toBe(18);
    expect(total('loadTac')).toBe(26);
    expect(total('purchaseMac1')).toBe(18);
    expect(total('purchaseMac2')).toBe(4);
    expect(total('purchaseTac')).toBe(22);
  });

  it('published layout rows are contiguous and match the builders', () => {
    for (const [name, build, fields, hex] of LAYOUT_TABLE) {
      const rows = PBOC_MAC_LAYOUTS[name];
      let offset = 0;
      for (const r of rows) {
        expect(r.offset, `${name}.${r.field}`).toBe(offset);
        offset += r.bytes;
      }
      expect(offset).toBe(build(fields as never).length);
      expect(2 * offset).toBe(hex.length);
    }
  });

  it('field positions: load TAC has the 4-byte counter at offset 4 and terminal ID at 13; purchase TAC the sequence at 11', () => {
    const at = (name: PbocLayoutName, field: string) => PBOC_MAC_LAYOUTS[name].find((r) => r.field === field);
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
      for (const row of PBOC_MAC_LAYOUTS[name]) {
        const value = (fields as Record<string, unknown>)[row.field];
        let changed: unknown;
        if (typeof value === 'number') changed = value % 2 === 0 ? value + 1 : value - 1;
        else if (typeof value === 'string') changed = value.slice(0, -1) + (value.endsWith('9') ? '8' : '9');
        else {
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

  it('accepts the counter and terminal sequence as bytes as well as numbers', () => {
    const fields = { newBalanceFen: 1, amountFen: 1, transactionType: 2, terminalId, date: '20240101', time: '000000' };
    expect(bytesToHex(loadTacData({ ...fields, counter: hexToBytes('00000102') }))).toBe(
      bytesToHex(loadTacData({ ...fields, counter: 0x0102 })),
    );
    const p = { amountFen: 1, transactionType: 6, terminalId, date: '20240101', time: '000000' };
    expect(bytesToHex(purchaseTacData({ ...p, terminalSequence: hexToBytes('00000102') }))).toBe(
      bytesToHex(purchaseTacData({ ...p, terminalSequence: 0x102 })),
    );
  });

  it('rejects out-of-range amounts, wrong-length terminal IDs, non-BCD dates and missing fields with FormatError', () => {
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
    expect(() => loadMac2Data({ ...m2, date: hexToBytes('20240a31') })).toThrow(FormatError);
    expect(() => loadTacData({ ...m2, date: '20240131', newBalanceFen: 1, counter: 2 ** 32 })).toThrow(FormatError);
    expect(() => loadTacData({ ...m2, date: '20240131', newBalanceFen: 1, counter: new Uint8Array(3) })).toThrow(FormatError);
  });

  it('names the PBOC transaction types for load and purchase', () => {
    expect(PBOC_TRANSACTION_TYPE.epLoad).toBe(0x02);
    expect(PBOC_TRANSACTION_TYPE.epPurchase).toBe(0x06);
  });
});

describe('PBOC process key (JR/T 0025.2 load/purchase process, session key; SM4 adaptation)', () => {
  it('load: equals SM4-ECB under DLK of random || counter || 8000 || 80 00 00 00 00 00 00 00 (node:crypto)', () => {
    const dlk = randomBytes(16);
    const random = hexToBytes('a1b2c3d4');
    const counter = hexToBytes('0005');
    const block = hexToBytes('a1b2c3d4' + '0005' + '8000' + '80' + '00'.repeat(7));
    expect(bytesToHex(pbocSessionKey(dlk, random, counter, PBOC_LOAD_KEY_TRAILER))).toBe(nodeEcbBlock(dlk, block));
    expect(bytesToHex(pbocLoadSessionKey(dlk, random, counter))).toBe(nodeEcbBlock(dlk, block));
  });

  it('purchase: the trailer is the rightmost 2 bytes of the terminal transaction sequence number', () => {
    const dpk = randomBytes(16);
    const random = randomBytes(4);
    const counter = hexToBytes('0102');
    const seq = hexToBytes('00abcdef');
    const block = new Uint8Array(16);
    block.set(random);
    block.set(hexToBytes('0102' + 'cdef' + '80'), 4);
    expect(bytesToHex(pbocPurchaseSessionKey(dpk, random, counter, seq))).toBe(nodeEcbBlock(dpk, block));
    expect(() => pbocPurchaseSessionKey(dpk, random, counter, hexToBytes('cdef'))).toThrow(RangeError);
  });

  it('pads only when shorter than 16 bytes, and rejects inputs longer than one block', () => {
    const key = randomBytes(16);
    const random = randomBytes(4);
    const counter = randomBytes(4);
    const trailer = randomBytes(8);
    const exact = new Uint8Array([...random, ...counter, ...trailer]);
    expect(bytesToHex(pbocSessionKey(key, random, counter, trailer))).toBe(nodeEcbBlock(key, exact));
    const fifteen = new Uint8Array(16);
    fifteen.set([...random, ...counter, ...trailer.subarray(0, 7)]);
    fifteen[15] = 0x80;
    expect(bytesToHex(pbocSessionKey(key, random, counter, trailer.subarray(0, 7)))).toBe(nodeEcbBlock(key, fifteen));
    expect(() => pbocSessionKey(key, random, counter, randomBytes(9))).toThrow(RangeError);
  });

  it('rejects a card key that is not 16 bytes and a card random that is not 4 bytes', () => {
    expect(() => pbocSessionKey(randomBytes(8), randomBytes(4), randomBytes(2), PBOC_LOAD_KEY_TRAILER)).toThrow(RangeError);
    expect(() => pbocSessionKey(randomBytes(16), randomBytes(8), randomBytes(2), PBOC_LOAD_KEY_TRAILER)).toThrow(RangeError);
  });

  it('a different card random gives a different process key', () => {
    const key = randomBytes(16);
    const counter = hexToBytes('0001');
    expect(bytesToHex(pbocLoadSessionKey(key, hexToBytes('00000001'), counter))).not.toBe(
      bytesToHex(pbocLoadSessionKey(key, hexToBytes('00000002'), counter)),
    );
  });
});

describe('PBOC MAC and TAC (SM4 MAC algorithm 1, leftmost 4 bytes)', () => {
  it('MAC equals the leftmost 4 bytes of node:crypto sm4-cbc over the method-2 padded data', () => {
    for (const n of [4, 15, 16, 18, 22, 24]) {
      const key = randomBytes(16);
      const data = randomBytes(n);
      expect(bytesToHex(pbocMac(key, data)), `length ${n}`).toBe(nodeMac4(key, data));
    }
  });

  it('TAC uses the 16-byte TAC key directly, with the same MAC computation', () => {
    const dtk = randomBytes(16);
    const data = randomBytes(22);
    expect(bytesToHex(pbocTac(dtk, data))).toBe(nodeMac4(dtk, data));
  });

  it('verify accepts the right MAC/TAC and rejects a flipped bit, a wrong length, or another key', () => {
    const key = randomBytes(16);
    const data = randomBytes(18);
    const mac = pbocMac(key, data);
    expect(mac.length).toBe(4);
    expect(verifyPbocMac(key, data, mac)).toBe(true);
    expect(verifyPbocTac(key, data, pbocTac(key, data))).toBe(true);
    for (let bit = 0; bit < 32; bit++) {
      const bad = mac.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      expect(verifyPbocMac(key, data, bad)).toBe(false);
      expect(verifyPbocTac(key, data, bad)).toBe(false);
    }
    expect(verifyPbocMac(key, data, mac.subarray(0, 3))).toBe(false);
    expect(verifyPbocMac(key, data, new Uint8Array(8))).toBe(false);
    expect(verifyPbocMac(randomBytes(16), data, mac)).toBe(false);
  });

  it('a load runs end to end: card MAC1 verified by host, host MAC2 verified by card, TAC checked by issuer', () => {
    const dlk = randomBytes(16);
    const dtk = randomBytes(16);
    const cardRandom = randomBytes(4);
    const onlineCounter = hexToBytes('00000009');
    const tx = { amountFen: 2000, transactionType: PBOC_TRANSACTION_TYPE.epLoad, terminalId };
    const clock = { date: '20240301', time: '101500' };

    const cardKey = pbocLoadSessionKey(dlk, cardRandom, onlineCounter);
    const mac1 = pbocMac(cardKey, loadMac1Data({ balanceFen: 500, ...tx }));
    const hostKey = pbocLoadSessionKey(dlk, cardRandom, onlineCounter);
    expect(verifyPbocMac(hostKey, loadMac1Data({ balanceFen: 500, ...tx }), mac1)).toBe(true);
    expect(verifyPbocMac(hostKey, loadMac1Data({ balanceFen: 501, ...tx }), mac1)).toBe(false);

    const mac2 = pbocMac(hostKey, loadMac2Data({ ...tx, ...clock }));
    expect(verifyPbocMac(cardKey, loadMac2Data({ ...tx, ...clock }), mac2)).toBe(true);
    expect(verifyPbocMac(cardKey, loadMac2Data({ ...tx, ...clock, amountFen: 20000 }), mac2)).toBe(false);

    const tacData = loadTacData({ newBalanceFen: 2500, counter: onlineCounter, ...tx, ...clock });
    expect(verifyPbocTac(dtk, tacData, pbocTac(dtk, tacData))).toBe(true);
  });
});
