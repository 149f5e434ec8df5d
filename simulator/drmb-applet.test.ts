/** @module Conformance suite of the D-RMB applet (issue 4): every applet-spec command's positive path and listed status words with the card state checked after, the value flows, and a (command, SW) coverage check. */
import { assert, beforeAll, describe, expect, it } from 'vitest';
import { chainCommand, type CommandApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { fromHex } from '../base/hex.js';
import * as C from '../applet-spec/commands.js';
import { COMMANDS } from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { fciCoder } from '../applet-spec/commands/select.js';
import { dataObjectByTag, TAG } from '../applet-spec/data-objects.js';
import { DGIS, type DgiDefinition, type DgiName, STORE_DATA_P1 } from '../applet-spec/dgis.js';
import { type Command, type ResponseOf, swFamilyBase } from '../applet-spec/define-command.js';
import {
  cardCertificateCoder,
  cardCertificateSignedPart,
  type Coin,
  coinCoder,
  coinListCoder,
  exportBodyCoder,
  exportHeaderCoder,
  exportPacketCoder,
  logRecordCoder,
  PACKET_VERSION,
  receiptBodyCoder,
  importResponseCoder,
  NO_WITHDRAWAL_CODE,
  NO_WITHDRAWAL_SEAL,
  type WithdrawalSeal,
  withdrawalSealCoder,
  TRANSACTION_TYPES,
} from '../applet-spec/value-formats.js';
import { concatBytes, randomBytes } from '../base/bytes.js';
import { loadMac1Data, loadMac2Data, loadTacData, purchaseMac1Data, purchaseMac2Data, purchaseTacData } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac, pbocPurchaseSessionKey, pbocTac } from '../crypto/pboc.js';
import { sm2GenerateKeyPair, sm2Verify } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { RECEIVE_NONCE_SLOTS } from '../applet-spec/commands/initialize-for-receive.js';
import { sm9Decrypt, sm9Encrypt, sm9ExtractEncryptKey, sm9ExtractSignKey, sm9Sign, sm9Verify } from '../crypto/sm9/sm9.js';
import {
  DEFAULT_PROFILE,
  exchange,
  identityFor,
  issueCard,
  lineMac,
  mintCoin,
  openChannel,
  PERSO_KEYS,
  selectApplet,
  send,
  sendSecure,
  stage1Dgis,
  stage2Dgis,
  storeDataApdu,
  systemKeys,
  TERMINAL_ID,
  writeDgis,
} from '../test/card-fixture.js';
import { describePair, SwCoverage, type Unreachable } from '../test/sw-coverage.js';
import { dgiRecordKey, LOG_CAPACITY, MAX_AUTH_FAILURES, PROOF_RETENTION } from './card-memory.js';
import { SimulatedCard } from './simulated-card.js';
import { u32 } from '../applet-spec/codec/fields.js';

// ---- coverage ------------------------------------------------------------------------------------

const coverage = new SwCoverage();

/**
 * (command, SW) pairs of the definitions the card cannot be made to answer, each with the reason. The
 * coverage test fails if one of them is observed after all, so the list cannot go stale.
 */
const UNREACHABLE: Unreachable[] = [
];

/**
 * Status words the card answers that the command's definition does not list, found by this suite and
 * reported (applet-spec is not changed here): `id` '*' means any command, `family` any SW of the family.
 * The coverage test fails on any other unlisted SW.
 */
const KNOWN_UNLISTED: { id: string; family: number; why: string }[] = [
  // The card-OS words every command may get are listed once in applet-spec (CARD_OS_STATUS_WORDS).
];

// ---- the cards -----------------------------------------------------------------------------------

const ID_A = '62000000000000000301';
const ID_B = '62000000000000000302';
const ID_S = '62000000000000000303';
const IDENTITY_A = identityFor(ID_A);
const IDENTITY_B = identityFor(ID_B);
const PIN = DEFAULT_PROFILE.pin;
const DATE = '20261122';
const TIME = '101500';
/** the coins of the funded card: 186.00 yuan in six denominations */
const FUNDED: Coin[] = [];

let blankA: Uint8Array;
let preparedA: Uint8Array;
let cardKeyA: { privateKey: Uint8Array; publicKey: Uint8Array };
/** A issued, no coins, counter 0 */
let issuedA: Uint8Array;
/** A issued with FUNDED loaded (counter 1) */
let fundedA: Uint8Array;
/** B issued, no coins (the payee) */
let issuedB: Uint8Array;
/** S issued with only 3 coin slots */
let issuedS: Uint8Array;

beforeAll(() => {
  // Personalized once (SM9 makes it slow); every test starts from an image (not recorded for coverage).
  FUNDED.push(...[10_000, 5_000, 2_000, 1_000, 500, 100].map((d) => mintCoin(d)));
  const a = new SimulatedCard({ manufacture: { cardId: ID_A } });
  blankA = a.toImage();
  cardKeyA = sm2GenerateKeyPair();
  selectApplet(a);
  expect(writeDgis(a, openChannel(a, PERSO_KEYS, 0x30), stage1Dgis(ID_A, cardKeyA), PERSO_KEYS.dek)).toBe(0x9000);
  preparedA = a.toImage();
  issueCard(a, IDENTITY_A, cardKeyA.publicKey);
  issuedA = a.toImage();
  selectApplet(a);
  expect(load(a, FUNDED).sw).toBe(0x9000);
  fundedA = a.toImage();

  const b = new SimulatedCard({ manufacture: { cardId: ID_B } });
  const keyB = sm2GenerateKeyPair();
  selectApplet(b);
  expect(writeDgis(b, openChannel(b, PERSO_KEYS, 0x30), stage1Dgis(ID_B, keyB), PERSO_KEYS.dek)).toBe(0x9000);
  issueCard(b, IDENTITY_B, keyB.publicKey);
  issuedB = b.toImage();

  const s = new SimulatedCard({ manufacture: { cardId: ID_S } });
  const keyS = sm2GenerateKeyPair();
  selectApplet(s);
  expect(writeDgis(s, openChannel(s, PERSO_KEYS, 0x30), stage1Dgis(ID_S, keyS, { ...DEFAULT_PROFILE, maxCoins: 3 }), PERSO_KEYS.dek)).toBe(0x9000);
  issueCard(s, identityFor(ID_S), keyS.publicKey);
  issuedS = s.toImage();
});

/** A card from an image, recorded for coverage, with the applet selected. */
function fresh(image: Uint8Array): SimulatedCard {
  const card = coverage.attach(SimulatedCard.fromImage(image));
  selectApplet(card);
  return card;
}

// ---- small helpers ---------------------------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** The persistent memory as text (card images are sorted JSON): equal text, equal memory. */
const image = (card: SimulatedCard): string => new TextDecoder().decode(card.toImage());
/** The persistent records without the given keys (the PIN and authentication counters a failure may move). */
function recordsWithout(card: SimulatedCard, ...except: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of card.store.keys()) if (!except.includes(k)) out[k] = hex(card.store.get(k)!);
  return out;
}
const dgiKey = (name: DgiName): string => dgiRecordKey(DGIS[name].dgi);

/** The clear bytes of a DGI value (its definition's coder; the fixtures carry values untyped). */
function dgiBytes(name: DgiName, value: unknown): Uint8Array {
  const def: DgiDefinition = DGIS[name];
  return def.coder.encode(value);
}

/**
 * A card's answer to a defined command. Only a 9000 answer has a decoded response: `response` is
 * undefined otherwise, and reading `value` fails the test with the SW the card gave instead.
 */
class Answer<Res> {
  constructor(
    readonly command: string,
    readonly sw: number,
    readonly data: Uint8Array,
    readonly response?: Res,
  ) {}

  get value(): Res {
    if (this.response === undefined) throw new Error(`${this.command} answered ${this.sw.toString(16).toUpperCase()}: no response value`);
    return this.response;
  }
}

/** Sends a defined command (chained when long); the answer carries the decoded response of a 9000. */
function run<Req, Res>(card: SimulatedCard, command: Command<Req, Res>, req: Req, opts: { secure?: boolean } = {}): Answer<Res> {
  const r = send(card, command, req, opts);
  return new Answer(command.name, r.sw, r.data, r.value);
}

/** Sends bytes (following 61xx) and returns the SW. */
function swOf(card: SimulatedCard, apdu: Uint8Array | CommandApdu): number {
  return exchange(card, apdu instanceof Uint8Array ? apdu : encodeCommandApdu(apdu)).sw;
}

/** The command APDU of a definition with some header or body fields replaced. */
function apduOf<Req>(command: Command<Req, unknown>, req: Req, over: Partial<CommandApdu> = {}): CommandApdu {
  return { ...command.encode(req), ...over };
}

/** The command's header with Lc 05 and only 2 data bytes: a malformed APDU (ISO 7816-4 5.1: 6700). */
function malformed<Req>(command: Command<Req, unknown>, req: Req): Uint8Array {
  const a = apduOf(command, req);
  return Uint8Array.of(a.cla, a.ins, a.p1, a.p2, 0x05, 0x01, 0x02);
}

/** Sends an APDU whose header selects no definition, attributing its SW to `id` for coverage. */
function swAs(id: string, card: SimulatedCard, apdu: CommandApdu | Uint8Array): number {
  return coverage.as(id, () => swOf(card, apdu));
}

function verifyPin(card: SimulatedCard, pin = PIN): number {
  return run(card, C.verify, { pin }).sw;
}

/** GET DATA decoded with the tag's coder (data-objects.ts gives no value type per tag: the caller narrows). */
function getData(card: SimulatedCard, tag: number): { sw: number; value?: unknown } {
  const r = run(card, C.getData, { tag });
  if (r.sw !== 0x9000) return { sw: r.sw };
  expect(r.value.tag).toBe(tag);
  return { sw: r.sw, value: dataObjectByTag(tag)!.coder.decode(r.value.value) };
}

const ISSUER_KEY: Record<string, 'issuerMac' | 'pinReload'> = { applicationBlock: 'issuerMac', applicationUnblock: 'issuerMac', putData: 'issuerMac', reloadPin: 'pinReload' };
type IssuerScriptCommand = typeof C.applicationBlock | typeof C.applicationUnblock | typeof C.putData | typeof C.reloadPin;

/**
 * An issuer-script command (JR/T 0025.2 secure messaging): GET CHALLENGE, then CLA|04 with the line MAC
 * over the header, Lc and the data. `challenge: false` skips GET CHALLENGE.
 */
function issuerScript(
  card: SimulatedCard,
  c: IssuerScriptCommand,
  body: Uint8Array,
  opts: { p1?: number; p2?: number; badMac?: boolean; challenge?: boolean; cla?: number; bodyInMac?: Uint8Array } = {},
): number {
  const p1 = opts.p1 ?? (typeof c.p1 === 'number' ? c.p1 : 0);
  const p2 = opts.p2 ?? (typeof c.p2 === 'number' ? c.p2 : 0);
  const cla = opts.cla ?? (c.cla | 0x04);
  let challenge: Uint8Array = new Uint8Array(8);
  if (opts.challenge !== false) {
    const r = run(card, C.getChallenge, {});
    expect(r.sw).toBe(0x9000);
    challenge = r.value.challenge;
  }
  const mac = lineMac(systemKeys().appKeys[ISSUER_KEY[c.id]], challenge, [c.cla | 0x04, c.ins, p1, p2], opts.bodyInMac ?? body);
  if (opts.badMac) mac[0] ^= 0x01;
  return swOf(card, { cla, ins: c.ins, p1, p2, data: concatBytes(body, mac) });
}

const pinBytes = (pin: string): Uint8Array => C.reloadPin.encode({ pin, mac: new Uint8Array(4) }).data.subarray(0, -4);
const putDataValue = (tag: number, v: number): Uint8Array => dataObjectByTag(tag)!.coder.encode(v);

/** INITIALIZE FOR LOAD then CREDIT FOR LOAD, with the bank's MAC2 computed here (JR/T 0025.2 load). */
function load(
  card: SimulatedCard,
  coins: Coin[],
  opts: { amountFen?: number; date?: string; badMac?: boolean; keyIndex?: number } = {},
): { sw: number; initSw: number; tac?: Uint8Array; counter?: number; init?: ResponseOf<typeof C.initializeForLoad> } {
  const amountFen = opts.amountFen ?? coins.reduce((s, c) => s + c.body.denominationFen, 0);
  const init = run(card, C.initializeForLoad, { keyIndex: opts.keyIndex ?? 1, amountFen, terminalId: TERMINAL_ID });
  if (init.sw !== 0x9000) return { sw: init.sw, initSw: init.sw };
  const { counter, cardRandom } = init.value;
  const sk = pbocLoadSessionKey(systemKeys().appKeys.load, cardRandom, u32.encode(counter));
  const date = opts.date ?? DATE;
  const mac2 = pbocMac(sk, concatBytes(loadMac2Data({ amountFen, transactionType: 2, terminalId: TERMINAL_ID, date, time: TIME }), sm3(coinListCoder.encode(coins))));
  if (opts.badMac) mac2[0] ^= 0x01;
  const r = run(card, C.creditForLoad, { date, time: TIME, coins, mac2 });
  return { sw: r.sw, initSw: init.sw, tac: r.response?.tac, counter, init: init.value };
}

