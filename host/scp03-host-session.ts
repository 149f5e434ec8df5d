/**
 * @module The host (off-card entity) side of one SCP03 session (GPC 2.3 Amendment D): the request
 * values of INITIALIZE UPDATE and EXTERNAL AUTHENTICATE for the spec's commands, the checks on the
 * card's answer, and the session state (session keys, MAC chaining value, encryption counter) with
 * which every later command is wrapped and its response unwrapped.
 */
import { decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, encodeResponseApdu, isExtended } from '../applet-spec/codec/apdu.js';
import { externalAuthenticate, type ExternalAuthenticateRequest } from '../applet-spec/commands/external-authenticate.js';
import type { InitializeUpdateRequest, InitializeUpdateResponse } from '../applet-spec/commands/initialize-update.js';
import { CLA_SECURE_MESSAGING } from '../applet-spec/define-command.js';
import { FormatError } from '../applet-spec/errors.js';
import { equalBytes, randomBytes, wipe } from '../base/bytes.js';
import {
  I_PARAMETER,
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
  unwrapResponse,
  wrapCommand,
  type SMode,
  type Scp03Chain,
  type Scp03SessionKeys,
  type Scp03StaticKeys,
  type SecureChannelReason,
} from '../crypto/scp03.js';
import { hexByte } from '../base/hex.js';

/** The D-RMB INITIALIZE UPDATE carries 8-byte challenges: SCP03 in S8 mode (Amd D 5.1, i b1 = 0). */
const S_MODE: SMode = 8;

/** Options for {@link Scp03HostSession}. */
export interface Scp03HostOptions {
  /** P1 of INITIALIZE UPDATE: key version number, 0 = the card's default keyset (default 0) */
  kvn?: number;
  /**
   * AID of the security domain; when given and the card uses pseudo-random challenges, the host also
   * checks the card challenge against the sequence counter (Amd D 6.2.2.1).
   */
  sdAid?: Uint8Array;
}

type Phase = 'idle' | 'initialized' | 'authenticating' | 'open' | 'closed';


/**
 * One SCP03 session, host side: initializeUpdate() gives the request to send, then
 * processInitializeUpdateResponse() checks the decoded answer, externalAuthenticate(level) gives the
 * next request and authenticated() opens the session once the card accepted it; then wrap() each
 * command and unwrap() its response, in order. Status words are the sender's (CardSession).
 *
 * Security: the static keys stay the caller's (not copied, not wiped); session keys are wiped on
 * close() and on any SecureChannelError, after which every call throws.
 */
export class Scp03HostSession {
  private phase: Phase = 'idle';
  private keys: Scp03SessionKeys | undefined;
  private chain: Scp03Chain = initialChain();
  private level = 0;
  private iParameter = 0;
  private hostChallenge: Uint8Array | undefined;
  private hostCryptogram: Uint8Array | undefined;
  private requestedLevel: number | undefined;
  private cardKvn: number | undefined;
  private readonly staticKeys: Scp03StaticKeys;
  private readonly kvn: number;
  private readonly sdAid: Uint8Array | undefined;

  constructor(keys: Scp03StaticKeys, options: Scp03HostOptions = {}) {
    this.staticKeys = keys;
    this.kvn = options.kvn ?? 0;
    if (!Number.isInteger(this.kvn) || this.kvn < 0 || this.kvn > 0xff) throw new RangeError('kvn must be one byte');
    this.sdAid = options.sdAid;
  }

  /** Security level in force (P1 of EXTERNAL AUTHENTICATE); 0 before the session is open. */
  get securityLevel(): number {
    return this.phase === 'open' ? this.level : 0;
  }

  /** The key version the card answered INITIALIZE UPDATE with; undefined before. */
  get keyVersion(): number | undefined {
    return this.cardKvn;
  }

