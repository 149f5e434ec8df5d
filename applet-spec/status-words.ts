/** @module The one table of status words the D-RMB card and its host know: ISO/IEC 7816-4:2013 5.6, GlobalPlatform 2.3, PBOC e-purse (JR/T 0025) and this project's own 941x codes. */
import { FormatError } from './errors.js';

/** Where a status word's code is defined. GlobalPlatform-specific meanings of ISO codes are given in the ISO entry's text. */
export type SwOrigin = 'ISO 7816-4' | 'GlobalPlatform' | 'PBOC' | 'D-RMB';

/**
 * One row of the status-word table: the word (or family base), its unique name, its meaning, and the
 * standard it comes from.
 */
export interface StatusWordInfo {
  sw: number;
  /** UPPER_SNAKE name, unique in the table */
  name: string;
  meaning: string;
  /** the defining standard; 'unknown' only for codes describeSw does not know */
  origin: SwOrigin | 'unknown';
  /** true for the 61xx, 6Cxx and 63Cx families (and codes described through them) */
  family?: boolean;
}

// Every fixed code, written once. `as const` keeps the literal names and codes for the SW object's type.
const fixedCodes = [
  // ISO/IEC 7816-4:2013 5.6 Tables 5 and 6 (with GlobalPlatform 2.3 and project meanings where they apply)
  { sw: 0x9000, name: 'OK', meaning: 'normal processing, no further qualification', origin: 'ISO 7816-4' },
  {
    sw: 0x6283,
    name: 'SELECTED_FILE_INVALIDATED',
    meaning: 'selected file deactivated; here: the application is LOCKED (SELECT succeeds with a warning)',
    origin: 'ISO 7816-4',
  },
  {
    sw: 0x6300,
    name: 'AUTHENTICATION_FAILED',
    meaning: 'warning, no information given (ISO); GP SCP03 EXTERNAL AUTHENTICATE: host cryptogram verification failed',
    origin: 'ISO 7816-4',
  },
  { sw: 0x6400, name: 'EXECUTION_ERROR', meaning: 'execution error, non-volatile memory unchanged', origin: 'ISO 7816-4' },
  { sw: 0x6581, name: 'MEMORY_FAILURE', meaning: 'memory failure (non-volatile memory write failed)', origin: 'ISO 7816-4' },
  { sw: 0x6700, name: 'WRONG_LENGTH', meaning: 'wrong length: Lc or Le inconsistent with the command', origin: 'ISO 7816-4' },
  { sw: 0x6881, name: 'LOGICAL_CHANNEL_NOT_SUPPORTED', meaning: 'logical channel not supported', origin: 'ISO 7816-4' },
  { sw: 0x6882, name: 'SECURE_MESSAGING_NOT_SUPPORTED', meaning: 'secure messaging not supported', origin: 'ISO 7816-4' },
  { sw: 0x6883, name: 'LAST_COMMAND_EXPECTED', meaning: 'last command of the chain expected', origin: 'ISO 7816-4' },
  { sw: 0x6884, name: 'CHAINING_NOT_SUPPORTED', meaning: 'command chaining not supported', origin: 'ISO 7816-4' },
  {
    sw: 0x6982,
    name: 'SECURITY_STATUS_NOT_SATISFIED',
    meaning: 'security status not satisfied (no secure channel, PIN not verified, or GP: secure channel MAC or INITIALIZE UPDATE refused)',
    origin: 'ISO 7816-4',
  },
  { sw: 0x6983, name: 'AUTHENTICATION_METHOD_BLOCKED', meaning: 'authentication method blocked (PIN tries exhausted)', origin: 'ISO 7816-4' },
  { sw: 0x6984, name: 'REFERENCE_DATA_NOT_USABLE', meaning: 'reference data not usable (GP: referenced data invalidated)', origin: 'ISO 7816-4' },
  {
    sw: 0x6985,
    name: 'CONDITIONS_OF_USE_NOT_SATISFIED',
    meaning: 'conditions of use not satisfied (wrong application state or command order; SET STATUS with coins on the card)',
    origin: 'ISO 7816-4',
  },
  { sw: 0x6986, name: 'COMMAND_NOT_ALLOWED', meaning: 'command not allowed (no current EF)', origin: 'ISO 7816-4' },
  { sw: 0x6987, name: 'SM_DATA_OBJECTS_MISSING', meaning: 'expected secure messaging data objects missing', origin: 'ISO 7816-4' },
  { sw: 0x6988, name: 'SM_DATA_OBJECTS_INCORRECT', meaning: 'incorrect secure messaging data objects', origin: 'ISO 7816-4' },
  { sw: 0x6a80, name: 'INCORRECT_DATA', meaning: 'incorrect parameters in the command data field', origin: 'ISO 7816-4' },
  {
    sw: 0x6a81,
    name: 'FUNCTION_NOT_SUPPORTED',
    meaning: 'function not supported (GP SELECT: application or card locked; here: application TERMINATED)',
    origin: 'ISO 7816-4',
  },
  { sw: 0x6a82, name: 'FILE_NOT_FOUND', meaning: 'file or application not found', origin: 'ISO 7816-4' },
  { sw: 0x6a83, name: 'RECORD_NOT_FOUND', meaning: 'record not found', origin: 'ISO 7816-4' },
  { sw: 0x6a84, name: 'NOT_ENOUGH_MEMORY', meaning: 'not enough memory space (GP STORE DATA: memory full)', origin: 'ISO 7816-4' },
  { sw: 0x6a86, name: 'INCORRECT_P1P2', meaning: 'incorrect parameters P1-P2 (GP STORE DATA: block out of order)', origin: 'ISO 7816-4' },
  {
    sw: 0x6a88,
    name: 'REFERENCED_DATA_NOT_FOUND',
    meaning: 'referenced data or reference data not found (GET DATA unknown tag, STORE DATA unknown DGI; GP INITIALIZE UPDATE: key version not found)',
    origin: 'ISO 7816-4',
  },
  { sw: 0x6b00, name: 'WRONG_P1P2', meaning: 'wrong parameters P1-P2', origin: 'ISO 7816-4' },
  { sw: 0x6d00, name: 'INS_NOT_SUPPORTED', meaning: 'instruction code not supported or invalid', origin: 'ISO 7816-4' },
  { sw: 0x6e00, name: 'CLA_NOT_SUPPORTED', meaning: 'class not supported', origin: 'ISO 7816-4' },
  { sw: 0x6f00, name: 'NO_PRECISE_DIAGNOSIS', meaning: 'no precise diagnosis', origin: 'ISO 7816-4' },
  // PBOC e-purse, JR/T 0025 part 2 (electronic deposit / electronic purse)
  { sw: 0x9302, name: 'MAC_INVALID', meaning: 'MAC invalid (MAC1/MAC2 or line MAC verification failed)', origin: 'PBOC' },
  { sw: 0x9303, name: 'APPLICATION_PERMANENTLY_LOCKED', meaning: 'application permanently locked', origin: 'PBOC' },
  { sw: 0x9401, name: 'INSUFFICIENT_BALANCE', meaning: 'insufficient balance for the amount', origin: 'PBOC' },
  { sw: 0x9402, name: 'TRANSACTION_COUNTER_MAX', meaning: 'transaction counter reached its maximum', origin: 'PBOC' },
  { sw: 0x9403, name: 'KEY_INDEX_NOT_SUPPORTED', meaning: 'key index not supported (key not found)', origin: 'PBOC' },
  {
    sw: 0x9406,
    name: 'MAC_NOT_AVAILABLE',
    meaning: 'required MAC not available (GET TRANSACTION PROVE for a transaction that did not happen)',
    origin: 'PBOC',
  },
  // This project's own codes (not in any published specification)
  { sw: 0x9410, name: 'COIN_SIGNATURE_INVALID', meaning: "a coin's central-bank signature or format is invalid", origin: 'D-RMB' },
  { sw: 0x9411, name: 'DUPLICATE_COIN_SERIAL', meaning: 'a coin serial is already on the card or repeated in the input', origin: 'D-RMB' },
  { sw: 0x9412, name: 'OVER_BALANCE_CAP', meaning: 'the balance would exceed the balance cap', origin: 'D-RMB' },
  { sw: 0x9413, name: 'OVER_SINGLE_LIMIT', meaning: 'the amount exceeds the single transaction limit', origin: 'D-RMB' },
  { sw: 0x9414, name: 'NO_EXACT_COIN_SET', meaning: 'no set of coins on the card adds up to exactly the amount', origin: 'D-RMB' },
  { sw: 0x9415, name: 'OFFLINE_QUOTA_EXHAUSTED', meaning: 'offline payment count or cumulative amount limit reached', origin: 'D-RMB' },
  { sw: 0x9416, name: 'PACKET_SIGNATURE_INVALID', meaning: 'export packet signature or MAC invalid', origin: 'D-RMB' },
  { sw: 0x9417, name: 'WRONG_PAYEE', meaning: "the packet is not addressed to this card's identity", origin: 'D-RMB' },
  { sw: 0x9418, name: 'COIN_EXPIRED', meaning: 'a coin is past its expiry date', origin: 'D-RMB' },
  { sw: 0x9419, name: 'CARD_BLACKLISTED', meaning: 'card is on the blacklist (reserved for terminals; never sent by the card)', origin: 'D-RMB' },
] as const satisfies readonly StatusWordInfo[];

