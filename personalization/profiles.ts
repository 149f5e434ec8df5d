/**
 * @module Personalization profiles: declarative JSON for central-bank card prep (validity, institution,
 * card form, risk limits) and commercial-bank issuance (real-name or anonymous, tier caps, PIN policy,
 * SM9 identity scheme), checked by a small schema validator that names the field and the reason; and
 * the DGI values (0101, 9102, E002, 0201, E101, 9010) and SM9 identity a profile gives.
 */
import { readFileSync } from 'node:fs';
import { hex } from '../base/hex.js';
import { FormatError } from '../applet-spec/errors.js';
import { sm3 } from '../crypto/sm3.js';
import { CNY, MAX_SINGLE_LIMIT_FEN } from '../applet-spec/value-formats.js';
import type { DgiValue } from '../applet-spec/dgis.js';

// ---------------------------------------------------------------------------------------------
// Types

/** One thing wrong with a profile: the dotted path of the field and why, e.g. { field: 'risk.singleLimitFen', reason: 'must be at most 100000 (1000.00 yuan)' }. */
export interface Problem {
  field: string;
  reason: string;
}

/** The outcome of validating a profile: the typed profile, or the problems found. */
export type Validation<T> = { ok: true; profile: T } | { ok: false; problems: Problem[] };

export const CARD_FORMS = ['contact', 'dual', 'wearable', 'sim'] as const;
export type CardForm = (typeof CARD_FORMS)[number];

/** Card form byte of tag DF05: 01 contact, 02 dual interface, 03 wearable, 04 SIM. */
export function cardFormCode(form: CardForm): number {
  return CARD_FORMS.indexOf(form) + 1;
}

/** Central-bank risk defaults (DGI E002), amounts in fen. */
export interface RiskDefaults {
  singleLimitFen: number;
  balanceCapFen: number;
  offlineCountLimit: number;
  offlineAmountLimitFen: number;
  maxCoins: number;
  pinThresholdFen: number;
}

/** Profile of central-bank card prep (stage 1). */
export interface PrepareProfile {
  kind: 'prepare';
  /** free text for people; ignored by drmb */
  description?: string;
  /** issuing institution code, 8 digits (tag DF04) */
  institution: string;
  cardForm: CardForm;
  /** application label shown by terminals, 1..16 printable ASCII characters (tag 50) */
  label: string;
  /** YYMMDD dates (tags 5F25, 5F24); expiry after effective */
  validity: { effective: string; expiry: string };
  /** application version, 4 hex digits (tag 9F08) */
  applicationVersion: string;
  risk: RiskDefaults;
}

/** Tier caps of the holder (DGI E101), amounts in fen; each at most the central-bank default. */
export interface TierCaps {
  balanceCapFen: number;
  singleLimitFen: number;
  offlineCountLimit: number;
  offlineAmountLimitFen: number;
  pinThresholdFen?: number;
}

/** The PIN rules of an issuance profile: tries before blocking and the number of digits. */
export interface PinPolicy {
  /** wrong presentations before the PIN blocks, 1..15 (DGI 9010) */
  tryLimit: number;
  minDigits: number;
  maxDigits: number;
}

export const HOLDER_MODES = ['real-name', 'anonymous'] as const;
export type HolderMode = (typeof HOLDER_MODES)[number];
export const IDENTITY_SCHEMES = ['card-id', 'phone'] as const;
export type IdentityScheme = (typeof IDENTITY_SCHEMES)[number];

/** Profile of commercial-bank issuance (stage 2). */
export interface IssueProfile {
  kind: 'issue';
  description?: string;
  mode: HolderMode;
  /** real-name tier 1 (strongest verification) .. 4 (anonymous) (tag DF27) */
  tier: 1 | 2 | 3 | 4;
  /** issuing bank code, 12 digits (tag DF25) */
  bankCode: string;
  caps: TierCaps;
  pin: PinPolicy;
  /** SM9 identity: the card ID or the holder's phone number, then "|" and a 4-digit validity year */
  identity: { scheme: IdentityScheme; validitySuffix: string };
}

