/** @module GlobalPlatform SCP03 building blocks (GPC 2.3 Amendment D v1.1/1.2): the SP 800-108 KDF, session keys, cryptograms, card challenge, INITIALIZE UPDATE response layout, security levels, DEK encryption, and the SecureChannelError. */
import { OperationalError } from '../base/operational-error.js';
import { cbc } from '@noble/ciphers/aes.js';
import { FormatError } from '../base/format-error.js';
import { AES_BLOCK_BYTES, aesCmac, assertAesKey } from './aes-cmac.js';
import { concatBytes } from './bytes.js';

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/** SCP identifier carried in the key information of the INITIALIZE UPDATE response (Amd D 7.1.1.6). */
export const SCP03_ID = 0x03;

/** Derivation constants of the SCP03 KDF (Amd D 4.1.5 Table 4-1). */
export const DERIVATION_CONSTANT = {
  cardCryptogram: 0x00,
  hostCryptogram: 0x01,
  cardChallenge: 0x02,
  sEnc: 0x04,
  sMac: 0x06,
  sRmac: 0x07,
} as const;

/** Bits of the security level (P1 of EXTERNAL AUTHENTICATE, Amd D 7.1.2.1). */
export const SECURITY_LEVEL = {
  none: 0x00,
  cMac: 0x01,
  cDecryption: 0x02,
  rMac: 0x10,
  rEncryption: 0x20,
} as const;

/**
 * The security levels Amd D 7.1.2.1 allows: no secure messaging (00), C-MAC (01),
 * C-DECRYPTION + C-MAC (03), C-MAC + R-MAC (11), C-DECRYPTION + C-MAC + R-MAC (13), and all four (33).
 */
export const VALID_SECURITY_LEVELS: readonly number[] = [0x00, 0x01, 0x03, 0x11, 0x13, 0x33];

/** Bits of the SCP03 "i" implementation parameter (Amd D 5.1 Table 5-1). */
export const I_PARAMETER = {
  /** b1: 1 = S16 mode (16-byte challenges, cryptograms and MACs), 0 = S8 mode */
  s16: 0x01,
  /** b5: 1 = pseudo-random card challenge (with sequence counter), 0 = random card challenge */
  pseudoRandomChallenge: 0x10,
  /** b6: R-MAC supported */
  rMac: 0x20,
  /** b7: R-ENCRYPTION supported (with R-MAC) */
  rEncryption: 0x40,
} as const;

/** Challenge, cryptogram and MAC length in bytes: 8 in S8 mode, 16 in S16 mode (Amd D 5.1, "i" b1). */
export type SMode = 8 | 16;

/** The static SCP03 keyset of a security domain (Amd D 4.1.2): AES-128, -192 or -256 keys. */
export interface Scp03StaticKeys {
  /** Key-ENC: derives S-ENC and the pseudo-random card challenge */
  enc: Uint8Array;
  /** Key-MAC: derives S-MAC and S-RMAC */
  mac: Uint8Array;
  /** Key-DEK: encrypts sensitive data (keys, STORE DATA 0x60) directly; SCP03 has no session DEK */
  dek: Uint8Array;
}

