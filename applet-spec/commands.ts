/** @module The complete D-RMB command set, in the order of the reference, and lookup by header. */
import type { CommandApdu } from './codec/apdu.js';
import type { Command } from './define-command.js';
import { applicationBlock } from './commands/application-block.js';
import { applicationUnblock } from './commands/application-unblock.js';
import { changePin } from './commands/change-pin.js';
import { creditForLoad } from './commands/credit-for-load.js';
import { debitForPurchase } from './commands/debit-for-purchase.js';
import { exportCoins } from './commands/export-coins.js';
import { externalAuthenticate } from './commands/external-authenticate.js';
import { getBalance } from './commands/get-balance.js';
import { getChallenge } from './commands/get-challenge.js';
import { getData } from './commands/get-data.js';
import { getResponse } from './commands/get-response.js';
import { getTransactionProve } from './commands/get-transaction-prove.js';
import { importCoins } from './commands/import-coins.js';
import { initializeForLoad } from './commands/initialize-for-load.js';
import { initializeForPurchase } from './commands/initialize-for-purchase.js';
import { initializeForReceive } from './commands/initialize-for-receive.js';
import { initializeForTransfer } from './commands/initialize-for-transfer.js';
import { initializeForRenewal } from './commands/initialize-for-renewal.js';
import { initializeUpdate } from './commands/initialize-update.js';
import { putData } from './commands/put-data.js';
import { readCoinRecord } from './commands/read-coin-record.js';
import { readLogRecord } from './commands/read-log-record.js';
import { reloadPin } from './commands/reload-pin.js';
import { select } from './commands/select.js';
import { setStatus } from './commands/set-status.js';
import { storeData } from './commands/store-data.js';
import { verify } from './commands/verify.js';

export {
  applicationBlock,
  applicationUnblock,
  changePin,
  creditForLoad,
  debitForPurchase,
  exportCoins,
  externalAuthenticate,
  getBalance,
  getChallenge,
  getData,
  getResponse,
  getTransactionProve,
  importCoins,
  initializeForLoad,
  initializeForPurchase,
  initializeForReceive,
  initializeForTransfer,
  initializeForRenewal,
  initializeUpdate,
  putData,
  readCoinRecord,
  readLogRecord,
  reloadPin,
  select,
  setStatus,
  storeData,
  verify,
};

/** Every command, grouped as the reference lists them: card OS, secure channel and personalization, PIN, value, issuer scripts. */
export const COMMANDS = [
  select,
  getResponse,
  getChallenge,
  getData,
  initializeUpdate,
  externalAuthenticate,
  storeData,
  verify,
  changePin,
  reloadPin,
  initializeForLoad,
  creditForLoad,
  getBalance,
  readCoinRecord,
  initializeForPurchase,
  debitForPurchase,
  initializeForTransfer,
  initializeForRenewal,
  exportCoins,
  initializeForReceive,
  importCoins,
  readLogRecord,
  getTransactionProve,
  putData,
  applicationBlock,
  applicationUnblock,
  setStatus,
] as const satisfies readonly Command<any, any>[];

/** The id of a user-card command (`getBalance`, `debitForPurchase`, ...): the keys of COMMANDS. */
export type CommandId = (typeof COMMANDS)[number]['id'];

/** The command a header selects (CLA with chaining and secure-messaging bits ignored), if any. */
export function commandForHeader(apdu: Pick<CommandApdu, 'cla' | 'ins' | 'p1' | 'p2'>): Command<any, any> | undefined {
  return COMMANDS.find((c) => c.matches(apdu));
}

/** The command with this id. */
export function commandById(id: string): Command<any, any> | undefined {
  return COMMANDS.find((c) => c.id === id);
}