/** A card prep or issuance profile. */
export type Profile = PrepareProfile | IssueProfile;

/** Largest single payment: 100000 fen = 1000.00 yuan (tag 9F78). */
/** Largest balance cap a profile may set (fen). */
export const MAX_BALANCE_CAP_FEN = 99_999_999;
/** Largest coin slot count a profile may set. */
export const MAX_COINS = 500;

// ---------------------------------------------------------------------------------------------
// A small schema validator

type Rule = (value: unknown, field: string, out: Problem[]) => boolean;

const yuan = (fen: number): string => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')} yuan`;
const amountText = (n: number, fen: boolean): string => (fen ? `${n} (${yuan(n)})` : String(n));

/** An integer in [min, max]; `fen` adds the amount in yuan to the reason. */
function int(min: number, max: number, fen = false): Rule {
  return (v, field, out) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      out.push({ field, reason: `must be an integer${fen ? ' number of fen' : ''}` });
      return false;
    }
    if (v < min) out.push({ field, reason: `must be at least ${amountText(min, fen)}` });
    else if (v > max) out.push({ field, reason: `must be at most ${amountText(max, fen)}` });
    else return true;
    return false;
  };
}

function str(test: (s: string) => boolean, reason: string): Rule {
  return (v, field, out) => {
    if (typeof v !== 'string' || !test(v)) {
      out.push({ field, reason });
      return false;
    }
    return true;
  };
}

function oneOf(values: readonly (string | number)[]): Rule {
  const list = values.map((x) => (typeof x === 'string' ? `"${x}"` : String(x))).join(', ');
  return (v, field, out) => {
    if (!values.includes(v as string | number)) {
      out.push({ field, reason: `must be one of ${list}` });
      return false;
    }
    return true;
  };
}

const text = (max: number): Rule => str((s) => s.length <= max && !/[\u0000-\u001f\u007f]/.test(s), `must be text of at most ${max} characters`);

/** An object with exactly these fields (those in `optional` may be absent); unknown fields are problems (typos). */
function obj(fields: Record<string, Rule>, optional: string[] = []): Rule {
  return (v, field, out) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      out.push({ field: field || '(profile)', reason: 'must be a JSON object' });
      return false;
    }
    const rec = v as Record<string, unknown>;
    const at = (name: string) => (field ? `${field}.${name}` : name);
    let ok = true;
    for (const [name, rule] of Object.entries(fields)) {
      if (rec[name] === undefined) {
        if (!optional.includes(name)) {
          out.push({ field: at(name), reason: 'is required' });
          ok = false;
        }
      } else if (!rule(rec[name], at(name), out)) ok = false;
    }
    for (const name of Object.keys(rec)) {
      if (!(name in fields)) {
        out.push({ field: at(name), reason: `is not a field here (expected ${Object.keys(fields).join(', ')})` });
        ok = false;
      }
    }
    return ok;
  };
}

