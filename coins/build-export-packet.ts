/**
 * @module buildExportPacket: an export packet signed off-card, as the card's export builds it
 * (value-formats.ts: SM9 signature over SM3(header || coin list), GM/T 0044 part 2; TRANSFER bodies
 * SM9-encrypted to the payee, part 4). The POS terminal's CHANGE packets, and tests and benchmarks of
 * settlement (bulk deposits, a second packet signed with a cloned card's key), are built with it.
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
} from '../applet-spec/value-formats.js';
import { concatBytes } from '../base/bytes.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Encrypt, sm9Sign } from '../crypto/sm9/sm9.js';
import { sealCommitment } from './seal-commitment.js';

export interface SignExportPacketInput {
  /** every header field but those computed here: amount (the coins' sum), coin-list hash and code commitment */
  header: Omit<ExportHeader, 'coinListHash' | 'amountFen' | 'codeCommitment'>;
  coins: Coin[];
  /** TRANSFER: the withdrawal seal (code and salt) to put in the body; none by default */
  withdrawal?: WithdrawalSeal;
  /** the payer's SM9 signing key (G1, 65 bytes) */
  signKey: Uint8Array;
  /** KGC signature master public key (G2, 129 bytes) */
  kgcSignMasterPublicKey: Uint8Array;
}

/**
 * The header bytes, the body in clear and the coin list of a packet paying `coins`: amount = their sum,
 * codeCommitment = sealCommitment(seal), signature = SM9-Sign(signKey, SM3(header bytes || coin list bytes)).
 * Security: whoever holds `signKey` signs as that payer identity.
 */
export function signExportPacket(input: SignExportPacketInput): { headerBytes: Uint8Array; bodyBytes: Uint8Array; coinListBytes: Uint8Array } {
  const withdrawal = input.withdrawal ?? NO_WITHDRAWAL_SEAL;
  const coinListBytes = coinListCoder.encode(input.coins);
  const headerBytes = exportHeaderCoder.encode({
    ...input.header,
    codeCommitment: sealCommitment(withdrawal),
    amountFen: input.coins.reduce((s, c) => s + c.body.denominationFen, 0),
    coinListHash: sm3(coinListBytes),
  });
  const signature = sm9Sign(input.signKey, input.kgcSignMasterPublicKey, sm3(concatBytes(headerBytes, coinListBytes)));
  const bodyBytes = exportBodyCoder.encode({ coins: input.coins, signature, withdrawal });
  return { headerBytes, bodyBytes, coinListBytes };
}

export interface BuildExportPacketInput extends Omit<SignExportPacketInput, 'header'> {
  header: Partial<SignExportPacketInput['header']> & Pick<ExportHeader, 'payerCardId' | 'payerIdentity' | 'payerCounter' | 'payeeIdentity'>;
  /** TRANSFER only: KGC encryption master public key to encrypt the body to the payee */
  kgcEncryptMasterPublicKey?: Uint8Array;
}

/**
 * Header || body of a packet paying `coins` (signExportPacket), the body SM9-encrypted to the payee
 * identity for a TRANSFER. Header defaults, for tests: PURCHASE, 20261122 111500, zero nonce, terminal,
 * sequence and previous export hash. Security: as signExportPacket; a test signing with a cloned card's
 * key makes a double spend, and that is the only reason to sign outside a card or terminal.
 */
export function buildExportPacket(input: BuildExportPacketInput): Uint8Array {
  const header: SignExportPacketInput['header'] = {
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
  };
  const { headerBytes, bodyBytes } = signExportPacket({ ...input, header });
  if (header.type !== 'TRANSFER') return concatBytes(headerBytes, bodyBytes);
  if (!input.kgcEncryptMasterPublicKey) throw new TypeError('TRANSFER packet needs kgcEncryptMasterPublicKey');
  return concatBytes(headerBytes, sm9Encrypt(input.kgcEncryptMasterPublicKey, new TextEncoder().encode(header.payeeIdentity), bodyBytes));
}
