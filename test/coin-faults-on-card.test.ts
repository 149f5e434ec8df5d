/**
 * @module The card and coins/ agree: for each fault verifyExportPacket (and verifyCoinList) names, the
 * simulated card's IMPORT COINS (and CREDIT FOR LOAD) answers the status word the fault maps to in the
 * tables below, on the same packets, really signed and minted, altered in one place. The tables are
 * written out here, apart from the applet's IMPORT_FAULT_SW, so that a changed status word fails here.
 */
import { describe, expect, it } from 'vitest';
import { SW } from '../applet-spec/status-words.js';
import { type Coin, coinBodyCoder, coinListCoder, exportBodyCoder, exportHeaderCoder, exportPacketCoder, NO_WITHDRAWAL_SEAL } from '../applet-spec/value-formats.js';
import { buildExportPacket } from '../coins/build-export-packet.js';
import { coinVerifiers } from '../coins/check-coin.js';
import { readExportPacket } from '../coins/read-export-packet.js';
import type { CoinListFaultName } from '../coins/verify-coin-list.js';
import { verifyCoinList } from '../coins/verify-coin-list.js';
import { type ExportPacketFaultName, type PacketAnchors, verifyExportPacket } from '../coins/verify-export-packet.js';
import { bytesToHex, concatBytes, randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair, sm2Sign } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Decrypt, sm9ExtractEncryptKey, sm9ExtractSignKey, sm9Sign } from '../crypto/sm9/sm9.js';
import { IMPORT_FAULT_SW } from '../simulator/applet/receive.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { cmd, identityFor, issueCard, loadCoins, mintCoin, prepareCard, selectApplet, send, systemKeys } from './card-fixture.js';

/** IMPORT COINS: the status word of each packet fault. */
const IMPORT_COINS_SW: Record<ExportPacketFaultName, number> = {
  format: SW.INCORRECT_DATA,
  version: SW.INCORRECT_DATA,
  'body-format': SW.PACKET_SIGNATURE_INVALID,
  'coin-list-hash': SW.PACKET_SIGNATURE_INVALID,
  'withdrawal-seal': SW.PACKET_SIGNATURE_INVALID,
  'payer-signature': SW.PACKET_SIGNATURE_INVALID,
  amount: SW.INCORRECT_DATA,
  'coin-format': SW.COIN_SIGNATURE_INVALID,
  'coin-key': SW.COIN_SIGNATURE_INVALID,
  'coin-signature': SW.COIN_SIGNATURE_INVALID,
  'denomination-key': SW.COIN_SIGNATURE_INVALID,
  expired: SW.COIN_EXPIRED,
  'duplicate-serial': SW.DUPLICATE_COIN_SERIAL,
};

/** CREDIT FOR LOAD: the status word of each coin fault. */
const CREDIT_FOR_LOAD_SW: Record<CoinListFaultName, number> = {
  'coin-format': SW.COIN_SIGNATURE_INVALID,
  'coin-key': SW.COIN_SIGNATURE_INVALID,
  'coin-signature': SW.COIN_SIGNATURE_INVALID,
  'denomination-key': SW.COIN_SIGNATURE_INVALID,
  expired: SW.COIN_EXPIRED,
  'duplicate-serial': SW.DUPLICATE_COIN_SERIAL,
};

const utf8 = new TextEncoder();
const keys = systemKeys();
const anchors: PacketAnchors = { coinVerifier: coinVerifiers([{ keyIndex: 1, publicKey: keys.coinKey.publicKey }]), kgcSignMasterPublicKey: keys.kgcSign.publicKey };
const PAYER = 'mallory@test';
const payerKey = sm9ExtractSignKey(keys.kgcSign, utf8.encode(PAYER));
let nextCard = 0;

/** An issued payee card, selected. */
function payeeCard(): { card: SimulatedCard; identity: string } {
  const cardId = '6212400' + String(nextCard++).padStart(13, '0');
  const card = new SimulatedCard({ manufacture: { cardId } });
  const { cardKey } = prepareCard(card, cardId);
  issueCard(card, identityFor(cardId), cardKey.publicKey);
  selectApplet(card);
  return { card, identity: identityFor(cardId) };
}

