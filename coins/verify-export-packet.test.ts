/**
 * @module verifyExportPacket: one case per fault, each on a packet really signed (buildExportPacket, the
 * payer's SM9 key) paying coins really minted (bank/mint.ts), then altered in one place; the verified
 * content of a good packet; and the two orders of the checks.
 */
import { describe, expect, it } from 'vitest';
import { type Coin, coinBodyCoder, coinListCoder, exportBodyCoder, exportHeaderCoder, exportPacketCoder, settlementBodyCoder } from '../applet-spec/value-formats.js';
import { DenominationKeys, mintCoins } from '../bank/mint.js';
import { bytesToHex, concatBytes, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair, sm2Sign } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Decrypt, sm9ExtractEncryptKey, sm9ExtractSignKey, sm9GenerateEncryptMasterKey, sm9GenerateSignMasterKey, sm9Sign } from '../crypto/sm9/sm9.js';
import { buildExportPacket, type BuildExportPacketInput } from './build-export-packet.js';
import { coinVerifiers } from './check-coin.js';
import { readExportPacket } from './read-export-packet.js';
import { type PacketAnchors, verifyExportPacket } from './verify-export-packet.js';

const utf8 = new TextEncoder();
const coinKey = sm2GenerateKeyPair();
const kgcSign = sm9GenerateSignMasterKey();
const kgcEncrypt = sm9GenerateEncryptMasterKey();
const mintMaster = randomBytes(16);
const PAYER = '62120000000000000001|2036';
const PAYEE = 'shop@merchant';
const signKey = sm9ExtractSignKey(kgcSign, utf8.encode(PAYER));
const anchors: PacketAnchors = { coinVerifier: coinVerifiers([{ keyIndex: 1, publicKey: coinKey.publicKey }]), kgcSignMasterPublicKey: kgcSign.publicKey };
const mintParams = { signingKey: { privateKey: coinKey.privateKey, keyIndex: 1 }, mintMaster, issueDate: '20260101', expiryDate: '20361231' };
const mint = (denominationsFen: number[], o: Partial<typeof mintParams> = {}) => mintCoins({ ...mintParams, ...o }, denominationsFen);

/** A PURCHASE packet (the fixture's date 20261122) paying `coins` from PAYER to PAYEE, signed by PAYER. */
const packetOf = (coins: Coin[], o: Partial<BuildExportPacketInput> = {}) =>
  buildExportPacket({ header: { payerCardId: '62120000000000000001', payerIdentity: PAYER, payerCounter: 7, payeeIdentity: PAYEE }, coins, signKey, kgcSignMasterPublicKey: kgcSign.publicKey, ...o });

/** Where the body starts in a packet, and the packet with one byte of it flipped. */
const headerLength = (packet: Uint8Array) => packet.length - exportPacketCoder.decode(packet).body.length;
const flipped = (packet: Uint8Array, at: number) => {
  const out = packet.slice();
  out[at] ^= 0x01;
  return out;
};

/** A coin re-signed by the central-bank key after its body was altered (only the altered field is wrong). */
const resigned = (body: Coin['body']): Coin => ({ body, signature: sm2Sign(coinKey.privateKey, coinBodyCoder.encode(body)) });

