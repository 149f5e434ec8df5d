/**
 * @module Cases for the status words a command lists that the generic derivation (spec-cases.ts) cannot
 * reach by mutating the example alone: refusals that need their predecessor done right first (INITIALIZE
 * UPDATE, INITIALIZE FOR LOAD, PURCHASE or TRANSFER), a correct line MAC or an open secure channel, so
 * that the one thing wrong is the thing the rule is about; data the layout holds but the command
 * refuses (a zero amount, an expired coin); and the exchanges that succeed only in context (GET
 * RESPONSE after 61xx, CHANGE PIN, PUT DATA, SET STATUS). Each refusal leaves every readable value as it was.
 */
import { type CommandApdu, encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { SECURITY_LEVELS } from '../applet-spec/commands/external-authenticate.js';
import * as C from '../applet-spec/commands.js';
import { DATA_OBJECTS, TAG } from '../applet-spec/data-objects.js';
import type { ApplicationKeyName } from '../applet-spec/dgis.js';
import { CLA_SECURE_MESSAGING } from '../applet-spec/define-command.js';
import { STORE_DATA_P1 } from '../applet-spec/dgis.js';
import type { AppState } from '../applet-spec/lifecycle.js';
import { formatSw, SW, swWrongLe } from '../applet-spec/status-words.js';
import { type Coin, coinListCoder, exportPacketCoder, MAX_SINGLE_LIMIT_FEN } from '../applet-spec/value-formats.js';
import { concatBytes, equalBytes } from '../base/bytes.js';
import { fromHex } from '../base/hex.js';
import { dataOf, swOf } from '../host/transport.js';
import type { CaseContext } from './case-context.js';
import { CaseSkip, check, type ConformanceCase, type ProfileKeyName } from './conformance-case.js';
import { RawScp03Session } from './raw-scp03-session.js';
import { refusalCase } from './spec-cases.js';
import { CONFORMANCE_TERMINAL_ID, DATE, loadMac2, loadOneCoin, loadSessionKey, mintTestCoin, packetToCard, purchaseAndCheck, readNumber, TIME } from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const singleLimit = DATA_OBJECTS.singleLimit;
type Reply = { sw: number; data: Uint8Array };

/** GET CHALLENGE (8 bytes), then the command with `body` and a line MAC under `key` over its header, Lc and body (JR/T 0025.2 issuer scripts). */
async function issuerScript(ctx: CaseContext, key: ApplicationKeyName, header: Omit<CommandApdu, 'data' | 'le'>, body: Uint8Array): Promise<Reply> {
  const ch = await ctx.raw(fromHex('0084000008'));
  ctx.expectSw('GET CHALLENGE', ch.sw, [SW.OK]);
  const cla = header.cla | CLA_SECURE_MESSAGING;
  const mac = await ctx.lineMacSigner(key)(ch.data, Uint8Array.of(cla, header.ins, header.p1, header.p2), body);
  return ctx.raw({ ...header, cla, data: concatBytes(body, mac) });
}

type Parameter = 'singleLimit' | 'balanceCap' | 'offlineCountLimit' | 'offlineAmountLimit';

/** PUT DATA of a risk parameter by issuer script under the issuer MAC key; fails the case unless the card takes it. */
async function putParameter(ctx: CaseContext, name: Parameter, value: number): Promise<void> {
  const d = DATA_OBJECTS[name];
  const r = await issuerScript(ctx, 'issuerMac', { cla: 0x00, ins: C.putData.ins, p1: d.tag >> 8, p2: d.tag & 0xff }, d.coder.encode(value));
  ctx.expectSw(`PUT DATA of ${d.name} ${value}`, r.sw, [SW.OK]);
}

/**
 * Sets a risk parameter by PUT DATA, runs `body` in a fresh selection, and sets the parameter back to
 * what GET DATA read before, whatever `body` did; fails the case unless it reads back as it was.
 */
async function withParameter(ctx: CaseContext, name: Parameter, value: number, body: () => Promise<void>): Promise<void> {
  await ctx.select();
  const before = await readNumber(ctx, name);
  await putParameter(ctx, name, value);
  try {
    await ctx.select();
    await body();
  } finally {
    await ctx.select();
    await putParameter(ctx, name, before);
  }
  check((await readNumber(ctx, name)) === before, `${DATA_OBJECTS[name].name} did not come back to ${before}`);
}

/** INITIALIZE FOR LOAD of `amountFen` at the runner's terminal; fails the case unless the card accepts it. */
async function initializeLoad(ctx: CaseContext, amountFen: number) {
  const r = await ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen, terminalId: CONFORMANCE_TERMINAL_ID });
  ctx.expectSw('INITIALIZE FOR LOAD', r.sw, [SW.OK]);
  return C.initializeForLoad.decodeResponse(r.data);
}

/** A load of these coins with a MAC2 made right over their bytes: only the coins can be wrong. */
async function loadCoins(ctx: CaseContext, coins: Coin[]): Promise<Reply> {
  const amountFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
  const room = (await readNumber(ctx, 'balanceCap')) - (await ctx.card.balance());
  if (room < amountFen) throw new CaseSkip(`the card has room for ${room} fen only under its balance cap`);
  const init = await initializeLoad(ctx, amountFen);
  const list = coinListCoder.encode(coins);
  const mac2 = loadMac2(loadSessionKey(ctx, init.cardRandom, init.counter), amountFen, list);
  return ctx.raw({ cla: 0x80, ins: C.creditForLoad.ins, p1: 0x00, p2: 0x00, data: concatBytes(fromHex(DATE), fromHex(TIME), list, mac2), le: 256 });
}

/** INITIALIZE FOR PURCHASE of `amountFen` (a coin of that value loaded in prepare); fails the case unless accepted. */
async function initializePurchase(ctx: CaseContext, amountFen: number) {
  const r = await ctx.send(C.initializeForPurchase, { keyIndex: 1, amountFen, terminalId: CONFORMANCE_TERMINAL_ID });
  ctx.expectSw('INITIALIZE FOR PURCHASE', r.sw, [SW.OK]);
}

