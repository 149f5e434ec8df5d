/**
 * @module The D-RMB applet's persistent records on top of the journalled store: lifecycle state,
 * keys, PIN, risk parameters, coins, counter, cyclic log, stored proofs and receipts. Each accessor
 * names the store key it uses, so that tearing tests can reason about writes. validate() checks every
 * record of a loaded card image against what these accessors write.
 */
import { coinCoder, type Coin, COIN_LENGTH, COIN_VERSION, type LogRecord, logRecordCoder, LOG_RECORD_LENGTH, TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { APP_STATES, type AppState, appStateFromByte } from '../applet-spec/lifecycle.js';
import { pinBlockFormat2, u32 } from '../applet-spec/codec/fields.js';
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { dgiByNumber, DGIS, type DgiName, stageDgis } from '../applet-spec/dgis.js';
import { creditForLoad } from '../applet-spec/commands/credit-for-load.js';
import { debitForPurchase } from '../applet-spec/commands/debit-for-purchase.js';
import { exportCoins } from '../applet-spec/commands/export-coins.js';
import { importCoins } from '../applet-spec/commands/import-coins.js';
import { RECEIVE_NONCE_SLOTS } from '../applet-spec/commands/initialize-for-receive.js';
import { CardImageError } from './card-image-error.js';
import type { PersistentStore } from './persistent-store.js';

/** Records kept in the cyclic log (PBOC cards keep 10; D-RMB keeps more for offline reconciliation). */
export const LOG_CAPACITY = 20;
/** Transactions whose full response GET TRANSACTION PROVE can still return. */
export const PROOF_RETENTION = 16;
/** Consecutive failed SCP03 authentications after which INITIALIZE UPDATE answers 6983. */
export const MAX_AUTH_FAILURES = 10;

/** Risk parameters in force (central-bank defaults narrowed by the tier caps and PUT DATA). */
export interface RiskParameters {
  singleLimitFen: number;
  balanceCapFen: number;
  offlineCountLimit: number;
  offlineAmountLimitFen: number;
  pinThresholdFen: number;
  maxCoins: number;
}

/** Store key of a stored DGI (clear value): `dgi/` and the DGI number in four hex digits. */
export function dgiRecordKey(dgi: number): string {
  return `dgi/${dgi.toString(16).padStart(4, '0')}`;
}

const readU32 = (b: Uint8Array, off = 0): number => ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
const hexKey = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---- record rules for validate(): what each accessor below writes, checked strictly --------------

const exactly = (n: number) => (v: Uint8Array) => {
  if (v.length !== n) throw new Error(`${v.length} bytes, expected ${n}`);
};
const decodes = (c: { decode(b: Uint8Array, what?: string): unknown }, what?: string) => (v: Uint8Array) => void c.decode(v, what);

/** Concatenated fixed-size items: a whole number of them, at most `max`. */
function items(v: Uint8Array, size: number, max: number, name: string): Uint8Array[] {
  if (v.length % size !== 0) throw new Error(`${v.length} bytes is not a whole number of ${size}-byte ${name}s`);
  if (v.length / size > max) throw new Error(`${v.length / size} ${name}s, at most ${max}`);
  return Array.from({ length: v.length / size }, (_, i) => v.subarray(i * size, (i + 1) * size));
}

/** Coins as setCoins writes them: each a strict coin of the current version with a value, no serial twice. */
function checkCoins(v: Uint8Array): void {
  const all = items(v, COIN_LENGTH, Infinity, 'coin');
  const serials = new Set<string>();
  all.forEach((bytes, i) => {
    const what = `coin ${i + 1} of ${all.length}`;
    const c = coinCoder.decode(bytes, what);
    if (c.body.version !== COIN_VERSION) throw new Error(`${what}: version ${c.body.version}, expected ${COIN_VERSION}`);
    if (c.body.denominationFen <= 0) throw new Error(`${what}: denomination 0`);
    const serial = hexKey(c.body.serial);
    if (serials.has(serial)) throw new Error(`${what}: the same serial as an earlier coin (one coin held twice)`);
    serials.add(serial);
  });
}

/** The log as appendLog writes it: whole records, newest first, counters descending. */
function checkLog(v: Uint8Array): void {
  const counters = items(v, LOG_RECORD_LENGTH, LOG_CAPACITY, 'log record').map((b, i) => logRecordCoder.decode(b, `log record ${i + 1}`).counter);
  counters.forEach((c, i) => {
    if (i > 0 && c >= counters[i - 1]) throw new Error(`log record ${i + 1}: counter ${c} not below the newer record's ${counters[i - 1]}`);
  });
}

/** Commands whose response putProof keeps, by transaction type (GET TRANSACTION PROVE answers it byte for byte). */
const PROOF_RESPONSES = new Map<number, { decodeResponse(data: Uint8Array): unknown }>([
  [TRANSACTION_TYPES.LOAD, creditForLoad],
  [TRANSACTION_TYPES.PURCHASE, debitForPurchase],
  [TRANSACTION_TYPES.TRANSFER, exportCoins],
  [TRANSACTION_TYPES.RECEIVE, importCoins],
]);

/** Receive nonces: 8 bytes each (the packet header's payee nonce), at most RECEIVE_NONCE_SLOTS. */
const RECEIVE_NONCE_LENGTH = 8;

/** Records with a fixed key. */
const FIXED_RECORDS: Record<string, (v: Uint8Array) => void> = {
  state: (v) => {
    exactly(1)(v);
    if (!appStateFromByte(v[0])) throw new Error(`${v[0].toString(16).padStart(2, '0')} is not a lifecycle state`);
  },
  'card/id': decodes(cardIdCoder, 'card ID'),
  'scp/failures': exactly(1),
  'pin/ref': decodes(pinBlockFormat2, 'reference PIN'),
  'pin/limit': exactly(1),
  'pin/tries': exactly(1),
  'purse/counter': exactly(4),
  'purse/coins': checkCoins,
  // six u32 values, as setRisk writes them
  'purse/risk': exactly(24),
  // count and amount, two u32 values, as setOfflineUse writes them
  'purse/offline': exactly(8),
  // an SM3 hash
  'purse/last-export': exactly(32),
  'receive/nonces': (v) => void items(v, RECEIVE_NONCE_LENGTH, RECEIVE_NONCE_SLOTS, 'nonce'),
  log: checkLog,
};

/** Records whose key carries a number: key versions, DGIs, proofs, receipts. */
const KEYED_RECORDS: [RegExp, (m: RegExpMatchArray, v: Uint8Array) => void][] = [
  [
    /^scp\/([0-9a-f]{1,2})$/,
    ([key, kvn], v) => {
      // GP 2.3 11.1.8: key versions 01..7F; ENC || MAC || DEK as putScpKeys writes them
      const n = parseInt(kvn, 16);
      if (n < 0x01 || n > 0x7f || key !== `scp/${n.toString(16)}`) throw new Error('not a key version');
      exactly(48)(v);
    },
  ],
  [
    /^dgi\/([0-9a-f]{4})$/,
    ([, dgi], v) => {
      const def = dgiByNumber(parseInt(dgi, 16));
      if (!def || def.dgi === DGIS.completion.dgi) throw new Error('not a DGI the card stores');
      def.coder.decode(v, def.name);
    },
  ],
  [
    /^proof\/([0-9a-f]{2})\/(\d{10})$/,
    ([, type, counter], v) => {
      const response = PROOF_RESPONSES.get(parseInt(type, 16));
      if (!response || Number(counter) > 0xffffffff) throw new Error('not a transaction type and counter of a proof');
      response.decodeResponse(v);
    },
  ],
  [
    /^receipt\/([0-9a-f]{64})$/,
    ([, packetHash], v) => {
      if (hexKey(importCoins.decodeResponse(v).receipt.body.packetHash) !== packetHash) throw new Error('the receipt is for another packet');
    },
  ],
];

/** The check of the record under `key`, or undefined for a key no accessor writes. */
function recordCheck(key: string): ((v: Uint8Array) => void) | undefined {
  if (Object.hasOwn(FIXED_RECORDS, key)) return FIXED_RECORDS[key];
  for (const [re, check] of KEYED_RECORDS) {
    const m = key.match(re);
    if (m) return (v) => check(m, v);
  }
  return undefined;
}

/** Typed access to the applet's records. */
export class CardMemory {
  constructor(readonly store: PersistentStore) {}

  /**
   * Checks the records of a loaded card image: each key is one this class writes, each value decodes
   * strictly as it is written, the records a lifecycle state needs are there, and the records agree
   * where value is at stake (coins only on a card in use, the balance the newest log record reports,
   * no proof or log record from a counter not yet reached). Throws CardImageError
   * "is damaged: record <key>: <why>" for the first failure; the reason never quotes key or PIN bytes.
   */
  validate(): void {
    const damaged = (key: string, why: string) => CardImageError.damaged(`record ${key}: ${why}`);
    const keys = this.store.keys();
    for (const key of keys) {
      const check = recordCheck(key);
      if (!check) throw damaged(key, 'not a record of this card');
      try {
        check(this.store.get(key)!);
      } catch (e) {
        throw damaged(key, (e as Error).message);
      }
    }

    const state = this.state;
    const stages: (1 | 2)[] = state === 'PREPARED' ? [1] : state === 'ISSUED' || state === 'LOCKED' ? [1, 2] : [];
    const needed = ['state', 'card/id', ...(stages.includes(1) ? ['purse/risk'] : []), ...(stages.includes(2) ? ['pin/ref', 'pin/limit', 'pin/tries'] : [])];
    for (const stage of stages) {
      for (const d of stageDgis(stage)) if (d.mandatory && d.dgi !== DGIS.completion.dgi) needed.push(dgiRecordKey(d.dgi));
    }
    for (const key of needed) if (!this.store.has(key)) throw damaged(key, `missing on a card in state ${state}`);

    const coins = this.coins;
    const balanceFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
    if (coins.length && state !== 'ISSUED' && state !== 'LOCKED') throw damaged('purse/coins', `${coins.length} coins on a card in state ${state}`);
    const newest = this.log[0];
    if ((newest?.balanceAfterFen ?? 0) !== balanceFen) {
      throw damaged('purse/coins', `the coins add up to ${balanceFen} fen, the newest log record says ${newest?.balanceAfterFen ?? 0} fen`);
    }
    const counter = this.counter;
    if (newest && newest.counter >= counter) throw damaged('log', `record of counter ${newest.counter}, the card is at ${counter}`);
    for (const key of keys.filter((k) => k.startsWith('proof/'))) {
      if (Number(key.slice(key.lastIndexOf('/') + 1)) >= counter) throw damaged(key, `proof of a counter the card (at ${counter}) has not reached`);
    }
    if (this.store.has('pin/tries') && this.pinTriesLeft > this.pinTryLimit) throw damaged('pin/tries', 'more tries left than the try limit');
  }

  // ---- lifecycle -------------------------------------------------------------------------

  get state(): AppState {
    const b = this.store.get('state');
    return (b && appStateFromByte(b[0])) || 'BLANK';
  }

  setState(s: AppState): void {
    this.store.put('state', Uint8Array.of(APP_STATES[s]));
  }

  /** Card ID written at manufacture (10 bytes BCD); the GP key diversification data. */
  get cardId(): Uint8Array {
    return this.store.get('card/id') ?? new Uint8Array(10);
  }

  // ---- keys --------------------------------------------------------------------------------

  /** SCP03 static key set of a key version: ENC || MAC || DEK (AES-128, 48 bytes). */
  scpKeys(kvn: number): { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array } | undefined {
    const b = this.store.get(`scp/${kvn.toString(16)}`);
    return b && { enc: b.slice(0, 16), mac: b.slice(16, 32), dek: b.slice(32, 48) };
  }

  putScpKeys(kvn: number, k: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }): void {
    const b = new Uint8Array(48);
    b.set(k.enc, 0);
    b.set(k.mac, 16);
    b.set(k.dek, 32);
    this.store.put(`scp/${kvn.toString(16)}`, b);
  }

  get authFailures(): number {
    return this.store.get('scp/failures')?.[0] ?? 0;
  }

  setAuthFailures(n: number): void {
    if (n !== this.authFailures) this.store.put('scp/failures', Uint8Array.of(Math.min(n, 255)));
  }

  /** The clear value of a DGI personalization stored, undefined before STORE DATA wrote it. */
  dgi(name: DgiName): Uint8Array | undefined {
    return this.store.get(dgiRecordKey(DGIS[name].dgi));
  }

  /** Stores the clear value of a DGI (STORE DATA, inside its transaction). */
  putDgi(name: DgiName, clear: Uint8Array): void {
    this.store.put(dgiRecordKey(DGIS[name].dgi), clear);
  }

  /** A stored record by its store key. */
  record(name: string): Uint8Array | undefined {
    return this.store.get(name);
  }

  putRecord(name: string, value: Uint8Array): void {
    this.store.put(name, value);
  }

  // ---- PIN ---------------------------------------------------------------------------------

  /** The reference PIN (ISO 9564 format 2 block, 8 bytes), undefined before issuance. */
  get pinReference(): Uint8Array | undefined {
    return this.store.get('pin/ref');
  }

  setPinReference(block: Uint8Array): void {
    this.store.put('pin/ref', block);
  }

  get pinTriesLeft(): number {
    return this.store.get('pin/tries')?.[0] ?? 0;
  }

  setPinTriesLeft(n: number): void {
    this.store.put('pin/tries', Uint8Array.of(n));
  }

  get pinTryLimit(): number {
    return this.store.get('pin/limit')?.[0] ?? 3;
  }

  setPinTryLimit(n: number): void {
    this.store.put('pin/limit', Uint8Array.of(n));
  }

  // ---- purse -------------------------------------------------------------------------------

  get counter(): number {
    const b = this.store.get('purse/counter');
    return b ? readU32(b) : 0;
  }

  setCounter(n: number): void {
    this.store.put('purse/counter', u32.encode(n));
  }

  get coins(): Coin[] {
    const b = this.store.get('purse/coins') ?? new Uint8Array(0);
    const out: Coin[] = [];
    for (let off = 0; off < b.length; off += COIN_LENGTH) out.push(coinCoder.decode(b.subarray(off, off + COIN_LENGTH)));
    return out;
  }

  /** The coins exactly as stored (concatenated 110-byte records). */
  get coinBytes(): Uint8Array {
    return this.store.get('purse/coins') ?? new Uint8Array(0);
  }

  setCoins(coins: Coin[]): void {
    const b = new Uint8Array(coins.length * COIN_LENGTH);
    coins.forEach((c, i) => b.set(coinCoder.encode(c), i * COIN_LENGTH));
    this.store.put('purse/coins', b);
  }

  get balanceFen(): number {
    return this.coins.reduce((s, c) => s + c.body.denominationFen, 0);
  }

  /** Risk parameters are stored (from card prep on). */
  get hasRisk(): boolean {
    return this.store.has('purse/risk');
  }

  get risk(): RiskParameters {
    const b = this.store.get('purse/risk');
    if (!b) return { singleLimitFen: 0, balanceCapFen: 0, offlineCountLimit: 0, offlineAmountLimitFen: 0, pinThresholdFen: 0, maxCoins: 0 };
    return {
      singleLimitFen: readU32(b, 0),
      balanceCapFen: readU32(b, 4),
      offlineCountLimit: readU32(b, 8),
      offlineAmountLimitFen: readU32(b, 12),
      pinThresholdFen: readU32(b, 16),
      maxCoins: readU32(b, 20),
    };
  }

  setRisk(r: RiskParameters): void {
    const b = new Uint8Array(24);
    [r.singleLimitFen, r.balanceCapFen, r.offlineCountLimit, r.offlineAmountLimitFen, r.pinThresholdFen, r.maxCoins].forEach((v, i) =>
      b.set(u32.encode(v), i * 4),
    );
    this.store.put('purse/risk', b);
  }

  /** Offline payments since the last online transaction (a load): count and amount. */
  get offlineUse(): { count: number; amountFen: number } {
    const b = this.store.get('purse/offline');
    return b ? { count: readU32(b, 0), amountFen: readU32(b, 4) } : { count: 0, amountFen: 0 };
  }

  setOfflineUse(u: { count: number; amountFen: number }): void {
    const b = new Uint8Array(8);
    b.set(u32.encode(u.count), 0);
    b.set(u32.encode(u.amountFen), 4);
    this.store.put('purse/offline', b);
  }

  /** SM3 of the previous export packet (hash chain of the export header), zeros before the first. */
  get lastExportHash(): Uint8Array {
    return this.store.get('purse/last-export') ?? new Uint8Array(32);
  }

  setLastExportHash(h: Uint8Array): void {
    this.store.put('purse/last-export', h);
  }

  // ---- receive nonces --------------------------------------------------------------------------

  /** Outstanding receive nonces (8 bytes each), newest first: a packet carrying one of them may be imported. */
  get receiveNonces(): Uint8Array[] {
    const b = this.store.get('receive/nonces') ?? new Uint8Array(0);
    const out: Uint8Array[] = [];
    for (let off = 0; off + 8 <= b.length; off += 8) out.push(b.slice(off, off + 8));
    return out;
  }

  /** Replaces the outstanding receive nonces (one write), keeping at most `slots`, newest first. */
  setReceiveNonces(nonces: readonly Uint8Array[], slots: number): void {
    const keep = nonces.slice(0, slots);
    const b = new Uint8Array(keep.length * 8);
    keep.forEach((n, i) => b.set(n, i * 8));
    this.store.put('receive/nonces', b);
  }

  // ---- log and proofs -------------------------------------------------------------------------

  /** Log records, most recent first. */
  get log(): LogRecord[] {
    const b = this.store.get('log') ?? new Uint8Array(0);
    const out: LogRecord[] = [];
    for (let off = 0; off < b.length; off += LOG_RECORD_LENGTH) out.push(logRecordCoder.decode(b.subarray(off, off + LOG_RECORD_LENGTH)));
    return out;
  }

  /** Prepends a record, dropping the oldest beyond LOG_CAPACITY (one write). */
  appendLog(r: LogRecord): void {
    const old = this.store.get('log') ?? new Uint8Array(0);
    const keep = old.subarray(0, (LOG_CAPACITY - 1) * LOG_RECORD_LENGTH);
    const b = new Uint8Array(LOG_RECORD_LENGTH + keep.length);
    b.set(logRecordCoder.encode(r));
    b.set(keep, LOG_RECORD_LENGTH);
    this.store.put('log', b);
  }

  private proofKey(type: number, counter: number): string {
    return `proof/${type.toString(16).padStart(2, '0')}/${counter.toString().padStart(10, '0')}`;
  }

  proof(type: number, counter: number): Uint8Array | undefined {
    return this.store.get(this.proofKey(type, counter));
  }

  /** Stores a committed response and forgets proofs older than PROOF_RETENTION transactions. */
  putProof(type: number, counter: number, response: Uint8Array): void {
    this.store.put(this.proofKey(type, counter), response);
    for (const key of this.store.keys('proof/')) {
      const c = Number(key.slice(key.lastIndexOf('/') + 1));
      if (c + PROOF_RETENTION <= counter) this.store.delete(key);
    }
  }

  receipt(packetHash: Uint8Array): Uint8Array | undefined {
    return this.store.get(`receipt/${hexKey(packetHash)}`);
  }

  putReceipt(packetHash: Uint8Array, receipt: Uint8Array): void {
    this.store.put(`receipt/${hexKey(packetHash)}`, receipt);
  }
}