/** Valid calendar date YYMMDD (20YY). */
function isShortDate(s: string): boolean {
  if (!/^\d{6}$/.test(s)) return false;
  const y = 2000 + Number(s.slice(0, 2));
  const m = Number(s.slice(2, 4));
  const d = Number(s.slice(4, 6));
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const shortDate = str(isShortDate, 'must be a date YYMMDD, e.g. 261101');
const digits = (n: number) => str((s) => new RegExp(`^\\d{${n}}$`).test(s), `must be ${n} digits`);

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * The amount rules shared by risk defaults and tier caps, given fields that passed their range checks:
 * balance cap >= single limit; single limit <= offline amount limit <= balance cap; PIN threshold <=
 * single limit (a payment above the single limit never happens, so a higher threshold would mean
 * "never ask for the PIN" in a misleading way).
 */
function amountRelations(group: string, r: Record<string, unknown>, problems: Problem[]): void {
  // Only relate fields that passed their own checks: one problem per mistake.
  const valid = (f: string): number | undefined => (isInt(r[f]) && !problems.some((p) => p.field === `${group}.${f}`) ? (r[f] as number) : undefined);
  const single = valid('singleLimitFen');
  const cap = valid('balanceCapFen');
  const offline = valid('offlineAmountLimitFen');
  const pin = valid('pinThresholdFen');
  const push = (f: string, reason: string) => problems.push({ field: `${group}.${f}`, reason });
  if (single !== undefined && cap !== undefined && cap < single) push('balanceCapFen', `must be at least ${group}.singleLimitFen (${amountText(single, true)})`);
  if (single !== undefined && offline !== undefined && offline < single) {
    push('offlineAmountLimitFen', `must be at least ${group}.singleLimitFen (${amountText(single, true)})`);
  } else if (cap !== undefined && offline !== undefined && offline > cap && (single === undefined || cap >= single)) {
    push('offlineAmountLimitFen', `must be at most ${group}.balanceCapFen (${amountText(cap, true)}): offline payments cannot spend more than the balance`);
  }
  if (single !== undefined && pin !== undefined && pin > single) push('pinThresholdFen', `must be at most ${group}.singleLimitFen (${amountText(single, true)})`);
}

const amountRules = {
  singleLimitFen: int(1, MAX_SINGLE_LIMIT_FEN, true),
  balanceCapFen: int(1, MAX_BALANCE_CAP_FEN, true),
  offlineCountLimit: int(1, 0xffff),
  offlineAmountLimitFen: int(1, MAX_BALANCE_CAP_FEN, true),
  pinThresholdFen: int(0, MAX_SINGLE_LIMIT_FEN, true),
};

const prepareSchema = obj(
  {
    kind: oneOf(['prepare']),
    description: text(1000),
    institution: digits(8),
    cardForm: oneOf(CARD_FORMS),
    label: str((s) => /^[\x20-\x7e]{1,16}$/.test(s), 'must be 1..16 printable ASCII characters'),
    validity: obj({ effective: shortDate, expiry: shortDate }),
    applicationVersion: str((s) => /^[0-9a-fA-F]{4}$/.test(s), 'must be 4 hex digits, e.g. 0100'),
    risk: obj({ ...amountRules, maxCoins: int(1, MAX_COINS) }),
  },
  ['description'],
);

const issueSchema = obj(
  {
    kind: oneOf(['issue']),
    description: text(1000),
    mode: oneOf(HOLDER_MODES),
    tier: oneOf([1, 2, 3, 4]),
    bankCode: digits(12),
    caps: obj(amountRules, ['pinThresholdFen']),
    pin: obj({ tryLimit: int(1, 15), minDigits: int(4, 12), maxDigits: int(4, 12) }),
    identity: obj({
      scheme: oneOf(IDENTITY_SCHEMES),
      validitySuffix: str((s) => /^20\d{2}$/.test(s), 'must be a 4-digit year 2000..2099, e.g. 2036'),
    }),
  },
  ['description'],
);

/**
 * Validates a central-bank prep profile. Rules: institution 8 digits; cardForm contact | dual |
 * wearable | sim; label 1..16 printable ASCII; validity dates YYMMDD, expiry after effective;
 * applicationVersion 4 hex digits; risk: singleLimitFen 1..100000 (1000.00 yuan), balanceCapFen
 * singleLimitFen..99999999, offlineCountLimit 1..65535, offlineAmountLimitFen singleLimitFen..balanceCapFen,
 * maxCoins 1..500, pinThresholdFen 0..singleLimitFen; no unknown fields. Reports every problem.
 */
export function validatePrepareProfile(x: unknown): Validation<PrepareProfile> {
  const problems: Problem[] = [];
  prepareSchema(x, '', problems);
  const p = x as Record<string, any>;
  if (p && typeof p === 'object') {
    const v = p.validity;
    if (v && isShortDate(v.effective) && isShortDate(v.expiry) && v.expiry <= v.effective) {
      problems.push({ field: 'validity.expiry', reason: `must be after validity.effective (${v.effective})` });
    }
    if (p.risk && typeof p.risk === 'object') amountRelations('risk', p.risk, problems);
  }
  return problems.length ? { ok: false, problems } : { ok: true, profile: structuredClone(x) as PrepareProfile };
}

/**
 * Validates a commercial-bank issuance profile. Rules: mode real-name | anonymous; tier 1..4, and 4 for
 * anonymous cards; bankCode 12 digits; caps as the prep risk amounts (singleLimitFen 1..100000,
 * balanceCapFen >= singleLimitFen, offlineCountLimit 1..65535, offlineAmountLimitFen between singleLimitFen
 * and balanceCapFen, optional pinThresholdFen 0..singleLimitFen); pin tryLimit 1..15, minDigits 4..12,
 * maxDigits minDigits..12; identity scheme card-id | phone, validitySuffix a year 20YY; no unknown fields.
 * Whether the caps fit a prep profile's defaults is {@link checkCapsFitDefaults}.
 */
export function validateIssueProfile(x: unknown): Validation<IssueProfile> {
  const problems: Problem[] = [];
  issueSchema(x, '', problems);
  const p = x as Record<string, any>;
  if (p && typeof p === 'object') {
    if (p.mode === 'anonymous' && [1, 2, 3].includes(p.tier)) problems.push({ field: 'tier', reason: 'must be 4 for anonymous cards' });
    if (p.caps && typeof p.caps === 'object') amountRelations('caps', p.caps, problems);
    const pin = p.pin;
    if (pin && isInt(pin.minDigits) && isInt(pin.maxDigits) && pin.minDigits >= 4 && pin.maxDigits <= 12 && pin.maxDigits < pin.minDigits) {
      problems.push({ field: 'pin.maxDigits', reason: `must be at least pin.minDigits (${pin.minDigits})` });
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, profile: structuredClone(x) as IssueProfile };
}

/**
 * Problems when the issuance caps exceed the central-bank defaults the card was prepared with (the card
 * answers STORE DATA E101 with 6A80 for balance cap, single limit, offline count and offline amount).
 * The PIN threshold is checked too: a tier must not relax the central bank's PIN rule, although the
 * card itself does not refuse it.
 */
export function checkCapsFitDefaults(issue: IssueProfile, prepare: PrepareProfile): Problem[] {
  const problems: Problem[] = [];
  const pairs: [keyof TierCaps, keyof RiskDefaults, boolean][] = [
    ['balanceCapFen', 'balanceCapFen', true],
    ['singleLimitFen', 'singleLimitFen', true],
    ['offlineCountLimit', 'offlineCountLimit', false],
    ['offlineAmountLimitFen', 'offlineAmountLimitFen', true],
    ['pinThresholdFen', 'pinThresholdFen', true],
  ];
  for (const [cap, def, fen] of pairs) {
    const v = issue.caps[cap];
    const max = prepare.risk[def];
    if (v !== undefined && v > max) {
      problems.push({ field: `caps.${cap}`, reason: `must be at most the prep profile's risk.${def} (${amountText(max, fen)})` });
    }
  }
  return problems;
}

/** "field: reason" lines. */
export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.field}: ${p.reason}`).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * A profile that does not parse or validate; `problems` lists every rule broken. A FormatError, so
 * `drmb` reports it as "drmb: <file>: <field>: <reason>" with exit code 2.
 */
export class ProfileError extends FormatError {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(source, problems.map((p) => `${p.field}: ${p.reason}`).join('; '));
  }
}

/** SM3 of the profile file's bytes, uppercase hex: recorded in manifests to tie each card to the exact profile used. */
export function profileHash(profileBytes: Uint8Array): string {
  return hex(sm3(profileBytes));
}

/**
 * A profile as loaded from its file: the path, the bytes and their hash (recorded in the manifest),
 * and the validated profile.
 */
export interface LoadedProfile<P extends Profile = Profile> {
  path: string;
  /** the file's bytes, as hashed */
  bytes: Uint8Array;
  /** {@link profileHash} of bytes */
  hash: string;
  profile: P;
}

function parseJson(bytes: Uint8Array, source: string): unknown {
  const textValue = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  try {
    return JSON.parse(textValue);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const m = /position (\d+)/.exec(msg);
    let place = '';
    if (m) {
      const before = textValue.slice(0, Number(m[1]));
      place = ` at line ${before.split('\n').length}, column ${Number(m[1]) - before.lastIndexOf('\n')}`;
    }
    throw new ProfileError(source, [{ field: '(file)', reason: `is not valid JSON${place} (${msg})` }]);
  }
}

/**
 * Reads a profile file, parses it (a syntax error names the file, line and column) and validates it
 * by its `kind` ('prepare' or 'issue'); with `expectedKind`, a profile of the other kind is refused.
 * Throws ProfileError with every problem.
 */
export function loadProfile(path: string): LoadedProfile;
export function loadProfile<K extends Profile['kind']>(path: string, expectedKind: K): LoadedProfile<Extract<Profile, { kind: K }>>;
export function loadProfile(path: string, expectedKind?: Profile['kind']): LoadedProfile {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError(path, [{ field: '(file)', reason: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})` }]);
  }
  const doc = parseJson(bytes, path) as Record<string, unknown>;
  const kind = doc && typeof doc === 'object' ? doc.kind : undefined;
  if (kind !== 'prepare' && kind !== 'issue') throw new ProfileError(path, [{ field: 'kind', reason: 'must be "prepare" or "issue"' }]);
  if (expectedKind !== undefined && kind !== expectedKind) {
    throw new ProfileError(path, [{ field: 'kind', reason: `is "${kind}", expected a ${expectedKind} profile` }]);
  }
  const r = kind === 'prepare' ? validatePrepareProfile(doc) : validateIssueProfile(doc);
  if (!r.ok) throw new ProfileError(path, r.problems);
  return { path, bytes, hash: profileHash(bytes), profile: r.profile };
}

