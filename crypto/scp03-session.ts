/** @module GlobalPlatform SCP03 sessions (GPC 2.3 Amendment D v1.1/1.2): host side (INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, wrap/unwrap) and card side (the same commands processed, unwrapCommand/wrapResponse), with card state serializable for transient memory. */
import { ecb, cbc } from '@noble/ciphers/aes.js';
import { FormatError } from '../base/format-error.js';
import { AES_BLOCK_BYTES, aesCmac, assertAesKey } from './aes-cmac.js';
import { concatBytes, equalBytes, randomBytes, wipe } from './bytes.js';
import {
  I_PARAMETER,
  SCP03_ID,
  SECURITY_LEVEL,
  SecureChannelError,
  VALID_SECURITY_LEVELS,
  computeCardCryptogram,
  computeHostCryptogram,
  decodeInitializeUpdateResponse,
  deriveSessionKeys,
  encodeInitializeUpdateResponse,
  padM2,
  pseudoRandomCardChallenge,
  unpadM2,
} from './scp03.js';
import type { InitializeUpdateResponse, SMode, Scp03SessionKeys, Scp03StaticKeys, SecureChannelReason } from './scp03.js';

const INS_INITIALIZE_UPDATE = 0x50;
const INS_EXTERNAL_AUTHENTICATE = 0x82;
/** CLA b3: GlobalPlatform proprietary secure messaging (GP 2.3 11.1.4, first interindustry class). */
const CLA_SM = 0x04;
const SW_OK = Uint8Array.of(0x90, 0x00);
// Status words a card returns for secure channel failures (Amd D 7.1.1 / 7.1.2 INITIALIZE UPDATE and
// EXTERNAL AUTHENTICATE error conditions; ISO/IEC 7816-4 5.6 for the general ones).
const SW_AUTH_FAILED = 0x6300;
const SW_SECURITY_STATUS = 0x6982;
const SW_CONDITIONS = 0x6985;
const SW_WRONG_P1P2 = 0x6a86;
const SW_KEY_NOT_FOUND = 0x6a88;
/** The encryption counter is kept as a JS number; a session would need 4 billion commands to reach this. */
const MAX_COUNTER = 0xffffffff;

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

// ---------------------------------------------------------------------------------------------
// Command APDU layout (ISO/IEC 7816-3 12.1, 7816-4 5.1): cases 1, 2, 3, 4, short and extended
// ---------------------------------------------------------------------------------------------

interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** expected response length Ne (1..256 short, 1..65536 extended); undefined = no Le field */
  ne: number | undefined;
  /** extended length encoding (Lc on 3 bytes 00 xx xx, Le on 2 or 3 bytes) */
  extended: boolean;
}

function parseCommandApdu(apdu: Uint8Array, what: string): CommandApdu {
  const n = apdu.length;
  if (n < 4) throw new FormatError(what, `length ${n} is shorter than the 4-byte header`);
  const c: CommandApdu = { cla: apdu[0], ins: apdu[1], p1: apdu[2], p2: apdu[3], data: new Uint8Array(0), ne: undefined, extended: false };
  if (n === 4) return c; // case 1
  const b4 = apdu[4];
  if (n === 5) return { ...c, ne: b4 || 256 }; // case 2S
  if (b4 !== 0) {
    // case 3S / 4S
    if (n === 5 + b4) return { ...c, data: apdu.slice(5) };
    if (n === 6 + b4) return { ...c, data: apdu.slice(5, 5 + b4), ne: apdu[n - 1] || 256 };
    throw new FormatError(what, `Lc ${b4} does not match length ${n}`);
  }
  if (n === 7) return { ...c, extended: true, ne: ((apdu[5] << 8) | apdu[6]) || 65536 }; // case 2E
  if (n < 7) throw new FormatError(what, `length ${n} is not a valid extended-length APDU`);
  const lc = (apdu[5] << 8) | apdu[6];
  if (lc === 0) throw new FormatError(what, 'extended Lc is zero');
  if (n === 7 + lc) return { ...c, extended: true, data: apdu.slice(7) }; // case 3E
  if (n === 9 + lc) return { ...c, extended: true, data: apdu.slice(7, 7 + lc), ne: ((apdu[n - 2] << 8) | apdu[n - 1]) || 65536 }; // case 4E
  throw new FormatError(what, `extended Lc ${lc} does not match length ${n}`);
}

/** The Lc field for `length` data bytes (empty when there is no data). */
function lcField(length: number, extended: boolean, what: string): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  if (!extended) {
    if (length > 255) throw new FormatError(what, `data length ${length} exceeds 255; send the command with extended length`);
    return Uint8Array.of(length);
  }
  if (length > 65535) throw new FormatError(what, `data length ${length} exceeds 65535`);
  return Uint8Array.of(0, length >>> 8, length & 0xff);
}

