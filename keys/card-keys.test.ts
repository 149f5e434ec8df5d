/** @module Per-card key derivation: card ID coding, KDF3 SCP03 keys from their definition, SM4 application keys against node:crypto sm4-ecb, KCVs, and a simulated card opening SCP03 with the derived keys. */
import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { APPLICATION_KEY_NAMES } from '../applet-spec/dgis.js';
import { FormatError } from '../applet-spec/errors.js';
import { aesCmac } from '../crypto/aes-cmac.js';
import { bytesToHex, concatBytes } from '../base/bytes.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { openChannel, selectApplet } from '../test/card-fixture.js';
import {
  applicationDiversificationBlock,
  applicationKeyKcvs,
  applicationKeyNumber,
  cardApplicationKeys,
  cardIdFromBytes,
  cardIdToBytes,
  cardIssuanceKeys,
  cardScpKeys,
  issuanceKeyKcvs,
} from './card-keys.js';
import { generateKey } from '../personalization/key-ceremony.js';

const upper = (b: Uint8Array) => bytesToHex(b).toUpperCase();
const CARD_A = '62120000000000000001';
const CARD_B = '62120000000000000002';

function ecb(alg: 'sm4-ecb' | 'aes-128-ecb', key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv(alg, key, null);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(block));
}

