/**
 * @module Application lifecycle of the D-RMB applet: states, their byte values (GP 2.3 11.1.1 style
 * application life cycle coding) and every allowed transition with the command that causes it.
 */

/** Application states (card-commands.md "Application states"). */
export const APP_STATES = {
  /** installed and selectable, no personalization data */
  BLANK: 0x07,
  /** central-bank card prep completed (DGI 7FFF of stage 1) */
  PREPARED: 0x0f,
  /** commercial-bank issuance completed (DGI 7FFF of stage 2); the card is in use */
  ISSUED: 0x1f,
  /** application blocked: ISSUED with b8 set (GP 11.1.1: b8 marks an application-specific lock) */
  LOCKED: 0x9f,
  /** irreversible end of life */
  TERMINATED: 0xff,
} as const;

/** A lifecycle state of the D-RMB application, from BLANK through PREPARED, ISSUED and LOCKED to TERMINATED. */
export type AppState = keyof typeof APP_STATES;

/** Every lifecycle state, in the order of APP_STATES. */
export const APP_STATE_NAMES = Object.keys(APP_STATES) as AppState[];

/** Decodes the state byte (as returned in DF02); undefined for a value that is not a state. */
export function appStateFromByte(b: number): AppState | undefined {
  return APP_STATE_NAMES.find((s) => APP_STATES[s] === b);
}

export interface Transition {
  from: AppState;
  to: AppState;
  /** the command (by spec name) that performs it */
  by: string;
  when: string;
}

/** Every lifecycle transition. Commands name the transitions they perform; a test checks each exists here. */
export const TRANSITIONS: readonly Transition[] = [
  { from: 'BLANK', to: 'PREPARED', by: 'STORE DATA', when: 'stage-1 completion DGI 7FFF received with every mandatory central-bank DGI present' },
  { from: 'PREPARED', to: 'ISSUED', by: 'STORE DATA', when: 'stage-2 completion DGI 7FFF received with every mandatory issuance DGI present' },
  { from: 'ISSUED', to: 'LOCKED', by: 'APPLICATION BLOCK', when: 'issuer script with a valid line MAC' },
  { from: 'LOCKED', to: 'ISSUED', by: 'APPLICATION UNBLOCK', when: 'issuer script with a valid line MAC' },
  { from: 'BLANK', to: 'TERMINATED', by: 'SET STATUS', when: 'secure channel open' },
  { from: 'PREPARED', to: 'TERMINATED', by: 'SET STATUS', when: 'secure channel open' },
  { from: 'ISSUED', to: 'TERMINATED', by: 'SET STATUS', when: 'secure channel open and no coins left on the card' },
  { from: 'LOCKED', to: 'TERMINATED', by: 'SET STATUS', when: 'secure channel open and no coins left on the card' },
];

/** True when the lifecycle allows from -> to. */
export function isTransition(from: AppState, to: AppState): boolean {
  return TRANSITIONS.some((t) => t.from === from && t.to === to);
}
