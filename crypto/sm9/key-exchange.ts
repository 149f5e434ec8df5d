/** @module SM9 key exchange protocol of GM/T 0044-2016 part 3 clause 6 (GB/T 38635.2): initiator A and responder B with hid 0x02 keys, optional key confirmation SA / SB. */
import { FormatError } from '../../base/format-error.js';
import { bytesToBigInt, concatBytes, equalBytes, randomBytes, uintToBytes } from '../../base/bytes.js';
import { sm3, sm3Kdf } from '../sm3.js';
import { G1, G2 } from './curves.js';
import type { G1Point } from './curves.js';
import { SM9_N } from './fields.js';
import type { Fp12 } from './fields.js';
import { gtPow, gtToBytes } from './gt.js';
import { pairing } from './pairing.js';
import { SM9_HID_KEY_EXCHANGE, g1FromBytes, g2FromBytes, sm9H1 } from './sm9.js';

/** The initiator's ephemeral key of an SM9 key exchange (GM/T 0044 part 3, A1-A3): r to keep, R_A to send. */
export interface Sm9KeyExchangeEphemeral {
  /** r (32 bytes): keep it until the exchange finishes, then wipe it */
  ephemeralPrivate: Uint8Array;
  /** R = [r]Q_peer as x||y (64 bytes, the form the standard's example and hashes use), sent to the peer */
  ephemeralPublic: Uint8Array;
}

/** Options of sm9KeyExchangeStart: the hid of the keys and, for known-answer tests only, a fixed r. */
export interface Sm9KeyExchangeStartOptions {
  /** hid of the key-exchange keys, default 0x02 */
  hid?: number;
  /** Fixed r (32 bytes, in [1, n-1]) for known-answer tests ONLY. */
  r?: Uint8Array;
}

function scalarOf(bytes: Uint8Array | undefined, what: string): bigint {
  if (bytes === undefined) {
    for (;;) {
      const k = bytesToBigInt(randomBytes(32));
      if (k > 0n && k < SM9_N) return k;
    }
  }
  if (bytes.length !== 32) throw new FormatError(what, `expected 32 bytes, got ${bytes.length}`);
  const k = bytesToBigInt(bytes);
  if (k === 0n || k >= SM9_N) throw new FormatError(what, 'not in [1, n-1]');
  return k;
}

const xy = (P: G1Point): Uint8Array => P.toBytes(false).subarray(1);

/** Q = [H1(ID||hid, n)]P1 + Ppub-e (part 3 clause 6, steps A1 / B1). */
function peerPoint(masterPublic: Uint8Array, peerId: Uint8Array, hid: number): G1Point {
  const Ppub = g1FromBytes(masterPublic, 'SM9 encryption master public key', true);
  return G1.BASE.multiply(sm9H1(concatBytes(peerId, Uint8Array.of(hid)))).add(Ppub);
}

/**
 * Ephemeral key of either party (part 3 clause 6, steps A1-A3, B1-B3): r random, R = [r]Q with Q derived from
 * the PEER's identity. The initiator sends R_A; the responder calls sm9KeyExchangeRespond instead.
 */
export function sm9KeyExchangeStart(masterPublic: Uint8Array, peerId: Uint8Array, opts?: Sm9KeyExchangeStartOptions): Sm9KeyExchangeEphemeral {
  const r = scalarOf(opts?.r, 'SM9 key exchange r');
  const R = peerPoint(masterPublic, peerId, opts?.hid ?? SM9_HID_KEY_EXCHANGE).multiply(r);
  return { ephemeralPrivate: uintToBytes(r, 32), ephemeralPublic: xy(R) };
}

/** Hash(prefix || g1 || Hash(g2 || g3 || IDA || IDB || RA || RB)) of part 3 clause 6, steps B6 / A6 / A8 / B8. */
function confirmation(prefix: number, g: Uint8Array[], transcript: Uint8Array): Uint8Array {
  const inner = sm3(concatBytes(g[1], g[2], transcript));
  return sm3(concatBytes(Uint8Array.of(prefix), g[0], inner));
}

/**
 * What the responder needs to answer an SM9 key exchange (B1-B6): the master public key, its own key
 * and identity, the initiator's identity and R_A.
 */
export interface Sm9KeyExchangeRespondArgs {
  /** the KGC's encryption master public key Ppub-e (65 or 64 bytes) */
  masterPublic: Uint8Array;
  /** the responder's own key-exchange private key deB (129 bytes, extracted with hid 0x02) */
  userKey: Uint8Array;
  /** responder identity IDB */
  id: Uint8Array;
  /** initiator identity IDA */
  peerId: Uint8Array;
  /** R_A received from the initiator (x||y, 64 bytes, or 04||x||y) */
  peerEphemeral: Uint8Array;
  /** length of the shared key in bytes */
  klenBytes: number;
  hid?: number;
  /** Fixed rB (32 bytes) for known-answer tests ONLY. */
  r?: Uint8Array;
}

/**
 * The responder's answer in an SM9 key exchange: the shared key SK_B, R_B and the
 * confirmation S_B to send, and S_2 to compare with the initiator's S_A.
 */
