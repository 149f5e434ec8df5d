/**
 * @module Cases of what a card must remember, and forget, within a session: challenges and card randoms
 * never repeat; a challenge serves one line MAC; a command that must follow another must follow it
 * directly; SELECT forgets the verified PIN and closes the secure channel; and the MACs bind what the
 * card then acts on (the coins of a load, the date and terminal sequence of a purchase). A card that
 * passes the single-refusal cases can still break these.
 */
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { SECURITY_LEVELS } from '../applet-spec/commands/external-authenticate.js';
import * as C from '../applet-spec/commands.js';
import { DATA_OBJECTS } from '../applet-spec/data-objects.js';
import { SW } from '../applet-spec/status-words.js';
import { coinListCoder } from '../applet-spec/value-formats.js';
import { concatBytes } from '../base/bytes.js';
import { fromHex, hex } from '../base/hex.js';
import { CLA_SECURE_MESSAGING } from '../applet-spec/define-command.js';
import type { CaseContext } from './case-context.js';
import { check, type ConformanceCase, type ProfileKeyName } from './conformance-case.js';
import { RawScp03Session } from './raw-scp03-session.js';
import { refusalCase } from './spec-cases.js';
import { CONFORMANCE_TERMINAL_ID, DATE, loadMac2, loadOneCoin, loadSessionKey, mintTestCoin, purchaseMac1, readNumber, TIME } from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const VALUE_KEYS: ProfileKeyName[] = ['cbMaster', 'coinSigning'];

/** Fresh randomness: GET CHALLENGE, INITIALIZE UPDATE's card challenge and INITIALIZE FOR LOAD's card random never repeat. */
function freshnessCases(): ConformanceCase[] {
  return [
    {
      id: 'INV-CHALLENGE-FRESH',
      clause: 'GET CHALLENGE (ISO/IEC 7816-4 11.5.3); GP Amd D 6.2.2 card challenge; JR/T 0025.2 card random',
      rule: 'four GET CHALLENGEs, four INITIALIZE UPDATE card challenges and four INITIALIZE FOR LOAD card randoms are each all different',
      needs: { states: ISSUED },
      async run(ctx) {
        const distinct = (what: string, values: Uint8Array[]) => {
          const seen = new Set(values.map((v) => hex(v)));
          check(seen.size === values.length, `${what} repeated: ${values.map((v) => hex(v)).join(', ')}`);
        };
        const challenges: Uint8Array[] = [];
        const cardChallenges: Uint8Array[] = [];
        const loadRandoms: Uint8Array[] = [];
        for (let i = 0; i < 4; i++) {
          await ctx.select();
          const g = await ctx.raw(fromHex('0084000008'));
          ctx.expectSw('GET CHALLENGE', g.sw, [SW.OK]);
          challenges.push(g.data);
          const u = await ctx.send(C.initializeUpdate, { keyVersion: KEY_VERSIONS.PERSONALIZATION, hostChallenge: new Uint8Array(8) });
          ctx.expectSw('INITIALIZE UPDATE', u.sw, [SW.OK]);
          cardChallenges.push(C.initializeUpdate.decodeResponse(u.data).cardChallenge);
          await ctx.select();
          const l = await ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: 1, terminalId: CONFORMANCE_TERMINAL_ID });
          ctx.expectSw('INITIALIZE FOR LOAD', l.sw, [SW.OK]);
          loadRandoms.push(C.initializeForLoad.decodeResponse(l.data).cardRandom);
        }
        distinct('GET CHALLENGE', challenges);
        distinct('the INITIALIZE UPDATE card challenge', cardChallenges);
        distinct('the INITIALIZE FOR LOAD card random', loadRandoms);
      },
    },
    {
      id: 'INV-LINEMAC-ONCE',
      clause: 'JR/T 0025.2 issuer script line MAC',
      rule: 'a PUT DATA taken with a line MAC over a GET CHALLENGE is refused when sent again as it was (6985 or 9302): a challenge serves one command',
      needs: { states: ISSUED, keys: ['cbMaster'] },
      async run(ctx) {
        await ctx.select();
        const limit = await readNumber(ctx, 'singleLimit');
        const d = DATA_OBJECTS.singleLimit;
        const ch = await ctx.raw(fromHex('0084000008'));
        ctx.expectSw('GET CHALLENGE', ch.sw, [SW.OK]);
        const header = Uint8Array.of(0x04, C.putData.ins, d.tag >> 8, d.tag & 0xff);
        const body = d.coder.encode(limit);
        const mac = await ctx.lineMacSigner('issuerMac')(ch.data, header, body);
        const apdu = { cla: 0x04, ins: C.putData.ins, p1: d.tag >> 8, p2: d.tag & 0xff, data: concatBytes(body, mac) };
        const first = await ctx.raw(apdu);
        ctx.expectSw('PUT DATA of the single limit as it is, with its line MAC', first.sw, [SW.OK]);
        const again = await ctx.raw(apdu);
        ctx.expectSw('the same PUT DATA sent again', again.sw, [SW.CONDITIONS_OF_USE_NOT_SATISFIED, SW.MAC_INVALID]);
      },
    },
  ];
}

