/**
 * @module PSAM_DGIS: the data groups (EMV CPS v1.1 DGIs) that personalize a D-RMB PSAM in one stage
 * (BLANK -> ISSUED) through STORE DATA under SCP03 key version 30: the terminal number and the purchase
 * master key, then the completion DGI.
 */
import { bytes, empty } from '../codec/fields.js';
import type { DgiDefinition } from '../dgis.js';

function dgi<T>(d: DgiDefinition<T>): DgiDefinition<T> {
  return d;
}

/** Every DGI the PSAM accepts, each defined once. */
export const PSAM_DGIS = {
  terminalNumber: dgi({
    dgi: 0x0116,
    name: 'Terminal number',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'the 6-byte terminal number (JR/T 0025 terminal ID) of the file of SFI 16, read with READ BINARY 00 B0 96 00 06',
    coder: bytes(6, 'terminal number'),
  }),
  purchaseMaster: dgi({
    dgi: 0x8010,
    name: 'Purchase master key',
    stage: 1,
    mandatory: true,
    protection: 'dek',
    sensitive: true,
    description:
      "SM4 purchase master key (key version 01, algorithm 04) from which the PSAM derives each card's purchase key by card ID; DEK-encrypted in transit and never readable afterwards",
    coder: bytes(16, 'SM4 purchase master key'),
  }),
  completion: dgi({
    dgi: 0x7fff,
    name: 'Completion',
    stage: 1,
    mandatory: true,
    protection: 'clear',
    sensitive: false,
    description: 'closes personalization: every mandatory DGI must be stored; the PSAM moves from BLANK to ISSUED',
    coder: empty,
  }),
} as const;

export type PsamDgiName = keyof typeof PSAM_DGIS;

/** The PSAM DGI of a number, with its name. */
export function psamDgiByNumber(n: number): (DgiDefinition & { key: PsamDgiName }) | undefined {
  const entry = Object.entries(PSAM_DGIS).find(([, d]) => d.dgi === n);
  return entry && { ...(entry[1] as DgiDefinition), key: entry[0] as PsamDgiName };
}
