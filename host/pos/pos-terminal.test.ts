/** @module POS terminal on simulated cards issued from a key ceremony, with a simulated PSAM: payment, verification, blacklist, torn debits, change. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { hex } from '../../base/hex.js';
import { COIN_SIGNED_LENGTH, coinListCoder, exportBodyCoder, exportPacketCoder } from '../../applet-spec/value-formats.js';
import { sm3 } from '../../crypto/sm3.js';
import { sm9Verify } from '../../crypto/sm9/sm9.js';
import { SimulatedCard } from '../../simulator/simulated-card.js';
import { cardApplicationKeys, cardIdToBytes, cardScpKeys } from '../../keys/card-keys.js';
import { personalizePsam } from '../../personalization/personalize-psam.js';
import { Psam } from '../psam.js';
import { directTransport } from '../direct-transport.js';
import { DrmbCard } from '../drmb-card.js';
import { TransportError } from '../errors.js';
import { hostStack } from '../pcsc.js';
import { dataOf, type Transport, wrapTransport } from '../transport.js';
import { issuedCard, MERCHANT, POS_TERMINAL_ID, posPsam, posTerminal, type PosWorld, posWorld, transportOf } from '../../test/pos-fixture.js';
import { BlacklistedCardError, PacketRejectedError, PaymentRefusedError, PosTerminal, PsamNotReadyError } from './pos-terminal.js';
import { UploadQueue } from './upload-queue.js';

let w: PosWorld;
let dir: string;
let n = 0;
beforeAll(() => {
  w = posWorld();
  dir = mkdtempSync(join(tmpdir(), 'drmb-pos-q-'));
}, 120_000);

const queueFile = () => join(dir, `queue-${++n}.jsonl`);
const cardId = () => `621200000000001${String(++n).padStart(5, '0')}`;
const isDebit = (apdu: Uint8Array) => apdu[1] === 0x54 && apdu[2] === 0x01;

/** Counts APDUs by INS on the way to the card. */
function counted(t: Transport): Transport & { ins: number[] } {
  const ins: number[] = [];
  return Object.assign(wrapTransport(t, (c) => (ins.push(c[1]), t.transmit(c))), { ins });
}

/** Host stack whose DEBIT FOR PURCHASE response is changed by `edit` (data without SW) on its way back. */
function tampering(sim: SimulatedCard, edit: (data: Uint8Array) => void): Transport {
  const t = transportOf(sim);
  return wrapTransport(t, async (c) => {
    const r = await t.transmit(c);
    if (!isDebit(c)) return r;
    const out = r.slice();
    edit(dataOf(out));
    return out;
  });
}

/** Host stack that loses the answer of DEBIT FOR PURCHASE after the card processed it. */
function dropDebitAnswer(sim: SimulatedCard): Transport {
  const t = transportOf(sim);
  return wrapTransport(t, async (c) => {
    const r = await t.transmit(c);
    if (isDebit(c)) throw new TransportError('card removed (test): answer lost', undefined, 'removed');
    return r;
  });
}

/** Host stack that cuts the card's power after the k-th persistent write of DEBIT FOR PURCHASE. */
function cutDuringDebit(sim: SimulatedCard, k: number): Transport {
  return hostStack(
    directTransport({
      atr: sim.atr,
      transmit(apdu: Uint8Array) {
        const a = decodeCommandApdu(apdu);
        if (a.ins === 0x54 && a.p1 === 0x01) sim.store.cutPowerAfterWrites(k);
        return sim.transmit(apdu);
      },
    }),
    sim.powerOn(),
  );
}

/** Persistent writes DEBIT FOR PURCHASE makes on this card (counted on a copy). */
async function debitWrites(sim: SimulatedCard): Promise<number> {
  const { SimulatedCard: Sim } = await import('../../simulator/simulated-card.js');
  const copy = Sim.fromImage(sim.toImage());
  let writes = 0;
  const t = hostStack(
    directTransport({
      atr: copy.atr,
      transmit(apdu: Uint8Array) {
        const before = copy.store.writeCount;
        const r = copy.transmit(apdu);
        if (isDebit(apdu)) writes = copy.store.writeCount - before;
        return r;
      },
    }),
    copy.powerOn(),
  );
  await posTerminal(w, queueFile()).pay(new DrmbCard(t), 2000);
  return writes;
}

