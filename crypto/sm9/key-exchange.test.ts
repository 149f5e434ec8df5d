/** @module Tests of the SM9 key exchange (GM/T 0044-2016 part 3) against the part 5 Appendix B example (Alice, Bob, hid 02, 128-bit key). */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../base/format-error.js';
import { bytesToHex, equalBytes, hexToBytes } from '../../base/bytes.js';
import { loadVectors } from '../../test/vectors.js';
import { sm9KeyExchangeFinish, sm9KeyExchangeRespond, sm9KeyExchangeStart } from './key-exchange.js';
import { SM9_HID_KEY_EXCHANGE, sm9ExtractEncryptKey, sm9GenerateEncryptMasterKey } from './sm9.js';

const v = loadVectors('sm9');
const ex = v.key_exchange_example;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const scalar = (h: string): Uint8Array => hexToBytes(h.padStart(64, '0'));
const g2Hex = (pt: { x: string[]; y: string[] }): string => ('04' + pt.x[0] + pt.x[1] + pt.y[0] + pt.y[1]).toLowerCase();

describe('SM9 key exchange: part 5 Appendix B example', () => {
  const master = sm9GenerateEncryptMasterKey(scalar(ex.ke));
  const idA = utf8('Alice'), idB = utf8('Bob');
  const deA = sm9ExtractEncryptKey(master, idA, SM9_HID_KEY_EXCHANGE);
  const deB = sm9ExtractEncryptKey(master, idB, SM9_HID_KEY_EXCHANGE);
  const klenBytes = 16;

  it('derives Ppub-e, deA (and the deB used by the pairing vector) of the example', () => {
    expect(bytesToHex(master.publicKey)).toBe(('04' + ex.Ppub_e.x + ex.Ppub_e.y).toLowerCase());
    expect(bytesToHex(deA)).toBe(g2Hex(ex.deA));
    expect(bytesToHex(deB)).toBe(g2Hex(v.pairing.e_deB_RA.deB));
  });

  it('computes RA = [rA]QB of the example', () => {
    const a = sm9KeyExchangeStart(master.publicKey, idB, { r: scalar(ex.rA) });
    expect(bytesToHex(a.ephemeralPublic)).toBe(ex.RA.toLowerCase());
  });

  it('agrees on SK and produces SB and SA of the example', () => {
    const a = sm9KeyExchangeStart(master.publicKey, idB, { r: scalar(ex.rA) });
    const b = sm9KeyExchangeRespond({
      masterPublic: master.publicKey, userKey: deB, id: idB, peerId: idA,
      peerEphemeral: a.ephemeralPublic, klenBytes, r: scalar(ex.rB),
    });
    expect(bytesToHex(b.key)).toBe(ex.SK.toLowerCase());
    expect(bytesToHex(b.confirmation)).toBe(ex.SB.toLowerCase());
    const fin = sm9KeyExchangeFinish({
      masterPublic: master.publicKey, userKey: deA, id: idA, peerId: idB,
      ephemeral: a, peerEphemeral: b.ephemeralPublic, peerConfirmation: b.confirmation, klenBytes,
    });
    expect(bytesToHex(fin.key)).toBe(ex.SK.toLowerCase());
    expect(bytesToHex(fin.confirmation)).toBe(ex.SA.toLowerCase());
    expect(equalBytes(fin.confirmation, b.expectedPeerConfirmation)).toBe(true);
  });

  it('agrees on a fresh random key, and the initiator rejects a wrong SB', () => {
    const a = sm9KeyExchangeStart(master.publicKey, idB);
    const b = sm9KeyExchangeRespond({ masterPublic: master.publicKey, userKey: deB, id: idB, peerId: idA, peerEphemeral: a.ephemeralPublic, klenBytes: 32 });
    const fin = sm9KeyExchangeFinish({ masterPublic: master.publicKey, userKey: deA, id: idA, peerId: idB, ephemeral: a, peerEphemeral: b.ephemeralPublic, klenBytes: 32 });
    expect(fin.key).toEqual(b.key);
    const badSB = b.confirmation.slice();
    badSB[0] ^= 1;
    expect(() =>
      sm9KeyExchangeFinish({ masterPublic: master.publicKey, userKey: deA, id: idA, peerId: idB, ephemeral: a, peerEphemeral: b.ephemeralPublic, peerConfirmation: badSB, klenBytes: 32 }),
    ).toThrow(FormatError);
  });

  it('gives different keys when the responder holds another identity\'s key', () => {
    const a = sm9KeyExchangeStart(master.publicKey, idB);
    const deC = sm9ExtractEncryptKey(master, utf8('Carol'), SM9_HID_KEY_EXCHANGE);
    const b = sm9KeyExchangeRespond({ masterPublic: master.publicKey, userKey: deC, id: idB, peerId: idA, peerEphemeral: a.ephemeralPublic, klenBytes: 16 });
    expect(() =>
      sm9KeyExchangeFinish({ masterPublic: master.publicKey, userKey: deA, id: idA, peerId: idB, ephemeral: a, peerEphemeral: b.ephemeralPublic, peerConfirmation: b.confirmation, klenBytes: 16 }),
    ).toThrow(FormatError);
  });

  it('rejects an R_A off the curve', () => {
    const bad = hexToBytes(ex.RA);
    bad[63] ^= 1;
    expect(() => sm9KeyExchangeRespond({ masterPublic: master.publicKey, userKey: deB, id: idB, peerId: idA, peerEphemeral: bad, klenBytes })).toThrow(FormatError);
  });
});