/** An INITIALIZE FOR TRANSFER of `amountFen` to the runner's payee, with no withdrawal code. */
function transferRequest(amountFen: number) {
  return { amountFen, payeeIdentity: 'conformance-payee', payeeNonce: fromHex('0102030405060708'), withdrawalCode: '0'.repeat(16), date: DATE, time: TIME };
}

/** An INITIALIZE FOR RENEWAL of `amountFen` to the runner's bank, of coins expiring before 9999-12-31 (any coin). */
function renewalRequest(amountFen: number) {
  return { amountFen, expiringBefore: '99991231', payeeIdentity: 'conformance-bank', payeeNonce: fromHex('0102030405060708'), date: DATE, time: TIME };
}

/** INITIALIZE FOR TRANSFER of `amountFen` to a payee with a fresh nonce; fails the case unless accepted. Returns the card random. */
async function initializeTransfer(ctx: CaseContext, amountFen: number): Promise<Uint8Array> {
  const r = await ctx.send(C.initializeForTransfer, transferRequest(amountFen));
  ctx.expectSw('INITIALIZE FOR TRANSFER', r.sw, [SW.OK]);
  return C.initializeForTransfer.decodeResponse(r.data).cardRandom;
}

/** STORE DATA as given, through a session of the stage's key set opened at C-MAC + C-DEC. */
async function storeRaw(ctx: CaseContext, state: 'BLANK' | 'PREPARED', p1: number, p2: number, data: Uint8Array): Promise<Reply> {
  const kvn = state === 'BLANK' ? KEY_VERSIONS.PERSONALIZATION : KEY_VERSIONS.ISSUANCE;
  await ctx.select();
  const channel = await ctx.card.openSecureChannel(ctx.scpKeys(kvn), { kvn });
  const r = await channel.transmit(encodeCommandApdu({ cla: 0x80, ins: C.storeData.ins, p1, p2, data }));
  return { sw: swOf(r), data: dataOf(r) };
}

/** A command sent through a session of the personalization key set (30) opened at C-MAC, as SET STATUS needs. */
async function throughChannel(ctx: CaseContext, apdu: CommandApdu): Promise<Reply> {
  await ctx.select();
  const kvn = KEY_VERSIONS.PERSONALIZATION;
  const channel = await ctx.card.openSecureChannel(ctx.scpKeys(kvn), { kvn, level: SECURITY_LEVELS.C_MAC });
  const r = await channel.transmit(encodeCommandApdu(apdu));
  return { sw: swOf(r), data: dataOf(r) };
}

const STAGE_KEY: Record<'BLANK' | 'PREPARED', ProfileKeyName> = { BLANK: 'cbMaster', PREPARED: 'issuanceMaster' };

/** STORE DATA: an unknown DGI, a block out of order, a DGI list that does not parse. */
function storeDataCases(): ConformanceCase[] {
  return (['BLANK', 'PREPARED'] as const).flatMap((state) => {
    const needs = { states: [state] as AppState[], keys: [STAGE_KEY[state]] };
    const flags = STORE_DATA_P1.DGI_FORMAT;
    return [
      refusalCase({
        id: `STORE-SW-6A88-DGI-${state}`,
        clause: `${C.storeData.mirrors}; EMV CPS DGIs`,
        rule: `on a ${state.toLowerCase()} card, through the stage's secure channel, a DGI the card does not define (BF7E) is refused 6A88`,
        needs,
        what: 'STORE DATA of DGI BF7E',
        expected: [SW.REFERENCED_DATA_NOT_FOUND],
        provoke: (ctx) => storeRaw(ctx, state, flags, 0x00, fromHex('BF7E 01 00')),
      }),
      refusalCase({
        id: `STORE-SW-6A86-BLOCK-${state}`,
        clause: `${C.storeData.mirrors}; GP 2.3 11.11.2.2 block number`,
        rule: `on a ${state.toLowerCase()} card, the first STORE DATA of a session numbered 05 instead of 00 is refused 6A86`,
        needs,
        what: 'STORE DATA block 05 first',
        expected: [SW.INCORRECT_P1P2],
        provoke: (ctx) => storeRaw(ctx, state, flags, 0x05, fromHex('9010 01 03')),
      }),
      refusalCase({
        id: `STORE-SW-6A80-LAYOUT-${state}`,
        clause: `${C.storeData.mirrors}; EMV CPS DGI layout`,
        rule: `on a ${state.toLowerCase()} card, a DGI whose length byte says 5 with 1 byte after it is refused 6A80`,
        needs,
        what: 'STORE DATA of a truncated DGI',
        expected: [SW.INCORRECT_DATA],
        provoke: (ctx) => storeRaw(ctx, state, flags, 0x00, fromHex('9010 05 03')),
      }),
    ];
  });
}

/** EXTERNAL AUTHENTICATE after a good INITIALIZE UPDATE: a level the card does not offer, a wrong length, no secure messaging. */
function externalAuthenticateCases(): ConformanceCase[] {
  const kvn = KEY_VERSIONS.PERSONALIZATION;
  const needs = { states: ISSUED as unknown as AppState[], keys: ['cbMaster'] as ProfileKeyName[] };
  return [
    refusalCase({
      id: 'EXTAUTH-SW-6A86-LEVEL',
      clause: `${C.externalAuthenticate.mirrors}; GP Amd D 7.1.2 security level`,
      rule: 'EXTERNAL AUTHENTICATE with the right cryptogram and C-MAC but security level 02, which the card does not offer, is refused 6A86',
      needs,
      what: 'EXTERNAL AUTHENTICATE at level 02',
      expected: [SW.INCORRECT_P1P2],
      provoke: async (ctx) => ({ sw: (await RawScp03Session.open(ctx, kvn, 0x02)).sw, data: new Uint8Array(0) }),
    }),
    refusalCase({
      id: 'EXTAUTH-SW-6700-LONG',
      clause: `${C.externalAuthenticate.mirrors}; ISO/IEC 7816-4 5.1`,
      rule: 'EXTERNAL AUTHENTICATE with a byte after the cryptogram and C-MAC (17 bytes where the layout has 16) is refused 6700',
      needs,
      what: 'EXTERNAL AUTHENTICATE of 17 bytes',
      expected: [SW.WRONG_LENGTH],
      provoke: async (ctx) => ({ sw: (await RawScp03Session.open(ctx, kvn, SECURITY_LEVELS.C_MAC, undefined, (a) => ({ ...a, data: concatBytes(a.data, Uint8Array.of(0)) }))).sw, data: new Uint8Array(0) }),
    }),
    refusalCase({
      id: 'EXTAUTH-SW-6982-PLAIN',
      clause: `${C.externalAuthenticate.mirrors}; GP Amd D 7.1.2`,
      rule: 'EXTERNAL AUTHENTICATE sent with class 80, without the secure-messaging bit its C-MAC needs, is refused 6982',
      needs,
      what: 'EXTERNAL AUTHENTICATE under class 80',
      expected: [SW.SECURITY_STATUS_NOT_SATISFIED],
      provoke: async (ctx) => ({ sw: (await RawScp03Session.open(ctx, kvn, SECURITY_LEVELS.C_MAC, undefined, (a) => ({ ...a, cla: a.cla & ~CLA_SECURE_MESSAGING }))).sw, data: new Uint8Array(0) }),
    }),
  ];
}