async function balanceOf(sim: SimulatedCard): Promise<{ balance: number; counter: number }> {
  const card = new DrmbCard(transportOf(sim));
  await card.select();
  return { balance: await card.balance(), counter: (await card.getData('transactionCounter')) as number };
}

describe('POS payment', () => {
  it('pays 70 yuan in 3 APDUs: balance down, packet verified and queued once with its TAC', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000, 2000, 1000, 100]);
    const qf = queueFile();
    const pos = posTerminal(w, qf);
    const t = counted(transportOf(sim));
    const before = await balanceOf(sim);
    const r = await pos.pay(new DrmbCard(t), 7000);
    expect(t.ins).toEqual([0xa4, 0x50, 0x54]);
    expect(r).toMatchObject({ cardId: id, counter: before.counter, amountFen: 7000, paidFen: 7000, changeFen: 0, coinCount: 2, recovered: false });
    expect(await balanceOf(sim)).toEqual({ balance: before.balance - 7000, counter: before.counter + 1 });
    const pending = new UploadQueue(qf).pending();
    expect(pending.map((p) => [p.cardId, p.counter, p.type, p.amountFen])).toEqual([[id, before.counter, 'PURCHASE', 7000]]);
    // The queued packet is the card's, signed by the holder over SM3(header || coin list).
    const { header, body } = exportPacketCoder.decode(pending[0].packet);
    expect(header).toMatchObject({ payeeIdentity: MERCHANT, payerCardId: id, amountFen: 7000, terminalSequence: r.terminalSequence });
    const coins = exportBodyCoder.decode(body);
    const headerBytes = pending[0].packet.subarray(0, pending[0].packet.length - body.length);
    const coinList = coinListCoder.encode(coins.coins);
    expect(hex(body.subarray(0, coinList.length))).toBe(hex(coinList));
    expect(sm9Verify(w.anchors.kgcSignMasterPublicKey, new TextEncoder().encode(header.payerIdentity), sm3(new Uint8Array([...headerBytes, ...coinList])), coins.signature)).toBe(true);
    expect(Buffer.from(r.packetHash).equals(Buffer.from(sm3(pending[0].packet)))).toBe(true);
    expect(readFileSync(qf, 'utf8')).toContain('"kind":"resolved"');
  });

  it('rejects a packet with a forged coin (coin signature changed in the answer) and queues nothing', async () => {
    const sim = await issuedCard(w, cardId(), [5000, 2000]);
    const qf = queueFile();
    const t = tampering(sim, (data) => {
      const { body } = exportPacketCoder.decode(data.subarray(8));
      const coinStart = data.length - body.length + 1;
      data[coinStart + COIN_SIGNED_LENGTH + 5] ^= 0x01;
    });
    const e = await posTerminal(w, qf).pay(new DrmbCard(t), 5000).catch((x) => x);
    expect(e).toBeInstanceOf(PacketRejectedError);
    expect(e.reason).toBe('coin-signature');
    const q = new UploadQueue(qf);
    expect(q.pending()).toEqual([]);
    expect(q.problemCards()).toEqual([]);
  });

  it('rejects a packet whose payer SM9 signature was changed, and queues nothing', async () => {
    const sim = await issuedCard(w, cardId(), [5000, 2000]);
    const qf = queueFile();
    // The last 32 bytes are S's y coordinate; the first signature byte is h.
    const t = tampering(sim, (data) => void (data[data.length - 97] ^= 0x01));
    const e = await posTerminal(w, qf).pay(new DrmbCard(t), 2000).catch((x) => x);
    expect(e).toBeInstanceOf(PacketRejectedError);
    expect(e.reason).toBe('payer-signature');
    expect(new UploadQueue(qf).pending()).toEqual([]);
  });

  it('rejects a packet whose MAC2 was changed', async () => {
    const sim = await issuedCard(w, cardId(), [5000]);
    const t = tampering(sim, (data) => void (data[4] ^= 0x80));
    const e = await posTerminal(w, queueFile()).pay(new DrmbCard(t), 5000).catch((x) => x);
    expect(e).toBeInstanceOf(PacketRejectedError);
    expect(e.reason).toBe('mac2');
  });

  it('refuses a blacklisted card after SELECT, before any command that moves value', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000]);
    const before = await balanceOf(sim);
    const t = counted(transportOf(sim));
    const qf = queueFile();
    const e = await posTerminal(w, qf, { blacklist: [id] }).pay(new DrmbCard(t), 5000).catch((x) => x);
    expect(e).toBeInstanceOf(BlacklistedCardError);
    expect(e.message).toContain(id);
    expect(t.ins).toEqual([0xa4]);
    expect(await balanceOf(sim)).toEqual(before);
    expect(new UploadQueue(qf).all()).toEqual([]);
  });
});

