/**
 * @module PBOC e-purse value-transfer cryptography (JR/T 0025.2 electronic deposit/purse application,
 * load and purchase processes) adapted to SM4: process (session) keys and MAC1/MAC2/TAC. The byte
 * layouts those MACs cover are the applet specification's (applet-spec/mac-data.ts).
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
 * Field layouts (what each MAC covers) are the PBOC ones, apart from the D-RMB 4-byte counter in the load TAC.
 */
import { SM4_BLOCK_BYTES, SM4_KEY_BYTES, sm4EncryptBlock, sm4KeySchedule } from './sm4.js';
import { sm4Mac, verifySm4Mac } from './sm4-mac.js';

/** Length of MAC1, MAC2 and TAC (JR/T 0025.2: the leftmost 4 bytes of the MAC computation). */
export const PBOC_MAC_BYTES = 4;

/** JR/T 0025.2 load process, session key: the trailer of the load process-key input ('8000'). */
export const PBOC_LOAD_KEY_TRAILER: Uint8Array = Uint8Array.of(0x80, 0x00);

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
 * process key, IV zero, padding method 2, leftmost 4 bytes. `data` is one of the MAC data layouts of
 * the applet specification.
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
