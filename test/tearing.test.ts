/**
 * @module Exhaustive tearing: for each value-moving or key-writing command, power is cut after each of
 * its persistent writes in turn; after power-up the card must conserve value (coins on the card plus
 * coins recoverable through GET TRANSACTION PROVE), never move a counter backwards, answer the same
 * proof byte for byte, and never expose a half-written key or DGI.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { hex } from '../base/hex.js';
import { DGIS, type DgiName } from '../applet-spec/dgis.js';
import { exportBodyCoder, exportPacketCoder, TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { PowerLossError } from '../simulator/persistent-store.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import type { VirtualCard } from '../simulator/virtual-card.js';
import { sm9Decrypt } from '../crypto/sm9/sm9.js';
import {
  cmd,
  identityFor,
  issueCard,
  lineMac,
  loadCoins,
  mintCoin,
  openChannel,
  PERSO_KEYS,
  prepareCard,
  purchase,
  selectApplet,
  send,
  stage1Dgis,
  storeDataApdu,
  sendSecure,
  systemKeys,
} from './card-fixture.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { sm9ExtractEncryptKey } from '../crypto/sm9/sm9.js';

const PAYER_ID = '62120000000000000101';
const PAYEE_ID = '62120000000000000202';

/** A card proxy that arms a power cut after write k when the matching command (last block) arrives. */
function armedAt(card: SimulatedCard, matches: (ins: number, p1: number) => boolean, k: number): VirtualCard {
  let armed = false;
  return {
    get atr() {
      return card.atr;
    },
    powerOn: () => card.powerOn(),
    powerOff: () => card.powerOff(),
    reset: () => card.reset(),
    transmit(apdu: Uint8Array): Uint8Array {
      const a = decodeCommandApdu(apdu);
      if (!armed && !(a.cla & 0x10) && matches(a.ins, a.p1)) {
        armed = true;
        card.store.cutPowerAfterWrites(k);
      }
      return card.transmit(apdu);
    },
  };
}

/** Counts the persistent writes the matching command makes when nothing is cut. */
function writesOf(card: SimulatedCard, matches: (ins: number, p1: number) => boolean, run: (c: VirtualCard) => void): number {
  let before = -1;
  let count = 0;
  const proxy: VirtualCard = {
    atr: card.atr,
    powerOn: () => card.powerOn(),
    powerOff: () => card.powerOff(),
    reset: () => card.reset(),
    transmit(apdu: Uint8Array): Uint8Array {
      const a = decodeCommandApdu(apdu);
      const target = !(a.cla & 0x10) && matches(a.ins, a.p1);
      if (target) before = card.store.writeCount;
      const r = card.transmit(apdu);
      if (target) count = card.store.writeCount - before;
      return r;
    },
  };
  run(proxy);
  return count;
}

/** Runs `run` with power cut after write k of the matching command; returns true if power was cut. */
function tearRun(card: SimulatedCard, matches: (ins: number, p1: number) => boolean, k: number, run: (c: VirtualCard) => void): boolean {
  try {
    run(armedAt(card, matches, k));
  } catch (e) {
    if (e instanceof PowerLossError) {
      card.store.disarm();
      card.powerOn();
      return true;
    }
    throw e;
  }
  card.store.disarm();
  return false;
}

function proof(card: VirtualCard, type: number, counter: number): { sw: number; bytes?: string } {
  const r = send(card, cmd('getTransactionProve'), { transactionType: type, counter });
  return { sw: r.sw, bytes: r.value ? hex((r.value as { storedResponse: Uint8Array }).storedResponse) : undefined };
}

const isIns = (ins: number, p1?: number) => (i: number, q: number) => i === ins && (p1 === undefined || q === p1);

let payerImage: Uint8Array;
let payeeImage: Uint8Array;
let preparedImage: Uint8Array;
let preparedCardKey: { privateKey: Uint8Array; publicKey: Uint8Array };