function leField(ne: number | undefined, extended: boolean, hasData: boolean): Uint8Array {
  if (ne === undefined) return new Uint8Array(0);
  if (!extended) return Uint8Array.of(ne & 0xff); // 256 -> 00
  const le = Uint8Array.of((ne >>> 8) & 0xff, ne & 0xff); // 65536 -> 00 00
  return hasData ? le : concatBytes(Uint8Array.of(0), le);
}

/** The CLA must be a first interindustry class (b7 = 0: logical channels 0..3), as GP 2.3 11.1.4 allows for SCP03 here. */
function checkCla(cla: number, what: string): void {
  if (cla & 0x40 || cla === 0xff) throw new FormatError(what, `CLA ${hex2(cla)} is not a first-interindustry class (further-interindustry channels are not supported)`);
}

/**
 * CLA as used in the C-MAC input (Amd D 6.2.4): logical channel number set to zero, b4 set to 0 and
 * b3 set to 1 (GlobalPlatform secure messaging); b8 (proprietary) and b5 (chaining) are kept.
 */
const macCla = (cla: number): number => (cla & 0xf0) | CLA_SM;

// ---------------------------------------------------------------------------------------------
// Shared session state
// ---------------------------------------------------------------------------------------------

type Phase = 'idle' | 'initialized' | 'authenticating' | 'open' | 'closed';
const PHASE_CODES: readonly Phase[] = ['idle', 'initialized', 'authenticating', 'open', 'closed'];

/**
 * State both ends keep for one session (Amd D 6.2.3 - 6.2.7): session keys, S mode, security level,
 * the MAC chaining value (the last full C-MAC, 16 bytes; zero before EXTERNAL AUTHENTICATE) and
 * the encryption counter (0 after EXTERNAL AUTHENTICATE, incremented once per command).
 */
abstract class Scp03Session {
  protected phase: Phase = 'idle';
  protected keys: Scp03SessionKeys | undefined;
  protected sMode: SMode = 8;
  protected iParameter = 0;
  protected level = 0;
  protected chaining: Uint8Array = new Uint8Array(AES_BLOCK_BYTES);
  protected counter = 0;

  /** Security level in force (P1 of EXTERNAL AUTHENTICATE); 0 before the session is open. */
  get securityLevel(): number {
    return this.phase === 'open' ? this.level : 0;
  }

  /** True once EXTERNAL AUTHENTICATE succeeded and until close() or a failure. */
  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** True after close() or after any SecureChannelError. */
  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /** Ends the session and wipes the session keys and MAC chaining value. Idempotent. */
  close(): void {
    if (this.keys) wipe(this.keys.sEnc, this.keys.sMac, this.keys.sRmac);
    this.keys = undefined;
    wipe(this.chaining);
    this.phase = 'closed';
    this.level = 0;
  }

  /** Closes the session and returns the error to throw. */
  protected fail(reason: SecureChannelReason, detail?: string, sw?: number): SecureChannelError {
    this.close();
    return new SecureChannelError(reason, detail, sw);
  }

  protected requirePhase(expected: Phase, operation: string): Scp03SessionKeys {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', `${operation} on a closed session`, SW_CONDITIONS);
    if (this.phase !== expected || (expected !== 'idle' && !this.keys)) {
      throw this.fail('state', `${operation} not allowed in phase ${this.phase}`, SW_CONDITIONS);
    }
    return this.keys as Scp03SessionKeys;
  }

  /** C-MAC over chaining value || `parts` with S-MAC (Amd D 6.2.4); updates the chaining value, returns the full 16 bytes. */
  protected computeCmac(keys: Scp03SessionKeys, ...parts: Uint8Array[]): Uint8Array {
    const mac = aesCmac(keys.sMac, this.chaining, ...parts);
    this.chaining = mac.slice();
    return mac;
  }

  /** R-MAC over chaining value || response data || SW with S-RMAC (Amd D 6.2.5), truncated to the S mode. */
  protected computeRmac(keys: Scp03SessionKeys, data: Uint8Array, sw: Uint8Array): Uint8Array {
    return aesCmac(keys.sRmac, this.chaining, data, sw).subarray(0, this.sMode);
  }

  /** Advances the encryption counter for a new command (Amd D 6.2.6: incremented even without data). */
  protected nextCounter(): void {
    if (this.counter >= MAX_COUNTER) throw this.fail('counter-exhausted', 'encryption counter overflow');
    this.counter++;
  }

  /**
   * ICV for command (Amd D 6.2.6) or response (6.2.7) encryption: AES(S-ENC, counter as a
   * 16-byte big-endian block), with the first byte set to 80 for responses.
   */
  protected icv(keys: Scp03SessionKeys, response: boolean): Uint8Array {
    const block = new Uint8Array(AES_BLOCK_BYTES);
    const c = this.counter;
    block[12] = c >>> 24;
    block[13] = (c >>> 16) & 0xff;
    block[14] = (c >>> 8) & 0xff;
    block[15] = c & 0xff;
    if (response) block[0] = 0x80;
    return ecb(keys.sEnc, { disablePadding: true }).encrypt(block);
  }