/** {@link loadProfile} for a prep profile. */
export function loadPrepareProfile(path: string): LoadedProfile<PrepareProfile> {
  return loadProfile(path, 'prepare');
}

/** {@link loadProfile} for an issuance profile. */
export function loadIssueProfile(path: string): LoadedProfile<IssueProfile> {
  return loadProfile(path, 'issue');
}

// ---------------------------------------------------------------------------------------------
// Holder data and identity

export const HOLDER_ID_TYPES = ['resident-id', 'passport', 'other'] as const;
export type HolderIdType = (typeof HOLDER_ID_TYPES)[number];

/** Holder ID type byte of tag DF21: 01 resident identity card, 02 passport, 03 other. */
export function holderIdTypeCode(t: HolderIdType): number {
  return HOLDER_ID_TYPES.indexOf(t) + 1;
}

/** What the bank registers for a holder. Real-name cards need name, idType and idNumber. */
export interface HolderData {
  name?: string;
  idType?: HolderIdType;
  idNumber?: string;
  /** digits, optionally after a leading +, 5..15 digits; used as is in a phone identity */
  phone?: string;
  /** wallet identifier the bank assigned (tag DF26); bank data, not part of the holder hash */
  walletId?: string;
}

const ID_NUMBER_RULES: Record<HolderIdType, [RegExp, string]> = {
  // GB 11643: 17 digits and a check character 0-9 or X. The check character itself is not verified.
  'resident-id': [/^\d{17}[\dX]$/, 'must be 18 characters: 17 digits and a digit or X'],
  passport: [/^[A-Z0-9]{5,17}$/, 'must be 5..17 capital letters or digits'],
  other: [/^[\x21-\x7e]{1,32}$/, 'must be 1..32 printable ASCII characters without spaces'],
};

