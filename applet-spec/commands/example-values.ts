/** @module Readable example values shared by the command examples (a coin, a packet header), as hex. */

/** One 100-yuan coin, 110 bytes: version, denomination, serial, issue and expiry dates, key index, m, signature. */
export const EXAMPLE_COIN_HEX =
  '01 00002710 00112233445566778899AABBCCDDEEFF 20260101 20361231 01 ' + 'AA'.repeat(16) + ' ' + '5A'.repeat(64);

export const EXAMPLE_COIN = {
  body: {
    version: 1,
    denominationFen: 10000,
    serial: Uint8Array.from({ length: 16 }, (_, i) => i * 0x11),
    issueDate: '20260101',
    expiryDate: '20361231',
    keyIndex: 1,
    m: new Uint8Array(16).fill(0xaa),
  },
  signature: new Uint8Array(64).fill(0x5a),
};

/** A purchase packet header for 30.00 yuan from identity "alice" to "shop". */
export const EXAMPLE_HEADER_HEX =
  '02 06 62120000000000000001 05 616C696365 00000006 04 73686F70 0102030405060708 112233445566 00000001 ' +
  '20261122 101500 00000BB8 0156 ' +
  '00'.repeat(32) +
  ' ' +
  'C1'.repeat(32) +
  ' ' +
  '00'.repeat(32);

export const EXAMPLE_HEADER = {
  version: 2,
  type: 'PURCHASE' as const,
  payerCardId: '62120000000000000001',
  payerIdentity: 'alice',
  payerCounter: 6,
  payeeIdentity: 'shop',
  payeeNonce: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
  terminalId: Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66),
  terminalSequence: 1,
  date: '20261122',
  time: '101500',
  amountFen: 3000,
  currency: '0156',
  codeCommitment: new Uint8Array(32),
  coinListHash: new Uint8Array(32).fill(0xc1),
  previousExportHash: new Uint8Array(32),
};

export const TERMINAL_ID = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66);