/** The DEBIT FOR PURCHASE answer (or the INITIALIZE FOR PURCHASE one when that failed), with the purchase's counter and session key. */
type PayResult = Answer<ResponseOf<typeof C.debitForPurchase>> & { initSw: number; counter?: number; sessionKey?: Uint8Array };

/** INITIALIZE FOR PURCHASE then DEBIT FOR PURCHASE, with the terminal's MAC1 computed here. */
function pay(card: SimulatedCard, amountFen: number, opts: { payee?: string; un?: Uint8Array; badMac?: boolean; keyIndex?: number } = {}): PayResult {
  const init = run(card, C.initializeForPurchase, { keyIndex: opts.keyIndex ?? 1, amountFen, terminalId: TERMINAL_ID });
  if (init.sw !== 0x9000) return Object.assign(new Answer<never>(init.command, init.sw, init.data), { initSw: init.sw });
  const { counter, cardRandom } = init.value;
  const sessionKey = pbocPurchaseSessionKey(systemKeys().appKeys.purchase, cardRandom, u32.encode(counter), u32.encode(SEQUENCE));
  const mac1 = pbocMac(sessionKey, purchaseMac1Data({ amountFen, transactionType: 6, terminalId: TERMINAL_ID, date: DATE, time: TIME }));
  if (opts.badMac) mac1[0] ^= 0x01;
  const r = run(card, C.debitForPurchase, {
    terminalSequence: SEQUENCE,
    date: DATE,
    time: TIME,
    unpredictableNumber: opts.un ?? randomBytes(8),
    payeeIdentity: opts.payee ?? 'shop@merchant',
    mac1,
  });
  return Object.assign(r, { initSw: init.sw, counter, sessionKey });
}
const SEQUENCE = 7;

/** INITIALIZE FOR RECEIVE on the payee card: its identity and a fresh nonce. */
function receive(card: SimulatedCard): Answer<ResponseOf<typeof C.initializeForReceive>> {
  return run(card, C.initializeForReceive, {});
}

/** INITIALIZE FOR TRANSFER then EXPORT COINS: the packet, SM9-encrypted to `payee`. */
function transferOut(
  card: SimulatedCard,
  amountFen: number,
  payee: string,
  nonce: Uint8Array,
  opts: { confirmation?: Uint8Array; withdrawalCode?: string } = {},
): Answer<ResponseOf<typeof C.exportCoins>> & { initSw: number; packet?: Uint8Array; counter?: number } {
  const init = run(card, C.initializeForTransfer, { amountFen, payeeIdentity: payee, payeeNonce: nonce, withdrawalCode: opts.withdrawalCode ?? NO_WITHDRAWAL_CODE, date: DATE, time: TIME });
  if (init.sw !== 0x9000) return Object.assign(new Answer<never>(init.command, init.sw, init.data), { initSw: init.sw });
  const r = run(card, C.exportCoins, { confirmation: opts.confirmation ?? init.value.cardRandom });
  return Object.assign(r, { initSw: init.sw, packet: r.data, counter: init.value.counter });
}

/** IMPORT COINS with the packet bytes as they came (chained). */
function importPacket(card: SimulatedCard, packet: Uint8Array): { sw: number; data: Uint8Array } {
  let last: { sw: number; data: Uint8Array } = { sw: 0, data: new Uint8Array(0) };
  for (const b of chainCommand({ cla: 0x80, ins: 0x52, p1: 0x08, p2: 0x00, data: packet, le: 256 })) {
    last = exchange(card, encodeCommandApdu(b));
    if (last.sw !== 0x9000) break;
  }
  return last;
}

const signKeys = new Map<string, Uint8Array>();
/** A packet made here with a payer key extracted from the test KGC: lets tests import any coins. */
function craftPacket(
  coins: Coin[],
  payee: string,
  nonce: Uint8Array,
  opts: { type?: 'PURCHASE' | 'TRANSFER'; date?: string; amountFen?: number; payer?: string; seal?: WithdrawalSeal; commitment?: Uint8Array } = {},
): Uint8Array {
  const k = systemKeys();
  const payer = opts.payer ?? 'mallory@test';
  if (!signKeys.has(payer)) signKeys.set(payer, sm9ExtractSignKey(k.kgcSign, utf8(payer)));
  const coinListBytes = coinListCoder.encode(coins);
  const headerBytes = exportHeaderCoder.encode({
    version: PACKET_VERSION,
    type: opts.type ?? 'PURCHASE',
    payerCardId: '62999999999999999999',
    payerIdentity: payer,
    payerCounter: 5,
    payeeIdentity: payee,
    payeeNonce: nonce,
    terminalId: TERMINAL_ID,
    terminalSequence: 1,
    date: opts.date ?? DATE,
    time: TIME,
    amountFen: opts.amountFen ?? coins.reduce((s, c) => s + c.body.denominationFen, 0),
    currency: '0156',
    codeCommitment: opts.commitment ?? new Uint8Array(32),
    coinListHash: sm3(coinListBytes),
    previousExportHash: new Uint8Array(32),
  });
  const signature = sm9Sign(signKeys.get(payer)!, k.kgcSign.publicKey, sm3(concatBytes(headerBytes, coinListBytes)));
  const body = exportBodyCoder.encode({ coins, signature, withdrawal: opts.seal ?? NO_WITHDRAWAL_SEAL });
  return concatBytes(headerBytes, opts.type === 'TRANSFER' ? sm9Encrypt(k.kgcEncrypt.publicKey, utf8(payee), body) : body);
}

function prove(card: SimulatedCard, type: number, counter: number): { sw: number; stored?: Uint8Array } {
  const r = run(card, C.getTransactionProve, { transactionType: type, counter });
  return { sw: r.sw, stored: r.response?.storedResponse };
}

/** SET STATUS through SCP03 (issuance keys, or personalization keys before issuance). */
function terminate(card: SimulatedCard, aid: Uint8Array = DRMB_AID, kvn = 0x31): { sw: number; host: ReturnType<typeof openChannel> } {
  const keys = kvn === 0x30 ? PERSO_KEYS : systemKeys().issuanceKeys;
  const host = openChannel(card, keys, kvn);
  // Built by hand so that an AID outside the definition's 5..16 bytes can be sent.
  return { sw: sendSecure(card, host, encodeCommandApdu({ cla: 0x80, ins: 0xf0, p1: 0x40, p2: 0xff, data: aid })).sw, host };
}

function block(card: SimulatedCard): void {
  expect(issuerScript(card, C.applicationBlock, new Uint8Array(0))).toBe(0x9000);
}

// =====================================================================================================

describe('SELECT', () => {
  it('selects the applet with its FCI (card ID, state) and resets the session state', () => {
    const card = fresh(fundedA);
    expect(verifyPin(card)).toBe(0x9000);
    const r = run(card, C.select, { aid: DRMB_AID });
    expect(r.sw).toBe(0x9000);
    expect(r.value.proprietary.issuerData).toEqual({ cardId: ID_A, appState: 'ISSUED' });
    expect(run(card, C.readCoinRecord, { record: 1 }).sw).toBe(0x6982);
  });

  it('answers 6A82 for an unknown AID and keeps the D-RMB applet selected', () => {
    const card = fresh(fundedA);
    expect(run(card, C.select, { aid: fromHex('A0000000031010') }).sw).toBe(0x6a82);
    expect(run(card, C.getBalance, {}).value.balanceFen).toBe(18_600);
  });

  it('answers 6283 with the FCI for a LOCKED application', () => {
    const card = fresh(fundedA);
    block(card);
    const r = exchange(card, C.select.encodeBytes({ aid: DRMB_AID }));
    expect(r.sw).toBe(0x6283);
    expect(fciCoder.decode(r.data).proprietary.issuerData.appState).toBe('LOCKED');
  });

  it('answers 6A81 for a TERMINATED application', () => {
    const card = fresh(issuedA);
    expect(terminate(card).sw).toBe(0x9000);
    expect(run(card, C.select, { aid: DRMB_AID }).sw).toBe(0x6a81);
    expect(card.memory.state).toBe('TERMINATED');
  });

  it('answers 6A86 for P2 other than 00, 6A80 for an AID of 4 bytes, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    const before = image(card);
    expect(swAs('select', card, apduOf(C.select, { aid: DRMB_AID }, { p2: 0x0c }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.select, { aid: DRMB_AID }, { data: DRMB_AID.subarray(0, 4) }))).toBe(0x6a80);
    expect(swOf(card, malformed(C.select, { aid: DRMB_AID }))).toBe(0x6700);
    expect(image(card)).toBe(before);
  });
});