describe('verifyExportPacket', () => {
  it('answers a good packet with its header, coins, coin-list bytes as sent and payer signature', () => {
    const coins = mint([1000, 500]);
    const packet = packetOf(coins);
    const v = verifyExportPacket(packet, anchors);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.header).toMatchObject({ type: 'PURCHASE', payerIdentity: PAYER, payeeIdentity: PAYEE, amountFen: 1500 });
    expect(v.coins.map((c) => bytesToHex(c.body.serial))).toEqual(coins.map((c) => bytesToHex(c.body.serial)));
    expect(bytesToHex(v.coinListBytes)).toBe(bytesToHex(coinListCoder.encode(coins)));
    expect(bytesToHex(concatBytes(v.headerBytes, v.body))).toBe(bytesToHex(packet));
    expect(bytesToHex(v.signature)).toBe(bytesToHex(exportBodyCoder.decode(v.body).signature));
    expect(v.withdrawal?.code).toBe('0'.repeat(16));
  });

  it("'format' for a packet cut inside its header", () => {
    const packet = packetOf(mint([1000]));
    expect(verifyExportPacket(packet.subarray(0, 50), anchors)).toMatchObject({ ok: false, fault: 'format' });
  });

  it("'version' for a packet of another version", () => {
    const packet = packetOf(mint([1000]));
    expect(verifyExportPacket(flipped(packet, 0), anchors)).toMatchObject({ ok: false, fault: 'version', version: 3 });
  });

  it("'body-format' for a body cut short, and for a TRANSFER body left encrypted", () => {
    const packet = packetOf(mint([1000]));
    expect(verifyExportPacket(packet.subarray(0, packet.length - 1), anchors)).toMatchObject({ ok: false, fault: 'body-format' });
    const transfer = packetOf(mint([1000]), { header: { payerCardId: '62120000000000000001', payerIdentity: PAYER, payerCounter: 8, payeeIdentity: PAYEE, type: 'TRANSFER' }, kgcEncryptMasterPublicKey: kgcEncrypt.publicKey });
    expect(verifyExportPacket(transfer, anchors)).toMatchObject({ ok: false, fault: 'body-format' });
  });

  it("'coin-list-hash' for a tampered coin byte (packet first), 'coin-signature' for the same packet coins first", () => {
    const packet = packetOf(mint([1000, 500]));
    const tampered = flipped(packet, headerLength(packet) + 1 + 20); // a byte of the first coin's serial
    expect(verifyExportPacket(tampered, anchors)).toMatchObject({ ok: false, fault: 'coin-list-hash' });
    expect(verifyExportPacket(tampered, anchors, { order: 'coins-first' })).toMatchObject({ ok: false, fault: 'coin-signature', index: 0 });
  });

  it("'payer-signature' for a changed signature byte, a changed header field, and a packet signed by another identity", () => {
    const coins = mint([1000]);
    const packet = packetOf(coins);
    expect(verifyExportPacket(flipped(packet, packet.length - 30), anchors)).toMatchObject({ ok: false, fault: 'payer-signature' });
    const { header, body } = exportPacketCoder.decode(packet);
    const resequenced = exportPacketCoder.encode({ header: { ...header, terminalSequence: header.terminalSequence + 1 }, body });
    expect(verifyExportPacket(resequenced, anchors)).toMatchObject({ ok: false, fault: 'payer-signature' });
    const mallory = packetOf(coins, { signKey: sm9ExtractSignKey(kgcSign, utf8.encode('mallory@test')) });
    expect(verifyExportPacket(mallory, anchors)).toMatchObject({ ok: false, fault: 'payer-signature' });
  });

  it("'withdrawal-seal' for a clear body carrying a code its header does not commit to", () => {
    const packet = packetOf(mint([1000]));
    const seal = packet.length - 24; // the body ends with the seal: 8 bytes of code digits, 16 of salt
    expect(verifyExportPacket(flipped(packet, seal), anchors)).toMatchObject({ ok: false, fault: 'withdrawal-seal' });
  });

  it("'amount' for coins not adding up to the signed amount, and for a signed packet without coins", () => {
    const coins = mint([1000, 500]);
    const { header } = exportPacketCoder.decode(packetOf(coins));
    // The payer signs a header claiming more than its coins (as a faulty or malicious payer could).
    const headerBytes = exportHeaderCoder.encode({ ...header, amountFen: 2000 });
    const coinListBytes = coinListCoder.encode(coins);
    const signature = sm9Sign(signKey, kgcSign.publicKey, sm3(concatBytes(headerBytes, coinListBytes)));
    const overstated = concatBytes(headerBytes, exportBodyCoder.encode({ coins, signature, withdrawal: { code: '0'.repeat(16), salt: new Uint8Array(16) } }));
    expect(verifyExportPacket(overstated, anchors)).toMatchObject({ ok: false, fault: 'amount', sumFen: 1500 });
    expect(verifyExportPacket(packetOf([]), anchors)).toMatchObject({ ok: false, fault: 'amount', sumFen: 0 });
  });

  it("'duplicate-serial' for a coin twice in the packet, and for a coin the receiver already holds", () => {
    const [coin, other] = mint([1000, 500]);
    expect(verifyExportPacket(packetOf([coin, other, coin]), anchors)).toMatchObject({ ok: false, fault: 'duplicate-serial', index: 2 });
    const held = (serial: Uint8Array) => bytesToHex(serial) === bytesToHex(other.body.serial);
    expect(verifyExportPacket(packetOf([coin, other]), anchors, { isHeld: held })).toMatchObject({ ok: false, fault: 'duplicate-serial', index: 1 });
  });

  it("'expired' for a coin that expired before the packet date, accepted on its expiry date", () => {
    expect(verifyExportPacket(packetOf(mint([1000], { expiryDate: '20261121' })), anchors)).toMatchObject({ ok: false, fault: 'expired', index: 0 });
    expect(verifyExportPacket(packetOf(mint([1000], { expiryDate: '20261122' })), anchors).ok).toBe(true);
  });

  it("'coin-signature' for a forged coin in a validly signed packet, 'coin-key' for an unknown key index, 'coin-format' for a bad coin version", () => {
    const [coin] = mint([1000]);
    const forged = { body: coin.body, signature: sm2Sign(sm2GenerateKeyPair().privateKey, coinBodyCoder.encode(coin.body)) };
    expect(verifyExportPacket(packetOf([mint([500])[0], forged]), anchors)).toMatchObject({ ok: false, fault: 'coin-signature', index: 1 });
    const [unknownKey] = mint([1000], { signingKey: { privateKey: coinKey.privateKey, keyIndex: 2 } });
    expect(verifyExportPacket(packetOf([unknownKey]), anchors)).toMatchObject({ ok: false, fault: 'coin-key', index: 0 });
    expect(verifyExportPacket(packetOf([resigned({ ...coin.body, version: 2 })]), anchors)).toMatchObject({ ok: false, fault: 'coin-format', index: 0 });
  });

  it("'denomination-key' for a coin whose m another mint master made, only when the central bank's keys are given", () => {
    const [coin] = mint([1000]);
    const wrongM = resigned({ ...coin.body, m: new DenominationKeys(randomBytes(16)).checkValue(1000, coin.body.serial) });
    const packet = packetOf([wrongM]);
    expect(verifyExportPacket(packet, anchors, { denominationKeys: new DenominationKeys(mintMaster) })).toMatchObject({ ok: false, fault: 'denomination-key', index: 0 });
    expect(verifyExportPacket(packet, anchors).ok).toBe(true);
  });

  it('verifies a TRANSFER on the body the payee decrypted (with its seal) or on the settlement body (coins and signature)', () => {
    const seal = { code: '1234567890123456', salt: randomBytes(16) };
    const packet = packetOf(mint([2000]), {
      header: { payerCardId: '62120000000000000001', payerIdentity: PAYER, payerCounter: 9, payeeIdentity: PAYEE, type: 'TRANSFER' },
      withdrawal: seal,
      kgcEncryptMasterPublicKey: kgcEncrypt.publicKey,
    });
    const read = readExportPacket(packet);
    if (!read.ok) throw new Error(read.fault);
    const clear = sm9Decrypt(sm9ExtractEncryptKey(kgcEncrypt, utf8.encode(PAYEE)), utf8.encode(PAYEE), read.body);
    const opened = verifyExportPacket(read, anchors, { body: { exportBody: clear } });
    expect(opened).toMatchObject({ ok: true, withdrawal: { code: seal.code } });
    const { coins, signature } = exportBodyCoder.decode(clear);
    const settled = verifyExportPacket(read, anchors, { body: { settlementBody: settlementBodyCoder.encode({ coins, signature }) } });
    expect(settled.ok).toBe(true);
    expect(settled.ok && settled.withdrawal).toBeUndefined();
    // A seal other than the one committed to (a guessed code with the real salt) is refused.
    const guessed = exportBodyCoder.encode({ coins, signature, withdrawal: { code: '9999999999999999', salt: seal.salt } });
    expect(verifyExportPacket(read, anchors, { body: { exportBody: guessed } })).toMatchObject({ ok: false, fault: 'withdrawal-seal' });
  });
});
