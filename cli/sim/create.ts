/**
 * @module `drmb sim create`: manufactures a blank simulated card image, or with --psam a blank simulated
 * PSAM image, whose personalization keys derive from the central bank's master by its 20-digit ID.
 */
import { existsSync } from 'node:fs';
import { whyNotWritable } from '../../io/atomic-file.js';
import type { Command as Cli } from 'commander';
import { cardIdToBytes, cardScpKeys, psamScpKeys } from '../../keys/card-keys.js';
import { wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { isCardId, keyDirOf, withCardId, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';
import { loadPsamKeys } from '../perso/psam.js';
import { saveSimImage } from './load-sim-image.js';

export interface CreateOptions {
  image: string;
  /** the card ID; with psam, the PSAM's serial number (a random one starting 88 when absent) */
  cardId?: string;
  /** make a PSAM (the POS terminal's second card) instead of a user card */
  psam?: boolean;
  keys?: string;
  overwrite?: boolean;
  json?: boolean;
}

/**
 * Writes a BLANK card image (card ID, key version 30 keys diversified from cb-master, KDF3 by card ID),
 * or with `psam` a BLANK PSAM image (serial number, key version 30 keys diversified the same way by the
 * serial number, sequence number 0), to be personalized by `drmb perso psam`.
 */
export async function createSimCard(o: CreateOptions): Promise<{ image: string; cardId: string; state: string; type: 'card' | 'psam' }> {
  const id = o.cardId ?? (o.psam ? `88${Array.from({ length: 18 }, () => Math.floor(Math.random() * 10)).join('')}` : undefined);
  if (id === undefined || !isCardId(id)) throw new UsageError('--card-id must be 20 digits');
  if (existsSync(o.image) && !o.overwrite) throw new UsageError(`--image ${o.image} exists (use --overwrite)`);
  const unwritable = whyNotWritable(o.image);
  if (unwritable) throw new UsageError(`--image: ${unwritable}`);
  // A card's kvn 30 keys derive from cb-master (prep centre); a PSAM's from the pos role's PSAM masters.
  let personalizationKeys;
  if (o.psam) {
    const keys = loadPsamKeys(keyDirOf(o), 'drmb sim create --psam');
    personalizationKeys = psamScpKeys(keys.secret, cardIdToBytes(id));
    wipeKeyFile(keys);
  } else {
    const cbMaster = RoleKeys.open(keyDirOf(o), 'drmb sim create').key('cb-master');
    personalizationKeys = cardScpKeys(cbMaster, cardIdToBytes(id));
    wipeKeyFile(cbMaster);
  }
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  const card = o.psam ? SimulatedCard.psam({ psamId: id, personalizationKeys }) : new SimulatedCard({ manufacture: { cardId: id, personalizationKeys } });
  saveSimImage(card, o.image);
  return { image: o.image, cardId: id, state: card.memory.state, type: o.psam ? 'psam' : 'card' };
}

export function registerCreate(sim: Cli): void {
  const cmd = sim
    .command('create')
    .description('manufacture a blank simulated card (or, with --psam, PSAM) image with personalization keys diversified from the central-bank master')
    .requiredOption('--image <file>', 'card image file to write (mode 0600)')
    .option('--psam', "a PSAM for a POS terminal's second slot (personalize it with drmb perso psam)");
  withKeys(withCardId(cmd, 'of the new card (with --psam: the PSAM serial number, random by default); required for a card'), 'reads cb-master.json').option('--overwrite', 'replace an existing image');
  withJson(cmd).action(async (o: CreateOptions) => {
    emit(await createSimCard(o), !!o.json, (r) => `created ${r.state} ${r.type === 'psam' ? 'PSAM' : 'card'} ${r.cardId} in ${r.image}`);
  });
}
