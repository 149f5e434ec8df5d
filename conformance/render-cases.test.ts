/** @module The checked-in docs/conformance.md must list every case the suite has. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conformancePath } from '../scripts/generate-docs.js';
import { renderConformanceCases } from './render-cases.js';
import { conformanceSuite } from './suite.js';

describe('docs/conformance.md', () => {
  const cases = conformanceSuite();
  const text = renderConformanceCases(cases);

  it('is up to date with the suite (run `npm run docs` after changing a case or a definition)', () => {
    expect(readFileSync(conformancePath, 'utf8')).toBe(text);
  });

  it('has a row for every case with its ID', () => {
    for (const c of cases) expect(text).toContain(`| \`${c.id}\` |`);
  });
});