export const PHONE_RE = /^\+?\d{5,15}$/;

/**
 * Problems with holder data for this profile: real-name requires name (1..64 characters), idType and
 * idNumber (format by type); phone, when given (required by identity scheme "phone"), is 5..15 digits
 * with an optional leading +; walletId is 1..32 printable ASCII; no unknown fields. Anonymous cards
 * accept any subset, validated the same way. Problems name fields as holder.<field>.
 */
export function validateHolderData(profile: IssueProfile, holder: unknown): Problem[] {
  const problems: Problem[] = [];
  const schema = obj(
    {
      name: str((s) => s.trim().length >= 1 && s.length <= 64 && !/[\u0000-\u001f\u007f]/.test(s), 'must be 1..64 characters without control characters'),
      idType: oneOf(HOLDER_ID_TYPES),
      idNumber: str((s) => s.length > 0, 'must be a non-empty string'),
      phone: str((s) => PHONE_RE.test(s), 'must be 5..15 digits with an optional leading +'),
      walletId: str((s) => /^[\x21-\x7e]{1,32}$/.test(s), 'must be 1..32 printable ASCII characters without spaces'),
    },
    ['name', 'idType', 'idNumber', 'phone', 'walletId'],
  );
  if (!schema(holder, 'holder', problems) && (typeof holder !== 'object' || holder === null)) return problems;
  const h = holder as Record<string, unknown>;
  if (profile.mode === 'real-name') {
    for (const f of ['name', 'idType', 'idNumber']) {
      if (h[f] === undefined) problems.push({ field: `holder.${f}`, reason: 'is required for real-name cards' });
    }
  }
  if (typeof h.idNumber === 'string' && h.idNumber.length > 0 && (HOLDER_ID_TYPES as readonly unknown[]).includes(h.idType)) {
    const [re, reason] = ID_NUMBER_RULES[h.idType as HolderIdType];
    if (!re.test(h.idNumber)) problems.push({ field: 'holder.idNumber', reason: `${reason} for idType "${h.idType}"` });
  }
  if (h.idNumber !== undefined && h.idType === undefined && !problems.some((p) => p.field === 'holder.idType')) {
    problems.push({ field: 'holder.idType', reason: 'is required with holder.idNumber' });
  }
  if (profile.identity.scheme === 'phone' && h.phone === undefined) {
    problems.push({ field: 'holder.phone', reason: 'is required by identity.scheme "phone"' });
  }
  return problems;
}