/** A command that must follow another is refused when anything comes between them, and nothing moves. */
function interleavedCases(): ConformanceCase[] {
  const between = () => fromHex('805C000204'); // GET BALANCE: reads, changes nothing
  return [
    refusalCase({
      id: 'LOAD-SW-6985-INTERLEAVED',
      clause: `${C.creditForLoad.mirrors}; command order`,
      rule: 'CREDIT FOR LOAD with a right MAC2, but with GET BALANCE between it and its INITIALIZE FOR LOAD, is refused 6985; nothing is credited',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'CREDIT FOR LOAD after GET BALANCE',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      provoke: async (ctx) => {
        const coins = [mintTestCoin(ctx, 1)];
        const init = await ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: 1, terminalId: CONFORMANCE_TERMINAL_ID });
        ctx.expectSw('INITIALIZE FOR LOAD', init.sw, [SW.OK]);
        const r = C.initializeForLoad.decodeResponse(init.data);
        const mac2 = loadMac2(loadSessionKey(ctx, r.cardRandom, r.counter), 1, coinListCoder.encode(coins));
        await ctx.raw(between());
        return ctx.send(C.creditForLoad, { date: DATE, time: TIME, coins, mac2 });
      },
    }),
    refusalCase({
      id: 'PUR-SW-6985-INTERLEAVED',
      clause: `${C.debitForPurchase.mirrors}; command order`,
      rule: 'DEBIT FOR PURCHASE with a right MAC1, but with GET BALANCE between it and its INITIALIZE FOR PURCHASE, is refused 6985; no coin leaves',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'DEBIT FOR PURCHASE after GET BALANCE',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: (ctx) => debitWith(ctx, { between: true }),
    }),
    refusalCase({
      id: 'EXPORT-SW-6985-INTERLEAVED',
      clause: `${C.exportCoins.mirrors}; command order`,
      rule: 'EXPORT COINS confirming the right card random, but with GET BALANCE between it and its INITIALIZE FOR TRANSFER, is refused 6985; nothing leaves the card',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'EXPORT COINS after GET BALANCE',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: async (ctx) => {
        const init = await ctx.send(C.initializeForTransfer, { amountFen: 100, payeeIdentity: 'conformance-payee', payeeNonce: fromHex('0102030405060708'), withdrawalCode: '0'.repeat(16), date: DATE, time: TIME });
        ctx.expectSw('INITIALIZE FOR TRANSFER', init.sw, [SW.OK]);
        await ctx.raw(between());
        return ctx.send(C.exportCoins, { confirmation: C.initializeForTransfer.decodeResponse(init.data).cardRandom });
      },
    }),
  ];
}

/**
 * INITIALIZE FOR PURCHASE of 1.00 yuan, then DEBIT FOR PURCHASE with a MAC1 made as a PSAM makes it,
 * under the card's purchase key derived from the profile's master, over what `macOver` changes (another date, another terminal
 * sequence); `between` sends GET BALANCE before the debit.
 */
async function debitWith(ctx: CaseContext, o: { between?: boolean; macOver?: { date?: string; terminalSequence?: number } }) {
  const init = await ctx.send(C.initializeForPurchase, { keyIndex: 1, amountFen: 100, terminalId: CONFORMANCE_TERMINAL_ID });
  ctx.expectSw('INITIALIZE FOR PURCHASE', init.sw, [SW.OK]);
  const ch = C.initializeForPurchase.decodeResponse(init.data);
  const mac1 = purchaseMac1(ctx, { cardRandom: ch.cardRandom, counter: ch.counter, terminalSequence: 1, amountFen: 100, date: DATE, time: TIME, ...o.macOver });
  if (o.between) await ctx.raw(fromHex('805C000204'));
  return ctx.send(C.debitForPurchase, { terminalSequence: 1, date: DATE, time: TIME, unpredictableNumber: new Uint8Array(8), payeeIdentity: 'conformance-merchant', mac1 });
}

