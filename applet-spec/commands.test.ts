/** @module Conformance of the command definitions themselves: examples, status words, headers, transitions. */
import { describe, expect, it } from 'vitest';
import { decodeCommandApdu, decodeResponseApdu } from './codec/apdu.js';
import { fromHex, hex } from '../base/hex.js';
import { COMMANDS, commandForHeader } from './commands.js';
import { type Command, commandsBefore } from './define-command.js';
import { describeSw, statusWordTable } from './status-words.js';
import { isTransition, TRANSITIONS } from './lifecycle.js';
import { DATA_OBJECTS } from './data-objects.js';
import { DGIS } from './dgis.js';

describe.each(COMMANDS.map((c) => [c.name, c as Command<any, any>] as const))('%s', (_name, cmd) => {
  it('has at least one worked example', () => {
    expect(cmd.examples.length).toBeGreaterThan(0);
  });

  it.each(cmd.examples.map((e) => [e.title, e] as const))('example "%s" encodes to exactly its APDU and decodes back', (_t, ex) => {
    const encoded = cmd.encodeBytes(ex.request, { le: ex.le });
    expect(hex(encoded)).toBe(hex(fromHex(ex.apdu)));
    const apdu = decodeCommandApdu(fromHex(ex.apdu));
    expect(cmd.matches(apdu)).toBe(true);
    expect(commandForHeader(apdu)).toBe(cmd);
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

  it('lists only status words that exist in the status-word table', () => {
    for (const sw of cmd.statusWords) {
      expect(describeSw(sw).name, `SW ${sw.toString(16)}`).not.toBe('UNKNOWN');
    }
  });

  it('names only transitions that exist in the lifecycle, from states it accepts', () => {
    for (const t of cmd.transitions ?? []) {
      expect(isTransition(t.from, t.to), `${t.from} -> ${t.to}`).toBe(true);
      expect(cmd.states).toContain(t.from);
      expect(TRANSITIONS.some((x) => x.from === t.from && x.to === t.to && x.by === cmd.name)).toBe(true);
    }
  });

  it('refers with "after" only to a defined command', () => {
    for (const id of commandsBefore(cmd.security)) expect(COMMANDS.map((c) => c.id)).toContain(id);
  });
});

describe('the command set as a whole', () => {
  it('gives every command a unique name and id', () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    expect(new Set(COMMANDS.map((c) => c.id)).size).toBe(COMMANDS.length);
  });

  it('never lets two commands claim the same header', () => {
    for (const cla of [0x00, 0x04, 0x0c, 0x10, 0x80, 0x84, 0x8c, 0x90, 0x94]) {
      for (const ins of new Set(COMMANDS.map((c) => c.ins))) {
        for (let p1 = 0; p1 < 0x100; p1++) {
          for (const p2 of [0x00, 0x02, 0x05, 0x79, 0xc4, 0xd4, 0xff]) {
            const claimed = COMMANDS.filter((c) => c.matches({ cla, ins, p1, p2 }));
            expect(claimed.length, `${cla.toString(16)} ${ins.toString(16)} ${p1.toString(16)} ${p2.toString(16)}`).toBeLessThanOrEqual(1);
          }
        }
      }
    }
  });

  it('covers every command row of the reference command table', () => {
    const names = COMMANDS.map((c) => c.name);
    for (const row of [
      'SELECT', 'GET DATA', 'GET CHALLENGE', 'INITIALIZE UPDATE', 'EXTERNAL AUTHENTICATE', 'STORE DATA', 'VERIFY',
      'CHANGE PIN', 'RELOAD PIN', 'INITIALIZE FOR LOAD', 'CREDIT FOR LOAD', 'GET BALANCE', 'READ RECORD (coins)',
      'INITIALIZE FOR PURCHASE', 'DEBIT FOR PURCHASE', 'INITIALIZE FOR TRANSFER', 'EXPORT COINS', 'INITIALIZE FOR RECEIVE',
      'IMPORT COINS', 'READ RECORD (log)', 'GET TRANSACTION PROVE', 'PUT DATA', 'APPLICATION BLOCK', 'APPLICATION UNBLOCK', 'SET STATUS',
    ]) {
      expect(names).toContain(row);
    }
  });

  it('defines no status word twice', () => {
    const codes = statusWordTable.map((s) => s.sw);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('defines no tag twice', () => {
    const tags = Object.values(DATA_OBJECTS).map((d) => d.tag);
    expect(new Set(tags).size).toBe(tags.length);
  });

  it('defines no DGI number twice', () => {
    const dgis = Object.values(DGIS).map((d) => d.dgi);
    expect(new Set(dgis).size).toBe(dgis.length);
  });

  it('gives every lifecycle transition a command that performs it', () => {
    for (const t of TRANSITIONS) {
      expect(COMMANDS.some((c) => c.name === t.by && (c.transitions ?? []).some((x) => x.from === t.from && x.to === t.to))).toBe(true);
    }
  });
});
