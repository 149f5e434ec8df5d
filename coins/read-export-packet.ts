/**
 * @module readExportPacket: an export packet split as its signature needs it (value-formats.ts: the header
 * decoded and its bytes exactly as sent, the body as sent, in clear or SM9 ciphertext), after the layout and
 * version checks that every reader makes before looking at payee, nonce or body.
 */
import { type ExportHeader, exportPacketCoder, PACKET_VERSION } from '../applet-spec/value-formats.js';

/** A packet whose layout and version are right; nothing about it is verified yet. */
export interface ExportPacketParts {
  header: ExportHeader;
  /** the header bytes as sent: the payer's signature covers them, never a re-encoding */
  headerBytes: Uint8Array;
  /** the body as sent: in clear for PURCHASE and CHANGE, SM9 ciphertext for TRANSFER */
  body: Uint8Array;
}

/** The packet does not decode ('format', with the decoder's message) or has another version than PACKET_VERSION. */
export type ExportPacketLayoutFault = { fault: 'format'; detail: string } | { fault: 'version'; version: number };

/** Splits and decodes a packet; never throws for bad bytes. */
export function readExportPacket(packetBytes: Uint8Array): ({ ok: true } & ExportPacketParts) | ({ ok: false } & ExportPacketLayoutFault) {
  let decoded;
  try {
    decoded = exportPacketCoder.decode(packetBytes);
  } catch (e) {
    // FormatError from the coders; any other decoding error of bad bytes is a layout fault too.
    return { ok: false, fault: 'format', detail: (e as Error).message };
  }
  const { header, body } = decoded;
  if (header.version !== PACKET_VERSION) return { ok: false, fault: 'version', version: header.version };
  return { ok: true, header, headerBytes: packetBytes.subarray(0, packetBytes.length - body.length), body };
}
