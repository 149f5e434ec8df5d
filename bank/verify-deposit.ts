/**
 * @module verifyDeposit: every check of a deposited packet that needs no database (bank/README.md,
 * settlement order), as the registry runs it before settling, in its own thread or in a worker
 * (deposit-verify-worker.ts): the packet, the payee, the evidence, then verifyExportPacket.
 */
import {
  type Coin,
  type ExportHeader,
  importResponseCoder,
  NO_WITHDRAWAL_CODE,
  type Receipt,
  receiptBodyCoder,
  settlementBodyCoder,
  withdrawalSealCoder,
} from '../applet-spec/value-formats.js';
import { bytesToHex, equalBytes } from '../base/bytes.js';
import type { CheckValueSource } from '../coins/check-coin.js';
import { readExportPacket } from '../coins/read-export-packet.js';
import { sealMatchesCommitment } from '../coins/seal-commitment.js';
import { type ExportPacketFault, type PacketAnchors, verifyExportPacket } from '../coins/verify-export-packet.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Verify } from '../crypto/sm9/sm9.js';
import {
  ExpiredCoinError,
  ForgedCoinError,
  RegistryError,
  TamperedPacketError,
  WrongDenominationKeyError,
  WrongPayeeError,
} from './registry-errors.js';
import type { SettleOptions } from './registry.js';

const utf8 = new TextEncoder();
const SEAL_LENGTH = withdrawalSealCoder.size!;

/** What verification reads of a deposit's SettleOptions: the payee and the evidence. */
export type DepositEvidence = Pick<SettleOptions, 'payeeIdentity' | 'importResponse' | 'settlementBody' | 'withdrawal'>;

/** A packet that passed every cryptographic check. */
export interface VerifiedPacket {
  header: ExportHeader;
  coins: Coin[];
  packetHash: Uint8Array;
  /** the payee card's verified receipt, when the deposit came with its import response */
  receipt?: Receipt;
}

/** The registry's error for a packet verifyExportPacket refused (the settlement body's faults). */
function settlementRefusal(f: ExportPacketFault, header: ExportHeader): RegistryError {
  switch (f.fault) {
    case 'format':
      return new TamperedPacketError('format', f.detail);
    case 'version':
      return new TamperedPacketError('format', `packet version ${f.version}`);
    case 'body-format':
      return new TamperedPacketError('settlement-body', f.detail);
    case 'coin-list-hash':
      return new TamperedPacketError('coin-list-hash', 'SM3 of the coin list differs from the header');
    case 'withdrawal-seal':
      return new TamperedPacketError('withdrawal-code', 'the withdrawal code and salt do not match the commitment the payer signed');
    case 'payer-signature':
      return new TamperedPacketError('signature', `payer SM9 signature of '${header.payerIdentity}' does not verify`);
    case 'amount':
      return new TamperedPacketError('amount', `coins sum to ${f.sumFen} fen, header says ${header.amountFen}`);
    case 'duplicate-serial':
      return new TamperedPacketError('duplicate-coin', `coin ${bytesToHex(f.coin.body.serial)} listed twice`);
    case 'coin-format':
      return new ForgedCoinError('format', f.coin.body.serial);
    case 'coin-key':
    case 'coin-signature':
      return new ForgedCoinError('signature', f.coin.body.serial);
    case 'denomination-key':
      return new WrongDenominationKeyError(f.coin.body.serial);
    case 'expired':
      return new ExpiredCoinError(f.coin.body.serial, f.coin.body.expiryDate, header.date);
  }
}

/**
 * Every check of settlement that needs no database: packet layout and version, payee, the evidence
 * (the payee card's receipt and its SM9 signature, or the opened body and the withdrawal seal against
 * the header's commitment), then verifyExportPacket on the settlement body: coin list hash, the payer's
 * SM9 signature over SM3(header || coin list), amount, and each coin (format, SM2 signature under
 * `anchors`, denomination key when `keys` is given, expiry on the payment date, serial once). Throws
 * the registry's error for the first check that fails. Never decrypts (the registry holds no payee key).
 */
export function verifyDeposit(packetBytes: Uint8Array, opts: DepositEvidence, anchors: PacketAnchors, keys?: CheckValueSource): VerifiedPacket {
  const read = readExportPacket(packetBytes);
  if (!read.ok) throw new TamperedPacketError('format', read.fault === 'format' ? read.detail : `packet version ${read.version}`);
  const { header, body } = read;
  if (header.payeeIdentity !== opts.payeeIdentity) throw new WrongPayeeError(header.payeeIdentity, opts.payeeIdentity);
  const packetHash = sm3(packetBytes);
  const noCommitment = header.codeCommitment.every((b) => b === 0);
  let settlementBytes: Uint8Array;
  let receipt: Receipt | undefined;
  if (opts.importResponse) {
    let decoded;
    try {
      decoded = importResponseCoder.decode(opts.importResponse);
    } catch (e) {
      throw new TamperedPacketError('receipt', `not an IMPORT COINS response: ${(e as Error).message}`);
    }
    receipt = decoded.receipt;
    const b = receipt.body;
    const mismatch = !equalBytes(b.packetHash, packetHash)
      ? 'packet hash'
      : b.payeeIdentity !== header.payeeIdentity
        ? 'payee identity'
        : b.payerCardId !== header.payerCardId || b.payerCounter !== header.payerCounter
          ? 'payer card or counter'
          : b.amountFen !== header.amountFen
            ? 'amount'
            : undefined;
    if (mismatch) throw new TamperedPacketError('receipt', `the receipt's ${mismatch} differs from the packet`);
    // value-formats.ts receiptCoder: SM9-Sign(payee user key, SM3(receipt body bytes)), GM/T 0044 part 2 clause 7
    if (!sm9Verify(anchors.kgcSignMasterPublicKey, utf8.encode(b.payeeIdentity), sm3(receiptBodyCoder.encode(b)), receipt.signature)) {
      throw new TamperedPacketError('receipt', `payee card signature of '${b.payeeIdentity}' does not verify`);
    }
    settlementBytes = settlementBodyCoder.encode(decoded.settlement);
  } else if (header.type === 'TRANSFER') {
    if (!opts.settlementBody) throw new TypeError("TRANSFER packet: pass the payee card's importResponse, or the settlementBody the payee opened");
    settlementBytes = opts.settlementBody;
  } else {
    // PURCHASE and CHANGE bodies are in clear and carry no withdrawal code.
    if (body.length < SEAL_LENGTH || !body.subarray(body.length - SEAL_LENGTH).every((x) => x === 0) || !noCommitment) {
      throw new TamperedPacketError('format', `a ${header.type} packet carries no withdrawal code`);
    }
    settlementBytes = body.subarray(0, body.length - SEAL_LENGTH);
  }
  if (opts.withdrawal) {
    const seal = opts.withdrawal;
    if (header.type !== 'TRANSFER' || seal.code === NO_WITHDRAWAL_CODE || !sealMatchesCommitment(seal, header.codeCommitment)) {
      throw new TamperedPacketError('withdrawal-code', 'the withdrawal code and salt do not match the commitment the payer signed');
    }
  }
  const v = verifyExportPacket(read, anchors, { body: { settlementBody: settlementBytes }, denominationKeys: keys });
  if (!v.ok) throw settlementRefusal(v, header);
  return { header, coins: v.coins, packetHash, ...(receipt ? { receipt } : {}) };
}
