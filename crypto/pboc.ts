/**
 * @module PBOC e-purse value-transfer cryptography (JR/T 0025.2 electronic deposit/purse application,
 * load and purchase processes) adapted to SM4: process (session) keys, MAC1/MAC2/TAC, and the byte
 * layouts those MACs cover.
 *
 * SM4 adaptation, where it departs from the DES/3DES original:
 * - Process key: the DES original encrypts an 8-byte block under a double-length DES key. With SM4
 *   the block is 16 bytes, so the same input (card random || counter || trailer) is extended to
 *   16 bytes with ISO/IEC 9797-1 padding method 2 (0x80 then zeros) when shorter, then encrypted
 *   under the 16-byte SM4 application key. The process key is the whole 16-byte result.
 * - MAC: ISO/IEC 9797-1 MAC algorithm 1 with SM4 (16-byte blocks, IV zero, padding method 2),
 *   leftmost 4 bytes, where the original uses single DES CBC-MAC over 8-byte blocks.
 * - TAC key: the DES original derives a single-length key as left half XOR right half of the
 *   double-length DTK; with SM4 the 16-byte TAC key is used directly.
 * Field layouts (what each MAC covers) are the PBOC ones unchanged.
 */
import { FormatError } from '../base/format-error.js';
import { SM4_BLOCK_BYTES, SM4_KEY_BYTES, sm4EncryptBlock, sm4KeySchedule } from './sm4.js';
import { sm4Mac, verifySm4Mac } from './sm4-mac.js';

/** Length of MAC1, MAC2 and TAC (JR/T 0025.2: the leftmost 4 bytes of the MAC computation). */
export const PBOC_MAC_BYTES = 4;

/** JR/T 0025.2 load process, session key: the trailer of the load process-key input ('8000'). */
export const PBOC_LOAD_KEY_TRAILER: Uint8Array = Uint8Array.of(0x80, 0x00);

/**
 * JR/T 0025.2 transaction type identifiers used in the MAC and TAC data. The applet specification
 * owns the values the D-RMB card actually uses; these are the PBOC ones it starts from.
 */
export const PBOC_TRANSACTION_TYPE = Object.freeze({
  /** electronic deposit (ED) load */
  edLoad: 0x01,
  /** electronic purse (EP) load */
  epLoad: 0x02,
  /** electronic deposit purchase */
  edPurchase: 0x05,
  /** electronic purse purchase */
  epPurchase: 0x06,
  /** composite application (CAPP) purchase */
  cappPurchase: 0x09,
});

function checkBytes(what: string, value: Uint8Array, length: number): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (value.length !== length) throw new RangeError(`${what} must be ${length} bytes, got ${value.length}`);
}

/**
 * JR/T 0025.2 load process / purchase process, session key (SM4 adaptation): the process key is
 * SM4_cardKey(cardRandom || counter || trailer, padded with 0x80 00.. to 16 bytes if shorter).
 * - load: `cardKey` = load key DLK, `counter` = online transaction counter (2 bytes in PBOC),
 *   `trailer` = 80 00 (`PBOC_LOAD_KEY_TRAILER`);
 * - purchase: `cardKey` = purchase key DPK, `counter` = offline transaction counter (2 bytes in PBOC),
 *   `trailer` = the rightmost 2 bytes of the terminal transaction sequence number.
 * Field widths are the caller's (the applet specification's) choice; the input may be at most 16
 * bytes. Security: the card random must be fresh per transaction so each process key is used once;
 * the caller wipes the returned key (and its copy of `cardKey`) when the transaction ends.
 */
export function pbocSessionKey(cardKey: Uint8Array, cardRandom: Uint8Array, counter: Uint8Array, trailer: Uint8Array): Uint8Array {
  checkBytes('PBOC card key', cardKey, SM4_KEY_BYTES);
  checkBytes('PBOC card random', cardRandom, 4);
  if (!(counter instanceof Uint8Array) || !(trailer instanceof Uint8Array)) {
    throw new TypeError('PBOC session key: counter and trailer must be Uint8Arrays');
  }
  const inputLength = cardRandom.length + counter.length + trailer.length;
  if (inputLength > SM4_BLOCK_BYTES) {
    throw new RangeError(`PBOC session key input must be at most ${SM4_BLOCK_BYTES} bytes, got ${inputLength}`);
  }
  const block = new Uint8Array(SM4_BLOCK_BYTES);
  block.set(cardRandom, 0);
  block.set(counter, cardRandom.length);
  block.set(trailer, cardRandom.length + counter.length);
  // SM4 adaptation: ISO/IEC 9797-1 padding method 2 only when the input is shorter than a block.
  if (inputLength < SM4_BLOCK_BYTES) block[inputLength] = 0x80;
  const rk = sm4KeySchedule(cardKey);
  try {
    return sm4EncryptBlock(rk, block);
  } finally {
    rk.fill(0);
  }
}

