/**
 * @module The payee's commercial bank in an online payment (the seed's steps a1-a4, then its forward and
 * confirmations): it checks the packet (payer SM9 signature, every coin, the amount) on the body the payee
 * opened, and the payee against its table of registered users, forwards the transfer to the central bank,
 * and records its confirmations to the payer and the payee, which each side fetches by packet hash.
 */
import { OperationalError } from '../base/operational-error.js';
import { hex } from '../base/hex.js';
import { NO_WITHDRAWAL_CODE, type WithdrawalSeal } from '../applet-spec/value-formats.js';
import { coinVerifiers } from '../coins/check-coin.js';
import { readExportPacket } from '../coins/read-export-packet.js';
import { sealMatchesCommitment } from '../coins/seal-commitment.js';
import { type PacketAnchors, verifyExportPacket } from '../coins/verify-export-packet.js';
import { sm3 } from '../crypto/sm3.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import type { OnlineTransferForward } from './central-bank-online.js';
import type { Db } from './db.js';
import { type Confirmation, centralConfirmationVerifies, confirmationsOf, CONFIRMATIONS_SQL, makeConfirmation, recordConfirmation } from './online-confirmation.js';
import { bankOwner, cardOwner, withdrawalCodeOwner } from './registry.js';

/** What the payee side submits: the packet as the payer card exported it, and what the payee opened of it. */
export interface OnlineTransferRequest {
  packet: Uint8Array;
  /** coin list and payer signature, opened by the payee's terminal (host/open-transfer.ts) */
  settlementBody: Uint8Array;
  /** the withdrawal seal the payee opened, when the payer gave a code */
  withdrawal?: WithdrawalSeal;
  payee: {
    /** the SM9 identity the packet is made out to */
    identity: string;
    /** the payee card that will import the packet: the coins' owner */
    cardId?: string;
    /** the payee's account, for a payee registered with this bank */
    account?: string;
  };
}

/** The confirmations of one online payment: the central bank's (absent when the payee's bank refused first) and the payee bank's two. */
export interface OnlinePaymentOutcome {
  outcome: Confirmation['outcome'];
  central?: Confirmation;
  toPayer: Confirmation;
  toPayee: Confirmation;
}

/** A request the bank cannot take up at all (no packet to confirm anything about): answered as a bad request, recorded nowhere. */
export class OnlineRequestError extends OperationalError {
  override readonly name = 'OnlineRequestError';
}

/** The central bank as the payee's bank reaches it: the forward out, its confirmation back. */
export type CentralBankLink = (forward: OnlineTransferForward) => Promise<Confirmation>;

