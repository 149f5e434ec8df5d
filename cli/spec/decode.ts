/** @module `drmb spec decode`: names a command APDU (or a response to it) and decodes its fields. */
import type { Command as Cli } from 'commander';
import { decodeCommandApdu, decodeResponseApdu } from '../../applet-spec/codec/apdu.js';
import { fromHex } from '../../base/hex.js';
import { commandById, commandForHeader } from '../../applet-spec/commands.js';
import { describeSw } from '../../applet-spec/status-words.js';
import { emit, toJsonValue, UsageError } from '../output.js';
import { withJson } from '../options.js';

export interface DecodedApdu {
  command: string;
  request?: unknown;
  response?: unknown;
  sw?: string;
  swName?: string;
  swMeaning?: string;
}

/** Decodes a command APDU, and optionally its response APDU. Throws FormatError or UsageError. */
export function decodeApdu(commandHex: string, responseHex?: string): DecodedApdu {
  const apdu = decodeCommandApdu(fromHex(commandHex));
  const cmd = commandForHeader(apdu);
  if (!cmd) throw new UsageError(`no D-RMB command has the header ${commandHex.replace(/\s/g, '').slice(0, 8).toUpperCase()}`);
  const out: DecodedApdu = { command: cmd.name, request: cmd.decode(apdu) };
  if (responseHex !== undefined) Object.assign(out, decodeResponse(cmd.id, responseHex));
  return out;
}

/** Decodes a response APDU of the command with this id. */
export function decodeResponse(commandId: string, responseHex: string): DecodedApdu {
  const cmd = commandById(commandId);
  if (!cmd) throw new UsageError(`unknown command id "${commandId}" (see drmb spec list)`);
  const rsp = decodeResponseApdu(fromHex(responseHex));
  const info = describeSw(rsp.sw);
  return {
    command: cmd.name,
    sw: rsp.sw.toString(16).toUpperCase().padStart(4, '0'),
    swName: info.name,
    swMeaning: info.meaning,
    response: rsp.sw === 0x9000 ? cmd.decodeResponse(rsp.data) : undefined,
  };
}

export function registerDecode(spec: Cli): void {
  withJson(
    spec
      .command('decode')
      .description('decode a command APDU (hex), and its response if given')
      .argument('<apdu>', 'command APDU in hex, e.g. 805C000204')
      .argument('[response]', 'response APDU in hex, including SW1 SW2'),
  ).action((apduHex: string, responseHex: string | undefined, opts: { json?: boolean }) => {
    emit(decodeApdu(apduHex, responseHex), !!opts.json, (d) => {
      const lines = [`command:  ${d.command}`, `request:  ${JSON.stringify(toJsonValue(d.request))}`];
      if (d.sw) lines.push(`sw:       ${d.sw} ${d.swName} (${d.swMeaning})`);
      if (d.response !== undefined) lines.push(`response: ${JSON.stringify(toJsonValue(d.response))}`);
      return lines.join('\n');
    });
  });
}
