/** @module `drmb card`: registers the card subcommands (readers, info, apdu, balance, log, recover, replay, the desk's operations, return), one file each. */
import type { Command as Cli } from 'commander';
import { registerApdu } from './apdu.js';
import { registerBalance } from './balance.js';
import { registerInfo } from './info.js';
import { registerLog } from './log.js';
import { registerReaders } from './readers.js';
import { registerRecover } from './recover.js';
import { registerReplay } from './replay.js';
import { registerDeskOperations } from './desk.js';
import { registerReturn } from './return.js';

/**
 * Registers `drmb card readers|info|apdu|balance|log|recover|replay`, the desk's block|unblock|reload-pin|set-limits|change-pin|terminate and return on the `card` group, with commander's
 * exitOverride on the group and each subcommand (no process.exit; drmb's main() reports errors).
 */
export function registerCardCommands(card: Cli): void {
  registerReaders(card);
  registerInfo(card);
  registerApdu(card);
  registerBalance(card);
  registerLog(card);
  registerRecover(card);
  registerReplay(card);
  registerDeskOperations(card);
  registerReturn(card);
  card.exitOverride();
  card.commands.forEach((c) => c.exitOverride());
}
