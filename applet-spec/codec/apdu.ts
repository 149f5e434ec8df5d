/** @module Command and response APDUs as bytes: ISO/IEC 7816-4:2013 clause 5 (cases 1-4, short and extended length fields, command chaining). */
import { FormatError } from '../errors.js';
import { hexByte } from '../../base/hex.js';

/** A command APDU with its lengths as numbers (Nc = data.length, Ne = le); the byte form is chosen by the encoder. */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** command data; empty when there is no Lc field (Nc = 0) */
  data: Uint8Array;
  /** Ne: expected response length 1..65536, undefined = absent */
  le?: number;
  /** force extended length encoding */
  extended?: boolean;
}

/** A response APDU: response data then the status word. */
export interface ResponseApdu {
  data: Uint8Array;
  /** SW1 << 8 | SW2 */
  sw: number;
}

/** Largest Nc (7816-4: extended Lc field 0001..FFFF). */
export const MAX_NC = 65535;
/** Largest Ne (7816-4: extended Le field 0000 means 65536). */
export const MAX_NE = 65536;
/** CLA b5: command chaining, "not the last command of a chain" (7816-4:2013 5.4.1 Table 2 and 3). */
export const CLA_CHAINING = 0x10;

function checkByte(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new FormatError(what, `must be a byte 00..FF, got ${v}`);
}


/** Whether `c` needs (or asks for) extended length fields: Nc > 255, Ne > 256 or forced. */
export function isExtended(c: CommandApdu): boolean {
  return c.extended === true || c.data.length > 255 || (c.le !== undefined && c.le > 256);
}

/**
 * Encodes a command APDU (7816-4:2013 5.2): case 1 (header), case 2 (Le), case 3 (Lc data) or case 4
 * (Lc data Le), short when Nc <= 255, Ne <= 256 and `extended` is not set, extended otherwise.
 * Short Le 00 = 256; extended: one 00 byte then 2-byte Lc and/or 2-byte Le, Le 0000 = 65536 (in case 2
 * the 00 byte precedes Le; in case 4 it precedes Lc only). Case 1 has no length field, so `extended`
 * has no effect on it. Throws FormatError for a header field that is not a byte, Nc > 65535, or Ne
 * outside 1..65536.
 */
export function encodeCommandApdu(c: CommandApdu): Uint8Array {
  checkByte('APDU CLA', c.cla);
  checkByte('APDU INS', c.ins);
  checkByte('APDU P1', c.p1);
  checkByte('APDU P2', c.p2);
  if (!(c.data instanceof Uint8Array)) throw new FormatError('APDU data', 'must be a Uint8Array');
  const nc = c.data.length;
  if (nc > MAX_NC) throw new FormatError('APDU Lc', `command data of ${nc} bytes exceeds ${MAX_NC}`);
  const ne = c.le;
  if (ne !== undefined && (!Number.isInteger(ne) || ne < 1 || ne > MAX_NE)) {
    throw new FormatError('APDU Le', `Ne must be 1..${MAX_NE} or absent, got ${ne}`);
  }
  const ext = isExtended(c);
  const lcLen = nc === 0 ? 0 : ext ? 3 : 1;
  // 7816-4 5.2: in case 4 extended, the single 00 byte already sits in front of Lc, so Le is 2 bytes.
  const leLen = ne === undefined ? 0 : !ext ? 1 : nc === 0 ? 3 : 2;
  const out = new Uint8Array(4 + lcLen + nc + leLen);
  out[0] = c.cla;
  out[1] = c.ins;
  out[2] = c.p1;
  out[3] = c.p2;
  let p = 4;
  if (lcLen === 1) out[p++] = nc;
  else if (lcLen === 3) {
    out[p++] = 0x00;
    out[p++] = nc >> 8;
    out[p++] = nc & 0xff;
  }
  out.set(c.data, p);
  p += nc;
  if (ne !== undefined) {
    if (leLen === 1) out[p] = ne & 0xff; // 256 -> 00
    else {
      if (leLen === 3) out[p++] = 0x00;
      const v = ne & 0xffff; // 65536 -> 0000
      out[p++] = v >> 8;
      out[p] = v & 0xff;
    }
  }
  return out;
}

