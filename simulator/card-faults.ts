/**
 * @module Deliberately faulty variants of the simulated card (`drmb sim serve --fault NAME`), so that a
 * conformance suite can be shown to catch faults: each variant breaks one rule of the command set, by
 * answering a wrong status word, skipping one check, forgetting one write, writing one value outside
 * its transaction, or giving a different proof the second time. A card made without a fault (the default) has none of them.
 */
import { COMMANDS } from '../applet-spec/commands.js';
import { type Command, commandsBefore } from '../applet-spec/define-command.js';
import { SW } from '../applet-spec/status-words.js';
import type { CardMemory } from './card-memory.js';
import { IsoException } from './iso-exception.js';

/** Every variant, with the rule it breaks. */
export const CARD_FAULTS = {
  'skip-state-check': 'accepts every command in every lifecycle state, where the definition answers 6985 outside its states',
  'skip-pin-check': 'runs the commands that need a verified PIN without one, where the definition answers 6982',
  'skip-line-mac': 'runs issuer commands (block, unblock, PIN reload, PUT DATA) without checking their line MAC',
  'wrong-length-sw': 'answers 6A80 where a data field of a length the layout cannot hold must be refused 6700 (ISO 7816-4 5.1)',
  'wrong-balance-sw': 'answers 6985 where a purchase above the balance must be refused 9401 (JR/T 0025.2)',
  'pin-try-not-counted': 'answers 63Cx to a wrong PIN but does not write the lower try counter',
  'forgets-counter': 'commits a purchase without its new transaction counter, so the next transaction reuses the number',
  'unstable-proof': 'GET TRANSACTION PROVE answers different bytes each time instead of the stored response',
  'wrong-tac': 'answers CREDIT FOR LOAD with a TAC that is not the one its TAC key gives',
  'counter-outside-transaction':
    'writes the new transaction counter of DEBIT FOR PURCHASE in a write of its own after the transaction that moves the coins, so a power cut between them leaves the coins gone and the counter as it was',
  'loose-command-order': 'takes a command that must directly follow another (CREDIT FOR LOAD, DEBIT FOR PURCHASE, EXPORT COINS) when a read-only command came between them',
  'reusable-challenge': 'keeps the GET CHALLENGE random after an issuer command used it for its line MAC, so the same command can be sent again',
  'pin-survives-select': 'keeps the PIN verified across a new SELECT, where the verification ends with the selection',
  'import-coins-outside-transaction':
    'writes the coins IMPORT COINS takes in a write of its own after the transaction that steps the counter, retires the nonce, logs and stores the receipt, so a power cut between them leaves the packet taken (answered again with its receipt) and its coins lost',
} as const;

/** The name of a faulty card variant (`drmb sim serve --fault NAME`). */
export type CardFaultName = keyof typeof CARD_FAULTS;

/** The names of every faulty card variant, in the order of CARD_FAULTS. */
export const CARD_FAULT_NAMES = Object.keys(CARD_FAULTS) as CardFaultName[];

/** A check of the dispatcher that a fault may skip. */
export type SkippableCheck = 'state' | 'pin' | 'line-mac';

const SKIPS: Partial<Record<CardFaultName, SkippableCheck>> = {
  'skip-state-check': 'state',
  'skip-pin-check': 'pin',
  'skip-line-mac': 'line-mac',
};

/** True when the card with this fault skips the check. */
export function skipsCheck(fault: CardFaultName | undefined, check: SkippableCheck): boolean {
  return fault !== undefined && SKIPS[fault] === check;
}

/**
 * True when the card with this fault leaves the session's last command (and GET CHALLENGE random) as they
 * were after `command` ran, instead of moving them on to it.
 */
export function keepsSessionState(fault: CardFaultName | undefined, command: Command<unknown, unknown>): boolean {
  // A read-only command that no command must follow (GET BALANCE, GET DATA) slips between a pair unseen.
  if (fault === 'loose-command-order') return command.persistent === undefined && !COMMANDS.some((c) => commandsBefore(c.security).includes(command.id));
  if (fault === 'reusable-challenge') return command.security.lineMac !== undefined;
  return false;
}

/** The status word for a data field of a length the layout cannot hold. */
export function wrongLengthSw(fault: CardFaultName | undefined): number {
  return fault === 'wrong-length-sw' ? SW.INCORRECT_DATA : SW.WRONG_LENGTH;
}

/** Runs one command's handler (`run`) as the card with this fault does. */
export function runWithFault(fault: CardFaultName, command: Command<unknown, unknown>, memory: CardMemory, random: (n: number) => Uint8Array, run: () => Uint8Array): Uint8Array {
  switch (fault) {
    case 'forgets-counter': {
      if (command.id !== 'debitForPurchase') return run();
      const before = memory.counter;
      const out = run();
      memory.setCounter(before);
      return out;
    }
    case 'counter-outside-transaction': {
      if (command.id !== 'debitForPurchase') return run();
      // The transaction commits the coins, log and proof with the old counter; the new one follows alone.
      const out = run();
      const next = memory.counter;
      memory.setCounter(next - 1);
      memory.setCounter(next);
      return out;
    }
    case 'import-coins-outside-transaction': {
      if (command.id !== 'importCoins') return run();
      // The transaction commits the counter, nonce, log and receipt with the coins as they were; the coins follow alone.
      const before = memory.coins;
      const out = run();
      const after = memory.coins;
      if (after.length === before.length) return out; // refused, or the same packet answered again
      memory.setCoins(before);
      memory.setCoins(after);
      return out;
    }
    case 'pin-try-not-counted': {
      if (command.id !== 'verify') return run();
      const before = memory.pinTriesLeft;
      try {
        return run();
      } catch (e) {
        if (e instanceof IsoException && (e.sw & 0xfff0) === 0x63c0) memory.setPinTriesLeft(before);
        throw e;
      }
    }
    case 'wrong-balance-sw':
      try {
        return run();
      } catch (e) {
        if (e instanceof IsoException && e.sw === SW.INSUFFICIENT_BALANCE) throw new IsoException(SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'wrong-balance-sw fault');
        throw e;
      }
    case 'unstable-proof':
    case 'wrong-tac': {
      const out = run();
      if (command.id !== (fault === 'unstable-proof' ? 'getTransactionProve' : 'creditForLoad') || out.length === 0) return out;
      const changed = out.slice();
      changed[0] ^= fault === 'unstable-proof' ? random(1)[0] | 1 : 0x01;
      return changed;
    }
    default:
      return run();
  }
}