export interface Sm9KeyExchangeResponse {
  /** SK_B, the shared key; wipe it when done */
  key: Uint8Array;
  /** R_B (x||y, 64 bytes) to send to the initiator */
  ephemeralPublic: Uint8Array;
  /** S_B (32 bytes) to send to the initiator (optional confirmation, B6) */
  confirmation: Uint8Array;
  /** S_2 (32 bytes): compare with the initiator's S_A using equalBytes (B8) */
  expectedPeerConfirmation: Uint8Array;
}

/**
 * Responder B (part 3 clause 6, steps B1-B8): checks R_A is in G1, computes g1 = e(R_A, deB),
 * g2 = e(Ppub-e, P2)^rB, g3 = g1^rB and SK_B = KDF(IDA || IDB || RA || RB || g1 || g2 || g3, klen).
 * Throws FormatError for a malformed R_A or key.
 */
export function sm9KeyExchangeRespond(args: Sm9KeyExchangeRespondArgs): Sm9KeyExchangeResponse {
  const hid = args.hid ?? SM9_HID_KEY_EXCHANGE;
  const RA = g1FromBytes(args.peerEphemeral, 'SM9 key exchange R_A', true); // B4: RA in G1
  const deB = g2FromBytes(args.userKey, 'SM9 user key-exchange key');
  const Ppub = g1FromBytes(args.masterPublic, 'SM9 encryption master public key', true);
  const rB = scalarOf(args.r, 'SM9 key exchange r');
  const RB = peerPoint(args.masterPublic, args.peerId, hid).multiply(rB); // B1-B3
  const g1 = pairing(RA, deB);
  const g: Fp12[] = [g1, gtPow(pairing(Ppub, G2.BASE), rB), gtPow(g1, rB)];
  const gb = g.map(gtToBytes);
  const transcript = concatBytes(args.peerId, args.id, xy(RA), xy(RB));
  const key = sm3Kdf(concatBytes(transcript, ...gb), args.klenBytes); // B5
  return {
    key,
    ephemeralPublic: xy(RB),
    confirmation: confirmation(0x82, gb, transcript), // B6
    expectedPeerConfirmation: confirmation(0x83, gb, transcript), // B8
  };
}

/**
 * What the initiator needs to finish an SM9 key exchange (A5-A8): its keys and identity, its ephemeral
 * r, the responder's R_B and S_B.
 */
export interface Sm9KeyExchangeFinishArgs {
  masterPublic: Uint8Array;
  /** the initiator's own key-exchange private key deA (129 bytes, hid 0x02) */
  userKey: Uint8Array;
  /** initiator identity IDA */
  id: Uint8Array;
  /** responder identity IDB */
  peerId: Uint8Array;
  /** the initiator's ephemeral key from sm9KeyExchangeStart */
  ephemeral: Sm9KeyExchangeEphemeral;
  /** R_B received from the responder */
  peerEphemeral: Uint8Array;
  /** S_B received from the responder; when given it must match (A6) */
  peerConfirmation?: Uint8Array;
  klenBytes: number;
}

/**
 * The initiator's result of an SM9 key exchange: the shared key SK_A and its confirmation S_A for the
 * responder.
 */
export interface Sm9KeyExchangeResult {
  /** SK_A, the shared key; wipe it when done */
  key: Uint8Array;
  /** S_A (32 bytes) to send to the responder (A8) */
  confirmation: Uint8Array;
}

/**
 * Initiator A, after receiving R_B (part 3 clause 6, steps A5-A8): checks R_B is in G1, computes
 * g1' = e(Ppub-e, P2)^rA, g2' = e(R_B, deA), g3' = g2'^rA, checks S_B when given (constant-time),
 * and derives SK_A. Throws FormatError for a malformed R_B or key, or a wrong S_B.
 */
export function sm9KeyExchangeFinish(args: Sm9KeyExchangeFinishArgs): Sm9KeyExchangeResult {
  const RB = g1FromBytes(args.peerEphemeral, 'SM9 key exchange R_B', true); // A5
  const deA = g2FromBytes(args.userKey, 'SM9 user key-exchange key');
  const Ppub = g1FromBytes(args.masterPublic, 'SM9 encryption master public key', true);
  const rA = scalarOf(args.ephemeral.ephemeralPrivate, 'SM9 key exchange r');
  const RA = g1FromBytes(args.ephemeral.ephemeralPublic, 'SM9 key exchange R_A', true);
  const g2 = pairing(RB, deA);
  const g: Fp12[] = [gtPow(pairing(Ppub, G2.BASE), rA), g2, gtPow(g2, rA)];
  const gb = g.map(gtToBytes);
  const transcript = concatBytes(args.id, args.peerId, xy(RA), xy(RB));
  if (args.peerConfirmation !== undefined && !equalBytes(confirmation(0x82, gb, transcript), args.peerConfirmation)) {
    throw new FormatError('SM9 key exchange S_B', 'confirmation does not match'); // A6
  }
  return {
    key: sm3Kdf(concatBytes(transcript, ...gb), args.klenBytes), // A7
    confirmation: confirmation(0x83, gb, transcript), // A8
  };
}
