/**
 * @module `drmb perso audit verify`: checks a hash-chained audit log (a desk's personalization log, or
 * the KGC's) and reports the first line whose link to the line before it is broken
 * (personalization/audit-log.ts verifyAuditLog); exit 1 when one is.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { OperationalError } from '../../base/operational-error.js';
import { verifyAuditLog } from '../../personalization/audit-log.js';
import { withJson } from '../options.js';
import { emit, UsageError } from '../output.js';

/** An audit log whose chain is broken: a line was edited, removed or inserted. */
export class AuditChainError extends OperationalError {
  override readonly name = 'AuditChainError';
}

export interface AuditVerifyReport {
  file: string;
  lines: number;
  /** the 1-based number of the first line that does not chain to the one before it; absent when intact */
  brokenAt?: number;
  /** the time and action of the first and last lines, for the reader */
  first?: { time?: string; action?: string };
  last?: { time?: string; action?: string };
}

const summary = (line: string | undefined): { time?: string; action?: string } | undefined => {
  if (line === undefined) return undefined;
  try {
    const j = JSON.parse(line) as { time?: unknown; action?: unknown };
    return { ...(typeof j.time === 'string' ? { time: j.time } : {}), ...(typeof j.action === 'string' ? { action: j.action } : {}) };
  } catch {
    return {};
  }
};

/** Checks the chain of `file`. */
export function runAuditVerify(file: string): AuditVerifyReport {
  if (!existsSync(file)) throw new UsageError(`${file} does not exist`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text.split('\n').filter((l) => l.trim());
  const broken = verifyAuditLog(file);
  return { file, lines: lines.length, ...(broken ? { brokenAt: broken } : {}), ...(lines.length ? { first: summary(lines[0]), last: summary(lines.at(-1)) } : {}) };
}

export function registerPersoAudit(perso: Cli): void {
  const audit = perso.command('audit').description('hash-chained audit logs of personalization (and of the KGC)');
  withJson(audit.command('verify').description('check an audit log\'s hash chain and report the first broken link; exit 1 if there is one').argument('<file>', 'the audit log (--audit of drmb perso, or of drmb kgc serve)')).action(
    (file: string, o: { json?: boolean }) => {
      const r = runAuditVerify(file);
      emit(r, !!o.json, (x) =>
        x.brokenAt
          ? `${x.file}: ${x.lines} line(s); the chain breaks at line ${x.brokenAt}: it, or a line before it, was edited, removed or inserted`
          : `${x.file}: ${x.lines} line(s), chain intact${x.first?.time ? ` (${x.first.time} to ${x.last?.time})` : ''}`,
      );
      if (r.brokenAt) throw new AuditChainError(`${file}: the hash chain breaks at line ${r.brokenAt}`);
    },
  );
  audit.exitOverride();
  audit.commands.forEach((c) => c.exitOverride());
}
