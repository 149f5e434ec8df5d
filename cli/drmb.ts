/** @module The `drmb` command-line program: command groups are registered here, one file per subcommand. */
import { Command, CommanderError } from 'commander';
import { FormatError } from '../applet-spec/errors.js';
import { registerDecode } from './spec/decode.js';
import { registerList } from './spec/list.js';
import { registerShow } from './spec/show.js';
import { registerSw } from './spec/sw.js';
import { registerServe } from './sim/serve.js';
import { registerCreate } from './sim/create.js';
import { registerPrepare } from './perso/prepare.js';
import { registerIssue } from './perso/issue.js';
import { registerRunScript } from './perso/run-script.js';
import { registerCardCommands } from './card/index.js';
import { registerPosPay } from './pos/pay.js';
import { registerBankCommands } from './bank/index.js';
import { PeerPayError, registerPeerPay } from './peer/pay.js';
import { RegistryError } from '../bank/registry.js';
import { WithdrawalError } from '../bank/withdraw.js';
import { BlacklistedCardError, PacketRejectedError, PaymentRefusedError } from '../host/pos/pos-terminal.js';
import { UploadQueueError } from '../host/pos/upload-queue.js';
import { registerDemo } from './demo.js';
import { registerKeysGenerate } from './keys/generate.js';
import { registerKeysInit } from './keys/init.js';
import { registerKeysShow } from './keys/show.js';
import { registerKeysUserKey } from './keys/user-key.js';
import { registerPeerOpen } from './peer/open.js';
import { registerPeerReceive } from './peer/receive.js';
import { registerConformance } from './conformance/index.js';
import { UsageError } from './output.js';
import { ResponseFormatError, StatusWordError, TransportError } from '../host/errors.js';
import { JournalError } from '../host/value-journal.js';
import { PersoError } from '../personalization/card-prep.js';
import { SecureChannelError } from '../crypto/scp03.js';
import { CardImageError } from '../simulator/card-image-error.js';

/** Builds the program; `exitOverride` keeps commander from calling process.exit. */
export function buildProgram(): Command {
  const program = new Command('drmb')
    .description('Open toolchain for the D-RMB chip card: command set, simulator, host library, personalization')
    .version('0.1.0')
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
  const sim = program.command('sim').description('the card simulator: serve a simulated card in a PC/SC reader');
  registerServe(sim);
  registerCreate(sim);
  const perso = program.command('perso').description('personalization: central-bank card prep and commercial-bank issuance');
  registerPrepare(perso);
  registerIssue(perso);
  registerRunScript(perso);
  const card = program.command('card').description('a card in a reader (or a simulated card image): readers, info, raw APDUs, balance, log');
  registerCardCommands(card);
  const pos = program.command('pos').description('POS terminal: purse debit with coin checks, change, upload queue');
  registerPosPay(pos);
  const bank = program.command('bank').description('the back office: mint, withdrawal onto a card, deposit and settlement in the registry');
  registerBankCommands(bank);
  const peer = program.command('peer').description('offline payment between two cards');
  registerPeerPay(peer);
  registerPeerReceive(peer);
  registerPeerOpen(peer);
  registerConformance(program);
  for (const group of [program, spec, sim, keys, perso, card, pos, bank, peer]) {
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
 * Prints a failed command's error as one line on stderr and returns its exit code: 2 for bad input,
 * 1 when the card, the reader, the keys or the registry said no, 70 (EX_SOFTWARE, sysexits.h) for a
 * fault of drmb itself, whose stack is printed only with DRMB_DEBUG set.
 */
export function reportFailure(e: unknown, env: Record<string, string | undefined> = process.env): number {
  if (e instanceof CommanderError) return e.exitCode;
  if (e instanceof UsageError || e instanceof FormatError) {
    process.stderr.write(`drmb: ${e.message}\n`);
    return 2;
  }
  // Operational failures: the card, the reader or the keys said no. One line, no stack trace.
  if (
    e instanceof TransportError || e instanceof StatusWordError || e instanceof ResponseFormatError || e instanceof PersoError || e instanceof SecureChannelError ||
    e instanceof BlacklistedCardError || e instanceof PaymentRefusedError || e instanceof PacketRejectedError || e instanceof UploadQueueError ||
    e instanceof RegistryError || e instanceof WithdrawalError || e instanceof JournalError || e instanceof PeerPayError ||
    e instanceof CardImageError
  ) {
    process.stderr.write(`drmb: ${e.message}\n`);
    return 1;
  }
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(`drmb: internal error (${detail.split('\n')[0]}); set DRMB_DEBUG=1 to see where\n`);
  if (env.DRMB_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return 70;
}
