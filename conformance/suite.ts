/** @module The whole conformance suite, in order: the cases derived from the definitions, the scenario cases of the card's invariants, the refusals of what a stage or an import is given, the listed status words reached in context, what a session remembers and forgets, the tear cases, and the two personalization stages. */
import type { ConformanceCase } from './conformance-case.js';
import { invariantCases } from './invariant-cases.js';
import { listedSwCases } from './listed-sw-cases.js';
import { stageAndImportCases } from './stage-and-import-cases.js';
import { personalizationCases } from './personalization-cases.js';
import { scenarioCases } from './scenario-cases.js';
import { sessionRuleCases } from './session-rule-cases.js';
import { specCases } from './spec-cases.js';
import { tearCases } from './tear-cases.js';

/** Every case, each ID once. */
export function conformanceSuite(): ConformanceCase[] {
  return [...specCases(), ...invariantCases(), ...scenarioCases(), ...stageAndImportCases(), ...listedSwCases(), ...sessionRuleCases(), ...tearCases(), ...personalizationCases()];
}
