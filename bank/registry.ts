/**
 * @module Central-bank coin registry on SQL (PGlite by default, PostgreSQL given a connection string):
 * minting records, vault and card ownership changes, settlement of signed export packets (GM/T 0044 SM9
 * payer signature, GB/T 32918 SM2 coin signatures) and double-spend proofs with the card blacklist.
 */
import type { TrustAnchors } from '../keys/trust-anchors.js';
import {
  type Coin,
  coinCoder,
  type ExportHeader,
  exportPacketCoder,
  NO_WITHDRAWAL_CODE,
  type WithdrawalSeal,
  withdrawalSealCoder,
} from '../applet-spec/value-formats.js';
import { coinVerifiers } from '../coins/check-coin.js';
import type { PacketAnchors } from '../coins/verify-export-packet.js';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../base/bytes.js';
import { sm3 } from '../crypto/sm3.js';
import type { Db, Queryable } from './db.js';
import { DenominationKeys } from './mint.js';
import { PgliteDb } from './pglite-db.js';
import { PostgresDb } from './postgres-db.js';
import { ShardedDb } from './sharded-db.js';
import {
  type DoubleSpendProof,
  CustodyPendingError,
  DoubleSpendError,
  NotOwnerError,
  RegistryError,
  UnknownWithdrawalCodeError,
} from './registry-errors.js';
import { type FlowKind, type ProofReason, schemaSql } from './schema.js';
import type { DepositVerifyTask, DepositVerifyWorkerData } from './deposit-verify-worker.js';
import { type DepositEvidence, type VerifiedPacket, verifyDeposit } from './verify-deposit.js';
import { siblingModule, WorkerPool, WorkerTaskError } from '../io/worker-pool.js';


/**
 * The window of the precomputed coin-key verification tables: 11 bits, about 1 s and some 8 MB per coin
 * key in each verifying thread, built once by a long-running registry, for about 10% less CPU per coin
 * deposited than 10 bits (the registry benchmark, issue 15).
 */
export const DEFAULT_VERIFIER_WINDOW_BITS = 11;

export * from './registry-errors.js';
export type { VerifiedPacket } from './verify-deposit.js';

/** Owner of the coins in the central bank's vault. */
export const CENTRAL_BANK = 'central-bank';

/** The owner of coins taken out of circulation (renewed near their expiry): no deposit of them settles again. */
export const RETIRED = 'retired';

/** Owner string of a commercial bank's vault. */
export function bankOwner(bankCode: string): string {
  if (!/^\d{12}$/.test(bankCode)) throw new RangeError('bank code must be 12 digits');
  return `bank:${bankCode}`;
}

/** Owner string of a card (named or anonymous: always by card ID, see schema.ts). */
export function cardOwner(cardId: string): string {
  if (!/^\d{20}$/.test(cardId)) throw new RangeError('card ID must be 20 digits');
  return `card:${cardId}`;
}

const utf8 = new TextEncoder();
const SEAL_LENGTH = withdrawalSealCoder.size!;

/**
 * Owner string of coins waiting for a payee with no account: 'code:' || hex SM3(code digits as ASCII).
 * Only the hash is an owner; the registry stores the code nowhere, and the packet carries only a salted
 * commitment to it (value-formats.ts withdrawalSealCoder).
 */
export function withdrawalCodeOwner(withdrawalCode: string): string {
  if (!/^\d{16}$/.test(withdrawalCode) || withdrawalCode === NO_WITHDRAWAL_CODE) throw new RangeError('withdrawal code must be 16 digits, not all zero');
  return `code:${bytesToHex(sm3(utf8.encode(withdrawalCode)))}`;
}

const isCodeOwner = (owner: string): boolean => owner.startsWith('code:');
/**
 * Who pays a packet in the registry's books: the payer card ID, or for a terminal's CHANGE packet (no
 * card: its card ID field is zeros) 'terminal:' || terminal ID hex, whose sequence numbers are its counters.
 */
export function payerKey(header: ExportHeader): string {
  return header.type === 'CHANGE' ? `terminal:${bytesToHex(header.terminalId)}` : header.payerCardId;
}
const payerOf = (header: ExportHeader): { cardId: string; identity: string } => ({ cardId: payerKey(header), identity: header.payerIdentity });

/**
 * Where the registry keeps its data (a PostgreSQL server or an embedded PGlite directory, or memory)
 * and what it verifies settlements with.
 */
export interface RegistryOpenOptions {
  /** postgres://... : use that server; otherwise the embedded PGlite */
  connectionString?: string;
  /**
   * postgres://... of several servers, in the same order every time: the coins split across them by
   * serial range, the rest on the first, every ownership change committed on all or none (sharded-db.ts)
   */
  shards?: readonly string[];
  /** PGlite data directory (persistent); omitted = in memory */
  dataDir?: string;
  /** PostgreSQL schema to use (created when missing), e.g. one per test run */
  schema?: string;
  /** hash partitions of the coins table (schema.ts) */
  coinPartitions?: number;
  /** trust anchors for settlement: coin-signing public keys and the KGC signature master public key */
  trust?: Pick<TrustAnchors, 'coinKeys' | 'kgcSignMasterPublicKey'>;
  /** the mint master: settlement then also checks m against the denomination key (central bank only) */
  mintMaster?: Uint8Array;
  /** coin signature verification: 'precomputed' fixed-key tables (default) or 'plain' sm2Verify */
  verification?: 'precomputed' | 'plain';
  /** window of the precomputed tables (default DEFAULT_VERIFIER_WINDOW_BITS) */
  verifierWindowBits?: number;
  /**
   * Verify deposits (verifyDeposit: the SM9 and SM2 signatures) in this many worker threads, each with
   * its own tables, so that settle() keeps the registry's thread for the database and concurrent
   * deposits and settleMany() verify in parallel (`allCores()`: one per core). 0 or omitted: in the
   * registry's own thread. close() stops them.
   */
  verifyWorkers?: number;
}

/** One deposit of settleMany: a packet and what settle() would be given with it. */
export interface Deposit {
  packet: Uint8Array;
  options: SettleOptions;
}

/** What settle() answered for one deposit of settleMany: the settlement, or the error it threw. */
export type DepositOutcome = { ok: true; settlement: Settlement } | { ok: false; error: unknown };

