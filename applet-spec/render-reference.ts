/**
 * @module Renders docs/apdu-reference.md from the definitions: command table, one section per command
 * (header, data, response, states, security, status words, examples), data objects, DGIs, lifecycle,
 * value formats, MAC and TAC data layouts and the status-word table. Pure: returns the Markdown text.
 */
import type { LayoutRow } from './codec/fields.js';
import { fromHex, hex } from '../base/hex.js';
import { COMMANDS } from './commands.js';
import { CARD_OS_STATUS_WORDS, type Command, commandsBefore, headerByteText } from './define-command.js';
import { DATA_OBJECTS } from './data-objects.js';
import { DGIS, stageDgis } from './dgis.js';
import { MAC_DATA } from './mac-data.js';
import { APP_STATES, APP_STATE_NAMES, TRANSITIONS } from './lifecycle.js';
import { describeSw, statusWordTable } from './status-words.js';
import { tagToHex } from './codec/tlv.js';
import {
  cardCertificateCoder,
  COIN_SIGNED_LENGTH,
  coinCoder,
  exportBodyCoder,
  exportHeaderCoder,
  logRecordCoder,
  importResponseCoder,
  receiptCoder,
  TRANSACTION_TYPES,
} from './value-formats.js';

const h2 = (n: number): string => n.toString(16).padStart(2, '0').toUpperCase();
const swText = (sw: number): string => {
  const info = describeSw(sw);
  const code = info.family ? `${h2(sw >> 8)}${(sw & 0xff) === 0xc0 ? 'Cx' : 'xx'}` : `${h2(sw >> 8)}${h2(sw & 0xff)}`;
  return `${code} ${info.name}`;
};
export const esc = (s: string): string => s.replace(/\|/g, '\\|');
export const anchor = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export function layoutTable(rows: LayoutRow[]): string[] {
  if (rows.length === 0) return ['(none)', ''];
  return ['| field | bytes | content |', '|---|---|---|', ...rows.map((r) => `| ${esc(r.field)} | ${r.size} | ${esc(r.description)} |`), ''];
}

export function securityText(c: Command<any, any>, commands: readonly Command<any, any>[] = COMMANDS): string {
  const s = c.security;
  const parts: string[] = [];
  if (s.channel) parts.push(`secure channel (SCP03) at least ${s.channel}`);
  if (s.pin === 'always') parts.push('PIN verified since SELECT');
  if (s.pin === 'above-threshold') parts.push('PIN verified when the amount exceeds the PIN threshold (DF09)');
  if (s.lineMac) parts.push(`line MAC under the ${s.lineMac} key (IV from GET CHALLENGE)`);
  if (s.transactionMac) parts.push(`transaction MAC under the ${s.transactionMac} session key`);
  if (s.after) parts.push(`directly after ${commandsBefore(s).map((id) => commands.find((x) => x.id === id)?.name ?? id).join(' or ')}`);
  if (s.note) parts.push(s.note);
  return parts.length ? parts.join('; ') : 'none';
}

/** The header of a command as the reference shows it: `80 54 01 00`, `<name>` for a parameter. */
export function headerText(c: Command<any, any>): string {
  const cla = c.secureMessaging === 'required' ? c.cla | 0x04 : c.cla;
  const claText = c.secureMessaging === 'optional' ? `${h2(c.cla)}/${h2(c.cla | 0x04)}` : h2(cla);
  const p1p2 = c.p1p2 && typeof c.p1 === 'object' ? `<${c.p1.name}>` : `${headerByteText(c.p1)} ${headerByteText(c.p2)}`;
  return `${claText} ${h2(c.ins)} ${p1p2}`;
}

function spaced(hexText: string): string {
  return hex(fromHex(hexText));
}

/** The reference section of one command; `commands` is the command set its "after" condition names a command of. */
export function commandSection(c: Command<any, any>, commands: readonly Command<any, any>[] = COMMANDS): string[] {
  const out = [`### ${c.name}`, '', c.summary, ''];
  out.push(`- **Header:** \`${headerText(c)}\``);
  out.push(`- **Mirrors:** ${c.mirrors}`);
  if (c.departs) out.push(`- **Departs from the reference table:** ${c.departs}`);
  out.push(`- **States:** ${c.states.join(', ')}`);
  out.push(`- **Security:** ${securityText(c, commands)}`);
  if (c.transitions?.length) out.push(`- **Transitions:** ${c.transitions.map((t) => `${t.from} -> ${t.to}`).join(', ')}`);
  out.push(`- **Le:** ${c.le === undefined ? 'absent' : c.le === 256 ? '00' : h2(c.le)}`);
  if (c.persistent) out.push(`- **Persistent effect:** ${c.persistent} (atomic commit before the response)`);
  for (const p of [c.p1, c.p2]) {
    if (typeof p === 'object' && !(c.p1p2 && p === c.p2)) {
      out.push(`- **${c.p1p2 ? 'P1P2' : p === c.p1 ? 'P1' : 'P2'} <${p.name}>:** ${p.description}${p.allowed ? ` (allowed: ${p.allowed.map((v) => (v > 0xff ? v.toString(16).toUpperCase().padStart(4, '0') : h2(v))).join(', ')})` : ''}`);
    }
  }
  out.push('', '**Command data**', '', ...layoutTable(c.request.layout('')));
  out.push('**Response data**', '', ...layoutTable(c.response.layout('')));
  out.push('**Status words**', '', ...c.statusWords.map((sw) => `- ${swText(sw)}: ${describeSw(sw).meaning}`), '');
  out.push('**Examples**', '');
  for (const ex of c.examples) {
    out.push(`${ex.title}:`, '', '```', `=> ${spaced(ex.apdu)}`, `<= ${spaced(ex.response)}`, '```', '');
  }
  return out;
}

