/**
 * @module The conformance profile: what the tester knows about the card under test, as a JSON file
 * (format "drmb-conformance-profile", version 1). Every member is optional; a case that needs what the
 * profile does not give is skipped with the reason.
 *
 * ```json
 * {
 *   "format": "drmb-conformance-profile",
 *   "version": 1,
 *   "description": "free text",
 *   "card": { "cardId": "20 digits", "state": "ISSUED", "identity": "SM9 identity" },
 *   "pin": "135790",
 *   "limits": { "pinTryLimit": 3 },
 *   "keys": {
 *     "cbMaster": "keys/cb-master.json",           // application keys and SCP03 kvn 30, diversified per card
 *     "issuanceMaster": "keys/issuance-master.json", // SCP03 kvn 31, diversified per card
 *     "coinSigning": "keys/coin-signing-1.json",     // mints the coins the load cases load
 *     "kgcSign": "keys/kgc-sign.json",               // signs packets from a test payer (receive cases)
 *     "kgcEncrypt": "keys/kgc-encrypt.json",         // opens transfer packets to a test payee
 *     "trustAnchors": "keys/trust-anchors.json",     // verifies coin, packet and receipt signatures
 *     "certSigning": "keys/cert-signing-1.json"      // certifies the card key in card prep (personalization cases)
 *   },
 *   "personalization": { "prepare": "prepare.json", "issue": "issue.json" }  // profiles of drmb perso prepare / issue
 * }
 * ```
 *
 * Key file and personalization profile paths are relative to the profile file. The card ID, state and identity are checked
 * against what the card answers; the limits the card reports by GET DATA are read from the card.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FormatError } from '../base/format-error.js';
import { APP_STATE_NAMES, type AppState } from '../applet-spec/lifecycle.js';
import { type KeyFile, readKeyFile } from '../keys/key-files.js';
import { readTrustAnchors, type TrustAnchors } from '../keys/trust-anchors.js';
import { type IssueProfile, type LoadedProfile, loadIssueProfile, loadPrepareProfile, type PrepareProfile } from '../personalization/profiles.js';
import type { ProfileKeyName } from './conformance-case.js';

export const CONFORMANCE_PROFILE_FORMAT = 'drmb-conformance-profile';

/** The profile with its key files loaded. */
export interface ConformanceProfile {
  description?: string;
  cardId?: string;
  state?: AppState;
  identity?: string;
  pin?: string;
  /** PIN tries the card allows (DGI 9010); read from the card's tries left when absent */
  pinTryLimit?: number;
  keys: {
    cbMaster?: KeyFile<'cb-master'>;
    issuanceMaster?: KeyFile<'issuance-master'>;
    coinSigning?: KeyFile<'coin-signing'>;
    kgcSign?: KeyFile<'kgc-sign'>;
    kgcEncrypt?: KeyFile<'kgc-encrypt'>;
    trustAnchors?: TrustAnchors;
    certSigning?: KeyFile<'cert-signing'>;
  };
  /** the card prep and issuance profiles the personalization cases write a blank card with */
  personalization: {
    prepare?: LoadedProfile<PrepareProfile>;
    issue?: LoadedProfile<IssueProfile>;
  };
}

/** A profile that knows nothing: only cases that need nothing run. */
export const EMPTY_PROFILE: ConformanceProfile = { keys: {}, personalization: {} };

const KEY_KINDS = {
  cbMaster: 'cb-master',
  issuanceMaster: 'issuance-master',
  coinSigning: 'coin-signing',
  kgcSign: 'kgc-sign',
  kgcEncrypt: 'kgc-encrypt',
  certSigning: 'cert-signing',
} as const;

/** Parses profile JSON; key file paths resolve against `baseDir`. Throws FormatError naming the member at fault. */
export function parseProfile(text: string, source: string, baseDir: string): ConformanceProfile {
  const fail = (member: string, detail: string): never => {
    throw new FormatError(`${source} ${member}`, detail);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('', 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('', 'must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== CONFORMANCE_PROFILE_FORMAT) fail('format', `must be "${CONFORMANCE_PROFILE_FORMAT}"`);
  if (d.version !== 1) fail('version', 'must be 1');
  const obj = (v: unknown, member: string): Record<string, unknown> => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(member, 'must be an object');
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, member: string, pattern?: RegExp, what?: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || (pattern && !pattern.test(v))) return fail(member, what ?? 'must be a string');
    return v;
  };
  const card = obj(d.card, 'card');
  const limits = obj(d.limits, 'limits');
  const keys = obj(d.keys, 'keys');
  const perso = obj(d.personalization, 'personalization');
  const state = str(card.state, 'card.state');
  if (state !== undefined && !APP_STATE_NAMES.includes(state as AppState)) fail('card.state', `must be one of ${APP_STATE_NAMES.join(', ')}`);
  const pinTryLimit = limits.pinTryLimit;
  if (pinTryLimit !== undefined && !(Number.isInteger(pinTryLimit) && (pinTryLimit as number) >= 1 && (pinTryLimit as number) <= 15)) fail('limits.pinTryLimit', 'must be an integer 1..15');
  const profile: ConformanceProfile = {
    description: str(d.description, 'description'),
    cardId: str(card.cardId, 'card.cardId', /^\d{20}$/, 'must be 20 digits'),
    state: state as AppState | undefined,
    identity: str(card.identity, 'card.identity'),
    pin: str(d.pin, 'pin', /^\d{4,12}$/, 'must be 4 to 12 digits'),
    pinTryLimit: pinTryLimit as number | undefined,
    keys: {},
    personalization: {},
  };
  for (const name of Object.keys(perso)) {
    if (name !== 'prepare' && name !== 'issue') fail(`personalization.${name}`, 'is not a stage (prepare, issue)');
    const path = resolve(baseDir, str(perso[name], `personalization.${name}`) ?? '');
    if (name === 'prepare') profile.personalization.prepare = loadPrepareProfile(path);
    else profile.personalization.issue = loadIssueProfile(path);
  }
  for (const name of Object.keys(keys)) {
    if (name !== 'trustAnchors' && !(name in KEY_KINDS)) fail(`keys.${name}`, `is not a key this profile knows (${[...Object.keys(KEY_KINDS), 'trustAnchors'].join(', ')})`);
    const path = resolve(baseDir, str(keys[name], `keys.${name}`) ?? '');
    if (name === 'trustAnchors') profile.keys.trustAnchors = readTrustAnchors(path);
    else {
      const k = name as keyof typeof KEY_KINDS;
      (profile.keys as Record<string, unknown>)[k] = readKeyFile(path, KEY_KINDS[k]);
    }
  }
  return profile;
}

/** Reads a profile file. Throws FormatError (or KeyFileError, a FormatError) naming the file and member. */
export function loadProfile(path: string): ConformanceProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FormatError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseProfile(text, path, dirname(resolve(path)));
}

/** True when the profile holds this key file. */
export function profileHasKey(p: ConformanceProfile, name: ProfileKeyName): boolean {
  return p.keys[name] !== undefined;
}