/** JR/T 0025.2 load process, session key: `pbocSessionKey(dlk, cardRandom, onlineCounter, 80 00)`. */
export function pbocLoadSessionKey(dlk: Uint8Array, cardRandom: Uint8Array, onlineCounter: Uint8Array): Uint8Array {
  return pbocSessionKey(dlk, cardRandom, onlineCounter, PBOC_LOAD_KEY_TRAILER);
}

/**
 * JR/T 0025.2 purchase process, session key: `pbocSessionKey(dpk, cardRandom, offlineCounter,
 * rightmost 2 bytes of terminalSequence)`; `terminalSequence` is the 4-byte terminal transaction
 * sequence number sent in DEBIT FOR PURCHASE.
 */
export function pbocPurchaseSessionKey(
  dpk: Uint8Array,
  cardRandom: Uint8Array,
  offlineCounter: Uint8Array,
  terminalSequence: Uint8Array,
): Uint8Array {
  checkBytes('PBOC terminal transaction sequence number', terminalSequence, 4);
  return pbocSessionKey(dpk, cardRandom, offlineCounter, terminalSequence.subarray(2, 4));
}

/**
 * JR/T 0025.2 MAC1 / MAC2 (SM4 adaptation): ISO/IEC 9797-1 MAC algorithm 1 with SM4 under the
 * process key, IV zero, padding method 2, leftmost 4 bytes. `data` is one of the `*Data` layouts below.
 * Security: a 4-byte MAC is guessed with probability 2^-32 per try; the card must count failures
 * and block the key or application, as PBOC requires.
 */
export function pbocMac(sessionKey: Uint8Array, data: Uint8Array): Uint8Array {
  return sm4Mac(sessionKey, data, { length: PBOC_MAC_BYTES });
}

/** Constant-time check of a received 4-byte MAC1/MAC2 (false on mismatch or wrong length). */
export function verifyPbocMac(sessionKey: Uint8Array, data: Uint8Array, mac: Uint8Array): boolean {
  if (!(mac instanceof Uint8Array) || mac.length !== PBOC_MAC_BYTES) return false;
  return verifySm4Mac(sessionKey, data, mac);
}

/**
 * JR/T 0025.2 TAC (SM4 adaptation): the same MAC computation under the card's TAC key DTK, used
 * directly as the 16-byte SM4 key (the DES original XORs the key's left and right halves instead).
 * The TAC is checked by the issuer or acquirer host that holds DTK, not by the terminal.
 */
export function pbocTac(tacKey: Uint8Array, data: Uint8Array): Uint8Array {
  return sm4Mac(tacKey, data, { length: PBOC_MAC_BYTES });
}

/** Constant-time check of a received 4-byte TAC (false on mismatch or wrong length). */
export function verifyPbocTac(tacKey: Uint8Array, data: Uint8Array, tac: Uint8Array): boolean {
  if (!(tac instanceof Uint8Array) || tac.length !== PBOC_MAC_BYTES) return false;
  return verifySm4Mac(tacKey, data, tac);
}

// ---------------------------------------------------------------------------------------------
// MACed data layouts. Each layout is a table of fields, written once: the builder encodes from it
// and `PBOC_MAC_LAYOUTS` exposes it (with computed offsets) for generated documentation and tests.

/** Encoding of one field in a MACed data layout. */
type FieldKind =
  /** unsigned big-endian integer from a number, or the same number of raw bytes */
  | 'uint'
  /** raw bytes of exactly the field length */
  | 'bytes'
  /** BCD digits: a digit string of twice the field length, or already-packed BCD bytes */
  | 'bcd';

interface FieldDef {
  readonly field: string;
  readonly bytes: number;
  readonly kind: FieldKind;
  readonly description: string;
}

