/** @module Card memory validation as an image loads: every record strict, the records consistent where value is at stake, torn images still recover. */
import { beforeAll, describe, expect, it } from 'vitest';
import { u32 } from '../applet-spec/codec/fields.js';
import { COIN_LENGTH, exportPacketCoder, NO_WITHDRAWAL_CODE } from '../applet-spec/value-formats.js';
import { APP_STATE_NAMES, APP_STATES } from '../applet-spec/lifecycle.js';
import { cmd, identityFor, issueCard, prepareCard, purchase, selectApplet, send } from '../test/card-fixture.js';
import { editCardImage, rewriteCardImage } from '../test/edit-card-image.js';
import { stateImages } from '../test/state-images.js';
import { CardImageError } from './card-image-error.js';
import { type PersistentStore, PowerLossError } from './persistent-store.js';
import { SimulatedCard } from './simulated-card.js';

const PAYER_ID = '62120000000000000911';
const PAYEE_ID = '62120000000000000922';

let images: ReturnType<typeof stateImages>;
/** the payer after a load, a POS purchase and a transfer out: proofs of three types, hash chain, offline use */
let payerImage: Uint8Array;
/** the payee after importing the transfer: receipt, receive proof, retired nonce */
let payeeImage: Uint8Array;

beforeAll(() => {
  images = stateImages(PAYER_ID);
  const payer = SimulatedCard.fromImage(images.ISSUED);
  selectApplet(payer);
  expect(purchase(payer, 2_000).sw).toBe(0x9000);

  const payee = new SimulatedCard({ manufacture: { cardId: PAYEE_ID } });
  issueCard(payee, identityFor(PAYEE_ID), prepareCard(payee, PAYEE_ID).cardKey.publicKey);
  selectApplet(payee);
  const ready = send(payee, cmd('initializeForReceive'), {}).value as { payeeIdentity: string; nonce: Uint8Array };
  selectApplet(payer);
  const init = send(payer, cmd('initializeForTransfer'), {
    amountFen: 5_000,
    payeeIdentity: ready.payeeIdentity,
    payeeNonce: ready.nonce,
    withdrawalCode: NO_WITHDRAWAL_CODE,
    date: '20261122',
    time: '120000',
  });
  expect(init.sw).toBe(0x9000);
  const exported = send(payer, cmd('exportCoins'), { confirmation: (init.value as { cardRandom: Uint8Array }).cardRandom });
  expect(exported.sw).toBe(0x9000);
  selectApplet(payee);
  expect(send(payee, cmd('importCoins'), { packet: exportPacketCoder.decode(exported.data) }).sw).toBe(0x9000);
  payerImage = payer.toImage();
  payeeImage = payee.toImage();
}, 120_000);

const load = (image: Uint8Array) => () => SimulatedCard.fromImage(image);
const text = (image: Uint8Array) => new TextDecoder().decode(image);

describe('loading a valid card image', () => {
  it('loads a card in every lifecycle state and saves it back byte for byte', () => {
    for (const state of APP_STATE_NAMES) {
      const card = SimulatedCard.fromImage(images[state]);
      expect(card.memory.state).toBe(state);
      expect(text(card.toImage())).toBe(text(images[state]));
    }
  });

  it('round-trips a personalized card that has loaded, paid and sent coins, and one that received them: balance, counter, proofs, receipt', () => {
    const payer = SimulatedCard.fromImage(payerImage);
    expect([payer.memory.balanceFen, payer.memory.counter, payer.memory.log.map((r) => r.type)]).toEqual([17_100 - 2_000 - 5_000, 3, ['TRANSFER', 'PURCHASE', 'LOAD']]);
    expect(payer.store.keys('proof/')).toHaveLength(3);
    expect(text(payer.toImage())).toBe(text(payerImage));
    const payee = SimulatedCard.fromImage(payeeImage);
    expect([payee.memory.balanceFen, payee.memory.counter, payee.store.keys('receipt/').length]).toEqual([5_000, 1, 1]);
    expect(text(payee.toImage())).toBe(text(payeeImage));
  });

  it('loads a torn purchase image (journal present) by rolling the purchase back, and saves it without the journal', () => {
    for (const k of [1, 2, 3]) {
      const card = SimulatedCard.fromImage(images.ISSUED);
      selectApplet(card);
      card.store.cutPowerAfterWrites(k);
      expect(() => purchase(card, 2_000), `k=${k}`).toThrow(PowerLossError);
      const torn = card.toImage();
      expect(JSON.parse(text(torn)).journal).not.toBeNull();
      const back = SimulatedCard.fromImage(torn);
      expect([back.memory.balanceFen, back.memory.counter, back.memory.log.length, back.store.keys('proof/').length]).toEqual([17_100, 1, 1, 1]);
      expect(JSON.parse(text(back.toImage())).journal).toBeNull();
    }
  });

  it('accepts 0 to 8 outstanding receive nonces of 8 bytes each', () => {
    for (const n of [0, 1, 8]) {
      expect(load(rewriteCardImage(images.ISSUED, (s) => s.put('receive/nonces', new Uint8Array(8 * n).fill(n)))), `${n} nonces`).not.toThrow();
    }
  });
});

