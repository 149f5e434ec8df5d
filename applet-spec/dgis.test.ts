/** @module Tests for the DGI definitions of both personalization stages (EMV CPS v1.1 data groups, GP 2.3 STORE DATA protection). */
import { describe, expect, it } from 'vitest';
import { encodeDgi, parseDgiList } from './codec/dgi.js';
import type { Coder } from './codec/fields.js';
import { fromHex, hex } from '../base/hex.js';
import { parseTlvOne } from './codec/tlv.js';
import { FormatError } from './errors.js';
import {
  APPLICATION_KEY_NAMES,
  type DgiDefinition,
  dgiByNumber,
  type DgiName,
  DGIS,
  dgiStages,
  SM2_CIPHERTEXT_OVERHEAD,
  STORE_DATA_P1,
  stageDgis,
  storeDataEncryptionBits,
} from './dgis.js';
import { cardCertificateCoder } from './value-formats.js';

const b = (h: string): Uint8Array => fromHex(h);
const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);
const text = (s: string): string => hex(new TextEncoder().encode(s));
const rep = (byteHex: string, n: number): string => byteHex.repeat(n);
const dgiHex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

const ALL = Object.entries(DGIS) as [DgiName, DgiDefinition][];
const coderOf = (d: DgiDefinition): Coder<unknown> => d.coder as Coder<unknown>;

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

const CARD_ID = '12345678901234567890';
const certificateValue = cardCertificateCoder.encode({
  cardId: CARD_ID,
  expiryDate: '361231',
  certKeyIndex: 1,
  cardPublicKey: b(`04${rep('5A', 64)}`),
  signature: fill(64, 0x77),
});

/** One realistic clear value per DGI (a new DGI must add one here). */
const SAMPLES: Record<DgiName, unknown> = {
  cardRecord: {
    cardId: CARD_ID,
    effectiveDate: '260101',
    expiryDate: '361231',
    institution: '10000001',
    cardForm: 2,
    applicationVersion: b('0001'),
  },
  cardCertificate: certificateValue,
  fci: { applicationLabel: new TextEncoder().encode('D-RMB') },
  trustAnchors: {
    coinKeys: [
      { keyIndex: 1, publicKey: b(`04${rep('C1', 64)}`) },
      { keyIndex: 2, publicKey: b(`04${rep('C2', 64)}`) },
    ],
    kgcSignMasterPublicKey: b(`04${rep('D1', 128)}`),
    kgcEncryptMasterPublicKey: b(`04${rep('D2', 64)}`),
    kgcKeyVersion: 1,
  },
  riskDefaults: {
    currency: '0156',
    singleLimit: 100000,
    balanceCap: 1000000,
    offlineCountLimit: 10,
    offlineAmountLimit: 200000,
    maxCoins: 256,
    pinThreshold: 50000,
  },
  applicationKeys: Object.fromEntries(APPLICATION_KEY_NAMES.map((k, i) => [k, fill(16, 0x11 * (i + 1))])),
  applicationKeyKcvs: Object.fromEntries(APPLICATION_KEY_NAMES.map((k, i) => [k, fill(3, 0x11 * (i + 1))])),
  issuanceKeys: { enc: fill(16, 0x40), mac: fill(16, 0x41), dek: fill(16, 0x42) },
  issuanceKeyKcvs: { enc: b('A1A2A3'), mac: b('B1B2B3'), dek: b('C1C2C3') },
  cardPrivateKey: fill(32, 0x3d),
  holderRecord: { holderHash: fill(32, 0xa5), bankCode: '102100099996', walletId: '0021000000000001', realNameTier: 4 },
  tierCaps: { balanceCap: 500000, singleLimit: 100000, offlineCountLimit: 5, offlineAmountLimit: 100000 },
  ibcIdentity: { ibcIdentity: '13800138000#20281231', kgcKeyVersion: 1 },
  sm9SignKey: b(`04${rep('E1', 64)}`),
  sm9EncryptKey: b(`04${rep('E2', 128)}`),
  referencePin: { pinBlock: '1234' },
  pinTryLimit: { tryLimit: 3 },
  completion: {},
};

