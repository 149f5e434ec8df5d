/** @module The checked-in docs/conformance.md must list every case the suite has. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conformancePath } from '../scripts/generate-docs.js';
import { renderConformanceCases } from './render-cases.js';
import { CARD_FAULT_NAMES, CARD_FAULTS } from '../simulator/card-faults.js';
import { conformanceSuite } from './suite.js';

describe('docs/conformance.md', () => {
  const cases = conformanceSuite();
  const text = renderConformanceCases(cases, CARD_FAULTS);

  it('is up to date with the suite (run `npm run docs` after changing a case or a definition)', () => {
    expect(readFileSync(conformancePath, 'utf8')).toBe(text);
  });

  it('has a row for every case with its ID', () => {
    for (const c of cases) expect(text).toContain(`| \`${c.id}\` |`);
  });

  it('lists every faulty card variant with the rule it breaks', () => {
    for (const f of CARD_FAULT_NAMES) expect(text).toContain(`| \`${f}\` | ${CARD_FAULTS[f]}`);
  });
});