/** The session keys of one SCP03 session (Amd D 6.2.1). */
export interface Scp03SessionKeys {
  sEnc: Uint8Array;
  sMac: Uint8Array;
  sRmac: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Why a secure channel operation failed; stable strings a caller can switch on. */
export type SecureChannelReason =
  | 'card-cryptogram' // host: the card cryptogram in the INITIALIZE UPDATE response is wrong
  | 'card-challenge' // host: a pseudo-random card challenge does not match the sequence counter and AID
  | 'host-cryptogram' // card: the host cryptogram in EXTERNAL AUTHENTICATE is wrong
  | 'c-mac' // card: C-MAC verification failed (tampered, replayed or skipped command)
  | 'missing-c-mac' // card: a command without secure messaging while the security level requires C-MAC
  | 'r-mac' // host: R-MAC missing or wrong
  | 'padding' // decrypted data does not end in ISO/IEC 9797-1 method 2 padding
  | 'security-level' // unsupported or invalid security level
  | 'key-version' // card: INITIALIZE UPDATE asks for a key version the card does not hold
  | 'sequence-counter' // card: the pseudo-random challenge sequence counter is exhausted
  | 'counter-exhausted' // the command encryption counter would overflow
  | 'status-word' // host: INITIALIZE UPDATE or EXTERNAL AUTHENTICATE answered with an error SW
  | 'state' // operation not allowed in the current state (e.g. wrap before authentication)
  | 'protocol' // host: the card's answer does not fit the parameters asked for (S mode, key version)
  | 'session-closed'; // the session was closed, by close() or after an earlier failure

/**
 * A secure channel failure: bad cryptogram, bad MAC, bad padding, wrong security level, wrong state.
 * The message holds only the reason and lengths/status words, never key or session-key bytes.
 * A session that throws this has closed itself and wiped its session keys (GP 2.3: a secure
 * messaging error terminates the Secure Channel Session); open a new one with INITIALIZE UPDATE.
 */
export class SecureChannelError extends OperationalError {
  override readonly name = 'SecureChannelError';
  constructor(
    readonly reason: SecureChannelReason,
    detail?: string,
    /** For card-side failures: the status word the card returns (Amd D 7.1.2 EXTERNAL AUTHENTICATE '6300', security status not satisfied '6982', key version not found '6A88'). */
    readonly sw?: number,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

// ---------------------------------------------------------------------------------------------
// KDF and derived values
// ---------------------------------------------------------------------------------------------

/**
 * SCP03 data derivation (Amd D 4.1.5, used by 6.2.1 and 6.2.2): NIST SP 800-108 KDF in counter
 * mode with AES-CMAC (SP 800-38B, full 16-byte output) as PRF.
 * Each PRF input is: label = 11 bytes 00 || derivation constant (1) || separator 00 ||
 * L (2 bytes, output length in bits) || counter i (1 byte, from 1) || context.
 * Returns `lengthBits / 8` bytes (the leftmost bits of the concatenated PRF outputs).
 */
export function scp03Kdf(key: Uint8Array, constant: number, context: Uint8Array, lengthBits: number): Uint8Array {
  assertAesKey(key, 'SCP03 KDF key');
  if (!Number.isInteger(constant) || constant < 0 || constant > 0xff) throw new RangeError('SCP03 KDF: constant must be one byte');
  if (!Number.isInteger(lengthBits) || lengthBits <= 0 || lengthBits % 8 !== 0 || lengthBits > 0xffff) {
    throw new RangeError(`SCP03 KDF: output length ${lengthBits} bits is not a whole number of bytes in 8..65535`);
  }
  const blocks = Math.ceil(lengthBits / 128);
  if (blocks > 0xff) throw new RangeError('SCP03 KDF: output needs more than 255 PRF blocks (1-byte counter)');
  const fixed = new Uint8Array(16);
  fixed[11] = constant; // bytes 0..10: label of zeros; byte 12: separator 00
  fixed[13] = lengthBits >>> 8;
  fixed[14] = lengthBits & 0xff;
  const out = new Uint8Array(blocks * AES_BLOCK_BYTES);
  for (let i = 1; i <= blocks; i++) {
    fixed[15] = i; // SP 800-108 5.1: counter i, here one byte (r = 8)
    out.set(aesCmac(key, fixed, context), (i - 1) * AES_BLOCK_BYTES);
  }
  const result = out.slice(0, lengthBits / 8);
  out.fill(0);
  return result;
}

function assertChallenge(challenge: Uint8Array, what: string): void {
  if (challenge.length !== 8 && challenge.length !== 16) {
    throw new FormatError(what, `length ${challenge.length} is not 8 (S8) or 16 (S16)`);
  }
}

/**
 * Session keys S-ENC, S-MAC, S-RMAC (Amd D 6.2.1), each as long as its static key, with context =
 * host challenge || card challenge. Security: wipe the result when the session ends.
 */
export function deriveSessionKeys(
  keys: Pick<Scp03StaticKeys, 'enc' | 'mac'>,
  hostChallenge: Uint8Array,
  cardChallenge: Uint8Array,
): Scp03SessionKeys {
  assertChallenge(hostChallenge, 'host challenge');
  assertChallenge(cardChallenge, 'card challenge');
  const context = concatBytes(hostChallenge, cardChallenge);
  return {
    sEnc: scp03Kdf(keys.enc, DERIVATION_CONSTANT.sEnc, context, keys.enc.length * 8),
    sMac: scp03Kdf(keys.mac, DERIVATION_CONSTANT.sMac, context, keys.mac.length * 8),
    sRmac: scp03Kdf(keys.mac, DERIVATION_CONSTANT.sRmac, context, keys.mac.length * 8),
  };
}

/** Card cryptogram (Amd D 6.2.2.2): KDF(S-MAC, 00, host challenge || card challenge), challenge length. */
export function computeCardCryptogram(sMac: Uint8Array, hostChallenge: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  assertChallenge(hostChallenge, 'host challenge');
  return scp03Kdf(sMac, DERIVATION_CONSTANT.cardCryptogram, concatBytes(hostChallenge, cardChallenge), hostChallenge.length * 8);
}

/** Host cryptogram (Amd D 6.2.2.3): KDF(S-MAC, 01, host challenge || card challenge), challenge length. */
export function computeHostCryptogram(sMac: Uint8Array, hostChallenge: Uint8Array, cardChallenge: Uint8Array): Uint8Array {
  assertChallenge(hostChallenge, 'host challenge');
  return scp03Kdf(sMac, DERIVATION_CONSTANT.hostCryptogram, concatBytes(hostChallenge, cardChallenge), hostChallenge.length * 8);
}

/** Largest value of the 3-byte sequence counter (Amd D 6.2.2.1). */
export const MAX_SEQUENCE_COUNTER = 0xffffff;

/**
 * Pseudo-random card challenge (Amd D 6.2.2.1): KDF(static Key-ENC, 02, sequence counter (3 bytes)
 * || AID of the invoking security domain), 8 or 16 bytes. Security: the card must never use one
 * counter value twice for a keyset; the caller persists counter + 1 before answering.
 */
export function pseudoRandomCardChallenge(enc: Uint8Array, sequenceCounter: number, aid: Uint8Array, sMode: SMode): Uint8Array {
  if (!Number.isInteger(sequenceCounter) || sequenceCounter < 0 || sequenceCounter > MAX_SEQUENCE_COUNTER) {
    throw new RangeError('pseudoRandomCardChallenge: sequence counter must fit in 3 bytes');
  }
  if (aid.length < 5 || aid.length > 16) throw new FormatError('security domain AID', `length ${aid.length} is not 5..16`);
  const counter = Uint8Array.of(sequenceCounter >>> 16, (sequenceCounter >>> 8) & 0xff, sequenceCounter & 0xff);
  return scp03Kdf(enc, DERIVATION_CONSTANT.cardChallenge, concatBytes(counter, aid), sMode * 8);
}

// ---------------------------------------------------------------------------------------------
// Padding and DEK encryption
// ---------------------------------------------------------------------------------------------

/** ISO/IEC 9797-1 padding method 2 to a multiple of 16 bytes: 80 then zeros (always adds 1..16 bytes; GP 2.3 B.2.3). */
export function padM2(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((Math.floor(data.length / AES_BLOCK_BYTES) + 1) * AES_BLOCK_BYTES);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

/**
 * Removes ISO/IEC 9797-1 method 2 padding; returns undefined when the last block does not end in
 * 80 00..00 (the caller turns that into a SecureChannelError, after the MAC has been checked).
 */
export function unpadM2(data: Uint8Array): Uint8Array | undefined {
  if (data.length === 0 || data.length % AES_BLOCK_BYTES !== 0) return undefined;
  let i = data.length - 1;
  const stop = data.length - AES_BLOCK_BYTES; // the padding lies in the last block
  while (i > stop && data[i] === 0) i--;
  if (data[i] !== 0x80) return undefined;
  return data.slice(0, i);
}

function assertBlockAligned(data: Uint8Array, what: string): void {
  if (data.length === 0 || data.length % AES_BLOCK_BYTES !== 0) {
    throw new FormatError(what, `length ${data.length} is not a non-zero multiple of 16`);
  }
}

const ZERO_IV = new Uint8Array(AES_BLOCK_BYTES);

/**
 * Encrypts sensitive data under the static Key-DEK (GP 2.3 11.11.2.1 STORE DATA P1 b6-b5 = 11, i.e.
 * P1 | 0x60, and PUT KEY key components; Amd D uses the static DEK with AES-CBC): IV zero, no padding. The data must already
 * be block aligned (pad it as the data format demands, e.g. DGI padding). Security: same
 * plaintext gives same ciphertext (zero IV) - encrypt only high-entropy secrets, as GP intends.
 */
export function dekEncrypt(dek: Uint8Array, plaintext: Uint8Array): Uint8Array {
  assertAesKey(dek, 'Key-DEK');
  assertBlockAligned(plaintext, 'DEK plaintext');
  return cbc(dek, ZERO_IV, { disablePadding: true }).encrypt(plaintext);
}

/** Decrypts data encrypted by {@link dekEncrypt} (card side of STORE DATA 0x60 / PUT KEY): AES-CBC, IV zero, no padding. */
export function dekDecrypt(dek: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  assertAesKey(dek, 'Key-DEK');
  assertBlockAligned(ciphertext, 'DEK ciphertext');
  return cbc(dek, ZERO_IV, { disablePadding: true }).decrypt(ciphertext);
}

// ---------------------------------------------------------------------------------------------
// INITIALIZE UPDATE response (Amd D 7.1.1.6 Table 7-3)
// ---------------------------------------------------------------------------------------------

/** The data field of the INITIALIZE UPDATE response. */
export interface InitializeUpdateResponse {
  /** key diversification data, 10 bytes (often the card's CPLC-derived ID) */
  kdd: Uint8Array;
  /** key version number of the keyset used */
  kvn: number;
  /** SCP identifier, 03 */
  scpId: number;
  /** the "i" parameter (see I_PARAMETER) */
  iParameter: number;
  cardChallenge: Uint8Array;
  cardCryptogram: Uint8Array;
  /** 3-byte sequence counter, present when pseudo-random card challenges are used */
  sequenceCounter?: number;
}

// The layout, written once: field name and length (s = challenge length 8 or 16).
const IU_RESPONSE_FIELDS = [
  ['kdd', () => 10],
  ['kvn', () => 1],
  ['scpId', () => 1],
  ['iParameter', () => 1],
  ['cardChallenge', (s: number) => s],
  ['cardCryptogram', (s: number) => s],
] as const;
const IU_FIXED_BYTES = (s: number): number => IU_RESPONSE_FIELDS.reduce((n, [, len]) => n + len(s), 0);

/** Encodes the INITIALIZE UPDATE response data field (no status word). */
export function encodeInitializeUpdateResponse(r: InitializeUpdateResponse): Uint8Array {
  const s = r.cardChallenge.length;
  assertChallenge(r.cardChallenge, 'card challenge');
  if (r.cardCryptogram.length !== s) throw new FormatError('card cryptogram', `length ${r.cardCryptogram.length} differs from the challenge length ${s}`);
  if (r.kdd.length !== 10) throw new FormatError('key diversification data', `length ${r.kdd.length} is not 10`);
  const parts: Uint8Array[] = [];
  for (const [name] of IU_RESPONSE_FIELDS) {
    const v = r[name];
    parts.push(typeof v === 'number' ? Uint8Array.of(v & 0xff) : v);
  }
  if (r.sequenceCounter !== undefined) {
    const c = r.sequenceCounter;
    if (!Number.isInteger(c) || c < 0 || c > MAX_SEQUENCE_COUNTER) throw new FormatError('sequence counter', 'does not fit in 3 bytes');
    parts.push(Uint8Array.of(c >>> 16, (c >>> 8) & 0xff, c & 0xff));
  }
  return concatBytes(...parts);
}

/**
 * Decodes the INITIALIZE UPDATE response data field (no status word). The S mode comes from the
 * "i" parameter; the sequence counter is read when the length says it is there.
 */
export function decodeInitializeUpdateResponse(data: Uint8Array): InitializeUpdateResponse {
  if (data.length < 13) throw new FormatError('INITIALIZE UPDATE response', `length ${data.length} is too short`);
  const iParameter = data[12];
  const s = iParameter & I_PARAMETER.s16 ? 16 : 8;
  const fixed = IU_FIXED_BYTES(s);
  if (data.length !== fixed && data.length !== fixed + 3) {
    throw new FormatError('INITIALIZE UPDATE response', `length ${data.length} is neither ${fixed} nor ${fixed + 3} (S${s} mode)`);
  }
  const out: Record<string, unknown> = {};
  let off = 0;
  for (const [name, len] of IU_RESPONSE_FIELDS) {
    const n = len(s);
    out[name] = n === 1 && name !== 'kdd' ? data[off] : data.slice(off, off + n);
    off += n;
  }
  if (out.scpId !== SCP03_ID) throw new FormatError('INITIALIZE UPDATE response SCP identifier', `${hex2(out.scpId as number)} is not 03`);
  if (data.length === fixed + 3) out.sequenceCounter = (data[off] << 16) | (data[off + 1] << 8) | data[off + 2];
  return out as unknown as InitializeUpdateResponse;
}

/** Two-digit uppercase hex of a byte, for messages. */
function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
