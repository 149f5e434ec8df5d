/**
 * @module RawScp03Session: the host side of one SCP03 session kept in the open, so that a case can send
 * what a well-behaved host never does: a wrong host cryptogram, a C-MAC with a flipped bit, a command
 * replayed or wrapped with a skipped counter, a command protected at a lower level than the session's
 * (GPC 2.3 Amendment D 6.2). Built on the crypto/scp03 primitives the host session uses; the chain is
 * the caller's to keep or to rewind.
 */
import { type CommandApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import * as C from '../applet-spec/commands.js';
import { CLA_SECURE_MESSAGING } from '../applet-spec/define-command.js';
import { SW } from '../applet-spec/status-words.js';
import { equalBytes, randomBytes } from '../base/bytes.js';
import {
  commandMac,
  computeCardCryptogram,
  computeHostCryptogram,
  deriveSessionKeys,
  initialChain,
  type Scp03Chain,
  type Scp03SessionKeys,
  wrapCommand,
} from '../crypto/scp03.js';
import type { CaseContext } from './case-context.js';
import { check } from './conformance-case.js';

/** S8 mode: the D-RMB INITIALIZE UPDATE carries 8-byte challenges (Amd D 5.1). */
const S_MODE = 8;

/**
 * The probe a session's commands are checked with: SET STATUS (secure channel required) of an AID that
 * is not the applet's. Through an intact session the card answers 6A88 and changes nothing; when the
 * channel refuses the command it answers 6982.
 */
export const PROBE_AID = Uint8Array.of(0xf0, 0x44, 0x52, 0x4d, 0x42, 0x02);
const probe = C.setStatus.encode({ aid: PROBE_AID }, { secure: false });

export class RawScp03Session {
  private constructor(
    private readonly ctx: CaseContext,
    readonly keys: Scp03SessionKeys,
    readonly level: number,
    /** the chain after the last command wrapped by wrapProbe() */
    public chain: Scp03Chain,
  ) {}

  /**
   * INITIALIZE UPDATE with key version `kvn` (card cryptogram checked), then EXTERNAL AUTHENTICATE at
   * `level`; `hostCryptogram` replaces the right one (a wrong one must be refused). Returns the status
   * word of EXTERNAL AUTHENTICATE and the session as the host would hold it had the card accepted.
   */
  static async open(
    ctx: CaseContext,
    kvn: number,
    level: number,
    hostCryptogram?: (right: Uint8Array) => Uint8Array,
    /** changes EXTERNAL AUTHENTICATE as sent, after its C-MAC is made (a wrong length or class) */
    mutate?: (apdu: CommandApdu) => CommandApdu,
  ): Promise<{ sw: number; session: RawScp03Session }> {
    const hostChallenge = randomBytes(S_MODE);
    const init = await ctx.session.send(C.initializeUpdate, { keyVersion: kvn, hostChallenge });
    const keys = deriveSessionKeys(ctx.scpKeys(kvn), hostChallenge, init.cardChallenge);
    check(equalBytes(computeCardCryptogram(keys.sMac, hostChallenge, init.cardChallenge), init.cardCryptogram), 'INITIALIZE UPDATE: the card cryptogram does not verify under the keys the profile derives');
    const right = computeHostCryptogram(keys.sMac, hostChallenge, init.cardChallenge);
    const cryptogram = hostCryptogram ? hostCryptogram(right) : right;
    // Amd D 6.2.4: the C-MAC of EXTERNAL AUTHENTICATE is over a zero chaining value and starts the chain.
    const header = { cla: C.externalAuthenticate.cla | CLA_SECURE_MESSAGING, ins: C.externalAuthenticate.ins, p1: level, p2: 0 };
    const mac = commandMac(keys.sMac, initialChain().chaining, header, cryptogram, S_MODE, false);
    const apdu = C.externalAuthenticate.encode({ securityLevel: level, hostCryptogram: cryptogram, cMac: mac.slice(0, S_MODE) });
    const r = await ctx.raw(mutate ? mutate(apdu) : apdu);
    return { sw: r.sw, session: new RawScp03Session(ctx, keys, level, { chaining: mac, counter: 0 }) };
  }

  /** open() with the right cryptogram; fails the case unless the card accepts it. */
  static async openOrFail(ctx: CaseContext, kvn: number, level: number): Promise<RawScp03Session> {
    const { sw, session } = await RawScp03Session.open(ctx, kvn, level);
    ctx.expectSw('EXTERNAL AUTHENTICATE with the right host cryptogram', sw, [SW.OK]);
    return session;
  }

  /**
   * The probe command wrapped after `from` (default: the session's chain) at `level` (default: the
   * session's); the session's chain moves on to it unless `from` was given.
   */
  wrapProbe(opts: { from?: Scp03Chain; level?: number } = {}): Uint8Array {
    const w = wrapCommand({ keys: this.keys, sMode: S_MODE, level: opts.level ?? this.level }, opts.from ?? this.chain, probe, probe.data, false);
    if (!opts.from) this.chain = w.chain;
    return encodeCommandApdu({ ...probe, cla: w.cla, data: w.data });
  }

  /** Sends a wrapped command as it is. */
  send(apdu: Uint8Array): Promise<{ sw: number; data: Uint8Array }> {
    return this.ctx.raw(apdu);
  }
}