  protected encrypt(keys: Scp03SessionKeys, data: Uint8Array, response: boolean): Uint8Array {
    const padded = padM2(data);
    const out = cbc(keys.sEnc, this.icv(keys, response), { disablePadding: true }).encrypt(padded);
    padded.fill(0);
    return out;
  }

  /** Decrypts and removes padding; undefined when the length or the padding is wrong. */
  protected decrypt(keys: Scp03SessionKeys, data: Uint8Array, response: boolean): Uint8Array | undefined {
    if (data.length === 0 || data.length % AES_BLOCK_BYTES !== 0) return undefined;
    const plain = cbc(keys.sEnc, this.icv(keys, response), { disablePadding: true }).decrypt(data);
    const out = unpadM2(plain);
    plain.fill(0);
    return out;
  }

  protected assertLevel(level: number): void {
    if (!VALID_SECURITY_LEVELS.includes(level)) {
      throw this.fail('security-level', `security level ${hex2(level)} is not one of 00, 01, 03, 11, 13, 33`, SW_WRONG_P1P2);
    }
    const i = this.iParameter;
    if (level & SECURITY_LEVEL.rMac && !(i & I_PARAMETER.rMac)) {
      throw this.fail('security-level', `security level ${hex2(level)} needs R-MAC, which the card does not support (i = ${hex2(i)})`, SW_WRONG_P1P2);
    }
    if (level & SECURITY_LEVEL.rEncryption && !(i & I_PARAMETER.rEncryption)) {
      throw this.fail('security-level', `security level ${hex2(level)} needs R-ENCRYPTION, which the card does not support (i = ${hex2(i)})`, SW_WRONG_P1P2);
    }
  }
}

/** Length of `length` bytes after ISO 9797-1 method 2 padding to 16 bytes. */
const padM2Length = (length: number): number => (Math.floor(length / AES_BLOCK_BYTES) + 1) * AES_BLOCK_BYTES;

/** True for SW 9000 and the warnings 62xx / 63xx, the only responses SCP03 protects (Amd D 6.2.5). */
function isProtectedSw(sw1: number, sw2: number): boolean {
  return (sw1 === 0x90 && sw2 === 0x00) || sw1 === 0x62 || sw1 === 0x63;
}

function splitResponse(response: Uint8Array, what: string): { data: Uint8Array; sw: Uint8Array } {
  if (response.length < 2) throw new FormatError(what, `length ${response.length} has no status word`);
  return { data: response.subarray(0, response.length - 2), sw: response.subarray(response.length - 2) };
}

// ---------------------------------------------------------------------------------------------
// Host side
// ---------------------------------------------------------------------------------------------

/** Options for {@link Scp03HostSession}. */
export interface Scp03HostOptions {
  /** P1 of INITIALIZE UPDATE: key version number, 0 = the first available keyset (default 0) */
  kvn?: number;
  /** challenge length: 8 (S8 mode, default) or 16 (S16 mode) */
  sMode?: SMode;
  /** logical channel 0..3 for INITIALIZE UPDATE and EXTERNAL AUTHENTICATE (default 0) */
  logicalChannel?: number;
  /**
   * AID of the security domain; when given and the card uses pseudo-random challenges, the host also
   * checks the card challenge against the sequence counter (Amd D 6.2.2.1).
   */
  sdAid?: Uint8Array;
}

/**
 * The host (off-card entity) side of an SCP03 session: call initializeUpdate(),
 * processInitializeUpdateResponse(), externalAuthenticate(level), processExternalAuthenticateResponse(),
 * then wrap() each command and unwrap() its response, in order.
 *
 * Security: the static keys stay the caller's (not copied, not wiped); session keys are wiped on
 * close() and on any SecureChannelError, after which every call throws.
 */
export class Scp03HostSession extends Scp03Session {
  private readonly staticKeys: Scp03StaticKeys;
  private readonly kvn: number;
  private readonly channel: number;
  private readonly sdAid: Uint8Array | undefined;
  private hostChallenge: Uint8Array | undefined;
  private hostCryptogram: Uint8Array | undefined;
  private requestedLevel = 0;
  private awaitingAuthResponse = false;

  constructor(keys: Scp03StaticKeys, options: Scp03HostOptions = {}) {
    super();
    assertAesKey(keys.enc, 'Key-ENC');
    assertAesKey(keys.mac, 'Key-MAC');
    this.staticKeys = keys;
    this.kvn = options.kvn ?? 0;
    if (!Number.isInteger(this.kvn) || this.kvn < 0 || this.kvn > 0xff) throw new RangeError('kvn must be one byte');
    this.sMode = options.sMode ?? 8;
    if (this.sMode !== 8 && this.sMode !== 16) throw new RangeError('sMode must be 8 or 16');
    this.channel = options.logicalChannel ?? 0;
    if (!Number.isInteger(this.channel) || this.channel < 0 || this.channel > 3) throw new RangeError('logicalChannel must be 0..3');
    this.sdAid = options.sdAid;
  }

