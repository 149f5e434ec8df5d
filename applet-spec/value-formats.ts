/**
 * @module Value formats of the D-RMB system: coin, export packet (header and body), receipt, log record
 * and card certificate, each with the exact byte range that is signed or MACed.
 */
import {
  bcd,
  bcdDate,
  bcdTime,
  bytes,
  type Coder,
  countedList,
  enumeration,
  type Infer,
  rest,
  struct,
  tlvFields,
  u32,
  u8,
  utf8,
} from './codec/fields.js';
import {
  cardIdCoder,
  DATA_OBJECTS,
  sm2SignatureCoder,
  sm9SignatureCoder,
} from './data-objects.js';

/** Transaction types, shared by PBOC MAC inputs, export packets, log records and GET TRANSACTION PROVE P2. */
export const TRANSACTION_TYPES = {
  /** JR/T 0025.2: 02 e-purse load */
  LOAD: 0x02,
  /** JR/T 0025.2: 06 e-purse purchase; here a POS purse debit exporting coins */
  PURCHASE: 0x06,
  /** D-RMB: offline peer payment (signed coin export to a payee identity) */
  TRANSFER: 0x07,
  /** D-RMB: coins received from a packet (IMPORT COINS) */
  RECEIVE: 0x08,
  /** D-RMB: change paid into the card by a terminal, carried in a packet the terminal signs */
  CHANGE: 0x09,
} as const;
/** A transaction type name of TRANSACTION_TYPES (LOAD, PURCHASE, TRANSFER, RECEIVE, CHANGE, ...), as the log and packets carry it. */
export type TransactionType = keyof typeof TRANSACTION_TYPES;
export const transactionTypeCoder = enumeration(TRANSACTION_TYPES, 'transaction type');

/** ISO 4217 numeric code of the yuan: the currency of every D-RMB packet and risk parameter set. */
export const CNY = '0156';

/** Largest single payment the central bank allows a card: 1000.00 yuan (ARCHITECTURE: single payment limit). */
export const MAX_SINGLE_LIMIT_FEN = 100_000;

/** Coin record format version written by the mint. */
export const COIN_VERSION = 0x01;

/**
 * Coin body: the part the central bank signs (GB/T 32918.2 signature with the default user ID over
 * exactly these bytes). m = SM4(denomination base key, serial) is the central bank's own check value.
 */
export const coinBodyCoder = struct(
  {
    version: u8,
    denominationFen: u32,
    serial: bytes(16, 'crown number, random'),
    issueDate: bcdDate,
    expiryDate: bcdDate,
    keyIndex: u8,
    m: bytes(16, 'SM4(base key, serial)'),
  },
  'coin body',
);

/** A coin: body || central-bank SM2 signature r||s over the body bytes. 110 bytes. */
export const coinCoder = struct({ body: coinBodyCoder, signature: sm2SignatureCoder }, 'coin');
/**
 * A coin as coinCoder decodes it: the signed body (serial, denomination, dates, key index, ...) and
 * the central bank's SM2 signature.
 */
export type Coin = Infer<typeof coinCoder>;

/** Coin bytes [0, COIN_SIGNED_LENGTH) are signed; the signature follows. */
export const COIN_SIGNED_LENGTH = coinBodyCoder.size!;
/** Encoded coin length. */
export const COIN_LENGTH = coinCoder.size!;

/**
 * Export packet format version. Version 2 moved the withdrawal code out of the header into the payee-
 * encrypted body, leaving only its salted commitment in the signed header.
 */
export const PACKET_VERSION = 0x02;

/** The withdrawal code of a transfer without one (and of every purchase and change packet). */
export const NO_WITHDRAWAL_CODE = '0'.repeat(16);

/** Packet types: the subset of transaction types that produce a packet. */
export const packetTypeCoder = enumeration(
  { PURCHASE: TRANSACTION_TYPES.PURCHASE, TRANSFER: TRANSACTION_TYPES.TRANSFER, CHANGE: TRANSACTION_TYPES.CHANGE },
  'packet type',
);

/**
 * Export packet header (card-commands.md "Export packet header"). Signed together with the coin list:
 * signature = SM9-Sign(payer user key, SM3(header bytes || coin list bytes)) where the coin list bytes
 * are the count byte and the coins exactly as they appear in the body.
 * Departs from card-commands.md: the withdrawal code is not in the header, where anyone who sees the
 * packet could read it; the header carries codeCommitment = SM3(withdrawal seal bytes) instead (see
 * withdrawalSealCoder), so the payer's signature binds the code while only the payee can read it.
 */