/**
 * The canonical JSON of holder data that the anonymous-card hash covers: an object with the members
 * name, idType, idNumber, phone in this order, absent ones left out (walletId is bank data and never
 * included), the name in Unicode NFC, no whitespace, UTF-8. E.g. {"name":"张三","idType":"resident-id",...}.
 */
export function canonicalHolderJson(holder: HolderData): string {
  const out: Record<string, string> = {};
  if (holder.name !== undefined) out.name = holder.name.normalize('NFC');
  if (holder.idType !== undefined) out.idType = holder.idType;
  if (holder.idNumber !== undefined) out.idNumber = holder.idNumber;
  if (holder.phone !== undefined) out.phone = holder.phone;
  return JSON.stringify(out);
}

/**
 * SM3 of {@link canonicalHolderJson} (tag DF23). Caveat: holder data has little entropy (a phone
 * number has about 10^8 values), so the hash hides it only from casual readers, not from a search.
 */
export function holderHash(holder: HolderData): Uint8Array {
  return sm3(new TextEncoder().encode(canonicalHolderJson(holder)));
}

/**
 * The SM9 identity (tag DF03) of the card's holder: the 20-digit card ID (scheme "card-id") or the phone
 * number as registered (scheme "phone"), then "|" and the profile's validity year, e.g.
 * "62120000000000000001|2036" or "13800138000|2036". The KGC extracts the user keys for these UTF-8 bytes;
 * a payer encrypting to this holder must build the same string. Throws ProfileError naming the input.
 */
export function identityFor(profile: IssueProfile, ids: { cardId: string; phone?: string }): string {
  let base: string;
  if (profile.identity.scheme === 'card-id') {
    if (!/^\d{20}$/.test(ids.cardId)) throw new ProfileError('identity', [{ field: 'cardId', reason: 'must be 20 digits' }]);
    base = ids.cardId;
  } else {
    if (ids.phone === undefined) throw new ProfileError('identity', [{ field: 'holder.phone', reason: 'is required by identity.scheme "phone"' }]);
    if (!PHONE_RE.test(ids.phone)) throw new ProfileError('identity', [{ field: 'holder.phone', reason: 'must be 5..15 digits with an optional leading +' }]);
    base = ids.phone;
  }
  return `${base}|${profile.identity.validitySuffix}`;
}

// ---------------------------------------------------------------------------------------------
// DGI values from profiles (applet-spec/dgis.ts coders)