  /**
   * Builds INITIALIZE UPDATE (Amd D 7.1.1): 80 50 kvn 00 Lc host-challenge 00. Starts (or restarts)
   * the handshake. The host challenge must be fresh random bytes; pass one only to replay a transcript.
   */
  initializeUpdate(hostChallenge: Uint8Array = randomBytes(this.sMode)): Uint8Array {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', 'initializeUpdate on a closed session');
    if (hostChallenge.length !== this.sMode) throw new FormatError('host challenge', `length ${hostChallenge.length} is not ${this.sMode} (S${this.sMode} mode)`);
    if (this.keys) wipe(this.keys.sEnc, this.keys.sMac, this.keys.sRmac);
    this.keys = undefined;
    this.level = 0;
    this.awaitingAuthResponse = false;
    this.hostChallenge = hostChallenge.slice();
    this.phase = 'initialized';
    return concatBytes(Uint8Array.of(0x80 | this.channel, INS_INITIALIZE_UPDATE, this.kvn, 0x00, this.sMode), hostChallenge, Uint8Array.of(0x00));
  }

  /**
   * Checks the INITIALIZE UPDATE response (data || SW): derives the session keys (Amd D 6.2.1) and
   * verifies the card cryptogram in constant time (6.2.2.2). Throws SecureChannelError
   * 'card-cryptogram' (wrong keys or a card impostor), 'status-word', 'protocol' or 'card-challenge'.
   */
  processInitializeUpdateResponse(response: Uint8Array): InitializeUpdateResponse {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', 'processInitializeUpdateResponse on a closed session');
    if (this.phase !== 'initialized' || !this.hostChallenge) throw this.fail('state', 'no INITIALIZE UPDATE was built');
    const { data, sw } = splitResponse(response, 'INITIALIZE UPDATE response');
    if (sw[0] !== 0x90 || sw[1] !== 0x00) throw this.fail('status-word', `INITIALIZE UPDATE returned SW ${hex2(sw[0])}${hex2(sw[1])}`);
    let iu: InitializeUpdateResponse;
    try {
      iu = decodeInitializeUpdateResponse(data);
    } catch (e) {
      this.close();
      throw e;
    }
    const cardSMode = iu.iParameter & I_PARAMETER.s16 ? 16 : 8;
    if (cardSMode !== this.sMode) throw this.fail('protocol', `card uses S${cardSMode} mode, host asked for S${this.sMode}`);
    if (this.kvn !== 0 && iu.kvn !== this.kvn) throw this.fail('protocol', `card answered with key version ${hex2(iu.kvn)}, host asked for ${hex2(this.kvn)}`);
    this.iParameter = iu.iParameter;
    if (this.sdAid && iu.iParameter & I_PARAMETER.pseudoRandomChallenge) {
      if (iu.sequenceCounter === undefined) throw this.fail('protocol', 'pseudo-random card challenge without a sequence counter');
      const expected = pseudoRandomCardChallenge(this.staticKeys.enc, iu.sequenceCounter, this.sdAid, this.sMode);
      if (!equalBytes(expected, iu.cardChallenge)) throw this.fail('card-challenge', 'card challenge does not derive from the sequence counter and AID');
    }
    const keys = deriveSessionKeys(this.staticKeys, this.hostChallenge, iu.cardChallenge);
    const expected = computeCardCryptogram(keys.sMac, this.hostChallenge, iu.cardChallenge);
    if (!equalBytes(expected, iu.cardCryptogram)) {
      wipe(keys.sEnc, keys.sMac, keys.sRmac);
      throw this.fail('card-cryptogram', 'card cryptogram does not verify');
    }
    this.keys = keys;
    this.hostCryptogram = computeHostCryptogram(keys.sMac, this.hostChallenge, iu.cardChallenge);
    this.phase = 'authenticating';
    return iu;
  }

  /**
   * Builds EXTERNAL AUTHENTICATE (Amd D 7.1.2): 84 82 level 00 Lc host-cryptogram C-MAC, the C-MAC
   * computed with a zero chaining value (6.2.4). The host cryptogram is never encrypted.
   */
  externalAuthenticate(securityLevel: number): Uint8Array {
    const keys = this.requirePhase('authenticating', 'externalAuthenticate');
    if (!this.hostCryptogram) throw this.fail('state', 'no host cryptogram');
    this.assertLevel(securityLevel);
    this.requestedLevel = securityLevel;
    this.chaining = new Uint8Array(AES_BLOCK_BYTES);
    const lc = this.sMode * 2;
    const mac = this.computeCmac(keys, Uint8Array.of(macCla(0x80), INS_EXTERNAL_AUTHENTICATE, securityLevel, 0x00, lc), this.hostCryptogram);
    const command = concatBytes(
      Uint8Array.of(0x80 | CLA_SM | this.channel, INS_EXTERNAL_AUTHENTICATE, securityLevel, 0x00, lc),
      this.hostCryptogram,
      mac.subarray(0, this.sMode),
    );
    // The session opens only when processExternalAuthenticateResponse() sees 9000.
    this.hostCryptogram = undefined;
    this.awaitingAuthResponse = true;
    return command;
  }

