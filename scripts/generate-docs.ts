/** @module Writes docs/apdu-reference.md and docs/psam-reference.md from the applet-spec definitions, docs/conformance.md from the conformance suite and docs/cli.md from the drmb program (npm run docs). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPsamReference } from '../applet-spec/render-psam-reference.js';
import { renderReference } from '../applet-spec/render-reference.js';
import { renderConformanceCases } from '../conformance/render-cases.js';
import { conformanceSuite } from '../conformance/suite.js';
import { CARD_FAULTS } from '../simulator/card-faults.js';
import { buildProgram } from '../cli/drmb.js';
import { renderCliReference } from '../cli/render-cli-reference.js';

/** Path of the generated APDU reference. */
export const referencePath = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'apdu-reference.md');
/** Path of the generated PSAM APDU reference. */
export const psamReferencePath = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'psam-reference.md');
/** Path of the generated command-line reference. */
export const cliReferencePath = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'cli.md');
/** Path of the generated list of conformance cases. */
export const conformancePath = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'conformance.md');

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(dirname(referencePath), { recursive: true });
  writeFileSync(referencePath, renderReference());
  console.log(`wrote ${referencePath}`);
  writeFileSync(psamReferencePath, renderPsamReference());
  console.log(`wrote ${psamReferencePath}`);
  writeFileSync(conformancePath, renderConformanceCases(conformanceSuite(), CARD_FAULTS));
  console.log(`wrote ${conformancePath}`);
  writeFileSync(cliReferencePath, renderCliReference(buildProgram()));
  console.log(`wrote ${cliReferencePath}`);
}