describe('torn debits', () => {
  it('recovers a debit whose answer was lost by GET TRANSACTION PROVE on the next contact, queued once, never debited twice', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000, 2000, 1000]);
    const qf = queueFile();
    const before = await balanceOf(sim);
    const e = await posTerminal(w, qf).pay(new DrmbCard(dropDebitAnswer(sim)), 2000).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    // The card debited; the terminal knows only that it may have.
    expect(await balanceOf(sim)).toEqual({ balance: before.balance - 2000, counter: before.counter + 1 });
    expect(new UploadQueue(qf).problem(id)).toMatchObject({ counter: before.counter, amountFen: 2000 });
    expect(new UploadQueue(qf).pending()).toEqual([]);

    // A restarted terminal (queue reloaded from disk) takes the next payment from the same card.
    const t = counted(transportOf(sim));
    const r = await posTerminal(w, qf).pay(new DrmbCard(t), 1000);
    expect(t.ins).toEqual([0xa4, 0x5a, 0x50, 0x54]);
    expect(r.recoveredEarlier).toMatchObject({ counter: before.counter, amountFen: 2000, recovered: true });
    expect(r.counter).toBe(before.counter + 1);
    expect(await balanceOf(sim)).toEqual({ balance: before.balance - 3000, counter: before.counter + 2 });
    const q = new UploadQueue(qf);
    expect(q.pending().map((p) => [p.counter, p.amountFen, !!p.recovered])).toEqual([
      [before.counter, 2000, true],
      [before.counter + 1, 1000, false],
    ]);
    expect(q.problem(id)).toBeUndefined();
    // A third contact has nothing to resolve and queues nothing twice.
    const t3 = counted(transportOf(sim));
    await posTerminal(w, qf).pay(new DrmbCard(t3), 5000);
    expect(t3.ins).toEqual([0xa4, 0x50, 0x54]);
    expect(new UploadQueue(qf).pending()).toHaveLength(3);
  });

  it('keeps a debit whose MAC2 the PSAM could not check (PSAM removed) as a problem, and queues it once at the next contact after VERIFY PURCHASE MAC2', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000, 2000, 1000]);
    const qf = queueFile();
    const before = await balanceOf(sim);
    const wire = posPsam(w).transport;
    const psamGone = new Psam(
      wrapTransport(wire, async (c) => {
        if (c[1] === 0x72) throw new TransportError('PSAM removed (test)', undefined, 'removed');
        return wire.transmit(c);
      }),
    );
    const e = await posTerminal(w, qf, { psam: psamGone }).pay(new DrmbCard(transportOf(sim)), 2000).catch((x) => x);
    expect(e).toBeInstanceOf(TransportError);
    // The card debited: the debit is neither rejected nor queued, but kept for recovery.
    expect(await balanceOf(sim)).toEqual({ balance: before.balance - 2000, counter: before.counter + 1 });
    expect(new UploadQueue(qf).problem(id)).toMatchObject({ counter: before.counter, amountFen: 2000 });
    expect(new UploadQueue(qf).pending()).toEqual([]);

    const psamWire = counted(posPsam(w).transport);
    const r = await posTerminal(w, qf, { psam: new Psam(psamWire) }).pay(new DrmbCard(transportOf(sim)), 1000);
    expect(r.recoveredEarlier).toMatchObject({ counter: before.counter, amountFen: 2000, recovered: true });
    expect(psamWire.ins).toContain(0x74);
    expect(new UploadQueue(qf).pending().map((p) => [p.counter, p.amountFen, !!p.recovered])).toEqual([
      [before.counter, 2000, true],
      [before.counter + 1, 1000, false],
    ]);
  });

  it('recovers a debit torn by a power cut right after its commit', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000, 2000, 1000]);
    const writes = await debitWrites(sim);
    expect(writes).toBeGreaterThanOrEqual(6);
    const qf = queueFile();
    const before = await balanceOf(sim);
    await expect(posTerminal(w, qf).pay(new DrmbCard(cutDuringDebit(sim, writes)), 2000)).rejects.toBeInstanceOf(TransportError);
    sim.store.disarm();
    const r = await posTerminal(w, qf).pay(new DrmbCard(transportOf(sim)), 1000);
    expect(r.recoveredEarlier).toMatchObject({ counter: before.counter, amountFen: 2000 });
    expect(await balanceOf(sim)).toEqual({ balance: before.balance - 3000, counter: before.counter + 2 });
    expect(new UploadQueue(qf).pending().map((p) => p.amountFen)).toEqual([2000, 1000]);
  });

  it('finds a debit cut before its commit not done (9406): no queue entry, and the next payment works', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000, 2000, 1000]);
    const qf = queueFile();
    const before = await balanceOf(sim);
    await expect(posTerminal(w, qf).pay(new DrmbCard(cutDuringDebit(sim, 1)), 2000)).rejects.toBeInstanceOf(TransportError);
    sim.store.disarm();
    expect(await balanceOf(sim)).toEqual(before);
    const r = await posTerminal(w, qf).pay(new DrmbCard(transportOf(sim)), 2000);
    expect(r.earlierNotDebited).toBe(before.counter);
    expect(r.recoveredEarlier).toBeUndefined();
    expect(r.counter).toBe(before.counter);
    expect(await balanceOf(sim)).toEqual({ balance: before.balance - 2000, counter: before.counter + 1 });
    const q = new UploadQueue(qf);
    expect(q.pending().map((p) => [p.counter, p.amountFen])).toEqual([[before.counter, 2000]]);
    expect(readFileSync(qf, 'utf8')).toContain('"outcome":"not-debited"');
  });
});

