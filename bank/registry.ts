/**
 * @module Central-bank coin registry on SQL (PGlite by default, PostgreSQL given a connection string):
 * minting records, vault and card ownership changes, settlement of signed export packets (GM/T 0044 SM9
 * payer signature, GB/T 32918 SM2 coin signatures) and double-spend proofs with the card blacklist.
 */
import type { TrustAnchors } from '../personalization/key-ceremony.js';
import {
  type Coin,
  COIN_LENGTH,
  COIN_SIGNED_LENGTH,
  coinCoder,
  type ExportHeader,
  exportBodyCoder,
  exportPacketCoder,
  PACKET_VERSION,
} from '../applet-spec/value-formats.js';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../crypto/bytes.js';
import { sm3 } from '../crypto/sm3.js';
import { sm9Decrypt, sm9Verify } from '../crypto/sm9/sm9.js';
import type { Db, Queryable } from './db.js';
import { checkCoin, type CoinVerifierLookup, coinVerifiers, DenominationKeys } from './mint.js';
import { PgliteDb } from './pglite-db.js';
import { PostgresDb } from './postgres-db.js';
import {
  type DoubleSpendProof,
  CustodyPendingError,
  DoubleSpendError,
  ExpiredCoinError,
  ForgedCoinError,
  NotOwnerError,
  TamperedPacketError,
  UnknownWithdrawalCodeError,
  WrongDenominationKeyError,
  WrongPayeeError,
} from './registry-errors.js';
import { type FlowKind, type ProofReason, schemaSql } from './schema.js';

export * from './registry-errors.js';

/** Owner of the coins in the central bank's vault. */
export const CENTRAL_BANK = 'central-bank';

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

const ZERO_CODE = '0'.repeat(16);
const utf8 = new TextEncoder();

/**
 * Owner string of coins waiting for a payee with no account: 'code:' || hex SM3(code digits as ASCII).
 * Only the hash is an owner; the code itself appears in the packet and the flow record.
 */
export function withdrawalCodeOwner(withdrawalCode: string): string {
  if (!/^\d{16}$/.test(withdrawalCode) || withdrawalCode === ZERO_CODE) throw new RangeError('withdrawal code must be 16 digits, not all zero');
  return `code:${bytesToHex(sm3(utf8.encode(withdrawalCode)))}`;
}

export interface RegistryOpenOptions {
  /** postgres://... : use that server; otherwise the embedded PGlite */
  connectionString?: string;
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
  /** window of the precomputed tables (default 10: ~0.5 s once per coin key, for a long-running central bank) */
  verifierWindowBits?: number;
}

/** Extra facts recorded with a move. */
export interface FlowInfo {
  kind?: Exclude<FlowKind, 'mint'>;
  payerCardId?: string;
  payerCounter?: number;
  packetHash?: Uint8Array;
  withdrawalCode?: string;
}

export interface SettleOptions {
  /** SM9 identity of the depositor (merchant or person); the packet must be made out to it */
  payeeIdentity: string;
  /** new owner; default for a packet with a withdrawal code: withdrawalCodeOwner(code) */
  payeeOwner?: string;
  /** TRANSFER: the body already decrypted by the payee's bank */
  decryptedBody?: Uint8Array;
  /** TRANSFER: the payee's SM9 encryption key (G2, 129 bytes) to decrypt the body with */
  payeeDecryptionKey?: Uint8Array;
}

/** A packet that passed every cryptographic check. */
export interface VerifiedPacket {
  header: ExportHeader;
  coins: Coin[];
  packetHash: Uint8Array;
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

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}

/** The registry. Open with Registry.open; close when done. */
export class Registry {
  readonly db: Db;
  readonly #verifier: CoinVerifierLookup | undefined;
  readonly #kgcSign: Uint8Array | undefined;
  readonly #keys: DenominationKeys | undefined;

  private constructor(db: Db, opts: RegistryOpenOptions) {
    this.db = db;
    this.#verifier = opts.trust ? coinVerifiers(opts.trust.coinKeys, opts.verification, opts.verifierWindowBits ?? 10) : undefined;
    this.#kgcSign = opts.trust?.kgcSignMasterPublicKey.slice();
    this.#keys = opts.mintMaster ? new DenominationKeys(opts.mintMaster) : undefined;
  }

