/** @module VpcdClient against a stand-in vpcd reader on a local TCP port: framing, control messages, removal, reconnect, power loss. */
import { createServer, Socket } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesToHex, hexToBytes } from '../base/bytes.js';
import { PowerLossError } from './persistent-store.js';
import type { VirtualCard } from './virtual-card.js';
import { encodeVpcdFrame, VpcdClient, VpcdFrameReader } from './vpcd-client.js';

// Test-only card for framing tests: answers C-APDU || 9000, records every call.
// The end-to-end suite (test/pcsc/vpcd.test.ts) uses the real SimulatedCard.
class EchoCard implements VirtualCard {
  readonly atr = hexToBytes('3B8F8001804F0CA0000003060300030000000068');
  calls: string[] = [];
  failNext: Error | undefined;
  transmit(command: Uint8Array): Uint8Array {
    this.calls.push(`apdu ${bytesToHex(command)}`);
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const out = new Uint8Array(command.length + 2);
    out.set(command);
    out.set([0x90, 0x00], command.length);
    return out;
  }
  powerOn(): Uint8Array {
    this.calls.push('powerOn');
    return this.atr;
  }
  powerOff(): void {
    this.calls.push('powerOff');
  }
  reset(): Uint8Array {
    this.calls.push('reset');
    return this.atr;
  }
}

/** The reader side of vpcd: accepts the card's connection, sends messages, collects replies. */
class FakeReader {
  server: Server;
  conns: Socket[] = [];
  chunks: Uint8Array[] = [];
  private frames = new VpcdFrameReader();
  private replies: Uint8Array[] = [];
  private waiting: (() => void) | undefined;
  port = 0;