beforeAll(() => {
  const payer = new SimulatedCard({ manufacture: { cardId: PAYER_ID } });
  const { cardKey } = prepareCard(payer, PAYER_ID);
  preparedImage = payer.toImage();
  preparedCardKey = cardKey;
  issueCard(payer, identityFor(PAYER_ID), cardKey.publicKey);
  selectApplet(payer);
  expect(loadCoins(payer, [mintCoin(10000), mintCoin(5000), mintCoin(2000), mintCoin(2000), mintCoin(1000), mintCoin(500)]).sw).toBe(0x9000);
  payerImage = payer.toImage();

  const payee = new SimulatedCard({ manufacture: { cardId: PAYEE_ID } });
  const p = prepareCard(payee, PAYEE_ID);
  issueCard(payee, identityFor(PAYEE_ID), p.cardKey.publicKey);
  payeeImage = payee.toImage();
});

describe('tearing CREDIT FOR LOAD', () => {
  it('after every write: the load happened completely (TAC proof, coins, counter) or not at all', () => {
    const coins = [mintCoin(10000), mintCoin(2000), mintCoin(100)];
    const probe = SimulatedCard.fromImage(payerImage);
    selectApplet(probe);
    const n = writesOf(probe, isIns(0x52, 0x00), (c) => expect(loadCoins(c, coins).sw).toBe(0x9000));
    expect(n).toBeGreaterThanOrEqual(5);
    for (let k = 1; k <= n; k++) {
      const card = SimulatedCard.fromImage(payerImage);
      selectApplet(card);
      const before = { balance: card.memory.balanceFen, counter: card.memory.counter };
      expect(tearRun(card, isIns(0x52, 0x00), k, (c) => void loadCoins(c, coins))).toBe(true);
      selectApplet(card);
      const after = { balance: card.memory.balanceFen, counter: card.memory.counter };
      const p1 = proof(card, TRANSACTION_TYPES.LOAD, before.counter);
      const p2 = proof(card, TRANSACTION_TYPES.LOAD, before.counter);
      expect(p1).toEqual(p2);
      if (k < n) {
        expect(after, `k=${k}`).toEqual(before);
        expect(p1.sw).toBe(0x9406);
      } else {
        expect(after).toEqual({ balance: before.balance + 12100, counter: before.counter + 1 });
        expect(p1.sw).toBe(0x9000);
      }
    }
  });
});

describe('tearing DEBIT FOR PURCHASE', () => {
  it('after every write: card coins plus coins in the provable packet equal the coins before', () => {
    const probe = SimulatedCard.fromImage(payerImage);
    selectApplet(probe);
    send(probe, cmd('verify'), { pin: '123456' });
    const n = writesOf(probe, isIns(0x54, 0x01), (c) => expect(purchase(c, 3000).sw).toBe(0x9000));
    expect(n).toBeGreaterThanOrEqual(6);
    for (let k = 1; k <= n; k++) {
      const card = SimulatedCard.fromImage(payerImage);
      selectApplet(card);
      send(card, cmd('verify'), { pin: '123456' });
      const before = { balance: card.memory.balanceFen, counter: card.memory.counter };
      expect(tearRun(card, isIns(0x54, 0x01), k, (c) => void purchase(c, 3000))).toBe(true);
      selectApplet(card);
      const after = { balance: card.memory.balanceFen, counter: card.memory.counter };
      expect(after.counter).toBeGreaterThanOrEqual(before.counter);
      const p1 = proof(card, TRANSACTION_TYPES.PURCHASE, before.counter);
      expect(proof(card, TRANSACTION_TYPES.PURCHASE, before.counter)).toEqual(p1);
      let exported = 0;
      if (p1.sw === 0x9000) {
        const stored = Uint8Array.from(Buffer.from(p1.bytes!, 'hex'));
        const { header, body } = exportPacketCoder.decode(stored.subarray(8));
        const { coins } = exportBodyCoder.decode(body);
        exported = coins.reduce((s, c) => s + c.body.denominationFen, 0);
        expect(exported).toBe(header.amountFen);
        // No coin is both spendable on the card and in the exported packet.
        const held = new Set(card.memory.coins.map((c) => hex(c.body.serial)));
        for (const c of coins) expect(held.has(hex(c.body.serial))).toBe(false);
      } else {
        expect(p1.sw).toBe(0x9406);
      }
      expect(after.balance + exported, `k=${k}`).toBe(before.balance);
      expect(k < n ? after.counter === before.counter : after.counter === before.counter + 1).toBe(true);
    }
  });
});

