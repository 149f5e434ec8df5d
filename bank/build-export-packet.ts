/**
 * @module Builds a signed export packet off-card, exactly as the applet's buildPacket does (value-formats.ts:
 * SM9 signature over SM3(header || coin list), GM/T 0044 part 2; TRANSFER bodies SM9-encrypted, part 4).
 * For tests and benchmarks of settlement (bulk deposits, a second packet signed with a cloned card's key).
 */
import {
  CNY,
  type Coin,
  coinListCoder,
  exportBodyCoder,
  type ExportHeader,
  exportHeaderCoder,
  NO_WITHDRAWAL_SEAL,
  PACKET_VERSION,
  type WithdrawalSeal,
  withdrawalSealCoder,
} from '../applet-spec/value-formats.js';
import { concatBytes } from '../crypto/bytes.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Encrypt, sm9Sign } from '../crypto/sm9/sm9.js';

export interface BuildExportPacketInput {
  header: Partial<Omit<ExportHeader, 'coinListHash' | 'amountFen' | 'codeCommitment'>> & Pick<ExportHeader, 'payerCardId' | 'payerIdentity' | 'payerCounter' | 'payeeIdentity'>;
  /** TRANSFER: the withdrawal seal (code and salt) to put in the body; none by default */
  withdrawal?: WithdrawalSeal;
  coins: Coin[];
  /** the payer's SM9 signing key (G1, 65 bytes) */
  signKey: Uint8Array;
  /** KGC signature master public key (G2, 129 bytes) */
  kgcSignMasterPublicKey: Uint8Array;
  /** TRANSFER only: KGC encryption master public key to encrypt the body to the payee */
  kgcEncryptMasterPublicKey?: Uint8Array;
}

/**
 * Header || body of a packet paying `coins` (amount = their sum). Defaults: PURCHASE, today's fields
 * fixed to 20261122 111500, zero nonce, terminal and codes. Security: whoever holds `signKey` can sign
 * packets as the card; that is the point of a double-spend test and nothing else.
 */
export function buildExportPacket(input: BuildExportPacketInput): Uint8Array {
  const coinListBytes = coinListCoder.encode(input.coins);
  const header: ExportHeader = {
    version: PACKET_VERSION,
    type: 'PURCHASE',
    payeeNonce: new Uint8Array(8),
    terminalId: new Uint8Array(6),
    terminalSequence: 0,
    date: '20261122',
    time: '111500',
    currency: CNY,
    previousExportHash: new Uint8Array(32),
    ...input.header,
    codeCommitment: input.withdrawal ? sm3(withdrawalSealCoder.encode(input.withdrawal)) : new Uint8Array(32),
    amountFen: input.coins.reduce((s, c) => s + c.body.denominationFen, 0),
    coinListHash: sm3(coinListBytes),
  };
  const headerBytes = exportHeaderCoder.encode(header);
  const signature = sm9Sign(input.signKey, input.kgcSignMasterPublicKey, sm3(concatBytes(headerBytes, coinListBytes)));
  let body = exportBodyCoder.encode({ coins: input.coins, signature, withdrawal: input.withdrawal ?? NO_WITHDRAWAL_SEAL });
  if (header.type === 'TRANSFER') {
    if (!input.kgcEncryptMasterPublicKey) throw new TypeError('TRANSFER packet needs kgcEncryptMasterPublicKey');
    body = sm9Encrypt(input.kgcEncryptMasterPublicKey, new TextEncoder().encode(header.payeeIdentity), body);
  }
  return concatBytes(headerBytes, body);
}
