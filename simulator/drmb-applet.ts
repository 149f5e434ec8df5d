/**
 * @module The D-RMB applet of the simulator: every command of applet-spec, dispatched and checked
 * (class, P1/P2, length, state, secure messaging, PIN, line MAC, command order) from the definitions,
 * then handed to its handler in `simulator/applet/`: SCP03 on the card side, both personalization
 * stages, PIN management, coin load, purse debit with SM9-signed export, peer transfer, idempotent
 * import, cyclic log and transaction proofs. Value-moving commands commit coins, counter, log and the
 * full response in one transaction before answering.
 */
import type { CommandApdu } from '../applet-spec/codec/apdu.js';
import { bcdAmount, type Coder, u32 } from '../applet-spec/codec/fields.js';
import { commandForHeader, COMMANDS } from '../applet-spec/commands.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { applicationBlock } from '../applet-spec/commands/application-block.js';
import { applicationUnblock } from '../applet-spec/commands/application-unblock.js';
import { getBalance } from '../applet-spec/commands/get-balance.js';
import { getChallenge } from '../applet-spec/commands/get-challenge.js';
import { getData } from '../applet-spec/commands/get-data.js';
import { getResponse } from '../applet-spec/commands/get-response.js';
import { getTransactionProve } from '../applet-spec/commands/get-transaction-prove.js';
import { putData } from '../applet-spec/commands/put-data.js';
import { readCoinRecord } from '../applet-spec/commands/read-coin-record.js';
import { readLogRecord } from '../applet-spec/commands/read-log-record.js';
import { fciCoder, select } from '../applet-spec/commands/select.js';
import { setStatus } from '../applet-spec/commands/set-status.js';
import { cardIdCoder, dataObjectByTag, TAG } from '../applet-spec/data-objects.js';
import { CLA_SECURE_MESSAGING, type Command } from '../applet-spec/define-command.js';
import type { ApplicationKeyName } from '../applet-spec/dgis.js';
import { FormatError } from '../applet-spec/errors.js';
import { SW } from '../applet-spec/status-words.js';
import { type Coin, MAX_SINGLE_LIMIT_FEN } from '../applet-spec/value-formats.js';
import { concatBytes, equalBytes, randomBytes } from '../crypto/bytes.js';
import { sm4Mac } from '../crypto/sm4-mac.js';
import { AppletContext } from './applet/applet-context.js';
import { load } from './applet/load.js';
import { personalization } from './applet/personalization.js';
import { pin } from './applet/pin.js';
import { purchase } from './applet/purchase.js';
import { receive } from './applet/receive.js';
import { type Handler, type Route, route } from './applet/route.js';
import { secureChannel, unwrapSecureCommand, wrapSecureResponse } from './applet/secure-channel.js';
import { selectCoins } from './applet/select-coins.js';
import { transfer } from './applet/transfer.js';
import { type CardMemory, PROOF_RETENTION } from './card-memory.js';
import type { Applet } from './card-os.js';
import { check, IsoException } from './iso-exception.js';
export { SCP03_I_PARAMETER } from './applet/secure-channel.js';

// ---- card-data ---------------------------------------------------------------------------------

