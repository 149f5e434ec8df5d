/**
 * @module The conformance case model: a stable ID, the clause it checks, a one-line rule, what it
 * needs of the target and the profile, and a run function over the card's transport. A case fails by
 * throwing CaseFailure with what the card did; any other error is a failure too, reported as such.
 */
import type { AppState } from '../applet-spec/lifecycle.js';
import type { CaseContext } from './case-context.js';

/** Key files of the profile a case may need (profile.ts names them). */
export type ProfileKeyName = 'cbMaster' | 'issuanceMaster' | 'coinSigning' | 'kgcSign' | 'kgcEncrypt' | 'trustAnchors' | 'certSigning';

/** What a case needs; the runner skips the case, with the reason, when the target or profile cannot give it. */
export interface CaseNeeds {
  /** lifecycle states the case runs in (any one of them); default: the card as it is */
  states?: readonly AppState[];
  /** key files of the profile */
  keys?: readonly ProfileKeyName[];
  /** the holder PIN from the profile */
  pin?: boolean;
  /** uses up PIN or authentication tries, fills the coin slots, blocks or terminates: `--destructive`, or a target that gives a fresh card per case */
  destructive?: boolean;
  /** power-cut control over the target (tear cases) */
  powerCut?: boolean;
}

export interface ConformanceCase {
  /** stable identifier, e.g. "INITPUR-SW-9401-ISSUED"; see CASE_ID_PATTERN */
  id: string;
  /** the clause checked: the command's `mirrors` clause, or the invariant's name */
  clause: string;
  /** the rule, one line */
  rule: string;
  needs: CaseNeeds;
  run(ctx: CaseContext): Promise<void>;
}

/** Upper-case words of letters and digits joined by hyphens. */
export const CASE_ID_PATTERN = /^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/;

/** The card did not behave as the rule says; the message says what it did. */
export class CaseFailure extends Error {
  override name = 'CaseFailure';
}

/** The case cannot run here after all (e.g. the card holds no coins to pay with); reported as skipped. */
export class CaseSkip extends Error {
  override name = 'CaseSkip';
}

/** Throws CaseFailure with `message` unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new CaseFailure(message);
}

/** Text of what a case needs, for listings and docs. */
export function describeNeeds(n: CaseNeeds): string {
  const parts: string[] = [];
  if (n.states) parts.push(`state ${n.states.join('|')}`);
  if (n.keys?.length) parts.push(`keys ${n.keys.join(', ')}`);
  if (n.pin) parts.push('PIN');
  if (n.destructive) parts.push('destructive');
  if (n.powerCut) parts.push('power-cut control');
  return parts.join('; ') || 'nothing';
}