/** One row of a published layout: field name, offset and size in bytes, meaning. */
export interface PbocLayoutRow {
  readonly field: string;
  readonly offset: number;
  readonly bytes: number;
  readonly description: string;
}

const f = (field: string, bytes: number, kind: FieldKind, description: string): FieldDef => ({ field, bytes, kind, description });

const BALANCE = (field: string, description: string) => f(field, 4, 'uint', description);
const AMOUNT = f('amountFen', 4, 'uint', 'transaction amount, fen, u32 big-endian');
const TYPE = f('transactionType', 1, 'uint', 'transaction type identifier (PBOC_TRANSACTION_TYPE)');
const TERMINAL = f('terminalId', 6, 'bytes', 'terminal ID');
const DATE = f('date', 4, 'bcd', 'transaction date YYYYMMDD, n8 BCD');
const TIME = f('time', 3, 'bcd', 'transaction time hhmmss, n6 BCD');

const LAYOUTS = {
  // JR/T 0025.2 load process, MAC1 (computed by the card, checked by the host).
  loadMac1: [BALANCE('balanceFen', 'balance before the load, fen, u32 big-endian'), AMOUNT, TYPE, TERMINAL],
  // JR/T 0025.2 load process, MAC2 (computed by the host, checked by the card); date and time from the host.
  loadMac2: [AMOUNT, TYPE, TERMINAL, DATE, TIME],
  // JR/T 0025.2 load process, TAC: the counter before it is incremented. D-RMB departs: its single
  // transaction counter has 4 bytes (JR/T 0025.2 has a 2-byte online counter here).
  loadTac: [
    BALANCE('newBalanceFen', 'balance after the load, fen, u32 big-endian'),
    f('counter', 4, 'uint', 'transaction counter before increment, u32 big-endian (D-RMB; JR/T 0025.2: u16)'),
    AMOUNT,
    TYPE,
    TERMINAL,
    DATE,
    TIME,
  ],
  // JR/T 0025.2 purchase process, MAC1 (computed by the terminal/PSAM, checked by the card).
  purchaseMac1: [AMOUNT, TYPE, TERMINAL, DATE, TIME],
  // JR/T 0025.2 purchase process, MAC2 (computed by the card, checked by the terminal/PSAM).
  purchaseMac2: [AMOUNT],
  // JR/T 0025.2 purchase process, TAC.
  purchaseTac: [AMOUNT, TYPE, TERMINAL, f('terminalSequence', 4, 'uint', 'terminal transaction sequence number'), DATE, TIME],
} satisfies Record<string, FieldDef[]>;

/** Name of a MACed data layout. */
export type PbocLayoutName = keyof typeof LAYOUTS;

/** Every MACed data layout as rows with offsets, e.g. `PBOC_MAC_LAYOUTS.loadMac1`. */
export const PBOC_MAC_LAYOUTS: Readonly<Record<PbocLayoutName, readonly PbocLayoutRow[]>> = Object.freeze(
  Object.fromEntries(
    Object.entries(LAYOUTS).map(([name, defs]) => {
      let offset = 0;
      const rows = defs.map((d) => {
        const row = Object.freeze({ field: d.field, offset, bytes: d.bytes, description: d.description });
        offset += d.bytes;
        return row;
      });
      return [name, Object.freeze(rows)];
    }),
  ) as Record<PbocLayoutName, readonly PbocLayoutRow[]>,
);

function encodeField(what: string, d: FieldDef, value: unknown, out: Uint8Array, offset: number): void {
  const where = `${what} ${d.field}`;
  if (value instanceof Uint8Array) {
    if (value.length !== d.bytes) throw new FormatError(where, `must be ${d.bytes} bytes, got ${value.length}`);
    if (d.kind === 'bcd') {
      for (const b of value) if (b >>> 4 > 9 || (b & 0x0f) > 9) throw new FormatError(where, 'not BCD');
    }
    out.set(value, offset);
    return;
  }
  if (d.kind === 'uint' && typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * d.bytes)) {
      throw new FormatError(where, `must be an integer from 0 to ${2 ** (8 * d.bytes) - 1}, got ${value}`);
    }
    for (let i = d.bytes - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[offset + i] = v % 256;
    return;
  }
  if (d.kind === 'bcd' && typeof value === 'string') {
    if (value.length !== 2 * d.bytes || !/^[0-9]+$/.test(value)) {
      throw new FormatError(where, `must be ${2 * d.bytes} decimal digits`);
    }
    for (let i = 0; i < d.bytes; i++) out[offset + i] = (Number(value[2 * i]) << 4) | Number(value[2 * i + 1]);
    return;
  }
  throw new FormatError(where, value === undefined ? 'missing' : `unsupported value of type ${typeof value}`);
}

