/** @module Upload queue: survives reloads, idempotent on (card ID, counter), problem cards, file mode 0600. */
import { appendFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UploadQueue, UploadQueueError } from './upload-queue.js';

const dir = mkdtempSync(join(tmpdir(), 'drmb-uq-'));
let n = 0;
const file = () => join(dir, `q${++n}.jsonl`);
const packet = (cardId: string, counter: number, fill = 0xab) => ({
  cardId,
  counter,
  type: 'PURCHASE' as const,
  amountFen: 3000,
  packet: new Uint8Array(40).fill(fill),
  tac: Uint8Array.of(1, 2, 3, 4),
  mac2: Uint8Array.of(5, 6, 7, 8),
  terminalSequence: 9,
});

describe('upload queue', () => {
  it('creates the file with mode 0600', () => {
    const f = file();
    new UploadQueue(f);
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('keeps queued packets, their bytes and uploaded states across a reload', () => {
    const f = file();
    const q = new UploadQueue(f);
    q.add(packet('62120000000000000001', 5));
    q.add(packet('62120000000000000001', 6));
    q.add(packet('62120000000000000002', 5));
    q.markUploaded('62120000000000000001', 5);
    const r = new UploadQueue(f);
    expect(r.pending().map((p) => [p.cardId, p.counter])).toEqual([
      ['62120000000000000001', 6],
      ['62120000000000000002', 5],
    ]);
    expect(r.all().find((p) => p.counter === 5 && p.cardId.endsWith('1'))?.state).toBe('uploaded');
    expect(Buffer.from(r.pending()[0].tac!).toString('hex')).toBe('01020304');
    expect(Buffer.from(r.pending()[0].packet).equals(Buffer.from(new Uint8Array(40).fill(0xab)))).toBe(true);
  });

  it('is idempotent on (card ID, counter): the same packet again is not added, a different one is a conflict', () => {
    const q = new UploadQueue(file());
    expect(q.add(packet('62120000000000000001', 5))).toBe(true);
    expect(q.add(packet('62120000000000000001', 5))).toBe(false);
    expect(q.pending()).toHaveLength(1);
    expect(() => q.add(packet('62120000000000000001', 5, 0xcd))).toThrow(UploadQueueError);
    expect(new UploadQueue(q.path).conflictingPackets().map((c) => [c.counter, c.packet[0]])).toEqual([[5, 0xcd]]);
    q.markUploaded('62120000000000000001', 5);
    q.markUploaded('62120000000000000001', 5);
    expect(q.pending()).toEqual([]);
    expect(() => q.markUploaded('62120000000000000001', 99)).toThrow(/no PURCHASE packet/);
  });

  it('keeps a problem card until it is resolved, across reloads, one per card', () => {
    const f = file();
    const q = new UploadQueue(f);
    const p = { cardId: '62120000000000000003', counter: 7, amountFen: 100, terminalSequence: 3, cardRandom: Uint8Array.of(1, 2, 3, 4), unpredictableNumber: new Uint8Array(8), payeeIdentity: 'shop', date: '20261122', time: '101500' };
    q.recordProblem(p);
    expect(() => q.recordProblem({ ...p, counter: 8 })).toThrow(/unresolved debit/);
    expect(new UploadQueue(f).problem(p.cardId)).toEqual(p);
    q.resolveProblem(p.cardId, 7, 'not-debited');
    expect(new UploadQueue(f).problem(p.cardId)).toBeUndefined();
    expect(new UploadQueue(f).problemCards()).toEqual([]);
  });

  it('ignores a last line torn by a power loss, but refuses a corrupt line in the middle', () => {
    const f = file();
    const q = new UploadQueue(f);
    q.add(packet('62120000000000000001', 5));
    appendFileSync(f, '{"kind":"packet","cardId":"6212');
    expect(new UploadQueue(f).pending()).toHaveLength(1);
    appendFileSync(f, '\n{"kind":"sequence","value":4,"at":"x"}\n');
    expect(() => new UploadQueue(f)).toThrow(UploadQueueError);
  });
});