/** Peer transfer from `payer` to the payee identity; returns the packet (undefined if the export failed). */
function transfer(payer: VirtualCard, payeeIdentity: string, nonce: Uint8Array, amountFen: number): Uint8Array | undefined {
  const init = send(payer, cmd('initializeForTransfer'), {
    amountFen,
    payeeIdentity,
    payeeNonce: nonce,
    withdrawalCode: '0000000000001234',
    date: '20261122',
    time: '120000',
  });
  if (init.sw !== 0x9000) return undefined;
  const r = send(payer, cmd('exportCoins'), { confirmation: (init.value as { cardRandom: Uint8Array }).cardRandom });
  return r.sw === 0x9000 ? exportPacketCoder.encode(r.value as never) : undefined;
}

describe('tearing EXPORT COINS', () => {
  it('after every write: coins stay on the card or are in the provable packet, never both, never neither', () => {
    const payeeIdentity = identityFor(PAYEE_ID);
    const probe = SimulatedCard.fromImage(payerImage);
    selectApplet(probe);
    send(probe, cmd('verify'), { pin: '123456' });
    const n = writesOf(probe, isIns(0x54, 0x07), (c) => expect(transfer(c, payeeIdentity, new Uint8Array(8), 5500)).toBeDefined());
    expect(n).toBeGreaterThanOrEqual(6);
    for (let k = 1; k <= n; k++) {
      const card = SimulatedCard.fromImage(payerImage);
      selectApplet(card);
      send(card, cmd('verify'), { pin: '123456' });
      const before = { balance: card.memory.balanceFen, counter: card.memory.counter };
      expect(tearRun(card, isIns(0x54, 0x07), k, (c) => void transfer(c, payeeIdentity, new Uint8Array(8), 5500))).toBe(true);
      selectApplet(card);
      const p1 = proof(card, TRANSACTION_TYPES.TRANSFER, before.counter);
      expect(proof(card, TRANSACTION_TYPES.TRANSFER, before.counter)).toEqual(p1);
      let exported = 0;
      if (p1.sw === 0x9000) {
        const stored = Uint8Array.from(Buffer.from(p1.bytes!, 'hex'));
        const { header, body } = exportPacketCoder.decode(stored);
        const deB = sm9ExtractEncryptKey(systemKeys().kgcEncrypt, new TextEncoder().encode(payeeIdentity));
        const clear = sm9Decrypt(deB, new TextEncoder().encode(payeeIdentity), body);
        exported = exportBodyCoder.decode(clear).coins.reduce((s, c) => s + c.body.denominationFen, 0);
        expect(exported).toBe(header.amountFen);
      } else {
        expect(p1.sw).toBe(0x9406);
      }
      expect(card.memory.balanceFen + exported, `k=${k}`).toBe(before.balance);
    }
  });
});

describe('tearing IMPORT COINS', () => {
  it('after every write: the payee credited the packet once with its receipt stored, or not at all; the same packet retried then credits exactly once', () => {
    const payeeIdentity = identityFor(PAYEE_ID);
    // One transfer packet per attempt needs the payee's nonce, so the payer exports afresh each time.
    let packet: Uint8Array | undefined;
    let writesBeforeImport = 0;
    const run = (payee: SimulatedCard, armedPayee: VirtualCard): number => {
      selectApplet(payee);
      const recv = send(payee, cmd('initializeForReceive'), {});
      const nonce = (recv.value as { nonce: Uint8Array }).nonce;
      const payer = SimulatedCard.fromImage(payerImage);
      selectApplet(payer);
      send(payer, cmd('verify'), { pin: '123456' });
      packet = transfer(payer, payeeIdentity, nonce, 3000)!;
      writesBeforeImport = payee.store.writeCount;
      return send(armedPayee, cmd('importCoins'), { packet: exportPacketCoder.decode(packet) }).sw;
    };
    const probe = SimulatedCard.fromImage(payeeImage);
    expect(run(probe, probe)).toBe(0x9000);
    const writes = probe.store.writeCount - writesBeforeImport;
    expect(writes).toBeGreaterThanOrEqual(5);
    for (let k = 1; k <= writes; k++) {
      const payee = SimulatedCard.fromImage(payeeImage);
      const before = { balance: 0, counter: 0 };
      let cut = false;
      try {
        run(payee, armedAt(payee, isIns(0x52, 0x08), k));
      } catch (e) {
        expect(e).toBeInstanceOf(PowerLossError);
        cut = true;
        payee.store.disarm();
        payee.powerOn();
      }
      expect(cut, `k=${k}`).toBe(true);
      selectApplet(payee);
      const credited = payee.memory.balanceFen - before.balance;
      expect([0, 3000]).toContain(credited);
      expect(payee.memory.counter).toBe(credited ? before.counter + 1 : before.counter);
      const p = proof(payee, TRANSACTION_TYPES.RECEIVE, 0);
      expect(p.sw).toBe(credited ? 0x9000 : 0x9406);
      expect(proof(payee, TRANSACTION_TYPES.RECEIVE, 0)).toEqual(p);
      // The payee side sends the same packet again after the power cut (no new receive session).
      const again = send(payee, cmd('importCoins'), { packet: exportPacketCoder.decode(packet!) });
      expect(again.sw, `k=${k}: retry`).toBe(0x9000);
      expect(payee.memory.balanceFen, `k=${k}: credited once`).toBe(3000);
      expect(payee.memory.counter).toBe(before.counter + 1);
      expect(proof(payee, TRANSACTION_TYPES.RECEIVE, 0).bytes).toBe(hex(again.data));
    }
  });
});