  /** True once the card accepted EXTERNAL AUTHENTICATE and until close() or a failure. */
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
    wipe(this.chain.chaining, this.hostCryptogram);
    this.hostCryptogram = undefined;
    this.phase = 'closed';
    this.level = 0;
  }

  /**
   * The INITIALIZE UPDATE request (Amd D 7.1.1): key version and host challenge. Starts (or restarts)
   * the handshake. The host challenge must be fresh random bytes; pass one only to replay a transcript.
   */
  initializeUpdate(hostChallenge: Uint8Array = randomBytes(S_MODE)): InitializeUpdateRequest {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', 'initializeUpdate on a closed session');
    if (hostChallenge.length !== S_MODE) throw new FormatError('host challenge', `length ${hostChallenge.length} is not ${S_MODE} (S${S_MODE} mode)`);
    if (this.keys) wipe(this.keys.sEnc, this.keys.sMac, this.keys.sRmac);
    this.keys = undefined;
    this.level = 0;
    this.requestedLevel = undefined;
    this.hostChallenge = hostChallenge.slice();
    this.phase = 'initialized';
    return { keyVersion: this.kvn, hostChallenge: this.hostChallenge.slice() };
  }

  /**
   * Checks the decoded INITIALIZE UPDATE response: SCP identifier, S mode and key version as asked,
   * derives the session keys (Amd D 6.2.1) and verifies the card cryptogram in constant time
   * (6.2.2.2). Throws SecureChannelError 'card-cryptogram' (wrong keys or a card impostor),
   * 'protocol' or 'card-challenge'.
   */
  processInitializeUpdateResponse(response: InitializeUpdateResponse): void {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', 'processInitializeUpdateResponse on a closed session');
    const hostChallenge = this.hostChallenge;
    if (this.phase !== 'initialized' || !hostChallenge) throw this.fail('state', 'no INITIALIZE UPDATE was built');
    const i = response.iParameter;
    if (response.scpId !== SCP03_ID) throw this.fail('protocol', `card answered for SCP ${hexByte(response.scpId)}, not 03`);
    if (i & I_PARAMETER.s16) throw this.fail('protocol', `card uses S16 mode (i = ${hexByte(i)}), host asked for S8`);
    if (this.kvn !== 0 && response.keyVersion !== this.kvn) {
      throw this.fail('protocol', `card answered with key version ${hexByte(response.keyVersion)}, host asked for ${hexByte(this.kvn)}`);
    }
    if (this.sdAid && i & I_PARAMETER.pseudoRandomChallenge) {
      if (response.sequenceCounter === undefined) throw this.fail('protocol', 'pseudo-random card challenge without a sequence counter');
      const expected = pseudoRandomCardChallenge(this.staticKeys.enc, response.sequenceCounter, this.sdAid, S_MODE);
      if (!equalBytes(expected, response.cardChallenge)) throw this.fail('card-challenge', 'card challenge does not derive from the sequence counter and AID');
    }
    const keys = deriveSessionKeys(this.staticKeys, hostChallenge, response.cardChallenge);
    if (!equalBytes(computeCardCryptogram(keys.sMac, hostChallenge, response.cardChallenge), response.cardCryptogram)) {
      wipe(keys.sEnc, keys.sMac, keys.sRmac);
      throw this.fail('card-cryptogram', 'card cryptogram does not verify');
    }
    this.keys = keys;
    this.iParameter = i;
    this.cardKvn = response.keyVersion;
    this.hostCryptogram = computeHostCryptogram(keys.sMac, hostChallenge, response.cardChallenge);
    this.phase = 'authenticating';
  }

  /**
   * The EXTERNAL AUTHENTICATE request (Amd D 7.1.2) at `securityLevel`: the host cryptogram and its
   * C-MAC over a zero chaining value (6.2.4), for the header the spec's command is sent with. The
   * host cryptogram is never encrypted.
   */
  externalAuthenticate(securityLevel: number): ExternalAuthenticateRequest {
    const keys = this.requirePhase('authenticating', 'externalAuthenticate');
    const hostCryptogram = this.hostCryptogram;
    if (!hostCryptogram || this.requestedLevel !== undefined) throw this.fail('state', 'EXTERNAL AUTHENTICATE was already built');
    const problem = securityLevelProblem(securityLevel, this.iParameter);
    if (problem) throw this.fail('security-level', problem);
    const header = { cla: externalAuthenticate.cla | CLA_SECURE_MESSAGING, ins: externalAuthenticate.ins, p1: securityLevel, p2: 0x00 };
    const mac = commandMac(keys.sMac, initialChain().chaining, header, hostCryptogram, S_MODE, false);
    this.chain = { chaining: mac, counter: 0 };
    this.requestedLevel = securityLevel;
    this.hostCryptogram = undefined;
    return { securityLevel, hostCryptogram, cMac: mac.slice(0, S_MODE) };
  }

  /** Opens the session at the requested level once the card answered EXTERNAL AUTHENTICATE with 9000. */
  authenticated(): void {
    this.requirePhase('authenticating', 'authenticated');
    if (this.requestedLevel === undefined) throw this.fail('state', 'no EXTERNAL AUTHENTICATE was built');
    this.level = this.requestedLevel;
    this.phase = 'open';
  }

  /**
   * Protects a plain command APDU (cases 1-4, short or extended) at the session's security level
   * (Amd D 6.2.4, 6.2.6; see wrapCommand in crypto/scp03). Le is kept as given: with R-MAC/R-ENC the
   * response is longer than the plain one, so send Le = 00. Throws FormatError for a command that
   * does not decode, is not of a first-interindustry class, already has CLA b3 set or no longer fits
   * once wrapped; the session stays in step with the card then.
   */
  wrap(command: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'wrap');
    const c = decodeCommandApdu(command);
    if (!(this.level & SECURITY_LEVEL.cMac)) return command.slice();
    // GP 2.3 11.1.4: SCP03 here uses the first interindustry class (logical channels 0..3).
    if (c.cla & 0x40 || c.cla === 0xff) throw new FormatError('command APDU', `CLA ${hexByte(c.cla)} is not a first-interindustry class (further-interindustry channels are not supported)`);
    if (c.cla & CLA_SECURE_MESSAGING) throw new FormatError('command APDU', `CLA ${hexByte(c.cla)} already indicates secure messaging; pass the plain command`);
    const extended = isExtended(c);
    let w: ReturnType<typeof wrapCommand>;
    try {
      w = wrapCommand({ keys, sMode: S_MODE, level: this.level }, this.chain, c, c.data, extended);
    } catch (e) {
      if (e instanceof SecureChannelError) this.close();
      throw e;
    }
    this.chain = w.chain;
    return encodeCommandApdu({ ...c, cla: w.cla, data: w.data, extended });
  }

  /**
   * Checks and strips the protection of a response APDU (data || SW) to the last wrapped command
   * (Amd D 6.2.5, 6.2.7). Responses with an error SW (not 9000, 62xx, 63xx) carry no protection and
   * are returned unchanged - their SW is not authenticated. Throws SecureChannelError 'r-mac' or
   * 'padding' and closes.
   */
  unwrap(response: Uint8Array): Uint8Array {
    const keys = this.requirePhase('open', 'unwrap');
    const { data, sw } = decodeResponseApdu(response);
    const r = unwrapResponse({ keys, sMode: S_MODE, level: this.level }, this.chain, data, sw);
    if (!r.ok) throw this.fail(r.reason, r.detail);
    return encodeResponseApdu({ data: r.data, sw });
  }

  /** Closes the session and returns the error to throw. */
  private fail(reason: SecureChannelReason, detail: string): SecureChannelError {
    this.close();
    return new SecureChannelError(reason, detail);
  }

  private requirePhase(expected: Phase, operation: string): Scp03SessionKeys {
    if (this.phase === 'closed') throw new SecureChannelError('session-closed', `${operation} on a closed session`);
    if (this.phase !== expected || !this.keys) throw this.fail('state', `${operation} not allowed in phase ${this.phase}`);
    return this.keys;
  }
}
