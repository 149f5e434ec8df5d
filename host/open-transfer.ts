/**
 * @module openTransfer: the payee terminal's side of an offline transfer for a payee who holds its own
 * SM9 encryption key but no card (value-formats.ts: TRANSFER bodies are SM9-encrypted to the payee).
 * It opens the body, checks the withdrawal seal against the commitment the payer signed, and returns
 * what the payee presents at a bank: the settlement body and the withdrawal seal. The payer's signature
 * and the coins are the bank's to verify (verifyExportPacket on the settlement body).
 */
import { OperationalError } from '../base/operational-error.js';
import { exportBodyCoder, exportPacketCoder, settlementBodyCoder, type WithdrawalSeal } from '../applet-spec/value-formats.js';
import { sealMatchesCommitment } from '../coins/seal-commitment.js';
import { sm9Decrypt } from '../crypto/sm9/sm9.js';

/**
 * A transfer packet opened with the payee's key: payee, amount, the settlement body and the withdrawal
 * seal.
 */
export interface OpenedTransfer {
  payeeIdentity: string;
  amountFen: number;
  /** coin list and payer signature, as the registry settles them (settlementBodyCoder) */
  settlementBody: Uint8Array;
  /** the withdrawal code and salt; code all zeros when the payer gave none */
  withdrawal: WithdrawalSeal;
}

/** A packet the payee cannot open: not a transfer, not for this key, or a seal that differs from its commitment. */
export class OpenTransferError extends OperationalError {
  override readonly name = 'OpenTransferError';
}

/**
 * Opens a TRANSFER packet with the payee's SM9 encryption private key (GM/T 0044 part 4 clause 7,
 * the payee identity as the card would use it). Security: the caller holds the payee's own key; the
 * result holds the withdrawal code, which only the payee should see.
 */
export function openTransfer(packetBytes: Uint8Array, payeeEncryptKey: Uint8Array): OpenedTransfer {
  let decoded;
  try {
    decoded = exportPacketCoder.decode(packetBytes);
  } catch (e) {
    throw new OpenTransferError(`not an export packet: ${(e as Error).message}`);
  }
  const { header, body } = decoded;
  if (header.type !== 'TRANSFER') throw new OpenTransferError(`a ${header.type} packet is not encrypted to a payee`);
  let clear: Uint8Array;
  try {
    clear = sm9Decrypt(payeeEncryptKey, new TextEncoder().encode(header.payeeIdentity), body);
  } catch {
    throw new OpenTransferError(`the body does not decrypt with this key (the packet pays '${header.payeeIdentity}')`);
  }
  let opened;
  try {
    opened = exportBodyCoder.decode(clear);
  } catch (e) {
    throw new OpenTransferError(`the decrypted body does not decode: ${(e as Error).message}`);
  }
  if (!sealMatchesCommitment(opened.withdrawal, header.codeCommitment)) throw new OpenTransferError('the withdrawal seal differs from the commitment the payer signed');
  return {
    payeeIdentity: header.payeeIdentity,
    amountFen: header.amountFen,
    settlementBody: settlementBodyCoder.encode({ coins: opened.coins, signature: opened.signature }),
    withdrawal: opened.withdrawal,
  };
}
