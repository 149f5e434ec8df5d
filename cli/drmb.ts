/** @module The `drmb` command-line program: command groups are registered here, one file per subcommand. */
import { Command, CommanderError } from 'commander';
import { OperationalError } from '../base/operational-error.js';
import { registerDecode } from './spec/decode.js';
import { registerList } from './spec/list.js';
import { registerShow } from './spec/show.js';
import { registerSw } from './spec/sw.js';
import { registerServe } from './sim/serve.js';
import { registerCreate } from './sim/create.js';
import { registerPrepare } from './perso/prepare.js';
import { registerPersoPsam } from './perso/psam.js';
import { registerIssue } from './perso/issue.js';
import { registerRunScript } from './perso/run-script.js';
import { registerCardCommands } from './card/index.js';
import { registerPosPay } from './pos/pay.js';
import { registerBankCommands } from './bank/index.js';
import { registerPeerPay } from './peer/pay.js';
import { registerDemo } from './demo.js';
import { registerKeysGenerate } from './keys/generate.js';
import { registerKeysInit } from './keys/init.js';
import { registerKeysExport } from './keys/export.js';
import { registerKeysShow } from './keys/show.js';
import { registerKeysUserKey } from './keys/user-key.js';
import { registerPeerOpen } from './peer/open.js';
import { registerPeerReceive } from './peer/receive.js';
import { registerPeerConfirmations } from './peer/confirmations.js';
import { registerConformance } from './conformance/index.js';
import { registerKgcCommands } from './kgc/index.js';
import { registerRegistryServe } from './registry/serve.js';

/** The exit codes, for `drmb --help`; reportFailure says which error ends in which. */
export const EXIT_CODES_HELP = `
Exit codes:
  0   done
  1   the card, the reader, the keys, the journal or the registry refused (one line on stderr),
      or an option is missing or unknown
  2   bad input: option values, arguments or files
  70  internal error of drmb (one line; set DRMB_DEBUG=1 for the stack)
`;

/** Builds the program; `exitOverride` keeps commander from calling process.exit. */
export function buildProgram(): Command {
  const program = new Command('drmb')
    .description('Open toolchain for the D-RMB chip card: command set, simulator, host library, personalization')
    .version('0.1.0')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride();
  const spec = program.command('spec').description('the card command set: list, show, decode APDUs, explain status words');
  registerList(spec);
  registerShow(spec);
  registerDecode(spec);
  registerSw(spec);
  registerDemo(program);
  const keys = program.command('keys').description('key ceremonies: central-bank masters, coin and certificate signing keys, KGC master keys');
  registerKeysInit(keys);
  registerKeysGenerate(keys);
  registerKeysShow(keys);
  registerKeysUserKey(keys);
  registerKeysExport(keys);
  const kgc = program.command('kgc').description('the IBC key-generation centre: serve key extraction to authorised issuance desks');
  registerKgcCommands(kgc);
  const sim = program.command('sim').description('the card simulator: serve a simulated card in a PC/SC reader');
  registerServe(sim);
  registerCreate(sim);
  const perso = program.command('perso').description('personalization: central-bank card prep, commercial-bank issuance, and POS terminal PSAMs');
  registerPrepare(perso);
  registerPersoPsam(perso);
  registerIssue(perso);
  registerRunScript(perso);
  const card = program.command('card').description('a card in a reader (or a simulated card image): readers, info, raw APDUs, balance, log');
  registerCardCommands(card);
  const pos = program.command('pos').description('POS terminal: purse debit with coin checks, change, upload queue');
  registerPosPay(pos);
  const bank = program.command('bank').description('the back office: mint, withdrawal onto a card, deposit and settlement in the registry');
  registerBankCommands(bank);
  const registry = program.command('registry').description("the central bank's registry as its own process: serve the commercial banks on 127.0.0.1");
  registerRegistryServe(registry);
  const peer = program.command('peer').description('payment between two cards: offline, or online with the bank confirming the owner change first');
  registerPeerPay(peer);
  registerPeerReceive(peer);
  registerPeerOpen(peer);
  registerPeerConfirmations(peer);
  registerConformance(program);
  for (const group of [program, spec, sim, keys, kgc, perso, card, pos, bank, peer]) {
    group.exitOverride();
    group.commands.forEach((c) => c.exitOverride());
  }
  return program;
}

/** Runs the program with argv; sets process.exitCode instead of exiting. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    process.exitCode = reportFailure(e);
  }
}

/**
 * Prints a failed command's error on stderr and returns drmb's exit code:
 *
 * - 0: done;
 * - 1: the card, the reader, the keys, the journal or the registry said no (an OperationalError), a
 *   command whose report lists a refusal (a deposit with a rejected packet, an undelivered recovery,
 *   a batch with a failed card), or a missing or unknown option (commander);
 * - 2: bad input (UsageError, FormatError);
 * - 70 (EX_SOFTWARE, sysexits.h): a fault of drmb itself, printed as one line; its stack only with
 *   DRMB_DEBUG set.
 *
 * An OperationalError prints as "drmb: <message>" with its own exitCode, so a new error class needs no
 * entry here: extending OperationalError is enough.
 */
export function reportFailure(e: unknown, env: Record<string, string | undefined> = process.env): number {
  // commander has printed its own message (a missing or unknown option: 1; --help, --version: 0)
  if (e instanceof CommanderError) return e.exitCode;
  if (e instanceof OperationalError) {
    process.stderr.write(`drmb: ${e.message}\n`);
    return e.exitCode;
  }
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(`drmb: internal error (${detail.split('\n')[0]}); set DRMB_DEBUG=1 to see where\n`);
  if (env.DRMB_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return 70;
}
