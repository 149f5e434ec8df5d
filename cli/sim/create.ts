/** @module `drmb sim create`: manufactures a blank simulated card image whose personalization keys derive from the central bank's master. */
import { existsSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { cardIdToBytes, cardScpKeys } from '../../keys/card-keys.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { isCardId, keyDirOf, withCardId, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';
import { saveSimImage } from './load-sim-image.js';

export interface CreateOptions {
  image: string;
  cardId: string;
  keys?: string;
  overwrite?: boolean;
  json?: boolean;
}

/** Writes a BLANK card image: card ID, key version 30 keys diversified from cb-master (KDF3 by card ID). */
export async function createSimCard(o: CreateOptions): Promise<{ image: string; cardId: string; state: string }> {
  if (!isCardId(o.cardId)) throw new UsageError('--card-id must be 20 digits');
  if (existsSync(o.image) && !o.overwrite) throw new UsageError(`--image ${o.image} exists (use --overwrite)`);
  const cbMaster = RoleKeys.open(keyDirOf(o), 'drmb sim create').key('cb-master');
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  const card = new SimulatedCard({ manufacture: { cardId: o.cardId, personalizationKeys: cardScpKeys(cbMaster, cardIdToBytes(o.cardId)) } });
  saveSimImage(card, o.image);
  return { image: o.image, cardId: o.cardId, state: card.memory.state };
}

export function registerCreate(sim: Cli): void {
  const cmd = sim
    .command('create')
    .description('manufacture a blank simulated card image with personalization keys diversified from the central-bank master')
    .requiredOption('--image <file>', 'card image file to write (mode 0600)');
  withKeys(withCardId(cmd, 'of the new card', true), 'reads cb-master.json').option('--overwrite', 'replace an existing image');
  withJson(cmd).action(async (o: CreateOptions) => {
    emit(await createSimCard(o), !!o.json, (r) => `created ${r.state} card ${r.cardId} in ${r.image}`);
  });
}
