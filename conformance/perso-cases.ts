/**
 * @module Cases of how a card takes what it is given: IMPORT COINS refusing a packet that is well made
 * but not for it (another payee, a coin serial it already holds, more than its cap leaves room for),
 * each leaving the card as it was.
 */
import * as C from '../applet-spec/commands.js';
import { SW } from '../applet-spec/status-words.js';
import { type Coin, exportPacketCoder } from '../applet-spec/value-formats.js';
import type { CaseContext } from './case-context.js';
import { CaseSkip, type ConformanceCase } from './conformance-case.js';
import { refusalCase } from './spec-cases.js';
import { loadAndCheck, mintTestCoin, packetToCard, readNumber } from './value-moves.js';

const ISSUED = ['ISSUED'] as const;
const RECEIVE_KEYS = ['coinSigning', 'kgcSign', 'kgcEncrypt'] as const;
/** An identity no card of a test key set is issued under. */
const OTHER_PAYEE = 'conformance-other-payee';

/** IMPORT COINS of packet bytes, status word never thrown. */
function sendImport(ctx: CaseContext, packet: Uint8Array) {
  return ctx.send(C.importCoins, { packet: exportPacketCoder.decode(packet) });
}

/** IMPORT COINS refusals of packets signed and encrypted right, but not ones this card may take. */
function importRefusalCases(): ConformanceCase[] {
  let held: Coin | undefined;
  return [
    refusalCase({
      id: 'IMPORT-SW-9417-PAYEE',
      clause: `${C.importCoins.mirrors}; payee`,
      rule: "a packet made for one of the card's receive nonces but addressed (and its body encrypted) to another identity is refused 9417; nothing is credited",
      needs: { states: ISSUED, keys: RECEIVE_KEYS },
      what: 'IMPORT COINS',
      expected: [SW.WRONG_PAYEE],
      provoke: async (ctx) => sendImport(ctx, (await packetToCard(ctx, [100], undefined, OTHER_PAYEE)).packet),
    }),
    refusalCase({
      id: 'IMPORT-SW-9411-DUPLICATE',
      clause: `${C.importCoins.mirrors}; coin serials`,
      rule: 'a packet paying the card a coin it already holds (loaded just before, same serial and signature) is refused 9411; nothing is credited',
      needs: { states: ISSUED, keys: ['cbMaster', ...RECEIVE_KEYS] },
      what: 'IMPORT COINS',
      expected: [SW.DUPLICATE_COIN_SERIAL],
      prepare: async (ctx) => {
        const room = (await readNumber(ctx, 'balanceCap')) - (await ctx.card.balance());
        if (room < 200) throw new CaseSkip(`the card has room for ${room} fen only under its balance cap`);
        held = mintTestCoin(ctx, 100);
        await loadAndCheck(ctx, [held]);
      },
      provoke: async (ctx) => {
        const coin = held!;
        return sendImport(ctx, (await packetToCard(ctx, [coin.body.denominationFen], () => [coin])).packet);
      },
    }),
    refusalCase({
      id: 'IMPORT-SW-9412-CAP',
      clause: `${C.importCoins.mirrors}; balance cap`,
      rule: 'a packet paying one fen more than the room INITIALIZE FOR RECEIVE reports under the balance cap is refused 9412; nothing is credited',
      needs: { states: ISSUED, keys: RECEIVE_KEYS },
      what: 'IMPORT COINS',
      expected: [SW.OVER_BALANCE_CAP],
      provoke: async (ctx) => sendImport(ctx, (await packetToCard(ctx, (room) => [room + 1])).packet),
    }),
  ];
}

/** Every case of this file. */
export function persoCases(): ConformanceCase[] {
  return [...importRefusalCases()];
}
