/** @module The whole conformance suite, in order: the cases derived from the definitions, then the scenario cases of the card's invariants, then the tear cases. */
import type { ConformanceCase } from './conformance-case.js';
import { invariantCases } from './invariant-cases.js';
import { persoCases } from './perso-cases.js';
import { scenarioCases } from './scenario-cases.js';
import { specCases } from './spec-cases.js';
import { tearCases } from './tear-cases.js';

/** Every case, each ID once. */
export function conformanceSuite(): ConformanceCase[] {
  return [...specCases(), ...invariantCases(), ...scenarioCases(), ...persoCases(), ...tearCases()];
}