  /** Accepts the EXTERNAL AUTHENTICATE response (SW 9000, no R-MAC) and opens the session at the requested level. */
  processExternalAuthenticateResponse(response: Uint8Array): void {
    this.requirePhase('authenticating', 'processExternalAuthenticateResponse');
    if (!this.awaitingAuthResponse) throw this.fail('state', 'no EXTERNAL AUTHENTICATE was built');
    const { sw } = splitResponse(response, 'EXTERNAL AUTHENTICATE response');
    if (response.length !== 2 || sw[0] !== 0x90 || sw[1] !== 0x00) {
      throw this.fail('status-word', `EXTERNAL AUTHENTICATE returned SW ${hex2(sw[0])}${hex2(sw[1])} (${response.length - 2} data bytes)`);
    }
    this.awaitingAuthResponse = false;
    this.level = this.requestedLevel;
    this.counter = 0; // Amd D 6.2.6: the first command of the session uses counter value 1
    this.phase = 'open';
  }

  /**
   * Protects a plain command APDU (cases 1-4, short or extended) at the session's security level:
   * C-DECRYPTION encrypts the data field (ISO 9797-1 M2 padding, AES-CBC, ICV from the counter;
   * Amd D 6.2.6), then the C-MAC is computed over chaining value || CLA' INS P1 P2 Lc' data'
   * (6.2.4) and appended; the CLA gets b3 (0x04) and Lc covers data plus MAC. Le is kept as given:
   * with R-MAC/R-ENC the response is longer than the plain one, so send Le = 00.
   */
  wrap(command: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'wrap');
    const c = parseCommandApdu(command, 'command APDU');
    if (!(this.level & SECURITY_LEVEL.cMac)) return command.slice();
    checkCla(c.cla, 'command APDU');
    if (c.cla & CLA_SM) throw new FormatError('command APDU', `CLA ${hex2(c.cla)} already indicates secure messaging; pass the plain command`);
    const encrypting = (this.level & SECURITY_LEVEL.cDecryption) !== 0 && c.data.length > 0;
    // Check the wrapped length before touching the counter or chaining value: a command that is
    // never sent must leave the session in step with the card.
    const wrappedLength = (encrypting ? padM2Length(c.data.length) : c.data.length) + this.sMode;
    const lc = lcField(wrappedLength, c.extended, 'wrapped command APDU');
    this.nextCounter();
    const data = encrypting ? this.encrypt(keys, c.data, false) : c.data;
    const mac = this.computeCmac(keys, Uint8Array.of(macCla(c.cla), c.ins, c.p1, c.p2), lc, data);
    return concatBytes(
      Uint8Array.of(c.cla | CLA_SM, c.ins, c.p1, c.p2),
      lc,
      data,
      mac.subarray(0, this.sMode),
      leField(c.ne, c.extended, true),
    );
  }

  /**
   * Checks and strips the protection of a response APDU (data || SW) to the last wrapped command:
   * with R-MAC, verifies the R-MAC over chaining value || data || SW (Amd D 6.2.5) in constant time;
   * with R-ENCRYPTION, decrypts the data (ICV from 80 || counter, 6.2.7). Responses with an error SW
   * (not 9000, 62xx, 63xx) carry no protection and are returned unchanged - their SW is not authenticated.
   */
  unwrap(response: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'unwrap');
    const { data, sw } = splitResponse(response, 'response APDU');
    if (!(this.level & SECURITY_LEVEL.rMac) || !isProtectedSw(sw[0], sw[1])) return response.slice();
    if (data.length < this.sMode) throw this.fail('r-mac', `response has ${data.length} data bytes, no room for the ${this.sMode}-byte R-MAC`);
    const body = data.subarray(0, data.length - this.sMode);
    const expected = this.computeRmac(keys, body, sw);
    if (!equalBytes(expected, data.subarray(data.length - this.sMode))) throw this.fail('r-mac', 'R-MAC does not verify');
    if (!(this.level & SECURITY_LEVEL.rEncryption) || body.length === 0) return concatBytes(body, sw);
    const plain = this.decrypt(keys, body, true);
    if (!plain) throw this.fail('padding', `R-ENC response data (${body.length} bytes) does not decrypt to padded data`);
    return concatBytes(plain, sw);
  }
}

// ---------------------------------------------------------------------------------------------
// Card side
// ---------------------------------------------------------------------------------------------