/** Extra facts recorded with a move. */
export interface FlowInfo {
  kind?: Exclude<FlowKind, 'mint'>;
  payerCardId?: string;
  payerCounter?: number;
  packetHash?: Uint8Array;
  withdrawalCode?: string;
}

/**
 * What a depositor brings with a packet. Which evidence proves what (bank/README.md):
 *  - a PURCHASE or CHANGE packet alone proves the payer paid it (body in clear, payer-signed);
 *  - a TRANSFER's body is encrypted to the payee, and the registry never holds the payee's key: it
 *    settles with the payee card's IMPORT COINS response (receipt signed by the payee card: the card
 *    took the coins, and it owns them), or with the body the payee opened on its own terminal
 *    (settlementBody, plus the withdrawal seal for a payee without account);
 *  - an import response with any packet (a CHANGE into a card, a purchase into a merchant card) makes
 *    the payee card the owner.
 */
export interface SettleOptions {
  /** SM9 identity of the depositor (merchant or person); the packet must be made out to it */
  payeeIdentity: string;
  /** new owner when the evidence names none (a bank vault); ignored with importResponse (the card owns) */
  payeeOwner?: string;
  /** the payee card's IMPORT COINS response for this packet (receipt || settlement body) */
  importResponse?: Uint8Array;
  /** TRANSFER opened by the payee: the settlement body (coin list and payer signature) in clear */
  settlementBody?: Uint8Array;
  /** TRANSFER opened by the payee: the withdrawal seal; without payeeOwner, the code owns the coins */
  withdrawal?: WithdrawalSeal;
  /** CHANGE: the owner of the terminal's change float (its bank's vault), which pays the change */
  payerOwner?: string;
  /**
   * Online payment (bank/central-bank-online.ts): the payee takes the coins only once the owner has
   * changed, so a packet that cannot settle now (CustodyPendingError) is refused, never queued to move
   * coins later to a payee that did not take them. `record` runs inside the settlement's transaction
   * after the owner change, so what it writes (the central bank's confirmation) commits with it or not at all.
   */
  online?: { record: (tx: Queryable, settlement: Settlement) => Promise<void> };
}

/** A packet waiting in the registry's retry queue (CustodyPendingError). */
export interface PendingPacket {
  packetHash: Uint8Array;
  payeeIdentity: string;
  reason: string;
  since: Date;
}

/** The outcome of a settlement (also returned, with replayed = true, for the same packet again). */
export interface Settlement {
  packetHash: Uint8Array;
  type: ExportHeader['type'];
  payerCardId: string;
  payerCounter: number;
  payeeOwner: string;
  amountFen: number;
  serials: Uint8Array[];
  replayed: boolean;
}

const hexList = (serials: readonly Uint8Array[]): string[] => serials.map((s) => bytesToHex(s));
const SERIALS_IN = `(SELECT decode(h, 'hex') FROM unnest($1::text[]) AS h)`;

/** The settlement of a packet just settled to `payeeOwner`. */
function newSettlement({ header, coins, packetHash }: VerifiedPacket, payeeOwner: string): Settlement {
  return {
    packetHash,
    type: header.type,
    payerCardId: header.payerCardId,
    payerCounter: header.payerCounter,
    payeeOwner,
    amountFen: header.amountFen,
    serials: coins.map((c) => c.body.serial),
    replayed: false,
  };
}

/** Aborts the transaction of #settleFast: the packet is not the plain case, #settleIn decides. */
class FastPathMiss extends Error {}

/** Aborts the transaction of a loop that would record a proof: the loop is left to ordinary settlement. */
class LoopNotSettledError extends Error {}

/** SettleOptions evidence from a row of the retry queue. */
function evidenceOptions(kind: string | null, evidence: Uint8Array | null): Partial<SettleOptions> {
  if (!evidence) return {};
  if (kind === 'import-response') return { importResponse: evidence };
  if (kind === 'opened') return { settlementBody: evidence.subarray(0, evidence.length - SEAL_LENGTH), withdrawal: withdrawalSealCoder.decode(evidence.subarray(evidence.length - SEAL_LENGTH)) };
  return { settlementBody: evidence };
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}

/** The registry. Open with Registry.open; close when done. */
export class Registry {
  readonly db: Db;
  readonly #anchors: PacketAnchors | undefined;
  readonly #keys: DenominationKeys | undefined;
  readonly #pool: WorkerPool<DepositVerifyTask, VerifiedPacket> | undefined;
  #retrying = false;

  private constructor(db: Db, opts: RegistryOpenOptions) {
    this.db = db;
    this.#anchors = opts.trust
      ? { coinVerifier: coinVerifiers(opts.trust.coinKeys, opts.verification, opts.verifierWindowBits ?? DEFAULT_VERIFIER_WINDOW_BITS), kgcSignMasterPublicKey: opts.trust.kgcSignMasterPublicKey.slice() }
      : undefined;
    this.#keys = opts.mintMaster ? new DenominationKeys(opts.mintMaster) : undefined;
    const workers = opts.verifyWorkers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError('verifyWorkers must be a non-negative integer');
    if (workers > 0 && opts.trust) {
      const data: DepositVerifyWorkerData = {
        coinKeys: opts.trust.coinKeys.map((k) => ({ keyIndex: k.keyIndex, publicKey: k.publicKey.slice() })),
        kgcSignMasterPublicKey: opts.trust.kgcSignMasterPublicKey.slice(),
        ...(opts.verification ? { verification: opts.verification } : {}),
        windowBits: opts.verifierWindowBits ?? DEFAULT_VERIFIER_WINDOW_BITS,
        ...(opts.mintMaster ? { mintMaster: opts.mintMaster.slice() } : {}),
      };
      this.#pool = new WorkerPool(siblingModule(import.meta.url, 'deposit-verify-worker'), { size: workers, data });
    }
  }

  /** Opens (and creates the schema of) the registry: PGlite in memory by default, a data directory, a PostgreSQL server, or several (`shards`). */
  static async open(opts: RegistryOpenOptions = {}): Promise<Registry> {
    let db: Db;
    if (opts.shards) {
      if (opts.connectionString) throw new TypeError('Registry.open: give connectionString or shards, not both');
      db = await ShardedDb.open({ connectionStrings: opts.shards, schema: opts.schema });
    } else if (opts.connectionString) {
      if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) throw new RangeError('schema name must be a lower-case SQL identifier');
      db = await PostgresDb.open({ connectionString: opts.connectionString, schema: opts.schema });
      if (opts.schema) await db.exec(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } else {
      db = await PgliteDb.open({ dataDir: opts.dataDir });
    }
    return Registry.onDb(db, opts);
  }

