/**
 * @module The card (security domain) side of one SCP03 session (GPC 2.3 Amendment D): INITIALIZE
 * UPDATE and EXTERNAL AUTHENTICATE checked header by header with the status word each failure
 * answers, then every command unwrapped and every response wrapped, with the state serializable
 * for transient memory.
 */
import { type CommandApdu, decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, encodeResponseApdu, isExtended } from '../applet-spec/codec/apdu.js';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate, type InitializeUpdateResponse } from '../applet-spec/commands/initialize-update.js';
import { CLA_SECURE_MESSAGING } from '../applet-spec/define-command.js';
import { FormatError } from '../applet-spec/errors.js';
import { SW } from '../applet-spec/status-words.js';
import { assertAesKey } from '../crypto/aes-cmac.js';
import { concatBytes, equalBytes, randomBytes, wipe } from '../base/bytes.js';
import {
  I_PARAMETER,
  MAX_SEQUENCE_COUNTER,
  SCP03_ID,
  SECURITY_LEVEL,
  SecureChannelError,
  commandMac,
  computeCardCryptogram,
  computeHostCryptogram,
  deriveSessionKeys,
  initialChain,
  pseudoRandomCardChallenge,
  securityLevelProblem,
  unwrapCommand,
  wrapResponse,
  type SMode,
  type Scp03Chain,
  type Scp03SessionKeys,
  type Scp03StaticKeys,
  type SecureChannelReason,
} from '../crypto/scp03.js';
import { hexByte } from '../base/hex.js';

/** The D-RMB INITIALIZE UPDATE carries 8-byte challenges: SCP03 in S8 mode (Amd D 5.1, i b1 = 0). */
const S_MODE: SMode = 8;


/** The CLA must be a first interindustry class (b7 = 0: logical channels 0..3), as GP 2.3 11.1.4 allows for SCP03 here. */
function checkCla(cla: number, what: string): void {
  if (cla & 0x40 || cla === 0xff) throw new FormatError(what, `CLA ${hexByte(cla)} is not a first-interindustry class (further-interindustry channels are not supported)`);
}

/** What the card needs to answer INITIALIZE UPDATE for one keyset. */
export interface Scp03CardOptions {
  /** the static keyset selected by P1 (the caller looks it up; P1 = 00 means its default keyset) */
  keys: Scp03StaticKeys;
  /** key version number of that keyset (returned in the key information) */
  kvn: number;
  /** key diversification data, 10 bytes (returned as is) */
  kdd: Uint8Array;
  /** the "i" parameter (I_PARAMETER bits, S8 mode); default 0x70: pseudo-random challenge, R-MAC, R-ENC */
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

type Phase = 'idle' | 'initialized' | 'authenticating' | 'open' | 'closed';
const PHASE_CODES: readonly Phase[] = ['idle', 'initialized', 'authenticating', 'open', 'closed'];
const STATE_FORMAT = 0x01;

/**
 * The card side of an SCP03 session. Created by {@link Scp03CardSession.initializeUpdate}; then
 * processExternalAuthenticate(), and per command unwrapCommand() / wrapResponse(). Any failure
 * closes the session and throws SecureChannelError with the `sw` the card answers (e.g. 6982);
 * every later call throws 'session-closed'. serialize()/restore() move the state (including
 * session keys) through transient memory (CLEAR_ON_RESET / CLEAR_ON_DESELECT).
 */
export class Scp03CardSession {
  private phase: Phase = 'idle';
  private keys: Scp03SessionKeys | undefined;
  private iParameter = 0;
  private level = 0;
  private chain: Scp03Chain = initialChain();
  private expectedHostCryptogram: Uint8Array | undefined;

  private constructor() {}

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