export const exportHeaderCoder = struct(
  {
    version: u8,
    type: packetTypeCoder,
    payerCardId: cardIdCoder,
    payerIdentity: utf8('payer SM9 identity', 64),
    payerCounter: u32,
    payeeIdentity: utf8('payee SM9 identity (merchant or person)', 64),
    payeeNonce: bytes(8, 'payee nonce or terminal unpredictable number'),
    terminalId: bytes(6, 'terminal ID'),
    terminalSequence: u32,
    date: bcdDate,
    time: bcdTime,
    amountFen: u32,
    currency: bcd(4, 'ISO 4217 numeric, 0156'),
    codeCommitment: bytes(32, 'SM3 of the withdrawal seal (code || salt) in the body, zeros when no code'),
    coinListHash: bytes(32, 'SM3 of the coin list bytes'),
    previousExportHash: bytes(32, 'SM3 of the previous packet from this card (hash chain), zeros for the first'),
  },
  'export packet header',
);
/**
 * The clear header of an export packet as exportHeaderCoder decodes it: type, payer card, identity and
 * counter, payee identity and nonce, terminal, date and time, amount, seal commitment, coin-list hash.
 */
export type ExportHeader = Infer<typeof exportHeaderCoder>;

/** Most coins one packet or load carries. */
export const MAX_COINS_PER_TRANSFER = 64;

/** Coin list: 1-byte count, then the coins; its exact bytes are hashed and signed. */
export const coinListCoder = countedList(coinCoder, MAX_COINS_PER_TRANSFER, 'coins');

/**
 * The withdrawal seal: the code a payee without a card presents at a bank counter, and a random salt
 * so that the commitment in the public header (SM3 of these 24 bytes) cannot be searched for the
 * 16-digit code. All zeros when the transfer has no code (then the header commitment is all zeros).
 */
export const withdrawalSealCoder = struct(
  {
    code: bcd(16, 'withdrawal code n16, all zeros when unused'),
    salt: bytes(16, 'random salt of the code commitment, zeros when unused'),
  },
  'withdrawal seal',
);
export type WithdrawalSeal = Infer<typeof withdrawalSealCoder>;
/** The seal of a packet without withdrawal code. */
export const NO_WITHDRAWAL_SEAL: WithdrawalSeal = { code: NO_WITHDRAWAL_CODE, salt: new Uint8Array(16) };

/**
 * What settlement needs of a body: the coin list and the payer's SM9 signature. The registry checks
 * these against the signed header without the payee's key; the payee's card hands them out in its
 * IMPORT COINS response, and a payee terminal that opened the body hands them in.
 */
export const settlementBodyCoder = struct(
  {
    coins: coinListCoder,
    signature: sm9SignatureCoder,
  },
  'settlement body',
);
export type SettlementBody = Infer<typeof settlementBodyCoder>;

/**
 * Body in clear: the coin list (1-byte count, then coins), the payer's SM9 signature, and the
 * withdrawal seal. For a TRANSFER the whole body is encrypted to the payee, so only the payee learns
 * the code; the signature covers it through the header's codeCommitment.
 */
export const exportBodyCoder = struct(
  {
    coins: coinListCoder,
    signature: sm9SignatureCoder,
    withdrawal: withdrawalSealCoder,
  },
  'export packet body',
);
/**
 * The body of an export packet as exportBodyCoder decodes it: the coins, the withdrawal seal and the
 * payer's SM9 signature.
 */
export type ExportBody = Infer<typeof exportBodyCoder>;

/**
 * Export packet = header || body. For PURCHASE and CHANGE packets the body is in clear; for TRANSFER
 * it is SM9-Encrypt(payee identity, body bytes) (GM/T 0044 part 4, KDF-XOR mode, C1||C3||C2).
 */
export const exportPacketCoder = struct(
  {
    header: exportHeaderCoder,
    body: rest('export body: in clear for types 06/09, SM9 ciphertext for type 07'),
  },
  'export packet',
);
/** An export packet (header and body) as exportPacketCoder decodes it. */
export type ExportPacket = Infer<typeof exportPacketCoder>;

/** Receipt format version. */
export const RECEIPT_VERSION = 0x01;

