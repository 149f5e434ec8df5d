/**
 * @module The central bank's registry as a service (`drmb registry serve`): its own process holds the
 * registry database and the registry bundle's keys (mint master, coin signing), and the commercial
 * banks reach it over HTTP on 127.0.0.1 with node's http, JSON with bytes as hex:
 *  - the central bank mints into a bank's vault (the keys never leave this process);
 *  - a bank's vault takes its coins for a withdrawal and records the card as owner after the TAC;
 *  - a bank deposits packets with their evidence (bank/README.md: which evidence proves what);
 *  - the payee's bank forwards online transfers to the central bank's desk (central-bank-online.ts);
 *  - anyone on the machine reads owners, balances, the blacklist and the proofs.
 * Who may ask what: minting takes the central bank operator's token (a fresh random one per start,
 * in an owner-only file); a vault's coins, withdrawals, deposits and online transfers take a request
 * signed by an authorised bank (bank/signed-request.ts), which moves its own vault's coins and speaks
 * in its own name only; owners and the ledger are read by anyone on the machine. Every refusal is a
 * JSON answer with a code, never a stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Coin, coinCoder } from '../applet-spec/value-formats.js';
import { FormatError } from '../base/format-error.js';
import { fromHex, hex } from '../base/hex.js';
import { timingSafeEqual } from 'node:crypto';
import { readRequestBody } from '../io/read-request-body.js';
import type { AuthorizedDesk } from '../keys/authorized-desks.js';
import { BankRequestRefusal, BankRequestVerifier } from './signed-request.js';
import { listenLocal, type LocalService, sendJson } from '../io/local-service.js';
import type { CentralBankOnline, OnlineTransferForward } from './central-bank-online.js';
import { mintCoins } from './mint.js';
import { bankOwner, CENTRAL_BANK, cardOwner, DoubleSpendError, type DoubleSpendProof, type Registry, RegistryError, type Settlement, type SettleOptions } from './registry.js';

/** POST: the central bank mints coins into a bank's vault. Body MintJson; answer { owner, coins: hex[] }. */
export const MINT_PATH = '/v1/mint';
/** GET ?owner=bank:<code>: the coins a bank's vault holds, { coins: hex[] }. */
export const VAULT_COINS_PATH = '/v1/vault-coins';
/** POST: a withdrawal the card's TAC proved. Body WithdrawalJson; answer { recorded: n }. */
export const WITHDRAWALS_PATH = '/v1/withdrawals';
/** POST: a deposit of one packet with its evidence. Body DepositJson; answer { settlement }. */
export const DEPOSITS_PATH = '/v1/deposits';
/** POST: an online transfer forwarded by the payee's bank (OnlineTransferForward); answer the central bank's Confirmation. */
export const CENTRAL_TRANSFERS_PATH = '/v1/central-transfers';
/** GET /v1/owners/<serial hex>: { owner } (null for a coin never minted). */
export const OWNERS_PATH = '/v1/owners/';
/** GET ?owner=..&owner=..: { balances, mintedFen, blacklist, proofs }. */
export const LEDGER_PATH = '/v1/ledger';

/** Largest request: a 64-coin packet, its import response or opened body, in hex, fit well inside. */
export const MAX_REGISTRY_BODY_BYTES = 128 * 1024;

/** The HTTP status of each code the service answers. */
export const REGISTRY_ANSWER_CODES = {
  'bad-request': 400,
  unsigned: 401,
  'stale-request': 401,
  'bad-signature': 401,
  'not-operator': 401,
  'unknown-bank': 403,
  'not-your-bank': 403,
  replay: 409,
  'not-found': 404,
  'method-not-allowed': 405,
  refused: 409,
  'double-spend': 409,
  'too-large': 413,
  internal: 500,
} as const;
export type RegistryAnswerCode = keyof typeof REGISTRY_ANSWER_CODES;

export interface MintJson {
  /** the coins' denominations in fen */
  denominationsFen: number[];
  /** 12-digit code of the bank whose vault receives them; absent: the central bank keeps them */
  toBank?: string;
  issueDate: string;
  expiryDate: string;
}

export interface WithdrawalJson {
  bankCode: string;
  cardId: string;
  /** the card's load counter of the CREDIT FOR LOAD whose TAC verified */
  counter: number;
  serials: string[];
}

export interface DepositJson {
  packet: string;
  payeeIdentity: string;
  payeeOwner?: string;
  importResponse?: string;
  settlementBody?: string;
  withdrawal?: { code: string; salt: string };
  payerOwner?: string;
}

/** A settlement as JSON. */
export interface SettlementJson extends Omit<Settlement, 'packetHash' | 'serials'> {
  packetHash: string;
  serials: string[];
}