  /** Opens (and creates the schema of) the registry: PGlite in memory by default, a data directory, or a PostgreSQL server. */
  static async open(opts: RegistryOpenOptions = {}): Promise<Registry> {
    let db: Db;
    if (opts.connectionString) {
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
   * Every check of settlement that needs no database: packet layout and version, payee, decryption of a
   * TRANSFER body, coin list hash, the payer's SM9 signature over SM3(header || coin list), amount, and each
   * coin (format, SM2 signature, denomination key when the registry has the mint master, expiry on the payment date).
   * Mirrors the card's IMPORT COINS checks (simulator/drmb-applet.ts importCoins).
   */
  verifyPacket(packetBytes: Uint8Array, opts: SettleOptions): VerifiedPacket {
    if (!this.#verifier || !this.#kgcSign) throw new TypeError('registry opened without trust anchors cannot settle');
    let header: ExportHeader;
    let body: Uint8Array;
    try {
      ({ header, body } = exportPacketCoder.decode(packetBytes));
    } catch (e) {
      throw new TamperedPacketError('format', (e as Error).message);
    }
    if (header.version !== PACKET_VERSION) throw new TamperedPacketError('format', `packet version ${header.version}`);
    if (header.payeeIdentity !== opts.payeeIdentity) throw new WrongPayeeError(header.payeeIdentity, opts.payeeIdentity);
    const headerBytes = packetBytes.subarray(0, packetBytes.length - body.length);
    let clear = body;
    if (header.type === 'TRANSFER') {
      if (opts.decryptedBody) clear = opts.decryptedBody;
      else if (opts.payeeDecryptionKey) {
        try {
          // GM/T 0044 part 4 clause 7 (KDF-XOR), the payee's own identity as on the card
          clear = sm9Decrypt(opts.payeeDecryptionKey, utf8.encode(header.payeeIdentity), body);
        } catch {
          throw new TamperedPacketError('decrypt', 'body does not decrypt under the payee key');
        }
      } else throw new TypeError('TRANSFER packet: pass decryptedBody or payeeDecryptionKey');
    }
    let decoded: { coins: Coin[]; signature: Uint8Array };
    try {
      decoded = exportBodyCoder.decode(clear);
    } catch (e) {
      throw new TamperedPacketError('format', (e as Error).message);
    }
    const coinListBytes = clear.subarray(0, clear.length - decoded.signature.length);
    if (!equalBytes(sm3(coinListBytes), header.coinListHash)) throw new TamperedPacketError('coin-list-hash', 'SM3 of the coin list differs from the header');
    // value-formats.ts: signature = SM9-Sign(payer key, SM3(header bytes || coin list bytes)), GM/T 0044 part 2 clause 7
    if (!sm9Verify(this.#kgcSign, utf8.encode(header.payerIdentity), sm3(concatBytes(headerBytes, coinListBytes)), decoded.signature)) {
      throw new TamperedPacketError('signature', `payer SM9 signature of '${header.payerIdentity}' does not verify`);
    }
    const sum = decoded.coins.reduce((s, c) => s + c.body.denominationFen, 0);
    if (decoded.coins.length === 0 || sum !== header.amountFen) throw new TamperedPacketError('amount', `coins sum to ${sum} fen, header says ${header.amountFen}`);
    const seen = new Set<string>();
    let offset = 1; // after the count byte of the coin list
    for (const coin of decoded.coins) {
      // Verify over the coin bytes as signed and received (as the card does), not a re-encoding.
      const bodyBytes = coinListBytes.subarray(offset, offset + COIN_SIGNED_LENGTH);
      offset += COIN_LENGTH;
      const h = bytesToHex(coin.body.serial);
      if (seen.has(h)) throw new TamperedPacketError('duplicate-coin', `coin ${h} listed twice`);
      seen.add(h);
      const fault = checkCoin(coin, { verifier: this.#verifier, mintMaster: this.#keys, atDate: header.date, bodyBytes });
      if (fault === 'signature' || fault === 'format') throw new ForgedCoinError(fault, coin.body.serial);
      if (fault === 'denomination-key') throw new WrongDenominationKeyError(coin.body.serial);
      if (fault === 'expired') throw new ExpiredCoinError(coin.body.serial, coin.body.expiryDate, header.date);
    }
    return { header, coins: decoded.coins, packetHash: sm3(packetBytes) };
  }

  /**
   * Central-bank settlement of one export packet: the same packet again returns the earlier settlement
   * (replayed = true); otherwise verifyPacket, then in one transaction: the payer card must own every coin
   * and its (card ID, counter) must be fresh; ownership moves to the payee and the flow is recorded with
   * the withdrawal code. A coin an earlier packet of this payer already moved ('serial-reused'), or a
   * second packet with one counter ('counter-reused'), stores a proof with both packets, blacklists the
   * card and throws DoubleSpendError.
   */
  async settle(packetBytes: Uint8Array, opts: SettleOptions): Promise<Settlement> {
    const packetHash = sm3(packetBytes);
    const earlier = await this.#settlementByHash(this.db, packetHash);
    if (earlier) return earlier;
    const v = this.verifyPacket(packetBytes, opts);
    const code = v.header.withdrawalCode;
    const payeeOwner = opts.payeeOwner ?? (code !== ZERO_CODE ? withdrawalCodeOwner(code) : undefined);
    if (!payeeOwner) throw new TypeError('settle: payeeOwner is required for a packet without withdrawal code');
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.db.transaction((tx) => this.#settleIn(tx, v, packetBytes, payeeOwner));
        if ('proof' in outcome) throw new DoubleSpendError(outcome.proof);
        return outcome;
      } catch (e) {
        // A concurrent settlement of the same packet or counter won the unique index: retry, which then sees it.
        if (isUniqueViolation(e) && attempt < 2) continue;
        throw e;
      }
    }
  }

  /** Moves every coin held under a withdrawal code to `toOwner` (payee with no account); UnknownWithdrawalCodeError when none. */
  async redeem(withdrawalCode: string, toOwner: string): Promise<{ serials: Uint8Array[]; amountFen: number }> {
    const from = withdrawalCodeOwner(withdrawalCode);
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{ h: string; d: string }>(`SELECT encode(serial, 'hex') AS h, denomination_fen::text AS d FROM coins WHERE owner = $1 ORDER BY serial FOR UPDATE`, [from]);
      if (r.rows.length === 0) throw new UnknownWithdrawalCodeError();
      const hexes = r.rows.map((row) => row.h);
      await this.#move(tx, hexes, from, toOwner, { kind: 'redeem', withdrawalCode });
      return { serials: hexes.map((h) => hexToBytes(h)), amountFen: r.rows.reduce((s, row) => s + Number(row.d), 0) };
    });
  }

  /** Closes the database and wipes the denomination keys. */
  async close(): Promise<void> {
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

  async #settleIn(tx: Queryable, v: VerifiedPacket, packetBytes: Uint8Array, payeeOwner: string): Promise<Settlement | { proof: DoubleSpendProof }> {
    const { header, coins, packetHash } = v;
    // The same packet settled concurrently since the check in settle() shows up below as the earlier
    // packet of a reuse; it is a replay, never proof against the payer.
    const replay = async (earlier: { packet_hash: Uint8Array }) => (equalBytes(earlier.packet_hash, packetHash) ? this.#settlementByHash(tx, packetHash) : undefined);
    const payer = cardOwner(header.payerCardId);
    const hexes = coins.map((c) => bytesToHex(c.body.serial));
    const owners = await this.#lockOwners(tx, hexes);

    // 1. A coin this payer already paid away in an earlier packet: the coin was spent twice.
    for (const h of hexes) {
      const owner = owners.get(h);
      if (owner === undefined || owner === payer) continue;
      const prior = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array }>(
        `SELECT p.packet, p.packet_hash FROM flows f JOIN packets p ON p.packet_hash = f.packet_hash
         WHERE f.serial = decode($1, 'hex') AND f.from_owner = $2 AND f.kind = 'deposit' ORDER BY f.id DESC LIMIT 1`,
        [h, payer],
      );
      const earlier = prior.rows[0];
      if (!earlier) continue;
      const replayed = await replay(earlier);
      if (replayed) return replayed;
      // Two packets of one card spending one coin prove double spending only when the coin cannot have
      // come back to the card between them: a return (an import or a load) takes a counter of its own,
      // so counters at most one apart leave no room; and two packets chained to the same previous export
      // (value-formats: previousExportHash) fork the card's export history, which an honest card never
      // does. Otherwise the older packet waits for the return to be deposited.
      const e = exportPacketCoder.decode(earlier.packet).header;
      const conclusive = Math.abs(e.payerCounter - header.payerCounter) <= 1 || equalBytes(e.previousExportHash, header.previousExportHash);
      if (conclusive) return { proof: await this.#recordProof(tx, 'serial-reused', header, hexToBytes(h), earlier.packet, packetBytes) };
      throw new CustodyPendingError(hexToBytes(h), header.payerCounter, e.payerCounter);
    }
    // 2. A different packet already settled under this (card ID, counter): the counter was used twice.
    const sameCounter = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array }>(
      'SELECT packet, packet_hash FROM packets WHERE payer_card_id = $1 AND payer_counter = $2',
      [header.payerCardId, header.payerCounter],
    );
    const other = sameCounter.rows[0];
    if (other) return (await replay(other)) ?? { proof: await this.#recordProof(tx, 'counter-reused', header, undefined, other.packet, packetBytes) };
    // 2b. Another packet of this card chained to the same previous export: the card's history forked,
    // as only a cloned or restored card can make it (terminal CHANGE packets have no card chain).
    if (header.type !== 'CHANGE') {
      const sameParent = await tx.query<{ packet: Uint8Array; packet_hash: Uint8Array }>(
        'SELECT packet, packet_hash FROM packets WHERE payer_card_id = $1 AND previous_export_hash = $2 AND packet_hash <> $3 LIMIT 1',
        [header.payerCardId, header.previousExportHash, packetHash],
      );
      const forked = sameParent.rows[0];
      if (forked) return { proof: await this.#recordProof(tx, 'chain-fork', header, undefined, forked.packet, packetBytes) };
    }
    // 3. Coins the payer never held (or that left it online): refused without proof.
    for (const h of hexes) {
      const owner = owners.get(h);
      if (owner !== payer) throw new NotOwnerError(owner === undefined ? 'unknown-coin' : 'not-owner', hexToBytes(h), payer, owner);
    }
    await tx.query(
      `INSERT INTO packets (packet_hash, type, payer_card_id, payer_counter, payer_identity, payee_owner, amount_fen, packet, previous_export_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [packetHash, header.type, header.payerCardId, header.payerCounter, header.payerIdentity, payeeOwner, header.amountFen, packetBytes, header.previousExportHash],
    );
    const code = header.withdrawalCode !== ZERO_CODE ? header.withdrawalCode : undefined;
    await this.#move(tx, hexes, payer, payeeOwner, { kind: 'deposit', payerCardId: header.payerCardId, payerCounter: header.payerCounter, packetHash, withdrawalCode: code });
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

  async #recordProof(tx: Queryable, reason: ProofReason, header: ExportHeader, serial: Uint8Array | undefined, packetA: Uint8Array, packetB: Uint8Array): Promise<DoubleSpendProof> {
    const r = await tx.query<{ id: unknown }>(
      `INSERT INTO double_spend_proofs (payer_card_id, payer_identity, reason, serial, packet_a, packet_b) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [header.payerCardId, header.payerIdentity, reason, serial ?? null, packetA, packetB],
    );
    await tx.query(`INSERT INTO blacklist (card_id, reason) VALUES ($1, $2) ON CONFLICT (card_id) DO NOTHING`, [header.payerCardId, `double spend: ${reason}`]);
    return {
      id: Number(r.rows[0].id),
      reason,
      payerCardId: header.payerCardId,
      payerIdentity: header.payerIdentity,
      ...(serial ? { serial } : {}),
      packetA,
      packetB,
    };
  }
}
