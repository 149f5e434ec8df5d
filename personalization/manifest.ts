/**
 * @module The personalization manifest: one JSON line per card and stage with card ID, key check
 * values, profile hash, time, operator, each step's result and the outcome, appended as work
 * happens so that an interrupted batch resumes, and a failed card cryptogram is remembered per card.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** Personalization stages, then the desk's operations on an issued card (cli/card/desk.ts) and its return (cli/card/return.ts). */
export type Stage = 'prepare' | 'issue' | DeskOperation | 'return';
/** What a desk does to a holder's card after issuance. */
export type DeskOperation = 'block' | 'unblock' | 'reload-pin' | 'set-limits' | 'change-pin' | 'terminate';

/**
 * One manifest line: a card and stage, its result, the key check values and profile hash used, the
 * operator and time.
 */
export interface ManifestEntry {
  cardId: string;
  stage: Stage;
  /** 'done', 'failed', or 'skipped' (already in the target state) */
  result: 'done' | 'failed' | 'skipped';
  time: string;
  operator: string;
  /** SM3 of the profile (prepare, issue); a desk operation has none */
  profileHash?: string;
  /** key check values of the keys written (hex), never the keys */
  kcvs?: Record<string, string>;
  /** steps completed, in order (select, authenticate, store-data N, verify ...) */
  steps: string[];
  /** the card cryptogram did not match our keys (wrong master key or wrong card) */
  cryptogramFailure?: boolean;
  error?: string;
  reader?: string;
  apdus?: number;
  durationMs?: number;
}

/** The personalization manifest file: the entries recorded so far, and appending one per card and stage. */
export class Manifest {
  constructor(readonly path: string) {}

  entries(): ManifestEntry[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l, i) => {
        try {
          return JSON.parse(l) as ManifestEntry;
        } catch {
          throw new Error(`manifest ${this.path} line ${i + 1} is not JSON`);
        }
      });
  }

  append(entry: ManifestEntry): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /** Failed card cryptograms recorded for this card and stage (a wrong key is never retried blindly). */
  cryptogramFailures(cardId: string, stage: Stage): number {
    return this.entries().filter((e) => e.cardId === cardId && e.stage === stage && e.cryptogramFailure).length;
  }

  /** True when the stage was completed for this card. */
  isDone(cardId: string, stage: Stage): boolean {
    return this.entries().some((e) => e.cardId === cardId && e.stage === stage && (e.result === 'done' || e.result === 'skipped'));
  }
}