/** PIN commands: data that is not a PIN, a change that succeeds, a reload whose PIN is not BCD. */
function pinCases(): ConformanceCase[] {
  const other = (pin: string) => (pin === '246813' ? '135791' : '246813');
  return [
    refusalCase({
      id: 'SEL-SW-6A80-AID',
      clause: `${C.select.mirrors}; ISO/IEC 7816-5 AID of 5 to 16 bytes`,
      rule: 'SELECT by DF name of a 4-byte name, shorter than any AID, is refused 6A80',
      needs: { states: ISSUED },
      what: 'SELECT of a 4-byte name',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => ctx.raw(fromHex('00A4040004A0000006')),
    }),
    refusalCase({
      id: 'VERIFY-SW-6A80-BCD',
      clause: `${C.verify.mirrors}; PIN block of BCD digits`,
      rule: 'VERIFY of 1A FF, not a BCD PIN, is refused 6A80 and counts no try',
      needs: { states: ISSUED },
      what: 'VERIFY of a non-BCD PIN',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => ctx.raw(fromHex('00200000021AFF')),
    }),
    refusalCase({
      id: 'CHGPIN-SW-6A80-SEPARATOR',
      clause: `${C.changePin.mirrors}; old PIN FF new PIN`,
      rule: 'CHANGE PIN of 12 34 56 65 43 21, two PINs with no FF between them, is refused 6A80 and counts no try',
      needs: { states: ISSUED },
      what: 'CHANGE PIN with no separator',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => ctx.raw(fromHex('805E010006123456654321')),
    }),
    refusalCase({
      id: 'RELPIN-SW-6A80-BCD',
      clause: `${C.reloadPin.mirrors}; PIN block of BCD digits`,
      rule: 'RELOAD PIN of 1A FF (not a BCD PIN) with a correct line MAC under the PIN reload key is refused 6A80',
      needs: { states: ISSUED, keys: ['cbMaster'] },
      what: 'RELOAD PIN of a non-BCD PIN',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => issuerScript(ctx, 'pinReload', { cla: 0x80, ins: C.reloadPin.ins, p1: 0x00, p2: 0x00 }, fromHex('1AFF')),
    }),
    {
      id: 'CHGPIN-EX-CHANGE-BACK',
      clause: C.changePin.mirrors,
      rule: 'CHANGE PIN with the right current PIN answers 9000; the new PIN then verifies and the old one does not, and changing back answers 9000',
      needs: { states: ISSUED, pin: true, destructive: true },
      async run(ctx) {
        await ctx.select();
        const pin = ctx.profile.pin!;
        const next = other(pin);
        const r = await ctx.send(C.changePin, { oldPin: pin, newPin: next });
        ctx.expectSw('CHANGE PIN with the right current PIN', r.sw, [SW.OK]);
        try {
          await ctx.select();
          const v = await ctx.send(C.verify, { pin: next });
          ctx.expectSw('VERIFY with the new PIN', v.sw, [SW.OK]);
        } finally {
          await ctx.select();
          const back = await ctx.send(C.changePin, { oldPin: next, newPin: pin });
          ctx.expectSw('CHANGE PIN back to the profile PIN', back.sw, [SW.OK]);
        }
        await ctx.select();
        await ctx.verifyPin();
      },
    },
    {
      id: 'CHGPIN-SW-6983-BLOCKED',
      clause: `${C.changePin.mirrors}; PIN blocked`,
      rule: 'once wrong PINs have blocked the PIN, CHANGE PIN even with the right current PIN is refused 6983; RELOAD PIN then restores it',
      needs: { states: ISSUED, pin: true, destructive: true, keys: ['cbMaster'] },
      async run(ctx) {
        await ctx.select();
        const wrong = ctx.profile.pin === '000000' ? '111111' : '000000';
        for (let left = await readNumber(ctx, 'pinTriesLeft'); left > 0; left--) await ctx.send(C.verify, { pin: wrong });
        const r = await ctx.send(C.changePin, { oldPin: ctx.profile.pin!, newPin: other(ctx.profile.pin!) });
        ctx.expectSw('CHANGE PIN while the PIN is blocked', r.sw, [SW.AUTHENTICATION_METHOD_BLOCKED]);
        await ctx.card.reloadPin(ctx.profile.pin!, ctx.lineMacSigner('pinReload'));
        await ctx.verifyPin();
      },
    },
  ];
}