type FixedCode = (typeof fixedCodes)[number];

/** Status word constants by name, e.g. `SW.INCORRECT_DATA === 0x6a80`; families are built with swBytesAvailable, swWrongLe, swTriesLeft. */
export const SW = Object.freeze(Object.fromEntries(fixedCodes.map((e) => [e.name, e.sw]))) as {
  readonly [E in FixedCode as E['name']]: E['sw'];
};

/** A name of a fixed status word, e.g. 'FILE_NOT_FOUND'. */
export type SwName = keyof typeof SW;

// ISO/IEC 7816-4:2013 5.6: SW2 carries a count in these families.
const familyBytesAvailable = {
  sw: 0x6100,
  name: 'BYTES_AVAILABLE',
  meaning: 'normal processing, SW2 more response bytes available (00 = 256 or more): send GET RESPONSE',
  origin: 'ISO 7816-4',
  family: true,
} as const satisfies StatusWordInfo;
const familyWrongLe = {
  sw: 0x6c00,
  name: 'WRONG_LE',
  meaning: 'wrong Le field: SW2 gives the exact number of available bytes (00 = 256); repeat with that Le',
  origin: 'ISO 7816-4',
  family: true,
} as const satisfies StatusWordInfo;
const familyTriesLeft = {
  sw: 0x63c0,
  name: 'VERIFY_FAILED_TRIES_LEFT',
  meaning: 'verification failed, low nibble of SW2 = tries left (0 = now blocked)',
  origin: 'ISO 7816-4',
  family: true,
} as const satisfies StatusWordInfo;