/** DGIs that carry secret keys or the reference PIN. */
const KEY_DGIS = [0x8000, 0x8001, 0x8101, 0x8a01, 0x8a02, 0x8010];

describe('DGI numbers', () => {
  it('defines every DGI number once', () => {
    const numbers = ALL.map(([, d]) => d.dgi);
    expect(new Set(numbers).size).toBe(numbers.length);
  });

  it('uses only identifiers in 0001..FFFF', () => {
    for (const [key, d] of ALL) {
      expect(Number.isInteger(d.dgi), key).toBe(true);
      expect(d.dgi, key).toBeGreaterThanOrEqual(0x0001);
      expect(d.dgi, key).toBeLessThanOrEqual(0xffff);
    }
  });

  it('finds each definition by its number, with its key', () => {
    for (const [key, d] of ALL) {
      const found = dgiByNumber(d.dgi);
      expect(found?.key).toBe(key);
      expect(found?.name).toBe(d.name);
    }
    expect(dgiByNumber(0x1234)).toBeUndefined();
    expect(dgiByNumber(0x0000)).toBeUndefined();
  });

  it('uses the EMV CPS reserved DGIs only for their CPS purpose', () => {
    // EMV CPS v1.1: 8000 secret keys, 9000 their KCVs, 8010 reference PIN block, 9010 PIN try data,
    // 9102 SELECT response (A5 template contents).
    expect(dgiByNumber(0x8000)?.key).toBe('applicationKeys');
    expect(dgiByNumber(0x9000)?.key).toBe('applicationKeyKcvs');
    expect(dgiByNumber(0x8010)?.key).toBe('referencePin');
    expect(dgiByNumber(0x9010)?.key).toBe('pinTryLimit');
    expect(dgiByNumber(0x9102)?.key).toBe('fci');
    // 9102 holds A5 members: the application label 50 encodes as a direct member, not inside 6F/A5
    expect(hex(coderOf(DGIS.fci).encode(SAMPLES.fci))).toBe(hex(b(`50 05 ${text('D-RMB')}`)));
  });

  // BUG: EMV CPS v1.1 makes DGIs 0101..1EFF record DGIs (first byte SFI 01-1E, second byte record
  // number) whose value is a record template 70, and ARCHITECTURE.md says "record DGIs wrap tag 70;
  // reserved DGI numbers avoided; project-private DGIs in E0xx/E1xx/8Axx". dgis.ts gives 0102 (card
  // certificate, line 86) a bare 7F21 object and 0A01 (IBC identity, line 228) bare DF03/DF13 objects:
  // both sit in the record range without a 70 template. Either wrap them in 70 or move them to E0xx/E1xx.
  it('wraps the value of every DGI in the CPS record range (SFI 01-1E) in template 70', () => {
    const offenders: string[] = [];
    for (const [key, d] of ALL) {
      const sfi = d.dgi >> 8;
      const recordNumber = d.dgi & 0xff;
      if (sfi < 0x01 || sfi > 0x1e || recordNumber === 0) continue;
      const value = coderOf(d).encode(SAMPLES[key]);
      let tag: number | undefined;
      try {
        tag = parseTlvOne(value).tag;
      } catch {
        tag = undefined; // not a single TLV object, so not a 70 template either
      }
      if (tag !== 0x70) offenders.push(`${dgiHex(d.dgi)} ${key}`);
    }
    expect(offenders).toEqual([]);
  });
});