/** Value commands: refusals after their INITIALIZE, and coins the card must not take. */
function valueCases(): ConformanceCase[] {
  const loadKeys: ProfileKeyName[] = ['cbMaster', 'coinSigning'];
  const loadRefusal = (id: string, sw: number, rule: string, coins: (ctx: CaseContext) => Coin[]) =>
    refusalCase({
      id,
      clause: `${C.creditForLoad.mirrors}; coins`,
      rule,
      needs: { states: ISSUED, keys: loadKeys },
      what: 'CREDIT FOR LOAD',
      expected: [sw],
      provoke: (ctx) => loadCoins(ctx, coins(ctx)),
    });
  const paid = async (ctx: CaseContext) => void (await loadOneCoin(ctx, 100));
  return [
    {
      id: 'READCOIN-EX-LOADED',
      clause: C.readCoinRecord.mirrors,
      rule: 'after a coin is loaded and the PIN verified, READ RECORD of the coins answers 9000 for each record up to the coin count, and one of them is that coin, byte for byte',
      needs: { states: ISSUED, keys: loadKeys, pin: true },
      async run(ctx) {
        await ctx.select();
        const coin = mintTestCoin(ctx, 100);
        await loadCoins(ctx, [coin]).then((r) => ctx.expectSw('CREDIT FOR LOAD', r.sw, [SW.OK]));
        await ctx.select();
        await ctx.verifyPin();
        const want = coinListCoder.encode([coin]).subarray(1);
        let found = false;
        for (let record = 1; record <= 255 && !found; record++) {
          const r = await ctx.send(C.readCoinRecord, { record });
          if (r.sw === SW.RECORD_NOT_FOUND) break;
          ctx.expectSw(`READ RECORD of coin ${record}`, r.sw, [SW.OK]);
          found = equalBytes(r.data, want);
        }
        check(found, 'no coin record is the coin just loaded');
      },
    },
    refusalCase({
      id: 'INITLOAD-SW-6A80-ZERO',
      clause: `${C.initializeForLoad.mirrors}; amount`,
      rule: 'INITIALIZE FOR LOAD of 0 fen is refused 6A80',
      needs: { states: ISSUED },
      what: 'INITIALIZE FOR LOAD of 0 fen',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: 0, terminalId: CONFORMANCE_TERMINAL_ID }),
    }),
    loadRefusal('LOAD-SW-9410-DATES', SW.COIN_SIGNATURE_INVALID, 'a load of a coin signed by the central bank whose expiry date precedes its issue date is refused 9410; nothing is credited', (ctx) => [
      mintTestCoin(ctx, 100, { issueDate: '20260601', expiryDate: '20260501' }),
    ]),
    loadRefusal('LOAD-SW-9418-EXPIRED', SW.COIN_EXPIRED, `a load of a coin that expired before the load's date (${DATE}) is refused 9418; nothing is credited`, (ctx) => [
      mintTestCoin(ctx, 100, { issueDate: '20200101', expiryDate: '20251231' }),
    ]),
    loadRefusal('LOAD-SW-9411-TWICE', SW.DUPLICATE_COIN_SERIAL, 'a load carrying the same coin twice is refused 9411; nothing is credited', (ctx) => {
      const coin = mintTestCoin(ctx, 100);
      return [coin, coin];
    }),
    refusalCase({
      id: 'LOAD-SW-6A80-LAYOUT',
      clause: `${C.creditForLoad.mirrors}; coin list`,
      rule: 'CREDIT FOR LOAD right after INITIALIZE FOR LOAD whose coin list says one coin and holds none is refused 6A80; nothing is credited',
      needs: { states: ISSUED, keys: ['cbMaster'] },
      what: 'CREDIT FOR LOAD of a truncated coin list',
      expected: [SW.INCORRECT_DATA],
      provoke: async (ctx) => {
        await initializeLoad(ctx, 100);
        return ctx.raw({ cla: 0x80, ins: C.creditForLoad.ins, p1: 0x00, p2: 0x00, data: concatBytes(fromHex(DATE), fromHex(TIME), Uint8Array.of(1), new Uint8Array(4)), le: 256 });
      },
    }),
    refusalCase({
      id: 'INITPUR-SW-6A80-ZERO',
      clause: `${C.initializeForPurchase.mirrors}; amount`,
      rule: 'INITIALIZE FOR PURCHASE of 0 fen is refused 6A80',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'INITIALIZE FOR PURCHASE of 0 fen',
      expected: [SW.INCORRECT_DATA],
      prepare: paid,
      provoke: (ctx) => ctx.send(C.initializeForPurchase, { keyIndex: 1, amountFen: 0, terminalId: CONFORMANCE_TERMINAL_ID }),
    }),
    refusalCase({
      id: 'PUR-SW-6A80-LAYOUT',
      clause: `${C.debitForPurchase.mirrors}; layout`,
      rule: 'DEBIT FOR PURCHASE right after INITIALIZE FOR PURCHASE with 3 data bytes, too few for its layout, is refused 6A80; nothing is debited',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'DEBIT FOR PURCHASE of 3 bytes',
      expected: [SW.INCORRECT_DATA],
      prepare: paid,
      provoke: async (ctx) => {
        await initializePurchase(ctx, 100);
        return ctx.raw({ cla: 0x80, ins: C.debitForPurchase.ins, p1: 0x01, p2: 0x00, data: fromHex('000001'), le: 256 });
      },
    }),
    refusalCase({
      id: 'INITXFER-SW-6A80-LAYOUT',
      clause: `${C.initializeForTransfer.mirrors}; layout`,
      rule: 'INITIALIZE FOR TRANSFER whose payee identity length byte runs past the data is refused 6A80',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'INITIALIZE FOR TRANSFER of a truncated identity',
      expected: [SW.INCORRECT_DATA],
      prepare: paid,
      provoke: (ctx) => ctx.raw({ cla: 0x80, ins: C.initializeForTransfer.ins, p1: 0x07, p2: 0x02, data: fromHex('00000064 20 6162'), le: 256 }),
    }),
    refusalCase({
      id: 'INITRENEW-SW-6A80-LAYOUT',
      clause: `${C.initializeForRenewal.mirrors}; layout`,
      rule: 'INITIALIZE FOR RENEWAL whose bank identity length byte runs past the data is refused 6A80',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'INITIALIZE FOR RENEWAL of a truncated identity',
      expected: [SW.INCORRECT_DATA],
      prepare: paid,
      provoke: (ctx) => ctx.raw({ cla: 0x80, ins: C.initializeForRenewal.ins, p1: 0x09, p2: 0x02, data: fromHex('00000064 99991231 20 6162'), le: 256 }),
    }),
    refusalCase({
      id: 'INITRENEW-SW-9414-NOT-EXPIRING',
      clause: `${C.initializeForRenewal.mirrors}; coins expiring before the date`,
      rule: 'INITIALIZE FOR RENEWAL of a coin the card holds, with a date before every coin expires, is answered 9414',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'INITIALIZE FOR RENEWAL of coins not near expiry',
      expected: [SW.NO_EXACT_COIN_SET],
      prepare: paid,
      provoke: (ctx) => ctx.send(C.initializeForRenewal, { ...renewalRequest(100), expiringBefore: '20000101' }),
    }),
    refusalCase({
      id: 'EXPORT-SW-6700-LONG',
      clause: `${C.exportCoins.mirrors}; ISO/IEC 7816-4 5.1`,
      rule: 'EXPORT COINS right after INITIALIZE FOR TRANSFER with 5 data bytes where the layout has 4 is refused 6700; nothing leaves the card',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'EXPORT COINS of 5 bytes',
      expected: [SW.WRONG_LENGTH],
      prepare: paid,
      provoke: async (ctx) => {
        const random = await initializeTransfer(ctx, 100);
        return ctx.raw({ cla: 0x80, ins: C.exportCoins.ins, p1: 0x07, p2: 0x00, data: concatBytes(random, Uint8Array.of(0)), le: 256 });
      },
    }),
    refusalCase({
      id: 'EXPORT-SW-6A80-CONFIRMATION',
      clause: `${C.exportCoins.mirrors}; confirmation`,
      rule: 'EXPORT COINS right after INITIALIZE FOR TRANSFER confirming with bytes other than its card random is refused 6A80; nothing leaves the card',
      needs: { states: ISSUED, keys: loadKeys },
      what: 'EXPORT COINS with a wrong confirmation',
      expected: [SW.INCORRECT_DATA],
      prepare: paid,
      provoke: async (ctx) => {
        const random = await initializeTransfer(ctx, 100);
        return ctx.send(C.exportCoins, { confirmation: random.map((b) => b ^ 0xff) });
      },
    }),
    refusalCase({
      id: 'IMPORT-SW-9418-EXPIRED',
      clause: `${C.importCoins.mirrors}; coin expiry`,
      rule: "a packet for one of the card's receive nonces paying a coin that expired before the packet's date is refused 9418; nothing is credited",
      needs: { states: ISSUED, keys: ['coinSigning', 'kgcSign', 'kgcEncrypt'] },
      what: 'IMPORT COINS of an expired coin',
      expected: [SW.COIN_EXPIRED],
      provoke: async (ctx) => {
        const { packet } = await packetToCard(ctx, [100], () => [mintTestCoin(ctx, 100, { issueDate: '20200101', expiryDate: '20251231' })]);
        return ctx.send(C.importCoins, { packet: exportPacketCoder.decode(packet) });
      },
    }),
    refusalCase({
      id: 'IMPORT-SW-6A80-LAYOUT',
      clause: `${C.importCoins.mirrors}; packet layout`,
      rule: 'IMPORT COINS of 3 bytes, too few for any export packet, is refused 6A80; nothing is credited',
      needs: { states: ISSUED },
      what: 'IMPORT COINS of 3 bytes',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => ctx.raw({ cla: 0x80, ins: C.importCoins.ins, p1: 0x08, p2: 0x00, data: fromHex('010203'), le: 256 }),
    }),
  ];
}