/** DGI 0101 card record. */
export function cardRecordValue(p: PrepareProfile, cardId: string): DgiValue<'cardRecord'> {
  const v = p.applicationVersion;
  return {
    cardId,
    effectiveDate: p.validity.effective,
    expiryDate: p.validity.expiry,
    institution: p.institution,
    cardForm: cardFormCode(p.cardForm),
    applicationVersion: Uint8Array.of(parseInt(v.slice(0, 2), 16), parseInt(v.slice(2, 4), 16)),
  };
}

/** DGI 9102 FCI proprietary data: the application label in ASCII. */
export function fciValue(p: PrepareProfile): DgiValue<'fci'> {
  return { applicationLabel: new TextEncoder().encode(p.label) };
}

/** DGI E002 risk defaults. */
export function riskDefaultsValue(p: PrepareProfile): DgiValue<'riskDefaults'> {
  const r = p.risk;
  return {
    currency: CNY,
    singleLimit: r.singleLimitFen,
    balanceCap: r.balanceCapFen,
    offlineCountLimit: r.offlineCountLimit,
    offlineAmountLimit: r.offlineAmountLimitFen,
    maxCoins: r.maxCoins,
    pinThreshold: r.pinThresholdFen,
  };
}

/** DGI E101 tier caps. */
export function tierCapsValue(p: IssueProfile): DgiValue<'tierCaps'> {
  const c = p.caps;
  const out: ReturnType<typeof tierCapsValue> = {
    balanceCap: c.balanceCapFen,
    singleLimit: c.singleLimitFen,
    offlineCountLimit: c.offlineCountLimit,
    offlineAmountLimit: c.offlineAmountLimitFen,
  };
  if (c.pinThresholdFen !== undefined) out.pinThreshold = c.pinThresholdFen;
  return out;
}

/** DGI 9010 PIN try limit. */
export function pinTryLimitValue(p: IssueProfile): DgiValue<'pinTryLimit'> {
  return { tryLimit: p.pin.tryLimit };
}

/** A reason the PIN breaks the profile's policy (digits only, minDigits..maxDigits), else undefined. Never contains the PIN. */
export function pinPolicyProblem(p: IssueProfile, pin: string): string | undefined {
  if (!/^\d+$/.test(pin)) return 'the PIN must be digits only';
  if (pin.length < p.pin.minDigits || pin.length > p.pin.maxDigits) return `the PIN must have ${p.pin.minDigits}..${p.pin.maxDigits} digits (it has ${pin.length})`;
  return undefined;
}

/** Value of DGI 0201 (applet-spec DGIS.holderRecord). */
export type HolderRecordValue = DgiValue<'holderRecord'>;

/**
 * DGI 0201 for this holder: real-name cards carry holderName, holderIdType, holderIdNumber and
 * holderPhone (if given); anonymous cards carry only holderHash = {@link holderHash}. Both carry the
 * profile's bankCode and tier, and the wallet ID (`walletId`, else holder.walletId). Throws
 * ProfileError when the holder data breaks {@link validateHolderData} or no wallet ID is given.
 */
export function holderRecordValue(profile: IssueProfile, holder: HolderData, walletId?: string): HolderRecordValue {
  const problems = validateHolderData(profile, holder);
  const wallet = walletId ?? holder.walletId;
  if (wallet === undefined) problems.push({ field: 'holder.walletId', reason: 'is required (the wallet ID the bank registered)' });
  else if (!/^[\x21-\x7e]{1,32}$/.test(wallet)) problems.push({ field: 'walletId', reason: 'must be 1..32 printable ASCII characters without spaces' });
  if (problems.length) throw new ProfileError('holder data', problems);
  const common = { bankCode: profile.bankCode, walletId: wallet!, realNameTier: profile.tier };
  if (profile.mode === 'anonymous') return { holderHash: holderHash(holder), ...common };
  const out: HolderRecordValue = {
    holderName: holder.name!.normalize('NFC'),
    holderIdType: holderIdTypeCode(holder.idType!),
    holderIdNumber: holder.idNumber!,
    ...common,
  };
  if (holder.phone !== undefined) out.holderPhone = holder.phone;
  return out;
}
