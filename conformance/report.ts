/**
 * @module Conformance reports from one result list: the readable summary and progress lines (stderr),
 * the JSON report (ID, clause, verdict, reason, APDUs, ms) and JUnit XML for CI systems, with every
 * text escaped for XML 1.0.
 */
import type { CaseResult } from './runner.js';
import { specCoverage } from './spec-coverage.js';

export interface SuiteCounts {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

export function countResults(results: readonly CaseResult[]): SuiteCounts {
  const n = (v: CaseResult['verdict']) => results.filter((r) => r.verdict === v).length;
  return { total: results.length, passed: n('pass'), failed: n('fail'), skipped: n('skip') };
}

/** One progress line: "[ 12/171] PASS  GETBAL-EX-1 (3.1 ms)", with the reason of a failure or skip. */
export function progressLine(r: CaseResult, index: number, total: number): string {
  const w = String(total).length;
  const verdict = r.verdict.toUpperCase().padEnd(4);
  return `[${String(index).padStart(w)}/${total}] ${verdict} ${r.id}${r.verdict === 'pass' ? ` (${r.ms} ms)` : `: ${r.reason ?? ''}`}`;
}

/** The readable summary: counts, then each failure with its rule and reason. */
export function formatSummary(results: readonly CaseResult[], target: string): string {
  const c = countResults(results);
  const lines = [`conformance of ${target}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped of ${c.total}`];
  const failed = results.filter((r) => r.verdict === 'fail');
  if (failed.length) {
    lines.push('', 'Failures:');
    for (const r of failed) lines.push(`  ${r.id} (${r.clause})`, `    rule: ${r.rule}`, `    got:  ${r.reason ?? ''}`);
  }
  return lines.join('\n');
}

/** The JSON report. */
export function jsonReport(results: readonly CaseResult[], target: string, startedAt: string): string {
  const doc = {
    format: 'drmb-conformance-report',
    version: 1,
    target,
    startedAt,
    counts: countResults(results),
    coverage: specCoverage(results.flatMap((r) => r.exchanges)),
    cases: results.map((r) => ({ id: r.id, clause: r.clause, rule: r.rule, verdict: r.verdict, reason: r.reason, apdus: r.apdus, ms: r.ms })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Text for XML 1.0 content and attributes: the five markup characters escaped, characters XML cannot carry replaced. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * JUnit XML (the Ant/Jenkins schema most CI systems read): one testsuite, one testcase per case named
 * by its ID with the clause as classname; a failure or skipped element with the reason; the APDUs in
 * system-out. Times in seconds.
 */
export function junitReport(results: readonly CaseResult[], target: string, startedAt: string): string {
  const c = countResults(results);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = results.reduce((s, r) => s + r.ms, 0);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="drmb conformance" tests="${c.total}" failures="${c.failed}" errors="0" skipped="${c.skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${xmlEscape(`drmb conformance: ${target}`)}" tests="${c.total}" failures="${c.failed}" errors="0" skipped="${c.skipped}" time="${seconds(total)}" timestamp="${xmlEscape(startedAt)}">`,
  ];
  for (const r of results) {
    out.push(`    <testcase name="${xmlEscape(r.id)}" classname="${xmlEscape(r.clause)}" time="${seconds(r.ms)}">`);
    if (r.verdict === 'fail') out.push(`      <failure message="${xmlEscape(r.reason ?? '')}">${xmlEscape(`${r.rule}\n${r.reason ?? ''}`)}</failure>`);
    if (r.verdict === 'skip') out.push(`      <skipped message="${xmlEscape(r.reason ?? '')}"/>`);
    if (r.apdus.length) out.push(`      <system-out>${xmlEscape(r.apdus.join('\n'))}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