/** Issuer scripts: a wrong length with a right MAC, a tag the card has no parameter for, a value above its ceiling, and one that is taken. */
function issuerScriptCases(): ConformanceCase[] {
  const needs = { keys: ['cbMaster'] as ProfileKeyName[] };
  const putHeader = (tag: number) => ({ cla: 0x00, ins: C.putData.ins, p1: tag >> 8, p2: tag & 0xff });
  return [
    refusalCase({
      id: 'BLOCK-SW-6700-LONG',
      clause: `${C.applicationBlock.mirrors}; ISO/IEC 7816-4 5.1`,
      rule: 'APPLICATION BLOCK with one byte before a correct line MAC (5 bytes where the layout has the 4-byte MAC) is refused 6700 and the card stays ISSUED',
      needs: { ...needs, states: ISSUED },
      what: 'APPLICATION BLOCK of 5 bytes',
      expected: [SW.WRONG_LENGTH],
      provoke: (ctx) => issuerScript(ctx, 'issuerMac', { cla: 0x80, ins: C.applicationBlock.ins, p1: 0, p2: 0 }, Uint8Array.of(0)),
    }),
    refusalCase({
      id: 'UNBLOCK-SW-6700-LONG',
      clause: `${C.applicationUnblock.mirrors}; ISO/IEC 7816-4 5.1`,
      rule: 'APPLICATION UNBLOCK with one byte before a correct line MAC is refused 6700 and the card stays LOCKED',
      needs: { ...needs, states: ['LOCKED'] },
      what: 'APPLICATION UNBLOCK of 5 bytes',
      expected: [SW.WRONG_LENGTH],
      provoke: (ctx) => issuerScript(ctx, 'issuerMac', { cla: 0x80, ins: C.applicationUnblock.ins, p1: 0, p2: 0 }, Uint8Array.of(0)),
    }),
    refusalCase({
      id: 'PUTDATA-SW-6A88-TAG',
      clause: `${C.putData.mirrors}; parameter tags`,
      rule: 'PUT DATA of tag DF7F, which names no parameter, with a correct line MAC is refused 6A88',
      needs: { ...needs, states: ISSUED },
      what: 'PUT DATA of tag DF7F',
      expected: [SW.REFERENCED_DATA_NOT_FOUND],
      provoke: (ctx) => issuerScript(ctx, 'issuerMac', putHeader(0xdf7f), fromHex('00000001')),
    }),
    refusalCase({
      id: 'PUTDATA-SW-6A80-CEILING',
      clause: `${C.putData.mirrors}; central-bank defaults`,
      rule: `PUT DATA of a single limit of ${MAX_SINGLE_LIMIT_FEN + 1} fen, above the 1000.00 yuan every card caps it at, with a correct line MAC is refused 6A80`,
      needs: { ...needs, states: ISSUED },
      what: 'PUT DATA of a single limit above the ceiling',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => issuerScript(ctx, 'issuerMac', putHeader(TAG.singleLimit), singleLimit.coder.encode(MAX_SINGLE_LIMIT_FEN + 1)),
    }),
    {
      id: 'PUTDATA-EX-SINGLE-LIMIT',
      clause: C.putData.mirrors,
      rule: 'PUT DATA of the single limit one fen lower answers 9000 and GET DATA reads the new value back; setting it back answers 9000',
      needs: { ...needs, states: ISSUED },
      async run(ctx) {
        await ctx.select();
        const limit = await readNumber(ctx, 'singleLimit');
        if (limit < 1) throw new CaseSkip('the single limit is 0');
        await withParameter(ctx, 'singleLimit', limit - 1, async () => {
          const read = await readNumber(ctx, 'singleLimit');
          check(read === limit - 1, `GET DATA reads the single limit as ${read} after PUT DATA of ${limit - 1}`);
        });
      },
    },
    {
      id: 'INITRECV-SW-9412-FULL',
      clause: `${C.initializeForReceive.mirrors}; balance cap`,
      rule: 'with the balance cap set by PUT DATA to the balance itself, INITIALIZE FOR RECEIVE is refused 9412 (no room to receive); the cap then goes back',
      needs: { ...needs, states: ISSUED },
      async run(ctx) {
        await ctx.select();
        const balance = await ctx.card.balance();
        await withParameter(ctx, 'balanceCap', balance, async () => {
          const r = await ctx.send(C.initializeForReceive, {});
          ctx.expectSw('INITIALIZE FOR RECEIVE with no room under the cap', r.sw, [SW.OVER_BALANCE_CAP]);
        });
      },
    },
    {
      id: 'INITPUR-SW-9415-COUNT',
      clause: `${C.initializeForPurchase.mirrors}; offline count limit`,
      rule: 'with the offline payment count limit set by PUT DATA to 0, INITIALIZE FOR PURCHASE of a coin the card holds is refused 9415; the limit then goes back',
      needs: { states: ISSUED, keys: ['cbMaster', 'coinSigning'] },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 100);
        await withParameter(ctx, 'offlineCountLimit', 0, async () => {
          const r = await ctx.send(C.initializeForPurchase, { keyIndex: 1, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID });
          ctx.expectSw('INITIALIZE FOR PURCHASE with no offline payment left', r.sw, [SW.OFFLINE_QUOTA_EXHAUSTED]);
        });
      },
    },
    {
      id: 'INITRENEW-SW-9415-AMOUNT',
      clause: `${C.initializeForRenewal.mirrors}; offline amount limit`,
      rule: 'with the offline amount limit set by PUT DATA to 0, INITIALIZE FOR RENEWAL of a coin the card holds is refused 9415; the limit then goes back',
      needs: { states: ISSUED, keys: ['cbMaster', 'coinSigning'] },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 100);
        await withParameter(ctx, 'offlineAmountLimit', 0, async () => {
          const r = await ctx.send(C.initializeForRenewal, renewalRequest(100));
          ctx.expectSw('INITIALIZE FOR RENEWAL with no offline amount left', r.sw, [SW.OFFLINE_QUOTA_EXHAUSTED]);
        });
      },
    },
    {
      id: 'INITRENEW-9000-EXPORT',
      clause: `${C.initializeForRenewal.mirrors}; ${C.exportCoins.mirrors}`,
      rule: 'INITIALIZE FOR RENEWAL of a coin expiring before the date is answered 9000, and the EXPORT COINS right after it exports that coin to the bank',
      needs: { states: ISSUED, keys: ['cbMaster', 'coinSigning'] },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 100);
        const before = await ctx.card.balance();
        const r = await ctx.send(C.initializeForRenewal, renewalRequest(100));
        ctx.expectSw('INITIALIZE FOR RENEWAL', r.sw, [SW.OK]);
        const e = await ctx.send(C.exportCoins, { confirmation: C.initializeForRenewal.decodeResponse(r.data).cardRandom });
        ctx.expectSw('EXPORT COINS after INITIALIZE FOR RENEWAL', e.sw, [SW.OK]);
        const { header } = C.exportCoins.decodeResponse(e.data);
        check(header.payeeIdentity === 'conformance-bank' && header.amountFen === 100, `the packet pays ${header.amountFen} fen to '${header.payeeIdentity}', not 100 fen to the bank`);
        check((await ctx.card.balance()) === before - 100, 'the balance did not go down by the coin exported');
      },
    },
    {
      id: 'INITXFER-SW-9415-AMOUNT',
      clause: `${C.initializeForTransfer.mirrors}; offline amount limit`,
      rule: 'with the offline amount limit set by PUT DATA to 0, INITIALIZE FOR TRANSFER of a coin the card holds is refused 9415; the limit then goes back',
      needs: { states: ISSUED, keys: ['cbMaster', 'coinSigning'] },
      async run(ctx) {
        await ctx.select();
        await loadOneCoin(ctx, 100);
        await withParameter(ctx, 'offlineAmountLimit', 0, async () => {
          const r = await ctx.send(C.initializeForTransfer, transferRequest(100));
          ctx.expectSw('INITIALIZE FOR TRANSFER with no offline amount left', r.sw, [SW.OFFLINE_QUOTA_EXHAUSTED]);
        });
      },
    },
  ];
}

