/** @module GlobalPlatform SCP03 primitives (GPC 2.3 Amendment D v1.1/1.2): the SP 800-108 KDF, session keys, cryptograms, card challenge, security levels, secure messaging (C-MAC and R-MAC with the chaining value, C-DECRYPTION and R-ENCRYPTION with the counter, command and response wrapping), DEK encryption, and the SecureChannelError. The INITIALIZE UPDATE layout is the spec's (applet-spec/commands/initialize-update.ts); the sessions that run the protocol are the host's and the simulator's. */
import { OperationalError } from '../base/operational-error.js';
import { cbc, ecb } from '@noble/ciphers/aes.js';
import { FormatError } from '../base/format-error.js';
import { AES_BLOCK_BYTES, aesCmac, assertAesKey } from './aes-cmac.js';
import { concatBytes, equalBytes } from '../base/bytes.js';
import { hexByte } from '../base/hex.js';

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
  | 'key-version' // card: INITIALIZE UPDATE asks for a key version (P1) or key identifier (P2) the card does not hold
  | 'sequence-counter' // card: the pseudo-random challenge sequence counter is exhausted
  | 'counter-exhausted' // the command encryption counter would overflow
  | 'state' // operation not allowed in the current state (e.g. wrap before authentication)
  | 'protocol' // host: the card's answer does not fit the parameters asked for (SCP identifier, S mode, key version)
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
// Security level
// ---------------------------------------------------------------------------------------------

/**
 * Why `level` cannot be used with a card whose "i" parameter is `iParameter`, or undefined when it
 * can: it must be one of the levels Amd D 7.1.2.1 allows, and R-MAC / R-ENCRYPTION need the card's
 * support (Amd D 5.1 Table 5-1, i b6 and b7). Both ends check it before EXTERNAL AUTHENTICATE.
 */
