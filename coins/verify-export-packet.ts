/**
 * @module verifyExportPacket: every value check of an export packet that the card's IMPORT COINS, the POS
 * terminal and the registry's settlement share (value-formats.ts): layout and version, the clear body,
 * SM3 of the coin list against the header, the withdrawal seal against its commitment, the payer's SM9
 * signature over SM3(header bytes || coin list bytes) (GM/T 0044 part 2 clause 7), the amount, and each
 * coin (verifyCoinList). It answers the verified content or the first fault by name; each caller turns a
 * fault into its own status word or error. Decrypting a TRANSFER body stays with the holder of the payee key.
 */
import {
  type Coin,
  type ExportHeader,
  exportBodyCoder,
  settlementBodyCoder,
  type WithdrawalSeal,
} from '../applet-spec/value-formats.js';
import { concatBytes, equalBytes } from '../base/bytes.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Verify } from '../crypto/sm9/sm9.js';
import type { CheckValueSource, CoinVerifierLookup } from './check-coin.js';
import { type ExportPacketLayoutFault, type ExportPacketParts, readExportPacket } from './read-export-packet.js';
import { sealMatchesCommitment } from './seal-commitment.js';
import { type CoinListFault, coinListSpans, verifyCoinList } from './verify-coin-list.js';

const utf8 = new TextEncoder();

/** Public keys a packet is verified against (the ceremony's trust anchors, public parts). */
export interface PacketAnchors {
  /** the central bank's coin-signing keys by key index (coinVerifiers) */
  coinVerifier: CoinVerifierLookup;
  /** the KGC's SM9 signature master public key (G2, 129 bytes) */
  kgcSignMasterPublicKey: Uint8Array;
}

export interface VerifyExportPacketOptions {
  /**
   * The body in clear when it is not the packet's own: a TRANSFER body the payee decrypted
   * (`exportBody`: coins, signature and withdrawal seal), or the coins and payer signature a payee card
   * returned or a payee opened (`settlementBody`, no seal). By default the packet's own body is read as an
   * export body, which only PURCHASE and CHANGE packets carry in clear.
   */
  body?: { exportBody: Uint8Array } | { settlementBody: Uint8Array };
  /**
   * 'packet-first' (default): coin-list hash, seal, payer signature and amount before the coins, so that a
   * forged packet costs one hash and one SM9 verification before any SM2 one (card, registry).
   * 'coins-first': the coins first, so that a forged coin is named as such (POS terminal).
   */
  order?: 'packet-first' | 'coins-first';
  /** the mint's check values (central bank only): a coin with a wrong m is 'denomination-key' */
  denominationKeys?: CheckValueSource;
  /** a serial the receiver already holds (a card's own coins) is a 'duplicate-serial' */
  isHeld?: (serial: Uint8Array) => boolean;
}

/** A packet that passed every check. */
export interface VerifiedExportPacket extends ExportPacketParts {
  coins: Coin[];
  /** the coin list exactly as received: what the header's coinListHash and the payer's signature cover */
  coinListBytes: Uint8Array;
  /** the payer's SM9 signature */
  signature: Uint8Array;
  /** the withdrawal seal, when the body verified was an export body */
  withdrawal?: WithdrawalSeal;
}

/**
 * The first check a packet failed. 'format' and 'version': the packet itself; 'body-format': the clear
 * body does not decode; 'amount': the coins do not add up to the header's amount, or there are none;
 * coin faults name the coin (CoinListFault).
 */
export type ExportPacketFault =
  | ExportPacketLayoutFault
  | { fault: 'body-format'; detail: string }
  | { fault: 'coin-list-hash' | 'withdrawal-seal' | 'payer-signature' }
  | { fault: 'amount'; sumFen: number }
  | CoinListFault;

export type ExportPacketFaultName = ExportPacketFault['fault'];

export type VerifyExportPacketResult = ({ ok: true } & VerifiedExportPacket) | ({ ok: false; header?: ExportHeader } & ExportPacketFault);

/**
 * Verifies a packet (its bytes, or the parts readExportPacket gave) against the trust anchors, with the
 * coins' expiry on the packet date. Never throws for a bad packet. Security: a verified packet proves
 * the payer identity signed these coins for this header, and the coins are the central bank's; whether
 * they were spent already is the registry's to say.
 */
export function verifyExportPacket(packet: Uint8Array | ExportPacketParts, anchors: PacketAnchors, opts: VerifyExportPacketOptions = {}): VerifyExportPacketResult {
  let parts: ExportPacketParts;
  if (packet instanceof Uint8Array) {
    const read = readExportPacket(packet);
    if (!read.ok) return read;
    parts = read;
  } else {
    parts = packet;
  }
  const { header, headerBytes } = parts;
  const fail = (f: ExportPacketFault): VerifyExportPacketResult => ({ ok: false, header, ...f });

  const settlement = opts.body && 'settlementBody' in opts.body ? opts.body.settlementBody : undefined;
  const bodyBytes = settlement ?? (opts.body && 'exportBody' in opts.body ? opts.body.exportBody : parts.body);
  let coins: Coin[];
  let signature: Uint8Array;
  let withdrawal: WithdrawalSeal | undefined;
  try {
    if (settlement) ({ coins, signature } = settlementBodyCoder.decode(settlement));
    else ({ coins, signature, withdrawal } = exportBodyCoder.decode(bodyBytes));
  } catch (e) {
    return fail({ fault: 'body-format', detail: (e as Error).message });
  }
  const { coinListBytes } = coinListSpans(bodyBytes);
  const checkCoins = () => verifyCoinList(coins, coinListBytes, { verifier: anchors.coinVerifier, atDate: header.date, denominationKeys: opts.denominationKeys, isHeld: opts.isHeld });

  const order = opts.order ?? 'packet-first';
  if (order === 'coins-first') {
    const coinFault = checkCoins();
    if (coinFault) return fail(coinFault);
  }
  if (!equalBytes(sm3(coinListBytes), header.coinListHash)) return fail({ fault: 'coin-list-hash' });
  if (withdrawal && !sealMatchesCommitment(withdrawal, header.codeCommitment)) return fail({ fault: 'withdrawal-seal' });
  // GM/T 0044 part 2 clause 7: the payer's SM9 signature over SM3(header bytes || coin list bytes).
  if (!sm9Verify(anchors.kgcSignMasterPublicKey, utf8.encode(header.payerIdentity), sm3(concatBytes(headerBytes, coinListBytes)), signature)) return fail({ fault: 'payer-signature' });
  const sumFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
  if (sumFen !== header.amountFen || coins.length === 0) return fail({ fault: 'amount', sumFen });
  if (order === 'packet-first') {
    const coinFault = checkCoins();
    if (coinFault) return fail(coinFault);
  }
  return { ok: true, ...parts, coins, coinListBytes, signature, ...(withdrawal ? { withdrawal } : {}) };
}
