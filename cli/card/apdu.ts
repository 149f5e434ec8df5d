/**
 * @module `drmb card apdu`: sends raw command APDUs (ISO 7816-4 5.1) from the command line or a script
 * file, and prints each response with its status word's name. GET RESPONSE (61xx) and Le retry (6Cxx)
 * are done by the host stack, as GlobalPlatformPro's `apdu` does.
 */
import type { Command as Cli } from 'commander';
import { fromHex, hex } from '../../base/hex.js';
import { describeSw, hex4 } from '../../applet-spec/status-words.js';
import { redactCommand } from '../../host/redact.js';
import { dataOf, swOf, type Transport } from '../../host/transport.js';
import { emit, UsageError } from '../output.js';
import { withCard } from '../open-card.js';
import { type CardOptions, readInput } from '../options.js';
import { addCardOptions, CARD_IMAGE } from './connect.js';

/** One APDU to send, with where it came from (for error messages). */
export interface ScriptApdu {
  apdu: Uint8Array;
  /** "line 3 of file.apdu" or "argument 2" */
  origin: string;
}

export interface ApduResult {
  /** the command as sent, PINs and key DGIs redacted */
  command: string;
  /** the command's name in the spec, when it is one of the D-RMB commands */
  name?: string;
  data: Uint8Array;
  /** the status word as four hex digits ("9000"), "----" for a response without one */
  sw: string;
  swName: string;
  meaning: string;
  elapsedMs: number;
}

function parseOne(text: string, origin: string): ScriptApdu {
  let apdu: Uint8Array;
  try {
    apdu = fromHex(text);
  } catch (e) {
    throw new UsageError(`${origin}: not a hex APDU: ${(e as Error).message}`);
  }
  if (apdu.length < 4) throw new UsageError(`${origin}: an APDU has at least 4 bytes (CLA INS P1 P2), got ${apdu.length}`);
  return { apdu, origin };
}

/**
 * Parses an APDU script: one hex APDU per line (spaces allowed), "#" starts a comment (whole line or
 * after the APDU), blank lines ignored. Throws UsageError naming the line of a bad entry.
 */
export function parseApduScript(text: string, name = 'script'): ScriptApdu[] {
  const out: ScriptApdu[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line) out.push(parseOne(line, `line ${i + 1} of ${name}`));
  });
  return out;
}

/** APDUs given as command-line arguments. */
export function parseApduArguments(args: readonly string[]): ScriptApdu[] {
  return args.map((a, i) => parseOne(a, `argument ${i + 1}`));
}

/**
 * Sends the APDUs in order and collects each response; a status word other than 9000 does not stop
 * the run (it is reported). Security: whatever each command needs; PIN data is not echoed.
 */
export async function runApdus(t: Transport, apdus: readonly ScriptApdu[]): Promise<ApduResult[]> {
  const results: ApduResult[] = [];
  for (const { apdu } of apdus) {
    const shown = redactCommand(apdu);
    const t0 = performance.now();
    const response = await t.transmit(apdu);
    const elapsedMs = Math.round((performance.now() - t0) * 1000) / 1000;
    const sw = swOf(response);
    const info = describeSw(sw < 0 ? 0 : sw);
    results.push({
      command: shown.text,
      ...(shown.name ? { name: shown.name } : {}),
      data: dataOf(response).slice(),
      sw: sw < 0 ? '----' : hex4(sw),
      swName: sw < 0 ? 'NO_STATUS_WORD' : info.name,
      meaning: sw < 0 ? 'the response has no status word' : info.meaning,
      elapsedMs,
    });
  }
  return results;
}

export function formatApduResults(results: readonly ApduResult[]): string {
  return results
    .map((r) => {
      return `=> ${r.command}${r.name ? `  # ${r.name}` : ''}\n<= ${r.data.length ? `${hex(r.data)} ` : ''}${r.sw} ${r.swName}: ${r.meaning}`;
    })
    .join('\n');
}

export function registerApdu(card: Cli): void {
  addCardOptions(
    card
      .command('apdu')
      .description('send raw APDUs (hex) and show each response with its status word')
      .argument('[apdu...]', 'command APDUs in hex, e.g. 00A4040006F044524D420100')
      .option('--script <file>', 'APDU script: one hex APDU per line, # comments (- for standard input)'),
  ).action(async (args: string[], opts: CardOptions & { script?: string }) => {
    const apdus = parseApduArguments(args);
    if (opts.script !== undefined) apdus.push(...parseApduScript(readInput(opts.script, '--script'), opts.script === '-' ? 'standard input' : opts.script));
    if (!apdus.length) throw new UsageError('no APDU given: pass hex APDUs as arguments or --script FILE');
    emit(await withCard(opts, { image: CARD_IMAGE }, (t) => runApdus(t, apdus)), !!opts.json, formatApduResults);
  });
}
