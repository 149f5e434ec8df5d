/**
 * @module Replays a personalization script written by `drmb perso prepare --dry-run --script-out`:
 * `select`, `secure-channel <kvn> <level>` (opened with the card's diversified keys) and `=> hex`
 * plain commands sent inside the channel; every command must answer 9000.
 */
import { hex } from '../base/hex.js';
import { fromHex } from '../base/hex.js';
import { wipe } from '../base/bytes.js';
import { DrmbCard } from '../host/drmb-card.js';
import { StatusWordError } from '../host/errors.js';
import { openSecureChannel } from '../host/secure-channel.js';
import { swOf, type Transport } from '../host/transport.js';
import { cardIdToBytes, cardIssuanceKeys, cardScpKeys } from '../keys/card-keys.js';
import { PersoError } from './card-prep.js';
import type { KeyFile } from '../keys/key-files.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';

/**
 * The master keys runScript opens secure channels with: cb-master for key version 30, issuance-master
 * for 31.
 */
export interface ScriptKeys {
  cbMaster?: KeyFile<'cb-master'>;
  issuanceMaster?: KeyFile<'issuance-master'>;
}

/** Runs the script against the card; returns the number of commands sent inside the channel. */
export async function runScript(transport: Transport, text: string, keys: ScriptKeys): Promise<{ cardId: string; commands: number }> {
  const card = new DrmbCard(transport);
  const forCard = /for card (\d{20})/.exec(text)?.[1];
  let channel: Transport | undefined;
  let cardId = '';
  let commands = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const where = `script line ${i + 1}`;
    if (line === 'select') {
      const info = await card.select();
      cardId = info.cardId ?? ((await card.getData('cardId')) as string);
      if (forCard && cardId !== forCard) throw new PersoError(`${where}: the script is for card ${forCard}, this card is ${cardId}`, cardId);
      continue;
    }
    const sc = /^secure-channel ([0-9a-f]{2}) ([0-9a-f]{2})$/i.exec(line);
    if (sc) {
      const kvn = parseInt(sc[1], 16);
      const master = kvn === KEY_VERSIONS.PERSONALIZATION ? keys.cbMaster : keys.issuanceMaster;
      if (!master) throw new PersoError(`${where}: no master key for key version ${sc[1]}`);
      const k = kvn === KEY_VERSIONS.PERSONALIZATION ? cardScpKeys(master as KeyFile<'cb-master'>, cardIdToBytes(cardId)) : cardIssuanceKeys(master as KeyFile<'issuance-master'>, cardIdToBytes(cardId));
      try {
        channel = await openSecureChannel(transport, k, { kvn, level: parseInt(sc[2], 16) });
      } finally {
        wipe(k.enc, k.mac, k.dek);
      }
      continue;
    }
    if (line.startsWith('=>')) {
      if (line.includes('<')) throw new PersoError(`${where}: this is the redacted script; replay the one written with --script-out`);
      if (!channel) throw new PersoError(`${where}: command before secure-channel`);
      const apdu = fromHex(line.slice(2));
      const r = await channel.transmit(apdu);
      if (swOf(r) !== 0x9000) throw new StatusWordError(`${where} (${hex(apdu.subarray(0, 4))})`, swOf(r));
      commands++;
      continue;
    }
    throw new PersoError(`${where}: expected select, secure-channel, => or #, got "${line.slice(0, 24)}"`);
  }
  await channel?.close();
  return { cardId, commands };
}
