/** @module Conformance of the PSAM command definitions: examples both ways, status words, one command per header, the user card's list untouched. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeCommandApdu, decodeResponseApdu } from './codec/apdu.js';
import { fromHex, hex } from '../base/hex.js';
import { COMMANDS } from './commands.js';
import type { Command } from './define-command.js';
import { PSAM_COMMANDS, psamCommandForHeader } from './psam-commands.js';
import { describeSw } from './status-words.js';
import { renderPsamReference } from './render-psam-reference.js';
import { psamReferencePath } from '../scripts/generate-docs.js';

describe.each(PSAM_COMMANDS.map((c) => [c.name, c as Command<any, any>] as const))('PSAM %s', (_name, cmd) => {
  it.each(cmd.examples.map((e) => [e.title, e] as const))('example "%s" encodes to exactly its APDU and decodes back', (_t, ex) => {
    expect(hex(cmd.encodeBytes(ex.request, { le: ex.le }))).toBe(hex(fromHex(ex.apdu)));
    const apdu = decodeCommandApdu(fromHex(ex.apdu));
    expect(psamCommandForHeader(apdu)).toBe(cmd);
    expect(cmd.decode(apdu)).toEqual(ex.request);
  });

  it.each(cmd.examples.map((e) => [e.title, e] as const))('example "%s" response decodes to its value and re-encodes', (_t, ex) => {
    const rsp = decodeResponseApdu(fromHex(ex.response));
    expect(cmd.allows(rsp.sw)).toBe(true);
    if (rsp.sw === 0x9000) {
      expect(cmd.decodeResponse(rsp.data)).toEqual(ex.responseValue);
      expect(hex(cmd.encodeResponse(ex.responseValue as never))).toBe(hex(rsp.data));
    }
  });

  it('lists only status words of the status-word table', () => {
    for (const sw of cmd.statusWords) expect(describeSw(sw).name, sw.toString(16)).not.toBe('UNKNOWN');
  });

  it('refers with "after" only to a PSAM command', () => {
    if (cmd.security.after) expect(PSAM_COMMANDS.map((c) => c.id)).toContain(cmd.security.after);
  });
});

describe('the PSAM command set', () => {
  it('gives every command a unique name and id, and never lets two commands claim one header', () => {
    expect(new Set(PSAM_COMMANDS.map((c) => c.name)).size).toBe(PSAM_COMMANDS.length);
    expect(new Set(PSAM_COMMANDS.map((c) => c.id)).size).toBe(PSAM_COMMANDS.length);
    for (const cla of [0x00, 0x04, 0x80, 0x84]) {
      for (const ins of new Set(PSAM_COMMANDS.map((c) => c.ins))) {
        for (let p1 = 0; p1 < 0x100; p1++) {
          const claimed = PSAM_COMMANDS.filter((c) => c.matches({ cla, ins, p1, p2: 0 }));
          expect(claimed.length, `${cla.toString(16)} ${ins.toString(16)} ${p1.toString(16)}`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it("keeps the PSAM's own commands out of the user card's COMMANDS (the conformance suite derives cases from it)", () => {
    const own = PSAM_COMMANDS.filter((c) => !(COMMANDS as readonly Command<any, any>[]).includes(c));
    expect(own.map((c) => c.id)).toEqual(['psamStoreData', 'readBinary', 'initSamForPurchase', 'creditSamForPurchase', 'verifyPurchaseMac2', 'nextTerminalSequence']);
    for (const c of own) expect(COMMANDS.map((x) => x.id)).not.toContain(c.id);
  });

  it('INIT SAM FOR PURCHASE carries the MAC1 inputs in the PBOC order with the D-RMB widths (Lc 20)', () => {
    expect(PSAM_COMMANDS.find((c) => c.id === 'initSamForPurchase')!.request.size).toBe(0x20);
  });
});

describe('docs/psam-reference.md', () => {
  it('is up to date with the PSAM definitions (run `npm run docs` after changing one)', () => {
    expect(readFileSync(psamReferencePath, 'utf8')).toBe(renderPsamReference());
  });
});
