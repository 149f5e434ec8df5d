/** @module The checked-in APDU reference must match what the definitions generate. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.js';
import { renderReference } from './render-reference.js';
import { referencePath } from '../scripts/generate-docs.js';

describe('docs/apdu-reference.md', () => {
  const text = renderReference();

  it('is up to date with applet-spec (run `npm run docs` after changing a definition)', () => {
    expect(readFileSync(referencePath, 'utf8')).toBe(text);
  });

  it('has a section for every command with its header, states, security and status words', () => {
    for (const c of COMMANDS) {
      const start = text.indexOf(`### ${c.name}\n`);
      expect(start, c.name).toBeGreaterThan(0);
      const section = text.slice(start, text.indexOf('\n### ', start + 4));
      for (const label of ['**Header:**', '**States:**', '**Security:**', '**Command data**', '**Response data**', '**Status words**', '**Examples**']) {
        expect(section, `${c.name} ${label}`).toContain(label);
      }
      expect(section).toContain('9000 OK');
    }
  });
});
