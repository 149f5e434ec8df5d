/** @module Profiles: the example profiles validate, every rule rejects a failing example naming the field, caps fit the prep defaults, identities and holder records follow the documented forms. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DGIS } from '../applet-spec/dgis.js';
import { FormatError } from '../applet-spec/errors.js';
import { bytesToHex } from '../base/bytes.js';
import {
  canonicalHolderJson,
  cardFormCode,
  cardRecordValue,
  checkCapsFitDefaults,
  fciValue,
  formatProblems,
  holderHash,
  holderRecordValue,
  identityFor,
  type IssueProfile,
  loadIssueProfile,
  loadPrepareProfile,
  loadProfile,
  pinPolicyProblem,
  pinTryLimitValue,
  type PrepareProfile,
  ProfileError,
  profileHash,
  riskDefaultsValue,
  tierCapsValue,
  validateHolderData,
  validateIssueProfile,
  validatePrepareProfile,
} from './profiles.js';

const examples = fileURLToPath(new URL('../examples/profiles/', import.meta.url));
const prepareExample = (): any => JSON.parse(readFileSync(join(examples, 'prepare.json'), 'utf8'));
const issueExample = (): any => JSON.parse(readFileSync(join(examples, 'issue.json'), 'utf8'));
const realName = (): any => ({ ...issueExample(), mode: 'real-name', tier: 2 });
const upper = (b: Uint8Array) => bytesToHex(b).toUpperCase();
const tmp = () => mkdtempSync(join(tmpdir(), 'drmb-profiles-'));

function problemsOf(r: { ok: boolean; problems?: { field: string; reason: string }[] }) {
  return r.ok ? [] : r.problems!;
}

describe('example profiles', () => {
  it('examples/profiles/prepare.json and issue.json are valid', () => {
    expect(problemsOf(validatePrepareProfile(prepareExample()))).toEqual([]);
    expect(problemsOf(validateIssueProfile(issueExample()))).toEqual([]);
    expect(checkCapsFitDefaults(issueExample(), prepareExample())).toEqual([]);
  });

  it('loadProfile reads, validates by kind and hashes the file bytes with SM3', () => {
    const path = join(examples, 'prepare.json');
    const p = loadProfile(path);
    expect(p.profile.kind).toBe('prepare');
    expect(p.hash).toBe(createHash('sm3').update(readFileSync(path)).digest('hex').toUpperCase());
    expect(p.hash).toBe(profileHash(new Uint8Array(readFileSync(path))));
    expect(loadIssueProfile(join(examples, 'issue.json')).profile.tier).toBe(4);
  });
});

describe('prepare profile rules', () => {
  const cases: [string, (p: any) => void, string, string | RegExp][] = [
    ['institution of 7 digits', (p) => (p.institution = '1000000'), 'institution', 'must be 8 digits'],
    ['unknown card form', (p) => (p.cardForm = 'ring'), 'cardForm', 'must be one of "contact", "dual", "wearable", "sim"'],
    ['empty label', (p) => (p.label = ''), 'label', 'must be 1..16 printable ASCII characters'],
    ['label of 17 characters', (p) => (p.label = 'A'.repeat(17)), 'label', 'must be 1..16 printable ASCII characters'],
    ['non-ASCII label', (p) => (p.label = '数字人民币'), 'label', 'must be 1..16 printable ASCII characters'],
    ['effective date 13th month', (p) => (p.validity.effective = '261301'), 'validity.effective', 'must be a date YYMMDD, e.g. 261101'],
    ['expiry 30 February', (p) => (p.validity.expiry = '360230'), 'validity.expiry', /must be a date YYMMDD/],
    ['expiry before effective', (p) => (p.validity.expiry = '261031'), 'validity.expiry', 'must be after validity.effective (261101)'],
    ['expiry equal to effective', (p) => (p.validity.expiry = '261101'), 'validity.expiry', 'must be after validity.effective (261101)'],
    ['application version of 3 digits', (p) => (p.applicationVersion = '100'), 'applicationVersion', 'must be 4 hex digits, e.g. 0100'],
    ['single limit above 1000 yuan', (p) => (p.risk.singleLimitFen = 100001), 'risk.singleLimitFen', 'must be at most 100000 (1000.00 yuan)'],
    ['single limit 0', (p) => (p.risk.singleLimitFen = 0), 'risk.singleLimitFen', 'must be at least 1 (0.01 yuan)'],
    ['single limit in yuan with decimals', (p) => (p.risk.singleLimitFen = 999.5), 'risk.singleLimitFen', 'must be an integer number of fen'],
    ['single limit as text', (p) => (p.risk.singleLimitFen = '100000'), 'risk.singleLimitFen', 'must be an integer number of fen'],
    ['balance cap below single limit', (p) => (p.risk.balanceCapFen = 50000), 'risk.balanceCapFen', 'must be at least risk.singleLimitFen (100000 (1000.00 yuan))'],
    ['balance cap above 99999999', (p) => (p.risk.balanceCapFen = 100_000_000), 'risk.balanceCapFen', 'must be at most 99999999 (999999.99 yuan)'],
    ['offline count 0', (p) => (p.risk.offlineCountLimit = 0), 'risk.offlineCountLimit', 'must be at least 1'],
    ['offline count 65536', (p) => (p.risk.offlineCountLimit = 65536), 'risk.offlineCountLimit', 'must be at most 65535'],
    ['offline amount below single limit', (p) => (p.risk.offlineAmountLimitFen = 99999), 'risk.offlineAmountLimitFen', /must be at least risk\.singleLimitFen/],
    ['offline amount above balance cap', (p) => (p.risk.offlineAmountLimitFen = 500001), 'risk.offlineAmountLimitFen', /must be at most risk\.balanceCapFen \(500000 \(5000\.00 yuan\)\)/],
    ['max coins 0', (p) => (p.risk.maxCoins = 0), 'risk.maxCoins', 'must be at least 1'],
    ['max coins 501', (p) => (p.risk.maxCoins = 501), 'risk.maxCoins', 'must be at most 500'],
    ['negative PIN threshold', (p) => (p.risk.pinThresholdFen = -1), 'risk.pinThresholdFen', 'must be at least 0 (0.00 yuan)'],
    ['PIN threshold above single limit', (p) => ((p.risk.singleLimitFen = 10000), (p.risk.pinThresholdFen = 20000)), 'risk.pinThresholdFen', /must be at most risk\.singleLimitFen/],
    ['missing risk', (p) => delete p.risk, 'risk', 'is required'],
    ['missing risk member', (p) => delete p.risk.maxCoins, 'risk.maxCoins', 'is required'],
    ['misspelt member', (p) => (p.risk.singleLimitYuan = 1000), 'risk.singleLimitYuan', /^is not a field here/],
    ['kind issue in a prepare profile', (p) => (p.kind = 'issue'), 'kind', 'must be one of "prepare"'],
  ];
  it.each(cases)('rejects %s, naming the field', (_name, change, field, reason) => {
    const p = prepareExample();
    change(p);
    const problems = problemsOf(validatePrepareProfile(p));
    expect(problems.map((x) => x.field)).toEqual([field]);
    if (typeof reason === 'string') expect(problems[0].reason).toBe(reason);
    else expect(problems[0].reason).toMatch(reason);
  });

  it('reports every problem at once', () => {
    const p = prepareExample();
    p.institution = 'x';
    p.risk.maxCoins = 0;
    p.validity.effective = '999999';
    const problems = problemsOf(validatePrepareProfile(p));
    expect(problems.map((x) => x.field)).toEqual(['institution', 'validity.effective', 'risk.maxCoins']);
    expect(formatProblems(problems)).toBe(
      'institution: must be 8 digits\nvalidity.effective: must be a date YYMMDD, e.g. 261101\nrisk.maxCoins: must be at least 1',
    );
  });

  it('rejects a profile that is not an object', () => {
    expect(problemsOf(validatePrepareProfile([]))).toEqual([{ field: '(profile)', reason: 'must be a JSON object' }]);
  });

  it('accepts every card form and the boundary values', () => {
    for (const form of ['contact', 'dual', 'wearable', 'sim']) expect(validatePrepareProfile({ ...prepareExample(), cardForm: form }).ok).toBe(true);
    const p = prepareExample();
    Object.assign(p.risk, { singleLimitFen: 1, balanceCapFen: 1, offlineAmountLimitFen: 1, pinThresholdFen: 0, offlineCountLimit: 65535, maxCoins: 500 });
    expect(problemsOf(validatePrepareProfile(p))).toEqual([]);
  });
});

describe('issue profile rules', () => {
  const cases: [string, () => any, (p: any) => void, string, string | RegExp][] = [
    ['anonymous with tier 2', issueExample, (p) => (p.tier = 2), 'tier', 'must be 4 for anonymous cards'],
    ['tier 5', issueExample, (p) => (p.tier = 5), 'tier', 'must be one of 1, 2, 3, 4'],
    ['unknown mode', issueExample, (p) => (p.mode = 'pseudonymous'), 'mode', 'must be one of "real-name", "anonymous"'],
    ['bank code of 11 digits', issueExample, (p) => (p.bankCode = '10210000000'), 'bankCode', 'must be 12 digits'],
    ['balance cap 0', issueExample, (p) => (p.caps.balanceCapFen = 0), 'caps.balanceCapFen', 'must be at least 1 (0.01 yuan)'],
    ['single limit 0', issueExample, (p) => (p.caps.singleLimitFen = 0), 'caps.singleLimitFen', 'must be at least 1 (0.01 yuan)'],
    ['single limit above 1000 yuan', issueExample, (p) => (p.caps.singleLimitFen = 100001), 'caps.singleLimitFen', 'must be at most 100000 (1000.00 yuan)'],
    ['offline count 0', issueExample, (p) => (p.caps.offlineCountLimit = 0), 'caps.offlineCountLimit', 'must be at least 1'],
    ['offline amount 0', issueExample, (p) => (p.caps.offlineAmountLimitFen = 0), 'caps.offlineAmountLimitFen', 'must be at least 1 (0.01 yuan)'],
    ['balance cap below single limit', issueExample, (p) => (p.caps.balanceCapFen = 40000), 'caps.balanceCapFen', /must be at least caps\.singleLimitFen/],
    ['PIN threshold above single limit', issueExample, (p) => (p.caps.pinThresholdFen = 60000), 'caps.pinThresholdFen', /must be at most caps\.singleLimitFen/],
    ['try limit 0', issueExample, (p) => (p.pin.tryLimit = 0), 'pin.tryLimit', 'must be at least 1'],
    ['try limit 16', issueExample, (p) => (p.pin.tryLimit = 16), 'pin.tryLimit', 'must be at most 15'],
    ['3-digit PINs', issueExample, (p) => (p.pin.minDigits = 3), 'pin.minDigits', 'must be at least 4'],
    ['13-digit PINs', issueExample, (p) => (p.pin.maxDigits = 13), 'pin.maxDigits', 'must be at most 12'],
    ['max digits below min digits', issueExample, (p) => ((p.pin.minDigits = 8), (p.pin.maxDigits = 6)), 'pin.maxDigits', 'must be at least pin.minDigits (8)'],
    ['unknown identity scheme', issueExample, (p) => (p.identity.scheme = 'email'), 'identity.scheme', 'must be one of "card-id", "phone"'],
    ['validity suffix of 2 digits', issueExample, (p) => (p.identity.validitySuffix = '36'), 'identity.validitySuffix', 'must be a 4-digit year 2000..2099, e.g. 2036'],
    ['validity suffix as a number', issueExample, (p) => (p.identity.validitySuffix = 2036), 'identity.validitySuffix', /must be a 4-digit year/],
    ['missing PIN policy', issueExample, (p) => delete p.pin, 'pin', 'is required'],
    ['unknown caps member', issueExample, (p) => (p.caps.dailyLimitFen = 1), 'caps.dailyLimitFen', /^is not a field here/],
  ];
  it.each(cases)('rejects %s, naming the field', (_name, base, change, field, reason) => {
    const p = base();
    change(p);
    const problems = problemsOf(validateIssueProfile(p));
    expect(problems.map((x) => x.field)).toEqual([field]);
    if (typeof reason === 'string') expect(problems[0].reason).toBe(reason);
    else expect(problems[0].reason).toMatch(reason);
  });

  it('accepts real-name tiers 1..4, an absent PIN threshold and a phone identity', () => {
    for (const tier of [1, 2, 3, 4]) expect(validateIssueProfile({ ...realName(), tier }).ok).toBe(true);
    const p = issueExample();
    delete p.caps.pinThresholdFen;
    p.identity.scheme = 'phone';
    expect(problemsOf(validateIssueProfile(p))).toEqual([]);
  });
});

describe('caps against the prep defaults', () => {
  it('names each cap above the central-bank default', () => {
    const prep = prepareExample() as PrepareProfile;
    const issue = issueExample() as IssueProfile;
    Object.assign(issue.caps, { balanceCapFen: 500001, singleLimitFen: 100000, offlineCountLimit: 11, offlineAmountLimitFen: 200001, pinThresholdFen: 20001 });
    expect(checkCapsFitDefaults(issue, prep)).toEqual([
      { field: 'caps.balanceCapFen', reason: "must be at most the prep profile's risk.balanceCapFen (500000 (5000.00 yuan))" },
      { field: 'caps.offlineCountLimit', reason: "must be at most the prep profile's risk.offlineCountLimit (10)" },
      { field: 'caps.offlineAmountLimitFen', reason: "must be at most the prep profile's risk.offlineAmountLimitFen (200000 (2000.00 yuan))" },
      { field: 'caps.pinThresholdFen', reason: "must be at most the prep profile's risk.pinThresholdFen (20000 (200.00 yuan))" },
    ]);
  });

  it('accepts caps equal to the defaults', () => {
    const prep = prepareExample() as PrepareProfile;
    const r = prep.risk;
    const issue = { ...issueExample(), caps: { balanceCapFen: r.balanceCapFen, singleLimitFen: r.singleLimitFen, offlineCountLimit: r.offlineCountLimit, offlineAmountLimitFen: r.offlineAmountLimitFen } };
    expect(checkCapsFitDefaults(issue, prep)).toEqual([]);
  });
});

describe('profile files', () => {
  it('names the file, line and column of a JSON syntax error', () => {
    const p = join(tmp(), 'bad.json');
    writeFileSync(p, '{\n  "kind": "prepare",\n  "label": "x",,\n}\n');
    let e: Error | undefined;
    try {
      loadProfile(p);
    } catch (x) {
      e = x as Error;
    }
    expect(e).toBeInstanceOf(ProfileError);
    expect(e).toBeInstanceOf(FormatError);
    expect(e!.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\(file\\): is not valid JSON at line 3, column 16`));
  });

  it('reports every problem of an invalid profile file with the file name', () => {
    const p = join(tmp(), 'prep.json');
    writeFileSync(p, JSON.stringify({ ...prepareExample(), institution: '1', risk: { ...prepareExample().risk, singleLimitFen: 200000 } }));
    expect(() => loadPrepareProfile(p)).toThrow(`${p}: institution: must be 8 digits; risk.singleLimitFen: must be at most 100000 (1000.00 yuan)`);
  });

  it('refuses a profile of the other kind, an unknown kind, and a missing file', () => {
    expect(() => loadPrepareProfile(join(examples, 'issue.json'))).toThrow(/kind: is "issue", expected a prepare profile/);
    const p = join(tmp(), 'x.json');
    writeFileSync(p, '{"kind":"perso"}');
    expect(() => loadProfile(p)).toThrow(`${p}: kind: must be "prepare" or "issue"`);
    expect(() => loadProfile(join(tmp(), 'none.json'))).toThrow(/\(file\): does not exist/);
  });

  it('hashes the exact bytes: reformatting changes the hash', () => {
    const a = new TextEncoder().encode(JSON.stringify(prepareExample()));
    const b = new TextEncoder().encode(JSON.stringify(prepareExample(), null, 1));
    expect(profileHash(a)).toMatch(/^[0-9A-F]{64}$/);
    expect(profileHash(a)).not.toBe(profileHash(b));
  });
});

describe('identity and holder data', () => {
  it('builds the SM9 identity from the card ID or phone number and the validity suffix', () => {
    expect(identityFor(issueExample(), { cardId: '62120000000000000001' })).toBe('62120000000000000001|2036');
    const phone = { ...issueExample(), identity: { scheme: 'phone', validitySuffix: '2031' } };
    expect(identityFor(phone, { cardId: '62120000000000000001', phone: '13800138000' })).toBe('13800138000|2031');
    expect(() => identityFor(phone, { cardId: '62120000000000000001' })).toThrow(/holder\.phone: is required by identity\.scheme "phone"/);
    expect(() => identityFor(phone, { cardId: '62120000000000000001', phone: '138-0013' })).toThrow(/holder\.phone: must be 5\.\.15 digits/);
    expect(() => identityFor(issueExample(), { cardId: '6212' })).toThrow(/cardId: must be 20 digits/);
  });

  it('requires name, ID type and ID number for real-name cards', () => {
    expect(validateHolderData(realName(), {})).toEqual([
      { field: 'holder.name', reason: 'is required for real-name cards' },
      { field: 'holder.idType', reason: 'is required for real-name cards' },
      { field: 'holder.idNumber', reason: 'is required for real-name cards' },
    ]);
    expect(validateHolderData(realName(), { name: '张三', idType: 'resident-id', idNumber: '11010519491231002X' })).toEqual([]);
  });

  it.each([
    ['an 17-character resident ID', { name: 'A', idType: 'resident-id', idNumber: '1101051949123100' }, 'holder.idNumber', /17 digits and a digit or X for idType "resident-id"/],
    ['a lowercase passport number', { name: 'A', idType: 'passport', idNumber: 'e1234567' }, 'holder.idNumber', /capital letters or digits/],
    ['an unknown ID type', { name: 'A', idType: 'licence', idNumber: 'X1' }, 'holder.idType', 'must be one of "resident-id", "passport", "other"'],
    ['a blank name', { name: '  ', idType: 'other', idNumber: 'X1' }, 'holder.name', /1\.\.64 characters/],
    ['a phone with dashes', { name: 'A', idType: 'other', idNumber: 'X1', phone: '138-0013-8000' }, 'holder.phone', /5\.\.15 digits/],
    ['an unknown member', { name: 'A', idType: 'other', idNumber: 'X1', email: 'a@b' }, 'holder.email', /is not a field here/],
  ])('rejects holder data with %s', (_n, holder, field, reason) => {
    const problems = validateHolderData(realName(), holder);
    expect(problems.map((p) => p.field)).toEqual([field]);
    if (typeof reason === 'string') expect(problems[0].reason).toBe(reason);
    else expect(problems[0].reason).toMatch(reason);
  });

  it('requires the phone for a phone identity, even on anonymous cards', () => {
    const p = { ...issueExample(), identity: { scheme: 'phone', validitySuffix: '2036' } };
    expect(validateHolderData(p, {})).toEqual([{ field: 'holder.phone', reason: 'is required by identity.scheme "phone"' }]);
  });

  it('real-name holder record: name, ID type code, ID number, phone, bank, wallet and tier; encodes under DGI 0201', () => {
    const v = holderRecordValue(realName(), { name: '张三', idType: 'passport', idNumber: 'E12345678', phone: '13800138000' }, 'W-0001');
    expect(v).toEqual({ holderName: '张三', holderIdType: 2, holderIdNumber: 'E12345678', holderPhone: '13800138000', bankCode: '102100000001', walletId: 'W-0001', realNameTier: 2 });
    // dgis.ts types optional TLV members as required (its f() widens `optional` to boolean), hence the cast.
    expect(DGIS.holderRecord.coder.decode(DGIS.holderRecord.coder.encode(v as any))).toEqual(v);
  });

  it('anonymous holder record: only SM3 of the canonical holder JSON', () => {
    const holder = { phone: '13800138000', walletId: 'W-0002' };
    const v = holderRecordValue(issueExample(), holder);
    expect(canonicalHolderJson(holder)).toBe('{"phone":"13800138000"}');
    expect(upper(v.holderHash!)).toBe(createHash('sm3').update('{"phone":"13800138000"}').digest('hex').toUpperCase());
    expect(v).toEqual({ holderHash: holderHash(holder), bankCode: '102100000001', walletId: 'W-0002', realNameTier: 4 });
    // dgis.ts types optional TLV members as required (its f() widens `optional` to boolean), hence the cast.
    expect(DGIS.holderRecord.coder.decode(DGIS.holderRecord.coder.encode(v as any))).toEqual(v);
  });

  it('canonical holder JSON has a fixed member order and NFC names', () => {
    const decomposed = 'e\u0301';
    expect(canonicalHolderJson({ phone: '1', idNumber: 'X', idType: 'other', name: decomposed })).toBe('{"name":"\u00e9","idType":"other","idNumber":"X","phone":"1"}');
  });

  it('refuses a holder record without a wallet ID or with invalid holder data', () => {
    expect(() => holderRecordValue(issueExample(), {})).toThrow(/holder\.walletId: is required/);
    expect(() => holderRecordValue(realName(), { name: 'A' }, 'W1')).toThrow(/holder\.idType: is required for real-name cards/);
  });
});

describe('DGI values from profiles', () => {
  it('card record, FCI and risk defaults encode under DGIs 0101, 9102 and E002', () => {
    const p = prepareExample() as PrepareProfile;
    const record = cardRecordValue(p, '62120000000000000001');
    expect(record).toEqual({
      cardId: '62120000000000000001',
      effectiveDate: '261101',
      expiryDate: '361231',
      institution: '10000001',
      cardForm: 2,
      applicationVersion: Uint8Array.of(1, 0),
    });
    expect(DGIS.cardRecord.coder.decode(DGIS.cardRecord.coder.encode(record))).toEqual(record);
    expect(new TextDecoder().decode(fciValue(p).applicationLabel)).toBe('D-RMB');
    const risk = riskDefaultsValue(p);
    expect(risk).toEqual({ currency: '0156', singleLimit: 100000, balanceCap: 500000, offlineCountLimit: 10, offlineAmountLimit: 200000, maxCoins: 100, pinThreshold: 20000 });
    expect(DGIS.riskDefaults.coder.decode(DGIS.riskDefaults.coder.encode(risk))).toEqual(risk);
    expect(['contact', 'dual', 'wearable', 'sim'].map((f) => cardFormCode(f as PrepareProfile['cardForm']))).toEqual([1, 2, 3, 4]);
  });

  it('tier caps and PIN try limit encode under DGIs E101 and 9010; the PIN threshold is left out when absent', () => {
    const p = issueExample() as IssueProfile;
    const caps = tierCapsValue(p);
    expect(caps).toEqual({ balanceCap: 200000, singleLimit: 50000, offlineCountLimit: 10, offlineAmountLimit: 100000, pinThreshold: 20000 });
    expect(DGIS.tierCaps.coder.decode(DGIS.tierCaps.coder.encode(caps as any))).toEqual(caps);
    delete p.caps.pinThresholdFen;
    expect('pinThreshold' in tierCapsValue(p)).toBe(false);
    expect(pinTryLimitValue(p)).toEqual({ tryLimit: 3 });
  });

  it('checks a PIN against the policy without repeating it', () => {
    const p = issueExample() as IssueProfile;
    expect(pinPolicyProblem(p, '123456')).toBeUndefined();
    expect(pinPolicyProblem(p, '98765')).toBe('the PIN must have 6..6 digits (it has 5)');
    expect(pinPolicyProblem(p, '12a456')).toBe('the PIN must be digits only');
  });
});
