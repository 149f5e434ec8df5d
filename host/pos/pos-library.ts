/**
 * @module The POS terminal's public API (package subpath `drmb-toolchain/host/pos`): `PosTerminal`,
 * which takes a payment from a user card with the help of its PSAM (`Psam` of `drmb-toolchain/host`),
 * verifies the card's packet and queues it; the upload queue that keeps each packet until the
 * merchant's bank has it; and the coin float the terminal pays change from.
 */
export {
  BlacklistedCardError,
  type ChangeConfig,
  type PacketRejection,
  PacketRejectedError,
  type PayOptions,
  type PayResult,
  PaymentRefusedError,
  type PosReceipt,
  PosTerminal,
  type PosTerminalOptions,
  type PosTrustAnchors,
  PsamNotReadyError,
} from './pos-terminal.js';
export { type PendingChange, type ProblemCard, type QueuedPacket, UPLOAD_QUEUE_MODE, UploadQueue, UploadQueueError } from './upload-queue.js';
export { CoinFloat, smallestPayableAtLeast } from './coin-float.js';
