/**
 * @module PSAM_COMMANDS: the command set of the D-RMB PSAM, the POS terminal's purchase secure access
 * module (a second card type beside the user card's COMMANDS), in the order of its reference, and lookup
 * by header. The card OS commands (SELECT, GET RESPONSE) and the SCP03 handshake are the same definitions
 * as the user card's.
 */
import type { CommandApdu } from './codec/apdu.js';
import type { Command } from './define-command.js';
import { externalAuthenticate } from './commands/external-authenticate.js';
import { getResponse } from './commands/get-response.js';
import { initializeUpdate } from './commands/initialize-update.js';
import { select } from './commands/select.js';
import { creditSamForPurchase } from './psam/credit-sam-for-purchase.js';
import { initSamForPurchase } from './psam/init-sam-for-purchase.js';
import { nextTerminalSequence } from './psam/next-terminal-sequence.js';
import { psamStoreData } from './psam/psam-store-data.js';
import { readBinary } from './psam/read-binary.js';
import { verifyPurchaseMac2 } from './psam/verify-purchase-mac2.js';

export { creditSamForPurchase, initSamForPurchase, nextTerminalSequence, psamStoreData, readBinary, verifyPurchaseMac2 };

/** Every PSAM command: card OS, secure channel and personalization, files, purchase. */
export const PSAM_COMMANDS = [
  select,
  getResponse,
  initializeUpdate,
  externalAuthenticate,
  psamStoreData,
  readBinary,
  initSamForPurchase,
  creditSamForPurchase,
  verifyPurchaseMac2,
  nextTerminalSequence,
] as const satisfies readonly Command<any, any>[];

/** The PSAM command a header selects (CLA with chaining and secure-messaging bits ignored), if any. */
export function psamCommandForHeader(apdu: Pick<CommandApdu, 'cla' | 'ins' | 'p1' | 'p2'>): Command<any, any> | undefined {
  return PSAM_COMMANDS.find((c) => c.matches(apdu));
}