/** Receipt body: signed by the payee card with SM9-Sign(payee user key, SM3(receipt body bytes)). */
export const receiptBodyCoder = struct(
  {
    version: u8,
    payeeCardId: cardIdCoder,
    payeeIdentity: utf8('payee SM9 identity', 64),
    payeeCounter: u32,
    payerCardId: cardIdCoder,
    payerCounter: u32,
    amountFen: u32,
    packetHash: bytes(32, 'SM3 of the whole imported packet'),
    date: bcdDate,
    time: bcdTime,
  },
  'receipt body',
);

/** Receipt returned by IMPORT COINS: body || SM9 signature of the payee card. */
export const receiptCoder = struct(
  {
    body: receiptBodyCoder,
    signature: sm9SignatureCoder,
  },
  'receipt',
);
/** A payee card's signed receipt as receiptCoder decodes it. */
export type Receipt = Infer<typeof receiptCoder>;

/**
 * IMPORT COINS response: the payee card's receipt, then the settlement body of the imported packet
 * (for a TRANSFER, decrypted by the card; the withdrawal seal stays on the card). The payee's bank
 * settles with the packet and this response: the receipt proves the payee card took the coins, and
 * the settlement body lets the registry check the payer's signature without the payee's key.
 */
export const importResponseCoder = struct(
  {
    receipt: receiptCoder,
    settlement: settlementBodyCoder,
  },
  'import response',
);
/**
 * The answer to IMPORT COINS as importResponseCoder decodes it: the payee card's receipt and the
 * settlement body.
 */
export type ImportResponse = Infer<typeof importResponseCoder>;

/**
 * Transaction log record (SFI 18, cyclic; PBOC/EMV 9F4D style, extended): 38 bytes.
 * The counterparty is the other card's ID (payer of a received packet), for a terminal 4 zero bytes
 * followed by its terminal ID, and for a transfer the first 10 bytes of SM3(payee identity).
 */
export const logRecordCoder = struct(
  {
    counter: u32,
    type: transactionTypeCoder,
    amountFen: u32,
    balanceAfterFen: u32,
    counterparty: bytes(10, 'payer card ID, 00000000 || terminal ID, or SM3(payee identity) prefix'),
    date: bcdDate,
    time: bcdTime,
    coinSetHash: bytes(8, 'first 8 bytes of SM3 of the coin list moved'),
  },
  'log record',
);
/** One transaction log record as logRecordCoder decodes it. */
export type LogRecord = Infer<typeof logRecordCoder>;
export const LOG_RECORD_LENGTH = logRecordCoder.size!;

/**
 * Card certificate (value of tag 7F21). The central bank signs, with SM2 and the default user ID, the
 * concatenated TLV encodings of DF01, 5F24, DF15 and DF16 exactly as they appear, i.e. every byte of the
 * 7F21 value before tag 5F37.
 */
const certificateBodyShape = {
  cardId: { tag: DATA_OBJECTS.cardId.tag, coder: DATA_OBJECTS.cardId.coder as Coder<string> },
  expiryDate: { tag: DATA_OBJECTS.expiryDate.tag, coder: DATA_OBJECTS.expiryDate.coder as Coder<string> },
  certKeyIndex: { tag: DATA_OBJECTS.certKeyIndex.tag, coder: DATA_OBJECTS.certKeyIndex.coder as Coder<number> },
  cardPublicKey: { tag: DATA_OBJECTS.cardPublicKey.tag, coder: DATA_OBJECTS.cardPublicKey.coder as Coder<Uint8Array> },
};
export const cardCertificateBodyCoder = tlvFields(certificateBodyShape, 'card certificate body');

/** The certificate's members must come in this order, so that re-encoding reproduces the signed bytes. */
export const cardCertificateCoder = tlvFields(
  { ...certificateBodyShape, signature: { tag: DATA_OBJECTS.certificateSignature.tag, coder: sm2SignatureCoder } },
  'card certificate',
  { ordered: true },
);
/** A card certificate (tag 7F21) as cardCertificateCoder decodes it. */
export type CardCertificate = Infer<typeof cardCertificateCoder>;

/** The signed bytes of a certificate value: everything before the 5F37 signature object. */
export function cardCertificateSignedPart(cert: CardCertificate): Uint8Array {
  const { signature: _signature, ...body } = cert;
  return cardCertificateBodyCoder.encode(body);
}
