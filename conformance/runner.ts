/**
 * @module The conformance runner: picks cases by ID (`--only`, `--skip`, a trailing `*` matching any
 * suffix), skips with its reason every case whose needs the target or profile cannot meet, gives each
 * case its card (a fresh one in the state it needs when the target can make one), records its APDUs
 * through the host's trace middleware (PINs, codes and keys redacted) and its time. Cases that need
 * power-cut control run where the target has it and skip, with the reason, where it has not.
 */
import type { AppState } from '../applet-spec/lifecycle.js';
import { trace } from '../host/middleware/trace.js';
import type { Transport } from '../host/transport.js';
import { CaseContext, type CasePowerCut } from './case-context.js';
import { CaseFailure, CaseSkip, type ConformanceCase } from './conformance-case.js';
import type { ConformanceProfile } from './profile.js';
import { commandOfCase } from './spec-cases.js';
import { type Exchange, exchangeRecorder } from './spec-coverage.js';
import { freshCardIn } from './state-setup.js';
import type { ConformanceTarget, PowerCut } from './target.js';

export type Verdict = 'pass' | 'fail' | 'skip';

export interface CaseResult {
  id: string;
  clause: string;
  rule: string;
  verdict: Verdict;
  /** why it failed or was skipped */
  reason?: string;
  /** the trace lines of the case's APDUs, secrets redacted */
  apdus: string[];
  /** each command's final status word and the state it was sent in, for spec coverage */
  exchanges: Exchange[];
  ms: number;
}

export interface RunOptions {
  profile: ConformanceProfile;
  /** allows cases that use up tries, block or terminate on a card that is not fresh per case */
  destructive?: boolean;
  /** one line per finished case (the CLI prints them on stderr) */
  progress?: (result: CaseResult, index: number, total: number) => void;
  now?: () => number;
}

/** True when `id` matches the pattern: the ID itself, or a prefix followed by `*`. */
export function matchesPattern(id: string, pattern: string): boolean {
  return pattern.endsWith('*') ? id.startsWith(pattern.slice(0, -1)) : id === pattern;
}

/**
 * The cases `only` (all when empty) names minus those `skip` names, in suite order; `unmatched` lists
 * patterns that name no case, which the CLI reports as a usage error.
 */
export function selectCases(cases: readonly ConformanceCase[], only: readonly string[] = [], skip: readonly string[] = []): { cases: ConformanceCase[]; unmatched: string[] } {
  const unmatched = [...only, ...skip].filter((p) => !cases.some((c) => matchesPattern(c.id, p)));
  const selected = cases.filter((c) => (only.length === 0 || only.some((p) => matchesPattern(c.id, p))) && !skip.some((p) => matchesPattern(c.id, p)));
  return { cases: selected, unmatched };
}

/** Why the case cannot run with this profile and these options; undefined when it can. */
export function unmetNeed(c: ConformanceCase, target: ConformanceTarget, o: RunOptions): string | undefined {
  const n = c.needs;
  const missing = (n.keys ?? []).filter((k) => o.profile.keys[k] === undefined);
  if (missing.length) return `the profile has no ${missing.join(', ')} key file${missing.length > 1 ? 's' : ''}`;
  if (n.pin && !o.profile.pin) return 'the profile has no PIN';
  if (n.powerCut && !target.powerCut) return 'the target cannot cut power';
  if (n.destructive && !o.destructive && !target.fresh) return 'destructive: run with --destructive to allow it on this card';
  return undefined;
}

/** The card for a case: a fresh one in a state it needs, or the card as it is when that is in a state it needs. */
async function cardFor(c: ConformanceCase, target: ConformanceTarget, profile: ConformanceProfile): Promise<{ transport: Transport; state?: AppState } | string> {
  const states = c.needs.states;
  if (!states) return { transport: await target.transport() };
  if (target.fresh) {
    for (const s of states) {
      const t = await freshCardIn(target, s, profile);
      if (t) return { transport: t, state: s };
    }
    return `the target has no card in state ${states.join(' or ')}${profile.keys.cbMaster ? '' : ' (a cbMaster key file would let it derive LOCKED and TERMINATED)'}`;
  }
  const t = await target.transport();
  const current = await currentState(t, profile);
  if (current && states.includes(current)) return { transport: t, state: current };
  return `the card is ${current ?? 'not selectable'}; the case needs ${states.join(' or ')}, which a reader cannot make`;
}

async function currentState(t: Transport, profile: ConformanceProfile): Promise<AppState | undefined> {
  try {
    return (await new CaseContext(t, profile).select()).state;
  } catch {
    return undefined;
  }
}

/** The target's power-cut control for a case: the card restored after a cut is traced into the case's record like the first. */
function casePowerCut(control: PowerCut, contextOver: (t: Transport, powerCut: CasePowerCut) => CaseContext): CasePowerCut {
  const self: CasePowerCut = {
    cutAfterWrites: (k) => control.cutAfterWrites(k),
    restore: async () => contextOver(await control.restore(), self),
  };
  return self;
}

/** Runs the cases one after the other; never throws for a case, only for the target itself. */
export async function runCases(cases: readonly ConformanceCase[], target: ConformanceTarget, o: RunOptions): Promise<CaseResult[]> {
  const now = o.now ?? (() => performance.now());
  const results: CaseResult[] = [];
  for (const c of cases) {
    const t0 = now();
    const apdus: string[] = [];
    const exchanges: Exchange[] = [];
    const base = { id: c.id, clause: c.clause, rule: c.rule, apdus, exchanges };
    let result: CaseResult;
    const unmet = unmetNeed(c, target, o);
    if (unmet) result = { ...base, verdict: 'skip', reason: unmet, ms: 0 };
    else {
      try {
        const card = await cardFor(c, target, o.profile);
        if (typeof card === 'string') result = { ...base, verdict: 'skip', reason: card, ms: 0 };
        else {
          const traced = (t: Transport) => trace({ sink: (line) => apdus.push(line), now })(exchangeRecorder(exchanges, card.state, commandOfCase(c.id))(t));
          const powerCut = target.powerCut && casePowerCut(target.powerCut, (t, pc) => new CaseContext(traced(t), o.profile, pc));
          const ctx = new CaseContext(traced(card.transport), o.profile, powerCut);
          await c.run(ctx);
          result = { ...base, verdict: 'pass', ms: now() - t0 };
        }
      } catch (e) {
        if (e instanceof CaseSkip) result = { ...base, verdict: 'skip', reason: e.message, ms: now() - t0 };
        else if (e instanceof CaseFailure) result = { ...base, verdict: 'fail', reason: e.message, ms: now() - t0 };
        else result = { ...base, verdict: 'fail', reason: `${(e as Error).name ?? 'Error'}: ${(e as Error).message ?? String(e)}`, ms: now() - t0 };
      }
    }
    result.ms = Math.round(result.ms * 10) / 10;
    results.push(result);
    o.progress?.(result, results.length, cases.length);
  }
  return results;
}
