/**
 * @module Turns personalization data groups into STORE DATA commands (GP 2.3 11.11, EMV CPS 4.3.4):
 * clear DGIs packed together into as few commands as fit, each encrypted DGI in a command of its own
 * (DEK or SM2 encryption applied here), block numbers consecutive from 00 and the last block flagged.
 * Pure: the commands are plain (CLA 80), to be wrapped by the secure channel that sends them.
 */
import { encodeDgi } from '../applet-spec/codec/dgi.js';
import { storeData } from '../applet-spec/commands.js';
import { DGIS, type DgiName, STORE_DATA_P1, storeDataEncryptionBits } from '../applet-spec/dgis.js';
import { dekEncrypt } from '../crypto/scp03.js';
import { sm2Encrypt } from '../crypto/sm2.js';

/** Largest data field for one STORE DATA of clear DGIs (chained on the wire when longer than a block). */
export const MAX_CLEAR_BLOCK_BYTES = 960;

/** One STORE DATA command of a script: the plain APDU, the DGIs it carries, whether it carries key material, and its block number. */
export interface StoreDataStep {
  /** the plain command APDU (CLA 80), to be sent through the secure channel */
  apdu: Uint8Array;
  /** DGI numbers carried, for logs and manifests */
  dgis: number[];
  /** true when the command carries key material (encrypted): traces show it redacted */
  sensitive: boolean;
  block: number;
}

export interface DgiEncryption {
  /** the card's static DEK of the key set in use (AES) */
  dek: Uint8Array;
  /** the card's SM2 public key, for the SM9 user keys of stage 2 */
  cardPublicKey?: Uint8Array;
}

/** A DGI value already encrypted by its producer (the KGC encrypts SM9 keys to the card key itself). */
export interface PreEncrypted {
  preEncrypted: Uint8Array;
}

/** Encodes and protects each DGI, then groups them into STORE DATA commands. */
export function storeDataScript(dgis: [DgiName, unknown | PreEncrypted][], enc: DgiEncryption): StoreDataStep[] {
  interface Group {
    list: { dgi: number; value: Uint8Array }[];
    encryption: number;
    sensitive: boolean;
  }
  const groups: Group[] = [];
  let open: Group | undefined;
  let openBytes = 0;
  for (const [name, value] of dgis) {
    const def = DGIS[name];
    const item = { dgi: def.dgi, value: protect(name, value, enc) };
    if (def.protection !== 'clear') {
      open = undefined;
      groups.push({ list: [item], encryption: storeDataEncryptionBits(def.protection), sensitive: def.sensitive });
      continue;
    }
    const size = encodeDgi(item).length;
    if (!open || openBytes + size > MAX_CLEAR_BLOCK_BYTES) {
      open = { list: [], encryption: 0, sensitive: false };
      openBytes = 0;
      groups.push(open);
    }
    open.list.push(item);
    openBytes += size;
  }
  // GP 2.3 11.11.2.1: P2 numbers the blocks from 00; P1 b8 marks the last one.
  return groups.map((g, i) => {
    const flags = STORE_DATA_P1.DGI_FORMAT | g.encryption | (i === groups.length - 1 ? STORE_DATA_P1.LAST_BLOCK : 0);
    return { apdu: storeData.encodeBytes({ flags, block: i, dgis: g.list }, { secure: false }), dgis: g.list.map((d) => d.dgi), sensitive: g.sensitive, block: i };
  });
}

/** The DGI value as it travels: encoded by its definition, then encrypted as the definition says. */
function protect(name: DgiName, value: unknown, enc: DgiEncryption): Uint8Array {
  const def = DGIS[name];
  if (value && typeof value === 'object' && 'preEncrypted' in value) return (value as PreEncrypted).preEncrypted;
  const bytes = (def.coder as { encode(v: unknown): Uint8Array }).encode(value);
  if (def.protection === 'dek') return dekEncrypt(enc.dek, bytes);
  if (def.protection === 'sm2') {
    if (!enc.cardPublicKey) throw new Error(`DGI ${name} needs the card's SM2 public key`);
    return sm2Encrypt(enc.cardPublicKey, bytes);
  }
  return bytes;
}