/** DGIs whose fields GET DATA answers for the tags they carry. */
const DGIS_WITH_DATA_OBJECTS = ['cardRecord', 'ibcIdentity', 'riskDefaults', 'holderRecord', 'trustAnchors'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !(v instanceof Uint8Array);

/** The value of a data object as GET DATA answers it, undefined when the card does not have it (yet). */
function dataObjectValue(ctx: AppletContext, tag: number): Uint8Array | undefined {
  const d = dataObjectByTag(tag);
  if (!d) return undefined;
  const m = ctx.memory;
  const enc = (c: Coder<unknown>, v: unknown): Uint8Array | undefined => (v === undefined ? undefined : c.encode(v));
  const risk = m.hasRisk ? m.risk : undefined;
  const amount = bcdAmount(12);
  switch (tag) {
    case TAG.balance:
      return m.state === 'ISSUED' || m.state === 'LOCKED' ? amount.encode(m.balanceFen) : undefined;
    case TAG.balanceCap:
      return risk && amount.encode(risk.balanceCapFen);
    case TAG.singleLimit:
      return risk && amount.encode(risk.singleLimitFen);
    case TAG.offlineCountLimit:
      return risk && enc(d.coder, risk.offlineCountLimit);
    case TAG.offlineAmountLimit:
      return risk && amount.encode(risk.offlineAmountLimitFen);
    case TAG.pinThreshold:
      return risk && amount.encode(risk.pinThresholdFen);
    case TAG.maxCoins:
      return risk && enc(d.coder, risk.maxCoins);
    case TAG.transactionCounter:
      return u32.encode(m.counter);
    case TAG.pinTriesLeft:
      return m.pinReference ? Uint8Array.of(m.pinTriesLeft) : undefined;
    case TAG.cardId:
      return m.cardId;
    case TAG.appState:
      return enc(d.coder, m.state);
    case TAG.coinSummary: {
      if (m.state !== 'ISSUED' && m.state !== 'LOCKED') return undefined;
      const counts = new Map<number, number>();
      for (const c of m.coins) counts.set(c.body.denominationFen, (counts.get(c.body.denominationFen) ?? 0) + 1);
      return enc(d.coder, [...counts].sort((a, b) => b[0] - a[0]).map(([denominationFen, count]) => ({ denominationFen, count })));
    }
    case TAG.cardCertificate:
      return ctx.dgi('cardCertificate');
  }
  // Everything else comes from the stored DGIs that carry it.
  for (const name of DGIS_WITH_DATA_OBJECTS) {
    const v: unknown = ctx.dgi(name);
    if (isRecord(v) && v[d.key] !== undefined && d.getData !== 'never') return enc(d.coder, v[d.key]);
  }
  return undefined;
}

const readDataObject: Handler<typeof getData> = ({ tag }, ctx) => {
  const value = dataObjectValue(ctx, tag);
  check(value, SW.REFERENCED_DATA_NOT_FOUND, 'data object not available');
  return { tag, value };
};

const balance: Handler<typeof getBalance> = (_r, ctx) => ({ balanceFen: ctx.memory.balanceFen });

const coinRecord: Handler<typeof readCoinRecord> = ({ record }, ctx) => {
  const coins = ctx.memory.coins;
  check(record >= 1 && record <= coins.length, SW.RECORD_NOT_FOUND);
  return coins[record - 1];
};

const logRecord: Handler<typeof readLogRecord> = ({ record }, ctx) => {
  const log = ctx.memory.log;
  check(record >= 1 && record <= log.length, SW.RECORD_NOT_FOUND);
  return log[record - 1];
};

const prove: Handler<typeof getTransactionProve> = ({ transactionType, counter }, ctx) => {
  const m = ctx.memory;
  const proof = m.proof(transactionType, counter);
  if (proof) return { storedResponse: proof };
  check(!(counter < m.counter && counter + PROOF_RETENTION <= m.counter - 1), SW.RECORD_NOT_FOUND, 'proof no longer retained');
  throw new IsoException(SW.MAC_NOT_AVAILABLE, 'no such transaction');
};

const cardData: readonly Route[] = [
  route(getData, readDataObject),
  route(getBalance, balance),
  route(readCoinRecord, coinRecord),
  route(readLogRecord, logRecord),
  route(getTransactionProve, prove),
];

// ---- issuer-script -----------------------------------------------------------------------------

/**
 * PBOC line MAC (JR/T 0025.2 secure messaging): SM4 MAC algorithm 1 over CLA INS P1 P2 Lc and the
 * data before the MAC, padding method 2, IV = the GET CHALLENGE random padded with zeros.
 */
function checkLineMac(ctx: AppletContext, apdu: CommandApdu, keyName: ApplicationKeyName): void {
  const challenge = ctx.session.challenge;
  check(challenge, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no challenge');
  const key = ctx.appKey(keyName);
  check(key, SW.KEY_INDEX_NOT_SUPPORTED);
  const body = apdu.data.subarray(0, apdu.data.length - 4);
  const iv = new Uint8Array(16);
  iv.set(challenge);
  const mac = sm4Mac(key, concatBytes(Uint8Array.of(apdu.cla | CLA_SECURE_MESSAGING, apdu.ins, apdu.p1, apdu.p2, apdu.data.length), body), { iv, length: 4 });
  check(equalBytes(mac, apdu.data.subarray(apdu.data.length - 4)), SW.MAC_INVALID, 'line MAC');
}

const challenge: Handler<typeof getChallenge> = (_r, ctx, apdu) => {
  // GET CHALLENGE definition: 4 or 8 bytes as Le asks, 6700 for any other Le.
  check(apdu.le === 4 || apdu.le === 8, SW.WRONG_LENGTH, 'GET CHALLENGE Le must be 04 or 08');
  ctx.session.challenge = ctx.random(apdu.le);
  return { challenge: ctx.session.challenge.slice() };
};

const update: Handler<typeof putData> = ({ tag, value }, ctx) => {
  const d = dataObjectByTag(tag)!;
  let v: number;
  try {
    v = d.coder.decode(value) as number;
  } catch {
    throw new IsoException(SW.INCORRECT_DATA, 'value layout');
  }
  const r = { ...ctx.memory.risk };
  // PUT DATA definition: a value above the central-bank default (DGI E002) is 6A80, as STORE DATA
  // refuses tier caps above them.
  const defaults = ctx.dgi('riskDefaults');
  const ceiling: Record<number, number | undefined> = {
    [TAG.singleLimit]: defaults?.singleLimit,
    [TAG.balanceCap]: defaults?.balanceCap,
    [TAG.offlineCountLimit]: defaults?.offlineCountLimit,
    [TAG.offlineAmountLimit]: defaults?.offlineAmountLimit,
    [TAG.pinThreshold]: defaults?.pinThreshold,
  };
  check(ceiling[tag] === undefined || v <= ceiling[tag]!, SW.INCORRECT_DATA, 'above the central-bank default');
  switch (tag) {
    case TAG.singleLimit:
      check(v <= MAX_SINGLE_LIMIT_FEN, SW.INCORRECT_DATA, 'single limit above 1000.00 yuan');
      r.singleLimitFen = v;
      break;
    case TAG.balanceCap:
      r.balanceCapFen = v;
      break;
    case TAG.offlineCountLimit:
      r.offlineCountLimit = v;
      break;
    case TAG.offlineAmountLimit:
      r.offlineAmountLimitFen = v;
      break;
    case TAG.pinThreshold:
      r.pinThresholdFen = v;
      break;
  }
  ctx.memory.setRisk(r);
  return {};
};

const issuerScript: readonly Route[] = [route(getChallenge, challenge), route(putData, update)];

// ---- lifecycle ---------------------------------------------------------------------------------

const block: Handler<typeof applicationBlock> = (_r, ctx) => {
  ctx.memory.setState('LOCKED');
  return {};
};

const unblock: Handler<typeof applicationUnblock> = (_r, ctx) => {
  ctx.memory.setState('ISSUED');
  return {};
};

const terminate: Handler<typeof setStatus> = ({ aid }, ctx) => {
  check(equalBytes(aid, DRMB_AID), SW.REFERENCED_DATA_NOT_FOUND, 'not this application');
  check(ctx.memory.coinBytes.length === 0, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'coins still on the card: redeem first');
  ctx.memory.setState('TERMINATED');
  return {};
};

const lifecycle: readonly Route[] = [route(applicationBlock, block), route(applicationUnblock, unblock), route(setStatus, terminate)];

/** Every command's route, by its definition; SELECT and GET RESPONSE belong to the card OS. */
const ROUTES: ReadonlyMap<Command<unknown, unknown>, Route> = new Map(
  [...secureChannel, ...personalization, ...pin, ...load, ...purchase, ...transfer, ...receive, ...cardData, ...issuerScript, ...lifecycle].map((r) => [r.command, r]),
);

export interface DrmbAppletOptions {
  /** source of card randomness (challenges, card random, nonces); the CSPRNG by default */
  random?: (n: number) => Uint8Array;
}

export class DrmbApplet implements Applet {
  readonly aid = DRMB_AID;
  private readonly ctx: AppletContext;
  /** the command process() resolved for the APDU it was given, for hasPersistentEffect on the same APDU */
  private resolved?: { apdu: CommandApdu; command: Command<unknown, unknown> };

  constructor(
    readonly memory: CardMemory,
    options: DrmbAppletOptions = {},
  ) {
    this.ctx = new AppletContext(memory, options.random ?? randomBytes);
    for (const c of COMMANDS) {
      if (c !== select && c !== getResponse && !ROUTES.has(c)) throw new Error(`DrmbApplet: no handler for ${c.name}`);
    }
  }

  /** Coins adding up to exactly `amountFen`, fewest first (see select-coins.ts). */
  static selectCoins(coins: Coin[], amountFen: number): Coin[] | undefined {
    return selectCoins(coins, amountFen);
  }

  // ---- card OS interface ---------------------------------------------------------------------

  select(): { data: Uint8Array; sw: number } {
    this.ctx.resetSession();
    const state = this.memory.state;
    if (state === 'TERMINATED') return { data: new Uint8Array(0), sw: SW.FUNCTION_NOT_SUPPORTED };
    const cardId = this.memory.dgi('cardRecord') ? cardIdCoder.decode(this.memory.cardId) : undefined;
    const label = this.ctx.dgi('fci')?.applicationLabel;
    const data = fciCoder.encode({
      aid: DRMB_AID,
      proprietary: { applicationLabel: label, issuerData: { cardId, appState: state } },
    });
    return { data, sw: state === 'LOCKED' ? SW.SELECTED_FILE_INVALIDATED : SW.OK };
  }

  deselect(): void {
    this.ctx.session.scp?.close();
    this.ctx.resetSession();
  }

  hasPersistentEffect(apdu: CommandApdu): boolean {
    const command = this.resolved?.apdu === apdu ? this.resolved.command : commandForHeader(apdu);
    return command?.persistent !== undefined;
  }

  unwrapCommand(command: Uint8Array, apdu: CommandApdu): Uint8Array {
    return unwrapSecureCommand(this.ctx, command, apdu);
  }

  wrapResponse(response: Uint8Array): Uint8Array {
    return wrapSecureResponse(this.ctx, response);
  }

  process(apdu: CommandApdu): Uint8Array {
    const store = this.memory.store;
    const t = this.ctx.session;
    const smOnWire = t.smOnWire || (apdu.cla & CLA_SECURE_MESSAGING) !== 0;
    const viaScp = t.viaScp;
    t.smOnWire = false;
    this.resolved = undefined;
    try {
      const route = this.resolve(apdu);
      this.resolved = { apdu, command: route.command };
      const run = this.checkAndDecode(route, apdu, smOnWire, viaScp);
      const out = run(this.ctx);
      t.lastCommand = route.command.id;
      if (route.command !== getChallenge) t.challenge = undefined;
      return out;
    } catch (e) {
      // ISO 7816-4 / JCRE: a failing command leaves persistent memory as it was (counters aside,
      // which are written outside any transaction before the check that can fail).
      if (store.powered && store.inTransaction) store.abort();
      this.ctx.session.lastCommand = undefined;
      this.ctx.session.challenge = undefined;
      throw e;
    }
  }

  // ---- generic checks from the definitions ----------------------------------------------------

  /** The route of the command the header selects; the one lookup of the command per APDU. */
  private resolve(apdu: CommandApdu): Route {
    const cmd = commandForHeader(apdu);
    // SELECT and GET RESPONSE belong to the card OS; reaching the applet they carry a class the OS
    // does not take for them (e.g. secure messaging bits).
    if (cmd === select || cmd === getResponse) throw new IsoException(SW.CLA_NOT_SUPPORTED);
    const route = cmd && ROUTES.get(cmd);
    if (route) return route;
    const base = apdu.cla & ~0x1c;
    if (COMMANDS.some((c) => c.ins === apdu.ins && c.cla === base)) throw new IsoException(SW.INCORRECT_P1P2);
    if (COMMANDS.some((c) => c.cla === base)) throw new IsoException(SW.INS_NOT_SUPPORTED);
    throw new IsoException(SW.CLA_NOT_SUPPORTED);
  }

  /** Checks the definition's conditions and decodes the request; returns the call that runs the handler. */
  private checkAndDecode(route: Route, apdu: CommandApdu, smOnWire: boolean, viaScp: boolean): (ctx: AppletContext) => Uint8Array {
    const cmd = route.command;
    const t = this.ctx.session;
    // Header parameters with a list of allowed values (tags answer 6A88, other bytes 6A86).
    for (const p of [cmd.p1, cmd.p2]) {
      if (typeof p !== 'object' || !p.allowed) continue;
      const value = cmd.p1p2 ? (apdu.p1 << 8) | apdu.p2 : p === cmd.p1 ? apdu.p1 : apdu.p2;
      if (!p.allowed.includes(value)) throw new IsoException(cmd.p1p2 ? SW.REFERENCED_DATA_NOT_FOUND : SW.INCORRECT_P1P2);
    }
    if (cmd.secureMessaging === 'never' && smOnWire && !viaScp) throw new IsoException(SW.CLA_NOT_SUPPORTED);
    if (cmd.secureMessaging === 'required' && !smOnWire) throw new IsoException(SW.SECURITY_STATUS_NOT_SATISFIED);
    check(cmd.states.includes(this.memory.state), SW.CONDITIONS_OF_USE_NOT_SATISFIED, `${cmd.name} in ${this.memory.state}`);
    const sec = cmd.security;
    // The secure channel is checked before the data is parsed (GP Amd D 6.2.4): a wrapped command
    // arriving after its session closed (bad MAC, reset) carries MAC and ciphertext the card cannot
    // read, and is answered 6982, not 6A80.
    if (sec.channel) {
      const level = t.scp?.isOpen ? t.scp.securityLevel : 0;
      const need = sec.channel === 'C-MAC' ? 0x01 : 0x03;
      check(viaScp && (level & need) === need, SW.SECURITY_STATUS_NOT_SATISFIED, 'secure channel required');
    }

    let run: (ctx: AppletContext) => Uint8Array;
    try {
      run = route.prepare(apdu);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      const fixed = cmd.request.size;
      throw new IsoException(fixed !== undefined && apdu.data.length !== fixed ? SW.WRONG_LENGTH : SW.INCORRECT_DATA, e.message);
    }

    if (sec.after) check(t.lastCommand === sec.after, SW.CONDITIONS_OF_USE_NOT_SATISFIED, `${cmd.name} must follow ${sec.after}`);
    if (sec.pin === 'always') check(t.pinVerified, SW.SECURITY_STATUS_NOT_SATISFIED, 'PIN not verified');
    if (sec.lineMac) checkLineMac(this.ctx, apdu, sec.lineMac);
    return run;
  }
}