describe('double spending', () => {
  it('keeps a second packet with the same counter from a restored card image apart as evidence', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [5000, 2000]);
    const image = sim.toImage();
    const qf = queueFile();
    await posTerminal(w, qf).pay(new DrmbCard(transportOf(sim)), 5000);
    const { SimulatedCard: Sim } = await import('../../simulator/simulated-card.js');
    const clone = Sim.fromImage(image);
    const e = await posTerminal(w, qf).pay(new DrmbCard(transportOf(clone)), 2000).catch((x) => x);
    expect(e.message).toMatch(/counter reused/);
    const q = new UploadQueue(qf);
    expect(q.pending().map((p) => p.amountFen)).toEqual([5000]);
    expect(q.conflictingPackets().map((c) => [c.cardId, c.counter])).toEqual([[id, q.pending()[0].counter]]);
    expect(q.problem(id)).toBeUndefined();
  });
});

describe('change making', () => {
  it('pays 70 yuan change into a card holding one 100-yuan coin, then debits 100 for a 30-yuan price: balance 70', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [10000]);
    const qf = queueFile();
    const pos = posTerminal(w, qf, { float: [5000, 2000, 2000, 1000, 500] });
    const float = pos.options.change!.float;
    const r = await pos.pay(new DrmbCard(transportOf(sim)), 3000);
    expect(r).toMatchObject({ amountFen: 3000, paidFen: 10000, changeFen: 7000 });
    expect((await balanceOf(sim)).balance).toBe(7000);
    expect(float.totalFen).toBe(10500 - 7000);
    const q = new UploadQueue(qf);
    expect(q.pending().map((p) => [p.type, p.amountFen])).toEqual([
      ['CHANGE', 7000],
      ['PURCHASE', 10000],
    ]);
    // The card's receipt for the change names this packet.
    const change = q.pending()[0];
    expect(Buffer.from(DrmbCard.decodeReceipt(change.receipt!).body.packetHash).equals(Buffer.from(sm3(change.packet)))).toBe(true);
    expect(q.pendingChange(id)).toBeUndefined();
  });

  it('refuses cleanly when the float has no exact change: nothing imported, nothing debited, float unchanged', async () => {
    const sim = await issuedCard(w, cardId(), [10000]);
    const before = await balanceOf(sim);
    const qf = queueFile();
    const pos = posTerminal(w, qf, { float: [5000, 5000] });
    const e = await pos.pay(new DrmbCard(transportOf(sim)), 3000).catch((x) => x);
    expect(e).toBeInstanceOf(PaymentRefusedError);
    expect(e.message).toMatch(/no exact change of 7000 fen/);
    expect(await balanceOf(sim)).toEqual(before);
    expect(pos.options.change!.float.totalFen).toBe(10000);
    expect(new UploadQueue(qf).all()).toEqual([]);
  });

  it('resolves a change import whose answer was lost: the receipt on the card is found and the change queued once', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [10000]);
    const qf = queueFile();
    const t = transportOf(sim);
    const lossy = wrapTransport(t, async (c) => {
      const r = await t.transmit(c);
      if (c[1] === 0x52 && c[2] === 0x08 && !(c[0] & 0x10)) throw new TransportError('answer lost (test)', undefined, 'removed');
      return r;
    });
    const pos = posTerminal(w, qf, { float: [5000, 2000] });
    await expect(pos.pay(new DrmbCard(lossy), 3000)).rejects.toBeInstanceOf(TransportError);
    expect((await balanceOf(sim)).balance).toBe(17000);
    expect(new UploadQueue(qf).pendingChange(id)).toMatchObject({ amountFen: 7000 });
    // Next contact: the change is proven imported (queued once), then the card pays 100 of its 170.
    const r = await posTerminal(w, qf).pay(new DrmbCard(transportOf(sim)), 10000);
    expect(r).toMatchObject({ paidFen: 10000, changeFen: 0 });
    expect((await balanceOf(sim)).balance).toBe(7000);
    const q = new UploadQueue(qf);
    expect(q.pending().map((p) => [p.type, p.amountFen])).toEqual([
      ['CHANGE', 7000],
      ['PURCHASE', 10000],
    ]);
    expect(q.pendingChange(id)).toBeUndefined();
  });
  it('sends a change import that never reached the card again at the next contact: the card kept its nonce, the change lands once', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [10000]);
    const qf = queueFile();
    const t = transportOf(sim);
    // The last block of IMPORT COINS is lost on the way to the card: the card never saw the whole packet.
    const cut = wrapTransport(t, async (c) => {
      if (c[1] === 0x52 && c[2] === 0x08 && !(c[0] & 0x10)) throw new TransportError('card removed (test)', undefined, 'removed');
      return t.transmit(c);
    });
    const pos = posTerminal(w, qf, { float: [5000, 2000] });
    const float = pos.options.change!.float;
    await expect(pos.pay(new DrmbCard(cut), 3000)).rejects.toBeInstanceOf(TransportError);
    expect((await balanceOf(sim)).balance).toBe(10000);
    expect(float.totalFen).toBe(0);
    expect(new UploadQueue(qf).pendingChange(id)).toMatchObject({ amountFen: 7000 });
    // Next contact, a terminal over the same queue: 9406 for the receive, so the same packet is imported now.
    const again = posTerminal(w, qf);
    const r = await again.pay(new DrmbCard(transportOf(sim)), 10000);
    expect(r).toMatchObject({ paidFen: 10000, changeFen: 0 });
    expect((await balanceOf(sim)).balance).toBe(7000);
    const q = new UploadQueue(qf);
    expect(q.pending().map((p) => [p.type, p.amountFen])).toEqual([
      ['CHANGE', 7000],
      ['PURCHASE', 10000],
    ]);
    expect(q.pendingChange(id)).toBeUndefined();
  });

  it('refuses change the card has no free coin slots for before any packet exists: nothing imported, float unchanged', async () => {
    const id = cardId();
    const sim = await issuedCard(w, id, [10000]);
    const slots = sim.memory.risk.maxCoins;
    sim.memory.setRisk({ ...sim.memory.risk, maxCoins: 2 });
    const qf = queueFile();
    const pos = posTerminal(w, qf, { float: [5000, 1000, 1000] });
    const e = await pos.pay(new DrmbCard(transportOf(sim)), 3000).catch((x) => x);
    expect(e).toBeInstanceOf(PaymentRefusedError);
    expect(e.message).toMatch(/1 free coin slots; change takes 3/);
    expect((await balanceOf(sim)).balance).toBe(10000);
    expect(sim.memory.receiveNonces).toEqual([]);
    expect(pos.options.change!.float.totalFen).toBe(7000);
    expect(new UploadQueue(qf).all()).toEqual([]);
    expect(slots).toBeGreaterThan(2);
  });
});