describe('refusing a damaged card image', () => {
  /** Denomination of the first coin set to 1100.78 yuan (bytes 1-4 of the coin, after the version). */
  const editedAmount = (coinsHex: string) => coinsHex.slice(0, 2) + (110_078).toString(16).toUpperCase().padStart(8, '0') + coinsHex.slice(10);

  it('refuses a coin record edited by hand (emptied: 0.00 yuan), on the checksum', () => {
    expect(load(editCardImage(images.ISSUED, (j) => (j.records['purse/coins'] = '')))).toThrow(new CardImageError('is damaged: checksum mismatch'));
  });

  it('refuses a state byte edited to FF (TERMINATED) by hand, and with the checksum recomputed since the card holds coins', () => {
    expect(load(editCardImage(images.ISSUED, (j) => (j.records.state = 'FF')))).toThrow(/checksum mismatch/);
    const rewritten = rewriteCardImage(images.ISSUED, (s) => s.put('state', Uint8Array.of(APP_STATES.TERMINATED)));
    expect(load(rewritten)).toThrow('card image is damaged: record purse/coins: 4 coins on a card in state TERMINATED');
  });

  it('refuses a coin amount edited to 1100.78 yuan by hand, and with the checksum recomputed since the balance disagrees with the log', () => {
    expect(load(editCardImage(images.ISSUED, (j) => (j.records['purse/coins'] = editedAmount(j.records['purse/coins']))))).toThrow(/checksum mismatch/);
    const rewritten = rewriteCardImage(images.ISSUED, (s) => {
      const coins = s.get('purse/coins')!;
      coins.set(u32.encode(110_078), 1);
      s.put('purse/coins', coins);
    });
    expect(load(rewritten)).toThrow('card image is damaged: record purse/coins: the coins add up to 117178 fen, the newest log record says 17100 fen');
  });

  /** Each change is written with the checksum recomputed: only record validation stands in the way. */
  const coins = () => SimulatedCard.fromImage(images.ISSUED).memory.coinBytes;
  const withCoin = (change: (coin: Uint8Array) => void) => {
    const c = coins();
    change(c.subarray(0, COIN_LENGTH));
    return c;
  };
  it.each<[string, (s: PersistentStore) => void, RegExp]>([
    ['a state byte that is no lifecycle state', (s) => s.put('state', Uint8Array.of(0x42)), /record state: 42 is not a lifecycle state/],
    ['a state of two bytes', (s) => s.put('state', Uint8Array.of(0x1f, 0x1f)), /record state: 2 bytes, expected 1/],
    ['coins cut short of a whole coin', (s) => s.put('purse/coins', coins().subarray(0, 4 * COIN_LENGTH - 1)), /record purse\/coins: 439 bytes is not a whole number of 110-byte coins/],
    ['a coin of another version', (s) => s.put('purse/coins', withCoin((c) => (c[0] = 2))), /record purse\/coins: coin 1 of 4: version 2, expected 1/],
    ['a coin of no value', (s) => s.put('purse/coins', withCoin((c) => c.fill(0, 1, 5))), /record purse\/coins: coin 1 of 4: denomination 0/],
    ['a coin with a date that is no date', (s) => s.put('purse/coins', withCoin((c) => c.fill(0xff, 21, 25))), /record purse\/coins: coin 1 of 4 body\.issueDate/],
    ['the same coin twice', (s) => s.put('purse/coins', Uint8Array.from([...coins(), ...coins().subarray(0, COIN_LENGTH)])), /record purse\/coins: coin 5 of 5: the same serial as an earlier coin/],
    ['no coins on a card whose log says 171.00 yuan', (s) => s.put('purse/coins', new Uint8Array(0)), /record purse\/coins: the coins add up to 0 fen, the newest log record says 17100 fen/],
    ['a counter of 3 bytes', (s) => s.put('purse/counter', Uint8Array.of(0, 0, 1)), /record purse\/counter: 3 bytes, expected 4/],
    ['a counter behind the log', (s) => s.put('purse/counter', Uint8Array.of(0, 0, 0, 0)), /record log: record of counter 0, the card is at 0/],
    ['a log record cut short', (s) => s.put('log', s.get('log')!.subarray(1)), /record log: 37 bytes is not a whole number of 38-byte log records/],
    ['risk parameters of 23 bytes', (s) => s.put('purse/risk', new Uint8Array(23)), /record purse\/risk: 23 bytes, expected 24/],
    ['offline use of 9 bytes', (s) => s.put('purse/offline', new Uint8Array(9)), /record purse\/offline: 9 bytes, expected 8/],
    ['an export hash of 31 bytes', (s) => s.put('purse/last-export', new Uint8Array(31)), /record purse\/last-export: 31 bytes, expected 32/],
    ['a reference PIN that is no PIN block', (s) => s.put('pin/ref', new Uint8Array(8)), /record pin\/ref: reference PIN: is not a format 2 PIN block/],
    ['more PIN tries than the limit', (s) => s.put('pin/tries', Uint8Array.of(9)), /record pin\/tries: more tries left than the try limit/],
    ['an SCP03 key set of 47 bytes', (s) => s.put('scp/30', new Uint8Array(47)), /record scp\/30: 47 bytes, expected 48/],
    ['a DGI whose layout does not decode', (s) => s.put('dgi/0101', Uint8Array.of(0x70, 0x00)), /record dgi\/0101: /],
    ['a completion DGI stored', (s) => s.put('dgi/7fff', new Uint8Array(0)), /record dgi\/7fff: not a DGI the card stores/],
    ['a proof of a counter not reached', (s) => s.put('proof/02/0000000005', new Uint8Array(4)), /record proof\/02\/0000000005: proof of a counter the card \(at 1\) has not reached/],
    ['a proof that is no response of its command', (s) => s.put('proof/02/0000000000', new Uint8Array(5)), /record proof\/02\/0000000000: CREDIT FOR LOAD response/],
    ['a receipt that does not decode', (s) => s.put(`receipt/${'ab'.repeat(32)}`, new Uint8Array(10)), /record receipt\/abab.*: IMPORT COINS response/],
    ['receive nonces of 12 bytes', (s) => s.put('receive/nonces', new Uint8Array(12)), /record receive\/nonces: 12 bytes is not a whole number of 8-byte nonces/],
    ['nine receive nonces', (s) => s.put('receive/nonces', new Uint8Array(72)), /record receive\/nonces: 9 nonces, at most 8/],
    ['a record no accessor writes', (s) => s.put('purse/bonus', Uint8Array.of(1)), /record purse\/bonus: not a record of this card/],
    ['no card ID (the card would be manufactured afresh)', (s) => s.delete('card/id'), /record card\/id: missing on a card in state ISSUED/],
    ['no SM9 signing key on an issued card', (s) => s.delete('dgi/8a01'), /record dgi\/8a01: missing on a card in state ISSUED/],
  ])('refuses %s even with the checksum recomputed', (_what, change, message) => {
    const rewritten = rewriteCardImage(images.ISSUED, change);
    expect(load(rewritten)).toThrow(CardImageError);
    expect(load(rewritten)).toThrow(message);
  });

  it('refuses a rewritten receipt filed under another packet', () => {
    const rewritten = rewriteCardImage(payeeImage, (s) => {
      const [key] = s.keys('receipt/');
      s.put(`receipt/${'00'.repeat(32)}`, s.get(key)!);
      s.delete(key);
    });
    expect(load(rewritten)).toThrow(/record receipt\/0000.*: the receipt is for another packet/);
  });
});