  /**
   * Processes INITIALIZE UPDATE (Amd D 7.1.1): 80 50 kvn 00 Lc host-challenge [Le]. Returns the new
   * session and the response data of the spec's layout (the card OS adds 9000). Throws FormatError
   * for a malformed command, SecureChannelError 'key-version' (6A88) when P1 names another keyset,
   * (6A86) when P2 is not 00, 'sequence-counter' (6985) when the counter is used up.
   */
  static initializeUpdate(apdu: CommandApdu, options: Scp03CardOptions): { session: Scp03CardSession; response: InitializeUpdateResponse; data: Uint8Array } {
    checkCla(apdu.cla, 'INITIALIZE UPDATE');
    // GP 2.3 11.7: INITIALIZE UPDATE itself never travels with secure messaging.
    if (apdu.ins !== initializeUpdate.ins || apdu.cla & CLA_SECURE_MESSAGING) {
      throw new FormatError('INITIALIZE UPDATE', `header ${hexByte(apdu.cla)} ${hexByte(apdu.ins)} is not 80 50`);
    }
    // Amd D 7.1.1: P2 is the key identifier, 00.
    if (apdu.p2 !== 0x00) throw new SecureChannelError('key-version', `key identifier P2 ${hexByte(apdu.p2)} is not 00`, SW.INCORRECT_P1P2);
    const i = options.iParameter ?? I_PARAMETER.pseudoRandomChallenge | I_PARAMETER.rMac | I_PARAMETER.rEncryption;
    if (i & I_PARAMETER.rEncryption && !(i & I_PARAMETER.rMac)) throw new RangeError('iParameter: R-ENCRYPTION support requires R-MAC support');
    if (i & I_PARAMETER.s16) throw new RangeError('iParameter: the INITIALIZE UPDATE of this card carries 8-byte challenges (S8 mode)');
    const { keyVersion, hostChallenge } = initializeUpdate.decode(apdu);
    if (keyVersion !== 0 && keyVersion !== options.kvn) {
      throw new SecureChannelError('key-version', `key version ${hexByte(keyVersion)} not found`, SW.REFERENCED_DATA_NOT_FOUND);
    }
    if (options.kdd.length !== 10) throw new RangeError('kdd must be 10 bytes');
    assertAesKey(options.keys.enc, 'Key-ENC');
    assertAesKey(options.keys.mac, 'Key-MAC');

    let cardChallenge: Uint8Array;
    let sequenceCounter: number | undefined;
    if (i & I_PARAMETER.pseudoRandomChallenge) {
      if (options.sequenceCounter === undefined || !options.aid) throw new RangeError('pseudo-random card challenge needs sequenceCounter and aid');
      sequenceCounter = options.sequenceCounter;
      if (sequenceCounter > MAX_SEQUENCE_COUNTER) throw new SecureChannelError('sequence-counter', 'sequence counter exhausted', SW.CONDITIONS_OF_USE_NOT_SATISFIED);
      cardChallenge = pseudoRandomCardChallenge(options.keys.enc, sequenceCounter, options.aid, S_MODE);
    } else {
      cardChallenge = options.cardChallenge ? options.cardChallenge.slice() : randomBytes(S_MODE);
      if (cardChallenge.length !== S_MODE) throw new RangeError(`cardChallenge must be ${S_MODE} bytes`);
    }

    const session = new Scp03CardSession();
    session.iParameter = i;
    const keys = deriveSessionKeys(options.keys, hostChallenge, cardChallenge);
    session.keys = keys;
    session.expectedHostCryptogram = computeHostCryptogram(keys.sMac, hostChallenge, cardChallenge);
    session.phase = 'initialized';
    const response: InitializeUpdateResponse = {
      keyDiversificationData: options.kdd,
      keyVersion: options.kvn,
      scpId: SCP03_ID,
      iParameter: i,
      cardChallenge,
      cardCryptogram: computeCardCryptogram(keys.sMac, hostChallenge, cardChallenge),
      sequenceCounter,
    };
    return { session, response, data: initializeUpdate.encodeResponse(response) };
  }

