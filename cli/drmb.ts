/** @module The `drmb` command-line program: command groups are registered here, one file per subcommand. */
import { Command, CommanderError } from 'commander';
import { EXIT, EXIT_CODES, exitCodeName } from '../base/exit-codes.js';
import { OperationalError } from '../base/operational-error.js';
import { describeSw, hex4 } from '../applet-spec/status-words.js';
import { enforceRequiredOptions } from './required-options.js';
import { addExamples } from './command-examples.js';
import { registerCompletion } from './completion.js';
import { explainRefusal } from './what-to-do.js';
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
import { registerPersoAudit } from './perso/audit.js';
import { registerCardCommands } from './card/index.js';
import { registerPosPay } from './pos/pay.js';
import { registerPosFloat } from './pos/float.js';
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
import { wasResultPrinted } from './output.js';
import { beginStep } from './progress.js';
import { registerRegistryAuthorize } from './registry/authorize.js';
import { registerRegistryServe } from './registry/serve.js';

/** The exit codes, for `drmb --help` (and docs/cli.md): base/exit-codes.ts, one line each. */
export const EXIT_CODES_HELP = `
Exit codes:
${EXIT_CODES.map((c) => `  ${String(c.code).padEnd(3)} ${c.meaning}`).join('\n')}

Errors: one line "drmb: <message>" on stderr; with --json, also {"error": {...}} on stdout.
`;

/** Builds the program; `exitOverride` keeps commander from calling process.exit. */
export function buildProgram(): Command {
  const program = new Command('drmb')
    .description('Open toolchain for the D-RMB chip card: command set, simulator, host library, personalization')
    .version('0.1.0')
    .addHelpText('after', EXIT_CODES_HELP)
    // reportFailure prints commander's own errors (a missing argument, an unknown option) as drmb's
    .configureOutput({ outputError: () => {} })
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
  registerPersoAudit(perso);
  const card = program.command('card').description('a card in a reader (or a simulated card image): readers, info, raw APDUs, balance, log');
  registerCardCommands(card);
  const pos = program.command('pos').description('POS terminal: purse debit with coin checks, change, upload queue');
  registerPosPay(pos);
  registerPosFloat(pos);
  const bank = program.command('bank').description('the back office: mint, withdrawal onto a card, deposit and settlement in the registry');
  registerBankCommands(bank);
  const registry = program.command('registry').description("the central bank's registry as its own process: serve the commercial banks on 127.0.0.1");
  registerRegistryServe(registry);
  registerRegistryAuthorize(registry);
  const peer = program.command('peer').description('payment between two cards: offline, or online with the bank confirming the owner change first');
  registerPeerPay(peer);
  registerPeerReceive(peer);
  registerPeerOpen(peer);
  registerPeerConfirmations(peer);
  registerConformance(program);
  registerCompletion(program);
  for (const group of [program, spec, sim, keys, kgc, perso, card, pos, bank, peer]) {
    group.exitOverride();
    group.commands.forEach((c) => c.exitOverride());
  }
  enforceRequiredOptions(program);
  addExamples(program);
  showCommandProgress(program);
  return program;
}

/** Commands that run until stopped and report their own events: no progress line. */
const SERVICES = new Set(['sim serve', 'kgc serve', 'registry serve', 'bank serve']);
/** Ends the progress line of the command being run (cli/progress.ts). */
let endCommandStep = () => {};

/**
 * Every command past a second shows a progress line named for it on a terminal (cli/progress.ts),
 * under which the command names its slow steps; a service does not.
 */
function showCommandProgress(program: Command): void {
  program.hook('preAction', (_program, action) => {
    const names: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
    const path = names.join(' ');
    if (!SERVICES.has(path)) endCommandStep = beginStep(`drmb ${path}`);
  });
}

/** Whether the command line asks for JSON: --json before any "--". */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Runs the program with argv; sets process.exitCode instead of exiting. */
export async function main(argv: string[]): Promise<void> {
  wasResultPrinted(true);
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    endCommandStep();
    process.exitCode = reportFailure(e, { json: wantsJson(argv.slice(2)) });
  } finally {
    endCommandStep();
  }
}

/** How reportFailure reports: as JSON on stdout (--json), and the environment (DRMB_DEBUG). */
export interface ReportOptions {
  json?: boolean;
  env?: Record<string, string | undefined>;
}

/**
 * Prints a failed command's error and returns drmb's exit code (base/exit-codes.ts):
 *
 * - an OperationalError: its message, with its own exitCode (1 refused, 2 bad input, 3 double spend),
 *   so a new error class needs no entry here; a card's status word first gets its next step
 *   (cli/what-to-do.ts);
 * - commander's errors (a missing argument, an unknown option or command): 2; --help and --version: 0;
 * - anything else is a fault of drmb itself: 70 (EX_SOFTWARE, sysexits.h), one line; its stack only
 *   with DRMB_DEBUG set.
 *
 * The message is one line "drmb: <message>" on stderr; with `json`, stdout also gets the object
 * {"error": {"message", "exitCode", "exit", "type", ...}} (plus "sw", "swName" and "command" for a
 * card's refusal, "reason" for the registry's), where a result would have been: not when the command
 * printed its result before failing (a report listing refusals), so that stdout is one JSON document.
 */
export function reportFailure(e: unknown, options: ReportOptions = {}): number {
  const env = options.env ?? process.env;
  let code: number;
  let message: string;
  let extra: Record<string, unknown> = {};
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
    // a group run without its subcommand: commander has printed the group's help on stderr
    if (e.code === 'commander.help') return EXIT.usage;
    code = EXIT.usage;
    message = e.message.replace(/^error: /, '');
  } else if (e instanceof OperationalError) {
    const explained = explainRefusal(e) as OperationalError;
    code = explained.exitCode;
    message = explained.message;
    extra = errorDetails(e);
  } else {
    code = EXIT.internal;
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    message = `internal error (${detail.split('\n')[0]}); set DRMB_DEBUG=1 to see where`;
  }
  message = message.replace(/\s*\n\s*/g, ' ').trim();
  // with --json, stdout holds one JSON document: the result, or else the error
  if (options.json && !wasResultPrinted()) {
    const type = e instanceof Error ? e.name : typeof e;
    process.stdout.write(`${JSON.stringify({ error: { message, exitCode: code, exit: exitCodeName(code), type, ...extra } }, null, 2)}\n`);
  }
  process.stderr.write(`drmb: ${message}\n`);
  if (code === EXIT.internal && env.DRMB_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}

/** The machine-readable fields of an error for --json: a card's status word, the registry's reason. */
function errorDetails(e: OperationalError): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  const sw = (e as { sw?: unknown }).sw;
  if (typeof sw === 'number') Object.assign(details, { sw: hex4(sw), swName: describeSw(sw).name });
  const command = (e as { command?: unknown }).command;
  if (typeof command === 'string') details.command = command;
  const reason = (e as { reason?: unknown }).reason;
  if (typeof reason === 'string') details.reason = reason;
  return details;
}