/** Every Uint8Array reachable through the enumerable properties of a value (what an object holds, not what closures capture). */
function heldBytes(value: unknown, seen = new Set<unknown>()): Uint8Array[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  if (value instanceof Uint8Array) return [value];
  const own = value instanceof Map ? [...value.values()] : Object.values(value);
  return own.flatMap((v) => heldBytes(v, seen));
}

describe('POS payment with the PSAM in a second slot', () => {
  it('pays with two simulated cards, user card and PSAM, the terminal holding no purchase key: MAC1, MAC2 and the sequence number come from the PSAM', async () => {
    const psamSim = SimulatedCard.psam({ psamId: '88000000000000000777', personalizationKeys: cardScpKeys(w.cbMaster, cardIdToBytes('88000000000000000777')) });
    await personalizePsam(directTransport(psamSim), cardScpKeys(w.cbMaster, cardIdToBytes('88000000000000000777')), { terminalNumber: POS_TERMINAL_ID, purchaseMaster: w.cbMaster.secret.purchase });
    const sim = await issuedCard(w, cardId(), [5000, 2000]);
    const psamWire = counted(directTransport(psamSim));
    const pos = new PosTerminal({ psam: new Psam(psamWire), queue: new UploadQueue(queueFile()), anchors: w.anchors, payeeIdentity: MERCHANT });
    const r = await pos.pay(new DrmbCard(transportOf(sim)), 5000);
    // SELECT, READ BINARY of the terminal number, INIT SAM FOR PURCHASE, CREDIT SAM FOR PURCHASE.
    expect(psamWire.ins).toEqual([0xa4, 0xb0, 0x70, 0x72]);
    expect(r.terminalSequence).toBe(psamSim.memory.sequence);
    expect(r.terminalSequence).toBe(1);
    const master = hex(w.cbMaster.secret.purchase);
    const purchaseKey = hex(cardApplicationKeys(w.cbMaster, cardIdToBytes(r.cardId)).purchase);
    for (const b of heldBytes(pos)) expect([master, purchaseKey]).not.toContain(hex(b));
    // The next payment takes the next number from the PSAM, whose terminal number the terminal has already read.
    psamWire.ins.length = 0;
    expect((await pos.pay(new DrmbCard(transportOf(sim)), 2000)).terminalSequence).toBe(2);
    expect(psamWire.ins).toEqual([0xa4, 0x70, 0x72]);
  });

  it('refuses to take a payment with a PSAM not yet personalized, before any APDU goes to the card', async () => {
    const blank = SimulatedCard.psam({ psamId: '88000000000000000778' });
    const sim = await issuedCard(w, cardId(), [5000]);
    const t = counted(transportOf(sim));
    const pos = new PosTerminal({ psam: new Psam(directTransport(blank)), queue: new UploadQueue(queueFile()), anchors: w.anchors, payeeIdentity: MERCHANT });
    await expect(pos.pay(new DrmbCard(t), 5000)).rejects.toBeInstanceOf(PsamNotReadyError);
    expect(t.ins).toEqual([]);
  });
});