describe('stages', () => {
  const numbers = (stage: 1 | 2): number[] => stageDgis(stage).map((d) => d.dgi);

  it('stage 1 (central-bank prep) is exactly 0101 0102 9102 E001 E002 8000 9000 8001 9001 8101, then 7FFF', () => {
    const s1 = numbers(1);
    expect([...s1].sort((x, y) => x - y)).toEqual([0x0101, 0x0102, 0x7fff, 0x8000, 0x8001, 0x8101, 0x9000, 0x9001, 0x9102, 0xe001, 0xe002]);
    expect(s1[s1.length - 1]).toBe(0x7fff);
  });

  it('stage 2 (commercial-bank issuance) is exactly 0201 E101 0A01 8A01 8A02 8010 9010, then 7FFF', () => {
    const s2 = numbers(2);
    expect([...s2].sort((x, y) => x - y)).toEqual([0x0201, 0x0a01, 0x7fff, 0x8010, 0x8a01, 0x8a02, 0x9010, 0xe101]);
    expect(s2[s2.length - 1]).toBe(0x7fff);
  });

  it('lists completion 7FFF once per stage and in both stages', () => {
    for (const stage of [1, 2] as const) expect(numbers(stage).filter((n) => n === 0x7fff)).toHaveLength(1);
    expect(dgiStages(DGIS.completion)).toEqual([1, 2]);
  });

  it('puts every DGI other than 7FFF in exactly one stage, the one it declares', () => {
    for (const [key, d] of ALL) {
      if (d.dgi === 0x7fff) continue;
      expect(dgiStages(d), key).toEqual([d.stage]);
      expect(numbers(d.stage), key).toContain(d.dgi);
      expect(numbers(d.stage === 1 ? 2 : 1), key).not.toContain(d.dgi);
    }
  });

  it('writes each key check value DGI after the key DGI it checks', () => {
    const s1 = numbers(1);
    expect(s1.indexOf(0x9000)).toBeGreaterThan(s1.indexOf(0x8000));
    expect(s1.indexOf(0x9001)).toBeGreaterThan(s1.indexOf(0x8001));
  });

  it('makes every DGI mandatory, so completion checks them all', () => {
    for (const [key, d] of ALL) expect(d.mandatory, key).toBe(true);
  });
});

describe('protection of secrets', () => {
  it.each(KEY_DGIS.map((n) => [dgiHex(n), n] as const))('DGI %s holds a secret: sensitive and never sent in clear', (_h, n) => {
    const d = dgiByNumber(n);
    expect(d).toBeDefined();
    expect(d!.sensitive).toBe(true);
    expect(d!.protection).not.toBe('clear');
  });

  it('encrypts a DGI in STORE DATA exactly when it is sensitive', () => {
    for (const [key, d] of ALL) expect(d.protection !== 'clear', key).toBe(d.sensitive);
    expect(ALL.filter(([, d]) => d.sensitive).map(([, d]) => d.dgi).sort((x, y) => x - y)).toEqual([...KEY_DGIS].sort((x, y) => x - y));
  });

  it('sends the SM9 user keys SM2-encrypted to the card, so the issuing bank never sees them', () => {
    expect(DGIS.sm9SignKey.protection).toBe('sm2');
    expect(DGIS.sm9EncryptKey.protection).toBe('sm2');
  });

  it('gives every DEK-encrypted DGI a fixed clear size that is whole AES blocks', () => {
    for (const [key, d] of ALL) {
      if (d.protection !== 'dek') continue;
      expect(d.coder.size, key).toBeDefined();
      expect(d.coder.size! % 16, key).toBe(0);
      expect(coderOf(d).encode(SAMPLES[key]).length, key).toBe(d.coder.size);
    }
  });

  it('states the SM2 ciphertext size of each SM2-encrypted DGI as its clear size plus C1||C3', () => {
    expect(SM2_CIPHERTEXT_OVERHEAD).toBe(65 + 32);
    for (const [key, d] of ALL) {
      if (d.protection !== 'sm2') continue;
      const stated = /C1\|\|C3\|\|C2, (\d+) bytes/.exec(d.description);
      expect(stated, key).not.toBeNull();
      expect(Number(stated![1]), key).toBe(d.coder.size! + SM2_CIPHERTEXT_OVERHEAD);
    }
  });
});

