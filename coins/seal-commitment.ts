/**
 * @module sealCommitment: the header's commitment to a transfer's withdrawal seal (value-formats.ts
 * withdrawalSealCoder): SM3 of the 24 seal bytes for a code, 32 zero bytes for none; and the check of a
 * seal against the commitment the payer signed.
 */
import { NO_WITHDRAWAL_CODE, type WithdrawalSeal, withdrawalSealCoder } from '../applet-spec/value-formats.js';
import { equalBytes } from '../base/bytes.js';
import { sm3 } from '../crypto/sm3.js';

/** The codeCommitment of a header carrying this seal: zeros without a code, else SM3(seal bytes). */
export function sealCommitment(seal: WithdrawalSeal): Uint8Array {
  return seal.code === NO_WITHDRAWAL_CODE ? new Uint8Array(32) : sm3(withdrawalSealCoder.encode(seal));
}

/** Whether a seal opened from a body is the one the header commits to (no code: the commitment is all zeros). */
export function sealMatchesCommitment(seal: WithdrawalSeal, codeCommitment: Uint8Array): boolean {
  return equalBytes(sealCommitment(seal), codeCommitment);
}
