/**
 * @module Cases of how a card takes what it is given: STORE DATA through the secure channel of a stage
 * refusing a DGI of the other stage and a completion (DGI 7FFF) before every mandatory DGI is stored,
 * and IMPORT COINS refusing a packet that is well made but not for it (another payee, a coin serial it
 * already holds, more than its cap leaves room for); each leaves the card as it was.
 */
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import * as C from '../applet-spec/commands.js';
import { DGIS, type DgiName, type DgiValue, STORE_DATA_P1 } from '../applet-spec/dgis.js';
import type { AppState } from '../applet-spec/lifecycle.js';
import { dataOf, swOf } from '../host/transport.js';
import { SW } from '../applet-spec/status-words.js';
import { type Coin, exportPacketCoder } from '../applet-spec/value-formats.js';
import type { CaseContext } from './case-context.js';
import { CaseSkip, type ConformanceCase, type ProfileKeyName } from './conformance-case.js';
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

/** Each personalization stage: the state it runs in, its SCP03 key version and the master that key set derives from. */
const STAGES = {
  BLANK: { stage: 1, kvn: KEY_VERSIONS.PERSONALIZATION, key: 'cbMaster' },
  PREPARED: { stage: 2, kvn: KEY_VERSIONS.ISSUANCE, key: 'issuanceMaster' },
} as const satisfies Partial<Record<AppState, { stage: 1 | 2; kvn: number; key: ProfileKeyName }>>;

/**
 * Sends one clear DGI as STORE DATA block 00 (the last block when `last`) through a session opened
 * with the stage's key set at level 33, as personalization does (GP 2.3 11.11, EMV CPS 4.3.4).
 */
async function storeOneDgi<N extends DgiName>(ctx: CaseContext, state: keyof typeof STAGES, name: N, value: DgiValue<N>, last: boolean) {
  const { kvn } = STAGES[state];
  await ctx.select();
  const channel = await ctx.card.openSecureChannel(ctx.scpKeys(kvn), { kvn });
  const def = DGIS[name];
  const bytes = (def.coder as { encode(v: DgiValue<N>): Uint8Array }).encode(value);
  const flags = STORE_DATA_P1.DGI_FORMAT | (last ? STORE_DATA_P1.LAST_BLOCK : 0);
  const r = await channel.transmit(C.storeData.encodeBytes({ flags, block: 0, dgis: [{ dgi: def.dgi, value: bytes }] }, { secure: false }));
  return { sw: swOf(r), data: dataOf(r) };
}

/** STORE DATA refusals within an open stage: a DGI of the other stage, a completion too early. */
function storeDataCases(): ConformanceCase[] {
  const label = new TextEncoder().encode('D-RMB');
  return [
    refusalCase({
      id: 'STORE-SW-6985-STAGE-BLANK',
      clause: `${C.storeData.mirrors}; D-RMB personalization stages`,
      rule: 'on a blank card, through a session of the personalization key set (30), a stage-2 DGI (9010 PIN try limit) is refused 6985 and the card stays BLANK',
      needs: { states: ['BLANK'], keys: [STAGES.BLANK.key] },
      what: 'STORE DATA of DGI 9010 in stage 1',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      provoke: (ctx) => storeOneDgi(ctx, 'BLANK', 'pinTryLimit', { tryLimit: 3 }, true),
    }),
    refusalCase({
      id: 'STORE-SW-6985-STAGE-PREPARED',
      clause: `${C.storeData.mirrors}; D-RMB personalization stages`,
      rule: 'on a prepared card, through a session of the issuance key set (31), a stage-1 DGI (9102 FCI) is refused 6985 and the card stays PREPARED',
      needs: { states: ['PREPARED'], keys: [STAGES.PREPARED.key] },
      what: 'STORE DATA of DGI 9102 in stage 2',
      expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
      provoke: (ctx) => storeOneDgi(ctx, 'PREPARED', 'fci', { applicationLabel: label }, true),
    }),
    ...(['BLANK', 'PREPARED'] as const).map((state) =>
      refusalCase({
        id: `STORE-SW-6985-INCOMPLETE-${state}`,
        clause: `${C.storeData.mirrors}; DGI 7FFF completion`,
        rule: `on a ${state.toLowerCase()} card, the completion DGI 7FFF sent before any mandatory DGI of stage ${STAGES[state].stage} is refused 6985 and the card stays ${state}`,
        needs: { states: [state], keys: [STAGES[state].key] },
        what: `STORE DATA of DGI 7FFF alone in stage ${STAGES[state].stage}`,
        expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
        provoke: (ctx) => storeOneDgi(ctx, state, 'completion', {}, true),
      }),
    ),
  ];
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
export function stageAndImportCases(): ConformanceCase[] {
  return [...storeDataCases(), ...importRefusalCases()];
}
