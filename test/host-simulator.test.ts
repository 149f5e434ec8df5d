/** @module The host library against the in-process simulator: serialized access, sessions, errors, recording and replay, redacted traces. */
import { beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../base/hex.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { getBalance, getChallenge, getData, select, verify } from '../applet-spec/commands.js';
import { CardSession } from '../host/card-session.js';
import { directTransport } from '../host/direct-transport.js';
import { InsufficientBalanceError, ResponseFormatError, TransportError, WrongPinError } from '../host/errors.js';
import { ExclusiveTransport } from '../host/exclusive-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { recorder } from '../host/middleware/recorder.js';
import { trace } from '../host/middleware/trace.js';
import { ReplayTransport } from '../host/replay-transport.js';
import { stack } from '../host/transport.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { cmd, stage1Dgis, storeDataApdu, systemKeys } from './card-fixture.js';
import { stateImages } from './state-images.js';

let issued: Uint8Array;
beforeAll(() => {
  issued = stateImages('62120000000000000888').ISSUED;
}, 60_000);

const freshCard = () => SimulatedCard.fromImage(issued);

describe('serialized access', () => {
  it('never interleaves the APDUs of concurrent leases', async () => {
    const lines: string[] = [];
    const card = new ExclusiveTransport(stack(directTransport(freshCard()), recorder({ sink: (l) => lines.push(l), redact: false })));
    const session = (t: ConstructorParameters<typeof CardSession>[0]) => new CardSession(t);
    await session(card).send(select, { aid: DRMB_AID });
    lines.length = 0;
    const workers = Array.from({ length: 40 }, (_, i) =>
      card.lease(async (t) => {
        const s = session(t);
        // Each operation: a tagged GET DATA (its P1P2 identifies the worker's op), a challenge, a balance.
        await s.exchange(getData, { tag: i % 2 ? 0x9f36 : 0x9f79 }, { accept: [0x6a88] });
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        await s.send(getChallenge, {});
        await s.send(getBalance, {});
        return i;
      }),
    );
    expect((await Promise.all(workers)).length).toBe(40);
    const commands = lines.filter((l) => l.startsWith('=>')).map((l) => l.slice(3, 7));
    expect(commands.length).toBe(120);
    for (let k = 0; k < commands.length; k += 3) expect(commands.slice(k, k + 3)).toEqual(['80CA', '0084', '805C']);
  });

  it('lets single APDUs from many callers through one at a time, all answered', async () => {
    const card = new ExclusiveTransport(directTransport(freshCard()));
    const s = new CardSession(card);
    await s.send(select, { aid: DRMB_AID });
    const results = await Promise.all(Array.from({ length: 100 }, () => s.send(getBalance, {})));
    expect(new Set(results.map((r) => r.balanceFen))).toEqual(new Set([17100]));
  });

  it('fails a waiting lease with a timeout error, and the card stays usable', async () => {
    const card = new ExclusiveTransport(directTransport(freshCard()));
    let release!: () => void;
    const holder = card.lease(() => new Promise<void>((r) => (release = r)));
    await expect(card.lease(async () => 1, { timeoutMs: 20 })).rejects.toMatchObject({ name: 'TransportError', kind: 'timeout' });
    release();
    await holder;
    expect(await card.lease(async () => 2)).toBe(2);
  });

  it('cancels a waiting lease through an AbortSignal', async () => {
    const card = new ExclusiveTransport(directTransport(freshCard()));
    let release!: () => void;
    const holder = card.lease(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const waiting = card.lease(async () => 1, { signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ kind: 'cancelled' });
    release();
    await holder;
  });

  it('serves waiters in arrival order, a waiter that gave up taking no turn', async () => {
    const card = new ExclusiveTransport(directTransport(freshCard()));
    let release!: () => void;
    const holder = card.lease(() => new Promise<void>((r) => (release = r)));
    const order: string[] = [];
    const ac = new AbortController();
    const first = card.lease(async () => void order.push('first'));
    const quitter = card.lease(async () => void order.push('quitter'), { signal: ac.signal });
    const timedOut = card.lease(async () => void order.push('timed out'), { timeoutMs: 5 });
    const apdu = card.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00, DRMB_AID.length, ...DRMB_AID)).then(() => void order.push('transmit'));
    const last = card.lease(async () => void order.push('last'));
    ac.abort();
    await expect(quitter).rejects.toMatchObject({ kind: 'cancelled' });
    await expect(timedOut).rejects.toMatchObject({ kind: 'timeout' });
    expect(order).toEqual([]);
    release();
    await Promise.all([holder, first, apdu, last]);
    expect(order).toEqual(['first', 'transmit', 'last']);
    // and the card is free again: a lease with a timeout gets it at once
    expect(await card.lease(async () => 'free', { timeoutMs: 1 })).toBe('free');
  });

  it('refuses a leased transport once its lease has ended', async () => {
    const card = new ExclusiveTransport(directTransport(freshCard()));
    let kept!: { transmit(c: Uint8Array): Promise<Uint8Array> };
    await card.lease(async (t) => {
      kept = t;
    });
    await expect(kept.transmit(Uint8Array.of(0x80, 0x5c, 0x00, 0x02, 0x04))).rejects.toThrow(/lease already ended/);
  });
});

