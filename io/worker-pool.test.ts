/** @module Tests of WorkerPool: tasks spread over the workers and answered in full, a handler's error comes back as WorkerTaskError, a dead worker's tasks fail and the others go on. */
import { describe, expect, it } from 'vitest';
import { WorkerPool, WorkerTaskError } from './worker-pool.js';

const FIXTURE = new URL('../test/worker-pool-fixture.ts', import.meta.url);
type Answer = { double: number; data: unknown; threadId: number };

describe('WorkerPool', () => {
  it('answers every task, spreads them over its workers, and gives each worker its data', async () => {
    const pool = new WorkerPool<number | 'exit', Answer>(FIXTURE, { size: 2, data: { tag: 'x' } });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run(i)));
      expect(answers.map((a) => a.double)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i));
      expect(answers.every((a) => (a.data as { tag: string }).tag === 'x')).toBe(true);
      expect(new Set(answers.map((a) => a.threadId)).size).toBe(2);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("returns a handler's error as WorkerTaskError with its message, and goes on", async () => {
    const pool = new WorkerPool<number | 'exit', Answer>(FIXTURE, { size: 1 });
    try {
      const err = await pool.run(-4).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkerTaskError);
      expect((err as Error).message).toBe('negative: -4');
      expect((await pool.run(4)).double).toBe(8);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("fails the tasks of a worker that stops, sends the next ones to the others, and refuses when none is left or it is closed", async () => {
    const pool = new WorkerPool<number | 'exit', Answer>(FIXTURE, { size: 2 });
    await expect(pool.run('exit')).rejects.toThrow(/exited with code 3/);
    expect((await pool.run(5)).double).toBe(10);
    await expect(pool.run('exit')).rejects.toThrow(/exited with code 3/);
    await expect(pool.run(1)).rejects.toThrow(/every worker of the pool stopped/);
    await pool.close();
    await expect(pool.run(1)).rejects.toThrow(/closed/);
  }, 60_000);
});
