/** @module Tests for the application lifecycle: state bytes (GP 2.3 11.1.1 style coding) and allowed transitions. */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands.js';
import { APP_STATE_NAMES, APP_STATES, type AppState, appStateFromByte, isTransition, TRANSITIONS } from './lifecycle.js';

describe('state bytes', () => {
  it('gives every state its own byte', () => {
    const bytes = Object.values(APP_STATES);
    expect(new Set(bytes).size).toBe(bytes.length);
  });

  it('codes BLANK 07, PREPARED 0F, ISSUED 1F, TERMINATED FF as card-commands.md lists', () => {
    expect(APP_STATES).toMatchObject({ BLANK: 0x07, PREPARED: 0x0f, ISSUED: 0x1f, TERMINATED: 0xff });
  });

  it('codes LOCKED as ISSUED with b8 set', () => {
    expect(APP_STATES.LOCKED).toBe(APP_STATES.ISSUED | 0x80);
  });

  it('adds bits as personalization progresses (each state keeps the bits of the one before)', () => {
    expect(APP_STATES.PREPARED & APP_STATES.BLANK).toBe(APP_STATES.BLANK);
    expect(APP_STATES.ISSUED & APP_STATES.PREPARED).toBe(APP_STATES.PREPARED);
    expect(APP_STATES.ISSUED).toBeGreaterThan(APP_STATES.PREPARED);
    expect(APP_STATES.PREPARED).toBeGreaterThan(APP_STATES.BLANK);
  });

  it('lists every state name', () => {
    expect([...APP_STATE_NAMES].sort()).toEqual(['BLANK', 'ISSUED', 'LOCKED', 'PREPARED', 'TERMINATED']);
  });
});

describe('appStateFromByte', () => {
  it.each(APP_STATE_NAMES.map((s) => [s, APP_STATES[s]] as const))('decodes the byte of %s back to it', (s, byte) => {
    expect(appStateFromByte(byte)).toBe(s);
  });

  it('returns undefined for every byte that is not a state', () => {
    const known = new Set<number>(Object.values(APP_STATES));
    for (let byte = 0; byte < 256; byte++) {
      if (!known.has(byte)) expect(appStateFromByte(byte), `byte ${byte}`).toBeUndefined();
    }
    expect(appStateFromByte(0x8f)).toBeUndefined(); // PREPARED with b8 set: only ISSUED can be locked
    expect(appStateFromByte(0x107)).toBeUndefined();
    expect(appStateFromByte(-1)).toBeUndefined();
  });
});

describe('transitions', () => {
  it.each([
    ['BLANK', 'PREPARED'],
    ['PREPARED', 'ISSUED'],
    ['ISSUED', 'LOCKED'],
    ['LOCKED', 'ISSUED'],
    ['BLANK', 'TERMINATED'],
    ['PREPARED', 'TERMINATED'],
    ['ISSUED', 'TERMINATED'],
    ['LOCKED', 'TERMINATED'],
  ] as const)('allows %s -> %s', (from, to) => {
    expect(isTransition(from, to)).toBe(true);
  });

  it.each([
    ['ISSUED', 'BLANK'],
    ['ISSUED', 'PREPARED'],
    ['PREPARED', 'BLANK'],
    ['BLANK', 'ISSUED'],
    ['BLANK', 'LOCKED'],
    ['PREPARED', 'LOCKED'],
    ['LOCKED', 'PREPARED'],
    ['LOCKED', 'BLANK'],
  ] as const)('forbids %s -> %s', (from, to) => {
    expect(isTransition(from, to)).toBe(false);
  });

  it('lets nothing leave TERMINATED', () => {
    for (const to of APP_STATE_NAMES) expect(isTransition('TERMINATED', to), `TERMINATED -> ${to}`).toBe(false);
    expect(TRANSITIONS.filter((t) => t.from === 'TERMINATED')).toEqual([]);
  });

  it('has no transition from a state to itself', () => {
    for (const s of APP_STATE_NAMES) expect(isTransition(s, s), s).toBe(false);
  });

  it('lists each transition once', () => {
    const pairs = TRANSITIONS.map((t) => `${t.from}->${t.to}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('lets every live state be terminated and reaches every state from BLANK', () => {
    for (const s of APP_STATE_NAMES) if (s !== 'TERMINATED') expect(isTransition(s, 'TERMINATED'), s).toBe(true);
    const reached = new Set<AppState>(['BLANK']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const t of TRANSITIONS) {
        if (reached.has(t.from) && !reached.has(t.to)) {
          reached.add(t.to);
          grew = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...APP_STATE_NAMES].sort());
  });

  it('names a defined command for every transition', () => {
    const names = COMMANDS.map((c) => c.name as string);
    for (const t of TRANSITIONS) expect(names, `${t.from} -> ${t.to}`).toContain(t.by);
  });

  it('personalizes only with STORE DATA and locks only by issuer script', () => {
    expect(TRANSITIONS.find((t) => t.from === 'BLANK' && t.to === 'PREPARED')?.by).toBe('STORE DATA');
    expect(TRANSITIONS.find((t) => t.from === 'PREPARED' && t.to === 'ISSUED')?.by).toBe('STORE DATA');
    expect(TRANSITIONS.find((t) => t.from === 'ISSUED' && t.to === 'LOCKED')?.by).toBe('APPLICATION BLOCK');
    expect(TRANSITIONS.find((t) => t.from === 'LOCKED' && t.to === 'ISSUED')?.by).toBe('APPLICATION UNBLOCK');
  });
});