/** SET STATUS through the secure channel: an AID too short, a status it does not set, and the termination itself. */
function setStatusCases(): ConformanceCase[] {
  const needs = { states: ISSUED as unknown as AppState[], keys: ['cbMaster'] as ProfileKeyName[] };
  return [
    refusalCase({
      id: 'SETSTATUS-SW-6A80-AID',
      clause: `${C.setStatus.mirrors}; AID of 5 to 16 bytes`,
      rule: 'SET STATUS through the secure channel with a 3-byte AID is refused 6A80 and the card is not terminated',
      needs,
      what: 'SET STATUS of a 3-byte AID',
      expected: [SW.INCORRECT_DATA],
      provoke: (ctx) => throughChannel(ctx, { cla: 0x80, ins: C.setStatus.ins, p1: 0x40, p2: 0xff, data: fromHex('F04452') }),
    }),
    refusalCase({
      id: 'SETSTATUS-SW-6A86-P2',
      clause: `${C.setStatus.mirrors}; GP 2.3 11.10 lifecycle coding`,
      rule: 'SET STATUS through the secure channel with P2 07 (a state other than TERMINATED) is refused 6A86 and the card keeps its state',
      needs,
      what: 'SET STATUS to 07',
      expected: [SW.INCORRECT_P1P2],
      provoke: (ctx) => throughChannel(ctx, { cla: 0x80, ins: C.setStatus.ins, p1: 0x40, p2: 0x07, data: DRMB_AID }),
    }),
    {
      id: 'SETSTATUS-EX-TERMINATE',
      clause: `${C.setStatus.mirrors}; D-RMB lifecycle`,
      rule: 'SET STATUS of the applet through the secure channel on a card with no coins answers 9000, and SELECT then answers 6A81 for good',
      needs: { states: ['BLANK'], keys: ['cbMaster'], destructive: true },
      async run(ctx) {
        const r = await throughChannel(ctx, { cla: 0x80, ins: C.setStatus.ins, p1: 0x40, p2: 0xff, data: DRMB_AID });
        ctx.expectSw('SET STATUS of a card with no coins', r.sw, [SW.OK]);
        const sel = await ctx.raw(C.select.encode({ aid: DRMB_AID }));
        ctx.expectSw('SELECT of the terminated applet', sel.sw, [SW.FUNCTION_NOT_SUPPORTED]);
      },
    },
  ];
}