/** What the card needs to answer INITIALIZE UPDATE for one keyset. */
export interface Scp03CardOptions {
  /** the static keyset selected by P1 (the caller looks it up; P1 = 00 means its default keyset) */
  keys: Scp03StaticKeys;
  /** key version number of that keyset (returned in the key information) */
  kvn: number;
  /** key diversification data, 10 bytes (returned as is) */
  kdd: Uint8Array;
  /** the "i" parameter (I_PARAMETER bits); default 0x70: S8, pseudo-random challenge, R-MAC, R-ENC */
  iParameter?: number;
  /** AID of the security domain: the context of pseudo-random challenges (Amd D 6.2.2.1) */
  aid?: Uint8Array;
  /**
   * Sequence counter value this INITIALIZE UPDATE uses (pseudo-random mode). The caller keeps the
   * counter in persistent memory and must store counter + 1 before the response leaves the card,
   * so that no value is used twice (a repeated value repeats the card challenge).
   */
  sequenceCounter?: number;
  /** random mode only: a given card challenge (default: fresh random bytes); for transcripts and tests */
  cardChallenge?: Uint8Array;
}

const STATE_FORMAT = 0x01;

/**
 * The card (security domain) side of an SCP03 session. Created by
 * {@link Scp03CardSession.initializeUpdate}; then processExternalAuthenticate(), and per command
 * unwrapCommand() / wrapResponse(). Any failure closes the session (the card answers with the
 * error's `sw`, e.g. 6982); every later call throws 'session-closed'. serialize()/restore() move
 * the state (including session keys) through transient memory (CLEAR_ON_RESET / CLEAR_ON_DESELECT).
 */
export class Scp03CardSession extends Scp03Session {
  private expectedHostCryptogram: Uint8Array | undefined;

  private constructor() {
    super();
  }

  /**
   * Processes INITIALIZE UPDATE (Amd D 7.1.1): 80-83 50 kvn 00 Lc host-challenge [Le]. Returns the new
   * session and the response APDU: KDD (10) || kvn || 03 || i || card challenge || card cryptogram
   * [|| sequence counter (3)] || 9000. Throws FormatError for a malformed command,
   * SecureChannelError 'key-version' (6A88) when P1 names another keyset.
   */
  static initializeUpdate(command: Uint8Array, options: Scp03CardOptions): { session: Scp03CardSession; response: Uint8Array } {
    const c = parseCommandApdu(command, 'INITIALIZE UPDATE');
    checkCla(c.cla, 'INITIALIZE UPDATE');
    if (c.ins !== INS_INITIALIZE_UPDATE || c.cla & CLA_SM) throw new FormatError('INITIALIZE UPDATE', `header ${hex2(c.cla)} ${hex2(c.ins)} is not 80 50`);
    const i = options.iParameter ?? I_PARAMETER.pseudoRandomChallenge | I_PARAMETER.rMac | I_PARAMETER.rEncryption;
    if (i & I_PARAMETER.rEncryption && !(i & I_PARAMETER.rMac)) throw new RangeError('iParameter: R-ENCRYPTION support requires R-MAC support');
    const sMode: SMode = i & I_PARAMETER.s16 ? 16 : 8;
    if (c.data.length !== sMode) throw new FormatError('INITIALIZE UPDATE host challenge', `length ${c.data.length} is not ${sMode} (S${sMode} mode)`);
    if (c.p1 !== 0 && c.p1 !== options.kvn) {
      throw new SecureChannelError('key-version', `key version ${hex2(c.p1)} not found`, SW_KEY_NOT_FOUND);
    }
    if (options.kdd.length !== 10) throw new RangeError('kdd must be 10 bytes');
    assertAesKey(options.keys.enc, 'Key-ENC');
    assertAesKey(options.keys.mac, 'Key-MAC');

    let cardChallenge: Uint8Array;
    let sequenceCounter: number | undefined;
    if (i & I_PARAMETER.pseudoRandomChallenge) {
      if (options.sequenceCounter === undefined || !options.aid) throw new RangeError('pseudo-random card challenge needs sequenceCounter and aid');
      sequenceCounter = options.sequenceCounter;
      if (sequenceCounter > 0xffffff) throw new SecureChannelError('sequence-counter', 'sequence counter exhausted', SW_CONDITIONS);
      cardChallenge = pseudoRandomCardChallenge(options.keys.enc, sequenceCounter, options.aid, sMode);
    } else {
      cardChallenge = options.cardChallenge ? options.cardChallenge.slice() : randomBytes(sMode);
      if (cardChallenge.length !== sMode) throw new RangeError(`cardChallenge must be ${sMode} bytes`);
    }

    const session = new Scp03CardSession();
    session.sMode = sMode;
    session.iParameter = i;
    const hostChallenge = c.data;
    session.keys = deriveSessionKeys(options.keys, hostChallenge, cardChallenge);
    session.expectedHostCryptogram = computeHostCryptogram(session.keys.sMac, hostChallenge, cardChallenge);
    session.phase = 'initialized';
    const data = encodeInitializeUpdateResponse({
      kdd: options.kdd,
      kvn: options.kvn,
      scpId: SCP03_ID,
      iParameter: i,
      cardChallenge,
      cardCryptogram: computeCardCryptogram(session.keys.sMac, hostChallenge, cardChallenge),
      sequenceCounter,
    });
    return { session, response: concatBytes(data, SW_OK) };
  }