/**
 * Decodes a command APDU, deciding the case from the length alone (7816-4:2013 5.2):
 * 4 bytes case 1; 5 bytes case 2S (Le 00 = 256); a first body byte B1 != 00 is a short Lc (case 3S
 * when exactly Lc bytes follow, case 4S when one more byte follows); B1 = 00 with more than 5 bytes
 * starts an extended field: 7 bytes case 2E (Le 0000 = 65536), otherwise Lc = B2B3 != 0000 with case 3E
 * or 4E (2-byte Le). `extended: true` is set whenever extended fields were used. Throws FormatError
 * naming the field at fault: header too short, Lc not matching the data present, an extended header
 * that is cut short, or bytes left after Le.
 */
export function decodeCommandApdu(bytes: Uint8Array): CommandApdu {
  const n = bytes.length;
  if (n < 4) throw new FormatError('APDU header', `need 4 bytes CLA INS P1 P2, got ${n}`);
  const head = { cla: bytes[0], ins: bytes[1], p1: bytes[2], p2: bytes[3] };
  if (n === 4) return { ...head, data: new Uint8Array(0) };
  const b1 = bytes[4];
  if (n === 5) return { ...head, data: new Uint8Array(0), le: b1 === 0 ? 256 : b1 };
  if (b1 !== 0) {
    // Short Lc (01..FF); a short Lc of 00 cannot occur: B1 = 00 with a body longer than 1 byte is extended.
    const lc = b1;
    const avail = n - 5;
    if (avail < lc) throw new FormatError('APDU Lc', `Lc=${hexByte(lc)} (${lc}) but only ${avail} data bytes follow`);
    if (avail > lc + 1) {
      throw new FormatError('APDU trailing bytes', `${avail - lc - 1} bytes after Lc=${hexByte(lc)}, data and a 1-byte Le`);
    }
    const data = bytes.slice(5, 5 + lc);
    if (avail === lc) return { ...head, data };
    const le = bytes[n - 1];
    return { ...head, data, le: le === 0 ? 256 : le };
  }
  // B1 = 00 and more than one body byte: extended length fields.
  if (n < 7) throw new FormatError('APDU extended header', `B1=00 announces an extended length field but the body has only ${n - 4} bytes`);
  const w = (bytes[5] << 8) | bytes[6];
  if (n === 7) return { ...head, data: new Uint8Array(0), le: w === 0 ? MAX_NE : w, extended: true };
  if (w === 0) throw new FormatError('APDU Lc', `extended Lc=0000 is invalid (a body of ${n - 4} bytes needs Nc >= 1)`);
  const lc = w;
  const avail = n - 7;
  if (avail < lc) throw new FormatError('APDU Lc', `extended Lc=${lc} but only ${avail} data bytes follow`);
  if (avail === lc + 1) throw new FormatError('APDU extended header', `extended Le must be 2 bytes, found 1 after ${lc} data bytes`);
  if (avail > lc + 2) {
    throw new FormatError('APDU trailing bytes', `${avail - lc - 2} bytes after extended Lc=${lc}, data and a 2-byte Le`);
  }
  const data = bytes.slice(7, 7 + lc);
  if (avail === lc) return { ...head, data, extended: true };
  const le = (bytes[n - 2] << 8) | bytes[n - 1];
  return { ...head, data, le: le === 0 ? MAX_NE : le, extended: true };
}

/** Response data followed by SW1 SW2 (7816-4:2013 5.1). Throws FormatError if `sw` is not 0000..FFFF. */
export function encodeResponseApdu(r: ResponseApdu): Uint8Array {
  checkSw(r.sw);
  const out = new Uint8Array(r.data.length + 2);
  out.set(r.data, 0);
  out[r.data.length] = r.sw >> 8;
  out[r.data.length + 1] = r.sw & 0xff;
  return out;
}

/** Splits a response into data and SW1 SW2; throws FormatError if shorter than the 2 status bytes. */
export function decodeResponseApdu(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) throw new FormatError('response APDU', `need at least SW1 SW2 (2 bytes), got ${bytes.length}`);
  const n = bytes.length;
  return { data: bytes.slice(0, n - 2), sw: (bytes[n - 2] << 8) | bytes[n - 1] };
}

function checkSw(sw: number): void {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new FormatError('SW', `must be 0000..FFFF, got ${sw}`);
}

