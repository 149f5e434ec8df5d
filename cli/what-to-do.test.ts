/** @module The translation of card refusals: every rule's status word is one its commands can answer, and the advice names the next step. */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../applet-spec/commands.js';
import { SW } from '../applet-spec/status-words.js';
import { StatusWordError } from '../host/errors.js';
import { CardRefusalError, explainRefusal, ruleKeys, whatToDo } from './what-to-do.js';

describe('what to do after a refusal', () => {
  it('keys every rule by a status word that the command it names (or some command) can answer', () => {
    for (const { sw, command } of ruleKeys()) {
      const commands = command ? [command] : COMMANDS;
      expect(commands.some((c) => c.allows(sw)), `${sw.toString(16)} ${command?.name ?? ''}`).toBe(true);
    }
  });

  it('says the PIN threshold and how to give the PIN for a payment refused with 6982', () => {
    expect(whatToDo('INITIALIZE FOR PURCHASE', SW.SECURITY_STATUS_NOT_SATISFIED, { pinThresholdFen: 20_000 })).toBe('above the PIN threshold of 200.00: give --pin-file or answer the prompt');
    expect(whatToDo('INITIALIZE FOR TRANSFER', SW.SECURITY_STATUS_NOT_SATISFIED)).toBe("above the card's PIN threshold: give --pin-file or answer the prompt");
  });

  it('derives the state a command needs from its definition for 6985', () => {
    expect(whatToDo('GET BALANCE', SW.CONDITIONS_OF_USE_NOT_SATISFIED)).toMatch(/^the card is neither ISSUED nor LOCKED: .*drmb perso prepare.*drmb perso issue$/);
    expect(whatToDo('INITIALIZE FOR LOAD', SW.CONDITIONS_OF_USE_NOT_SATISFIED)).toMatch(/^the card is not ISSUED: /);
  });

  it('counts the PIN tries left of 63Cx', () => {
    expect(whatToDo('VERIFY', 0x63c2)).toBe('wrong PIN: 2 tries left before the PIN is blocked');
  });

  it('turns a status-word error into one line with the next step and the SW, and leaves others as they are', () => {
    const e = explainRefusal(new StatusWordError('GET BALANCE', SW.CONDITIONS_OF_USE_NOT_SATISFIED));
    expect(e).toBeInstanceOf(CardRefusalError);
    expect((e as Error).message).toMatch(/^GET BALANCE: the card is neither .* \(SW 6985 CONDITIONS_OF_USE_NOT_SATISFIED\)$/);
    const unknown = new StatusWordError('GET BALANCE', SW.WRONG_LENGTH);
    expect(explainRefusal(unknown)).toBe(unknown);
  });
});