  /**
   * Processes EXTERNAL AUTHENTICATE (Amd D 7.1.2): verifies its C-MAC (zero chaining value) and the
   * host cryptogram in constant time, then opens the session at security level P1. Returns the
   * response APDU 9000 (never R-MACed). Throws SecureChannelError 'host-cryptogram' (6300), 'c-mac'
   * or 'missing-c-mac' (6982), 'security-level' (6A86), 'state' (6985).
   */
  processExternalAuthenticate(command: Uint8Array): Uint8Array {
    const keys = this.requirePhase('initialized', 'EXTERNAL AUTHENTICATE');
    let c: CommandApdu;
    try {
      c = parseCommandApdu(command, 'EXTERNAL AUTHENTICATE');
      checkCla(c.cla, 'EXTERNAL AUTHENTICATE');
    } catch (e) {
      this.close();
      throw e;
    }
    if (c.ins !== INS_EXTERNAL_AUTHENTICATE) throw this.fail('state', `INS ${hex2(c.ins)} received while EXTERNAL AUTHENTICATE was expected`, SW_CONDITIONS);
    if (!(c.cla & CLA_SM)) throw this.fail('missing-c-mac', 'EXTERNAL AUTHENTICATE without secure messaging', SW_SECURITY_STATUS);
    if (c.p2 !== 0x00) throw this.fail('security-level', `P2 ${hex2(c.p2)} is not 00`, SW_WRONG_P1P2);
    this.assertLevel(c.p1);
    if (c.data.length !== this.sMode * 2) throw this.fail('host-cryptogram', `data length ${c.data.length} is not ${this.sMode * 2}`, SW_AUTH_FAILED);
    const cryptogram = c.data.subarray(0, this.sMode);
    const mac = this.computeCmac(keys, Uint8Array.of(macCla(c.cla), c.ins, c.p1, c.p2), lcField(c.data.length, c.extended, 'EXTERNAL AUTHENTICATE'), cryptogram);
    const macOk = equalBytes(mac.subarray(0, this.sMode), c.data.subarray(this.sMode));
    const cryptogramOk = equalBytes(this.expectedHostCryptogram as Uint8Array, cryptogram);
    if (!cryptogramOk) throw this.fail('host-cryptogram', 'host cryptogram does not verify', SW_AUTH_FAILED);
    if (!macOk) throw this.fail('c-mac', 'EXTERNAL AUTHENTICATE C-MAC does not verify', SW_SECURITY_STATUS);
    this.expectedHostCryptogram = undefined;
    this.level = c.p1;
    this.counter = 0;
    this.phase = 'open';
    return SW_OK.slice();
  }