  /** A registry on an already open database (creates the schema when missing). */
  static async onDb(db: Db, opts: RegistryOpenOptions = {}): Promise<Registry> {
    await db.exec(schemaSql({ coinPartitions: opts.coinPartitions }));
    return new Registry(db, opts);
  }

  /** Records freshly minted coins with their first owner (normally CENTRAL_BANK), one transaction. */
  async recordMint(coins: readonly Coin[], owner: string = CENTRAL_BANK): Promise<void> {
    if (coins.length === 0) return;
    const cols = {
      s: coins.map((c) => bytesToHex(c.body.serial)),
      d: coins.map((c) => c.body.denominationFen),
      k: coins.map((c) => c.body.keyIndex),
      i: coins.map((c) => c.body.issueDate),
      e: coins.map((c) => c.body.expiryDate),
      c: coins.map((c) => bytesToHex(coinCoder.encode(c))),
    };
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO coins (serial, denomination_fen, key_index, issue_date, expiry_date, coin, owner)
         SELECT decode(s, 'hex'), d, k, i, e, decode(c, 'hex'), $7
         FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[]) AS t(s, d, k, i, e, c)`,
        [cols.s, cols.d, cols.k, cols.i, cols.e, cols.c, owner],
      );
      await tx.query(`INSERT INTO flows (kind, serial, from_owner, to_owner) SELECT 'mint', decode(h, 'hex'), NULL, $2 FROM unnest($1::text[]) AS h`, [cols.s, owner]);
    });
  }

  /**
   * Moves coins from `from` to `to` in one transaction, refusing (NotOwnerError, nothing moved) when any
   * coin is unknown or not owned by `from`. Security: the caller has authenticated the move (e.g. the
   * card's TAC for a withdrawal); the registry only guarantees single ownership.
   */
  async transfer(serials: readonly Uint8Array[], from: string, to: string, flow: FlowInfo = {}): Promise<void> {
    const hexes = hexList(serials);
    await this.db.transaction(async (tx) => {
      const owners = await this.#lockOwners(tx, hexes);
      for (const h of hexes) {
        const owner = owners.get(h);
        if (owner !== from) throw new NotOwnerError(owner === undefined ? 'unknown-coin' : 'not-owner', hexToBytes(h), from, owner);
      }
      await this.#move(tx, hexes, from, to, { kind: 'transfer', ...flow });
    });
  }

  /** Current owner of a coin, undefined when never minted. */
  async ownerOf(serial: Uint8Array): Promise<string | undefined> {
    const r = await this.db.query<{ owner: string }>('SELECT owner FROM coins WHERE serial = $1', [serial]);
    return r.rows[0]?.owner;
  }

  /** Sum of the denominations an owner holds, in fen. */
  async balanceOf(owner: string): Promise<number> {
    const r = await this.db.query<{ s: string }>('SELECT COALESCE(SUM(denomination_fen), 0)::text AS s FROM coins WHERE owner = $1', [owner]);
    return Number(r.rows[0].s);
  }

  /** The coins an owner holds, largest first (a vault picks coins for a withdrawal from these). */
  async coinsOf(owner: string): Promise<Coin[]> {
    const r = await this.db.query<{ coin: Uint8Array }>('SELECT coin FROM coins WHERE owner = $1 ORDER BY denomination_fen DESC, serial', [owner]);
    return r.rows.map((row) => coinCoder.decode(row.coin));
  }

  /** Total of every coin ever minted, in fen (value conservation checks). */
  async mintedTotal(): Promise<number> {
    const r = await this.db.query<{ s: string }>('SELECT COALESCE(SUM(denomination_fen), 0)::text AS s FROM coins');
    return Number(r.rows[0].s);
  }

  /** Card IDs on the blacklist, sorted (terminals load this list and check it at SELECT). */
  async blacklist(): Promise<string[]> {
    const r = await this.db.query<{ card_id: string }>('SELECT card_id FROM blacklist ORDER BY card_id');
    return r.rows.map((row) => row.card_id);
  }

  /** Double-spend proofs, optionally for one card, oldest first. */
  async proofs(payerCardId?: string): Promise<DoubleSpendProof[]> {
    const r = await this.db.query<{ id: unknown; reason: ProofReason; payer_card_id: string; payer_identity: string; serial: Uint8Array | null; packet_a: Uint8Array; packet_b: Uint8Array }>(
      `SELECT id, reason, payer_card_id, payer_identity, serial, packet_a, packet_b FROM double_spend_proofs
       WHERE $1::text IS NULL OR payer_card_id = $1 ORDER BY id`,
      [payerCardId ?? null],
    );
    return r.rows.map((row) => ({
      id: Number(row.id),
      reason: row.reason,
      payerCardId: row.payer_card_id,
      payerIdentity: row.payer_identity,
      ...(row.serial ? { serial: row.serial } : {}),
      packetA: row.packet_a,
      packetB: row.packet_b,
    }));
  }

  /**
   * Every check of settlement that needs no database (verifyDeposit), under the registry's trust
   * anchors and, when it holds the mint master, the denomination keys. Throws the registry's error.
   */
  verifyPacket(packetBytes: Uint8Array, opts: SettleOptions): VerifiedPacket {
    if (!this.#anchors) throw new TypeError('registry opened without trust anchors cannot settle');
    return verifyDeposit(packetBytes, opts, this.#anchors, this.#keys);
  }

  /**
   * Central-bank settlement of one export packet: the same packet again returns the earlier settlement
   * (replayed = true); otherwise verifyPacket, then in one transaction: the payer card must own every coin
   * and its (card ID, counter) must be fresh; ownership moves to the payee (the payee card when the
   * deposit brings its receipt, else payeeOwner, else the withdrawal code). A coin an earlier packet of
   * this payer already moved ('serial-reused'), a second packet with one counter ('counter-reused'), a
   * fork of the card's export chain ('chain-fork'), or coins of a transfer whose code was redeemed that
   * the payee's card took as well ('code-and-card') store a proof, blacklist the card that did it and
   * throw DoubleSpendError. An inconclusive reuse throws CustodyPendingError and waits in the retry
   * queue, which every settlement that moves coins works through; with `online`, it is only thrown.
   */
  async settle(packetBytes: Uint8Array, opts: SettleOptions): Promise<Settlement> {
    return this.#settle(packetBytes, opts);
  }

  /** settle(), with the packet's verification already started (settleMany) or not. */
  async #settle(packetBytes: Uint8Array, opts: SettleOptions, verified?: Promise<VerifiedPacket>): Promise<Settlement> {
    const packetHash = sm3(packetBytes);
    const earlier = await this.#settlementByHash(this.db, packetHash);
    if (earlier) {
      // The payee card's receipt for a transfer settled to its withdrawal code: the card took the coins.
      if (opts.importResponse && isCodeOwner(earlier.payeeOwner)) return this.#takenOnCard(packetBytes, opts, earlier);
      return earlier;
    }
    return this.#settleVerified(packetBytes, opts, await (verified ?? this.#verify(packetBytes, opts)));
  }

  /**
   * settle() for each deposit in turn, as if called one after the other, and what each answered (a
   * refusal does not stop the others). With `verifyWorkers`, up to `ahead` packets (default four per
   * worker) are verified in the workers while earlier ones are written, one transaction per packet.
   */
  async settleMany(deposits: readonly Deposit[], opts: { ahead?: number } = {}): Promise<DepositOutcome[]> {
    const ahead = this.#pool ? (opts.ahead ?? 4 * this.#pool.size) : 0;
    const started = new Map<number, Promise<VerifiedPacket>>();
    const start = (i: number) => {
      if (i >= deposits.length || started.has(i)) return;
      const p = this.#verify(deposits[i].packet, deposits[i].options);
      p.catch(() => undefined); // awaited in order below, or not at all for a replay
      started.set(i, p);
    };
    const out: DepositOutcome[] = [];
    for (let i = 0; i < deposits.length; i++) {
      for (let j = i; j < i + ahead; j++) start(j);
      try {
        out.push({ ok: true, settlement: await this.#settle(deposits[i].packet, deposits[i].options, started.get(i)) });
      } catch (error) {
        out.push({ ok: false, error });
      }
      started.delete(i);
    }
    return out;
  }

  /** verifyPacket, in a worker when the registry has them; a packet a worker refuses is checked here again for its error. */
  async #verify(packetBytes: Uint8Array, opts: SettleOptions): Promise<VerifiedPacket> {
    if (!this.#pool) return this.verifyPacket(packetBytes, opts);
    const { payeeIdentity, importResponse, settlementBody, withdrawal } = opts;
    const evidence: DepositEvidence = { payeeIdentity, ...(importResponse ? { importResponse } : {}), ...(settlementBody ? { settlementBody } : {}), ...(withdrawal ? { withdrawal } : {}) };
    try {
      return await this.#pool.run({ packet: packetBytes, evidence });
    } catch (e) {
      if (e instanceof WorkerTaskError) return this.verifyPacket(packetBytes, opts);
      throw e;
    }
  }

  /** settle() after the replay check, with the packet verified. */
  async #settleVerified(packetBytes: Uint8Array, opts: SettleOptions, v: VerifiedPacket): Promise<Settlement> {
    const packetHash = v.packetHash;
    const payeeOwner = v.receipt ? cardOwner(v.receipt.body.payeeCardId) : (opts.payeeOwner ?? (opts.withdrawal ? withdrawalCodeOwner(opts.withdrawal.code) : undefined));
    if (!payeeOwner) throw new TypeError('settle: payeeOwner is required for a packet without receipt or withdrawal code');
    if (v.header.type === 'CHANGE' && !opts.payerOwner) throw new TypeError('settle: a CHANGE packet needs payerOwner, the owner of the terminal float');
    const payer = v.header.type === 'CHANGE' ? opts.payerOwner! : cardOwner(v.header.payerCardId);
    for (let attempt = 0; ; attempt++) {
      try {
        // The common case first: every coin is the payer's and the packet is new to its card. Its one
        // statement writes coins and logs together, which a registry across servers cannot (sharded-db.ts).
        const fast = (this.db.servers ?? 1) > 1 ? undefined : await this.db
          .transaction(async (tx) => {
            const f = await this.#settleFast(tx, v, packetBytes, payer, payeeOwner);
            if (opts.online) await opts.online.record(tx, f.settlement);
            return f;
          })
          .catch((e: unknown) => {
            if (e instanceof FastPathMiss) return undefined;
            throw e;
          });
        if (fast) {
          if (fast.pendingLeft) await this.retryPending();
          return fast.settlement;
        }
        const outcome = await this.db.transaction(async (tx) => {
          const o = await this.#settleIn(tx, v, packetBytes, payer, payeeOwner);
          if (opts.online && !('proof' in o) && !o.replayed) await opts.online.record(tx, o);
          return o;
        });
        if ('proof' in outcome) {
          await this.#dropPending(packetHash);
          throw new DoubleSpendError(outcome.proof);
        }
        await this.#dropPending(packetHash);
        await this.retryPending();
        return outcome;
      } catch (e) {
        // A concurrent settlement of the same packet or counter won the unique index: retry, which then sees it.
        if (isUniqueViolation(e) && attempt < 2) continue;
        if (e instanceof CustodyPendingError && !opts.online) {
          await this.#queuePending(packetBytes, opts, e, v, payer, payeeOwner);
          // This packet may close a loop of waiting packets (#resolveLoops), which then settles it too.
          await this.retryPending();
          const settled = await this.#settlementByHash(this.db, packetHash);
          if (settled) return { ...settled, replayed: false };
        }
        throw e;
      }
    }
  }

  /** Packets waiting in the retry queue (CustodyPendingError), oldest first. */
  async pending(): Promise<PendingPacket[]> {
    const r = await this.db.query<{ packet_hash: Uint8Array; payee_identity: string; reason: string; since: Date | string }>(
      'SELECT packet_hash, payee_identity, reason, since FROM pending_packets ORDER BY since, packet_hash',
    );
    return r.rows.map((row) => ({ packetHash: row.packet_hash, payeeIdentity: row.payee_identity, reason: row.reason, since: new Date(row.since) }));
  }

  /**
   * Settles again every packet of the retry queue until none moves: those that settle (or turn out to
   * be a double spend, whose proof is then recorded) leave the queue; those still pending stay.
   */
  async retryPending(): Promise<{ settled: Settlement[]; doubleSpends: DoubleSpendProof[] }> {
    const out = { settled: [] as Settlement[], doubleSpends: [] as DoubleSpendProof[] };
    if (this.#retrying) return out;
    this.#retrying = true;
    try {
      for (let progress = true; progress; ) {
        progress = false;
        const rows = await this.db.query<{ packet: Uint8Array; payee_identity: string; payee_owner: string | null; payer_owner: string | null; evidence: Uint8Array | null; evidence_kind: string | null }>(
          'SELECT packet, payee_identity, payee_owner, payer_owner, evidence, evidence_kind FROM pending_packets ORDER BY since, packet_hash',
        );
        for (const row of rows.rows) {
          const opts: SettleOptions = {
            payeeIdentity: row.payee_identity,
            ...(row.payee_owner ? { payeeOwner: row.payee_owner } : {}),
            ...(row.payer_owner ? { payerOwner: row.payer_owner } : {}),
            ...evidenceOptions(row.evidence_kind, row.evidence),
          };
          try {
            out.settled.push(await this.settle(row.packet, opts));
            progress = true;
          } catch (e) {
            if (e instanceof DoubleSpendError) {
              out.doubleSpends.push(e.proof);
              progress = true;
            } else if (!(e instanceof CustodyPendingError)) {
              // Refused for good (it was checked when it was queued, so this is rare): it leaves the queue.
              await this.#dropPending(sm3(row.packet));
              progress = true;
            }
          }
        }
        if (!progress && rows.rows.length > 0) progress = await this.#resolveLoops();
      }
    } finally {
      this.#retrying = false;
    }
    return out;
  }

  /**
   * Moves every coin held under a withdrawal code to `toOwner` (the bank paying the payee out), once:
   * UnknownWithdrawalCodeError when nothing waits under it (unknown, already redeemed, or taken onto the
   * payee's card, shown by its receipt or by its spending the coins).
   */
  async redeem(withdrawalCode: string, toOwner: string): Promise<{ serials: Uint8Array[]; amountFen: number }> {
    const from = withdrawalCodeOwner(withdrawalCode);
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{ h: string; d: string }>(`SELECT encode(serial, 'hex') AS h, denomination_fen::text AS d FROM coins WHERE owner = $1 ORDER BY serial FOR UPDATE`, [from]);
      if (r.rows.length === 0) throw new UnknownWithdrawalCodeError();
      const hexes = r.rows.map((row) => row.h);
      await this.#move(tx, hexes, from, toOwner, { kind: 'redeem' });
      return { serials: hexes.map((h) => hexToBytes(h)), amountFen: r.rows.reduce((s, row) => s + Number(row.d), 0) };
    });
  }

  /** Closes the database and wipes the denomination keys. */
  async close(): Promise<void> {
    await this.#pool?.close();
    this.#keys?.wipe();
    await this.db.close();
  }

  // ---- internals -------------------------------------------------------------------------------------

  async #lockOwners(tx: Queryable, hexes: string[]): Promise<Map<string, string>> {
    const r = await tx.query<{ h: string; owner: string }>(`SELECT encode(serial, 'hex') AS h, owner FROM coins WHERE serial IN ${SERIALS_IN} FOR UPDATE`, [hexes]);
    return new Map(r.rows.map((row) => [row.h, row.owner]));
  }

  async #move(tx: Queryable, hexes: string[], from: string, to: string, flow: FlowInfo): Promise<void> {
    const u = await tx.query(`UPDATE coins SET owner = $2, owner_since = now() WHERE serial IN ${SERIALS_IN} AND owner = $3`, [hexes, to, from]);
    if (u.affectedRows !== hexes.length) throw new Error(`registry: moved ${u.affectedRows} of ${hexes.length} coins`); // cannot happen under the row locks
    await this.#recordFlows(tx, hexes, from, to, flow);
  }

  /** Appends one flow row per coin (the owner change itself, or a loop settled late that leaves the owner). */
  async #recordFlows(tx: Queryable, hexes: string[], from: string, to: string, flow: FlowInfo): Promise<void> {
    await tx.query(
      `INSERT INTO flows (kind, serial, from_owner, to_owner, payer_card_id, payer_counter, packet_hash, withdrawal_code)
       SELECT $2, decode(h, 'hex'), $3, $4, $5, $6, $7, $8 FROM unnest($1::text[]) AS h`,
      [hexes, flow.kind ?? 'transfer', from, to, flow.payerCardId ?? null, flow.payerCounter ?? null, flow.packetHash ?? null, flow.withdrawalCode ?? null],
    );
  }

  async #settlementByHash(q: Queryable, packetHash: Uint8Array): Promise<Settlement | undefined> {
    const r = await q.query<{ type: ExportHeader['type']; payer_card_id: string; payer_counter: unknown; payee_owner: string; amount_fen: unknown }>(
      'SELECT type, payer_card_id, payer_counter, payee_owner, amount_fen FROM packets WHERE packet_hash = $1',
      [packetHash],
    );
    const p = r.rows[0];
    if (!p) return undefined;
    const f = await q.query<{ serial: Uint8Array }>(`SELECT serial FROM flows WHERE packet_hash = $1 AND kind = 'deposit' ORDER BY id`, [packetHash]);
    return {
      packetHash,
      type: p.type,
      payerCardId: p.payer_card_id,
      payerCounter: Number(p.payer_counter),
      payeeOwner: p.payee_owner,
      amountFen: Number(p.amount_fen),
      serials: f.rows.map((row) => row.serial),
      replayed: true,
    };
  }

  /**
   * The checks and the move of settle(), in the caller's transaction. `history`: coins of a loop that
   * already came back to this packet's payer and left it again in a settled packet (#resolveLoops):
   * their flow is recorded, their owner stays.
   */
  async #settleIn(tx: Queryable, v: VerifiedPacket, packetBytes: Uint8Array, payer: string, payeeOwner: string, history: ReadonlySet<string> = new Set()): Promise<Settlement | { proof: DoubleSpendProof }> {
    const { header, coins, packetHash } = v;
    // The same packet settled concurrently since the check in settle() shows up below as the earlier
    // packet of a reuse; it is a replay, never proof against the payer.
    const replay = async (earlier: { packet_hash: Uint8Array }) => (equalBytes(earlier.packet_hash, packetHash) ? this.#settlementByHash(tx, packetHash) : undefined);
    const payerId = payerKey(header);
    const hexes = coins.map((c) => bytesToHex(c.body.serial));
    const owners = await this.#lockOwners(tx, hexes);

    // 1. A coin this payer already paid away in an earlier packet: the coin was spent twice.
    for (const h of hexes) {
      const owner = owners.get(h);
      if (owner === undefined || owner === payer || history.has(h)) continue;
      const prior = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array }>(
        `SELECT p.packet, p.packet_hash FROM flows f JOIN packets p ON p.packet_hash = f.packet_hash
         WHERE f.serial = decode($1, 'hex') AND f.from_owner = $2 AND f.kind = 'deposit' ORDER BY f.id DESC LIMIT 1`,
        [h, payer],
      );
      const earlier = prior.rows[0];
      if (!earlier) {
        // Coins this payer received in a transfer with a withdrawal code that was deposited to the code:
        // spending them shows the payer's card took them (it can spend only what it holds).
        const viaCode = await this.#codeTransferOf(tx, h, header.payerIdentity);
        if (!viaCode) {
          // Another card holds the coin, or a waiting packet pays it to this payer: the packets that
          // brought it here offline are still to come (a vault's or a code's coin cannot move offline).
          if (owner.startsWith('card:')) throw new CustodyPendingError(hexToBytes(h), header.payerCounter, `held by ${owner} in the registry; the packet that paid it to ${payer} has not come in`);
          if (await this.#pendingPaysTo(tx, h, payer)) throw new CustodyPendingError(hexToBytes(h), header.payerCounter, `the packet that paid it to ${payer} is itself waiting`);
          continue;
        }
        if (owner === viaCode.codeOwner) {
          await this.#move(tx, [h], owner, payer, { kind: 'taken-on-card', packetHash: viaCode.packetHash });
          owners.set(h, payer);
          continue;
        }
        // The code was redeemed (cash paid out) and the payee's card spends the same coins.
        const accused = payerOf(header);
        return { proof: await this.#recordProof(tx, 'code-and-card', accused, hexToBytes(h), viaCode.packet, packetBytes) };
      }
      const replayed = await replay(earlier);
      if (replayed) return replayed;
      // Two packets of one card spending one coin prove double spending only when the coin cannot have
      // come back to the card between them: a return (an import or a load) takes a counter of its own,
      // so counters at most one apart leave no room; and two packets chained to the same previous export
      // (value-formats: previousExportHash) fork the card's export history, which an honest card never
      // does. Otherwise the older packet waits for the return to be deposited.
      const e = exportPacketCoder.decode(earlier.packet).header;
      const conclusive = Math.abs(e.payerCounter - header.payerCounter) <= 1 || equalBytes(e.previousExportHash, header.previousExportHash);
      if (conclusive) return { proof: await this.#recordProof(tx, 'serial-reused', payerOf(header), hexToBytes(h), earlier.packet, packetBytes) };
      throw new CustodyPendingError(hexToBytes(h), header.payerCounter, `left ${payer} again at counter ${e.payerCounter}; its return to the payer has not come in`);
    }
    // 2. A different packet already settled under this (card ID, counter): the counter was used twice.
    const sameCounter = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array }>(
      'SELECT packet, packet_hash FROM packets WHERE payer_card_id = $1 AND payer_counter = $2',
      [payerId, header.payerCounter],
    );
    const other = sameCounter.rows[0];
    if (other) return (await replay(other)) ?? { proof: await this.#recordProof(tx, 'counter-reused', payerOf(header), undefined, other.packet, packetBytes) };
    // 2b. Another packet of this card chained to the same previous export: the card's history forked,
    // as only a cloned or restored card can make it (terminal CHANGE packets have no card chain).
    if (header.type !== 'CHANGE') {
      const sameParent = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array }>(
        'SELECT packet, packet_hash FROM packets WHERE payer_card_id = $1 AND previous_export_hash = $2 AND packet_hash <> $3 LIMIT 1',
        [payerId, header.previousExportHash, packetHash],
      );
      const forked = sameParent.rows[0];
      if (forked) return { proof: await this.#recordProof(tx, 'chain-fork', payerOf(header), undefined, forked.packet, packetBytes) };
    }
    // 3. Coins the payer never held (or that left it online): refused without proof.
    for (const h of hexes) {
      const owner = owners.get(h);
      if (owner !== payer && !history.has(h)) throw new NotOwnerError(owner === undefined ? 'unknown-coin' : 'not-owner', hexToBytes(h), payer, owner);
    }
    await tx.query(
      `INSERT INTO packets (packet_hash, type, payer_card_id, payer_counter, payer_identity, payee_owner, amount_fen, packet, previous_export_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [packetHash, header.type, payerId, header.payerCounter, header.payerIdentity, payeeOwner, header.amountFen, packetBytes, header.previousExportHash],
    );
    const flow: FlowInfo = { kind: 'deposit', payerCardId: payerId, payerCounter: header.payerCounter, packetHash };
    const moved = hexes.filter((h) => !history.has(h));
    if (moved.length) await this.#move(tx, moved, payer, payeeOwner, flow);
    if (moved.length < hexes.length) await this.#recordFlows(tx, hexes.filter((h) => history.has(h)), payer, payeeOwner, flow);
    return newSettlement(v, payeeOwner);
  }

  /**
   * The settlement of #settleIn when it is plain: no packet of the payer under this counter, none
   * chained to the same previous export, and every coin owned by the payer (so none of #settleIn's
   * reuse, custody or proof rules applies). Two statements: the check on packets, then one that records
   * the packet, moves the coins (no separate locking pass: the UPDATE locks them), records one flow per
   * coin in packet order, and takes the packet out of the retry queue. The coins are joined to the
   * serial list and the owner test is written with IS NOT DISTINCT FROM, which no index serves, so
   * that they are found by primary key and never by scanning every coin of the payer (PGlite keeps no
   * planner statistics). Anything else throws
   * FastPathMiss, which rolls the transaction back for #settleIn to decide. `pendingLeft`: whether other
   * packets wait in the retry queue.
   */
  async #settleFast(tx: Queryable, v: VerifiedPacket, packetBytes: Uint8Array, payer: string, payeeOwner: string): Promise<{ settlement: Settlement; pendingLeft: boolean }> {
    const { header, coins, packetHash } = v;
    const payerId = payerKey(header);
    const seen = await tx.query(
      `SELECT 1 FROM packets WHERE payer_card_id = $1 AND (payer_counter = $2 OR ($5 AND previous_export_hash = $3 AND packet_hash <> $4)) LIMIT 1`,
      [payerId, header.payerCounter, header.previousExportHash, packetHash, header.type !== 'CHANGE'],
    );
    if (seen.rows.length > 0) throw new FastPathMiss();
    const hexes = coins.map((c) => bytesToHex(c.body.serial));
    const r = await tx.query<{ moved: unknown; pending: unknown }>(
      `WITH pkt AS (
         INSERT INTO packets (packet_hash, type, payer_card_id, payer_counter, payer_identity, payee_owner, amount_fen, packet, previous_export_hash)
         VALUES ($4, $6, $5, $7, $8, $3, $9, $10, $11)),
       moved AS (
         UPDATE coins c SET owner = $3, owner_since = now() FROM unnest($1::text[]) AS s(h)
         WHERE c.serial = decode(s.h, 'hex') AND c.owner IS NOT DISTINCT FROM $2 RETURNING c.serial),
       flow AS (
         INSERT INTO flows (kind, serial, from_owner, to_owner, payer_card_id, payer_counter, packet_hash)
         SELECT 'deposit', decode(h, 'hex'), $2, $3, $5, $7, $4 FROM unnest($1::text[]) WITH ORDINALITY AS t(h, i) ORDER BY i),
       unqueued AS (DELETE FROM pending_packets WHERE packet_hash = $4),
       unqueued_coins AS (DELETE FROM pending_coins WHERE packet_hash = $4)
       SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM pending_packets WHERE packet_hash <> $4) AS pending`,
      [hexes, payer, payeeOwner, packetHash, payerId, header.type, header.payerCounter, header.payerIdentity, header.amountFen, packetBytes, header.previousExportHash],
    );
    if (Number(r.rows[0].moved) !== hexes.length) throw new FastPathMiss();
    return { settlement: newSettlement(v, payeeOwner), pendingLeft: Number(r.rows[0].pending) > 0 };
  }

  /** Stores a proof against the card that spent twice and blacklists it. */
  async #recordProof(tx: Queryable, reason: ProofReason, accused: { cardId: string; identity: string }, serial: Uint8Array | undefined, packetA: Uint8Array, packetB: Uint8Array): Promise<DoubleSpendProof> {
    const r = await tx.query<{ id: unknown }>(
      `INSERT INTO double_spend_proofs (payer_card_id, payer_identity, reason, serial, packet_a, packet_b) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [accused.cardId, accused.identity, reason, serial ?? null, packetA, packetB],
    );
    await tx.query(`INSERT INTO blacklist (card_id, reason) VALUES ($1, $2) ON CONFLICT (card_id) DO NOTHING`, [accused.cardId, `double spend: ${reason}`]);
    return {
      id: Number(r.rows[0].id),
      reason,
      payerCardId: accused.cardId,
      payerIdentity: accused.identity,
      ...(serial ? { serial } : {}),
      packetA,
      packetB,
    };
  }

  /**
   * The last deposit of a coin into a withdrawal-code owner by a transfer made out to `payeeIdentity`:
   * that transfer's packet and code owner, or undefined.
   */
  async #codeTransferOf(tx: Queryable, serialHex: string, payeeIdentity: string): Promise<{ packet: Uint8Array; packetHash: Uint8Array; codeOwner: string } | undefined> {
    const r = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array; to_owner: string }>(
      `SELECT p.packet, p.packet_hash, f.to_owner FROM flows f JOIN packets p ON p.packet_hash = f.packet_hash
       WHERE f.serial = decode($1, 'hex') AND f.kind = 'deposit' AND f.to_owner LIKE 'code:%' ORDER BY f.id DESC LIMIT 1`,
      [serialHex],
    );
    const row = r.rows[0];
    if (!row || exportPacketCoder.decode(row.packet).header.payeeIdentity !== payeeIdentity) return undefined;
    return { packet: row.packet, packetHash: row.packet_hash, codeOwner: row.to_owner };
  }

  /**
   * The payee card's receipt for a transfer already settled to its withdrawal code: the coins still
   * under the code go to the card (the code can no longer be redeemed); coins the code already paid
   * out prove the payee took them twice ('code-and-card' against the payee card).
   */
  async #takenOnCard(packetBytes: Uint8Array, opts: SettleOptions, earlier: Settlement): Promise<Settlement> {
    const v = this.verifyPacket(packetBytes, opts);
    const receipt = v.receipt!;
    const card = cardOwner(receipt.body.payeeCardId);
    const outcome = await this.db.transaction(async (tx): Promise<Settlement | { proof: DoubleSpendProof }> => {
      const hexes = hexList(earlier.serials);
      const owners = await this.#lockOwners(tx, hexes);
      const waiting = hexes.filter((h) => owners.get(h) === earlier.payeeOwner);
      const gone = hexes.filter((h) => owners.get(h) !== earlier.payeeOwner);
      for (const h of gone) {
        const redeemed = await tx.query(`SELECT 1 FROM flows WHERE serial = decode($1, 'hex') AND kind = 'redeem' AND from_owner = $2 LIMIT 1`, [h, earlier.payeeOwner]);
        if (redeemed.rows.length > 0) {
          const accused = { cardId: receipt.body.payeeCardId, identity: receipt.body.payeeIdentity };
          return { proof: await this.#recordProof(tx, 'code-and-card', accused, hexToBytes(h), packetBytes, opts.importResponse!) };
        }
      }
      if (waiting.length > 0) await this.#move(tx, waiting, earlier.payeeOwner, card, { kind: 'taken-on-card', packetHash: v.packetHash });
      return { ...earlier, payeeOwner: card, replayed: waiting.length === 0 };
    });
    if ('proof' in outcome) throw new DoubleSpendError(outcome.proof);
    return outcome;
  }

  async #queuePending(packetBytes: Uint8Array, opts: SettleOptions, e: CustodyPendingError, v: VerifiedPacket, payer: string, payeeOwner: string): Promise<void> {
    const [kind, evidence] = opts.importResponse
      ? ['import-response', opts.importResponse]
      : opts.settlementBody && opts.withdrawal
        ? ['opened', concatBytes(opts.settlementBody, withdrawalSealCoder.encode(opts.withdrawal))]
        : opts.settlementBody
          ? ['settlement-body', opts.settlementBody]
          : [null, null];
    await this.db.transaction(async (tx) => {
      const r = await tx.query(
        `INSERT INTO pending_packets (packet_hash, packet, payee_identity, payee_owner, payer_owner, evidence, evidence_kind, from_owner, to_owner, payer_counter, reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (packet_hash) DO NOTHING`,
        [v.packetHash, packetBytes, opts.payeeIdentity, opts.payeeOwner ?? null, opts.payerOwner ?? null, evidence, kind, payer, payeeOwner, v.header.payerCounter, e.message],
      );
      if (r.affectedRows === 0) return;
      await tx.query(`INSERT INTO pending_coins (packet_hash, serial) SELECT $1, decode(h, 'hex') FROM unnest($2::text[]) AS h`, [v.packetHash, v.coins.map((c) => bytesToHex(c.body.serial))]);
    });
  }

  /** Whether a packet of the retry queue pays this coin to `owner`. */
  async #pendingPaysTo(tx: Queryable, serialHex: string, owner: string): Promise<boolean> {
    const r = await tx.query(
      `SELECT 1 FROM pending_coins c JOIN pending_packets p ON p.packet_hash = c.packet_hash WHERE c.serial = decode($1, 'hex') AND p.to_owner = $2 LIMIT 1`,
      [serialHex, owner],
    );
    return r.rows.length > 0;
  }

  /**
   * Settles loops of waiting packets that deposits out of order leave behind: a coin paid A -> B -> ... -> A
   * offline, then paid on by A in a packet already settled. Each packet of the loop waits for another of
   * the loop, so none settles alone. A loop settles in one transaction, in the order it was paid, when
   * it starts at a packet of A whose counter is below the settled one that took the coin from A again:
   * the loop's flows are recorded and the coin's owner stays where that later packet put it. Every other
   * check of settlement (counters, chain forks, proofs) applies. Returns whether a loop settled.
   */
  async #resolveLoops(): Promise<boolean> {
    const rows = (
      await this.db.query<{ packet_hash: Uint8Array; packet: Uint8Array; payee_identity: string; payee_owner: string | null; payer_owner: string | null; evidence: Uint8Array | null; evidence_kind: string | null; from_owner: string; to_owner: string; payer_counter: unknown }>(
        'SELECT packet_hash, packet, payee_identity, payee_owner, payer_owner, evidence, evidence_kind, from_owner, to_owner, payer_counter FROM pending_packets ORDER BY since, packet_hash',
      )
    ).rows.map((row) => ({ ...row, id: bytesToHex(row.packet_hash), counter: Number(row.payer_counter) }));
    const coinRows = await this.db.query<{ packet_hash: Uint8Array; h: string }>(`SELECT packet_hash, encode(serial, 'hex') AS h FROM pending_coins`);
    const coinsOf = new Map<string, string[]>();
    for (const c of coinRows.rows) coinsOf.set(bytesToHex(c.packet_hash), [...(coinsOf.get(bytesToHex(c.packet_hash)) ?? []), c.h]);
    for (const start of rows) {
      const history = new Map<string, Set<string>>();
      const order = [start];
      let closed = true;
      for (const h of coinsOf.get(start.id) ?? []) {
        const owner = await this.ownerOf(hexToBytes(h));
        if (owner === start.from_owner) continue;
        const later = await this.db.query(
          `SELECT 1 FROM flows f JOIN packets p ON p.packet_hash = f.packet_hash
           WHERE f.serial = decode($1, 'hex') AND f.from_owner = $2 AND f.kind = 'deposit' AND p.payer_counter > $3 LIMIT 1`,
          [h, start.from_owner, start.counter],
        );
        if (later.rows.length === 0) {
          closed = false;
          break;
        }
        const path = [start];
        for (let at = start.to_owner; at !== start.from_owner; ) {
          const next = rows.find((q) => !path.includes(q) && q.from_owner === at && (coinsOf.get(q.id) ?? []).includes(h));
          if (!next) break;
          path.push(next);
          at = next.to_owner;
        }
        if (path[path.length - 1].to_owner !== start.from_owner) {
          closed = false;
          break;
        }
        for (const q of path) {
          if (!order.includes(q)) order.push(q);
          history.set(q.id, (history.get(q.id) ?? new Set()).add(h));
        }
      }
      if (!closed || history.size === 0) continue;
      try {
        await this.db.transaction(async (tx) => {
          for (const q of order) {
            const opts: SettleOptions = { payeeIdentity: q.payee_identity, ...(q.payee_owner ? { payeeOwner: q.payee_owner } : {}), ...(q.payer_owner ? { payerOwner: q.payer_owner } : {}), ...evidenceOptions(q.evidence_kind, q.evidence) };
            const outcome = await this.#settleIn(tx, this.verifyPacket(q.packet, opts), q.packet, q.from_owner, q.to_owner, history.get(q.id) ?? new Set());
            if ('proof' in outcome) throw new LoopNotSettledError();
            await tx.query('DELETE FROM pending_packets WHERE packet_hash = $1', [q.packet_hash]);
            await tx.query('DELETE FROM pending_coins WHERE packet_hash = $1', [q.packet_hash]);
          }
        });
        return true;
      } catch (e) {
        // The loop does not hold together (a packet of it is still waiting on something else, or would
        // be proof): it stays queued, and an ordinary settlement or a later deposit takes it up.
        if (e instanceof LoopNotSettledError || e instanceof RegistryError) continue;
        throw e;
      }
    }
    return false;
  }

  async #dropPending(packetHash: Uint8Array): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM pending_packets WHERE packet_hash = $1', [packetHash]);
      await tx.query('DELETE FROM pending_coins WHERE packet_hash = $1', [packetHash]);
    });
  }
}
