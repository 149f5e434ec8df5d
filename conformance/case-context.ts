/**
 * @module What a running case holds: the traced transport to the card, the host library over it
 * (CardSession, DrmbCard), the profile, the per-card keys derived from the profile's master key files
 * the way the host derives them (keys/card-keys.ts), and the checks every case shares.
 */
import { issuerLineMacSigner } from '../host/line-mac.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { type CommandApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { hex } from '../base/hex.js';
import type { ApplicationKeyName } from '../applet-spec/dgis.js';
import type { Command } from '../applet-spec/define-command.js';
import { formatSw } from '../applet-spec/status-words.js';
import type { Scp03StaticKeys } from '../crypto/scp03.js';
import { CardSession } from '../host/card-session.js';
import { type CardInfo, DrmbCard, type LineMacSigner } from '../host/drmb-card.js';
import { getResponse } from '../host/middleware/get-response.js';
import { leRetry } from '../host/middleware/le-retry.js';
import { dataOf, stack, swOf, type Transport } from '../host/transport.js';
import { cardApplicationKeys, cardIdToBytes, cardIssuanceKeys, cardScpKeys } from '../keys/card-keys.js';
import { type CardState, readCardState, stateDifferences } from './card-state.js';
import { CaseFailure, CaseSkip } from './conformance-case.js';
import type { ConformanceProfile } from './profile.js';

/** Power-cut control as a case sees it (ConformanceTarget.powerCut, with restore() giving a context over the traced card). */
export interface CasePowerCut {
  /** Arms a cut right after the card's k-th persistent write from now; the command in flight then fails as a removed card. */
  cutAfterWrites(k: number): void;
  /** Powers the card up again after a cut (disarming a cut not reached) and returns a context over it. */
  restore(): Promise<CaseContext>;
}

export class CaseContext {
  /** the card as the host library sees it: GET RESPONSE on 61xx and Le retry on 6Cxx over `wire` */
  readonly transport: Transport;
  readonly session: CardSession;
  readonly card: DrmbCard;
  private info: CardInfo | undefined;

  constructor(
    /** the card, traced into the case's record, with 61xx and 6Cxx as the card answers them (raw() uses it) */
    readonly wire: Transport,
    readonly profile: ConformanceProfile,
    /** present when the target can cut the card's power */
    readonly powerCut?: CasePowerCut,
  ) {
    this.transport = stack(wire, getResponse(), leRetry());
    this.session = new CardSession(this.transport);
    this.card = new DrmbCard(this.transport);
  }

  /** SELECT; remembers the card ID for key derivation. */
  async select(): Promise<CardInfo> {
    this.info = await this.card.select();
    return this.info;
  }

  /** The card ID from the last SELECT (or the profile): what per-card keys derive from. */
  cardId(): string {
    const id = this.info?.cardId ?? this.profile.cardId;
    if (!id) throw new CaseSkip('the card has no card ID yet and the profile names none');
    return id;
  }

  /** One APDU as it is, and the card's answer as it is (61xx and 6Cxx included), status word never thrown. */
  async raw(apdu: CommandApdu | Uint8Array): Promise<{ sw: number; data: Uint8Array }> {
    const r = await this.wire.transmit(apdu instanceof Uint8Array ? apdu : encodeCommandApdu(apdu));
    return { sw: swOf(r), data: dataOf(r) };
  }

  /** The card's application key, derived from the profile's cb-master (SM4 option A, keys/card-keys.ts). */
  applicationKey(name: ApplicationKeyName): Uint8Array {
    const m = this.profile.keys.cbMaster;
    if (!m) throw new CaseSkip('the profile has no cbMaster key file');
    return cardApplicationKeys(m, cardIdToBytes(this.cardId()))[name];
  }

  /** The card's SCP03 static keys of this key version, derived (KDF3 by card ID) from the profile's masters. */
  scpKeys(kvn: number): Scp03StaticKeys {
    if (kvn === KEY_VERSIONS.PERSONALIZATION && this.profile.keys.cbMaster) return cardScpKeys(this.profile.keys.cbMaster, cardIdToBytes(this.cardId()));
    if (kvn === KEY_VERSIONS.ISSUANCE && this.profile.keys.issuanceMaster) return cardIssuanceKeys(this.profile.keys.issuanceMaster, cardIdToBytes(this.cardId()));
    throw new CaseSkip(`the profile has no master key file for key version ${kvn.toString(16)}`);
  }

  /**
   * A PBOC line MAC signer under this application key: SM4 MAC algorithm 1 over header || Lc || data,
   * IV = the card's challenge padded with zeros (JR/T 0025.2 issuer scripts; the key is the card's own).
   */
  lineMacSigner(name: ApplicationKeyName): LineMacSigner {
    return issuerLineMacSigner(this.applicationKey(name));
  }

  /** The readable state (starts with SELECT: ends any transaction and the PIN state). */
  snapshot(): Promise<CardState> {
    return readCardState(this.transport);
  }

  /** Fails when anything readable changed since `before`. */
  async expectUnchanged(before: CardState, after: string): Promise<void> {
    const diff = stateDifferences(before, await this.snapshot());
    if (diff.length) throw new CaseFailure(`state changed after ${after}: ${diff.join('; ')}`);
  }

  /** Fails unless `sw` is one of `expected`; names the command and both status words. */
  expectSw(what: string, sw: number, expected: readonly number[], data?: Uint8Array): void {
    if (!expected.includes(sw)) {
      throw new CaseFailure(`${what} answered ${formatSw(sw)}${data?.length ? ` with ${data.length} bytes (${hex(data.subarray(0, 16))}...)` : ''}; expected ${expected.map(formatSw).join(' or ')}`);
    }
  }

  /** Sends a command from its definition as the host library does (whole answer collected after 61xx), returning SW and data without throwing. */
  async send<Req>(cmd: Command<Req, unknown>, request: Req, opts: { secure?: boolean; le?: number } = {}): Promise<{ sw: number; data: Uint8Array }> {
    const r = await this.transport.transmit(encodeCommandApdu(cmd.encode(request, opts)));
    return { sw: swOf(r), data: dataOf(r) };
  }

  /** Verifies the profile's PIN (skips the case when the profile has none). */
  async verifyPin(): Promise<void> {
    if (!this.profile.pin) throw new CaseSkip('the profile has no PIN');
    await this.card.verifyPin(this.profile.pin);
  }
}
