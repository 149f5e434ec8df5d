/**
 * @module The PSAM applet's persistent records on the journalled store: the records it shares with a
 * card's GP side (state, serial number, SCP03 key sets, failed authentications, kept by CardMemory under
 * the same keys) and its own: terminal number, purchase master key and terminal sequence number.
 * validate() checks every record of a loaded PSAM image.
 */
import { u32 } from '../applet-spec/codec/fields.js';
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { appStateFromByte, type AppState } from '../applet-spec/lifecycle.js';
import { CardImageError } from './card-image-error.js';
import { CardMemory } from './card-memory.js';
import type { PersistentStore } from './persistent-store.js';

/** Store keys of the PSAM's own records. */
const PSAM_RECORDS = {
  terminalNumber: 'psam/terminal-number',
  purchaseMaster: 'psam/purchase-master',
  sequence: 'psam/sequence',
} as const;

const exactly = (n: number) => (v: Uint8Array) => {
  if (v.length !== n) throw new Error(`${v.length} bytes, expected ${n}`);
};

/** Every record a PSAM image may hold, with the check of its value. */
const RECORD_CHECKS: [RegExp, (v: Uint8Array) => void][] = [
  [
    /^state$/,
    (v) => {
      exactly(1)(v);
      const s = appStateFromByte(v[0]);
      if (s !== 'BLANK' && s !== 'ISSUED') throw new Error(`${v[0].toString(16)} is not a PSAM state`);
    },
  ],
  [/^card\/id$/, (v) => void cardIdCoder.decode(v, 'PSAM serial number')],
  [/^scp\/30$/, exactly(48)],
  [/^scp\/failures$/, exactly(1)],
  [/^psam\/terminal-number$/, exactly(6)],
  [/^psam\/purchase-master$/, exactly(16)],
  [/^psam\/sequence$/, exactly(4)],
];

/** Typed access to the PSAM's records. */
export class PsamMemory {
  /** the records kept as a card keeps them (state, serial number, SCP03 keys), for the shared secure channel */
  readonly gp: CardMemory;

  constructor(readonly store: PersistentStore) {
    this.gp = new CardMemory(store);
  }

  /**
   * Checks a loaded PSAM image: every key is a PSAM record, every value has its length, and an ISSUED
   * PSAM has its terminal number and purchase master. Throws CardImageError "is damaged: record <key>:
   * <why>"; the reason never quotes key bytes.
   */
  validate(): void {
    const damaged = (key: string, why: string) => CardImageError.damaged(`record ${key}: ${why}`);
    for (const key of this.store.keys()) {
      const rule = RECORD_CHECKS.find(([re]) => re.test(key));
      if (!rule) throw damaged(key, 'not a record of a PSAM');
      try {
        rule[1](this.store.get(key)!);
      } catch (e) {
        throw damaged(key, (e as Error).message);
      }
    }
    const needed = ['state', 'card/id', 'scp/30', PSAM_RECORDS.sequence, ...(this.state === 'ISSUED' ? [PSAM_RECORDS.terminalNumber, PSAM_RECORDS.purchaseMaster] : [])];
    for (const key of needed) if (!this.store.has(key)) throw damaged(key, `missing on a PSAM in state ${this.state}`);
  }

  get state(): AppState {
    return this.gp.state;
  }

  /** The terminal number (file SFI 16), undefined before personalization. */
  get terminalNumber(): Uint8Array | undefined {
    return this.store.get(PSAM_RECORDS.terminalNumber);
  }

  setTerminalNumber(v: Uint8Array): void {
    this.store.put(PSAM_RECORDS.terminalNumber, v);
  }

  /** The purchase master key. Security: secret; no command returns it. */
  get purchaseMaster(): Uint8Array | undefined {
    return this.store.get(PSAM_RECORDS.purchaseMaster);
  }

  setPurchaseMaster(v: Uint8Array): void {
    this.store.put(PSAM_RECORDS.purchaseMaster, v);
  }

  /** The terminal transaction sequence number last taken (0 before the first). */
  get sequence(): number {
    const b = this.store.get(PSAM_RECORDS.sequence);
    return b ? u32.decode(b) : 0;
  }

  setSequence(n: number): void {
    this.store.put(PSAM_RECORDS.sequence, u32.encode(n));
  }
}
