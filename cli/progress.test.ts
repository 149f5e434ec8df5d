/** @module The progress line: shown on a terminal only for a step past a second, erased when it ends or when a question is asked. */
import { describe, expect, it } from 'vitest';
import { beginStep, pauseProgress, withProgress } from './progress.js';

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

  it('draws nothing while a question is asked, and goes on once it is answered', async () => {
    const t = stream(true);
    await withProgress('waiting', async () => {
      await sleep(1150);
      const resume = pauseProgress();
      expect(t.written.at(-1)).toBe('\r\x1b[K');
      const after = t.written.length;
      await sleep(400);
      expect(t.written.length).toBe(after);
      resume();
      await sleep(300);
      expect(t.written.length).toBeGreaterThan(after);
    }, t.s);
    expect(t.written.at(-1)).toBe('\r\x1b[K');
  });

  it('shows the innermost step of nested ones, and the outer one again when it ends', async () => {
    const t = stream(true);
    const endCommand = beginStep('drmb bank mint', t.s);
    await sleep(1150);
    expect(t.written.at(-1)).toMatch(/ drmb bank mint\x1b\[K$/);
    await withProgress('signing 1000 coins', async () => {
      await sleep(300);
      expect(t.written.at(-1)).toMatch(/ signing 1000 coins\x1b\[K$/);
    }, t.s);
    await sleep(300);
    expect(t.written.at(-1)).toMatch(/ drmb bank mint\x1b\[K$/);
    endCommand();
    endCommand();
    expect(t.written.at(-1)).toBe('\r\x1b[K');
    const after = t.written.length;
    await sleep(300);
    expect(t.written.length).toBe(after);
  });

  it('erases the line before anything else is written, so that no output follows the spinner on its row', async () => {
    const t = stream(true);
    await withProgress('settling', async () => {
      await sleep(1150);
      expect(t.written.at(-1)).toMatch(/ settling\x1b\[K$/);
      t.s.write('a line of the command\n');
      expect(t.written.slice(-2)).toEqual(['\r\x1b[K', 'a line of the command\n']);
    }, t.s);
    // the stream's own write is back once the step ends
    t.s.write('result\n');
    expect(t.written.at(-1)).toBe('result\n');
    expect(t.written.at(-2)).not.toBe('\r\x1b[K');
  });
});
