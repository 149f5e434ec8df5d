/**
 * @module `drmb perso psam`: personalizes a blank D-RMB PSAM (personalization/personalize-psam.ts) in a
 * reader or a simulated PSAM image with the pos role's keys: its terminal number and the purchase master
 * it derives every card's purchase key from. The PSAM's own personalization keys (kvn 30) are diversified
 * by its serial number from the PSAM masters of the same key file (keys/card-keys.ts psamScpKeys), as
 * `drmb sim create --psam` writes them.
 */
import type { Command as Cli } from 'commander';
import { fromHex, hex } from '../../base/hex.js';
import { wipe } from '../../base/bytes.js';
import { Psam } from '../../host/psam.js';
import { cardIdToBytes, psamScpKeys } from '../../keys/card-keys.js';
import { type KeyFile, wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { personalizePsam } from '../../personalization/personalize-psam.js';
import { openCard } from '../open-card.js';
import { withCardTarget, withJson, withKeys, withTrace } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface PersoPsamOptions {
  reader?: string;
  sim?: string;
  keys?: string;
  terminalId: string;
  trace?: boolean;
  json?: boolean;
}

export interface PersoPsamReport {
  psamId: string;
  state: string;
  terminalId: string;
  source: string;
}

/**
 * The pos role's PSAM keys (keys/role-bundles.ts): the purchase master a PSAM derives each card's
 * purchase key from, and the masters of the PSAMs' personalization key set, from a pos bundle or a
 * ceremony directory (cut from cb-master there). Security: secret; the caller wipes it (wipeKeyFile).
 */
export function loadPsamKeys(dir: string | undefined, command: 'drmb perso psam' | 'drmb sim create --psam'): KeyFile<'purchase-master'> {
  return RoleKeys.open(dir, command).key('purchase-master');
}

/** Terminal number of --terminal-id: 12 hex digits (6 bytes, the JR/T 0025 terminal number). */
export function terminalIdOf(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{12}$/.test(text)) throw new UsageError('--terminal-id must be 12 hex digits (6 bytes)');
  return fromHex(text);
}

/** Personalizes the PSAM the options name; a --sim image is saved when the command ends. */
export async function collectPersoPsam(o: PersoPsamOptions): Promise<PersoPsamReport> {
  const terminalNumber = terminalIdOf(o.terminalId);
  if (o.sim === undefined && o.reader === undefined) throw new UsageError('--sim IMAGE or --reader NAME is required');
  const opened = await openCard(o, { image: 'save-at-end', psam: true });
  try {
    return await opened.transport.lease(async (t) => {
      const { psamId } = await new Psam(t).select();
      const keys = loadPsamKeys(o.keys, 'drmb perso psam');
      const scpKeys = psamScpKeys(keys.secret, cardIdToBytes(psamId));
      try {
        const info = await personalizePsam(t, scpKeys, { terminalNumber, purchaseMaster: keys.secret.purchase });
        return { psamId: info.psamId, state: info.state, terminalId: hex(terminalNumber), source: opened.source };
      } finally {
        wipeKeyFile(keys);
        wipe(scpKeys.enc, scpKeys.mac, scpKeys.dek);
      }
    });
  } finally {
    await opened.close();
  }
}

export function registerPersoPsam(perso: Cli): void {
  const cmd = perso
    .command('psam')
    .description("personalize a blank PSAM for a POS terminal (BLANK -> ISSUED): terminal number and purchase master through SCP03")
    .requiredOption('--terminal-id <hex>', 'terminal number, 6 bytes in hex (read by terminals with READ BINARY 00 B0 96 00 06)');
  withCardTarget(cmd, { image: 'save-at-end', holder: 'PSAM' });
  withJson(withTrace(withKeys(cmd, 'reads cb-master.json (the PSAM personalization keys and the purchase master)'))).action(async (o: PersoPsamOptions) => {
    emit(await collectPersoPsam(o), !!o.json, (r) => `personalized PSAM ${r.psamId} (${r.state}) with terminal number ${r.terminalId} on ${r.source}`);
  });
}
