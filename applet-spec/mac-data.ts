/**
 * @module MAC_DATA: the bytes each JR/T 0025.2 MAC1, MAC2 and TAC covers in the load and purchase
 * processes, as struct coders (one definition gives the builder, the parser and the documented layout),
 * with one builder per layout. The MAC computation itself is in crypto/pboc.ts.
 */
import { bcdDate, bcdTime, bytes, type Coder, type Infer, mapped, struct, u32, u8 } from './codec/fields.js';

/** The same coder with its own description in the generated layout tables. */
const described = <T>(inner: Coder<T>, describe: string): Coder<T> =>
  mapped(
    inner,
    (v) => v,
    (v) => v,
    describe,
  );

const balance = (describe: string) => described(u32, `${describe}, fen, u32 big-endian`);
const amountFen = described(u32, 'transaction amount, fen, u32 big-endian');
const transactionType = described(u8, 'transaction type identifier (TRANSACTION_TYPES)');
const terminalId = bytes(6, 'terminal ID');
const date = described(bcdDate, 'transaction date YYYYMMDD, n8 BCD');
const time = described(bcdTime, 'transaction time hhmmss, n6 BCD');

/**
 * JR/T 0025.2 load process, MAC1 data (15 bytes), computed by the card and checked by the host:
 * balance before load (4) || amount (4) || transaction type (1) || terminal ID (6).
 */
export const loadMac1DataCoder = struct(
  { balanceFen: balance('balance before the load'), amountFen, transactionType, terminalId },
  'load MAC1 data',
);

/**
 * JR/T 0025.2 load process, MAC2 data (18 bytes), computed by the host and checked by the card; date
 * and time are the host's: amount (4) || transaction type (1) || terminal ID (6) || host date (4, BCD) ||
 * host time (3, BCD).
 */
export const loadMac2DataCoder = struct({ amountFen, transactionType, terminalId, date, time }, 'load MAC2 data');

/**
 * JR/T 0025.2 load process, TAC data (26 bytes): new balance (4) || transaction counter before the
 * increment (4) || amount (4) || transaction type (1) || terminal ID (6) || date (4) || time (3).
 * D-RMB departs: its single transaction counter has 4 bytes (JR/T 0025.2 has a 2-byte online counter here).
 */
export const loadTacDataCoder = struct(
  {
    newBalanceFen: balance('balance after the load'),
    counter: described(u32, 'transaction counter before increment, u32 big-endian (D-RMB; JR/T 0025.2: u16)'),
    amountFen,
    transactionType,
    terminalId,
    date,
    time,
  },
  'load TAC data',
);

/**
 * JR/T 0025.2 purchase process, MAC1 data (18 bytes), computed by the PSAM and checked by the
 * card: amount (4) || transaction type (1) || terminal ID (6) || terminal date (4) || terminal time (3).
 */
export const purchaseMac1DataCoder = struct({ amountFen, transactionType, terminalId, date, time }, 'purchase MAC1 data');

/** JR/T 0025.2 purchase process, MAC2 data (4 bytes), computed by the card and checked by the PSAM: amount (4). */
export const purchaseMac2DataCoder = struct({ amountFen }, 'purchase MAC2 data');

/**
 * JR/T 0025.2 purchase process, TAC data (22 bytes): amount (4) || transaction type (1) || terminal ID (6) ||
 * terminal transaction sequence number (4) || date (4) || time (3).
 */
export const purchaseTacDataCoder = struct(
  { amountFen, transactionType, terminalId, terminalSequence: described(u32, 'terminal transaction sequence number, u32 big-endian'), date, time },
  'purchase TAC data',
);

/** Every MAC and TAC data layout by name, with who computes and who checks it (for the generated reference). */
export const MAC_DATA = {
  loadMac1: { coder: loadMac1DataCoder, title: 'load MAC1', note: 'Computed by the card (INITIALIZE FOR LOAD), checked by the host.' },
  loadMac2: { coder: loadMac2DataCoder, title: 'load MAC2', note: 'Computed by the host, checked by the card (CREDIT FOR LOAD); D-RMB: the MAC covers these bytes followed by SM3 of the coin list bytes.' },
  loadTac: { coder: loadTacDataCoder, title: 'load TAC', note: 'Computed by the card under its TAC key, checked by the issuer.' },
  purchaseMac1: { coder: purchaseMac1DataCoder, title: 'purchase MAC1', note: 'Computed by the terminal PSAM (INIT SAM FOR PURCHASE, with its own terminal number), checked by the card (DEBIT FOR PURCHASE).' },
  purchaseMac2: { coder: purchaseMac2DataCoder, title: 'purchase MAC2', note: 'Computed by the card, checked by the terminal PSAM (CREDIT SAM FOR PURCHASE).' },
  purchaseTac: { coder: purchaseTacDataCoder, title: 'purchase TAC', note: 'Computed by the card under its TAC key, checked by the acquirer or issuer.' },
} as const;
/** Name of a MAC or TAC data layout. */
export type MacDataName = keyof typeof MAC_DATA;

export type LoadMac1Fields = Infer<typeof loadMac1DataCoder>;
export type LoadMac2Fields = Infer<typeof loadMac2DataCoder>;
export type LoadTacFields = Infer<typeof loadTacDataCoder>;
export type PurchaseMac1Fields = Infer<typeof purchaseMac1DataCoder>;
export type PurchaseMac2Fields = Infer<typeof purchaseMac2DataCoder>;
export type PurchaseTacFields = Infer<typeof purchaseTacDataCoder>;

/** JR/T 0025.2 load MAC1 data (15 bytes); see `loadMac1DataCoder`. */
export function loadMac1Data(fields: LoadMac1Fields): Uint8Array {
  return loadMac1DataCoder.encode(fields);
}

/** JR/T 0025.2 load MAC2 data (18 bytes); see `loadMac2DataCoder`. */
export function loadMac2Data(fields: LoadMac2Fields): Uint8Array {
  return loadMac2DataCoder.encode(fields);
}

/** JR/T 0025.2 load TAC data (26 bytes, with the 4-byte D-RMB counter); see `loadTacDataCoder`. */
export function loadTacData(fields: LoadTacFields): Uint8Array {
  return loadTacDataCoder.encode(fields);
}

/** JR/T 0025.2 purchase MAC1 data (18 bytes); see `purchaseMac1DataCoder`. */
export function purchaseMac1Data(fields: PurchaseMac1Fields): Uint8Array {
  return purchaseMac1DataCoder.encode(fields);
}

/** JR/T 0025.2 purchase MAC2 data (4 bytes); see `purchaseMac2DataCoder`. */
export function purchaseMac2Data(fields: PurchaseMac2Fields): Uint8Array {
  return purchaseMac2DataCoder.encode(fields);
}

/** JR/T 0025.2 purchase TAC data (22 bytes); see `purchaseTacDataCoder`. */
export function purchaseTacData(fields: PurchaseTacFields): Uint8Array {
  return purchaseTacDataCoder.encode(fields);
}