describe('card ID', () => {
  it('codes the 20-digit card ID as 10 BCD bytes and back', () => {
    expect(upper(cardIdToBytes(CARD_A))).toBe('62120000000000000001');
    expect(cardIdFromBytes(cardIdToBytes('01234567890123456789'))).toBe('01234567890123456789');
  });

  it('rejects card IDs that are not 20 digits, and bytes that are not BCD', () => {
    expect(() => cardIdToBytes('6212000000000000001')).toThrow(FormatError);
    expect(() => cardIdToBytes('6212000000000000000A')).toThrow(FormatError);
    expect(() => cardIdFromBytes(Uint8Array.of(0x6a, 0, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(/not BCD/);
  });

  it('refuses a card ID that is not 10 bytes in every derivation', () => {
    const m = generateKey('cb-master');
    const nine = new Uint8Array(9);
    expect(() => cardScpKeys(m, nine)).toThrow('card ID: must be 10 bytes (n20 BCD); use cardIdToBytes');
    expect(() => cardApplicationKeys(m, nine)).toThrow(/must be 10 bytes/);
    expect(() => cardIssuanceKeys(generateKey('issuance-master'), nine)).toThrow(/must be 10 bytes/);
  });
});

describe('SCP03 static keys (KDF3)', () => {
  it('derives kvn 30 keys as AES-CMAC(master, 01 || 00 00 00 0k 00 || card ID) with k = 1, 2, 3', () => {
    const m = generateKey('cb-master');
    const id = cardIdToBytes(CARD_A);
    const keys = cardScpKeys(m, id);
    const expected = (master: Uint8Array, k: number) => aesCmac(master, concatBytes(Uint8Array.of(0x01, 0, 0, 0, k, 0), id));
    expect(upper(keys.enc)).toBe(upper(expected(m.secret.scpEnc, 1)));
    expect(upper(keys.mac)).toBe(upper(expected(m.secret.scpMac, 2)));
    expect(upper(keys.dek)).toBe(upper(expected(m.secret.scpDek, 3)));
  });

  it('derives kvn 31 keys from the issuance masters by the same scheme', () => {
    const m = generateKey('issuance-master');
    const id = cardIdToBytes(CARD_B);
    const keys = cardIssuanceKeys(m, id);
    expect(upper(keys.enc)).toBe(upper(aesCmac(m.secret.enc, concatBytes(Uint8Array.of(0x01, 0, 0, 0, 1, 0), id))));
    expect(upper(keys.dek)).toBe(upper(aesCmac(m.secret.dek, concatBytes(Uint8Array.of(0x01, 0, 0, 0, 3, 0), id))));
    expect(upper(cardIssuanceKeys(m.secret, id).mac)).toBe(upper(keys.mac));
  });

  it('gives different keys to different cards', () => {
    const m = generateKey('cb-master');
    expect(upper(cardScpKeys(m, cardIdToBytes(CARD_A)).enc)).not.toBe(upper(cardScpKeys(m, cardIdToBytes(CARD_B)).enc));
  });

  it('opens SCP03 with a simulated card manufactured with the derived keys, using the KDD the card returns', () => {
    const m = generateKey('cb-master');
    const card = new SimulatedCard({ manufacture: { cardId: CARD_A, personalizationKeys: cardScpKeys(m, cardIdToBytes(CARD_A)) } });
    expect(selectApplet(card)).toBe(0x9000);
    const host = openChannel(card, cardScpKeys(m, cardIdToBytes(CARD_A)), 0x30);
    expect(host).toBeDefined();
    const other = new SimulatedCard({ manufacture: { cardId: CARD_B, personalizationKeys: cardScpKeys(m, cardIdToBytes(CARD_B)) } });
    expect(selectApplet(other)).toBe(0x9000);
    expect(() => openChannel(other, cardScpKeys(m, cardIdToBytes(CARD_A)), 0x30)).toThrow(/card cryptogram does not verify/);
  });
});

describe('SM4 application keys', () => {
  it('builds the block card ID || FF FF FF FF FF || k with k = 1..6 in DGI 8000 order', () => {
    const id = cardIdToBytes(CARD_A);
    expect(APPLICATION_KEY_NAMES.map(applicationKeyNumber)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(upper(applicationDiversificationBlock(id, 'load'))).toBe('62120000000000000001FFFFFFFFFF01');
    expect(upper(applicationDiversificationBlock(id, 'pinUnblock'))).toBe('62120000000000000001FFFFFFFFFF06');
  });

  it('derives each key as SM4-ECB(master, D) (checked with node:crypto sm4-ecb)', () => {
    const m = generateKey('cb-master');
    const id = cardIdToBytes(CARD_A);
    const keys = cardApplicationKeys(m, id);
    for (const name of APPLICATION_KEY_NAMES) {
      const d = Buffer.concat([Buffer.from(id), Buffer.from('FFFFFFFFFF', 'hex'), Buffer.of(APPLICATION_KEY_NAMES.indexOf(name) + 1)]);
      expect(upper(keys[name]), name).toBe(upper(ecb('sm4-ecb', m.secret[name], d)));
    }
  });

  it('gives different keys to different cards and, with equal masters, to different purposes', () => {
    const m = generateKey('cb-master');
    const a = cardApplicationKeys(m, cardIdToBytes(CARD_A));
    const b = cardApplicationKeys(m, cardIdToBytes(CARD_B));
    for (const n of APPLICATION_KEY_NAMES) expect(upper(a[n])).not.toBe(upper(b[n]));
    const same = { ...m.secret, purchase: m.secret.load };
    const s = cardApplicationKeys(same, cardIdToBytes(CARD_A));
    expect(upper(s.load)).not.toBe(upper(s.purchase));
  });
});

describe('key check values of DGIs 9000 and 9001', () => {
  it('SM4 KCV: first 3 bytes of SM4(key, 16 zero bytes)', () => {
    const keys = cardApplicationKeys(generateKey('cb-master'), cardIdToBytes(CARD_A));
    const kcvs = applicationKeyKcvs(keys);
    for (const n of APPLICATION_KEY_NAMES) expect(upper(kcvs[n])).toBe(upper(ecb('sm4-ecb', keys[n], new Uint8Array(16)).slice(0, 3)));
  });

  it('AES KCV: first 3 bytes of AES(key, 16 bytes 01)', () => {
    const keys = cardIssuanceKeys(generateKey('issuance-master'), cardIdToBytes(CARD_A));
    const kcvs = issuanceKeyKcvs(keys);
    for (const n of ['enc', 'mac', 'dek'] as const) expect(upper(kcvs[n])).toBe(upper(ecb('aes-128-ecb', keys[n], new Uint8Array(16).fill(1)).slice(0, 3)));
  });
});

describe('worked example of docs/key-files.md', () => {
  it('derives the keys and KCVs of the documented table', () => {
    const doc = readFileSync(fileURLToPath(new URL('../docs/key-files.md', import.meta.url)), 'utf8');
    const rows = new Map([...doc.matchAll(/^\| (SCP \w+|\w+)(?: \(kvn 30 or 31\))? \| `([0-9A-F]{32})` \| `([0-9A-F]{6})` \|$/gm)].map((m) => [m[1], [m[2], m[3]]]));
    expect(rows.size).toBe(9);
    const test = Buffer.from('404142434445464748494A4B4C4D4E4F', 'hex');
    const master = Object.fromEntries(['scpEnc', 'scpMac', 'scpDek', ...APPLICATION_KEY_NAMES].map((n) => [n, new Uint8Array(test)])) as any;
    const id = cardIdToBytes('62120000000000000001');
    const scp = cardScpKeys(master, id);
    const scpKcvs = issuanceKeyKcvs(scp);
    for (const [name, k] of [['SCP ENC', 'enc'], ['SCP MAC', 'mac'], ['SCP DEK', 'dek']] as const) {
      expect([upper(scp[k]), upper(scpKcvs[k])], name).toEqual(rows.get(name));
    }
    const app = cardApplicationKeys(master, id);
    const appKcvs = applicationKeyKcvs(app);
    for (const n of APPLICATION_KEY_NAMES) expect([upper(app[n]), upper(appKcvs[n])], n).toEqual(rows.get(n));
  });
});
