/**
 * @module The host library's public API (package subpath `drmb-toolchain/host`): transports (PC/SC
 * readers, an in-process card, transcript replay) and their middleware, the serialized host stack, the
 * APDU session with the command definitions, the SCP03 secure channel, `DrmbCard` for the user card
 * and `Psam` for the POS terminal's secure access module, the errors the card's status words map to,
 * and the value journal that keeps a payment recoverable across a crash of the host.
 *
 * The PC/SC binding (`smartcard`, an optional dependency) is loaded only when a reader is listed,
 * watched or opened; everything else works without it. The POS terminal is `drmb-toolchain/host/pos`.
 */
export { type Middleware, type Transport, dataOf, stack, swOf, wrapTransport } from './transport.js';
export { type DirectCard, directTransport } from './direct-transport.js';
export { ReplayTransport } from './replay-transport.js';
export { ExclusiveTransport, type ExclusiveHooks, type LeaseOptions } from './exclusive-transport.js';
export { type ChainingOptions, atrAllowsExtendedLength, commandChaining } from './middleware/chaining.js';
export { type GetResponseOptions, getResponse } from './middleware/get-response.js';
export { leRetry } from './middleware/le-retry.js';
export { completeResponse } from './middleware/complete-response.js';
export { type CardWorkerAnswer, type CardWorkerTask, type WorkerCardOptions, type WorkerCardTransport, workerCardTransport } from './worker-card-transport.js';
export { type RecorderOptions, recorder } from './middleware/recorder.js';
export { timeout } from './middleware/timeout.js';
export { type TraceOptions, trace } from './middleware/trace.js';
export { type RedactedApdu, redactCommand } from './redact.js';
export {
  type HostStackOptions,
  type OpenReaderOptions,
  type PcscCardHandle,
  type PcscConnectOptions,
  type PcscTransport,
  type ReaderInfo,
  type ReaderTransport,
  READER_ENV,
  connectPcsc,
  hostStack,
  listReaders,
  openReader,
  pickReader,
} from './pcsc.js';
export { type ReaderEvent, type ReaderEventType, type ReaderWatcher, type WatchOptions, watchReaders } from './reader-watcher.js';
export { type Answer, CardSession, type SendOptions } from './card-session.js';
export { type SecureChannel, type SecureChannelOptions, openSecureChannel } from './secure-channel.js';
export { type Scp03HostOptions, Scp03HostSession } from './scp03-host-session.js';
export { type CardInfo, DrmbCard, type LineMacSigner, type LoadChallenge, type PurchaseChallenge, type PurchaseResult } from './drmb-card.js';
export { Psam, type PsamInfo, type PsamPurchaseInput } from './psam.js';
export {
  CardLockedError,
  InsufficientBalanceError,
  LimitError,
  MacError,
  NoExactCoinSetError,
  PinBlockedError,
  ResponseFormatError,
  StatusWordError,
  TransportError,
  WrongPinError,
  statusWordError,
} from './errors.js';
export { COMMITTING_COMMAND, type ClosedIntent, type IntentOutcome, JournalError, type JournalledType, type ValueIntent, ValueJournal, defaultJournalDir } from './value-journal.js';
export { type JournalledTransfer, type JournalledTransferRequest, journalledTransfer } from './journalled-transfer.js';
export { type Deliver, type Delivery, type FinishResult, UndeliverableError, closeIfNeverCommitted, finishIntent, packetFileDelivery } from './finish-intent.js';
export { type OpenedTransfer, OpenTransferError, openTransfer } from './open-transfer.js';
export { FormatError } from '../base/format-error.js';
export { OperationalError, type OperationalErrorOptions } from '../base/operational-error.js';