/** The status word as 4 uppercase hex digits, e.g. `swToHex(0x6a82) === '6A82'`. */
export function swToHex(sw: number): string {
  checkSw(sw);
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Whether a CLA can carry the chaining bit b5: the first interindustry class 0x (7816-4:2013 5.4.1
 * Table 2), the further interindustry classes 4x-7x with b5 clear (Table 3), and - a project
 * convention, since 7816-4 leaves proprietary classes to their owners - proprietary classes 8x-Ex
 * with b5 clear (the PBOC/GP classes 80 and 84 chain as 90 and 94). 2x-3x are RFU and FF is invalid.
 */
export function claAllowsChaining(cla: number): boolean {
  if (cla & CLA_CHAINING) return false;
  if (cla >= 0x20 && cla <= 0x3f) return false;
  return cla !== 0xff;
}

/**
 * Splits a command into a chain (7816-4:2013 5.3.1): blocks of at most `blockSize` data bytes; every
 * block but the last has CLA b5 (0x10) set and no Le; the last block keeps the original CLA and Le.
 * `extended` is carried on every block. Data that fits in one block returns `[c]` unchanged.
 * Throws FormatError if the CLA already has b5 set (even for one block), if the data needs splitting
 * and the CLA cannot chain (see claAllowsChaining), or if blockSize is not 1..65535. Caveat: with secure messaging, each block is wrapped separately after
 * splitting, so choose blockSize to leave room for the MAC and padding.
 */
export function chainCommand(c: CommandApdu, blockSize = 255): CommandApdu[] {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_NC) {
    throw new FormatError('chain block size', `must be 1..${MAX_NC}, got ${blockSize}`);
  }
  checkByte('APDU CLA', c.cla);
  // Checked even for one block: a command sent with b5 set would leave the card waiting for more.
  if (c.cla & CLA_CHAINING) throw new FormatError('chain CLA', `CLA=${hexByte(c.cla)} already has the chaining bit 10 set`);
  if (c.data.length <= blockSize) return [c];
  if (!claAllowsChaining(c.cla)) throw new FormatError('chain CLA', `CLA=${hexByte(c.cla)} is not a class that allows command chaining`);
  const blocks: CommandApdu[] = [];
  for (let off = 0; off < c.data.length; off += blockSize) {
    const data = c.data.slice(off, off + blockSize);
    const last = off + blockSize >= c.data.length;
    if (last) blocks.push({ ...c, data });
    else {
      const block: CommandApdu = { cla: c.cla | CLA_CHAINING, ins: c.ins, p1: c.p1, p2: c.p2, data };
      if (c.extended !== undefined) block.extended = c.extended;
      blocks.push(block);
    }
  }
  return blocks;
}

/**
 * Joins a received chain back into one command (card side, 7816-4:2013 5.3.1): every block but the last
 * must have CLA b5 set and no Le, the last must have it clear; all blocks must agree on CLA (b5 aside),
 * INS, P1 and P2. The result has the last block's CLA, Le and `extended`. Throws FormatError naming the
 * block at fault. The joined data may exceed 65535 bytes (a logical command, not an APDU).
 */
export function joinChain(blocks: CommandApdu[]): CommandApdu {
  if (blocks.length === 0) throw new FormatError('chain', 'no blocks');
  const last = blocks[blocks.length - 1];
  if (last.cla & CLA_CHAINING) throw new FormatError('chain last block CLA', `CLA=${hexByte(last.cla)} still has the chaining bit 10 set`);
  let total = 0;
  blocks.forEach((b, i) => {
    const isLast = i === blocks.length - 1;
    if (!isLast) {
      if (!(b.cla & CLA_CHAINING)) throw new FormatError(`chain block ${i} CLA`, `CLA=${hexByte(b.cla)} lacks the chaining bit 10 but is not the last block`);
      if (b.le !== undefined) throw new FormatError(`chain block ${i} Le`, 'only the last block of a chain may carry Le');
    }
    if ((b.cla & ~CLA_CHAINING) !== last.cla) {
      throw new FormatError(`chain block ${i} CLA`, `CLA=${hexByte(b.cla)} does not match the last block's CLA=${hexByte(last.cla)}`);
    }
    if (b.ins !== last.ins || b.p1 !== last.p1 || b.p2 !== last.p2) {
      throw new FormatError(
        `chain block ${i} header`,
        `INS P1 P2=${hexByte(b.ins)}${hexByte(b.p1)}${hexByte(b.p2)} differs from the last block's ${hexByte(last.ins)}${hexByte(last.p1)}${hexByte(last.p2)}`,
      );
    }
    total += b.data.length;
  });
  const data = new Uint8Array(total);
  let off = 0;
  for (const b of blocks) {
    data.set(b.data, off);
    off += b.data.length;
  }
  return { ...last, data };
}