describe('tearing STORE DATA', () => {
  it('after every write of every stage-1 block: each DGI is stored whole or not at all, and prep can be rerun to completion', () => {
    const cardKey = sm2GenerateKeyPair();
    const dgis = stage1Dgis(PAYER_ID, cardKey);
    const blank = new SimulatedCard({ manufacture: { cardId: PAYER_ID } }).toImage();
    let cuts = 0;
    // Block b of the sequence is torn; blocks before it went through.
    for (let b = 0; b < dgis.length; b++) {
      const writes = b === dgis.length - 1 ? 8 : 2;
      for (let k = 1; k <= writes; k++) {
        const card = SimulatedCard.fromImage(blank);
        selectApplet(card);
        const host = openChannel(card, PERSO_KEYS, 0x30);
        for (let i = 0; i < b; i++) expect(sendSecure(card, host, storeDataApdu(dgis[i][0], dgis[i][1], i, false, PERSO_KEYS.dek)).sw).toBe(0x9000);
        card.store.cutPowerAfterWrites(k);
        let cut = false;
        try {
          sendSecure(card, host, storeDataApdu(dgis[b][0], dgis[b][1], b, b === dgis.length - 1, PERSO_KEYS.dek));
        } catch (e) {
          expect(e).toBeInstanceOf(PowerLossError);
          cut = true;
        }
        card.store.disarm();
        if (!cut) continue; // the block made fewer writes than k
        card.powerOn();
        const [name, value] = dgis[b];
        const def = DGIS[name as DgiName];
        const stored = card.memory.dgi(name as DgiName);
        if (stored) expect(hex(stored)).toBe(hex((def.coder as any).encode(value)));
        expect(['BLANK', 'PREPARED']).toContain(card.memory.state);
        if (card.memory.state === 'BLANK') {
          // Resume: a new session rewrites everything and completes.
          selectApplet(card);
          const again = openChannel(card, PERSO_KEYS, 0x30);
          for (let i = 0; i < dgis.length; i++) {
            expect(sendSecure(card, again, storeDataApdu(dgis[i][0], dgis[i][1], i, i === dgis.length - 1, PERSO_KEYS.dek)).sw).toBe(0x9000);
          }
        }
        cuts++;
        expect(card.memory.state).toBe('PREPARED');
      }
    }
    expect(cuts).toBeGreaterThanOrEqual(dgis.length * 2);
  });

  it('a torn stage-2 completion leaves the card PREPARED with no PIN set, and issuance can be rerun', () => {
    const probe = SimulatedCard.fromImage(preparedImage);
    const before = probe.store.writeCount;
    issueCard(probe, identityFor(PAYER_ID), preparedCardKey.publicKey);
    const total = probe.store.writeCount - before;
    let sawPrepared = false;
    let sawIssued = false;
    for (let k = 1; k <= total; k++) {
      const card = SimulatedCard.fromImage(preparedImage);
      card.store.cutPowerAfterWrites(k);
      try {
        issueCard(card, identityFor(PAYER_ID), preparedCardKey.publicKey);
      } catch (e) {
        expect(e).toBeInstanceOf(PowerLossError);
      }
      card.store.disarm();
      card.powerOn();
      if (card.memory.state === 'PREPARED') {
        sawPrepared = true;
        expect(card.memory.record('pin/ref')).toBeUndefined();
        issueCard(card, identityFor(PAYER_ID), preparedCardKey.publicKey);
      } else sawIssued = true;
      expect(card.memory.state).toBe('ISSUED');
      expect(card.memory.record('pin/ref')).toBeDefined();
    }
    expect(sawPrepared && sawIssued).toBe(true);
  });
});