/** A double-spend proof as JSON. */
export interface ProofJson extends Omit<DoubleSpendProof, 'serial' | 'packetA' | 'packetB'> {
  serial?: string;
  packetA: string;
  packetB: string;
}

/** The ledger's figures. */
export interface LedgerJson {
  balances: { owner: string; balanceFen: number }[];
  mintedFen: number;
  blacklist: string[];
  proofs: number;
}

export const settlementToJson = (s: Settlement): SettlementJson => ({ ...s, packetHash: hex(s.packetHash), serials: s.serials.map(hex) });
export const settlementFromJson = (s: SettlementJson): Settlement => ({ ...s, packetHash: fromHex(s.packetHash), serials: s.serials.map(fromHex) });
export const proofToJson = (p: DoubleSpendProof): ProofJson => ({ ...p, serial: p.serial && hex(p.serial), packetA: hex(p.packetA), packetB: hex(p.packetB) });
export const proofFromJson = (p: ProofJson): DoubleSpendProof => ({ ...p, serial: p.serial === undefined ? undefined : fromHex(p.serial), packetA: fromHex(p.packetA), packetB: fromHex(p.packetB) });

/** A request the service refuses before the registry sees it, or the registry's refusal. */
class Answer extends Error {
  constructor(
    readonly code: RegistryAnswerCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const isHex = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && /^([0-9A-F]{2})+$/i.test(x);
const isDate = (x: unknown): x is string => typeof x === 'string' && /^\d{8}$/.test(x);

function jsonObject(text: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Answer('bad-request', 'the body is not JSON');
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Answer('bad-request', 'the body must be a JSON object');
  return j as Record<string, unknown>;
}

/** One member, checked: Answer 'bad-request' naming it. */
function member<T>(j: Record<string, unknown>, name: string, ok: (x: unknown) => x is T, what: string): T {
  if (!ok(j[name])) throw new Answer('bad-request', `${name} must be ${what}`);
  return j[name] as T;
}
function optional<T>(j: Record<string, unknown>, name: string, ok: (x: unknown) => x is T, what: string): T | undefined {
  return j[name] === undefined ? undefined : member(j, name, ok, what);
}
const isString = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
const isBankCode = (x: unknown): x is string => typeof x === 'string' && /^\d{12}$/.test(x);
const isCardId = (x: unknown): x is string => typeof x === 'string' && /^\d{20}$/.test(x);
const isCounter = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
const isDenominations = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.length <= 1000 && x.every((d) => Number.isInteger(d) && d > 0 && d <= 0xffffffff);
const isSerials = (x: unknown): x is string[] => Array.isArray(x) && x.length > 0 && x.every((s) => isHex(s) && s.length === 32);
const isSealJson = (x: unknown): x is { code: string; salt: string } =>
  typeof x === 'object' && x !== null && typeof (x as { code?: unknown }).code === 'string' && /^\d{16}$/.test((x as { code: string }).code) && isHex((x as { salt?: unknown }).salt) && (x as { salt: string }).salt.length === 32;

/** The parsed deposit: SettleOptions and the packet. */
export function parseDeposit(text: string): { packet: Uint8Array; options: SettleOptions } {
  const j = jsonObject(text);
  const packet = fromHex(member(j, 'packet', isHex, 'hex'));
  const payeeIdentity = member(j, 'payeeIdentity', isString, 'the SM9 identity the packet pays');
  const payeeOwner = optional(j, 'payeeOwner', isString, 'an owner (bank:<code>)');
  const importResponse = optional(j, 'importResponse', isHex, "hex (the payee card's IMPORT COINS response)");
  const settlementBody = optional(j, 'settlementBody', isHex, 'hex (the coin list and payer signature the payee opened)');
  const withdrawal = optional(j, 'withdrawal', isSealJson, '{ code: 16 digits, salt: 16 bytes hex }');
  const payerOwner = optional(j, 'payerOwner', isString, "an owner (the change float's bank)");
  return {
    packet,
    options: {
      payeeIdentity,
      ...(payeeOwner ? { payeeOwner } : {}),
      ...(importResponse ? { importResponse: fromHex(importResponse) } : {}),
      ...(settlementBody ? { settlementBody: fromHex(settlementBody) } : {}),
      ...(withdrawal ? { withdrawal: { code: withdrawal.code, salt: fromHex(withdrawal.salt) } } : {}),
      ...(payerOwner ? { payerOwner } : {}),
    },
  };
}

export interface RegistryServiceOptions {
  registry: Registry;
  /** the central bank's online desk over the same registry */
  central: CentralBankOnline;
  /** the registry bundle's keys, which mint here and nowhere else */
  mint: { signingKey: { privateKey: Uint8Array; keyIndex: number }; mintMaster: Uint8Array };
  /** the central bank operator's token, which a mint request carries as `authorization: Bearer <token>` */
  operatorToken: string;
  /** the authorised banks (authorized-banks.json), read at each request */
  banks: () => readonly AuthorizedDesk[];
  port: number;
  log?: (line: string) => void;
}

/**
 * Starts the registry's service. Security: the mint master and the coin-signing key stay in this
 * process; every packet is verified again here whatever the depositing bank checked.
 */
export async function startRegistryService(o: RegistryServiceOptions): Promise<LocalService> {
  const log = o.log ?? (() => {});
  const { registry } = o;
  const verifier = new BankRequestVerifier(o.banks);
  const token = Buffer.from(o.operatorToken);
  /** Who asked: the operator (mint), the authorised bank whose signature verifies, or anyone (reads). */
  type Asker = 'operator' | 'bank' | 'anyone';
  interface Asked {
    body: string;
    url: URL;
    /** the bank's code, for a route asked by a bank */
    bankCode: string;
  }
  /** A bank's own owner string; Answer 'not-your-bank' for another's. */
  const ownBank = (a: Asked, owner: string, member: string) => {
    if (owner.startsWith('bank:') && owner !== bankOwner(a.bankCode)) throw new Answer('not-your-bank', `${member} ${owner} is not the vault of bank ${a.bankCode}, which signed the request`);
  };

  const routes: Record<string, { method: 'GET' | 'POST'; asker: Asker; answer: (a: Asked) => Promise<unknown> }> = {
    [MINT_PATH]: {
      method: 'POST',
      asker: 'operator',
      answer: async (a) => {
        const j = jsonObject(a.body);
        const denominations = member(j, 'denominationsFen', isDenominations, 'a list of 1 to 1000 denominations in fen');
        const toBank = optional(j, 'toBank', isBankCode, 'a 12-digit bank code');
        const issueDate = member(j, 'issueDate', isDate, 'YYYYMMDD');
        const expiryDate = member(j, 'expiryDate', isDate, 'YYYYMMDD');
        if (expiryDate < issueDate) throw new Answer('bad-request', `expiryDate ${expiryDate} is before issueDate ${issueDate}`);
        const coins = mintCoins({ ...o.mint, issueDate, expiryDate }, denominations);
        await registry.recordMint(coins);
        const owner = toBank ? bankOwner(toBank) : CENTRAL_BANK;
        if (toBank) await registry.transfer(coins.map((c) => c.body.serial), CENTRAL_BANK, owner);
        log(`registry: minted ${coins.length} coins for ${owner}`);
        return { owner, coins: coins.map((c) => hex(coinCoder.encode(c))) };
      },
    },
    [VAULT_COINS_PATH]: {
      method: 'GET',
      asker: 'bank',
      answer: async (a) => {
        const owner = a.url.searchParams.get('owner') ?? '';
        if (!/^bank:\d{12}$/.test(owner)) throw new Answer('bad-request', 'owner must be bank:<12-digit code>');
        ownBank(a, owner, 'owner');
        return { coins: (await registry.coinsOf(owner)).map((c) => hex(coinCoder.encode(c))) };
      },
    },
    [WITHDRAWALS_PATH]: {
      method: 'POST',
      asker: 'bank',
      answer: async (a) => {
        const j = jsonObject(a.body);
        const bankCode = member(j, 'bankCode', isBankCode, 'a 12-digit bank code');
        ownBank(a, bankOwner(bankCode), 'bankCode');
        const cardId = member(j, 'cardId', isCardId, 'a 20-digit card ID');
        const counter = member(j, 'counter', isCounter, "the card's load counter");
        const serials = member(j, 'serials', isSerials, 'a list of 16-byte serials in hex');
        await registry.transfer(serials.map(fromHex), bankOwner(bankCode), cardOwner(cardId), { kind: 'withdraw', payerCardId: cardId, payerCounter: counter });
        log(`registry: withdrawal of ${serials.length} coins from bank ${bankCode} onto card ${cardId} (load ${counter})`);
        return { recorded: serials.length };
      },
    },
    [DEPOSITS_PATH]: {
      method: 'POST',
      asker: 'bank',
      answer: async (a) => {
        const d = parseDeposit(a.body);
        if (d.options.payeeOwner) ownBank(a, d.options.payeeOwner, 'payeeOwner');
        if (d.options.payerOwner) ownBank(a, d.options.payerOwner, 'payerOwner');
        const s = await registry.settle(d.packet, d.options);
        log(`registry: settled ${s.type} of ${s.amountFen} fen from card ${s.payerCardId}${s.replayed ? ' (again)' : ''}: owner ${s.payeeOwner}`);
        return { settlement: settlementToJson(s) };
      },
    },
    [CENTRAL_TRANSFERS_PATH]: {
      method: 'POST',
      asker: 'bank',
      answer: async (a) => {
        const j = jsonObject(a.body);
        const forward: OnlineTransferForward = {
          from: member(j, 'from', (x): x is string => typeof x === 'string' && /^bank:\d{12}$/.test(x), 'bank:<12-digit code>'),
          packet: member(j, 'packet', isHex, 'hex'),
          settlementBody: member(j, 'settlementBody', isHex, 'hex'),
          ...(j.withdrawal !== undefined ? { withdrawal: member(j, 'withdrawal', isSealJson, '{ code: 16 digits, salt: 16 bytes hex }') } : {}),
          payeeIdentity: member(j, 'payeeIdentity', isString, 'an SM9 identity'),
          newOwner: member(j, 'newOwner', isString, 'an owner'),
          time: member(j, 'time', isString, 'an ISO 8601 time'),
        };
        ownBank(a, forward.from, 'from');
        const c = await o.central.transfer(forward);
        log(`registry: online transfer from ${forward.from}: ${c.outcome}`);
        return c;
      },
    },
    [LEDGER_PATH]: {
      method: 'GET',
      asker: 'anyone',
      answer: async (a) => {
        const owners = a.url.searchParams.getAll('owner');
        if (owners.length > 100 || owners.some((x) => !isString(x))) throw new Answer('bad-request', 'give at most 100 non-empty owner parameters');
        const ledger: LedgerJson = {
          balances: await Promise.all(owners.map(async (owner) => ({ owner, balanceFen: await registry.balanceOf(owner) }))),
          mintedFen: await registry.mintedTotal(),
          blacklist: await registry.blacklist(),
          proofs: (await registry.proofs()).length,
        };
        return ledger;
      },
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://registry');
    const path = url.pathname.startsWith(OWNERS_PATH) ? OWNERS_PATH : url.pathname;
    try {
      if (path === OWNERS_PATH) {
        if (req.method !== 'GET') throw new Answer('method-not-allowed', `use GET ${OWNERS_PATH}<serial>`, { allow: 'GET' });
        const serial = url.pathname.slice(OWNERS_PATH.length);
        if (!isHex(serial) || serial.length !== 32) throw new Answer('bad-request', 'the serial must be 32 hex digits');
        sendJson(res, 200, { owner: (await registry.ownerOf(fromHex(serial))) ?? null });
        return;
      }
      const route = routes[path];
      if (!route) throw new Answer('not-found', `the registry answers ${Object.entries(routes).map(([p, r]) => `${r.method} ${p}`).join(', ')}, GET ${OWNERS_PATH}<serial>`);
      if (req.method !== route.method) throw new Answer('method-not-allowed', `use ${route.method} ${path}`, { allow: route.method });
      const body = await readRequestBody(req, MAX_REGISTRY_BODY_BYTES, () => new Answer('too-large', `the request is larger than ${MAX_REGISTRY_BODY_BYTES} bytes`));
      let bankCode = '';
      if (route.asker === 'operator') {
        const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
        if (given.length !== token.length || !timingSafeEqual(given, token)) throw new Answer('not-operator', `${path} takes the central bank operator's token (authorization: Bearer, from the file drmb registry serve wrote)`);
      } else if (route.asker === 'bank') {
        const bank = verifier.verify(req.headers, route.method, req.url ?? path, body);
        bankCode = bank.bankCode;
        log(`registry: ${route.method} ${path} signed by bank ${bankCode} ("${bank.name}")`);
      }
      sendJson(res, 200, await route.answer({ body, url, bankCode }));
    } catch (e) {
      const a =
        e instanceof Answer
          ? e
          : e instanceof BankRequestRefusal
            ? new Answer(e.code, e.message)
            : e instanceof DoubleSpendError
            ? new Answer('double-spend', e.message, { proof: proofToJson(e.proof) })
            : e instanceof RegistryError
              ? new Answer('refused', e.message, { name: e.name, reason: e.reason })
              : e instanceof FormatError || e instanceof RangeError
                ? new Answer('bad-request', e.message)
                : new Answer('internal', 'internal error of the registry');
      // Never a stack trace to the client; the log names the error class and message only.
      if (a.code === 'internal') log(`registry: internal error (${(e as Error)?.name}: ${(e as Error)?.message})`);
      log(`registry: ${REGISTRY_ANSWER_CODES[a.code]} ${a.code}: ${a.message}`);
      const { allow, ...extra } = a.extra as { allow?: string };
      sendJson(res, REGISTRY_ANSWER_CODES[a.code], { error: { code: a.code, message: a.message, ...extra } }, allow ? { allow } : {});
    }
  };
  return listenLocal(o.port, handle);
}

/** The coins of a MINT_PATH or VAULT_COINS_PATH answer. */
export const coinsFromJson = (coins: string[]): Coin[] => coins.map((c) => coinCoder.decode(fromHex(c)));