  /**
   * Processes EXTERNAL AUTHENTICATE (Amd D 7.1.2): verifies its C-MAC (zero chaining value) and the
   * host cryptogram in constant time, then opens the session at security level P1. The answer is
   * 9000 without data (never R-MACed). Throws SecureChannelError 'host-cryptogram' (6300), 'c-mac'
   * or 'missing-c-mac' (6982), 'security-level' (6A86), 'state' (6985), FormatError for a CLA
   * outside the first interindustry class.
   */
  processExternalAuthenticate(apdu: CommandApdu): void {
    const keys = this.requirePhase('initialized', 'EXTERNAL AUTHENTICATE');
    try {
      checkCla(apdu.cla, 'EXTERNAL AUTHENTICATE');
    } catch (e) {
      this.close();
      throw e;
    }
    if (apdu.ins !== externalAuthenticate.ins) throw this.fail('state', `INS ${hexByte(apdu.ins)} received while EXTERNAL AUTHENTICATE was expected`, SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    if (!(apdu.cla & CLA_SECURE_MESSAGING)) throw this.fail('missing-c-mac', 'EXTERNAL AUTHENTICATE without secure messaging', SW.SECURITY_STATUS_NOT_SATISFIED);
    if (apdu.p2 !== 0x00) throw this.fail('security-level', `P2 ${hexByte(apdu.p2)} is not 00`, SW.INCORRECT_P1P2);
    const problem = securityLevelProblem(apdu.p1, this.iParameter);
    if (problem) throw this.fail('security-level', problem, SW.INCORRECT_P1P2);
    if (apdu.data.length !== S_MODE * 2) throw this.fail('host-cryptogram', `data length ${apdu.data.length} is not ${S_MODE * 2}`, SW.AUTHENTICATION_FAILED);
    const cryptogram = apdu.data.subarray(0, S_MODE);
    const mac = commandMac(keys.sMac, initialChain().chaining, apdu, cryptogram, S_MODE, isExtended(apdu));
    const macOk = equalBytes(mac.subarray(0, S_MODE), apdu.data.subarray(S_MODE));
    const cryptogramOk = equalBytes(this.expectedHostCryptogram as Uint8Array, cryptogram);
    if (!cryptogramOk) throw this.fail('host-cryptogram', 'host cryptogram does not verify', SW.AUTHENTICATION_FAILED);
    if (!macOk) throw this.fail('c-mac', 'EXTERNAL AUTHENTICATE C-MAC does not verify', SW.SECURITY_STATUS_NOT_SATISFIED);
    wipe(this.expectedHostCryptogram);
    this.expectedHostCryptogram = undefined;
    this.level = apdu.p1;
    this.chain = { chaining: mac, counter: 0 };
    this.phase = 'open';
  }

  /**
   * Verifies and strips a protected command (Amd D 6.2.4, 6.2.6): at a level with C-MAC every command
   * must carry one (CLA b3), valid over the chaining value, and C-DECRYPTION data must decrypt.
   * Returns the plain APDU (CLA b3 cleared, Lc of the plain data, Le as received). Throws
   * SecureChannelError 'missing-c-mac', 'c-mac', 'padding', 'security-level' (all 6982) and
   * FormatError for an APDU that does not decode, closing the session.
   */
  unwrapCommand(command: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'unwrapCommand');
    let c: CommandApdu;
    try {
      c = decodeCommandApdu(command);
      checkCla(c.cla, 'command APDU');
    } catch (e) {
      this.close();
      throw e;
    }
    const hasSm = (c.cla & CLA_SECURE_MESSAGING) !== 0;
    if (!(this.level & SECURITY_LEVEL.cMac)) {
      if (hasSm) throw this.fail('security-level', 'secure messaging received but the session has security level 00', SW.SECURITY_STATUS_NOT_SATISFIED);
      return command.slice();
    }
    if (!hasSm) throw this.fail('missing-c-mac', `command ${hexByte(c.cla)} ${hexByte(c.ins)} without C-MAC at security level ${hexByte(this.level)}`, SW.SECURITY_STATUS_NOT_SATISFIED);
    const extended = isExtended(c);
    const r = unwrapCommand({ keys, sMode: S_MODE, level: this.level }, this.chain, c, c.data, extended);
    if (!r.ok) throw this.fail(r.reason, r.detail, SW.SECURITY_STATUS_NOT_SATISFIED);
    this.chain = r.chain;
    return encodeCommandApdu({ ...c, cla: r.cla, data: r.data, extended });
  }