function encodeLayout(name: PbocLayoutName, what: string, values: object): Uint8Array {
  const defs: FieldDef[] = LAYOUTS[name];
  const out = new Uint8Array(defs.reduce((n, d) => n + d.bytes, 0));
  let offset = 0;
  for (const d of defs) {
    encodeField(what, d, (values as Record<string, unknown>)[d.field], out, offset);
    offset += d.bytes;
  }
  return out;
}

/** Date as 4 bytes BCD (YYYYMMDD) or the 8-digit string; time as 3 bytes BCD (hhmmss) or the 6-digit string. */
export type BcdDate = Uint8Array | string;
export type BcdTime = Uint8Array | string;

export interface LoadMac1Fields {
  balanceFen: number;
  amountFen: number;
  transactionType: number;
  /** 6 bytes */
  terminalId: Uint8Array;
}

export interface LoadMac2Fields {
  amountFen: number;
  transactionType: number;
  terminalId: Uint8Array;
  date: BcdDate;
  time: BcdTime;
}

export interface LoadTacFields {
  newBalanceFen: number;
  /** transaction counter before the increment: a number (u32) or 4 bytes */
  counter: number | Uint8Array;
  amountFen: number;
  transactionType: number;
  terminalId: Uint8Array;
  date: BcdDate;
  time: BcdTime;
}

export interface PurchaseMac1Fields {
  amountFen: number;
  transactionType: number;
  terminalId: Uint8Array;
  date: BcdDate;
  time: BcdTime;
}

export interface PurchaseMac2Fields {
  amountFen: number;
}

export interface PurchaseTacFields {
  amountFen: number;
  transactionType: number;
  terminalId: Uint8Array;
  /** terminal transaction sequence number: a number (u32) or 4 bytes */
  terminalSequence: number | Uint8Array;
  date: BcdDate;
  time: BcdTime;
}

/**
 * JR/T 0025.2 load process, MAC1 data (15 bytes):
 * balance before load (4) || amount (4) || transaction type (1) || terminal ID (6).
 */
export function loadMac1Data(fields: LoadMac1Fields): Uint8Array {
  return encodeLayout('loadMac1', 'load MAC1 data', fields);
}

/**
 * JR/T 0025.2 load process, MAC2 data (18 bytes):
 * amount (4) || transaction type (1) || terminal ID (6) || host date (4, BCD) || host time (3, BCD).
 */
export function loadMac2Data(fields: LoadMac2Fields): Uint8Array {
  return encodeLayout('loadMac2', 'load MAC2 data', fields);
}

/**
 * JR/T 0025.2 load process, TAC data (26 bytes): new balance (4) || transaction counter before
 * increment (4; the PBOC online counter has 2) || amount (4) || transaction type (1) || terminal ID (6) || date (4) || time (3).
 */
export function loadTacData(fields: LoadTacFields): Uint8Array {
  return encodeLayout('loadTac', 'load TAC data', fields);
}

/**
 * JR/T 0025.2 purchase process, MAC1 data (18 bytes):
 * amount (4) || transaction type (1) || terminal ID (6) || terminal date (4) || terminal time (3).
 */
export function purchaseMac1Data(fields: PurchaseMac1Fields): Uint8Array {
  return encodeLayout('purchaseMac1', 'purchase MAC1 data', fields);
}

/** JR/T 0025.2 purchase process, MAC2 data (4 bytes): amount (4). */
export function purchaseMac2Data(fields: PurchaseMac2Fields): Uint8Array {
  return encodeLayout('purchaseMac2', 'purchase MAC2 data', fields);
}

/**
 * JR/T 0025.2 purchase process, TAC data (22 bytes): amount (4) || transaction type (1) ||
 * terminal ID (6) || terminal transaction sequence number (4) || date (4) || time (3).
 */
export function purchaseTacData(fields: PurchaseTacFields): Uint8Array {
  return encodeLayout('purchaseTac', 'purchase TAC data', fields);
}