  /**
   * Verifies and strips a protected command (Amd D 6.2.4, 6.2.6): checks that the security level's
   * C-MAC is present and valid (the chaining value makes replayed, reordered or skipped commands
   * fail), then decrypts the data with C-DECRYPTION. Returns the plain APDU (CLA b3 cleared, Lc of
   * the plain data, Le as received). Throws SecureChannelError 'missing-c-mac', 'c-mac', 'padding'
   * (all 6982) and closes the session.
   */
  unwrapCommand(command: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'unwrapCommand');
    let c: CommandApdu;
    try {
      c = parseCommandApdu(command, 'command APDU');
      checkCla(c.cla, 'command APDU');
    } catch (e) {
      this.close();
      throw e;
    }
    const hasSm = (c.cla & CLA_SM) !== 0;
    if (!(this.level & SECURITY_LEVEL.cMac)) {
      if (hasSm) throw this.fail('security-level', 'secure messaging received but the session has security level 00', SW_SECURITY_STATUS);
      return command.slice();
    }
    if (!hasSm) throw this.fail('missing-c-mac', `command ${hex2(c.cla)} ${hex2(c.ins)} without C-MAC at security level ${hex2(this.level)}`, SW_SECURITY_STATUS);
    if (c.data.length < this.sMode) throw this.fail('c-mac', `data field of ${c.data.length} bytes has no room for the C-MAC`, SW_SECURITY_STATUS);
    const body = c.data.subarray(0, c.data.length - this.sMode);
    const lc = lcField(c.data.length, c.extended, 'command APDU');
    const mac = this.computeCmac(keys, Uint8Array.of(macCla(c.cla), c.ins, c.p1, c.p2), lc, body);
    if (!equalBytes(mac.subarray(0, this.sMode), c.data.subarray(body.length))) throw this.fail('c-mac', 'C-MAC does not verify', SW_SECURITY_STATUS);
    this.nextCounter();
    let data = body;
    if (this.level & SECURITY_LEVEL.cDecryption && body.length > 0) {
      const plain = this.decrypt(keys, body, false);
      if (!plain) throw this.fail('padding', `C-DECRYPTION data (${body.length} bytes) does not decrypt to padded data`, SW_SECURITY_STATUS);
      data = plain;
    }
    return concatBytes(
      Uint8Array.of(c.cla & ~CLA_SM, c.ins, c.p1, c.p2),
      lcField(data.length, c.extended, 'unwrapped command APDU'),
      data,
      leField(c.ne, c.extended, data.length > 0),
    );
  }

  /**
   * Protects the response (data || SW) to the last unwrapped command: with R-ENCRYPTION, encrypts
   * non-empty data (ICV from 80 || counter, Amd D 6.2.7); with R-MAC, appends the R-MAC over
   * chaining value || data || SW (6.2.5). An error SW (not 9000, 62xx, 63xx) is returned alone,
   * unprotected and without data, as Amd D 6.2.5 requires.
   */
  wrapResponse(response: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'wrapResponse');
    const { data, sw } = splitResponse(response, 'response APDU');
    if (!(this.level & SECURITY_LEVEL.rMac)) return response.slice();
    if (!isProtectedSw(sw[0], sw[1])) return sw.slice();
    const body = this.level & SECURITY_LEVEL.rEncryption && data.length > 0 ? this.encrypt(keys, data, true) : data;
    return concatBytes(body, this.computeRmac(keys, body, sw), sw);
  }

  /**
   * The session state as bytes for transient memory: format, phase, S mode, i, security level,
   * counter, MAC chaining value, the pending host cryptogram and the session keys.
   * Security: the bytes contain the session keys; keep them only in memory cleared on reset.
   */
  serialize(): Uint8Array {
    const header = new Uint8Array(12);
    header[0] = STATE_FORMAT;
    header[1] = PHASE_CODES.indexOf(this.phase);
    header[2] = this.sMode;
    header[3] = this.iParameter;
    header[4] = this.level;
    header[5] = this.counter >>> 24;
    header[6] = (this.counter >>> 16) & 0xff;
    header[7] = (this.counter >>> 8) & 0xff;
    header[8] = this.counter & 0xff;
    if (!this.keys || this.phase === 'closed' || this.phase === 'idle') return header.subarray(0, 9).slice();
    header[9] = this.keys.sEnc.length;
    header[10] = this.keys.sMac.length;
    header[11] = this.expectedHostCryptogram ? 1 : 0;
    return concatBytes(
      header,
      this.chaining,
      this.expectedHostCryptogram ?? new Uint8Array(0),
      this.keys.sEnc,
      this.keys.sMac,
      this.keys.sRmac,
    );
  }

  /** Rebuilds a session from {@link serialize} output. Throws FormatError for bytes it did not write. */
  static restore(state: Uint8Array): Scp03CardSession {
    const bad = (detail: string): FormatError => new FormatError('SCP03 card session state', detail);
    if (state.length < 9 || state[0] !== STATE_FORMAT) throw bad('unknown format');
    const phase = PHASE_CODES[state[1]];
    const sMode = state[2];
    if (!phase || (sMode !== 8 && sMode !== 16)) throw bad('corrupt header');
    const s = new Scp03CardSession();
    s.phase = phase;
    s.sMode = sMode;
    s.iParameter = state[3];
    s.level = state[4];
    s.counter = ((state[5] << 24) | (state[6] << 16) | (state[7] << 8) | state[8]) >>> 0;
    if (phase === 'closed' || phase === 'idle') {
      if (state.length !== 9) throw bad('unexpected key material');
      return s;
    }
    if (state.length < 12) throw bad('truncated');
    const encLen = state[9];
    const macLen = state[10];
    const hasCryptogram = state[11] === 1;
    if (hasCryptogram !== (phase === 'initialized')) throw bad('pending host cryptogram does not match the phase');
    const expected = 12 + 16 + (hasCryptogram ? sMode : 0) + encLen + 2 * macLen;
    if (state.length !== expected) throw bad(`length ${state.length} is not ${expected}`);
    let off = 12;
    const take = (n: number): Uint8Array => state.slice(off, (off += n));
    s.chaining = take(16);
    if (hasCryptogram) s.expectedHostCryptogram = take(sMode);
    s.keys = { sEnc: take(encLen), sMac: take(macLen), sRmac: take(macLen) };
    assertAesKey(s.keys.sEnc, 'S-ENC');
    assertAesKey(s.keys.sMac, 'S-MAC');
    return s;
  }

  override close(): void {
    wipe(this.expectedHostCryptogram);
    this.expectedHostCryptogram = undefined;
    super.close();
  }
}