/**
 * Loads 1-fen coins until the card refuses one more with 6A84 (coin slots full; the slot count, DGI E002,
 * is not readable): batches of 10, then single coins. Fails the case on any other refusal, skips past
 * 1000 coins. Returns how many it loaded.
 */
async function fillCoinSlots(ctx: CaseContext): Promise<number> {
  let loaded = 0;
  for (let batch = 10; batch >= 1; batch = batch === 10 ? 1 : 0) {
    for (;;) {
      if (loaded > 1000) throw new CaseSkip('the card took 1000 coins without running out of slots');
      await ctx.select();
      const r = await loadCoins(ctx, Array.from({ length: batch }, () => mintTestCoin(ctx, 1)));
      if (r.sw === SW.NOT_ENOUGH_MEMORY) break;
      ctx.expectSw(`CREDIT FOR LOAD of ${batch} coins after ${loaded}`, r.sw, [SW.OK]);
      loaded += batch;
    }
  }
  return loaded;
}

/** What a full card refuses: one more coin loaded, a receive nonce, a packet of more coins than the slots left. */
function coinSlotCases(): ConformanceCase[] {
  // Destructive: the card is left full of 1-fen coins.
  const needs = { states: ISSUED as unknown as AppState[], keys: ['cbMaster', 'coinSigning'] as ProfileKeyName[], destructive: true };
  return [
    {
      id: 'LOAD-SW-6A84-SLOTS',
      clause: `${C.creditForLoad.mirrors}; coin slots`,
      rule: 'loading 1-fen coins until the coin slots run out ends in 6A84, and the refused load credits nothing',
      needs,
      async run(ctx) {
        await ctx.select();
        await fillCoinSlots(ctx);
        const before = await ctx.snapshot();
        const r = await loadCoins(ctx, [mintTestCoin(ctx, 1)]);
        ctx.expectSw('CREDIT FOR LOAD of one coin on a full card', r.sw, [SW.NOT_ENOUGH_MEMORY]);
        await ctx.expectUnchanged(before, 'the refused load');
      },
    },
    {
      id: 'INITRECV-SW-6A84-SLOTS',
      clause: `${C.initializeForReceive.mirrors}; coin slots`,
      rule: 'with every coin slot taken, INITIALIZE FOR RECEIVE is refused 6A84',
      needs,
      async run(ctx) {
        await ctx.select();
        await fillCoinSlots(ctx);
        await ctx.select();
        const r = await ctx.send(C.initializeForReceive, {});
        ctx.expectSw('INITIALIZE FOR RECEIVE on a full card', r.sw, [SW.NOT_ENOUGH_MEMORY]);
      },
    },
    {
      id: 'IMPORT-SW-6A84-SLOTS',
      clause: `${C.importCoins.mirrors}; coin slots`,
      rule: 'with one coin slot left (a full card after paying one coin), a packet of two coins is refused 6A84 and nothing is credited',
      needs: { ...needs, keys: ['cbMaster', 'coinSigning', 'kgcSign', 'kgcEncrypt', 'trustAnchors'] },
      async run(ctx) {
        await ctx.select();
        await fillCoinSlots(ctx);
        await ctx.select();
        await purchaseAndCheck(ctx, 1);
        await ctx.select();
        const { packet } = await packetToCard(ctx, [1, 1]);
        const before = await ctx.snapshot();
        const r = await ctx.send(C.importCoins, { packet: exportPacketCoder.decode(packet) });
        ctx.expectSw('IMPORT COINS of two coins with one slot left', r.sw, [SW.NOT_ENOUGH_MEMORY]);
        await ctx.expectUnchanged(before, 'the refused import');
      },
    },
  ];
}

/** What a card keeps for a bounded number of transactions or attempts, found by going past the bound. */
function boundCases(): ConformanceCase[] {
  return [
    {
      id: 'PROVE-SW-6A83-RETENTION',
      clause: `${C.getTransactionProve.mirrors}; proof retention`,
      rule: 'after enough later transactions (at most 64 loads) the proof of a load is no longer retained: GET TRANSACTION PROVE of it then answers 6A83, never 9406 (which says it did not happen)',
      // Destructive: up to 65 coins of 1 fen take coin slots for good.
      needs: { states: ISSUED, keys: ['cbMaster', 'coinSigning'], destructive: true },
      async run(ctx) {
        await ctx.select();
        const first = await loadOneCoin(ctx, 1);
        for (let later = 1; later <= 64; later++) {
          await loadOneCoin(ctx, 1);
          await ctx.select();
          const r = await ctx.send(C.getTransactionProve, { transactionType: 0x02, counter: first.counter });
          if (r.sw === SW.OK) continue;
          ctx.expectSw(`GET TRANSACTION PROVE of the load at counter ${first.counter} after ${later} later loads`, r.sw, [SW.RECORD_NOT_FOUND]);
          return;
        }
        throw new CaseSkip('the card still proves a load 64 transactions back');
      },
    },
    {
      id: 'INITUPD-SW-6983-BLOCKED',
      clause: `${C.initializeUpdate.mirrors}; GP 2.3 E.4.3 authentication failures`,
      rule: 'EXTERNAL AUTHENTICATE with a wrong host cryptogram, again and again (at most 255 times), ends with INITIALIZE UPDATE of that key set refused 6983',
      needs: { states: ISSUED, keys: ['cbMaster'], destructive: true },
      async run(ctx) {
        const kvn = KEY_VERSIONS.PERSONALIZATION;
        for (let attempt = 1; attempt <= 255; attempt++) {
          await ctx.select();
          const init = await ctx.raw(C.initializeUpdate.encode({ keyVersion: kvn, hostChallenge: new Uint8Array(8) }));
          if (init.sw === SW.AUTHENTICATION_METHOD_BLOCKED) return;
          ctx.expectSw(`INITIALIZE UPDATE after ${attempt - 1} failed authentications`, init.sw, [SW.OK]);
          await ctx.select();
          const { sw } = await RawScp03Session.open(ctx, kvn, SECURITY_LEVELS.C_MAC, (right) => right.map((b) => b ^ 0xff));
          ctx.expectSw('EXTERNAL AUTHENTICATE with a wrong host cryptogram', sw, [SW.AUTHENTICATION_FAILED, SW.AUTHENTICATION_METHOD_BLOCKED]);
        }
        throw new CaseSkip('the key set took 255 failed authentications without blocking');
      },
    },
  ];
}