describe('sessions and errors', () => {
  it('maps 63Cx to WrongPinError with the tries left, and the card counts down', async () => {
    const s = new CardSession(directTransport(freshCard()));
    await s.send(select, { aid: DRMB_AID });
    const e = await s.send(verify, { pin: '000000' }).catch((x) => x);
    expect(e).toBeInstanceOf(WrongPinError);
    expect((e as WrongPinError).triesLeft).toBe(2);
    expect((e as WrongPinError).message).toContain('SW=63C2');
  });

  it('maps 9401 to InsufficientBalanceError naming the command', async () => {
    const s = new CardSession(directTransport(freshCard()));
    await s.send(select, { aid: DRMB_AID });
    const e = await s.send(cmd('initializeForPurchase'), { keyIndex: 1, amountFen: 99_999, terminalId: new Uint8Array(6) }).catch((x) => x);
    expect(e).toBeInstanceOf(InsufficientBalanceError);
    expect(e.command).toBe('INITIALIZE FOR PURCHASE');
  });

  it('reports data that does not decode as a ResponseFormatError', async () => {
    const s = new CardSession(ReplayTransport.fromText('=> 805C000204\n<= 00279000'));
    await expect(s.send(getBalance, {})).rejects.toBeInstanceOf(ResponseFormatError);
  });

  it('turns a card lost mid-command into a TransportError', async () => {
    const card = freshCard();
    const s = new CardSession(directTransport(card));
    await s.send(select, { aid: DRMB_AID });
    card.store.cutPowerAfterWrites(1);
    await expect(s.send(verify, { pin: '000000' })).rejects.toBeInstanceOf(TransportError);
  });
});

describe('recording and replay', () => {
  it('replays a recorded session byte for byte and fails on leftovers and mismatches with the line number', async () => {
    const lines: string[] = [];
    const live = new CardSession(stack(directTransport(freshCard()), getResponse(), recorder({ sink: (l) => lines.push(l) })));
    const script = async (s: CardSession) => [
      await s.send(select, { aid: DRMB_AID }),
      await s.send(getData, { tag: 0x9f79 }),
      await s.send(verify, { pin: '123456' }),
      await s.send(getBalance, {}),
    ];
    const recorded = await script(live);
    const text = lines.join('\n');
    expect(text).not.toContain('123456');
    const replay = ReplayTransport.fromText(text);
    expect(await script(new CardSession(stack(replay, getResponse())))).toEqual(recorded);
    replay.assertDone();

    const short = ReplayTransport.fromText(text);
    await new CardSession(short).send(select, { aid: DRMB_AID });
    expect(() => short.assertDone()).toThrow(/3 recorded APDU\(s\) left over, next at transcript line 3/);

    const wrong = ReplayTransport.fromText(text);
    await expect(new CardSession(wrong).send(getBalance, {})).rejects.toThrow(/transcript line 1: expected => 00A4040006F044524D420100, got => 805C000204/);
  });
});

describe('trace', () => {
  it('shows each APDU with its command name and timing, and never a PIN or key', async () => {
    const lines: string[] = [];
    const card = freshCard();
    const t = stack(directTransport(card), trace({ sink: (l) => lines.push(l) }));
    const s = new CardSession(t);
    await s.send(select, { aid: DRMB_AID });
    await s.exchange(verify, { pin: '123456' });
    // A clear STORE DATA of the application keys (refused by an issued card, but traced first).
    const keys = systemKeys().appKeys;
    const dgis = stage1Dgis('62120000000000000888', { privateKey: new Uint8Array(32).fill(7), publicKey: new Uint8Array(65) });
    await t.transmit(storeDataApdu('applicationKeys', dgis.find(([n]) => n === 'applicationKeys')![1], 0, false, new Uint8Array(16)));
    await t.transmit(cmd('storeData').encodeBytes({ flags: 0x08, block: 0, dgis: [{ dgi: 0x8000, value: Uint8Array.from([...keys.load, ...keys.purchase, ...keys.tac, ...keys.issuerMac, ...keys.pinReload, ...keys.pinUnblock]) }] }));
    const all = lines.join('\n');
    expect(all).toMatch(/A>> \(4\+0006\) 00A40400 06 F044524D4201 00 {2}# SELECT/);
    expect(all).toMatch(/A<< \(\d{4}\+2\) \(\d+ms\)/);
    expect(all).toContain('<3 bytes of PIN data redacted>');
    expect(all).not.toContain('123456');
    for (const k of Object.values(keys)) expect(all).not.toContain(hex(k));
    expect(all).toContain('8000 <96 bytes redacted>');
  });
});
