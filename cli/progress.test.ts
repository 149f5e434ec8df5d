/** @module The progress line: shown on a terminal only for a step past a second, erased when it ends or when a question is asked. */
import { describe, expect, it } from 'vitest';
import { stopProgress, withProgress } from './progress.js';

/** A stream that records what is written, as a terminal or not. */
function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, s: { isTTY, write: (c: string) => written.push(c) > 0 } as unknown as NodeJS.WriteStream };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withProgress', () => {
  it('shows the step with a spinner past a second on a terminal, and erases it at the end', async () => {
    const t = stream(true);
    expect(await withProgress('opening the registry', () => sleep(1300).then(() => 42), t.s)).toBe(42);
    expect(t.written[0]).toMatch(/^\r. opening the registry\x1b\[K$/);
    expect(t.written.at(-1)).toBe('\r\x1b[K');
  });

  it('prints nothing for a step under a second, nor off a terminal', async () => {
    const quick = stream(true);
    await withProgress('quick', () => sleep(50), quick.s);
    expect(quick.written).toEqual([]);
    const pipe = stream(false);
    await withProgress('slow', () => sleep(1200), pipe.s);
    expect(pipe.written).toEqual([]);
  });

  it('stops drawing once a question is to be asked', async () => {
    const t = stream(true);
    await withProgress('waiting', async () => {
      await sleep(1150);
      stopProgress();
      const after = t.written.length;
      await sleep(400);
      expect(t.written.length).toBe(after);
    }, t.s);
    expect(t.written.at(-1)).toBe('\r\x1b[K');
  });
});
