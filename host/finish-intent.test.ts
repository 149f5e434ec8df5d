/** @module finishIntent: every answer of GET TRANSACTION PROVE ends an intent the right way, and a packet file is written only where it harms nothing. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_HEADER } from '../applet-spec/commands/example-values.js';
import { SW } from '../applet-spec/status-words.js';
import { exportPacketCoder, type TransactionType } from '../applet-spec/value-formats.js';
import type { DrmbCard } from './drmb-card.js';
import { StatusWordError } from './errors.js';
import { finishIntent, packetFileDelivery } from './finish-intent.js';
import { ValueJournal } from './value-journal.js';

const A = '62120000000000000001';
const packet = exportPacketCoder.encode({ header: { ...EXAMPLE_HEADER, type: 'TRANSFER', payerCardId: A, payerCounter: 6 }, body: Uint8Array.of(0xe1, 0xe2) });

/** A card that answers GET TRANSACTION PROVE only: the stored response, 9406 (undefined) or a status word. */
function cardAnswering(answer: Uint8Array | undefined | number): DrmbCard {
  const card: Pick<DrmbCard, 'transactionProof'> = {
    async transactionProof(_type: TransactionType, _counter: number) {
      if (typeof answer === 'number') throw new StatusWordError('GET TRANSACTION PROVE', answer);
      return answer;
    },
  };
  return card as DrmbCard;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-finish-'));
  const journal = new ValueJournal(join(dir, 'journal'));
  journal.prepare();
  const intent = journal.open({ cardId: A, type: 'TRANSFER', counter: 6, amountFen: 3000, destination: join(dir, 'p.bin') });
  return { dir, journal, intent };
}

describe('finishIntent', () => {
  it('writes the stored packet to the destination and closes the intent as delivered', async () => {
    const { dir, journal, intent } = setup();
    const r = await finishIntent(cardAnswering(packet), journal, intent, packetFileDelivery());
    expect(r).toMatchObject({ result: 'delivered', where: join(dir, 'p.bin') });
    expect([...readFileSync(join(dir, 'p.bin'))]).toEqual([...packet]);
    expect(journal.closedIntent(intent.id)?.outcome).toBe('delivered');
  });

  it('closes as not committed (no value moved) on 9406, writing nothing', async () => {
    const { dir, journal, intent } = setup();
    const r = await finishIntent(cardAnswering(undefined), journal, intent, packetFileDelivery());
    expect(r.result).toBe('not-committed');
    expect(journal.openIntents()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['journal']);
  });

  it('closes as proof-gone on 6A83, saying the value cannot be read back', async () => {
    const { journal, intent } = setup();
    const r = await finishIntent(cardAnswering(SW.RECORD_NOT_FOUND), journal, intent, packetFileDelivery());
    expect(r.result).toBe('proof-gone');
    expect(journal.closedIntent(intent.id)?.note).toMatch(/no longer keeps the proof of TRANSFER counter 6 \(6A83\)/);
  });

  it('leaves a destination holding other data alone and the intent open', async () => {
    const { dir, journal, intent } = setup();
    writeFileSync(join(dir, 'p.bin'), 'another payment');
    const r = await finishIntent(cardAnswering(packet), journal, intent, packetFileDelivery());
    expect(r).toMatchObject({ result: 'undeliverable', reason: `${join(dir, 'p.bin')} already holds other data (left as it is)` });
    expect(readFileSync(join(dir, 'p.bin'), 'utf8')).toBe('another payment');
    expect(journal.openIntents()).toEqual([intent]);
  });

  it("refuses a proof that is another card's or counter's packet, and the intent stays open", async () => {
    const { journal, intent } = setup();
    const other = exportPacketCoder.encode({ header: { ...EXAMPLE_HEADER, type: 'TRANSFER', payerCardId: A, payerCounter: 5 }, body: Uint8Array.of(1) });
    const r = await finishIntent(cardAnswering(other), journal, intent, packetFileDelivery());
    expect(r).toMatchObject({ result: 'undeliverable', reason: `the card's proof is the packet of card ${A} counter 5, not of this intent` });
    expect(journal.openIntents()).toEqual([intent]);
  });

  it('lets any other card error through, the intent open', async () => {
    const { journal, intent } = setup();
    await expect(finishIntent(cardAnswering(SW.CONDITIONS_OF_USE_NOT_SATISFIED), journal, intent, packetFileDelivery())).rejects.toThrow(StatusWordError);
    expect(journal.openIntents()).toEqual([intent]);
  });
});
