/**
 * @module The card-level suite, written once against DrmbCard over a Transport, and run on the
 * in-process simulator and through PC/SC (pcscd + vpcd + `drmb sim serve`). A POS-style flow:
 * select, balance, PIN, purchase, proof, log, coins.
 */
import { describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { exportBodyCoder, exportPacketCoder } from '../applet-spec/value-formats.js';
import { purchaseMac1Data } from '../applet-spec/mac-data.js';
import { pbocMac, pbocPurchaseSessionKey } from '../crypto/pboc.js';
import { randomBytes } from '../base/bytes.js';
import { DrmbCard } from '../host/drmb-card.js';
import { WrongPinError } from '../host/errors.js';
import type { Transport } from '../host/transport.js';
import { systemKeys, TERMINAL_ID } from './card-fixture.js';
import { u32 } from '../applet-spec/codec/fields.js';


/** The terminal's secure module for tests: MAC1 under the purchase key of the test system. */
export function testSecureModule(terminalSequence: number, date: string, time: string) {
  return (c: { cardRandom: Uint8Array; counter: number; amountFen: number; terminalId: Uint8Array }) => {
    const sk = pbocPurchaseSessionKey(systemKeys().appKeys.purchase, c.cardRandom, u32.encode(c.counter), u32.encode(terminalSequence));
    return pbocMac(sk, purchaseMac1Data({ amountFen: c.amountFen, transactionType: 6, terminalId: c.terminalId, date, time }));
  };
}

/**
 * Registers the suite. `connect` gives a fresh transport to an ISSUED card holding 171.00 yuan
 * (100 + 50 + 20 + 1) with PIN 123456 (test/state-images.ts); it is called once per test.
 */
export function cardSuite(name: string, connect: () => Promise<Transport>, cardId: string): void {
  describe(`card suite on ${name}`, () => {
    const withCard = async <T>(fn: (card: DrmbCard) => Promise<T>): Promise<T> => {
      const t = await connect();
      try {
        return await fn(new DrmbCard(t));
      } finally {
        await t.close();
      }
    };

    it('selects the applet and reads card ID, state and balance', async () => {
      await withCard(async (card) => {
        const info = await card.select();
        expect(info).toMatchObject({ cardId, state: 'ISSUED', label: 'D-RMB' });
        expect(await card.balance()).toBe(17100);
        expect(await card.getData('balance')).toBe(17100);
        expect(await card.getData('cardId')).toBe(cardId);
      });
    });

    it('counts wrong PINs down and resets on the right one', async () => {
      await withCard(async (card) => {
        await card.select();
        const e = await card.verifyPin('000000').catch((x) => x);
        expect(e).toBeInstanceOf(WrongPinError);
        expect(e.triesLeft).toBe(2);
        expect(await card.pinTriesLeft()).toBe(2);
        await card.verifyPin('123456');
        expect(await card.pinTriesLeft()).toBe(3);
      });
    });

    it('pays at a POS terminal and proves the payment byte for byte afterwards', async () => {
      await withCard(async (card) => {
        await card.select();
        await card.verifyPin('123456');
        const date = '20261122';
        const time = '130000';
        const result = await card.purchase(
          2000,
          { terminalId: TERMINAL_ID, terminalSequence: 42, date, time, unpredictableNumber: randomBytes(8), payeeIdentity: 'shop@merchant' },
          testSecureModule(42, date, time),
        );
        // The response is longer than 256 bytes: it came through 61xx and GET RESPONSE.
        expect(result.packetBytes.length).toBeGreaterThan(256);
        const { header, body } = exportPacketCoder.decode(result.packetBytes);
        expect(header).toMatchObject({ type: 'PURCHASE', amountFen: 2000, payerCardId: cardId, payeeIdentity: 'shop@merchant', terminalSequence: 42 });
        expect(exportBodyCoder.decode(body).coins.map((c) => c.body.denominationFen)).toEqual([2000]);
        expect(await card.balance()).toBe(15100);
        const proof1 = await card.transactionProof('PURCHASE', result.counter);
        const proof2 = await card.transactionProof('PURCHASE', result.counter);
        expect(hex(proof1!)).toBe(hex(proof2!));
        expect(hex(proof1!.subarray(8))).toBe(hex(result.packetBytes));
        expect(await card.transactionProof('PURCHASE', result.counter + 1)).toBeUndefined();
        const [latest] = await card.readLog();
        expect(latest).toMatchObject({ type: 'PURCHASE', amountFen: 2000, counter: result.counter, balanceAfterFen: 15100 });
      });
    });

    it('lists the coins after VERIFY, each with its central-bank signature', async () => {
      await withCard(async (card) => {
        await card.select();
        await card.verifyPin('123456');
        const coins = await card.listCoins();
        expect(coins.map((c) => c.body.denominationFen).sort((a, b) => a - b)).toEqual([100, 2000, 5000, 10000]);
        for (const c of coins) expect(c.signature.length).toBe(64);
      });
    });
  });
}