/** The transaction MACs bind what the card acts on. */
function bindingCases(): ConformanceCase[] {
  return [
    refusalCase({
      id: 'LOAD-SW-9302-COINS',
      clause: `${C.creditForLoad.mirrors}; MAC2 over SM3 of the coin list`,
      rule: 'CREDIT FOR LOAD with a MAC2 made over other coins of the same amount than those it carries is refused 9302; nothing is credited',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'CREDIT FOR LOAD of coins MAC2 does not cover',
      expected: [SW.MAC_INVALID],
      provoke: async (ctx) => {
        const init = await ctx.send(C.initializeForLoad, { keyIndex: 1, amountFen: 1, terminalId: CONFORMANCE_TERMINAL_ID });
        ctx.expectSw('INITIALIZE FOR LOAD', init.sw, [SW.OK]);
        const r = C.initializeForLoad.decodeResponse(init.data);
        const mac2 = loadMac2(loadSessionKey(ctx, r.cardRandom, r.counter), 1, coinListCoder.encode([mintTestCoin(ctx, 1)]));
        return ctx.send(C.creditForLoad, { date: DATE, time: TIME, coins: [mintTestCoin(ctx, 1)], mac2 });
      },
    }),
    refusalCase({
      id: 'PUR-SW-9302-DATE',
      clause: `${C.debitForPurchase.mirrors}; MAC1 over the date and time`,
      rule: 'DEBIT FOR PURCHASE whose MAC1 is right but made over another date than the debit carries is refused 9302; no coin leaves',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'DEBIT FOR PURCHASE with a MAC1 over another date',
      expected: [SW.MAC_INVALID],
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: (ctx) => debitWith(ctx, { macOver: { date: '20261123' } }),
    }),
    refusalCase({
      id: 'PUR-SW-9302-SEQUENCE',
      clause: `${C.debitForPurchase.mirrors}; session key over the terminal sequence`,
      rule: 'DEBIT FOR PURCHASE whose MAC1 is made under the session key of another terminal sequence number than the debit carries is refused 9302; no coin leaves',
      needs: { states: ISSUED, keys: VALUE_KEYS },
      what: 'DEBIT FOR PURCHASE with a MAC1 for another terminal sequence',
      expected: [SW.MAC_INVALID],
      prepare: async (ctx) => void (await loadOneCoin(ctx, 100)),
      provoke: (ctx) => debitWith(ctx, { macOver: { terminalSequence: 2 } }),
    }),
  ];
}

/** SELECT starts a new session: the PIN is no longer verified and an open secure channel is closed. */
function selectResetCases(): ConformanceCase[] {
  return [
    refusalCase({
      id: 'READCOIN-SW-6982-RESELECT',
      clause: `${C.readCoinRecord.mirrors}; JR/T 0025.2 PIN state ends with the selection`,
      rule: 'READ RECORD of the coins after VERIFY and then a new SELECT is refused 6982: the PIN is verified for one selection only',
      needs: { states: ISSUED, pin: true },
      what: 'READ RECORD (coins) after a new SELECT',
      expected: [SW.SECURITY_STATUS_NOT_SATISFIED],
      provoke: async (ctx) => {
        await ctx.verifyPin();
        await ctx.raw(C.select.encode({ aid: DRMB_AID }));
        return ctx.send(C.readCoinRecord, { record: 1 });
      },
    }),
    refusalCase({
      id: 'INV-SCP-CLOSED-BY-SELECT',
      clause: 'GlobalPlatform Card Specification 2.3 10.2: selection ends the secure channel session',
      rule: 'a command wrapped right in a session opened before a new SELECT is refused 6982',
      needs: { states: ISSUED, keys: ['cbMaster'] },
      what: 'a wrapped command after SELECT',
      expected: [SW.SECURITY_STATUS_NOT_SATISFIED],
      provoke: async (ctx) => {
        const s = await RawScp03Session.openOrFail(ctx, KEY_VERSIONS.PERSONALIZATION, SECURITY_LEVELS.C_MAC);
        const intact = await s.send(s.wrapProbe());
        ctx.expectSw('the intact probe before SELECT', intact.sw, [SW.REFERENCED_DATA_NOT_FOUND]);
        await ctx.raw(C.select.encode({ aid: DRMB_AID }));
        const probe = s.wrapProbe();
        check((probe[0] & CLA_SECURE_MESSAGING) !== 0, 'the probe is not wrapped');
        return s.send(probe);
      },
    }),
  ];
}

/** Every case of this file. */
export function sessionRuleCases(): ConformanceCase[] {
  return [...freshnessCases(), ...interleavedCases(), ...bindingCases(), ...selectResetCases()];
}