/** All fixed codes followed by the three family entries (sw 6100, 6C00, 63C0 with `family: true`). */
export const statusWordTable: readonly StatusWordInfo[] = Object.freeze([
  ...fixedCodes,
  familyBytesAvailable,
  familyWrongLe,
  familyTriesLeft,
]);

const bySw = new Map<number, StatusWordInfo>(fixedCodes.map((e) => [e.sw, e]));

function checkSw(sw: number): void {
  if (!Number.isInteger(sw) || sw < 0 || sw > 0xffff) throw new FormatError('SW', `must be 0000..FFFF, got ${sw}`);
}

/** A status word as four uppercase hex digits: "6982". */
export function hex4(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/**
 * The count carried by a family code: 61xx bytes available (00 = 256), 6Cxx exact Le (00 = 256),
 * 63Cx tries left; undefined for any other code.
 */
export function swFamilyCount(sw: number): number | undefined {
  const sw1 = sw >> 8;
  const sw2 = sw & 0xff;
  if (sw1 === 0x61 || sw1 === 0x6c) return sw2 === 0 ? 256 : sw2;
  if ((sw & 0xfff0) === 0x63c0) return sw & 0x0f;
  return undefined;
}

/**
 * What a status word means: the exact fixed code first, then the 61xx / 6Cxx / 63Cx family (the
 * meaning then states the count), else an entry named UNKNOWN. Throws FormatError if `sw` is not
 * 0000..FFFF.
 */
export function describeSw(sw: number): StatusWordInfo {
  checkSw(sw);
  const exact = bySw.get(sw);
  if (exact) return exact;
  const count = swFamilyCount(sw);
  switch (sw >> 8) {
    case 0x61:
      return {
        ...familyBytesAvailable,
        sw,
        meaning: sw === 0x6100 ? '256 or more response bytes available: send GET RESPONSE' : `${count} more response bytes available: send GET RESPONSE`,
      };
    case 0x6c:
      return { ...familyWrongLe, sw, meaning: `wrong Le field: exactly ${count} bytes available, repeat the command with that Le` };
  }
  if (count !== undefined) {
    return {
      ...familyTriesLeft,
      sw,
      meaning: count === 0 ? 'verification failed, 0 tries left (reference data now blocked)' : `verification failed, ${count} ${count === 1 ? 'try' : 'tries'} left`,
    };
  }
  return { sw, name: 'UNKNOWN', meaning: 'unknown status word', origin: 'unknown' };
}

/** 'SW=6A82 (FILE_NOT_FOUND)'; families give their family name ('SW=63C2 (VERIFY_FAILED_TRIES_LEFT)'). */
export function formatSw(sw: number): string {
  return `SW=${hex4(sw)} (${describeSw(sw).name})`;
}

/** 61xx for `n` more bytes (7816-4 5.6): 1..255 -> 61nn, 256 or more -> 6100. Throws FormatError for n < 1. */
export function swBytesAvailable(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new FormatError('SW 61xx count', `bytes available must be >= 1, got ${n}`);
  return 0x6100 | (n >= 256 ? 0 : n);
}

/** 6Cxx telling the exact Le `n` (1..256, 256 -> 6C00). Throws FormatError outside 1..256. */
export function swWrongLe(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new FormatError('SW 6Cxx count', `exact Le must be 1..256, got ${n}`);
  return 0x6c00 | (n & 0xff);
}

/** 63Cx with `n` tries left (0..15). Throws FormatError outside 0..15. */
export function swTriesLeft(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 15) throw new FormatError('SW 63Cx count', `tries left must be 0..15, got ${n}`);
  return 0x63c0 | n;
}

/** Only 9000 is plain success. */
export function isSuccess(sw: number): boolean {
  return sw === 0x9000;
}

/** 9000, or 61xx (success with more data to fetch by GET RESPONSE). */
export function isSuccessOrMoreData(sw: number): boolean {
  return sw === 0x9000 || sw >> 8 === 0x61;
}
