/** @module The reports: JUnit XML that parses with the right counts and escaped text, JSON with every case, progress lines. */
import { describe, expect, it } from 'vitest';
import { jsonReport, junitReport, progressLine, xmlEscape } from './report.js';
import type { CaseResult } from './runner.js';

const results: CaseResult[] = [
  { id: 'GETBAL-EX-1', clause: 'JR/T 0025.2 GET BALANCE', rule: 'r1', verdict: 'pass', apdus: ['A>> (4+0000) 80 5C 00 02 04'], exchanges: [{ command: 'getBalance', sw: 0x9000, state: 'ISSUED' }], ms: 1.5 },
  { id: 'INV-LOAD', clause: 'load <&> "x"', rule: 'r2', verdict: 'fail', reason: 'TAC <wrong> & bad \u0001', apdus: [], exchanges: [], ms: 2 },
  { id: 'VERIFY-SW-63CX-ISSUED', clause: "it's", rule: 'r3', verdict: 'skip', reason: 'the profile has no PIN', apdus: [], exchanges: [], ms: 0 },
];

/** A strict little XML 1.0 reader: elements nest and close, attributes are quoted, only the five entities occur. Returns element names with their attributes. */
function parseXml(text: string): { name: string; attrs: Record<string, string> }[] {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const elements: { name: string; attrs: Record<string, string> }[] = [];
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length && (m = token.exec(body))) {
    at = token.lastIndex;
    if (m[5] !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`bad entity in text at ${m.index}`);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> does not close the open element`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(a[2])) throw new Error(`bad entity in ${name}@${a[1]}`);
      attrs[a[1]] = a[2];
    }
    elements.push({ name, attrs });
    if (!selfClose) stack.push(name);
  }
  if (at !== body.length || stack.length) throw new Error(`not well formed at ${at}, open: ${stack.join(' ')}`);
  return elements;
}

describe('JUnit report', () => {
  const xml = junitReport(results, 'sim <card>', '2026-01-01T00:00:00.000Z');
  const elements = parseXml(xml);

  it('parses as XML with tests, failures and skipped counted', () => {
    const suite = elements.find((e) => e.name === 'testsuite')!;
    expect(suite.attrs).toMatchObject({ tests: '3', failures: '1', skipped: '1', errors: '0' });
    expect(elements.filter((e) => e.name === 'testcase').map((e) => e.attrs.name)).toEqual(['GETBAL-EX-1', 'INV-LOAD', 'VERIFY-SW-63CX-ISSUED']);
    expect(elements.filter((e) => e.name === 'failure')).toHaveLength(1);
    expect(elements.filter((e) => e.name === 'skipped')).toHaveLength(1);
  });

  it('escapes markup and replaces characters XML cannot carry', () => {
    expect(xml).toContain('TAC &lt;wrong&gt; &amp; bad \uFFFD');
    expect(xml).not.toContain('\u0001');
    expect(xmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('JSON report and progress', () => {
  it('lists each case with ID, clause, verdict, reason, APDUs and time', () => {
    const doc = JSON.parse(jsonReport(results, 'sim', '2026-01-01T00:00:00.000Z'));
    expect(doc.counts).toEqual({ total: 3, passed: 1, failed: 1, skipped: 1 });
    expect(doc.cases[0]).toEqual({ id: 'GETBAL-EX-1', clause: 'JR/T 0025.2 GET BALANCE', rule: 'r1', verdict: 'pass', apdus: ['A>> (4+0000) 80 5C 00 02 04'], ms: 1.5 });
    expect(doc.cases[2].reason).toBe('the profile has no PIN');
    expect(doc.coverage.commands.sent).toBe(1);
    expect(doc.coverage.perCommand.find((c: { id: string }) => c.id === 'getBalance')).toMatchObject({ sent: true, answered: [0x9000], sentIn: ['ISSUED'] });
  });

  it('progress names the verdict and, for a failure or skip, the reason', () => {
    expect(progressLine(results[0], 1, 3)).toBe('[1/3] PASS GETBAL-EX-1 (1.5 ms)');
    expect(progressLine(results[2], 3, 3)).toBe('[3/3] SKIP VERIFY-SW-63CX-ISSUED: the profile has no PIN');
  });
});
