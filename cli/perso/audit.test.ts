/** @module `drmb perso audit verify`: an intact audit log verifies; an edited, removed or inserted line is reported as the first broken link, exit code 1. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../personalization/audit-log.js';
import { runAuditVerify } from './audit.js';

let dir: string;
let log: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-audit-'));
  log = join(dir, 'audit.log');
  for (let i = 0; i < 5; i++) appendAudit(log, { time: `2026-12-04T10:0${i}:00.000Z`, operator: 'desk 1', action: i % 2 ? 'issue' : 'prepare', cardId: `6212000000000000000${i}` });
});

const variant = (name: string, edit: (lines: string[]) => string[]) => {
  const path = join(dir, name);
  writeFileSync(path, `${edit(readFileSync(log, 'utf8').trim().split('\n')).join('\n')}\n`);
  return path;
};

describe('drmb perso audit verify', () => {
  it('verifies an intact chain and says how many lines and which times it spans', () => {
    expect(runAuditVerify(log)).toEqual({ file: log, lines: 5, first: { time: '2026-12-04T10:00:00.000Z', action: 'prepare' }, last: { time: '2026-12-04T10:04:00.000Z', action: 'prepare' } });
  });

  it('reports the line after an edited line, a removed line or an inserted line as the first broken link', () => {
    expect(runAuditVerify(variant('edited.log', (l) => l.map((x, i) => (i === 1 ? x.replace('desk 1', 'desk 2') : x)))).brokenAt).toBe(3);
    expect(runAuditVerify(variant('removed.log', (l) => l.filter((_, i) => i !== 2))).brokenAt).toBe(3);
    expect(runAuditVerify(variant('inserted.log', (l) => [...l.slice(0, 2), l[0], ...l.slice(2)])).brokenAt).toBe(3);
    expect(runAuditVerify(variant('first.log', (l) => [l[0].replace('prepare', 'issue'), ...l.slice(1)])).brokenAt).toBe(2);
  });

  it('refuses a file that does not exist in one line', () => {
    expect(() => runAuditVerify(join(dir, 'none.log'))).toThrow(`${join(dir, 'none.log')} does not exist`);
  });
});
