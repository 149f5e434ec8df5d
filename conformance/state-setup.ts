/**
 * @module Brings a fresh simulated card into a lifecycle state the target has no image of, by the
 * lifecycle's own transitions: LOCKED from ISSUED by APPLICATION BLOCK (issuer MAC key), TERMINATED
 * from BLANK or PREPARED by SET STATUS over SCP03 (personalization keys). Needs the profile's cb-master.
 */
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import type { AppState } from '../applet-spec/lifecycle.js';
import type { Transport } from '../host/transport.js';
import { CaseContext } from './case-context.js';
import type { ConformanceProfile } from './profile.js';
import type { ConformanceTarget } from './target.js';

/** A fresh card in `state`, made from another state's image; undefined when the target or profile cannot. */
export async function freshCardIn(target: ConformanceTarget, state: AppState, profile: ConformanceProfile): Promise<Transport | undefined> {
  if (!target.fresh) return undefined;
  const direct = await target.fresh(state);
  if (direct || !profile.keys.cbMaster) return direct;
  if (state === 'LOCKED') {
    const t = await target.fresh('ISSUED');
    if (!t) return undefined;
    const ctx = new CaseContext(t, profile);
    await ctx.select();
    await ctx.card.block(ctx.lineMacSigner('issuerMac'));
    return t;
  }
  if (state === 'TERMINATED') {
    for (const from of ['BLANK', 'PREPARED'] as const) {
      const t = await target.fresh(from);
      if (!t) continue;
      const ctx = new CaseContext(t, profile);
      await ctx.select();
      const channel = await ctx.card.openSecureChannel(ctx.scpKeys(KEY_VERSIONS.PERSONALIZATION), { kvn: KEY_VERSIONS.PERSONALIZATION });
      await ctx.card.terminate(channel);
      return t;
    }
  }
  return undefined;
}
