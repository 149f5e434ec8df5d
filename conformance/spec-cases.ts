/**
 * @module Cases derived from the command definitions in applet-spec/commands/, not retyped: for every
 * command its runnable examples, the generic status words its definition implies (wrong length for a
 * fixed layout, a P1/P2 outside `allowed`, a class it does not take, a state outside `states`, a
 * missing PIN or secure channel, a bad line or transaction MAC, a broken command order), each followed
 * by a check that the readable state did not change.
 */
import { type CommandApdu, decodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { fromHex } from '../base/hex.js';
import { COMMANDS, type CommandId, commandForHeader } from '../applet-spec/commands.js';
import { verify } from '../applet-spec/commands/verify.js';
import { CLA_SECURE_MESSAGING, type Command, commandsBefore, type HeaderByte, type ParamDefinition } from '../applet-spec/define-command.js';
import { APP_STATE_NAMES, type AppState } from '../applet-spec/lifecycle.js';
import { SW } from '../applet-spec/status-words.js';
import { redactCommand } from '../host/redact.js';
import type { CaseContext } from './case-context.js';
import { type CaseNeeds, check, type ConformanceCase } from './conformance-case.js';

/** The ID prefix of each command's cases: stable, short, and never reused for another command. */
export const COMMAND_PREFIXES: Readonly<Record<CommandId, string>> = {
  select: 'SEL',
  getResponse: 'GETRESP',
  getChallenge: 'GETCHAL',
  getData: 'GETDATA',
  initializeUpdate: 'INITUPD',
  externalAuthenticate: 'EXTAUTH',
  storeData: 'STORE',
  verify: 'VERIFY',
  changePin: 'CHGPIN',
  reloadPin: 'RELPIN',
  initializeForLoad: 'INITLOAD',
  creditForLoad: 'LOAD',
  getBalance: 'GETBAL',
  readCoinRecord: 'READCOIN',
  initializeForPurchase: 'INITPUR',
  debitForPurchase: 'PUR',
  initializeForTransfer: 'INITXFER',
  initializeForRenewal: 'INITRENEW',
  exportCoins: 'EXPORT',
  initializeForReceive: 'INITRECV',
  importCoins: 'IMPORT',
  readLogRecord: 'READLOG',
  getTransactionProve: 'PROVE',
  putData: 'PUTDATA',
  applicationBlock: 'BLOCK',
  applicationUnblock: 'UNBLOCK',
  setStatus: 'SETSTATUS',
};

type AnyCommand = Command<any, any>;

export function prefixOf(c: AnyCommand): string {
  return COMMAND_PREFIXES[c.id as CommandId];
}

/** The command a case is about, from its ID's prefix (INITLOAD-SW-6A86-P1 is about INITIALIZE FOR LOAD); undefined for an invariant. */
export function commandOfCase(id: string): CommandId | undefined {
  const prefix = id.split('-')[0];
  return (Object.keys(COMMAND_PREFIXES) as CommandId[]).find((k) => COMMAND_PREFIXES[k] === prefix);
}

/** States in the order the runner should prefer them: an issued card is what most targets have. */
const STATE_PREFERENCE: readonly AppState[] = ['ISSUED', 'LOCKED', 'PREPARED', 'BLANK', 'TERMINATED'];
export function preferred(states: readonly AppState[]): AppState[] {
  return STATE_PREFERENCE.filter((s) => states.includes(s));
}

/**
 * A refusal: after `prepare` (e.g. loading a coin so that a payment gets as far as the check) and a
 * snapshot, `provoke` sends what the rule forbids; the card must answer one of `expected` and leave
 * every readable value as it was.
 */
export function refusalCase(o: {
  id: string;
  clause: string;
  rule: string;
  needs: CaseNeeds;
  what: string;
  expected: readonly number[];
  prepare?: (ctx: CaseContext) => Promise<void>;
  provoke: (ctx: CaseContext) => Promise<{ sw: number; data: Uint8Array }>;
}): ConformanceCase {
  return {
    id: o.id,
    clause: o.clause,
    rule: o.rule,
    needs: o.needs,
    async run(ctx) {
      if (o.prepare) {
        await ctx.select();
        await o.prepare(ctx);
      }
      const before = await ctx.snapshot();
      const r = await o.provoke(ctx);
      ctx.expectSw(o.what, r.sw, o.expected, r.data);
      await ctx.expectUnchanged(before, `the refused ${o.what}`);
    },
  };
}

const isParam = (b: HeaderByte<string>): b is ParamDefinition => typeof b === 'object';

/** The first example's APDU, decoded: a well-formed request to mutate. */
function exampleCommand(c: AnyCommand): CommandApdu {
  return decodeCommandApdu(fromHex(c.examples[0].apdu));
}

/** The example with the secure-messaging CLA bit cleared (a plain command where a protected one is required). */
function withCla(a: CommandApdu, cla: number): CommandApdu {
  return { ...a, cla };
}

/** Nothing but the card has to be ready for this command: no predecessor, no MAC, no secure channel. */
function plainlyReachable(c: AnyCommand): boolean {
  const s = c.security;
  return !s.after && !s.lineMac && !s.transactionMac && !s.channel && c.secureMessaging !== 'required' && c.id !== 'getResponse';
}

/** What a plainly reachable command needs before it: a verified PIN where the definition requires one always. */
function readyNeeds(c: AnyCommand): CaseNeeds {
  return c.security.pin === 'always' ? { pin: true } : {};
}
async function ready(ctx: CaseContext, c: AnyCommand): Promise<void> {
  if (c.security.pin === 'always') await ctx.verifyPin();
}

/** An example can run on any card when nothing in it is card-specific: no MAC, no secret, no predecessor. */
function exampleRunsLive(c: AnyCommand, apdu: string): boolean {
  return plainlyReachable(c) && !redactCommand(fromHex(apdu)).redacted;
}

function exampleCases(c: AnyCommand): ConformanceCase[] {
  const p = prefixOf(c);
  return c.examples.flatMap((ex, i) => {
    if (!exampleRunsLive(c, ex.apdu)) return [];
    const changes = c.persistent === 'value' || c.persistent === 'keys' || c.persistent === 'data';
    const rule = `the example "${ex.title}" is answered 9000 with the response layout, or a status word the definition lists${changes ? '' : ', and changes nothing readable'}`;
    return [
      {
        id: `${p}-EX-${i + 1}`,
        clause: c.mirrors,
        rule,
        needs: { states: preferred(c.states), ...readyNeeds(c) },
        async run(ctx: CaseContext) {
          const before = await ctx.snapshot();
          await ready(ctx, c);
          const r = await ctx.raw(fromHex(ex.apdu));
          check(c.allows(r.sw), `${c.name} example "${ex.title}" answered ${r.sw.toString(16).toUpperCase()}, which the definition does not list`);
          if (r.sw === SW.OK || r.sw === SW.SELECTED_FILE_INVALIDATED) {
            try {
              c.decodeResponse(r.data);
            } catch (e) {
              check(false, `${c.name} answered 9000 with data that does not decode: ${(e as Error).message}`);
            }
          }
          if (!changes) await ctx.expectUnchanged(before, `${c.name} example "${ex.title}"`);
        },
      },
    ];
  });
}

/** A header value that no command definition selects, for the byte at `at` (2 = P1, 3 = P2); undefined if none. */
function unusedHeaderValue(a: CommandApdu, at: 'p1' | 'p2', allowed?: readonly number[]): number | undefined {
  for (let v = 0; v < 256; v++) {
    if (v === a[at] || allowed?.includes(v)) continue;
    const h = { ...a, [at]: v };
    if (!commandForHeader(h)) return v;
  }
  return undefined;
}

/** The generic status-word cases of one command. */
function swCases(c: AnyCommand): ConformanceCase[] {
  const p = prefixOf(c);
  const out: ConformanceCase[] = [];
  const ex = exampleCommand(c);
  const name = c.name;
  const inState = preferred(c.states);

  if (plainlyReachable(c)) {
    // ISO 7816-4 5.1: an Lc the layout cannot hold is 6700.
    const size = c.request.size;
    if (size !== undefined) {
      const variants: [string, Uint8Array][] = [['LONG', Uint8Array.from([...ex.data, 0x00])]];
      if (size > 0) variants.push(['SHORT', ex.data.subarray(0, size - 1)]);
      for (const [tag, data] of variants) {
        out.push(
          refusalCase({
            id: `${p}-SW-6700-${tag}`,
            clause: `${c.mirrors}; ISO/IEC 7816-4 5.1`,
            rule: `${name} with ${data.length} data bytes where the layout has ${size} is refused 6700`,
            needs: { states: inState, ...readyNeeds(c) },
            what: name,
            expected: [SW.WRONG_LENGTH],
            provoke: async (ctx) => {
              await ready(ctx, c);
              return ctx.raw({ ...ex, data });
            },
          }),
        );
      }
    }
  }
  // A P1/P2 outside the definition's values: 6A86 (6A88 for a data-object tag). A fixed byte changed
  // selects no command at all, so the card cannot ask first for a predecessor, a MAC or a PIN; only a
  // secure channel's commands are left to cases that open one (the card unwraps before it dispatches).
  for (const at of ['p1', 'p2'] as const) {
    const b = c[at] as HeaderByte<string>;
    // GET RESPONSE's own P1 case runs where a response is pending (listed-sw-cases.ts).
    if (c.p1p2 || c.security.channel || c.id === 'getResponse') continue;
    if (isParam(b) && (!b.allowed || !plainlyReachable(c))) continue;
    const v = unusedHeaderValue(ex, at, isParam(b) ? b.allowed : undefined);
    if (v === undefined) continue;
    out.push(
      refusalCase({
        id: `${p}-SW-6A86-${at.toUpperCase()}`,
        clause: c.mirrors,
        rule: `${name} with ${at.toUpperCase()} ${v.toString(16).padStart(2, '0').toUpperCase()}, a value the definition does not allow, is refused 6A86`,
        needs: { states: inState, ...readyNeeds(c) },
        what: name,
        expected: [SW.INCORRECT_P1P2],
        provoke: async (ctx) => {
          await ready(ctx, c);
          return ctx.raw({ ...ex, [at]: v });
        },
      }),
    );
  }
  if (plainlyReachable(c)) {
    if (c.p1p2 && isParam(c.p1) && c.p1.allowed) {
      const allowed = c.p1.allowed;
      const tag = [0xdf7f, 0x9f7f, 0x5f7f].find((t) => !allowed.includes(t))!;
      out.push(
        refusalCase({
          id: `${p}-SW-6A88-TAG`,
          clause: c.mirrors,
          rule: `${name} of tag ${tag.toString(16).toUpperCase()}, which the card does not have, is refused 6A88`,
          needs: { states: inState, ...readyNeeds(c) },
          what: name,
          expected: [SW.REFERENCED_DATA_NOT_FOUND],
          provoke: async (ctx) => {
            await ready(ctx, c);
            return ctx.raw({ ...ex, p1: tag >> 8, p2: tag & 0xff });
          },
        }),
      );
    }
  }

  // ISO 7816-4 5.4.1: a class byte the command does not take is 6E00.
  out.push(
    refusalCase({
      id: `${p}-SW-6E00-CLA`,
      clause: `${c.mirrors}; ISO/IEC 7816-4 5.4.1`,
      rule: `${name} under class A0, which no D-RMB command takes, is refused 6E00`,
      needs: { states: inState },
      what: name,
      expected: [SW.CLA_NOT_SUPPORTED],
      provoke: (ctx) => ctx.raw(withCla(ex, 0xa0)),
    }),
  );

  // Outside its states the command is refused 6985 (card-commands.md "Application states").
  for (const state of APP_STATE_NAMES) {
    if (c.states.includes(state) || c.id === 'getResponse') continue;
    out.push(
      refusalCase({
        id: `${p}-SW-6985-${state}`,
        clause: `${c.mirrors}; D-RMB lifecycle`,
        rule:
          state === 'TERMINATED'
            ? `${name} on a terminated application (SELECT answers 6A81, nothing is selected) is refused 6985 or 6D00`
            : `${name} in state ${state}, outside ${c.states.join(', ')}, is refused 6985`,
        needs: { states: [state] },
        what: name,
        // ISO 7816-4 5.1.3: once SELECT answers 6A81 no application takes the command; the card OS may answer 6D00.
        expected: state === 'TERMINATED' ? [SW.CONDITIONS_OF_USE_NOT_SATISFIED, SW.INS_NOT_SUPPORTED] : [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
        provoke: (ctx) => ctx.raw(ex),
      }),
    );
  }

  const s = c.security;
  if (s.pin === 'always') {
    out.push(
      refusalCase({
        id: `${p}-SW-6982-NOPIN`,
        clause: `${c.mirrors}; JR/T 0025.2 PIN`,
        rule: `${name} without a PIN verified since SELECT is refused 6982`,
        needs: { states: inState },
        what: name,
        expected: [SW.SECURITY_STATUS_NOT_SATISFIED],
        provoke: (ctx) => ctx.raw(ex),
      }),
    );
  }
  if (c.secureMessaging === 'required' && (!s.after || s.after === 'getChallenge')) {
    // GP Amd D 6.2.4 / PBOC issuer scripts: the protected command sent plain is refused.
    const plain = withCla(ex, ex.cla & ~CLA_SECURE_MESSAGING);
    out.push(
      refusalCase({
        id: `${p}-SW-6982-PLAIN`,
        clause: `${c.mirrors}; ${s.channel ? 'GP Amendment D 6.2.4' : 'JR/T 0025.2 secure messaging'}`,
        rule: `${name} sent without secure messaging (class ${plain.cla.toString(16).padStart(2, '0').toUpperCase()}) is refused 6982`,
        needs: { states: inState },
        what: name,
        expected: [SW.SECURITY_STATUS_NOT_SATISFIED],
        provoke: async (ctx) => {
          if (s.after === 'getChallenge') await ctx.raw(fromHex('0084000008'));
          return ctx.raw(plain);
        },
      }),
    );
  }
  if (s.lineMac) {
    out.push(
      refusalCase({
        id: `${p}-SW-9302-LINEMAC`,
        clause: `${c.mirrors}; JR/T 0025.2 issuer script line MAC`,
        rule: `${name} after GET CHALLENGE with a MAC not made under the ${s.lineMac} key is refused 9302`,
        needs: { states: inState },
        what: name,
        expected: [SW.MAC_INVALID],
        provoke: async (ctx) => {
          const ch = await ctx.raw(fromHex('0084000008'));
          ctx.expectSw('GET CHALLENGE', ch.sw, [SW.OK]);
          return ctx.raw(ex);
        },
      }),
    );
  }
  if (s.after) {
    out.push(
      refusalCase({
        id: `${p}-SW-6985-ORDER`,
        clause: `${c.mirrors}; command order`,
        rule: `${name} not directly after ${commandsBefore(s).map((id) => COMMANDS.find((x) => x.id === id)?.name ?? id).join(' or ')} is refused 6985`,
        needs: { states: inState },
        what: name,
        expected: [SW.CONDITIONS_OF_USE_NOT_SATISFIED],
        provoke: (ctx) => ctx.raw(ex),
      }),
    );
  }
  return out;
}

/**
 * A case that may run in any of several states, as one case per state: the first state keeps the
 * case's ID, each other state adds its name (e.g. GETBAL-SW-6A86-P1 in ISSUED, GETBAL-SW-6A86-P1-LOCKED
 * in LOCKED), so that every status word is provoked in every state where the command applies.
 */
function perState(c: ConformanceCase): ConformanceCase[] {
  // A case that verifies the PIN first runs only where VERIFY is accepted.
  const states = c.needs.pin ? c.needs.states?.filter((s) => verify.states.includes(s)) : c.needs.states;
  if (!states || states.length < 2) return [{ ...c, needs: { ...c.needs, states } }];
  return states.map((state, i) => ({
    ...c,
    id: i === 0 ? c.id : `${c.id}-${state}`,
    rule: `${c.rule} (in ${state})`,
    needs: { ...c.needs, states: [state] },
  }));
}

/** Every case derived from the definitions, command by command in the reference's order. */
export function specCases(): ConformanceCase[] {
  return COMMANDS.flatMap((c) => [...exampleCases(c), ...swCases(c)]).flatMap(perState);
}