const REGISTERED_USERS_SQL = `
CREATE TABLE IF NOT EXISTS registered_users (
  identity text PRIMARY KEY,
  account text NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * What a payee's bank needs: its bank code, the trust anchors it verifies packets with, the link to
 * the central bank that changes the owner of the coins, a clock and a log.
 */
export interface PayeeBankOptions {
  /** the bank's 12-digit code */
  bankCode: string;
  anchors: Pick<TrustAnchors, 'coinKeys' | 'kgcSignMasterPublicKey'>;
  centralBank: CentralBankLink;
  now?: () => Date;
  /** one line per message sent or refusal (no withdrawal code, no key) */
  log?: (line: string) => void;
}

/** The payee's bank, on its own database (its registered users and its confirmations). Open with PayeeBank.open. */
export class PayeeBank {
  readonly owner: string;
  readonly #anchors: PacketAnchors;
  readonly #trust: PayeeBankOptions['anchors'];
  readonly #now: () => Date;
  readonly #log: (line: string) => void;

  private constructor(
    readonly db: Db,
    readonly o: PayeeBankOptions,
  ) {
    this.owner = bankOwner(o.bankCode);
    this.#trust = o.anchors;
    this.#anchors = { coinVerifier: coinVerifiers(o.anchors.coinKeys, 'plain'), kgcSignMasterPublicKey: o.anchors.kgcSignMasterPublicKey };
    this.#now = o.now ?? (() => new Date());
    this.#log = o.log ?? (() => {});
  }

  static async open(db: Db, o: PayeeBankOptions): Promise<PayeeBank> {
    await db.exec(REGISTERED_USERS_SQL + CONFIRMATIONS_SQL);
    return new PayeeBank(db, o);
  }

  /** Registers a user of this bank (its SM9 identity and its account), or changes its account. */
  async registerUser(identity: string, account: string): Promise<void> {
    if (!identity || !account) throw new RangeError('identity and account must not be empty');
    await this.db.query('INSERT INTO registered_users (identity, account) VALUES ($1, $2) ON CONFLICT (identity) DO UPDATE SET account = $2', [identity, account]);
  }

  async #accountOf(identity: string): Promise<string | undefined> {
    const r = await this.db.query<{ account: string }>('SELECT account FROM registered_users WHERE identity = $1', [identity]);
    return r.rows[0]?.account;
  }

  /**
   * The seed's online transfer, payee's bank side. In order: the packet's layout and type (a request
   * that is no TRANSFER packet is an OnlineRequestError), the payee identity, the packet's checks on the
   * opened body (coin-list hash, payer SM9 signature, amount, each coin's SM2 signature and expiry;
   * coins/verify-export-packet.ts) and the withdrawal seal; the payee (step a4): a payee naming an
   * account must be registered here with it, a payee naming none must not be a registered user; then
   * the forward to the central bank, whose signed confirmation must verify. The same packet again,
   * once confirmed, answers the same confirmations. Security: the payee imports only on 'owner-changed'.
   */
  async submit(req: OnlineTransferRequest): Promise<OnlinePaymentOutcome> {
    const read = readExportPacket(req.packet);
    if (!read.ok) throw new OnlineRequestError(`packet: ${read.fault === 'format' ? read.detail : `version ${read.version}`}`);
    const { header } = read;
    if (header.type !== 'TRANSFER') throw new OnlineRequestError(`packet: a ${header.type} packet is no peer payment`);
    const packetHash = hex(sm3(req.packet));
    const earlier = await this.confirmations(packetHash);
    const confirmed = (to: string) => earlier.find((c) => c.to === to && c.outcome === 'owner-changed');
    const payerTo = `payer:${header.payerCardId}`;
    const payeeTo = `payee:${header.payeeIdentity}`;
    if (confirmed(payeeTo) && confirmed(payerTo)) {
      const central = earlier.find((c) => c.id === confirmed(payeeTo)!.relays);
      return { outcome: 'owner-changed', ...(central ? { central } : {}), toPayer: confirmed(payerTo)!, toPayee: confirmed(payeeTo)! };
    }
    const base = { from: this.owner, packetHash, time: this.#now().toISOString() };
    const refuse = async (reason: string, detail: string): Promise<OnlinePaymentOutcome> => {
      this.#log(`bank ${this.o.bankCode}: refused packet ${packetHash} (${reason}): ${detail}`);
      const toPayer = makeConfirmation({ ...base, to: payerTo, outcome: 'refused', reason, detail });
      const toPayee = makeConfirmation({ ...base, to: payeeTo, outcome: 'refused', reason, detail });
      await this.db.transaction(async (tx) => {
        await recordConfirmation(tx, toPayer);
        await recordConfirmation(tx, toPayee);
      });
      return { outcome: 'refused', toPayer, toPayee };
    };

    if (req.payee.identity !== header.payeeIdentity) return refuse('wrong-payee', `the packet pays '${header.payeeIdentity}', the payee is '${req.payee.identity}'`);
    const v = verifyExportPacket(read, this.#anchors, { body: { settlementBody: req.settlementBody } });
    if (!v.ok) return refuse(v.fault, `the packet does not check (${v.fault})`);
    const code = req.withdrawal && req.withdrawal.code !== NO_WITHDRAWAL_CODE ? req.withdrawal : undefined;
    if (req.withdrawal && !sealMatchesCommitment(req.withdrawal, header.codeCommitment)) return refuse('withdrawal-seal', 'the withdrawal code and salt do not match the commitment the payer signed');

    // Seed step a4: a registered user is paid under its account; a payee naming none must not be one.
    const account = await this.#accountOf(req.payee.identity);
    if (req.payee.account !== undefined && account !== req.payee.account) return refuse('not-registered', `'${req.payee.identity}' is not registered with bank ${this.o.bankCode} under account ${req.payee.account}`);
    if (req.payee.account === undefined && account !== undefined) return refuse('registered-user', `'${req.payee.identity}' is a registered user of bank ${this.o.bankCode}: name its account`);

    let newOwner: string;
    if (req.payee.cardId !== undefined) {
      if (!/^\d{20}$/.test(req.payee.cardId)) throw new OnlineRequestError('payee.cardId must be 20 digits');
      newOwner = cardOwner(req.payee.cardId);
    } else if (req.payee.account !== undefined) newOwner = this.owner;
    else if (code) newOwner = withdrawalCodeOwner(code.code);
    else throw new OnlineRequestError('payee: name the card that imports the coins, an account, or submit the withdrawal code');

    const forward: OnlineTransferForward = {
      from: this.owner,
      packet: hex(req.packet),
      settlementBody: hex(req.settlementBody),
      // A seal of no code (all zeros) is no evidence: the registry takes a seal only with a code.
      ...(code ? { withdrawal: { code: code.code, salt: hex(code.salt) } } : {}),
      payeeIdentity: req.payee.identity,
      newOwner,
      time: base.time,
    };
    this.#log(`bank ${this.o.bankCode} -> central bank: transfer ${packetHash} of card ${header.payerCardId} (counter ${header.payerCounter}, ${header.amountFen} fen) to ${newOwner}${code ? ', with a withdrawal code' : ''}`);
    const central = await this.o.centralBank(forward);
    if (central.packetHash !== packetHash || central.to !== this.owner || !centralConfirmationVerifies(central, this.#trust)) {
      throw new Error(`the central bank's confirmation ${central.id} does not verify for packet ${packetHash}`);
    }
    this.#log(`central bank -> bank ${this.o.bankCode}: confirmation ${central.id}, ${central.outcome}${central.reason ? ` (${central.reason})` : ''}`);
    const relayed = {
      ...base,
      outcome: central.outcome,
      ...(central.reason ? { reason: central.reason } : {}),
      detail: central.detail,
      ...(central.newOwner ? { newOwner: central.newOwner } : {}),
      ...(central.amountFen !== undefined ? { amountFen: central.amountFen } : {}),
      relays: central.id,
    };
    const toPayer = makeConfirmation({ ...relayed, to: payerTo });
    const toPayee = makeConfirmation({ ...relayed, to: payeeTo });
    await this.db.transaction(async (tx) => {
      await recordConfirmation(tx, central);
      await recordConfirmation(tx, toPayer);
      await recordConfirmation(tx, toPayee);
    });
    return { outcome: central.outcome, central, toPayer, toPayee };
  }

  /** The confirmations this bank holds for a packet (hex SM3): those it received and those it sent; optionally only those to one party. */
  confirmations(packetHash: string, to?: string): Promise<Confirmation[]> {
    return confirmationsOf(this.db, packetHash, to);
  }
}
