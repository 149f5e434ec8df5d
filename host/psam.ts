/**
 * @module Psam: the host's session with a D-RMB PSAM (applet-spec/psam-commands.ts) over any transport,
 * one short method per command, encoded and decoded by the definitions. The POS terminal asks it for
 * MAC1 and MAC2 checks and for its terminal number and sequence numbers; it holds no key itself.
 */
import { u32 } from '../applet-spec/codec/fields.js';
import { PSAM_AID } from '../applet-spec/commands/aid.js';
import { select } from '../applet-spec/commands/select.js';
import type { AppState } from '../applet-spec/lifecycle.js';
import { creditSamForPurchase, initSamForPurchase, nextTerminalSequence, readBinary, verifyPurchaseMac2 } from '../applet-spec/psam-commands.js';
import { PSAM_FILES } from '../applet-spec/psam/read-binary.js';
import { SW } from '../applet-spec/status-words.js';
import { CardSession } from './card-session.js';
import type { Transport } from './transport.js';

/** What INIT SAM FOR PURCHASE takes: the card's INITIALIZE FOR PURCHASE answer, its ID, and the terminal's amount, date and time. */
export type PsamPurchaseInput = Parameters<typeof initSamForPurchase.encode>[0];

/** The PSAM's answer to SELECT: its serial number and lifecycle state. */
export interface PsamInfo {
  psamId: string;
  state: AppState;
}

/**
 * The host's session with a D-RMB PSAM: one method per PSAM command (SELECT, terminal number, sequence
 * numbers, MAC1, MAC2 checks).
 */
export class Psam {
  readonly session: CardSession;

  constructor(readonly transport: Transport) {
    this.session = new CardSession(transport);
  }

  /** SELECT the PSAM applet by PSAM_AID. Throws StatusWordError 6A82 when the card is no D-RMB PSAM. */
  async select(): Promise<PsamInfo> {
    const fci = await this.session.send(select, { aid: PSAM_AID });
    return { psamId: fci.proprietary.issuerData.cardId ?? '', state: fci.proprietary.issuerData.appState };
  }

  /** The 6-byte terminal number (READ BINARY 00 B0 96 00 06, as PBOC terminals read it). Security: none; ISSUED only. */
  async terminalNumber(): Promise<Uint8Array> {
    return (await this.session.send(readBinary, { file: PSAM_FILES.terminalNumber }, { le: 6 })).contents;
  }

  /** The terminal sequence number last taken (READ BINARY of SFI 17). */
  async lastSequence(): Promise<number> {
    return u32.decode((await this.session.send(readBinary, { file: PSAM_FILES.terminalSequence }, { le: 4 })).contents, 'terminal sequence number');
  }

  /** INIT SAM FOR PURCHASE: the PSAM commits its next sequence number and returns it with MAC1. */
  async initSamForPurchase(input: PsamPurchaseInput): Promise<{ terminalSequence: number; mac1: Uint8Array }> {
    return this.session.send(initSamForPurchase, input);
  }

  /** CREDIT SAM FOR PURCHASE: true when the MAC2 is the card's (9000), false on 9302. Must directly follow initSamForPurchase. */
  async creditSamForPurchase(mac2: Uint8Array): Promise<boolean> {
    return (await this.session.exchange(creditSamForPurchase, { mac2 }, { accept: [SW.MAC_INVALID] })).sw === SW.OK;
  }

  /** VERIFY PURCHASE MAC2 of an earlier purchase (recovered from the card): true on 9000, false on 9302. */
  async verifyPurchaseMac2(input: PsamPurchaseInput & { terminalSequence: number; mac2: Uint8Array }): Promise<boolean> {
    return (await this.session.exchange(verifyPurchaseMac2, input, { accept: [SW.MAC_INVALID] })).sw === SW.OK;
  }

  /** NEXT TERMINAL SEQUENCE: a fresh sequence number (committed by the PSAM) for a packet the terminal signs. */
  async nextTerminalSequence(): Promise<number> {
    return (await this.session.send(nextTerminalSequence, {})).terminalSequence;
  }
}