describe('tearing PIN and issuer-script commands', () => {
  it('VERIFY with a wrong PIN: the try counter is decremented before the answer, never restored by a tear', () => {
    const card = SimulatedCard.fromImage(payerImage);
    selectApplet(card);
    const tries = card.memory.pinTriesLeft;
    card.store.cutPowerAfterWrites(1);
    expect(() => send(card, cmd('verify'), { pin: '999999' })).toThrow(PowerLossError);
    card.store.disarm();
    card.powerOn();
    expect(card.memory.pinTriesLeft).toBe(tries - 1);
  });

  it('CHANGE PIN and RELOAD PIN: after every write the card holds the old or the new PIN, with a usable try counter', () => {
    for (const which of ['change', 'reload'] as const) {
      const probe = SimulatedCard.fromImage(payerImage);
      selectApplet(probe);
      const before = probe.store.writeCount;
      doPinCommand(probe, which);
      const n = probe.store.writeCount - before;
      for (let k = 1; k <= n; k++) {
        const card = SimulatedCard.fromImage(payerImage);
        selectApplet(card);
        card.store.cutPowerAfterWrites(k);
        try {
          doPinCommand(card, which);
        } catch (e) {
          expect(e).toBeInstanceOf(PowerLossError);
        }
        card.store.disarm();
        card.powerOn();
        selectApplet(card);
        const oldOk = send(card, cmd('verify'), { pin: '123456' }).sw === 0x9000;
        selectApplet(card);
        const newOk = send(card, cmd('verify'), { pin: '654321' }).sw === 0x9000;
        expect(oldOk !== newOk, `${which} k=${k}`).toBe(true);
      }
    }
  });

  it('PUT DATA and APPLICATION BLOCK: a tear after their one write leaves the new value, before it the old', () => {
    const issuer = systemKeys().appKeys.issuerMac;
    const card = SimulatedCard.fromImage(payerImage);
    selectApplet(card);
    let challenge = (send(card, cmd('getChallenge'), {}).value as { challenge: Uint8Array }).challenge;
    const value = Uint8Array.of(0, 0, 0, 0x05, 0, 0);
    let mac = lineMac(issuer, challenge, [0x04, 0xda, 0x9f, 0x78], value);
    card.store.cutPowerAfterWrites(1);
    expect(() => send(card, cmd('putData'), { tag: 0x9f78, value, mac })).toThrow(PowerLossError);
    card.store.disarm();
    card.powerOn();
    expect(card.memory.risk.singleLimitFen).toBe(50000);

    selectApplet(card);
    challenge = (send(card, cmd('getChallenge'), {}).value as { challenge: Uint8Array }).challenge;
    mac = lineMac(issuer, challenge, [0x84, 0x1e, 0x00, 0x00], new Uint8Array(0));
    card.store.cutPowerAt('never-reached');
    card.store.cutPowerAfterWrites(1);
    expect(() => send(card, cmd('applicationBlock'), { mac })).toThrow(PowerLossError);
    card.store.disarm();
    card.powerOn();
    expect(card.memory.state).toBe('LOCKED');
  });
});

function doPinCommand(card: VirtualCard, which: 'change' | 'reload'): void {
  if (which === 'change') {
    expect(send(card, cmd('changePin'), { oldPin: '123456', newPin: '654321' }).sw).toBe(0x9000);
    return;
  }
  const challenge = (send(card, cmd('getChallenge'), {}).value as { challenge: Uint8Array }).challenge;
  const pin = Uint8Array.of(0x65, 0x43, 0x21);
  const mac = lineMac(systemKeys().appKeys.pinReload, challenge, [0x84, 0x5e, 0x00, 0x00], pin);
  expect(send(card, cmd('reloadPin'), { pin: '654321', mac }).sw).toBe(0x9000);
}