  /**
   * Protects the response (data || SW) to the last unwrapped command (Amd D 6.2.5, 6.2.7): an error
   * SW (not 9000, 62xx, 63xx) goes alone, unprotected and without data.
   */
  wrapResponse(response: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'wrapResponse');
    const { data, sw } = decodeResponseApdu(response);
    return encodeResponseApdu({ data: wrapResponse({ keys, sMode: S_MODE, level: this.level }, this.chain, data, sw), sw });
  }

  /** Ends the session and wipes the session keys and MAC chaining value. Idempotent. */
  close(): void {
    if (this.keys) wipe(this.keys.sEnc, this.keys.sMac, this.keys.sRmac);
    this.keys = undefined;
    wipe(this.chain.chaining, this.expectedHostCryptogram);
    this.expectedHostCryptogram = undefined;
    this.phase = 'closed';
    this.level = 0;
  }

  /**
   * The session state as bytes for transient memory: format, phase, S mode, i, security level,
   * counter, MAC chaining value, the pending host cryptogram and the session keys.
   * Security: the bytes contain the session keys; keep them only in memory cleared on reset.
   */
  serialize(): Uint8Array {
    const counter = this.chain.counter;
    const header = Uint8Array.of(STATE_FORMAT, PHASE_CODES.indexOf(this.phase), S_MODE, this.iParameter, this.level, counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff);
    if (!this.keys || this.phase === 'closed' || this.phase === 'idle') return header;
    return concatBytes(
      header,
      Uint8Array.of(this.keys.sEnc.length, this.keys.sMac.length, this.expectedHostCryptogram ? 1 : 0),
      this.chain.chaining,
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
    if (!phase || state[2] !== S_MODE) throw bad('corrupt header');
    const s = new Scp03CardSession();
    s.phase = phase;
    s.iParameter = state[3];
    s.level = state[4];
    const counter = ((state[5] << 24) | (state[6] << 16) | (state[7] << 8) | state[8]) >>> 0;
    if (phase === 'closed' || phase === 'idle') {
      if (state.length !== 9) throw bad('unexpected key material');
      s.chain = { chaining: new Uint8Array(16), counter };
      return s;
    }
    if (state.length < 12) throw bad('truncated');
    const encLen = state[9];
    const macLen = state[10];
    const hasCryptogram = state[11] === 1;
    if (hasCryptogram !== (phase === 'initialized')) throw bad('pending host cryptogram does not match the phase');
    const expected = 12 + 16 + (hasCryptogram ? S_MODE : 0) + encLen + 2 * macLen;
    if (state.length !== expected) throw bad(`length ${state.length} is not ${expected}`);
    let off = 12;
    const take = (n: number): Uint8Array => state.slice(off, (off += n));
    s.chain = { chaining: take(16), counter };
    if (hasCryptogram) s.expectedHostCryptogram = take(S_MODE);
    s.keys = { sEnc: take(encLen), sMac: take(macLen), sRmac: take(macLen) };
    assertAesKey(s.keys.sEnc, 'S-ENC');
    assertAesKey(s.keys.sMac, 'S-MAC');
    return s;
  }

  /** Closes the session and returns the error to throw, with the status word the card answers. */
  private fail(reason: SecureChannelReason, detail: string, sw: number): SecureChannelError {
    this.close();
    return new SecureChannelError(reason, detail, sw);
  }

  private requirePhase(expected: Phase, operation: string): Scp03SessionKeys {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', `${operation} on a closed session`, SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    if (this.phase !== expected || !this.keys) throw this.fail('state', `${operation} not allowed in phase ${this.phase}`, SW.CONDITIONS_OF_USE_NOT_SATISFIED);
    return this.keys;
  }
}