describe('storeDataEncryptionBits (GP 2.3 11.11.2.1 P1 b6-b5)', () => {
  it.each([
    ['clear', 0x00],
    ['dek', 0x60],
    ['sm2', 0x20],
  ] as const)('codes %s as %i', (p, bits) => {
    expect(storeDataEncryptionBits(p)).toBe(bits);
  });

  it('keeps the encryption bits clear of the last-block and DGI-format bits', () => {
    expect(STORE_DATA_P1.LAST_BLOCK).toBe(0x80);
    expect(STORE_DATA_P1.DGI_FORMAT).toBe(0x08);
    for (const p of ['clear', 'dek', 'sm2'] as const) {
      const bits = storeDataEncryptionBits(p);
      expect(bits & ~0x60).toBe(0);
      expect(bits & (STORE_DATA_P1.LAST_BLOCK | STORE_DATA_P1.DGI_FORMAT)).toBe(0);
    }
  });
});

describe('DGI value coders', () => {
  it('has a sample for every DGI', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(DGIS).sort());
  });

  it.each(ALL.map(([key, d]) => [dgiHex(d.dgi), key, d] as const))('DGI %s (%s) round-trips a realistic value, also framed for STORE DATA', (_h, key, d) => {
    const c = coderOf(d);
    const value = c.encode(SAMPLES[key]);
    expect(c.decode(value)).toEqual(SAMPLES[key]);
    const [parsed, ...others] = parseDgiList(encodeDgi({ dgi: d.dgi, value }));
    expect(others).toHaveLength(0);
    expect(parsed.dgi).toBe(d.dgi);
    expect(c.decode(parsed.value)).toEqual(SAMPLES[key]);
  });

  it('0101 card record is template 70 with card ID, dates, institution, card form and version', () => {
    const h = `70 29 DF01 0A ${CARD_ID} 5F25 03 260101 5F24 03 361231 DF04 04 10000001 DF05 01 02 9F08 02 0001`;
    expect(hex(coderOf(DGIS.cardRecord).encode(SAMPLES.cardRecord))).toBe(hex(b(h)));
    expect(DGIS.cardRecord.coder.decode(b(h))).toEqual(SAMPLES.cardRecord);
  });

  it('0101 card record rejects a record without the card ID, or outside template 70', () => {
    formatError(() => DGIS.cardRecord.coder.decode(b('70 1C 5F25 03 260101 5F24 03 361231 DF04 04 10000001 DF05 01 02 9F08 02 0001')));
    formatError(() => DGIS.cardRecord.coder.decode(b(`77 0D DF01 0A ${CARD_ID}`)));
  });

  it('0102 carries record template 70 holding tag 7F21 whose value is the card certificate', () => {
    const enc = coderOf(DGIS.cardCertificate).encode(certificateValue);
    expect(hex(enc.subarray(0, 3))).toBe(`7081${(certificateValue.length + 4).toString(16).toUpperCase()}`);
    expect(hex(enc.subarray(3, 7))).toBe(`7F2181${certificateValue.length.toString(16).toUpperCase()}`);
    expect(cardCertificateCoder.decode(DGIS.cardCertificate.coder.decode(enc)).cardId).toBe(CARD_ID);
  });

  it('E002 risk defaults code each limit under its own tag', () => {
    const h = [
      '5F2A 02 0156',
      '9F78 06 000000100000',
      '9F77 06 000001000000',
      'DF07 02 000A',
      'DF08 06 000000200000',
      'DF06 02 0100',
      'DF09 06 000000050000',
    ].join(' ');
    expect(hex(coderOf(DGIS.riskDefaults).encode(SAMPLES.riskDefaults))).toBe(hex(b(h)));
    expect(DGIS.riskDefaults.coder.decode(b(h))).toEqual(SAMPLES.riskDefaults);
  });

  it('E001 trust anchors hold at least one coin-verification key', () => {
    const noKeys = b(`DF12 00 DF10 8181 04${rep('D1', 128)} DF11 41 04${rep('D2', 64)} DF13 01 01`);
    formatError(() => DGIS.trustAnchors.coder.decode(noKeys));
  });

  it('8000 holds the six SM4 keys in order and 9000 one 3-byte KCV per key, same order', () => {
    expect(DGIS.applicationKeys.coder.layout('').map((r) => r.field)).toEqual([...APPLICATION_KEY_NAMES]);
    expect(DGIS.applicationKeyKcvs.coder.layout('').map((r) => r.field)).toEqual([...APPLICATION_KEY_NAMES]);
    expect(DGIS.applicationKeys.coder.size).toBe(16 * APPLICATION_KEY_NAMES.length);
    expect(DGIS.applicationKeyKcvs.coder.size).toBe(3 * APPLICATION_KEY_NAMES.length);
    expect(DGIS.issuanceKeys.coder.size).toBe(3 * 16);
    expect(DGIS.issuanceKeyKcvs.coder.size).toBe(3 * 3);
  });

  it('8010 reference PIN is a format 2 PIN block padded to 16 bytes with 80 00..00', () => {
    expect(hex(coderOf(DGIS.referencePin).encode({ pinBlock: '1234' }))).toBe('241234FFFFFFFFFF8000000000000000');
    expect(DGIS.referencePin.coder.decode(b('2612345 6FFFFFFFF 8000000000000000'))).toEqual({ pinBlock: '123456' });
  });

  it('8010 reference PIN rejects bad padding or a bad PIN block', () => {
    formatError(() => DGIS.referencePin.coder.decode(b('241234FFFFFFFFFF 8000000000000001')));
    formatError(() => DGIS.referencePin.coder.decode(b('241234FFFFFFFFFF 0000000000000000')));
    formatError(() => DGIS.referencePin.coder.decode(b('141234FFFFFFFFFF 8000000000000000')));
    formatError(() => DGIS.referencePin.coder.decode(b('241234FFFFFFFFFF')));
  });

  it('0201 holder record carries real-name data or only the holder hash', () => {
    const realName = {
      holderName: '张三',
      holderIdType: 1,
      holderIdNumber: '11010119900307123X',
      holderPhone: '13800138000',
      bankCode: '102100099996',
      walletId: '0021000000000001',
      realNameTier: 1,
    };
    const c = coderOf(DGIS.holderRecord);
    expect(c.decode(c.encode(realName))).toEqual(realName);
    const enc = c.encode(SAMPLES.holderRecord);
    expect(enc[0]).toBe(0x70);
    expect(c.decode(enc)).toEqual(SAMPLES.holderRecord);
  });

  it('0201 holder record rejects a record without the real-name tier', () => {
    const c = coderOf(DGIS.holderRecord);
    formatError(() => c.encode({ holderHash: fill(32, 0), bankCode: '102100099996', walletId: 'w' }));
  });

  it('E101 tier caps accept an optional PIN threshold', () => {
    const c = coderOf(DGIS.tierCaps);
    const withThreshold = { ...(SAMPLES.tierCaps as object), pinThreshold: 20000 };
    expect(c.decode(c.encode(withThreshold))).toEqual(withThreshold);
    expect(hex(c.encode(SAMPLES.tierCaps))).not.toContain('DF09');
  });

  it('9010 PIN try limit is one byte and 7FFF completion is empty', () => {
    expect(hex(coderOf(DGIS.pinTryLimit).encode({ tryLimit: 3 }))).toBe('03');
    expect(coderOf(DGIS.completion).encode({})).toHaveLength(0);
    formatError(() => DGIS.completion.coder.decode(b('00')));
  });

  it('8A01/8A02 hold an SM9 G1 (65 bytes) and G2 (129 bytes) point', () => {
    expect(DGIS.sm9SignKey.coder.size).toBe(65);
    expect(DGIS.sm9EncryptKey.coder.size).toBe(129);
    formatError(() => DGIS.sm9SignKey.coder.decode(fill(64, 4)));
  });
});
