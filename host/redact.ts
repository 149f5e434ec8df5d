/**
 * @module Redaction of secrets in APDUs before they reach a trace or a transcript: PINs (VERIFY,
 * CHANGE PIN, RELOAD PIN), the withdrawal code of INITIALIZE FOR TRANSFER (only the payee may learn it),
 * and the values of sensitive DGIs in STORE DATA (keys, PIN blocks), as the applet-spec DGI table marks them.
 */
import { type CommandApdu, decodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { parseDgiList } from '../applet-spec/codec/dgi.js';
import { hex } from '../base/hex.js';
import { commandForHeader } from '../applet-spec/commands.js';
import { initializeForTransfer } from '../applet-spec/commands/initialize-for-transfer.js';
import { dgiByNumber } from '../applet-spec/dgis.js';

/** Commands whose whole data field is secret (PIN material); the trailing MAC of RELOAD PIN included. */
const PIN_COMMANDS = new Set(['verify', 'changePin', 'reloadPin']);

/**
 * A command APDU as text for traces and transcripts, with PIN blocks and key DGIs replaced, and its
 * command name.
 */
export interface RedactedApdu {
  /** header, Lc, data (with secrets replaced) and Le, as spaced hex text */
  text: string;
  /** the command's name from applet-spec, if it is one */
  name?: string;
  redacted: boolean;
}

function lcText(a: CommandApdu): string {
  if (!a.data.length) return '';
  return a.extended ? `00${a.data.length.toString(16).padStart(4, '0').toUpperCase()}` : a.data.length.toString(16).padStart(2, '0').toUpperCase();
}

function leText(a: CommandApdu): string {
  if (a.le === undefined) return '';
  const v = a.extended ? (a.le === 65536 ? 0 : a.le) : a.le === 256 ? 0 : a.le;
  return v.toString(16).padStart(a.extended ? (a.data.length ? 4 : 6) : 2, '0').toUpperCase();
}

/** The data of a STORE DATA command with sensitive DGI values replaced; undefined when no DGI list parses. */
function redactDgis(data: Uint8Array): { text: string; redacted: boolean } | undefined {
  for (const trailer of [0, 8, 16]) {
    if (data.length < trailer) continue;
    try {
      const dgis = parseDgiList(data.subarray(0, data.length - trailer));
      let redacted = false;
      const parts = dgis.map((d) => {
        const def = dgiByNumber(d.dgi);
        const num = d.dgi.toString(16).padStart(4, '0').toUpperCase();
        if (!def || def.sensitive) {
          redacted = true;
          return `${num} <${d.value.length} bytes redacted>`;
        }
        return `${num} ${hex(d.value)}`;
      });
      if (trailer) parts.push(`MAC ${hex(data.subarray(data.length - trailer))}`);
      return { text: parts.join(' '), redacted };
    } catch {
      // try with a secure-messaging MAC at the end
    }
  }
  return undefined;
}

/**
 * The data of INITIALIZE FOR TRANSFER with the withdrawal code's bytes replaced; undefined when it does
 * not decode. The code's place is found from the definition: the bytes that change when only the code does.
 */
function redactWithdrawalCode(a: CommandApdu): string | undefined {
  let request;
  try {
    request = initializeForTransfer.decode(a);
  } catch {
    return undefined;
  }
  const zeros = initializeForTransfer.request.encode({ ...request, withdrawalCode: '0'.repeat(16) });
  const nines = initializeForTransfer.request.encode({ ...request, withdrawalCode: '9'.repeat(16) });
  const at = zeros.findIndex((b, i) => b !== nines[i]);
  const end = zeros.length - [...zeros].reverse().findIndex((b, i) => b !== nines[nines.length - 1 - i]);
  return [hex(a.data.subarray(0, at)), `<withdrawal code redacted>`, hex(a.data.subarray(end))].filter(Boolean).join(' ');
}

/** Formats a command APDU for logs, hiding PINs, withdrawal codes and key DGIs. Unparseable bytes are shown as they are. */
export function redactCommand(command: Uint8Array): RedactedApdu {
  let a: CommandApdu;
  try {
    a = decodeCommandApdu(command);
  } catch {
    return { text: hex(command), redacted: false };
  }
  const cmd = commandForHeader(a);
  const header = hex(command.subarray(0, 4));
  let data = hex(a.data);
  let redacted = false;
  if (cmd && PIN_COMMANDS.has(cmd.id) && a.data.length) {
    data = `<${a.data.length} bytes of PIN data redacted>`;
    redacted = true;
  } else if (cmd?.id === initializeForTransfer.id && a.data.length) {
    // Unparseable: show nothing rather than risk the code.
    data = redactWithdrawalCode(a) ?? `<${a.data.length} bytes redacted>`;
    redacted = true;
  } else if (cmd?.id === 'storeData' && a.data.length) {
    const r = redactDgis(a.data);
    if (r) {
      data = r.text;
      redacted = r.redacted;
    } else if (!(a.cla & 0x04)) {
      // Clear STORE DATA that does not parse: show nothing rather than risk a key.
      data = `<${a.data.length} bytes redacted>`;
      redacted = true;
    }
  }
  const text = [header, lcText(a), a.data.length ? data : '', leText(a)].filter(Boolean).join(' ');
  return { text, name: cmd?.name, redacted };
}
