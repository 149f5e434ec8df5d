/**
 * @module RemoteRegistry: a commercial bank's (or an auditor's) view of the central bank's registry
 * service (bank/registry-service.ts), with the methods of Registry that a party outside the central
 * bank may call. A refusal comes back as the registry's own error (DoubleSpendError with its proof,
 * RegistryError with its reason); a service that cannot be reached is a RegistryUnreachableError.
 */
import type { Coin } from '../applet-spec/value-formats.js';
import { OperationalError } from '../base/operational-error.js';
import { hex } from '../base/hex.js';
import { fetchJson, postJson } from '../io/local-service.js';
import type { OnlineTransferForward } from './central-bank-online.js';
import { type BankSigner, signBankRequest } from './signed-request.js';
import type { Confirmation } from './online-confirmation.js';
import { type FlowInfo, DoubleSpendError, RegistryError, type Settlement, type SettleOptions } from './registry.js';
import {
  CENTRAL_TRANSFERS_PATH,
  coinsFromJson,
  type DepositJson,
  DEPOSITS_PATH,
  LEDGER_PATH,
  type LedgerJson,
  MINT_PATH,
  type MintJson,
  OWNERS_PATH,
  type ProofJson,
  proofFromJson,
  type SettlementJson,
  settlementFromJson,
  VAULT_COINS_PATH,
  type WithdrawalJson,
  WITHDRAWALS_PATH,
} from './registry-service.js';

/** The registry service did not answer, or answered something that is none of its answers. */
export class RegistryUnreachableError extends OperationalError {
  override readonly name = 'RegistryUnreachableError';
}

/** The registry refused who asked or how (unsigned, unknown bank, another bank's vault, no operator token, a bad request). */
export class RegistryRefusalError extends OperationalError {
  override readonly name = 'RegistryRefusalError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Who the client asks as: a bank (its bank-signing key pair), and/or the central bank's operator (the token of `drmb registry serve`). */
export interface RegistryCredentials {
  bank?: BankSigner;
  operatorToken?: string;
  /** called by close(): wipes the key the credentials came from */
  onClose?: () => void;
}

/**
 * The registry service at a URL (http://127.0.0.1:PORT), asked as `as`: a bank signs every request
 * with its key (bank/signed-request.ts); minting needs the operator's token.
 */
export class RemoteRegistry {
  readonly #as: RegistryCredentials;

  constructor(
    readonly url: string,
    as: RegistryCredentials = {},
  ) {
    this.#as = as;
  }

  async #call(path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
    const target = new URL(path, this.url);
    const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
    if (this.#as.bank) Object.assign(headers, signBankRequest(this.#as.bank, init.method ?? 'GET', target.pathname + target.search, typeof init.body === 'string' ? init.body : ''));
    if (this.#as.operatorToken) headers.authorization = `Bearer ${this.#as.operatorToken}`;
    const { status, json } = await fetchJson(target.href, { ...init, headers }, (m) => new RegistryUnreachableError(`the registry at ${m}`));
    if (status === 200) return json;
    const error = json.error as { code?: unknown; message?: unknown; reason?: unknown; proof?: unknown } | undefined;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string') throw new RegistryUnreachableError(`the registry at ${this.url} answered HTTP ${status} without an error`);
    if (error.code === 'double-spend' && typeof error.proof === 'object' && error.proof !== null) throw new DoubleSpendError(proofFromJson(error.proof as ProofJson));
    if (error.code === 'refused') throw new RegistryError(typeof error.reason === 'string' ? error.reason : 'refused', error.message);
    throw new RegistryRefusalError(error.code, `the registry at ${this.url} refused the request (${error.code}): ${error.message}`);
  }

  /** The central bank mints `denominationsFen` into bank `toBank`'s vault (or keeps them): the coins, which the caller may hand on. */
  async mint(m: MintJson): Promise<{ owner: string; coins: Coin[] }> {
    const j = await this.#call(MINT_PATH, postJson(m));
    return { owner: j.owner as string, coins: coinsFromJson(j.coins as string[]) };
  }

  /** The coins a bank's vault holds ('bank:<code>'). */
  async coinsOf(owner: string): Promise<Coin[]> {
    const j = await this.#call(`${VAULT_COINS_PATH}?${new URLSearchParams({ owner })}`);
    return coinsFromJson(j.coins as string[]);
  }

  /**
   * Records a withdrawal: the coins move from the bank's vault to the card whose TAC proved the load.
   * This is the one move a bank asks of the registry directly; every other move comes from a packet.
   */
  async transfer(serials: readonly Uint8Array[], from: string, to: string, flow: FlowInfo = {}): Promise<void> {
    const bank = /^bank:(\d{12})$/.exec(from);
    const card = /^card:(\d{20})$/.exec(to);
    if (flow.kind !== 'withdraw' || !bank || !card || flow.payerCounter === undefined) {
      throw new RegistryError('not-a-withdrawal', 'the registry service records withdrawals from a bank vault to a card only; other moves settle from packets');
    }
    const w: WithdrawalJson = { bankCode: bank[1], cardId: card[1], counter: flow.payerCounter, serials: serials.map(hex) };
    await this.#call(WITHDRAWALS_PATH, postJson(w));
  }

  /** Deposits one packet with its evidence (Registry.settle, in the registry's process). */
  async settle(packet: Uint8Array, o: SettleOptions): Promise<Settlement> {
    if (o.online) throw new RegistryError('online', 'online settlement runs in the registry process (centralTransfer)');
    const d: DepositJson = {
      packet: hex(packet),
      payeeIdentity: o.payeeIdentity,
      ...(o.payeeOwner ? { payeeOwner: o.payeeOwner } : {}),
      ...(o.importResponse ? { importResponse: hex(o.importResponse) } : {}),
      ...(o.settlementBody ? { settlementBody: hex(o.settlementBody) } : {}),
      ...(o.withdrawal ? { withdrawal: { code: o.withdrawal.code, salt: hex(o.withdrawal.salt) } } : {}),
      ...(o.payerOwner ? { payerOwner: o.payerOwner } : {}),
    };
    const j = await this.#call(DEPOSITS_PATH, postJson(d));
    return settlementFromJson(j.settlement as SettlementJson);
  }

  /** The payee's bank forwards an online transfer to the central bank's desk: its signed confirmation (owner changed, or refused). */
  async centralTransfer(forward: OnlineTransferForward): Promise<Confirmation> {
    return (await this.#call(CENTRAL_TRANSFERS_PATH, postJson(forward))) as unknown as Confirmation;
  }

  /** The coin's owner, undefined for a coin never minted. */
  async ownerOf(serial: Uint8Array): Promise<string | undefined> {
    const j = await this.#call(OWNERS_PATH + hex(serial));
    return typeof j.owner === 'string' ? j.owner : undefined;
  }

  /** The blacklisted card IDs. */
  async blacklist(): Promise<string[]> {
    return (await this.ledger()).blacklist;
  }

  /** Ends the client's use of its credentials (onClose); the service goes on. */
  async close(): Promise<void> {
    this.#as.onClose?.();
  }

  /** The balances of `owners`, the total minted, the blacklist and the number of double-spend proofs. */
  async ledger(owners: readonly string[] = []): Promise<LedgerJson> {
    const q = new URLSearchParams(owners.map((o): [string, string] => ['owner', o]));
    return (await this.#call(`${LEDGER_PATH}?${q}`)) as unknown as LedgerJson;
  }
}