/** The card's answer to IMPORT COINS, and what coins/ says of the same packet mapped to a status word. */
function importAndVerify(card: SimulatedCard, identity: string, packet: Uint8Array): { card: number; coins: number } {
  const read = readExportPacket(packet);
  let expected: number = SW.OK;
  if (!read.ok) expected = IMPORT_COINS_SW[read.fault];
  else {
    const clear = read.header.type === 'TRANSFER' ? sm9Decrypt(sm9ExtractEncryptKey(keys.kgcEncrypt, utf8.encode(identity)), utf8.encode(identity), read.body) : read.body;
    const held = new Set(card.memory.coins.map((c) => bytesToHex(c.body.serial)));
    const v = verifyExportPacket(read, anchors, { body: { exportBody: clear }, isHeld: (s) => held.has(bytesToHex(s)) });
    if (!v.ok) expected = IMPORT_COINS_SW[v.fault];
  }
  return { card: send(card, cmd('importCoins'), { packet: exportPacketCoder.decode(packet) }).sw, coins: expected };
}

describe('coins/ faults on the card', () => {
  it("the applet answers each fault with the status word of these tables, faults no packet below reaches included (format, version, denomination-key)", () => {
    expect(IMPORT_FAULT_SW).toEqual(IMPORT_COINS_SW);
    for (const [fault, sw] of Object.entries(CREDIT_FOR_LOAD_SW)) expect([fault, IMPORT_FAULT_SW[fault as CoinListFaultName]]).toEqual([fault, sw]);
  });

  /** A packet paying `coins` to the card, for a fresh receive nonce of it. */
  function packetFor(card: SimulatedCard, identity: string, coins: Coin[], o: { type?: 'TRANSFER'; withdrawalCode?: string } = {}): Uint8Array {
    const nonce = send(card, cmd('initializeForReceive'), {}).value.nonce as Uint8Array;
    return buildExportPacket({
      header: { payerCardId: '62999999999999999999', payerIdentity: PAYER, payerCounter: 5, payeeIdentity: identity, payeeNonce: nonce, ...(o.type ? { type: o.type } : {}) },
      coins,
      withdrawal: o.withdrawalCode ? { code: o.withdrawalCode, salt: randomBytes(16) } : undefined,
      signKey: payerKey,
      kgcSignMasterPublicKey: keys.kgcSign.publicKey,
      kgcEncryptMasterPublicKey: keys.kgcEncrypt.publicKey,
    });
  }
  const flipped = (packet: Uint8Array, at: number) => {
    const out = packet.slice();
    out[at] ^= 0x01;
    return out;
  };
  const bodyStart = (packet: Uint8Array) => packet.length - exportPacketCoder.decode(packet).body.length;

  it.each<[string, keyof typeof SW, (card: SimulatedCard, identity: string) => Uint8Array]>([
    ['a good purchase packet', 'OK', (c, id) => packetFor(c, id, [mintCoin(1000)])],
    ['a good transfer with a withdrawal code', 'OK', (c, id) => packetFor(c, id, [mintCoin(1000)], { type: 'TRANSFER', withdrawalCode: '1234567890123456' })],
    ['a tampered coin byte', 'PACKET_SIGNATURE_INVALID', (c, id) => { const p = packetFor(c, id, [mintCoin(1000)]); return flipped(p, bodyStart(p) + 1 + 20); }],
    ['a changed payer signature', 'PACKET_SIGNATURE_INVALID', (c, id) => { const p = packetFor(c, id, [mintCoin(1000)]); return flipped(p, p.length - 30); }],
    ['a changed payer signature over a forged coin (the packet is checked before its coins)', 'PACKET_SIGNATURE_INVALID', (c, id) => {
      const p = packetFor(c, id, [mintCoin(1000, { signer: sm2GenerateKeyPair().privateKey })]);
      return flipped(p, p.length - 30);
    }],
    ['a body cut short', 'PACKET_SIGNATURE_INVALID', (c, id) => { const p = packetFor(c, id, [mintCoin(1000)]); return p.subarray(0, p.length - 1); }],
    ['a code the header does not commit to', 'PACKET_SIGNATURE_INVALID', (c, id) => { const p = packetFor(c, id, [mintCoin(1000)]); return flipped(p, p.length - 24); }],
    ['a forged coin', 'COIN_SIGNATURE_INVALID', (c, id) => packetFor(c, id, [mintCoin(500), mintCoin(1000, { signer: sm2GenerateKeyPair().privateKey })])],
    ['a coin under a key index the card does not trust', 'COIN_SIGNATURE_INVALID', (c, id) => packetFor(c, id, [mintCoin(1000, { keyIndex: 2 })])],
    ['a coin of another version', 'COIN_SIGNATURE_INVALID', (c, id) => {
      const body = { ...mintCoin(1000).body, version: 2 };
      return packetFor(c, id, [{ body, signature: sm2Sign(keys.coinKey.privateKey, coinBodyCoder.encode(body)) }]);
    }],
    ['a coin expired before the packet date', 'COIN_EXPIRED', (c, id) => packetFor(c, id, [mintCoin(1000, { expiryDate: '20261121' })])],
    ['a serial twice in the packet', 'DUPLICATE_COIN_SERIAL', (c, id) => { const coin = mintCoin(500); return packetFor(c, id, [coin, coin]); }],
    ['a coin the card already holds', 'DUPLICATE_COIN_SERIAL', (c, id) => { const held = mintCoin(500); expect(loadCoins(c, [held]).sw).toBe(SW.OK); return packetFor(c, id, [held]); }],
    ['a signed amount its coins do not make', 'INCORRECT_DATA', (c, id) => {
      const coins = [mintCoin(1000)];
      const { header } = exportPacketCoder.decode(packetFor(c, id, coins));
      const headerBytes = exportHeaderCoder.encode({ ...header, amountFen: 1500 });
      const signature = sm9Sign(payerKey, keys.kgcSign.publicKey, sm3(concatBytes(headerBytes, coinListCoder.encode(coins))));
      return concatBytes(headerBytes, exportBodyCoder.encode({ coins, signature, withdrawal: NO_WITHDRAWAL_SEAL }));
    }],
  ])('IMPORT COINS of %s: the card and coins/ both answer %s', (_name, swName, make) => {
    const { card, identity } = payeeCard();
    const r = importAndVerify(card, identity, make(card, identity));
    expect(r).toEqual({ card: SW[swName], coins: SW[swName] });
  });

  it('CREDIT FOR LOAD: the card answers what verifyCoinList names for forged, unknown-key, expired, repeated and held coins', () => {
    const { card } = payeeCard();
    const held = mintCoin(100);
    expect(loadCoins(card, [held]).sw).toBe(SW.OK);
    const repeated = mintCoin(200);
    const lists: Coin[][] = [
      [mintCoin(300)],
      [mintCoin(300), mintCoin(500, { signer: sm2GenerateKeyPair().privateKey })],
      [mintCoin(300, { keyIndex: 2 })],
      [mintCoin(300, { expiryDate: '20261121' })],
      [repeated, repeated],
      [mintCoin(300), held],
    ];
    const answers = lists.map((coins) => {
      const heldSerials = new Set(card.memory.coins.map((c) => bytesToHex(c.body.serial)));
      const fault = verifyCoinList(coins, coinListCoder.encode(coins), { verifier: anchors.coinVerifier, atDate: '20261122', isHeld: (s) => heldSerials.has(bytesToHex(s)) });
      return { card: loadCoins(card, coins).sw, coins: fault ? CREDIT_FOR_LOAD_SW[fault.fault] : SW.OK };
    });
    expect(answers.map((a) => a.card)).toEqual([SW.OK, SW.COIN_SIGNATURE_INVALID, SW.COIN_SIGNATURE_INVALID, SW.COIN_EXPIRED, SW.DUPLICATE_COIN_SERIAL, SW.DUPLICATE_COIN_SERIAL]);
    expect(answers.map((a) => a.coins)).toEqual(answers.map((a) => a.card));
  });
});