  constructor() {
    this.server = createServer((s) => {
      this.conns.push(s);
      s.on('data', (c: Buffer) => {
        this.chunks.push(new Uint8Array(c));
        this.replies.push(...this.frames.push(new Uint8Array(c)));
        this.waiting?.();
      });
      s.on('error', () => {});
    });
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  get last(): Socket {
    return this.conns[this.conns.length - 1];
  }

  send(bytes: Uint8Array): void {
    this.last.write(bytes);
  }

  /** Waits for `n` reply frames in total and returns them as hex. */
  async replyHex(n: number, timeoutMs = 2000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.replies.length} of ${n} replies`);
      await new Promise<void>((r) => {
        this.waiting = r;
        setTimeout(r, 50);
      });
    }
    return this.replies.slice(0, n).map((b) => bytesToHex(b).toUpperCase());
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const frame = (h: string): Uint8Array => encodeVpcdFrame(hexToBytes(h));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanup.length) await cleanup.pop()!();
});

async function setUp(options: ConstructorParameters<typeof VpcdClient>[1] = {}) {
  const reader = new FakeReader();
  const port = await reader.listen();
  const card = new EchoCard();
  const client = new VpcdClient(card, { port, reconnectInitialMs: 20, reconnectMaxMs: 100, ...options });
  cleanup.push(() => reader.stop());
  cleanup.push(() => client.remove());
  return { reader, card, client, port };
}

describe('vpcd framing', () => {
  it.each([
    ['04', '000104'],
    ['3B8F80', '00033B8F80'],
    ['', '0000'],
  ])('encodes payload %s as 2-byte big-endian length + payload %s', (payload, wire) => {
    expect(bytesToHex(encodeVpcdFrame(hexToBytes(payload))).toUpperCase()).toBe(wire);
  });

  it('encodes a 300-byte payload with length 012C', () => {
    const f = encodeVpcdFrame(new Uint8Array(300));
    expect(bytesToHex(f.subarray(0, 2))).toBe('012c');
    expect(f.length).toBe(302);
  });

  it('rejects a payload longer than 65535 bytes', () => {
    expect(() => encodeVpcdFrame(new Uint8Array(0x10000))).toThrow(RangeError);
  });

  it('reassembles a stream cut at every byte, including inside the length', () => {
    const wire = hexToBytes('000104' + '000500A4040000' + '0000' + '000201FF');
    const r = new VpcdFrameReader();
    const got: string[] = [];
    for (const b of wire) got.push(...r.push(Uint8Array.of(b)).map(bytesToHex));
    expect(got).toEqual(['04', '00a4040000', '', '01ff']);
    expect(r.pending).toBe(0);
  });

  it('yields several messages from one chunk and keeps a partial tail for the next', () => {
    const r = new VpcdFrameReader();
    expect(r.push(hexToBytes('000101' + '000104' + '0004AABB')).map(bytesToHex)).toEqual(['01', '04']);
    expect(r.pending).toBe(4);
    expect(r.push(hexToBytes('CCDD00')).map(bytesToHex)).toEqual(['aabbccdd']);
    expect(r.pending).toBe(1);
  });
});

describe('VpcdClient', () => {
  it('connects on insert with TCP_NODELAY and answers get ATR with the ATR', async () => {
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    const { reader, card, client } = await setUp();
    await client.insert({ timeoutMs: 2000 });
    expect(client.connected).toBe(true);
    expect(noDelay).toHaveBeenCalledWith(true);
    await until(() => reader.conns.length === 1);
    reader.send(frame('04'));
    expect(await reader.replyHex(1)).toEqual([bytesToHex(card.atr).toUpperCase()]);
  });

  it('turns power off, power on and reset into card calls; reset and power get no reply', async () => {
    const { reader, card, client } = await setUp();
    await client.insert();
    await until(() => reader.conns.length === 1);
    reader.send(frame('00'));
    reader.send(frame('01'));
    reader.send(frame('02'));
    reader.send(frame('04'));
    expect(await reader.replyHex(1)).toEqual([bytesToHex(card.atr).toUpperCase()]);
    expect(card.calls).toEqual(['powerOff', 'powerOn', 'reset']);
    await sleep(30);
    expect(await reader.replyHex(1)).toHaveLength(1); // still only the ATR
  });

  it('answers each C-APDU with its R-APDU in one socket write', async () => {
    const { reader, client } = await setUp();
    await client.insert();
    await until(() => reader.conns.length === 1);
    const write = vi.spyOn(Socket.prototype, 'write');
    reader.send(frame('00A4040006F044524D420100'));
    expect(await reader.replyHex(1)).toEqual(['00A4040006F044524D4201009000']);
    // writes made by the card's socket (the stand-in reader's own write is on the other end)
    const cardWrites = write.mock.calls.filter((_c, i) => !reader.conns.includes(write.mock.contexts[i] as Socket));
    expect(cardWrites.map((c) => bytesToHex(c[0] as Uint8Array).toUpperCase())).toEqual(['000E00A4040006F044524D4201009000']);
  });

  it('answers messages cut across chunks and several messages in one chunk, in order', async () => {
    const { reader, client } = await setUp();
    await client.insert();
    await until(() => reader.conns.length === 1);
    const wire = hexToBytes(bytesToHex(frame('805C000204')) + bytesToHex(frame('0084000008')) + bytesToHex(frame('00B0000000')));
    // first message byte by byte with pauses (separate TCP segments), the other two in one write
    for (const b of wire.subarray(0, 7)) {
      reader.send(Uint8Array.of(b));
      await sleep(3);
    }
    reader.send(wire.subarray(7));
    expect(await reader.replyHex(3)).toEqual(['805C0002049000', '00840000089000', '00B00000009000']);
  });

  it('answers 6F00 and reports card-error when the card throws something other than a power loss', async () => {
    const { reader, card, client } = await setUp();
    const errors: unknown[] = [];
    client.on('card-error', (e) => errors.push(e));
    await client.insert();
    await until(() => reader.conns.length === 1);
    card.failNext = new TypeError('bug in the card');
    reader.send(frame('0001020304'));
    reader.send(frame('0001020305'));
    expect(await reader.replyHex(2)).toEqual(['6F00', '00010203059000']);
    expect(errors).toHaveLength(1);
    expect(client.connected).toBe(true);
  });

  it('remove closes the connection, powers the card off and reports removed; insert connects again', async () => {
    const { reader, card, client } = await setUp();
    const events: string[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', (r) => events.push(`disconnected ${r}`));
    await client.insert();
    await until(() => reader.conns.length === 1);
    const serverSawEnd = new Promise<void>((r) => reader.last.once('close', () => r()));
    await client.remove();
    await serverSawEnd;
    expect(client.connected).toBe(false);
    expect(client.inserted).toBe(false);
    expect(card.calls).toEqual(['powerOff']);
    await sleep(60); // longer than the reconnect delay: no reconnect after a removal
    expect(reader.conns).toHaveLength(1);
    await client.insert();
    await until(() => reader.conns.length === 2);
    expect(events).toEqual(['connected', 'disconnected removed', 'connected']);
  });

  it('reconnects when the reader drops the connection (pcscd restart) and serves the new connection', async () => {
    const { reader, card, client, port } = await setUp();
    const events: string[] = [];
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', (r) => events.push(`disconnected ${r}`));
    await client.insert();
    await until(() => reader.conns.length === 1);
    // the reader goes away entirely for a while: connection refused, retries with backoff
    await reader.stop();
    const retries: number[] = [];
    client.on('retry', (_e, ms) => retries.push(ms));
    await until(() => retries.length >= 3);
    expect(retries.slice(0, 3)).toEqual([20, 40, 80]);
    const again = new FakeReader();
    await again.listen(port);
    cleanup.push(() => again.stop());
    await client.waitConnected(2000);
    await until(() => again.conns.length === 1);
    again.send(frame('04'));
    expect(await again.replyHex(1)).toEqual([bytesToHex(card.atr).toUpperCase()]);
    expect(events).toEqual(['connected', 'disconnected connection-lost', 'connected']);
    expect(client.inserted).toBe(true);
  });

  it('drops the connection like a pulled card on PowerLossError, sends nothing more and does not reconnect', async () => {
    const { reader, card, client } = await setUp();
    const reasons: string[] = [];
    client.on('disconnected', (r, e) => reasons.push(`${r} ${e?.name}`));
    await client.insert();
    await until(() => reader.conns.length === 1);
    card.failNext = new PowerLossError('after write 3');
    const closed = new Promise<void>((r) => reader.last.once('close', () => r()));
    // the power cut hits the first APDU; the second in the same chunk must not reach the card
    reader.send(hexToBytes(bytesToHex(frame('80540100')) + bytesToHex(frame('805C000204'))));
    await closed;
    await until(() => reasons.length === 1);
    expect(reasons).toEqual(['power-loss PowerLossError']);
    expect(card.calls).toEqual(['apdu 80540100']);
    expect(reader.chunks).toHaveLength(0);
    expect(client.inserted).toBe(false);
    await sleep(60);
    expect(reader.conns).toHaveLength(1);
  });

  it('treats an error named PowerLossError from another module copy as a power loss', async () => {
    const { reader, card, client } = await setUp();
    await client.insert();
    await until(() => reader.conns.length === 1);
    const e = new Error('cut');
    e.name = 'PowerLossError';
    card.failNext = e;
    reader.send(frame('80540100'));
    expect(await client.waitDisconnected(2000)).toBe('power-loss');
  });

  it('rejects insert when nothing listens and reconnect is off', async () => {
    const { port, reader } = await setUp();
    await reader.stop();
    const client = new VpcdClient(new EchoCard(), { port, reconnect: false });
    await expect(client.insert()).rejects.toThrow(/cannot connect to 127\.0\.0\.1:\d+/);
    expect(client.inserted).toBe(false);
  });

  it('rejects insert after its timeout with a hint, keeps trying, and stops on remove', async () => {
    const { port, reader } = await setUp();
    await reader.stop();
    const client = new VpcdClient(new EchoCard(), { port, reconnectInitialMs: 10, reconnectMaxMs: 20 });
    await expect(client.insert({ timeoutMs: 100 })).rejects.toThrow(/within 100 ms \(is pcscd running/);
    expect(client.inserted).toBe(true);
    // the expectation is attached before remove() settles the waiter, which it does before its socket closes
    const pending = expect(client.waitConnected()).rejects.toThrow(/removed/);
    await client.remove();
    await pending;
    const retries: number[] = [];
    client.on('retry', (_e, ms) => retries.push(ms));
    await sleep(60);
    expect(retries).toEqual([]);
  });
});