describe('GET RESPONSE', () => {
  it('returns the rest of a response announced by 61xx; 6Cxx for a short Le keeps it pending', () => {
    const card = fresh(fundedA);
    const init = run(card, C.initializeForLoad, { keyIndex: 1, amountFen: 100, terminalId: TERMINAL_ID });
    // INITIALIZE FOR LOAD has no persistent effect: a short Le gets 6Cxx, not 61xx.
    expect(swOf(card, apduOf(C.initializeForLoad, { keyIndex: 1, amountFen: 100, terminalId: TERMINAL_ID }, { le: 4 }))).toBe(0x6c12);
    expect(init.sw).toBe(0x9000);
    const r = pay(card, 3_000);
    expect(r.sw).toBe(0x9000);
    expect(r.data!.length).toBeGreaterThan(256);
    // A second purchase, collected by hand.
    const init2 = run(card, C.initializeForPurchase, { keyIndex: 1, amountFen: 500, terminalId: TERMINAL_ID });
    expect(init2.sw).toBe(0x9000);
    const sk = pbocPurchaseSessionKey(systemKeys().appKeys.purchase, init2.value.cardRandom, u32.encode(init2.value.counter), u32.encode(SEQUENCE));
    const mac1 = pbocMac(sk, purchaseMac1Data({ amountFen: 500, transactionType: 6, terminalId: TERMINAL_ID, date: DATE, time: TIME }));
    const debit = C.debitForPurchase.encodeBytes({ terminalSequence: SEQUENCE, date: DATE, time: TIME, unpredictableNumber: new Uint8Array(8), payeeIdentity: 'shop', mac1 });
    const first = card.transmit(debit);
    const sw1 = (first[first.length - 2] << 8) | first[first.length - 1];
    expect(sw1 >> 8).toBe(0x61);
    const left = sw1 & 0xff;
    expect(swOf(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, 0x01))).toBe(0x6c00 | left);
    const rest = exchange(card, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, left));
    expect(rest.sw).toBe(0x9000);
    expect(hex(concatBytes(first.subarray(0, -2), rest.data))).toBe(hex(card.memory.proof(TRANSACTION_TYPES.PURCHASE, init2.value.counter)!));
    expect(card.memory.balanceFen).toBe(18_600 - 3_500);
  });

  it('answers 6985 with nothing pending, 6A86 for P1P2 other than 0000, 6700 with a data field', () => {
    const card = fresh(fundedA);
    expect(swOf(card, fromHex('00C0000000'))).toBe(0x6985);
    expect(swOf(card, fromHex('00C0010000'))).toBe(0x6a86);
    expect(swOf(card, fromHex('00C0000001AA00'))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

describe('GET CHALLENGE', () => {
  it('answers 8 or 4 random bytes as Le asks, fresh each time, and stores nothing', () => {
    const card = fresh(fundedA);
    const a = run(card, C.getChallenge, {});
    const b = exchange(card, encodeCommandApdu(apduOf(C.getChallenge, {}, { le: 4 })));
    expect(a.sw).toBe(0x9000);
    expect(a.value.challenge.length).toBe(8);
    expect(b.data.length).toBe(4);
    expect(hex(run(card, C.getChallenge, {}).value.challenge)).not.toBe(hex(a.value.challenge));
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it('answers 6700 for an Le other than 4 or 8 and for a data field, 6A86 for P1 01', () => {
    const card = fresh(fundedA);
    expect(swOf(card, apduOf(C.getChallenge, {}, { le: 5 }))).toBe(0x6700);
    expect(swOf(card, apduOf(C.getChallenge, {}, { data: Uint8Array.of(1) }))).toBe(0x6700);
    expect(swAs('getChallenge', card, apduOf(C.getChallenge, {}, { p1: 0x01 }))).toBe(0x6a86);
  });

  it('answers 6985 once the application is TERMINATED (in the session that terminated it)', () => {
    const card = fresh(issuedA);
    const { sw, host } = terminate(card);
    expect(sw).toBe(0x9000);
    expect(sendSecure(card, host, C.getChallenge.encodeBytes({})).sw).toBe(0x6985);
    expect(sendSecure(card, host, C.getData.encodeBytes({ tag: TAG.cardId })).sw).toBe(0x6985);
    expect(sendSecure(card, host, C.setStatus.encodeBytes({ aid: DRMB_AID }, { secure: false })).sw).toBe(0x6985);
    // A plain INITIALIZE UPDATE closes the session and is refused in this state; so is EXTERNAL AUTHENTICATE.
    expect(swOf(card, C.initializeUpdate.encodeBytes(host.initializeUpdate()))).toBe(0x6985);
    expect(swOf(card, fromHex('8482330010' + '00'.repeat(16)))).toBe(0x6985);
    expect(card.memory.state).toBe('TERMINATED');
  });
});

describe('GET DATA', () => {
  it('answers balance, counter, PIN tries, card ID, state, identity, limits and coin summary', () => {
    const card = fresh(fundedA);
    expect(getData(card, TAG.balance).value).toBe(18_600);
    expect(getData(card, TAG.transactionCounter).value).toBe(1);
    expect(getData(card, TAG.pinTriesLeft).value).toBe(3);
    expect(getData(card, TAG.cardId).value).toBe(ID_A);
    expect(getData(card, TAG.appState).value).toBe('ISSUED');
    expect(getData(card, TAG.ibcIdentity).value).toBe(IDENTITY_A);
    expect(getData(card, TAG.singleLimit).value).toBe(DEFAULT_PROFILE.singleLimitFen);
    expect(getData(card, TAG.maxCoins).value).toBe(DEFAULT_PROFILE.maxCoins);
    expect(getData(card, TAG.coinSummary).value).toHaveLength(6);
    // The card certificate: the card's own SM2 key, certified by the central bank.
    const certBytes = getData(card, TAG.cardCertificate).value;
    assert.instanceOf(certBytes, Uint8Array);
    const cert = cardCertificateCoder.decode(certBytes);
    expect(cert.cardId).toBe(ID_A);
    expect(cert.cardPublicKey).toEqual(cardKeyA.publicKey);
    expect(sm2Verify(systemKeys().certKey.publicKey, cardCertificateSignedPart(cert), cert.signature)).toBe(true);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it('answers 6A88 for a tag it does not define and for one without a value in this state', () => {
    const card = fresh(fundedA);
    expect(run(card, C.getData, { tag: 0x9f99 }).sw).toBe(0x6a88);
    expect(run(card, C.getData, { tag: TAG.coinKeys }).sw).toBe(0x6a88);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    const blank = fresh(blankA);
    expect(getData(blank, TAG.balance).sw).toBe(0x6a88);
    expect(getData(blank, TAG.appState).value).toBe('BLANK');
    expect(image(blank)).toBe(new TextDecoder().decode(blankA));
  });

  it('answers 6700 for a data field', () => {
    const card = fresh(fundedA);
    expect(swOf(card, apduOf(C.getData, { tag: TAG.balance }, { data: Uint8Array.of(0) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

describe('INITIALIZE UPDATE', () => {
  it('answers key diversification data (the card ID), key version, SCP03 and i = 60, and stores nothing', () => {
    const card = fresh(blankA);
    const r = run(card, C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) });
    expect(r.sw).toBe(0x9000);
    expect(hex(r.value.keyDiversificationData)).toBe(ID_A);
    expect([r.value.keyVersion, r.value.scpId, r.value.iParameter]).toEqual([0x30, 0x03, 0x60]);
    expect(image(card)).toBe(new TextDecoder().decode(blankA));
  });

  it('answers 6A88 for key version 31 before card prep stored it, 6A86 for a version it does not define', () => {
    const card = fresh(blankA);
    expect(run(card, C.initializeUpdate, { keyVersion: 0x31, hostChallenge: randomBytes(8) }).sw).toBe(0x6a88);
    expect(run(card, C.initializeUpdate, { keyVersion: 0x20, hostChallenge: randomBytes(8) }).sw).toBe(0x6a86);
    expect(swAs('initializeUpdate', card, apduOf(C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) }, { p2: 0x01 }))).toBe(0x6a86);
    expect(image(card)).toBe(new TextDecoder().decode(blankA));
    expect(run(fresh(preparedA), C.initializeUpdate, { keyVersion: 0x31, hostChallenge: randomBytes(8) }).sw).toBe(0x9000);
  });

  it('answers 6700 for a host challenge of 7 bytes', () => {
    const card = fresh(blankA);
    expect(swOf(card, apduOf(C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) }, { data: randomBytes(7) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(blankA));
  });

  it(`answers 6983 after ${MAX_AUTH_FAILURES} failed authentications`, () => {
    const card = fresh(blankA);
    for (let i = 0; i < MAX_AUTH_FAILURES; i++) {
      expect(run(card, C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) }).sw).toBe(0x9000);
      expect(swOf(card, fromHex('8482330010' + '00'.repeat(16)))).toBe(0x6300);
    }
    expect(card.memory.authFailures).toBe(MAX_AUTH_FAILURES);
    const before = image(card);
    expect(run(card, C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) }).sw).toBe(0x6983);
    expect(image(card)).toBe(before);
    expect(recordsWithout(card, 'scp/failures')).toEqual(recordsWithout(SimulatedCard.fromImage(blankA)));
  });
});

describe('EXTERNAL AUTHENTICATE', () => {
  it('opens the session and clears the failure counter', () => {
    const card = fresh(blankA);
    run(card, C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) });
    expect(swOf(card, fromHex('8482330010' + '00'.repeat(16)))).toBe(0x6300);
    expect(card.memory.authFailures).toBe(1);
    const host = openChannel(card, PERSO_KEYS, 0x30, 0x33);
    expect(host.isOpen).toBe(true);
    expect(card.memory.authFailures).toBe(0);
  });

  it('answers 6300 to a wrong host cryptogram and counts it', () => {
    const card = fresh(blankA);
    const before = recordsWithout(card, 'scp/failures');
    run(card, C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) });
    expect(swOf(card, fromHex('8482010010' + '11'.repeat(16)))).toBe(0x6300);
    expect(card.memory.authFailures).toBe(1);
    expect(recordsWithout(card, 'scp/failures')).toEqual(before);
  });

  it('answers 6982 without secure messaging, 6A86 for level 02 or P2 01, 6700 for 15 bytes, 6985 without INITIALIZE UPDATE', () => {
    const card = fresh(blankA);
    const before = image(card);
    const iu = () => expect(run(card, C.initializeUpdate, { keyVersion: 0x30, hostChallenge: randomBytes(8) }).sw).toBe(0x9000);
    iu();
    expect(swOf(card, fromHex('8082330010' + '00'.repeat(16)))).toBe(0x6982);
    iu();
    expect(swOf(card, fromHex('8482020010' + '00'.repeat(16)))).toBe(0x6a86);
    iu();
    expect(swAs('externalAuthenticate', card, fromHex('8482330110' + '00'.repeat(16)))).toBe(0x6a86);
    iu();
    expect(swOf(card, fromHex('848233000F' + '00'.repeat(15)))).toBe(0x6700);
    expect(swOf(card, fromHex('8482330010' + '00'.repeat(16)))).toBe(0x6985);
    expect(image(card)).toBe(before);
  });
});

describe('STORE DATA', () => {
  const dgisOf = (stage: 1 | 2) => (stage === 1 ? stage1Dgis(ID_A, cardKeyA) : stage2Dgis(IDENTITY_A));

  it('stage 1: stores every DGI in clear after DEK decryption, then completion moves BLANK -> PREPARED', () => {
    const card = fresh(blankA);
    const host = openChannel(card, PERSO_KEYS, 0x30);
    const dgis = dgisOf(1);
    for (let i = 0; i < dgis.length; i++) {
      const [name, value] = dgis[i];
      expect(sendSecure(card, host, storeDataApdu(name, value, i, i === dgis.length - 1, PERSO_KEYS.dek)).sw).toBe(0x9000);
      if (name !== 'completion') expect(hex(card.memory.record(dgiKey(name))!)).toBe(hex(dgiBytes(name, value)));
      expect(card.memory.state).toBe(name === 'completion' ? 'PREPARED' : 'BLANK');
    }
    expect(card.memory.scpKeys(0x31)).toEqual(systemKeys().issuanceKeys);
    expect(card.memory.risk.maxCoins).toBe(DEFAULT_PROFILE.maxCoins);
  });

  it('stage 2: SM2-encrypted SM9 keys and the PIN stored, PREPARED -> ISSUED with the PIN try limit', () => {
    const card = fresh(preparedA);
    const host = openChannel(card, systemKeys().issuanceKeys, 0x31);
    expect(writeDgis(card, host, dgisOf(2), systemKeys().issuanceKeys.dek, cardKeyA.publicKey)).toBe(0x9000);
    expect(card.memory.state).toBe('ISSUED');
    expect(card.memory.pinTriesLeft).toBe(3);
    expect(hex(card.memory.record(dgiKey('sm9SignKey'))!)).toBe(hex(sm9ExtractSignKey(systemKeys().kgcSign, utf8(IDENTITY_A))));
    // A new SELECT ends the personalization session (a plain command inside it would be refused).
    expect(run(card, C.select, { aid: DRMB_AID }).sw).toBe(0x9000);
    expect(verifyPin(card)).toBe(0x9000);
  });

  /** Opens a session for the stage and sends `blocks` (name, value, block number, last, override P1); returns the SWs. */
  function storeBlocks(image0: Uint8Array, blocks: { name: DgiName; value: unknown; block: number; last?: boolean; p1?: number; dgi?: number }[]): { card: SimulatedCard; sws: number[]; before: string[] } {
    const card = fresh(image0);
    const stage2 = card.memory.state === 'PREPARED';
    const keys = stage2 ? systemKeys().issuanceKeys : PERSO_KEYS;
    const host = openChannel(card, keys, stage2 ? 0x31 : 0x30);
    const sws: number[] = [];
    const before: string[] = [];
    for (const b of blocks) {
      let apdu = storeDataApdu(b.name, b.value, b.block, b.last ?? false, keys.dek, cardKeyA.publicKey);
      if (b.p1 !== undefined) apdu = Uint8Array.from(apdu, (x, i) => (i === 2 ? b.p1! : x));
      if (b.dgi !== undefined) apdu = Uint8Array.from(apdu, (x, i) => (i === 5 ? b.dgi! >> 8 : i === 6 ? b.dgi! & 0xff : x));
      before.push(image(card));
      sws.push(sendSecure(card, host, apdu).sw);
    }
    return { card, sws, before };
  }
  const s1 = () => dgisOf(1).map(([name, value]) => ({ name, value }));

  it('answers 6A88 for an unknown DGI and stores nothing', () => {
    const { card, sws, before } = storeBlocks(blankA, [{ ...s1()[1], block: 0, dgi: 0x0999 }]);
    expect(sws).toEqual([0x6a88]);
    expect(image(card)).toBe(before[0]);
  });

  it('answers 6985 for a DGI of the other stage', () => {
    const { card, sws, before } = storeBlocks(blankA, [{ name: 'holderRecord', value: stage2Dgis(IDENTITY_A)[0][1], block: 0 }]);
    expect(sws).toEqual([0x6985]);
    expect(image(card)).toBe(before[0]);
  });

  it('answers 6A86 for a block number out of sequence and for the reserved encryption indicator 10', () => {
    const { card, sws, before } = storeBlocks(blankA, [
      { ...s1()[0], block: 1 },
      { ...s1()[0], block: 0, p1: STORE_DATA_P1.DGI_FORMAT | 0x40 },
    ]);
    expect(sws).toEqual([0x6a86, 0x6a86]);
    expect(image(card)).toBe(before[0]);
  });

  it('answers 6A80 for a DEK-protected DGI sent with the wrong encryption bits', () => {
    const { card, sws, before } = storeBlocks(blankA, [{ name: 'applicationKeys', value: systemKeys().appKeys, block: 0, p1: STORE_DATA_P1.DGI_FORMAT }]);
    expect(sws).toEqual([0x6a80]);
    expect(card.memory.record(dgiKey('applicationKeys'))).toBeUndefined();
    expect(image(card)).toBe(before[0]);
  });

  it('answers 6985 at completion when a mandatory DGI is missing; the state stays BLANK', () => {
    const dgis = s1();
    const { card, sws } = storeBlocks(blankA, [
      { ...dgis[0], block: 0 },
      { name: 'completion', value: {}, block: 1, last: true },
    ]);
    expect(sws).toEqual([0x9000, 0x6985]);
    expect(card.memory.state).toBe('BLANK');
    expect(card.memory.record(dgiKey('cardRecord'))).toBeDefined();
    expect(card.memory.scpKeys(0x31)).toBeUndefined();
  });

  it('answers 6A80 at completion for a wrong key check value; nothing of the completion is kept', () => {
    const dgis = s1().map((d) =>
      d.name === 'applicationKeyKcvs' ? { ...d, value: { ...(d.value as object), tac: Uint8Array.of(1, 2, 3) } } : d,
    );
    const { card, sws, before } = storeBlocks(blankA, dgis.map((d, i) => ({ ...d, block: i, last: i === dgis.length - 1 })));
    expect(sws.slice(0, -1).every((s) => s === 0x9000)).toBe(true);
    expect(sws[sws.length - 1]).toBe(0x6a80);
    expect(card.memory.state).toBe('BLANK');
    expect(card.memory.scpKeys(0x31)).toBeUndefined();
    expect(image(card)).toBe(before[before.length - 1]);
  });

  it('answers 6A80 for a card record naming another card ID', () => {
    const dgis = stage1Dgis('62000000000000009999', cardKeyA);
    const { card, sws, before } = storeBlocks(blankA, [{ name: dgis[0][0], value: dgis[0][1], block: 0 }]);
    expect(sws).toEqual([0x6a80]);
    expect(image(card)).toBe(before[0]);
  });

  it('answers 6A80 at completion for an SM9 key extracted for another identity; the card stays PREPARED', () => {
    const other = stage2Dgis('somebody-else|2036');
    const dgis = stage2Dgis(IDENTITY_A).map(([name, value]) => ({ name, value: name === 'sm9SignKey' ? other.find(([n]) => n === name)![1] : value }));
    const { card, sws } = storeBlocks(preparedA, dgis.map((d, i) => ({ ...d, block: i, last: i === dgis.length - 1 })));
    expect(sws.slice(0, -1).every((s) => s === 0x9000)).toBe(true);
    expect(sws[sws.length - 1]).toBe(0x6a80);
    expect(card.memory.state).toBe('PREPARED');
    expect(card.memory.record('pin/ref')).toBeUndefined();
  });

  it('answers 6982 without secure messaging, 6985 in ISSUED and after the last block, 6700 for a malformed APDU', () => {
    const blank = fresh(blankA);
    const before = image(blank);
    expect(swOf(blank, storeDataApdu('fci', s1()[1].value, 0, false, PERSO_KEYS.dek))).toBe(0x6982);
    expect(swOf(blank, malformed(C.storeData, { flags: 0x08, block: 0, dgis: [] }))).toBe(0x6700);
    expect(image(blank)).toBe(before);

    const issued = fresh(issuedA);
    const host = openChannel(issued, systemKeys().issuanceKeys, 0x31);
    expect(sendSecure(issued, host, storeDataApdu('pinTryLimit', { tryLimit: 9 }, 0, false, PERSO_KEYS.dek)).sw).toBe(0x6985);
    expect(issued.memory.pinTryLimit).toBe(3);

    const { sws } = storeBlocks(blankA, [
      { ...s1()[0], block: 0, last: true },
      { ...s1()[1], block: 1 },
    ]);
    expect(sws).toEqual([0x9000, 0x6985]);
  });
});

describe('VERIFY', () => {
  it('accepts the PIN (tries stay at 3); an empty VERIFY answers 63C3 before and 9000 after', () => {
    const card = fresh(fundedA);
    expect(run(card, C.verify, {}).sw).toBe(0x63c3);
    expect(verifyPin(card)).toBe(0x9000);
    expect(run(card, C.verify, {}).sw).toBe(0x9000);
    expect(card.memory.pinTriesLeft).toBe(3);
  });

  it('counts down 63C2, 63C1, 63C0 persistently, then answers 6983 even to the right PIN', () => {
    const card = fresh(fundedA);
    const before = recordsWithout(card, 'pin/tries');
    for (const [i, sw] of [0x63c2, 0x63c1, 0x63c0].entries()) {
      expect(verifyPin(card, '000000')).toBe(sw);
      expect(SimulatedCard.fromImage(card.toImage()).memory.pinTriesLeft).toBe(2 - i);
    }
    expect(verifyPin(card)).toBe(0x6983);
    expect(run(card, C.verify, {}).sw).toBe(0x6983);
    expect(card.memory.pinTriesLeft).toBe(0);
    expect(recordsWithout(card, 'pin/tries')).toEqual(before);
  });

  it('a right PIN after a wrong one restores the try counter', () => {
    const card = fresh(fundedA);
    expect(verifyPin(card, '9999')).toBe(0x63c2);
    expect(verifyPin(card)).toBe(0x9000);
    expect(card.memory.pinTriesLeft).toBe(3);
  });

  it('answers 6A80 for a PIN that is not BCD (no try used), 6A86 for P2 81, 6985 before issuance, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    expect(swOf(card, apduOf(C.verify, { pin: PIN }, { data: fromHex('12AB56') }))).toBe(0x6a80);
    expect(card.memory.pinTriesLeft).toBe(3);
    expect(swAs('verify', card, apduOf(C.verify, { pin: PIN }, { p2: 0x81 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.verify, { pin: PIN }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    expect(verifyPin(fresh(preparedA))).toBe(0x6985);
  });
});

describe('CHANGE PIN', () => {
  it('replaces the PIN after checking the old one', () => {
    const card = fresh(fundedA);
    const refBefore = hex(card.memory.record('pin/ref')!);
    expect(run(card, C.changePin, { oldPin: PIN, newPin: '2468' }).sw).toBe(0x9000);
    expect(hex(card.memory.record('pin/ref')!)).not.toBe(refBefore);
    expect(verifyPin(card, PIN)).toBe(0x63c2);
    expect(verifyPin(card, '2468')).toBe(0x9000);
    expect(card.memory.pinTriesLeft).toBe(3);
  });

  it('answers 63Cx for a wrong old PIN and 6983 once blocked; the PIN is unchanged', () => {
    const card = fresh(fundedA);
    const ref = hex(card.memory.record('pin/ref')!);
    expect(run(card, C.changePin, { oldPin: '1111', newPin: '2468' }).sw).toBe(0x63c2);
    expect(run(card, C.changePin, { oldPin: '1111', newPin: '2468' }).sw).toBe(0x63c1);
    expect(run(card, C.changePin, { oldPin: '1111', newPin: '2468' }).sw).toBe(0x63c0);
    expect(run(card, C.changePin, { oldPin: PIN, newPin: '2468' }).sw).toBe(0x6983);
    expect(hex(card.memory.record('pin/ref')!)).toBe(ref);
  });

  it('answers 6A80 without the FF separator, 6A86 for P1 02, 6985 when LOCKED, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    expect(swOf(card, apduOf(C.changePin, { oldPin: PIN, newPin: '2468' }, { data: fromHex('1234562468') }))).toBe(0x6a80);
    expect(swAs('changePin', card, apduOf(C.changePin, { oldPin: PIN, newPin: '2468' }, { p1: 0x02 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.changePin, { oldPin: PIN, newPin: '2468' }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    block(card);
    expect(run(card, C.changePin, { oldPin: PIN, newPin: '2468' }).sw).toBe(0x6985);
    expect(card.memory.pinTriesLeft).toBe(3);
  });
});

describe('RELOAD PIN', () => {
  function blocked(): SimulatedCard {
    const card = fresh(fundedA);
    for (let i = 0; i < 3; i++) verifyPin(card, '0000');
    expect(verifyPin(card)).toBe(0x6983);
    return card;
  }

  it('restores a blocked PIN with a line MAC under the PIN reload key', () => {
    const card = blocked();
    expect(issuerScript(card, C.reloadPin, pinBytes('8642'))).toBe(0x9000);
    expect(card.memory.pinTriesLeft).toBe(3);
    expect(verifyPin(card, '8642')).toBe(0x9000);
  });

  it('answers 9302 for a bad MAC: PIN and try counter unchanged', () => {
    const card = blocked();
    const before = image(card);
    expect(issuerScript(card, C.reloadPin, pinBytes('8642'), { badMac: true })).toBe(0x9302);
    expect(image(card)).toBe(before);
    expect(verifyPin(card, '8642')).toBe(0x6983);
  });

  it('answers 6985 without GET CHALLENGE and when LOCKED, 6982 without the SM bit, 6A80 for a non-BCD PIN, 6A86 for P2 01, 6700 for a malformed APDU', () => {
    const card = blocked();
    const before = image(card);
    expect(issuerScript(card, C.reloadPin, pinBytes('8642'), { challenge: false })).toBe(0x6985);
    expect(issuerScript(card, C.reloadPin, pinBytes('8642'), { cla: 0x80 })).toBe(0x6982);
    expect(issuerScript(card, C.reloadPin, fromHex('86AB'))).toBe(0x6a80);
    expect(coverage.as('reloadPin', () => issuerScript(card, C.reloadPin, pinBytes('8642'), { p2: 0x01 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.reloadPin, { pin: '8642', mac: new Uint8Array(4) }))).toBe(0x6700);
    expect(image(card)).toBe(before);
    const locked = fresh(fundedA);
    block(locked);
    expect(issuerScript(locked, C.reloadPin, pinBytes('8642'))).toBe(0x6985);
  });
});

describe('INITIALIZE FOR LOAD', () => {
  it('answers balance, counter, key version, SM4, card random and a MAC1 the bank can check; nothing stored', () => {
    const card = fresh(fundedA);
    const r = run(card, C.initializeForLoad, { keyIndex: 1, amountFen: 2_000, terminalId: TERMINAL_ID });
    expect(r.sw).toBe(0x9000);
    const v = r.value;
    expect([v.balanceFen, v.counter, v.keyVersion, v.algorithmId]).toEqual([18_600, 1, 1, 4]);
    const sk = pbocLoadSessionKey(systemKeys().appKeys.load, v.cardRandom, u32.encode(1));
    expect(hex(v.mac1)).toBe(hex(pbocMac(sk, loadMac1Data({ balanceFen: 18_600, amountFen: 2_000, transactionType: 2, terminalId: TERMINAL_ID }))));
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it('answers 9403 for key index 02, 9412 above the balance cap, 6A80 for a zero amount, 6A86 for P2 03, 6700 for 10 bytes', () => {
    const card = fresh(fundedA);
    expect(load(card, [mintCoin(100)], { keyIndex: 2 }).sw).toBe(0x9403);
    expect(load(card, [mintCoin(DEFAULT_PROFILE.balanceCapFen - 18_600 + 1)]).sw).toBe(0x9412);
    expect(run(card, C.initializeForLoad, { keyIndex: 1, amountFen: 0, terminalId: TERMINAL_ID }).sw).toBe(0x6a80);
    const req = { keyIndex: 1, amountFen: 100, terminalId: TERMINAL_ID };
    expect(swAs('initializeForLoad', card, apduOf(C.initializeForLoad, req, { p2: 0x03 }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.initializeForLoad, req, { data: C.initializeForLoad.encode(req).data.subarray(1) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it('answers 6985 when LOCKED', () => {
    const card = fresh(fundedA);
    block(card);
    expect(load(card, [mintCoin(100)]).sw).toBe(0x6985);
  });
});

describe('CREDIT FOR LOAD', () => {
  it('stores the coins, increments the counter, logs, keeps the TAC as proof and resets offline use', () => {
    const card = fresh(issuedA);
    const r = load(card, FUNDED);
    expect(r.sw).toBe(0x9000);
    expect(card.memory.coins.map((c) => hex(c.body.serial))).toEqual(FUNDED.map((c) => hex(c.body.serial)));
    expect(card.memory.balanceFen).toBe(18_600);
    expect(card.memory.counter).toBe(1);
    const tacData = loadTacData({ newBalanceFen: 18_600, counter: 0, amountFen: 18_600, transactionType: 2, terminalId: TERMINAL_ID, date: DATE, time: TIME });
    expect(hex(r.tac!)).toBe(hex(pbocTac(systemKeys().appKeys.tac, tacData)));
    expect(card.memory.log[0]).toMatchObject({ counter: 0, type: 'LOAD', amountFen: 18_600, balanceAfterFen: 18_600, date: DATE, time: TIME });
    expect(hex(card.memory.proof(TRANSACTION_TYPES.LOAD, 0)!)).toBe(hex(r.tac!));
    expect(card.memory.offlineUse).toEqual({ count: 0, amountFen: 0 });
  });

  /** The load runs up to CREDIT FOR LOAD; the card's memory must be as before. */
  function refused(image0: Uint8Array, coins: Coin[], opts: Parameters<typeof load>[2] = {}): number {
    const card = fresh(image0);
    const before = image(card);
    const r = load(card, coins, opts);
    expect(r.initSw).toBe(0x9000);
    expect(image(card)).toBe(before);
    return r.sw;
  }

  it('answers 9302 for a wrong MAC2 and stores nothing', () => {
    expect(refused(fundedA, [mintCoin(1_000)], { badMac: true })).toBe(0x9302);
  });

  it('answers 9410 for a coin signed by another key, and for a coin key index the card does not trust', () => {
    expect(refused(fundedA, [mintCoin(1_000), mintCoin(500, { signer: sm2GenerateKeyPair().privateKey })])).toBe(0x9410);
    expect(refused(fundedA, [mintCoin(1_000, { keyIndex: 2 })])).toBe(0x9410);
  });

  it('answers 9411 for a serial twice in the list and for a serial already on the card', () => {
    const c = mintCoin(1_000);
    expect(refused(fundedA, [c, c])).toBe(0x9411);
    expect(refused(fundedA, [mintCoin(200), FUNDED[3]])).toBe(0x9411);
  });

  it('answers 9418 for a coin expired on the load date', () => {
    expect(refused(fundedA, [mintCoin(1_000, { expiryDate: '20260101' })])).toBe(0x9418);
  });

  it('answers 9410 for a central-bank-signed coin whose expiry date precedes its issue date (a malformed coin, coins/ checkCoin)', () => {
    expect(refused(fundedA, [mintCoin(1_000, { expiryDate: '20251231' })])).toBe(0x9410);
  });

  it('answers 6A84 when the coins do not fit the free slots', () => {
    expect(refused(issuedS, [mintCoin(100), mintCoin(100), mintCoin(100), mintCoin(100)])).toBe(0x6a84);
  });

  it('answers 6A80 for coins not adding up to the amount of INITIALIZE FOR LOAD', () => {
    expect(refused(fundedA, [mintCoin(500)], { amountFen: 1_000 })).toBe(0x6a80);
  });

  it('answers 6985 without INITIALIZE FOR LOAD, 6A86 for P2 01, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    const req = { date: DATE, time: TIME, coins: [mintCoin(100)], mac2: new Uint8Array(4) };
    expect(run(card, C.creditForLoad, req).sw).toBe(0x6985);
    expect(swAs('creditForLoad', card, apduOf(C.creditForLoad, req, { p2: 0x01 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.creditForLoad, req))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

describe('GET BALANCE', () => {
  it('answers the sum of the coins, also when LOCKED', () => {
    const card = fresh(fundedA);
    expect(run(card, C.getBalance, {}).value.balanceFen).toBe(18_600);
    block(card);
    expect(run(card, C.getBalance, {}).value.balanceFen).toBe(card.memory.balanceFen);
  });

  it('answers 6985 before issuance, 6A86 for P2 01, 6700 for a data field', () => {
    const prepared = fresh(preparedA);
    expect(run(prepared, C.getBalance, {}).sw).toBe(0x6985);
    expect(image(prepared)).toBe(new TextDecoder().decode(preparedA));
    const card = fresh(fundedA);
    expect(swAs('getBalance', card, apduOf(C.getBalance, {}, { p2: 0x01 }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.getBalance, {}, { data: Uint8Array.of(0) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

describe('READ RECORD (coins)', () => {
  it('answers each coin as stored, after VERIFY', () => {
    const card = fresh(fundedA);
    expect(verifyPin(card)).toBe(0x9000);
    for (let i = 1; i <= FUNDED.length; i++) {
      const r = run(card, C.readCoinRecord, { record: i });
      expect(r.sw).toBe(0x9000);
      expect(hex(r.data)).toBe(hex(coinCoder.encode(FUNDED[i - 1])));
    }
  });

  it('answers 6982 without VERIFY, 6A83 beyond the coins held and for record 0, 6985 before issuance, 6A86 for another SFI, 6700 for a data field', () => {
    const card = fresh(fundedA);
    expect(run(card, C.readCoinRecord, { record: 1 }).sw).toBe(0x6982);
    verifyPin(card);
    expect(run(card, C.readCoinRecord, { record: FUNDED.length + 1 }).sw).toBe(0x6a83);
    expect(run(card, C.readCoinRecord, { record: 0 }).sw).toBe(0x6a83);
    expect(swAs('readCoinRecord', card, apduOf(C.readCoinRecord, { record: 1 }, { p2: 0xd5 }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.readCoinRecord, { record: 1 }, { data: Uint8Array.of(0) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    expect(run(fresh(preparedA), C.readCoinRecord, { record: 1 }).sw).toBe(0x6985);
  });
});

describe('INITIALIZE FOR PURCHASE', () => {
  it('answers balance, counter and card random; nothing stored', () => {
    const card = fresh(fundedA);
    const r = run(card, C.initializeForPurchase, { keyIndex: 1, amountFen: 3_000, terminalId: TERMINAL_ID });
    expect(r.sw).toBe(0x9000);
    expect([r.value.balanceFen, r.value.counter, r.value.keyVersion, r.value.algorithmId]).toEqual([18_600, 1, 1, 4]);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  function initSw(card: SimulatedCard, amountFen: number, keyIndex = 1): number {
    const before = image(card);
    const sw = run(card, C.initializeForPurchase, { keyIndex, amountFen, terminalId: TERMINAL_ID }).sw;
    expect(image(card)).toBe(before);
    return sw;
  }

  it('answers 9401 above the balance, 9403 for key index 02, 6A80 for a zero amount', () => {
    const card = fresh(fundedA);
    expect(initSw(card, 18_601)).toBe(0x9401);
    expect(initSw(card, 1_000, 2)).toBe(0x9403);
    expect(initSw(card, 0)).toBe(0x6a80);
  });

  it('answers 9413 above the single payment limit', () => {
    const card = fresh(issuedA);
    expect(load(card, [mintCoin(150_000)]).sw).toBe(0x9000);
    expect(verifyPin(card)).toBe(0x9000);
    expect(initSw(card, DEFAULT_PROFILE.singleLimitFen + 100)).toBe(0x9413);
  });

  it('answers 9414 when no set of coins makes the amount exactly (only a 100-yuan coin for 30 yuan)', () => {
    const card = fresh(issuedA);
    expect(load(card, [mintCoin(10_000)]).sw).toBe(0x9000);
    expect(initSw(card, 3_000)).toBe(0x9414);
    expect(initSw(card, 10_000)).toBe(0x9000);
  });

  it('answers 9415 once the offline payment count is used up, until the next load', () => {
    const card = fresh(fundedA);
    expect(issuerScript(card, C.putData, putDataValue(TAG.offlineCountLimit, 1), { p1: TAG.offlineCountLimit >> 8, p2: TAG.offlineCountLimit & 0xff })).toBe(0x9000);
    expect(pay(card, 1_000).sw).toBe(0x9000);
    expect(card.memory.offlineUse).toEqual({ count: 1, amountFen: 1_000 });
    expect(initSw(card, 500)).toBe(0x9415);
    expect(load(card, [mintCoin(100)]).sw).toBe(0x9000);
    expect(card.memory.offlineUse).toEqual({ count: 0, amountFen: 0 });
    expect(initSw(card, 500)).toBe(0x9000);
  });

  it('answers 6982 above the PIN threshold without VERIFY, 9000 after it', () => {
    const card = fresh(issuedA);
    expect(load(card, [mintCoin(30_000)]).sw).toBe(0x9000);
    expect(initSw(card, 30_000)).toBe(0x6982);
    expect(verifyPin(card)).toBe(0x9000);
    expect(initSw(card, 30_000)).toBe(0x9000);
  });

  it('answers 6985 when LOCKED, 6A86 for P2 03, 6700 for 10 bytes', () => {
    const card = fresh(fundedA);
    const req = { keyIndex: 1, amountFen: 100, terminalId: TERMINAL_ID };
    expect(swAs('initializeForPurchase', card, apduOf(C.initializeForPurchase, req, { p2: 0x03 }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.initializeForPurchase, req, { data: C.initializeForPurchase.encode(req).data.subarray(1) }))).toBe(0x6700);
    block(card);
    expect(initSw(card, 100)).toBe(0x6985);
  });
});

describe('DEBIT FOR PURCHASE', () => {
  it('pays exact coins: spent, counter, log, offline use, TAC, MAC2 and an SM9-signed packet chained to the previous one', () => {
    const card = fresh(fundedA);
    const r = pay(card, 3_000, { payee: 'shop@merchant' });
    expect(r.sw).toBe(0x9000);
    const { tac, mac2, packet } = r.value;
    expect(card.memory.balanceFen).toBe(15_600);
    expect(card.memory.counter).toBe(2);
    expect(card.memory.offlineUse).toEqual({ count: 1, amountFen: 3_000 });
    expect(hex(mac2)).toBe(hex(pbocMac(r.sessionKey!, purchaseMac2Data({ amountFen: 3_000 }))));
    expect(hex(tac)).toBe(
      hex(pbocTac(systemKeys().appKeys.tac, purchaseTacData({ amountFen: 3_000, transactionType: 6, terminalId: TERMINAL_ID, terminalSequence: SEQUENCE, date: DATE, time: TIME }))),
    );
    expect(packet.header).toMatchObject({ type: 'PURCHASE', payerCardId: ID_A, payerIdentity: IDENTITY_A, payerCounter: 1, payeeIdentity: 'shop@merchant', amountFen: 3_000 });
    const body = exportBodyCoder.decode(packet.body);
    const spent = body.coins.map((c) => hex(c.body.serial));
    expect(body.coins.reduce((s, c) => s + c.body.denominationFen, 0)).toBe(3_000);
    expect(card.memory.coins.some((c) => spent.includes(hex(c.body.serial)))).toBe(false);
    const packetBytes = r.data!.subarray(8);
    const headerBytes = packetBytes.subarray(0, packetBytes.length - packet.body.length);
    const coinList = coinListCoder.encode(body.coins);
    expect(hex(packet.body.subarray(0, coinList.length))).toBe(hex(coinList));
    expect(sm9Verify(systemKeys().kgcSign.publicKey, utf8(IDENTITY_A), sm3(concatBytes(headerBytes, coinList)), body.signature)).toBe(true);
    expect(card.memory.log[0]).toMatchObject({ counter: 1, type: 'PURCHASE', amountFen: 3_000, balanceAfterFen: 15_600 });
    expect(hex(card.memory.proof(TRANSACTION_TYPES.PURCHASE, 1)!)).toBe(hex(r.data!));
    const next = pay(card, 500);
    expect(hex(next.value.packet.header.previousExportHash)).toBe(hex(sm3(packetBytes)));
  });

  it('answers 9302 for a wrong MAC1 and the state is unchanged', () => {
    const card = fresh(fundedA);
    const before = image(card);
    const r = pay(card, 3_000, { badMac: true });
    expect([r.initSw, r.sw]).toEqual([0x9000, 0x9302]);
    expect(image(card)).toBe(before);
    expect(card.memory.balanceFen).toBe(18_600);
  });

  it('answers 6985 without INITIALIZE FOR PURCHASE, also after a command in between', () => {
    const card = fresh(fundedA);
    const req = { terminalSequence: 1, date: DATE, time: TIME, unpredictableNumber: new Uint8Array(8), payeeIdentity: 'shop', mac1: new Uint8Array(4) };
    expect(run(card, C.debitForPurchase, req).sw).toBe(0x6985);
    expect(run(card, C.initializeForPurchase, { keyIndex: 1, amountFen: 1_000, terminalId: TERMINAL_ID }).sw).toBe(0x9000);
    expect(run(card, C.getBalance, {}).sw).toBe(0x9000);
    expect(run(card, C.debitForPurchase, req).sw).toBe(0x6985);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it('answers 6A80 for a payee identity that is not UTF-8, 6A86 for P2 01, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    const req = { terminalSequence: 1, date: DATE, time: TIME, unpredictableNumber: new Uint8Array(8), payeeIdentity: 'shop', mac1: new Uint8Array(4) };
    const data = C.debitForPurchase.encode(req).data;
    const bad = Uint8Array.from(data, (x, i) => (i === 4 + 4 + 3 + 8 + 1 ? 0xff : x));
    expect(run(card, C.initializeForPurchase, { keyIndex: 1, amountFen: 1_000, terminalId: TERMINAL_ID }).sw).toBe(0x9000);
    expect(swOf(card, apduOf(C.debitForPurchase, req, { data: bad }))).toBe(0x6a80);
    expect(swAs('debitForPurchase', card, apduOf(C.debitForPurchase, req, { p2: 0x01 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.debitForPurchase, req))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

describe('INITIALIZE FOR TRANSFER', () => {
  const req = (amountFen: number, payee = IDENTITY_B) => ({ amountFen, payeeIdentity: payee, payeeNonce: new Uint8Array(8), withdrawalCode: '0'.repeat(16), date: DATE, time: TIME });
  function initSw(card: SimulatedCard, amountFen: number, payee?: string): number {
    const before = image(card);
    const sw = run(card, C.initializeForTransfer, req(amountFen, payee)).sw;
    expect(image(card)).toBe(before);
    return sw;
  }

  it('answers balance, counter and card random; nothing stored', () => {
    const card = fresh(fundedA);
    const r = run(card, C.initializeForTransfer, req(5_000));
    expect(r.sw).toBe(0x9000);
    expect([r.value.balanceFen, r.value.counter]).toEqual([18_600, 1]);
    expect(r.value.cardRandom.length).toBe(4);
  });

  it('answers 9401 above the balance, 9414 without an exact coin set, 6A80 for an empty payee, 6982 above the PIN threshold', () => {
    const card = fresh(fundedA);
    expect(initSw(card, 20_000)).toBe(0x9401);
    expect(initSw(card, 50)).toBe(0x9414);
    expect(initSw(card, 1_000, '')).toBe(0x6a80);
    const rich = fresh(issuedA);
    expect(load(rich, [mintCoin(25_000)]).sw).toBe(0x9000);
    expect(initSw(rich, 25_000)).toBe(0x6982);
  });

  it('answers 9413 above the single limit and 9415 beyond the offline amount', () => {
    const card = fresh(issuedA);
    expect(load(card, [mintCoin(150_000)]).sw).toBe(0x9000);
    expect(verifyPin(card)).toBe(0x9000);
    expect(initSw(card, 150_000)).toBe(0x9413);
    expect(issuerScript(card, C.putData, putDataValue(TAG.offlineAmountLimit, 1_000), { p1: 0xdf, p2: 0x08 })).toBe(0x9000);
    expect(verifyPin(card)).toBe(0x9000);
    expect(initSw(card, 2_000)).toBe(0x9415);
  });

  it('answers 6985 when LOCKED, 6A86 for P2 03, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    expect(swAs('initializeForTransfer', card, apduOf(C.initializeForTransfer, req(1_000), { p2: 0x03 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.initializeForTransfer, req(1_000)))).toBe(0x6700);
    block(card);
    expect(initSw(card, 1_000)).toBe(0x6985);
  });
});

describe('INITIALIZE FOR RENEWAL', () => {
  const BEFORE = '20280101';
  const req = (amountFen: number, payee = IDENTITY_B, expiringBefore = BEFORE) => ({ amountFen, expiringBefore, payeeIdentity: payee, payeeNonce: new Uint8Array(8), date: DATE, time: TIME });
  /** A card holding a 50.00 coin that expires in 2027 and a 50.00 and a 20.00 coin that expire in 2036. */
  function nearExpiry(): SimulatedCard {
    const card = fresh(issuedA);
    expect(load(card, [mintCoin(5_000, { expiryDate: '20270301' }), mintCoin(5_000), mintCoin(2_000)]).sw).toBe(0x9000);
    return card;
  }
  function initSw(card: SimulatedCard, r: ReturnType<typeof req>): number {
    const before = image(card);
    const sw = run(card, C.initializeForRenewal, r).sw;
    expect(image(card)).toBe(before);
    return sw;
  }

  it('starts an export that EXPORT COINS draws only from the coins expiring before the date', () => {
    const card = nearExpiry();
    const r = run(card, C.initializeForRenewal, req(5_000));
    expect(r.sw).toBe(0x9000);
    expect(r.value.balanceFen).toBe(12_000);
    const e = run(card, C.exportCoins, { confirmation: r.value.cardRandom });
    expect(e.sw).toBe(0x9000);
    const { header, body } = e.value as ReturnType<typeof exportPacketCoder.decode>;
    expect(header).toMatchObject({ type: 'TRANSFER', payeeIdentity: IDENTITY_B, amountFen: 5_000 });
    const clear = sm9Decrypt(sm9ExtractEncryptKey(systemKeys().kgcEncrypt, utf8(IDENTITY_B)), utf8(IDENTITY_B), body);
    expect(exportBodyCoder.decode(clear).coins.map((c) => c.body.expiryDate)).toEqual(['20270301']);
    expect(card.memory.coins.map((c) => c.body.expiryDate).sort()).toEqual(['20361231', '20361231']);
  });

  it('answers 9414 when the coins expiring before the date do not make the amount, though others would; 9401 above the balance; 6A80 for an empty payee', () => {
    const card = nearExpiry();
    expect(initSw(card, req(7_000))).toBe(0x9414);
    expect(initSw(card, req(5_000, IDENTITY_B, '20270301'))).toBe(0x9414);
    expect(initSw(card, req(20_000))).toBe(0x9401);
    expect(initSw(card, req(5_000, ''))).toBe(0x6a80);
  });

  it('answers 6982 above the PIN threshold, 9413 above the single limit and 9415 beyond the offline amount', () => {
    const rich = fresh(issuedA);
    expect(load(rich, [mintCoin(150_000, { expiryDate: '20270301' }), mintCoin(25_000, { expiryDate: '20270301' })]).sw).toBe(0x9000);
    expect(initSw(rich, req(25_000))).toBe(0x6982);
    expect(verifyPin(rich)).toBe(0x9000);
    expect(initSw(rich, req(150_000))).toBe(0x9413);
    expect(issuerScript(rich, C.putData, putDataValue(TAG.offlineAmountLimit, 1_000), { p1: 0xdf, p2: 0x08 })).toBe(0x9000);
    expect(verifyPin(rich)).toBe(0x9000);
    expect(initSw(rich, req(25_000))).toBe(0x9415);
  });

  it('answers 6985 when LOCKED, 6A86 for P2 03, 6700 for a malformed APDU', () => {
    const card = nearExpiry();
    expect(swAs('initializeForRenewal', card, apduOf(C.initializeForRenewal, req(5_000), { p2: 0x03 }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.initializeForRenewal, req(5_000)))).toBe(0x6700);
    block(card);
    expect(initSw(card, req(5_000))).toBe(0x6985);
  });
});

describe('EXPORT COINS', () => {
  it('exports a packet signed by the payer and encrypted to the payee; coins, counter, log and proof committed', () => {
    const card = fresh(fundedA);
    const nonce = randomBytes(8);
    const r = transferOut(card, 5_000, IDENTITY_B, nonce);
    expect(r.sw).toBe(0x9000);
    const packet = r.packet!;
    const { header, body } = exportPacketCoder.decode(packet);
    expect(header).toMatchObject({ type: 'TRANSFER', payerCardId: ID_A, payerIdentity: IDENTITY_A, payeeIdentity: IDENTITY_B, amountFen: 5_000, payerCounter: 1 });
    expect(hex(header.payeeNonce)).toBe(hex(nonce));
    const clear = sm9Decrypt(sm9ExtractEncryptKey(systemKeys().kgcEncrypt, utf8(IDENTITY_B)), utf8(IDENTITY_B), body);
    const { coins, signature } = exportBodyCoder.decode(clear);
    expect(coins.map((c) => c.body.denominationFen)).toEqual([5_000]);
    const headerBytes = packet.subarray(0, packet.length - body.length);
    expect(sm9Verify(systemKeys().kgcSign.publicKey, utf8(IDENTITY_A), sm3(concatBytes(headerBytes, coinListCoder.encode(coins))), signature)).toBe(true);
    expect(card.memory.balanceFen).toBe(13_600);
    expect(card.memory.counter).toBe(2);
    expect(card.memory.log[0]).toMatchObject({ type: 'TRANSFER', amountFen: 5_000 });
    expect(hex(card.memory.log[0].counterparty)).toBe(hex(sm3(utf8(IDENTITY_B)).subarray(0, 10)));
    expect(hex(card.memory.proof(TRANSACTION_TYPES.TRANSFER, 1)!)).toBe(hex(packet));
  });

  it('answers 6A80 for a confirmation other than the card random; nothing stored', () => {
    const card = fresh(fundedA);
    const r = transferOut(card, 5_000, IDENTITY_B, randomBytes(8), { confirmation: Uint8Array.of(0, 0, 0, 0) });
    expect([r.initSw, r.sw]).toEqual([0x9000, 0x6a80]);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it('answers 6985 without INITIALIZE FOR TRANSFER, 6A86 for P2 01, 6700 for a 3-byte confirmation', () => {
    const card = fresh(fundedA);
    expect(run(card, C.exportCoins, { confirmation: new Uint8Array(4) }).sw).toBe(0x6985);
    expect(swAs('exportCoins', card, apduOf(C.exportCoins, { confirmation: new Uint8Array(4) }, { p2: 0x01 }))).toBe(0x6a86);
    expect(run(card, C.initializeForTransfer, { amountFen: 1_000, payeeIdentity: IDENTITY_B, payeeNonce: new Uint8Array(8), withdrawalCode: '0'.repeat(16), date: DATE, time: TIME }).sw).toBe(0x9000);
    expect(swOf(card, apduOf(C.exportCoins, { confirmation: new Uint8Array(4) }, { data: new Uint8Array(3) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

describe('INITIALIZE FOR RECEIVE', () => {
  it('answers the identity, a fresh nonce, the room under the cap and the counter; only the nonce is stored', () => {
    const card = fresh(fundedA);
    const a = receive(card);
    const b = receive(card);
    expect(a.sw).toBe(0x9000);
    expect(a.value).toMatchObject({ payeeIdentity: IDENTITY_A, roomFen: DEFAULT_PROFILE.balanceCapFen - 18_600, counter: 1 });
    expect(hex(a.value.nonce)).not.toBe(hex(b.value.nonce));
    expect(card.memory.receiveNonces.map(hex)).toEqual([hex(b.value.nonce), hex(a.value.nonce)]);
    expect(recordsWithout(card, 'receive/nonces')).toEqual(recordsWithout(SimulatedCard.fromImage(fundedA), 'receive/nonces'));
  });

  it(`keeps the newest ${RECEIVE_NONCE_SLOTS} nonces outstanding; a packet for a nonce pushed out is refused with 6A80`, () => {
    const payer = fresh(fundedA);
    const payee = fresh(issuedB);
    const oldest = receive(payee).value.nonce;
    const t = transferOut(payer, 1_000, IDENTITY_B, oldest);
    expect(t.sw).toBe(0x9000);
    for (let i = 0; i < RECEIVE_NONCE_SLOTS - 1; i++) expect(receive(payee).sw).toBe(0x9000);
    expect(payee.memory.receiveNonces).toHaveLength(RECEIVE_NONCE_SLOTS);
    expect(receive(payee).sw).toBe(0x9000);
    expect(payee.memory.receiveNonces).toHaveLength(RECEIVE_NONCE_SLOTS);
    expect(payee.memory.receiveNonces.map(hex)).not.toContain(hex(oldest));
    const before = image(payee);
    expect(importPacket(payee, t.packet!).sw).toBe(0x6a80);
    expect(image(payee)).toBe(before);
  });

  it('answers 9412 at the balance cap and 6A84 with every coin slot used', () => {
    const full = fresh(issuedA);
    expect(load(full, [mintCoin(DEFAULT_PROFILE.balanceCapFen)]).sw).toBe(0x9000);
    const fullImage = image(full);
    expect(receive(full).sw).toBe(0x9412);
    expect(image(full)).toBe(fullImage);
    const small = fresh(issuedS);
    expect(load(small, [mintCoin(100), mintCoin(100), mintCoin(100)]).sw).toBe(0x9000);
    const smallImage = image(small);
    expect(receive(small).sw).toBe(0x6a84);
    expect(image(small)).toBe(smallImage);
  });

  it('answers 6985 when LOCKED, 6A86 for P2 03, 6700 for a data field', () => {
    const card = fresh(fundedA);
    expect(swAs('initializeForReceive', card, apduOf(C.initializeForReceive, {}, { p2: 0x03 }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.initializeForReceive, {}, { data: Uint8Array.of(0) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    block(card);
    const locked = image(card);
    expect(receive(card).sw).toBe(0x6985);
    expect(image(card)).toBe(locked);
  });
});

describe('IMPORT COINS', () => {
  /** A transfer of `amountFen` from a funded A to B; returns both cards and the packet. */
  function transferAtoB(amountFen: number) {
    const payer = fresh(fundedA);
    const payee = fresh(issuedB);
    const r = receive(payee);
    expect(r.sw).toBe(0x9000);
    const t = transferOut(payer, amountFen, IDENTITY_B, r.value.nonce);
    expect(t.sw).toBe(0x9000);
    return { payer, payee, packet: t.packet!, payerCounter: t.counter! };
  }

  it('imports a transfer: coins, counter, log and a receipt signed by the payee card', () => {
    const { payee, packet, payerCounter } = transferAtoB(5_000);
    const r = importPacket(payee, packet);
    expect(r.sw).toBe(0x9000);
    expect(payee.memory.balanceFen).toBe(5_000);
    expect(payee.memory.counter).toBe(1);
    const { receipt, settlement } = importResponseCoder.decode(r.data);
    expect(settlement.coins.reduce((s, c) => s + c.body.denominationFen, 0)).toBe(5_000);
    expect(receipt.body).toMatchObject({ payeeCardId: ID_B, payeeIdentity: IDENTITY_B, payeeCounter: 0, payerCardId: ID_A, payerCounter, amountFen: 5_000 });
    expect(hex(receipt.body.packetHash)).toBe(hex(sm3(packet)));
    expect(sm9Verify(systemKeys().kgcSign.publicKey, utf8(IDENTITY_B), sm3(receiptBodyCoder.encode(receipt.body)), receipt.signature)).toBe(true);
    expect(payee.memory.log[0]).toMatchObject({ counter: 0, type: 'RECEIVE', amountFen: 5_000, balanceAfterFen: 5_000 });
    expect(hex(payee.memory.log[0].counterparty)).toBe(ID_A);
  });

  it('answers the same packet again with the byte-identical stored receipt and credits it once', () => {
    const { payee, packet } = transferAtoB(5_000);
    const first = importPacket(payee, packet);
    expect(first.sw).toBe(0x9000);
    expect(receive(payee).sw).toBe(0x9000);
    const after = image(payee);
    const again = importPacket(payee, packet);
    expect(again.sw).toBe(0x9000);
    expect(hex(again.data)).toBe(hex(first.data));
    expect(payee.memory.balanceFen).toBe(5_000);
    expect(image(payee)).toBe(after);
  });

  it('imports a POS purchase packet made out to the merchant card with its receive nonce', () => {
    const payer = fresh(fundedA);
    const merchant = fresh(issuedB);
    const nonce = receive(merchant).value.nonce;
    const p = pay(payer, 2_500, { payee: IDENTITY_B, un: nonce });
    expect(p.sw).toBe(0x9000);
    const r = importPacket(merchant, p.data!.subarray(8));
    expect(r.sw).toBe(0x9000);
    expect(merchant.memory.balanceFen).toBe(2_500);
  });

  /** An import that must fail: the payee's memory is as before. */
  function refusedImport(payee: SimulatedCard, packet: Uint8Array): number {
    const before = image(payee);
    const sw = importPacket(payee, packet).sw;
    expect(image(payee)).toBe(before);
    return sw;
  }

  it('answers 9417 for a packet made out to another identity', () => {
    const payer = fresh(fundedA);
    const payee = fresh(issuedB);
    const nonce = receive(payee).value.nonce;
    const t = transferOut(payer, 5_000, 'carol|2036', nonce);
    expect(refusedImport(payee, t.packet!)).toBe(0x9417);
  });

  it('answers 9416 for a tampered encrypted body and for a tampered header', () => {
    const { payee, packet } = transferAtoB(5_000);
    const body = Uint8Array.from(packet);
    body[body.length - 5] ^= 0x01;
    expect(refusedImport(payee, body)).toBe(0x9416);
    expect(receive(payee).sw).toBe(0x9000);
    const nonce = receive(payee).value.nonce;
    const crafted = craftPacket([mintCoin(1_000)], IDENTITY_B, nonce);
    const header = Uint8Array.from(crafted);
    // the payer counter (4 bytes after version, type, card ID and payer identity) changed after signing
    header[1 + 1 + 10 + 1 + 'mallory@test'.length + 3] ^= 0x01;
    expect(refusedImport(payee, header)).toBe(0x9416);
  });

  it('answers 6A80 for a packet with a nonce this card never issued', () => {
    const payer = fresh(fundedA);
    const payee = fresh(issuedB);
    expect(receive(payee).sw).toBe(0x9000);
    const t = transferOut(payer, 5_000, IDENTITY_B, randomBytes(8));
    expect(t.sw).toBe(0x9000);
    expect(refusedImport(payee, t.packet!)).toBe(0x6a80);
    expect(payee.memory.balanceFen).toBe(0);
  });

  it('imports a packet in a later session, after other receive sessions and a power cycle, and retires its nonce', () => {
    const { payee, packet } = transferAtoB(5_000);
    expect(receive(payee).sw).toBe(0x9000);
    payee.powerOff();
    payee.powerOn();
    selectApplet(payee);
    const r = importPacket(payee, packet);
    expect(r.sw).toBe(0x9000);
    expect(payee.memory.balanceFen).toBe(5_000);
    expect(payee.memory.receiveNonces).toHaveLength(1);
    expect(hex(payee.memory.receiveNonces[0])).not.toBe(hex(exportPacketCoder.decode(packet).header.payeeNonce));
  });

  it('lets a refused import be retried with the same packet once the reason is gone (the nonce is not used up)', () => {
    const payer = fresh(fundedA);
    const payee = fresh(issuedB);
    expect(load(payee, [mintCoin(DEFAULT_PROFILE.balanceCapFen - 11_000), mintCoin(10_000)]).sw).toBe(0x9000);
    const nonce = receive(payee).value.nonce;
    const t = transferOut(payer, 5_000, IDENTITY_B, nonce);
    expect(t.sw).toBe(0x9000);
    expect(refusedImport(payee, t.packet!)).toBe(0x9412);
    // The holder spends, so the room is there now; the same packet goes through.
    expect(pay(payee, 10_000).sw).toBe(0x9000);
    selectApplet(payee);
    const r = importPacket(payee, t.packet!);
    expect(r.sw).toBe(0x9000);
    expect(payee.memory.balanceFen).toBe(DEFAULT_PROFILE.balanceCapFen - 1_000 - 10_000 + 5_000);
  });

  it('carries the withdrawal code only inside the encrypted body, bound by the signed commitment, and never returns it', () => {
    const payer = fresh(fundedA);
    const payee = fresh(issuedB);
    const code = '4711471147114711';
    const t = transferOut(payer, 5_000, IDENTITY_B, receive(payee).value.nonce, { withdrawalCode: code });
    expect(t.sw).toBe(0x9000);
    const { header, body } = exportPacketCoder.decode(t.packet!);
    expect(Buffer.from(t.packet!).includes(Buffer.from(code, 'hex'))).toBe(false);
    const clear = exportBodyCoder.decode(sm9Decrypt(sm9ExtractEncryptKey(systemKeys().kgcEncrypt, utf8(IDENTITY_B)), utf8(IDENTITY_B), body));
    expect(clear.withdrawal.code).toBe(code);
    expect(hex(header.codeCommitment)).toBe(hex(sm3(withdrawalSealCoder.encode(clear.withdrawal))));
    const r = importPacket(payee, t.packet!);
    expect(r.sw).toBe(0x9000);
    expect(Buffer.from(r.data).includes(Buffer.from(code, 'hex'))).toBe(false);
    expect(Buffer.from(r.data).includes(Buffer.from(clear.withdrawal.salt))).toBe(false);
  });

  it('answers 9416 for a body whose withdrawal seal differs from the commitment in the signed header', () => {
    const payee = fresh(issuedB);
    const nonce = receive(payee).value.nonce;
    const packet = craftPacket([mintCoin(1_000)], IDENTITY_B, nonce, { seal: { code: '1111222233334444', salt: new Uint8Array(16) }, commitment: new Uint8Array(32).fill(7) });
    expect(refusedImport(payee, packet)).toBe(0x9416);
  });

  it('answers 9410 for a forged coin in a validly signed packet', () => {
    const payee = fresh(issuedB);
    const nonce = receive(payee).value.nonce;
    expect(refusedImport(payee, craftPacket([mintCoin(1_000, { signer: sm2GenerateKeyPair().privateKey })], IDENTITY_B, nonce))).toBe(0x9410);
  });

  it('answers 9411 for a coin the payee already holds and for a serial twice in the packet', () => {
    const payee = fresh(issuedB);
    const held = mintCoin(1_000);
    expect(load(payee, [held]).sw).toBe(0x9000);
    expect(refusedImport(payee, craftPacket([held], IDENTITY_B, receive(payee).value.nonce))).toBe(0x9411);
    const twice = mintCoin(500);
    expect(refusedImport(payee, craftPacket([twice, twice], IDENTITY_B, receive(payee).value.nonce, { type: 'TRANSFER' }))).toBe(0x9411);
  });

  it('answers 9418 for a coin expired on the packet date', () => {
    const payee = fresh(issuedB);
    const nonce = receive(payee).value.nonce;
    expect(refusedImport(payee, craftPacket([mintCoin(1_000, { expiryDate: '20260101' })], IDENTITY_B, nonce))).toBe(0x9418);
  });

  it('answers 9412 when the coins exceed the room under the cap', () => {
    const payee = fresh(issuedB);
    expect(load(payee, [mintCoin(DEFAULT_PROFILE.balanceCapFen - 1_000)]).sw).toBe(0x9000);
    const r = receive(payee);
    expect(r.value.roomFen).toBe(1_000);
    expect(refusedImport(payee, craftPacket([mintCoin(2_000)], IDENTITY_B, r.value.nonce))).toBe(0x9412);
  });

  it('answers 6A84 when the coins do not fit the free slots', () => {
    const payee = fresh(issuedS);
    expect(load(payee, [mintCoin(100), mintCoin(100)]).sw).toBe(0x9000);
    const nonce = receive(payee).value.nonce;
    expect(refusedImport(payee, craftPacket([mintCoin(100), mintCoin(200)], identityFor(ID_S), nonce))).toBe(0x6a84);
  });

  it('answers 6985 when LOCKED (the packet stays importable once unblocked)', () => {
    const { payee, packet } = transferAtoB(1_000);
    block(payee);
    const before = image(payee);
    expect(importPacket(payee, packet).sw).toBe(0x6985);
    expect(image(payee)).toBe(before);
  });

  it('answers 6A86 for P2 01 and 6700 for a malformed APDU', () => {
    const { payee, packet } = transferAtoB(1_000);
    const before = image(payee);
    expect(run(payee, C.getBalance, {}).sw).toBe(0x9000);
    expect(swAs('importCoins', payee, { cla: 0x80, ins: 0x52, p1: 0x08, p2: 0x01, data: packet.subarray(0, 200), le: 256 })).toBe(0x6a86);
    expect(swOf(payee, malformed(C.importCoins, { packet: exportPacketCoder.decode(packet) }))).toBe(0x6700);
    expect(image(payee)).toBe(before);
  });
});

describe('READ RECORD (log)', () => {
  it('answers the log most recent first, without PIN', () => {
    const card = fresh(fundedA);
    expect(pay(card, 3_000).sw).toBe(0x9000);
    expect(pay(card, 500).sw).toBe(0x9000);
    const records = [1, 2, 3].map((i) => run(card, C.readLogRecord, { record: i }));
    expect(records.map((r) => r.sw)).toEqual([0x9000, 0x9000, 0x9000]);
    expect(records.map((r) => [r.value.counter, r.value.type, r.value.amountFen])).toEqual([
      [2, 'PURCHASE', 500],
      [1, 'PURCHASE', 3_000],
      [0, 'LOAD', 18_600],
    ]);
    expect(hex(records[0].data)).toBe(hex(logRecordCoder.encode(card.memory.log[0])));
    expect(run(card, C.readLogRecord, { record: 4 }).sw).toBe(0x6a83);
  });

  it('answers 6A83 for a record never written and for record 0, 6985 before issuance, 6A86 for another SFI, 6700 for a data field', () => {
    const card = fresh(issuedA);
    expect(run(card, C.readLogRecord, { record: 1 }).sw).toBe(0x6a83);
    expect(run(card, C.readLogRecord, { record: 0 }).sw).toBe(0x6a83);
    expect(swAs('readLogRecord', card, apduOf(C.readLogRecord, { record: 1 }, { p2: 0xc5 }))).toBe(0x6a86);
    expect(swOf(card, apduOf(C.readLogRecord, { record: 1 }, { data: Uint8Array.of(0) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(issuedA));
    expect(run(fresh(preparedA), C.readLogRecord, { record: 1 }).sw).toBe(0x6985);
  });
});

describe('GET TRANSACTION PROVE', () => {
  it('answers the byte-identical stored response of a load, a purchase, a transfer and an import', () => {
    const payer = fresh(issuedA);
    const l = load(payer, FUNDED);
    expect(prove(payer, TRANSACTION_TYPES.LOAD, l.counter!).stored).toEqual(l.tac);
    const p = pay(payer, 3_000);
    expect(hex(prove(payer, TRANSACTION_TYPES.PURCHASE, p.counter!).stored!)).toBe(hex(p.data!));
    const payee = fresh(issuedB);
    const t = transferOut(payer, 5_000, IDENTITY_B, receive(payee).value.nonce);
    expect(hex(prove(payer, TRANSACTION_TYPES.TRANSFER, t.counter!).stored!)).toBe(hex(t.packet!));
    const i = importPacket(payee, t.packet!);
    expect(i.sw).toBe(0x9000);
    expect(hex(prove(payee, TRANSACTION_TYPES.RECEIVE, 0).stored!)).toBe(hex(i.data));
    // Asked again, and after a power cycle: the same bytes.
    payee.powerOff();
    selectApplet(payee);
    expect(hex(prove(payee, TRANSACTION_TYPES.RECEIVE, 0).stored!)).toBe(hex(i.data));
  });

  it('answers 9406 for a counter never used and for a counter of another transaction type', () => {
    const card = fresh(fundedA);
    expect(prove(card, TRANSACTION_TYPES.LOAD, 1).sw).toBe(0x9406);
    expect(prove(card, TRANSACTION_TYPES.PURCHASE, 0).sw).toBe(0x9406);
    expect(prove(card, TRANSACTION_TYPES.LOAD, 0).sw).toBe(0x9000);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });

  it(`answers 6A83 beyond the last ${PROOF_RETENTION} transactions; the log keeps the last ${LOG_CAPACITY}`, () => {
    const card = fresh(fundedA);
    for (let i = 0; i < LOG_CAPACITY + 1; i++) expect(load(card, [mintCoin(100)]).sw).toBe(0x9000);
    const last = card.memory.counter - 1;
    expect(last).toBe(LOG_CAPACITY + 1);
    expect(prove(card, TRANSACTION_TYPES.LOAD, last - PROOF_RETENTION + 1).sw).toBe(0x9000);
    expect(prove(card, TRANSACTION_TYPES.LOAD, last - PROOF_RETENTION).sw).toBe(0x6a83);
    expect(prove(card, TRANSACTION_TYPES.LOAD, 0).sw).toBe(0x6a83);
    expect(card.store.keys('proof/')).toHaveLength(PROOF_RETENTION);
    expect(run(card, C.readLogRecord, { record: LOG_CAPACITY }).value.counter).toBe(last - LOG_CAPACITY + 1);
    expect(run(card, C.readLogRecord, { record: LOG_CAPACITY + 1 }).sw).toBe(0x6a83);
  });

  it('answers 6A86 for an undefined type, 6985 before issuance, 6700 for a 3-byte counter', () => {
    const card = fresh(fundedA);
    expect(run(card, C.getTransactionProve, { transactionType: 0x05, counter: 0 }).sw).toBe(0x6a86);
    expect(swOf(card, apduOf(C.getTransactionProve, { transactionType: 2, counter: 0 }, { data: new Uint8Array(3) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    expect(prove(fresh(preparedA), TRANSACTION_TYPES.LOAD, 0).sw).toBe(0x6985);
  });
});

describe('PUT DATA', () => {
  const put = (card: SimulatedCard, tag: number, v: number, opts: Parameters<typeof issuerScript>[3] = {}) =>
    issuerScript(card, C.putData, putDataValue(tag, v), { p1: tag >> 8, p2: tag & 0xff, ...opts });

  it('updates a risk parameter, visible through GET DATA, also when LOCKED', () => {
    const card = fresh(fundedA);
    expect(put(card, TAG.singleLimit, 50_000)).toBe(0x9000);
    expect(getData(card, TAG.singleLimit).value).toBe(50_000);
    expect(card.memory.risk.singleLimitFen).toBe(50_000);
    block(card);
    expect(put(card, TAG.pinThreshold, 5_000)).toBe(0x9000);
    expect(getData(card, TAG.pinThreshold).value).toBe(5_000);
  });

  it('answers 6A80 for a single limit above 100000 fen, 9302 for a bad MAC, 6985 without a challenge; nothing changes', () => {
    const card = fresh(fundedA);
    const before = image(card);
    expect(put(card, TAG.singleLimit, 100_001)).toBe(0x6a80);
    expect(put(card, TAG.singleLimit, 50_000, { badMac: true })).toBe(0x9302);
    expect(put(card, TAG.singleLimit, 50_000, { challenge: false })).toBe(0x6985);
    expect(image(card)).toBe(before);
    expect(getData(card, TAG.singleLimit).value).toBe(DEFAULT_PROFILE.singleLimitFen);
  });

  it('answers 6A80 for a balance cap, offline limit or PIN threshold above the central-bank defaults (DGI E002)', () => {
    const card = fresh(fundedA);
    const risk = card.memory.risk;
    expect(put(card, TAG.balanceCap, DEFAULT_PROFILE.balanceCapFen + 1)).toBe(0x6a80);
    expect(put(card, TAG.offlineCountLimit, DEFAULT_PROFILE.offlineCountLimit + 1)).toBe(0x6a80);
    expect(put(card, TAG.offlineAmountLimit, DEFAULT_PROFILE.offlineAmountLimitFen + 1)).toBe(0x6a80);
    expect(put(card, TAG.pinThreshold, DEFAULT_PROFILE.pinThresholdFen + 1)).toBe(0x6a80);
    expect(card.memory.risk).toEqual(risk);
    expect(put(card, TAG.balanceCap, DEFAULT_PROFILE.balanceCapFen)).toBe(0x9000);
  });

  it('a lowered balance cap is enforced by the next load', () => {
    const card = fresh(fundedA);
    expect(put(card, TAG.balanceCap, 19_000)).toBe(0x9000);
    expect(load(card, [mintCoin(500)]).sw).toBe(0x9412);
    expect(load(card, [mintCoin(400)]).sw).toBe(0x9000);
    expect(card.memory.balanceFen).toBe(19_000);
  });

  it('answers 6A88 for a tag that cannot be updated, 6982 without the SM bit, 6985 before issuance, 6700 for a malformed APDU', () => {
    const card = fresh(fundedA);
    expect(put(card, TAG.balance, 1)).toBe(0x6a88);
    expect(put(card, TAG.singleLimit, 1, { cla: 0x00 })).toBe(0x6982);
    expect(swOf(card, malformed(C.putData, { tag: TAG.singleLimit, value: new Uint8Array(6), mac: new Uint8Array(4) }))).toBe(0x6700);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
    expect(put(fresh(preparedA), TAG.singleLimit, 1)).toBe(0x6985);
  });
});

describe('APPLICATION BLOCK', () => {
  it('locks the application: SELECT answers 6283, payments are refused, the balance stays readable', () => {
    const card = fresh(fundedA);
    block(card);
    expect(card.memory.state).toBe('LOCKED');
    expect(run(card, C.select, { aid: DRMB_AID }).sw).toBe(0x6283);
    expect(pay(card, 1_000).initSw).toBe(0x6985);
    expect(run(card, C.getBalance, {}).value.balanceFen).toBe(18_600);
  });

  it('answers 9302 for a bad MAC, 6985 without a challenge and when already LOCKED, 6982 without the SM bit, 6A86 for P2 01, 6700 for a 3-byte MAC', () => {
    const card = fresh(fundedA);
    const before = image(card);
    const empty = new Uint8Array(0);
    expect(issuerScript(card, C.applicationBlock, empty, { badMac: true })).toBe(0x9302);
    expect(issuerScript(card, C.applicationBlock, empty, { challenge: false })).toBe(0x6985);
    expect(issuerScript(card, C.applicationBlock, empty, { cla: 0x80 })).toBe(0x6982);
    expect(coverage.as('applicationBlock', () => issuerScript(card, C.applicationBlock, empty, { p2: 0x01 }))).toBe(0x6a86);
    expect(swOf(card, fromHex('841E000003010203'))).toBe(0x6700);
    expect(image(card)).toBe(before);
    expect(card.memory.state).toBe('ISSUED');
    block(card);
    expect(issuerScript(card, C.applicationBlock, empty)).toBe(0x6985);
  });
});

describe('issuer scripts', () => {
  it('a captured issuer script cannot be replayed: 6985 without a new challenge, 9302 with one', () => {
    const card = fresh(fundedA);
    const inner = card.transmit;
    let captured: Uint8Array | undefined;
    card.transmit = (c: Uint8Array) => {
      if (c[1] === 0x1e) captured = c.slice();
      return inner(c);
    };
    block(card);
    card.transmit = inner;
    expect(issuerScript(card, C.applicationUnblock, new Uint8Array(0))).toBe(0x9000);
    expect(swOf(card, captured!)).toBe(0x6985);
    expect(run(card, C.getChallenge, {}).sw).toBe(0x9000);
    expect(swOf(card, captured!)).toBe(0x9302);
    expect(card.memory.state).toBe('ISSUED');
  });
});

describe('APPLICATION UNBLOCK', () => {
  it('restores ISSUED: SELECT 9000 and payments again', () => {
    const card = fresh(fundedA);
    block(card);
    expect(issuerScript(card, C.applicationUnblock, new Uint8Array(0))).toBe(0x9000);
    expect(card.memory.state).toBe('ISSUED');
    expect(run(card, C.select, { aid: DRMB_AID }).sw).toBe(0x9000);
    expect(pay(card, 1_000).sw).toBe(0x9000);
  });

  it('answers 9302 for a bad MAC, 6985 when not LOCKED and without a challenge, 6982 without the SM bit, 6A86 for P2 01, 6700 for a 3-byte MAC', () => {
    const card = fresh(fundedA);
    const empty = new Uint8Array(0);
    expect(issuerScript(card, C.applicationUnblock, empty)).toBe(0x6985);
    block(card);
    const before = image(card);
    expect(issuerScript(card, C.applicationUnblock, empty, { badMac: true })).toBe(0x9302);
    expect(issuerScript(card, C.applicationUnblock, empty, { challenge: false })).toBe(0x6985);
    expect(issuerScript(card, C.applicationUnblock, empty, { cla: 0x80 })).toBe(0x6982);
    expect(coverage.as('applicationUnblock', () => issuerScript(card, C.applicationUnblock, empty, { p2: 0x01 }))).toBe(0x6a86);
    expect(swOf(card, fromHex('8418000003010203'))).toBe(0x6700);
    expect(image(card)).toBe(before);
    expect(card.memory.state).toBe('LOCKED');
  });
});

describe('SET STATUS', () => {
  it('terminates once every coin is spent; SELECT then answers 6A81', () => {
    const card = fresh(issuedA);
    expect(load(card, [mintCoin(1_000)]).sw).toBe(0x9000);
    expect(pay(card, 1_000).sw).toBe(0x9000);
    expect(card.memory.coins).toEqual([]);
    expect(terminate(card).sw).toBe(0x9000);
    expect(card.memory.state).toBe('TERMINATED');
    expect(run(card, C.select, { aid: DRMB_AID }).sw).toBe(0x6a81);
    // Permanent: a new power-up finds it terminated.
    expect(run(fresh(card.toImage()), C.select, { aid: DRMB_AID }).sw).toBe(0x6a81);
  });

  it('terminates a BLANK card over the personalization keys', () => {
    const card = fresh(blankA);
    expect(terminate(card, DRMB_AID, 0x30).sw).toBe(0x9000);
    expect(card.memory.state).toBe('TERMINATED');
  });

  it('answers 6985 while coins remain, 6A88 for another AID, 6A80 for a 4-byte AID; nothing changes', () => {
    const card = fresh(fundedA);
    const before = recordsWithout(card);
    expect(terminate(card).sw).toBe(0x6985);
    expect(terminate(card, fromHex('A0000000031010')).sw).toBe(0x6a88);
    expect(terminate(card, fromHex('F0445241')).sw).toBe(0x6a80);
    expect(recordsWithout(card)).toEqual(before);
    expect(card.memory.state).toBe('ISSUED');
  });

  it('answers 6982 without a secure channel (with and without the SM bit), 6A86 for P2 FE, 6700 for a malformed APDU', () => {
    const card = fresh(issuedA);
    expect(run(card, C.setStatus, { aid: DRMB_AID }).sw).toBe(0x6982);
    expect(run(card, C.setStatus, { aid: DRMB_AID }, { secure: false }).sw).toBe(0x6982);
    expect(swAs('setStatus', card, apduOf(C.setStatus, { aid: DRMB_AID }, { p2: 0xfe }))).toBe(0x6a86);
    expect(swOf(card, malformed(C.setStatus, { aid: DRMB_AID }))).toBe(0x6700);
    expect(card.memory.state).toBe('ISSUED');
    expect(image(card)).toBe(new TextDecoder().decode(issuedA));
  });
});

describe('status words outside the definitions (reported, see KNOWN_UNLISTED)', () => {
  it('GET BALANCE with Le 02: 6C04, then 9000 with Le 04', () => {
    const card = fresh(fundedA);
    expect(swOf(card, apduOf(C.getBalance, {}, { le: 2 }))).toBe(0x6c04);
    expect(run(card, C.getBalance, {}).value.balanceFen).toBe(18_600);
  });

  it('GET BALANCE without C-MAC inside an open SCP03 session: 6982, and the session is closed', () => {
    const card = fresh(fundedA);
    const host = openChannel(card, systemKeys().issuanceKeys, 0x31, 0x01);
    expect(run(card, C.getBalance, {}).sw).toBe(0x6982);
    // The session is gone: the wrapped command is now a secure-messaging CLA outside any session.
    expect(sendSecure(card, host, C.getBalance.encodeBytes({})).sw).toBe(0x6e00);
    expect(run(card, C.getBalance, {}).value.balanceFen).toBe(18_600);
  });

  it('GET BALANCE with the secure-messaging bit outside a session: 6E00', () => {
    const card = fresh(fundedA);
    expect(swOf(card, apduOf(C.getBalance, {}, { cla: 0x84 }))).toBe(0x6e00);
    expect(image(card)).toBe(new TextDecoder().decode(fundedA));
  });
});

// =====================================================================================================

// These checks need every test above to have run: they fail when the file is run with a -t filter.
describe('status-word coverage of the definitions', () => {
  it('every command of applet-spec was run on its positive path (9000)', () => {
    // A command added to applet-spec without tests here fails this.
    const tested = new Set(COMMANDS.map((c) => c.id).filter((id) => coverage.observed(id).includes(0x9000)));
    expect(COMMANDS.filter((c) => !tested.has(c.id)).map((c) => c.name)).toEqual([]);
  });

  it('every (command, listed SW) pair was answered by the card, except the justified unreachable ones', () => {
    expect(coverage.missing(UNREACHABLE)).toEqual([]);
    expect(coverage.observedAnyway(UNREACHABLE)).toEqual([]);
  });

  it('the card answered no status word its definition does not list, beyond the reported ones', () => {
    const known = (p: { id: string; sw: number }) => KNOWN_UNLISTED.some((k) => (k.id === '*' || k.id === p.id) && swFamilyBase(p.sw) === k.family);
    expect(coverage.unlisted().filter((p) => !known(p)).map(describePair)).toEqual([]);
  });
});