export function securityLevelProblem(level: number, iParameter: number): string | undefined {
  if (!VALID_SECURITY_LEVELS.includes(level)) return `security level ${hexByte(level)} is not one of 00, 01, 03, 11, 13, 33`;
  if (level & SECURITY_LEVEL.rMac && !(iParameter & I_PARAMETER.rMac)) {
    return `security level ${hexByte(level)} needs R-MAC, which the card does not support (i = ${hexByte(iParameter)})`;
  }
  if (level & SECURITY_LEVEL.rEncryption && !(iParameter & I_PARAMETER.rEncryption)) {
    return `security level ${hexByte(level)} needs R-ENCRYPTION, which the card does not support (i = ${hexByte(iParameter)})`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Secure messaging (Amd D 6.2.4 - 6.2.7)
// ---------------------------------------------------------------------------------------------

/** The header of a command APDU (ISO/IEC 7816-4 5.1), as secure messaging reads and rewrites it. */
export interface ApduHeader {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
}

/** What secure messaging needs of an open session: its keys, the S mode and the security level (P1 of EXTERNAL AUTHENTICATE). */
export interface Scp03Channel {
  keys: Scp03SessionKeys;
  sMode: SMode;
  level: number;
}

/**
 * What moves with every command of a session: the MAC chaining value (the last full C-MAC, zero for
 * EXTERNAL AUTHENTICATE; Amd D 6.2.4) and the encryption counter (0 after EXTERNAL AUTHENTICATE,
 * one more for each command, with or without data; 6.2.6). Both ends keep one and must stay in step.
 */
export interface Scp03Chain {
  chaining: Uint8Array;
  counter: number;
}

/** The chain of a session at EXTERNAL AUTHENTICATE: zero chaining value, counter 0. */
export function initialChain(): Scp03Chain {
  return { chaining: new Uint8Array(AES_BLOCK_BYTES), counter: 0 };
}

/**
 * The result of a check on received secure messaging: the value, or why it failed with a detail
 * for the message. The session that asked throws it, and a card picks the status word it answers.
 */
export type Scp03Check<T> = ({ ok: true } & T) | { ok: false; reason: SecureChannelReason; detail: string };

/** CLA b3: GlobalPlatform secure messaging (GP 2.3 11.1.4, first interindustry class). */
const CLA_SM = 0x04;
/** The encryption counter is kept as a JS number; a session would need 4 billion commands to reach this. */
const MAX_COUNTER = 0xffffffff;

/**
 * CLA as used in the C-MAC input (Amd D 6.2.4): logical channel number set to zero, b4 set to 0 and
 * b3 set to 1 (GlobalPlatform secure messaging); b8 (proprietary) and b5 (chaining) are kept.
 */
const macCla = (cla: number): number => (cla & 0xf0) | CLA_SM;

/** The Lc field for `length` data bytes, short (1 byte) or extended (00 and 2 bytes), as the C-MAC covers it. */
function lcField(length: number, extendedLength: boolean, what: string): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  if (!extendedLength) {
    if (length > 255) throw new FormatError(what, `data length ${length} exceeds 255; send the command with extended length`);
    return Uint8Array.of(length);
  }
  if (length > 65535) throw new FormatError(what, `data length ${length} exceeds 65535`);
  return Uint8Array.of(0, length >>> 8, length & 0xff);
}

/**
 * C-MAC of a command (Amd D 6.2.4): AES-CMAC with S-MAC over chaining value || CLA' INS P1 P2 || Lc ||
 * `body`, where CLA' has the secure messaging bits of a MAC input and Lc counts `body` plus the
 * sMode-byte MAC. Returns the full 16 bytes: the next chaining value, whose first sMode bytes go on
 * the wire. `extendedLength` says how the command carries its Lc. Throws FormatError when the Lc does
 * not fit.
 */
export function commandMac(
  sMac: Uint8Array,
  chaining: Uint8Array,
  header: ApduHeader,
  body: Uint8Array,
  sMode: SMode,
  extendedLength: boolean,
): Uint8Array {
  const lc = lcField(body.length + sMode, extendedLength, 'secure messaging Lc');
  return aesCmac(sMac, chaining, Uint8Array.of(macCla(header.cla), header.ins, header.p1, header.p2), lc, body);
}

/** R-MAC of a response (Amd D 6.2.5): AES-CMAC with S-RMAC over chaining value || data || SW, truncated to the S mode. */
export function responseMac(sRmac: Uint8Array, chaining: Uint8Array, data: Uint8Array, sw: number, sMode: SMode): Uint8Array {
  return aesCmac(sRmac, chaining, data, Uint8Array.of(sw >>> 8, sw & 0xff)).slice(0, sMode);
}

/**
 * ICV for command (Amd D 6.2.6) or response (6.2.7) encryption: AES(S-ENC, counter as a 16-byte
 * big-endian block), with the first byte set to 80 for responses.
 */
function icv(sEnc: Uint8Array, counter: number, response: boolean): Uint8Array {
  const block = new Uint8Array(AES_BLOCK_BYTES);
  block[12] = counter >>> 24;
  block[13] = (counter >>> 16) & 0xff;
  block[14] = (counter >>> 8) & 0xff;
  block[15] = counter & 0xff;
  if (response) block[0] = 0x80;
  return ecb(sEnc, { disablePadding: true }).encrypt(block);
}

/**
 * Encrypts command data (C-DECRYPTION, Amd D 6.2.6) or response data (R-ENCRYPTION, 6.2.7): ISO/IEC
 * 9797-1 method 2 padding, AES-CBC under S-ENC with the ICV of the session's counter.
 */
export function encryptData(sEnc: Uint8Array, counter: number, data: Uint8Array, response: boolean): Uint8Array {
  const padded = padM2(data);
  const out = cbc(sEnc, icv(sEnc, counter, response), { disablePadding: true }).encrypt(padded);
  padded.fill(0);
  return out;
}

/** Decrypts what {@link encryptData} encrypted and removes the padding; undefined when the length or the padding is wrong. */
export function decryptData(sEnc: Uint8Array, counter: number, data: Uint8Array, response: boolean): Uint8Array | undefined {
  if (data.length === 0 || data.length % AES_BLOCK_BYTES !== 0) return undefined;
  const plain = cbc(sEnc, icv(sEnc, counter, response), { disablePadding: true }).decrypt(data);
  const out = unpadM2(plain);
  plain.fill(0);
  return out;
}

/** Length of `length` bytes after ISO 9797-1 method 2 padding to 16 bytes. */
const padM2Length = (length: number): number => (Math.floor(length / AES_BLOCK_BYTES) + 1) * AES_BLOCK_BYTES;

/** True for SW 9000 and the warnings 62xx / 63xx, the only responses SCP03 protects (Amd D 6.2.5). */
export function isProtectedSw(sw: number): boolean {
  return sw === 0x9000 || sw >>> 8 === 0x62 || sw >>> 8 === 0x63;
}

/**
 * Protects a plain command at the channel's security level (host side): advances the counter,
 * encrypts non-empty data under C-DECRYPTION (Amd D 6.2.6), then appends the C-MAC (6.2.4) and sets
 * CLA b3. Returns the CLA and data field to send (Le stays as it was) and the chain after the
 * command. At a level without C-MAC the command goes as it is. Throws FormatError when the wrapped
 * data no longer fits the command's Lc (before the chain moves, so nothing is out of step), and
 * SecureChannelError 'counter-exhausted'.
 */
export function wrapCommand(
  channel: Scp03Channel,
  chain: Scp03Chain,
  header: ApduHeader,
  data: Uint8Array,
  extendedLength: boolean,
): { cla: number; data: Uint8Array; chain: Scp03Chain } {
  if (!(channel.level & SECURITY_LEVEL.cMac)) return { cla: header.cla, data: data.slice(), chain };
  const encrypting = (channel.level & SECURITY_LEVEL.cDecryption) !== 0 && data.length > 0;
  lcField((encrypting ? padM2Length(data.length) : data.length) + channel.sMode, extendedLength, 'wrapped command APDU');
  if (chain.counter >= MAX_COUNTER) throw new SecureChannelError('counter-exhausted', 'encryption counter overflow');
  const counter = chain.counter + 1;
  const body = encrypting ? encryptData(channel.keys.sEnc, counter, data, false) : data;
  const mac = commandMac(channel.keys.sMac, chain.chaining, header, body, channel.sMode, extendedLength);
  return { cla: header.cla | CLA_SM, data: concatBytes(body, mac.subarray(0, channel.sMode)), chain: { chaining: mac, counter } };
}

/**
 * Verifies and strips the protection of a command that carries a C-MAC (card side; the caller has
 * checked CLA b3 against the level): the C-MAC over the chaining value (a replayed, reordered or
 * skipped command fails, Amd D 6.2.4), then C-DECRYPTION of non-empty data (6.2.6). Returns the
 * plain CLA (b3 cleared) and data and the chain after the command, or 'c-mac', 'padding' or
 * 'counter-exhausted'.
 */
export function unwrapCommand(
  channel: Scp03Channel,
  chain: Scp03Chain,
  header: ApduHeader,
  data: Uint8Array,
  extendedLength: boolean,
): Scp03Check<{ cla: number; data: Uint8Array; chain: Scp03Chain }> {
  const { keys, sMode } = channel;
  if (data.length < sMode) return { ok: false, reason: 'c-mac', detail: `data field of ${data.length} bytes has no room for the C-MAC` };
  const body = data.subarray(0, data.length - sMode);
  const mac = commandMac(keys.sMac, chain.chaining, header, body, sMode, extendedLength);
  if (!equalBytes(mac.subarray(0, sMode), data.subarray(body.length))) return { ok: false, reason: 'c-mac', detail: 'C-MAC does not verify' };
  if (chain.counter >= MAX_COUNTER) return { ok: false, reason: 'counter-exhausted', detail: 'encryption counter overflow' };
  const next = { chaining: mac, counter: chain.counter + 1 };
  let plain: Uint8Array | undefined = body.slice();
  if (channel.level & SECURITY_LEVEL.cDecryption && body.length > 0) {
    plain = decryptData(keys.sEnc, next.counter, body, false);
    if (!plain) return { ok: false, reason: 'padding', detail: `C-DECRYPTION data (${body.length} bytes) does not decrypt to padded data` };
  }
  return { ok: true, cla: header.cla & ~CLA_SM, data: plain, chain: next };
}

/**
 * Protects the response to the last unwrapped command (card side): with R-ENCRYPTION, encrypts
 * non-empty data (Amd D 6.2.7); with R-MAC, appends the R-MAC over chaining value || data || SW
 * (6.2.5). Returns the data field to send before `sw`: empty for an error SW (not 9000, 62xx,
 * 63xx), which goes alone and unprotected as 6.2.5 requires; unchanged at a level without R-MAC.
 */
export function wrapResponse(channel: Scp03Channel, chain: Scp03Chain, data: Uint8Array, sw: number): Uint8Array {
  if (!(channel.level & SECURITY_LEVEL.rMac)) return data.slice();
  if (!isProtectedSw(sw)) return new Uint8Array(0);
  const body = channel.level & SECURITY_LEVEL.rEncryption && data.length > 0 ? encryptData(channel.keys.sEnc, chain.counter, data, true) : data;
  return concatBytes(body, responseMac(channel.keys.sRmac, chain.chaining, body, sw, channel.sMode));
}

/**
 * Checks and strips the protection of the response to the last wrapped command (host side): with
 * R-MAC, verifies it over chaining value || data || SW (Amd D 6.2.5); with R-ENCRYPTION, decrypts the
 * data (6.2.7). An error SW (not 9000, 62xx, 63xx) carries no protection and its data is returned
 * unchanged - that SW is not authenticated. Returns the plain data, or 'r-mac' or 'padding'.
 */
export function unwrapResponse(channel: Scp03Channel, chain: Scp03Chain, data: Uint8Array, sw: number): Scp03Check<{ data: Uint8Array }> {
  const { keys, sMode } = channel;
  if (!(channel.level & SECURITY_LEVEL.rMac) || !isProtectedSw(sw)) return { ok: true, data: data.slice() };
  if (data.length < sMode) return { ok: false, reason: 'r-mac', detail: `response has ${data.length} data bytes, no room for the ${sMode}-byte R-MAC` };
  const body = data.subarray(0, data.length - sMode);
  if (!equalBytes(responseMac(keys.sRmac, chain.chaining, body, sw, sMode), data.subarray(body.length))) {
    return { ok: false, reason: 'r-mac', detail: 'R-MAC does not verify' };
  }
  if (!(channel.level & SECURITY_LEVEL.rEncryption) || body.length === 0) return { ok: true, data: body.slice() };
  const plain = decryptData(keys.sEnc, chain.counter, body, true);
  if (!plain) return { ok: false, reason: 'padding', detail: `R-ENC response data (${body.length} bytes) does not decrypt to padded data` };
  return { ok: true, data: plain };
}

