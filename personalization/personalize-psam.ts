/**
 * @module personalizePsam: personalizes a blank D-RMB PSAM (BLANK -> ISSUED) through SCP03 over its key
 * version 30 keys: STORE DATA of the terminal number, the DEK-encrypted purchase master and the completion
 * DGI (applet-spec/psam/psam-dgis.ts), then reads the PSAM back. psamStoreDataSteps is the pure builder.
 */
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { STORE_DATA_P1, storeDataEncryptionBits } from '../applet-spec/dgis.js';
import { FormatError } from '../applet-spec/errors.js';
import { psamStoreData } from '../applet-spec/psam-commands.js';
import { PSAM_DGIS } from '../applet-spec/psam/psam-dgis.js';
import { equalBytes } from '../base/bytes.js';
import { OperationalError } from '../base/operational-error.js';
import { dekEncrypt, type Scp03StaticKeys } from '../crypto/scp03.js';
import { CardSession } from '../host/card-session.js';
import { Psam, type PsamInfo } from '../host/psam.js';
import { openSecureChannel } from '../host/secure-channel.js';
import type { Transport } from '../host/transport.js';

/** Security level of the personalization session: C-MAC, C-DEC, R-MAC, R-ENC, as the card's prep. */
const LEVEL = 0x33;

/** A PSAM that cannot be personalized (not blank, or read back wrong). */
export class PsamPersoError extends OperationalError {
  override name = 'PsamPersoError';
}

/** What a PSAM is personalized with: the terminal number and the purchase master. */
export interface PsamPersoData {
  /** 6-byte terminal number */
  terminalNumber: Uint8Array;
  /** 16-byte SM4 purchase master. Security: secret; sent only DEK-encrypted */
  purchaseMaster: Uint8Array;
}

/** One STORE DATA request value of the PSAM script: clear DGIs, the encrypted key in a block of its own, the last block flagged. */
export type PsamStoreDataStep = Parameters<typeof psamStoreData.encode>[0];

/**
 * The STORE DATA requests that personalize a PSAM (GP 2.3 11.11.2.1: P2 numbers the blocks from 00, P1
 * b8 marks the last, b6-b5 = 11 a DEK-encrypted DGI). Pure: the caller sends them through the channel.
 */
export function psamStoreDataSteps(data: PsamPersoData, dek: Uint8Array): PsamStoreDataStep[] {
  if (data.terminalNumber.length !== 6) throw new FormatError('terminal number', 'must be 6 bytes');
  if (data.purchaseMaster.length !== 16) throw new FormatError('purchase master', 'must be 16 bytes (SM4)');
  const blocks: { dgi: number; value: Uint8Array; encryption: number }[] = [
    { dgi: PSAM_DGIS.terminalNumber.dgi, value: data.terminalNumber.slice(), encryption: 0 },
    { dgi: PSAM_DGIS.purchaseMaster.dgi, value: dekEncrypt(dek, data.purchaseMaster), encryption: storeDataEncryptionBits(PSAM_DGIS.purchaseMaster.protection) },
    { dgi: PSAM_DGIS.completion.dgi, value: new Uint8Array(0), encryption: 0 },
  ];
  return blocks.map((b, i) => ({
    flags: STORE_DATA_P1.DGI_FORMAT | b.encryption | (i === blocks.length - 1 ? STORE_DATA_P1.LAST_BLOCK : 0),
    block: i,
    dgis: [{ dgi: b.dgi, value: b.value }],
  }));
}

/**
 * Personalizes the blank PSAM behind `transport` and returns its serial number and state. Throws
 * PsamPersoError for a PSAM that is not BLANK (it is never rewritten) or that reads back wrong.
 * Security: opens SCP03 with the PSAM's personalization keys (diversified by its serial number); the
 * purchase master travels DEK-encrypted inside the C-DEC channel and is never readable afterwards.
 */
export async function personalizePsam(transport: Transport, scpKeys: Scp03StaticKeys, data: PsamPersoData): Promise<PsamInfo> {
  const psam = new Psam(transport);
  const before = await psam.select();
  if (before.state !== 'BLANK') throw new PsamPersoError(`PSAM ${before.psamId} is ${before.state}, not BLANK: not personalized again`);
  const channel = await openSecureChannel(transport, scpKeys, { kvn: KEY_VERSIONS.PERSONALIZATION, level: LEVEL });
  try {
    const inside = new CardSession(channel);
    for (const step of psamStoreDataSteps(data, scpKeys.dek)) await inside.send(psamStoreData, step, { secure: false });
  } finally {
    await channel.close();
  }
  const after = await psam.select();
  if (after.state !== 'ISSUED') throw new PsamPersoError(`PSAM ${after.psamId}: read back ${after.state} after personalization`);
  if (!equalBytes(await psam.terminalNumber(), data.terminalNumber)) throw new PsamPersoError(`PSAM ${after.psamId}: terminal number read back differs`);
  return after;
}
