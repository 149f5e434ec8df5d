/**
 * @module AppletContext: what every handler of the D-RMB applet shares: the persistent memory, the
 * session state lost on deselect, the card's random source, and the lookups over personalization data
 * (DGIs, application keys, identity, trust anchors and their coin-key verifiers) and the purse's checks
 * for incoming coins (room, serials held).
 */
import type { Infer } from '../../applet-spec/codec/fields.js';
import { cardIdCoder } from '../../applet-spec/data-objects.js';
import { type ApplicationKeyName, DGIS, type DgiName } from '../../applet-spec/dgis.js';
import { SW } from '../../applet-spec/status-words.js';
import type { PacketAnchors } from '../../coins/verify-export-packet.js';
import { bytesToHex } from '../../base/bytes.js';
import { sm2PrecomputeVerifier, type Sm2Verifier } from '../../crypto/sm2.js';
import type { Scp03CardSession } from '../scp03-card-session.js';
import type { CardMemory } from '../card-memory.js';
import { check } from '../iso-exception.js';

/** The clear value of a DGI, as its definition's coder reads it. */
export type DgiValue<N extends DgiName> = Infer<(typeof DGIS)[N]['coder']>;

/** The trust anchors of DGI E001: central-bank coin keys and the KGC master public keys. */
export type TrustAnchors = DgiValue<'trustAnchors'>;

/** INITIALIZE FOR LOAD, kept for the CREDIT FOR LOAD that must follow it. */
export interface LoadSession {
  amountFen: number;
  terminalId: Uint8Array;
  sessionKey: Uint8Array;
  counter: number;
}

/** INITIALIZE FOR PURCHASE, kept for the DEBIT FOR PURCHASE that must follow it. */
export interface PurchaseSession {
  amountFen: number;
  terminalId: Uint8Array;
  cardRandom: Uint8Array;
  counter: number;
}

/** INITIALIZE FOR TRANSFER, kept for the EXPORT COINS that must follow it. */
export interface TransferSession {
  amountFen: number;
  payeeIdentity: string;
  payeeNonce: Uint8Array;
  withdrawalCode: string;
  date: string;
  time: string;
  cardRandom: Uint8Array;
  counter: number;
  /** INITIALIZE FOR RENEWAL: only coins expiring before this date (YYYYMMDD) are exported */
  expiringBefore?: string;
}

/** Session state, lost on reset, power-off and deselect (Java Card CLEAR_ON_DESELECT). */
export interface SessionState {
  pinVerified: boolean;
  scp?: Scp03CardSession;
  scpKvn?: number;
  nextBlock: number;
  lastBlockSeen: boolean;
  challenge?: Uint8Array;
  lastCommand?: string;
  load?: LoadSession;
  purchase?: PurchaseSession;
  transfer?: TransferSession;
  /** the current command came through SCP03 secure messaging */
  viaScp: boolean;
  /** the current command's CLA had the secure-messaging bit on the wire */
  smOnWire: boolean;
}

/** Verifiers of central-bank coin keys, shared by all simulated cards (public data only): SM2 verifier tables are costly to build. */
const verifierCache = new Map<string, Sm2Verifier>();

/** The verifier of a central-bank coin key, built once per key; throws when the key is not a point of the curve. */
export function coinVerifier(publicKey: Uint8Array): Sm2Verifier {
  const key = bytesToHex(publicKey);
  let v = verifierCache.get(key);
  if (!v) {
    v = sm2PrecomputeVerifier(publicKey);
    verifierCache.set(key, v);
  }
  return v;
}

const freshSession = (): SessionState => ({ pinVerified: false, nextBlock: 0, lastBlockSeen: false, viaScp: false, smOnWire: false });

/** The applet's memory, session and random source, with the lookups handlers share. */
export class AppletContext {
  session: SessionState = freshSession();

  constructor(
    readonly memory: CardMemory,
    /** source of card randomness (challenges, card random, nonces, seal salts) */
    readonly random: (n: number) => Uint8Array,
  ) {}

  /** Forgets the session (SELECT, deselect, reset). */
  resetSession(): void {
    this.session = freshSession();
  }

  /** The clear value of a stored DGI, decoded with its definition; undefined when not stored. */
  dgi<N extends DgiName>(name: N): DgiValue<N> | undefined {
    const raw = this.memory.dgi(name);
    return raw && (DGIS[name].coder.decode(raw) as DgiValue<N>);
  }

  /** An SM4 application key of DGI 8000, undefined before card prep stored it. */
  appKey(name: ApplicationKeyName): Uint8Array | undefined {
    return this.dgi('applicationKeys')?.[name];
  }

  /** The holder's SM9 identity (DGI 0A01); 6985 before issuance. */
  get identity(): string {
    const id = this.dgi('ibcIdentity');
    check(id, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no identity');
    return id.ibcIdentity;
  }

  /** Coin keys and KGC master public keys (DGI E001); 6985 before card prep. */
  get trustAnchors(): TrustAnchors {
    const t = this.dgi('trustAnchors');
    check(t, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no trust anchors');
    return t;
  }

  /** The trust anchors as coins/ verifies packets and coin lists against them; 6985 before card prep. */
  get packetAnchors(): PacketAnchors {
    const t = this.trustAnchors;
    return {
      coinVerifier: (keyIndex) => {
        const k = t.coinKeys.find((k) => k.keyIndex === keyIndex);
        return k && coinVerifier(k.publicKey);
      },
      kgcSignMasterPublicKey: t.kgcSignMasterPublicKey,
    };
  }

  /** Whether the purse holds a coin of a serial, over the coins held now: an incoming coin repeating one is refused (9411). */
  heldSerials(): (serial: Uint8Array) => boolean {
    const held = new Set(this.memory.coins.map((c) => bytesToHex(c.body.serial)));
    return (serial) => held.has(bytesToHex(serial));
  }

  /** The card ID as its 20 digits. */
  get cardIdDigits(): string {
    return cardIdCoder.decode(this.memory.cardId);
  }

  /** Room for incoming coins: the balance cap (9412) and free coin slots (6A84). */
  checkRoom(incomingFen: number, incomingCount: number): void {
    const m = this.memory;
    check(m.balanceFen + incomingFen <= m.risk.balanceCapFen, SW.OVER_BALANCE_CAP);
    check(m.coins.length + incomingCount <= m.risk.maxCoins, SW.NOT_ENOUGH_MEMORY, 'coin slots');
  }
}
