/**
 * @module Append-only audit log of personalization: one JSON line per event, each carrying the SM3 hash
 * of the previous line, so that an edited or deleted line breaks the chain (verifyAuditLog finds it).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { bytesToHex } from '../base/bytes.js';
import { sm3 } from '../crypto/sm3.js';

/** One event of the personalization audit log: time, operator, action, card and details. */
export interface AuditEvent {
  time: string;
  operator: string;
  action: string;
  cardId?: string;
  detail?: Record<string, unknown>;
}

const utf8 = new TextEncoder();
const GENESIS = '0'.repeat(64);

function lastLine(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  return lines[lines.length - 1];
}

/**
 * Appends an event chained to the previous line, on disk before it returns (fsync): a desk that records
 * cash paid out must still find the line after a power cut of its own host. Never write secrets into
 * `detail`.
 */
export function appendAudit(path: string, event: AuditEvent): void {
  const prev = lastLine(path);
  const previousHash = prev ? bytesToHex(sm3(utf8.encode(prev))) : GENESIS;
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ ...event, previousHash })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Checks the hash chain; returns the 1-based number of the first line that does not chain, or 0. */
export function verifyAuditLog(path: string): number {
  if (!existsSync(path)) return 0;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim());
  let expected = GENESIS;
  for (let i = 0; i < lines.length; i++) {
    let parsed: { previousHash?: string };
    try {
      parsed = JSON.parse(lines[i]);
    } catch {
      return i + 1;
    }
    if (parsed.previousHash !== expected) return i + 1;
    expected = bytesToHex(sm3(utf8.encode(lines[i])));
  }
  return 0;
}
