/**
 * @module The back office's public API (package subpath `drmb-toolchain/bank`): the mint, the coin
 * registry (embedded PGlite, PostgreSQL, or several PostgreSQL servers) with settlement and
 * double-spend proofs, withdrawal onto a card, and online peer payment (the payee's bank, the central
 * bank's side, the bank service and its client, signed confirmations).
 */
export { type CheckValueSource } from '../coins/check-coin.js';
export { type DenominationKeys, type MintParams, STANDARD_DENOMINATIONS_FEN, type SplitOptions, mintCoins, splitAmount } from './mint.js';
export {
  CENTRAL_BANK,
  RETIRED,
  type Deposit,
  type DepositOutcome,
  type FlowInfo,
  type PendingPacket,
  Registry,
  type RegistryOpenOptions,
  type SettleOptions,
  type Settlement,
  type VerifiedPacket,
  bankOwner,
  cardOwner,
  withdrawalCodeOwner,
} from './registry.js';
export {
  CustodyPendingError,
  DoubleSpendError,
  type DoubleSpendProof,
  ExpiredCoinError,
  ForgedCoinError,
  NotOwnerError,
  RegistryError,
  TamperedPacketError,
  type TamperReason,
  UnknownWithdrawalCodeError,
  WrongDenominationKeyError,
  WrongPayeeError,
} from './registry-errors.js';
export { type Db, type Queryable, type QueryResult } from './db.js';
export { PgliteDb } from './pglite-db.js';
export { PostgresDb } from './postgres-db.js';
export { type CommitPhase, ShardedDb, type ShardedDbOptions } from './sharded-db.js';
export { UnroutableStatementError } from './shard-routing.js';
export { type LoadMasters, type WithdrawalLedger, WithdrawalError, type WithdrawOptions, type WithdrawResult, withdraw } from './withdraw.js';
export { type CentralBankLink, PayeeBank, type PayeeBankOptions, type OnlineTransferRequest, type OnlinePaymentOutcome, OnlineRequestError } from './payee-bank.js';
export { CentralBankOnline, type OnlineTransferForward } from './central-bank-online.js';
export { type RegistryCredentials, RegistryRefusalError, RegistryUnreachableError, RemoteRegistry } from './registry-client.js';
export { type BankSigner, BankRequestVerifier, signBankRequest } from './signed-request.js';
export { type LedgerJson, type MintJson, type RegistryServiceOptions, startRegistryService } from './registry-service.js';
export { type LocalService } from '../io/local-service.js';
export { type OnlineBankService, startOnlineBankService } from './online-bank-service.js';
export { OnlineBankUnreachableError, type OnlineSubmitAnswer, fetchConfirmations, submitOnlineTransfer, whyNotConfirmed } from './online-bank-client.js';
export { type Confirmation, type ConfirmationBody, type ConfirmationOutcome, centralConfirmationVerifies } from './online-confirmation.js';