/** GET RESPONSE after a response the card could not send in one piece (ISO/IEC 7816-4 5.3.4, 11.6.1). */
function getResponseCases(): ConformanceCase[] {
  /** INITIALIZE FOR RECEIVE asked with Le 02: a persistent answer longer than Le stays pending behind 61xx. Returns its first bytes and how many wait. */
  const pending = async (ctx: CaseContext) => {
    await ctx.select();
    const r = await ctx.raw({ ...C.initializeForReceive.encode({}), le: 2 });
    if (r.sw !== SW.OK && r.sw >> 8 !== 0x61 && C.initializeForReceive.allows(r.sw)) throw new CaseSkip(`INITIALIZE FOR RECEIVE is refused ${formatSw(r.sw)} on this card, so no answer waits`);
    check(r.sw >> 8 === 0x61 && r.data.length === 2, `INITIALIZE FOR RECEIVE with Le 02 answered ${r.data.length} bytes and ${r.sw.toString(16).toUpperCase()}, not its first 2 bytes and 61xx`);
    return { first: r.data, waiting: r.sw & 0xff || 256 };
  };
  const getResponse = (ctx: CaseContext, le: number, p1 = 0, data = new Uint8Array(0)) => ctx.raw({ cla: 0x00, ins: 0xc0, p1, p2: 0, data, le });
  const clause = `${C.getResponse.mirrors}; ISO/IEC 7816-4 5.3.4`;
  const needs = { states: ISSUED as unknown as AppState[] };
  return [
    {
      id: 'GETRESP-EX-AFTER-61',
      clause,
      rule: 'INITIALIZE FOR RECEIVE with Le 02 answers 2 bytes and 61xx; GET RESPONSE with Le xx then answers the rest with 9000, and the parts make one well-formed answer',
      needs,
      async run(ctx) {
        const p = await pending(ctx);
        const r = await getResponse(ctx, p.waiting);
        ctx.expectSw('GET RESPONSE with the announced length', r.sw, [SW.OK]);
        check(r.data.length === p.waiting, `GET RESPONSE gave ${r.data.length} bytes after 61${p.waiting.toString(16).toUpperCase()}`);
        C.initializeForReceive.decodeResponse(concatBytes(p.first, r.data));
      },
    },
    {
      id: 'GETRESP-SW-6CXX-SHORT-LE',
      clause,
      rule: 'after 61xx, GET RESPONSE with Le 01, shorter than what waits, is answered 6Cxx with the exact length, and the bytes stay for a GET RESPONSE with that Le',
      needs,
      async run(ctx) {
        const p = await pending(ctx);
        if (p.waiting < 2) throw new CaseSkip('only one byte waits');
        const r = await getResponse(ctx, 1);
        ctx.expectSw('GET RESPONSE with Le 01', r.sw, [swWrongLe(p.waiting)]);
        const again = await getResponse(ctx, p.waiting);
        ctx.expectSw('GET RESPONSE with the exact length', again.sw, [SW.OK]);
        check(again.data.length === p.waiting, `GET RESPONSE gave ${again.data.length} bytes where 6C said ${p.waiting}`);
      },
    },
    {
      id: 'GETRESP-SW-6A86-P1',
      clause,
      rule: 'after 61xx, GET RESPONSE with P1 01 is refused 6A86',
      needs,
      async run(ctx) {
        await pending(ctx);
        const r = await getResponse(ctx, 256, 0x01);
        ctx.expectSw('GET RESPONSE with P1 01', r.sw, [SW.INCORRECT_P1P2]);
      },
    },
    {
      id: 'GETRESP-SW-6700-DATA',
      clause,
      rule: 'after 61xx, GET RESPONSE carrying a data field (it is a case 2 command) is refused 6700',
      needs,
      async run(ctx) {
        await pending(ctx);
        const r = await getResponse(ctx, 256, 0, Uint8Array.of(0));
        ctx.expectSw('GET RESPONSE with a data field', r.sw, [SW.WRONG_LENGTH]);
      },
    },
  ];
}

/**
 * The listed status words no case provokes, by command name, and why; docs/conformance.md prints them and
 * a test checks that a run on the simulator leaves exactly these unanswered.
 */
export const UNPROVOKED: Readonly<Record<string, { sw: string[]; why: string }>> = {
  'GET CHALLENGE': { sw: ['6985'], why: 'refused only when TERMINATED, where nothing is selected and the card OS may answer 6D00 instead' },
  'GET DATA': { sw: ['6985'], why: 'as GET CHALLENGE' },
  'INITIALIZE UPDATE': { sw: ['6985'], why: 'as GET CHALLENGE' },
};

/** Every case of this file. */
export function listedSwCases(): ConformanceCase[] {
  return [...storeDataCases(), ...externalAuthenticateCases(), ...pinCases(), ...valueCases(), ...issuerScriptCases(), ...setStatusCases(), ...coinSlotCases(), ...boundCases(), ...getResponseCases()];
}
