/**
 * @module The D-RMB applet's persistent records on top of the journalled store: lifecycle state,
 * keys, PIN, risk parameters, coins, counter, cyclic log, stored proofs and receipts. Each accessor
 * names the store key it uses, so that tearing tests can reason about writes.
 */
import { coinCoder, type Coin, COIN_LENGTH, type LogRecord, logRecordCoder, LOG_RECORD_LENGTH } from '../applet-spec/value-formats.js';
import { APP_STATES, type AppState, appStateFromByte } from '../applet-spec/lifecycle.js';
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

const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const readU32 = (b: Uint8Array, off = 0): number => ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
const hexKey = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Typed access to the applet's records. */
export class CardMemory {
  constructor(readonly store: PersistentStore) {}

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

  /** A stored DGI value (clear) or key record. */
  record(name: string): Uint8Array | undefined {
    return this.store.get(name);
  }

  putRecord(name: string, value: Uint8Array): void {
    this.store.put(name, value);
  }

  // ---- PIN ---------------------------------------------------------------------------------

  get pinTriesLeft(): number {
    return this.store.get('pin/tries')?.[0] ?? 0;
  }

  setPinTriesLeft(n: number): void {
    this.store.put('pin/tries', Uint8Array.of(n));
  }

  get pinTryLimit(): number {
    return this.store.get('pin/limit')?.[0] ?? 3;
  }

  // ---- purse -------------------------------------------------------------------------------

  get counter(): number {
    const b = this.store.get('purse/counter');
    return b ? readU32(b) : 0;
  }

  setCounter(n: number): void {
    this.store.put('purse/counter', u32(n));
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
      b.set(u32(v), i * 4),
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
    b.set(u32(u.count), 0);
    b.set(u32(u.amountFen), 4);
    this.store.put('purse/offline', b);
  }

  /** SM3 of the previous export packet (hash chain of the export header), zeros before the first. */
  get lastExportHash(): Uint8Array {
    return this.store.get('purse/last-export') ?? new Uint8Array(32);
  }

  setLastExportHash(h: Uint8Array): void {
    this.store.put('purse/last-export', h);
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