/** The whole reference document. */
export function renderReference(): string {
  const out: string[] = [
    '<!-- Generated by `npm run docs` from applet-spec/. Do not edit by hand: edit the definitions and regenerate. -->',
    '',
    '# D-RMB card APDU reference',
    '',
    'Every command of the D-RMB applet, generated from its single definition in `applet-spec/`. Card conventions follow ISO/IEC 7816-4, GlobalPlatform 2.3 (SCP03), EMV CPS and the PBOC e-purse (JR/T 0025); where a command departs from `shared/reference/card-commands.md` its section says so.',
    '',
    '## Commands',
    '',
    '| command | header | states | security |',
    '|---|---|---|---|',
    ...COMMANDS.map((c) => `| [${c.name}](#${anchor(c.name)}) | \`${headerText(c)}\` | ${c.states.join(', ')} | ${esc(securityText(c))} |`),
    '',
    'Each command lists its own status words, including those its definition implies (6700 a length other than the size of a fixed layout, 6A86 P1-P2 not allowed, 6A88 an unknown data object in P1P2, 6A80 a variable layout that does not parse, whatever its length, 6985 a state or command order not allowed, 6982 a security condition not met, 9302 a wrong MAC).',
    '',
    `Any command may also get these from the card OS or the secure-messaging layer: ${CARD_OS_STATUS_WORDS.map(swText).join(', ')}. An instruction the applet does not have is answered 6D00, a class it does not use 6E00.`,
    '',
  ];
  for (const c of COMMANDS) out.push(...commandSection(c));

  out.push('## Application states', '', '| state | value |', '|---|---|', ...APP_STATE_NAMES.map((s) => `| ${s} | ${h2(APP_STATES[s])} |`), '');
  out.push('| from | to | by | when |', '|---|---|---|---|', ...TRANSITIONS.map((t) => `| ${t.from} | ${t.to} | ${t.by} | ${t.when} |`), '');

  out.push('## Data objects', '', '| tag | name | origin | GET DATA | PUT DATA | content |', '|---|---|---|---|---|---|');
  for (const d of Object.values(DATA_OBJECTS)) {
    out.push(`| ${tagToHex(d.tag)} | ${d.name} | ${d.origin} | ${d.getData} | ${'putData' in d && d.putData ? 'yes' : ''} | ${esc(d.description)}; ${esc(d.coder.describe)} |`);
  }
  out.push('');

  for (const stage of [1, 2] as const) {
    out.push(`## Data groups, stage ${stage} (${stage === 1 ? 'central-bank card prep, BLANK -> PREPARED' : 'commercial-bank issuance, PREPARED -> ISSUED'})`, '');
    out.push('| DGI | name | protection | sensitive | content |', '|---|---|---|---|---|');
    for (const d of stageDgis(stage)) {
      out.push(`| ${d.dgi.toString(16).toUpperCase().padStart(4, '0')} | ${d.name} | ${d.protection} | ${d.sensitive ? 'yes' : ''} | ${esc(d.description)} |`);
    }
    out.push('');
  }
  out.push(`DGI ${DGIS.completion.dgi.toString(16).toUpperCase()} closes either stage.`, '');

  out.push('## Value formats', '');
  out.push(`### Coin`, '', `Bytes 0..${COIN_SIGNED_LENGTH - 1} (the body) are signed by the central bank with SM2 (default user ID); the signature follows.`, '', ...layoutTable(coinCoder.layout('')));
  out.push('### Export packet header', '', 'Signature = SM9-Sign(payer key, SM3(header bytes || coin list bytes)).', '', ...layoutTable(exportHeaderCoder.layout('')));
  out.push(
    '### Export packet body',
    '',
    'In clear for PURCHASE and CHANGE packets; SM9-encrypted to the payee identity for TRANSFER packets. The withdrawal seal (code and random salt) is all zeros without a code; otherwise the header carries SM3 of its 24 bytes as codeCommitment, so only the payee reads the code and the payer\'s signature binds it.',
    '',
    ...layoutTable(exportBodyCoder.layout('')),
  );
  out.push('### Receipt', '', 'The payee card signs SM3(body bytes) with its SM9 key.', '', ...layoutTable(receiptCoder.layout('')));
  out.push(
    '### IMPORT COINS response',
    '',
    "The receipt, then the settlement body (coin list and payer signature, decrypted by the card; never the withdrawal seal). The payee's bank settles a transfer with the packet and this response, without the payee's key.",
    '',
    ...layoutTable(importResponseCoder.layout('')),
  );
  out.push('### Log record', '', ...layoutTable(logRecordCoder.layout('')));
  out.push('### Card certificate (7F21 value)', '', 'The central bank signs every byte of the value before the 5F37 object.', '', ...layoutTable(cardCertificateCoder.layout('')));
  out.push('### Transaction types', '', ...Object.entries(TRANSACTION_TYPES).map(([n, v]) => `- ${h2(v)} ${n}`), '');

  out.push(
    '## MAC and TAC data (JR/T 0025.2)',
    '',
    'The bytes each MAC1, MAC2 and TAC covers: SM4 MAC algorithm 1 (ISO/IEC 9797-1, IV zero, padding method 2), leftmost 4 bytes, under the process key for MAC1 and MAC2 and under the TAC key for the TAC.',
    '',
  );
  for (const d of Object.values(MAC_DATA)) out.push(`### ${d.title} data`, '', d.note, '', ...layoutTable(d.coder.layout('')));

  out.push('## Status words', '', '| SW | name | origin | meaning |', '|---|---|---|---|');
  for (const s of statusWordTable) out.push(`| ${swText(s.sw)} | ${s.name} | ${s.origin} | ${esc(s.meaning)} |`);
  out.push('');
  return out.join('\n');
}
