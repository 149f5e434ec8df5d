/**
 * @module Central-bank card prep (stage 1, BLANK -> PREPARED) and commercial-bank issuance (stage 2,
 * PREPARED -> ISSUED) of one card over any transport: state check, per-card keys, SCP03, the DGIs of
 * the stage as STORE DATA, read-back verification, manifest line and audit entry. The same plan
 * renders as a dry-run script without a card.
 */
import { OperationalError } from '../base/operational-error.js';
import { hex } from '../base/hex.js';
import { dgiToHex } from '../applet-spec/codec/dgi.js';
import { wipe } from '../base/bytes.js';
import { SecureChannelError } from '../crypto/scp03.js';
import { DrmbCard } from '../host/drmb-card.js';
import { StatusWordError } from '../host/errors.js';
import { openSecureChannel } from '../host/secure-channel.js';
import { swOf, type Transport } from '../host/transport.js';
import { appendAudit } from './audit-log.js';
import { cardIdFromBytes } from '../keys/card-keys.js';
import type { TrustAnchors } from './key-ceremony.js';
import type { KeyFile } from '../keys/key-files.js';
import type { InProcessKgc, UserKeySource } from './kgc.js';
import { type Manifest, type ManifestEntry, type Stage } from './manifest.js';
import { type HolderData, identityFor, type IssueProfile, type LoadedProfile, pinPolicyProblem, type PrepareProfile } from './profiles.js';
import { inThreadPersoCrypto, type PersoCrypto, PersoCryptoError, type PrepareKeys, type StagePlan } from './perso-crypto.js';
import type { StoreDataStep } from './store-data-script.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';

export { issueDgis, prepareDgis, type PrepareKeys } from './perso-crypto.js';

/** SCP03 key versions of the two stages (applet-spec initialize-update KEY_VERSIONS). */
const PERSONALIZATION_KVN = KEY_VERSIONS.PERSONALIZATION;
const ISSUANCE_KVN = KEY_VERSIONS.ISSUANCE;
const LEVEL = 0x33;

/** A personalization step that cannot go on: wrong state, refused keys, failed check. */
export class PersoError extends OperationalError {
  override readonly name = 'PersoError';
  constructor(
    message: string,
    readonly cardId?: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** Who runs the job and where its records go. */
export interface PersoContext {
  operator: string;
  manifest?: Manifest;
  auditPath?: string;
  /** go on although the manifest records a failed card cryptogram for this card */
  force?: boolean;
  /** reader name, for the manifest */
  reader?: string;
  now?: () => Date;
  /** progress: one call per step */
  onStep?: (cardId: string, step: string) => void;
  /**
   * where the host's per-card computation runs (plans, certificate checks, an in-process KGC): a
   * PersoCryptoPool of worker threads; this thread when absent
   */
  crypto?: PersoCrypto;
}

/**
 * What one stage of personalization did to a card: its ID, the stage, done or skipped (and why), APDUs
 * and time.
 */
export interface PersoResult {
  cardId: string;
  stage: Stage;
  result: 'done' | 'skipped';
  reason?: string;
  apdus: number;
  durationMs: number;
  kcvs?: Record<string, string>;
}

/** What stage 2 needs: the issuance masters, the KGC that answers for the holder's SM9 keys, and the anchors. */
export interface IssueKeys {
  issuanceMaster: KeyFile<'issuance-master'>;
  /** the KGC service (remoteKgc), or inProcessKgc in development: the desk never holds a KGC master key */
  kgc: UserKeySource;
  anchors: TrustAnchors;
}

/** Counts APDUs on the wire (for the manifest and the benchmark's "APDUs per card"). */
function counting(t: Transport): Transport & { count: number } {
  const c = {
    count: 0,
    description: t.description,
    transmit: (cmd: Uint8Array) => {
      c.count++;
      return t.transmit(cmd);
    },
    close: () => t.close(),
  };
  return c;
}

/** The KGC of issuance: an in-process KGC computes where `crypto` does; the KGC service answers over HTTP. */
function kgcOf(kgc: UserKeySource, crypto: PersoCrypto | undefined): UserKeySource {
  const local = kgc as Partial<InProcessKgc>;
  return crypto && typeof local.computingOn === 'function' ? local.computingOn(crypto) : kgc;
}

/** Opens SCP03 with the plan's keys, sends its STORE DATA script and closes; the keys are wiped whatever happens. */
async function sendPlan(wire: Transport, plan: StagePlan, kvn: number, steps: string[], cardId: string, onStep?: (cardId: string, step: string) => void): Promise<void> {
  try {
    const channel = await openSecureChannel(wire, plan.scpKeys, { kvn, level: LEVEL });
    steps.push('authenticate');
    onStep?.(cardId, 'authenticate');
    steps.push(...(await sendSteps(channel, plan.steps, cardId, onStep)));
    await channel.close();
  } finally {
    wipe(plan.scpKeys.enc, plan.scpKeys.mac, plan.scpKeys.dek);
  }
}

async function sendSteps(channel: Transport, steps: StoreDataStep[], cardId: string, onStep?: (cardId: string, step: string) => void): Promise<string[]> {
  const done: string[] = [];
  for (const s of steps) {
    const r = await channel.transmit(s.apdu);
    const sw = swOf(r);
    if (sw !== 0x9000) throw new StatusWordError(`STORE DATA block ${s.block} (DGI ${s.dgis.map(dgiToHex).join(', ')})`, sw);
    const name = `store-data ${s.block}: ${s.dgis.map(dgiToHex).join(' ')}`;
    done.push(name);
    onStep?.(cardId, name);
  }
  return done;
}

function record(ctx: PersoContext, entry: Omit<ManifestEntry, 'time' | 'operator'>): void {
  const time = (ctx.now?.() ?? new Date()).toISOString();
  ctx.manifest?.append({ ...entry, time, operator: ctx.operator, reader: ctx.reader });
  if (ctx.auditPath) {
    appendAudit(ctx.auditPath, {
      time,
      operator: ctx.operator,
      action: `${entry.stage} ${entry.result}`,
      cardId: entry.cardId,
      detail: { profileHash: entry.profileHash, kcvs: entry.kcvs, error: entry.error, reader: ctx.reader },
    });
  }
}

/** Runs `work`, recording a failed manifest line (and rethrowing) if it throws. */
async function recorded<T>(
  ctx: PersoContext,
  base: { cardId: string; stage: Stage; profileHash: string },
  steps: string[],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const cryptogramFailure = e instanceof SecureChannelError && e.reason === 'card-cryptogram';
    record(ctx, { ...base, result: 'failed', steps, cryptogramFailure: cryptogramFailure || undefined, error: (e as Error).message });
    if (cryptogramFailure) {
      throw new PersoError(`card ${base.cardId}: the card cryptogram does not match the keys (wrong master key, or not a card of this issuer); not retried`, base.cardId, e);
    }
    if (e instanceof PersoCryptoError) throw new PersoError(`card ${base.cardId}: ${e.message}`, base.cardId, e);
    throw e;
  }
}

/**
 * Before a stage writes anything: a card past the stage's starting state is skipped (recorded, never
 * an error, so a batch can be run again); a card whose cryptogram already failed with these keys is
 * refused unless --force, as the card counts failed authentications (GP 2.3 11.8.2).
 */
function stageGate(ctx: PersoContext, base: { cardId: string; stage: 'prepare' | 'issue'; profileHash: string }, state: string, from: 'BLANK' | 'PREPARED', apdus: number, t0: number): PersoResult | undefined {
  const { cardId, stage } = base;
  if (state !== from) {
    record(ctx, { ...base, result: 'skipped', steps: ['select'], error: `card is already ${state}` });
    return { cardId, stage, result: 'skipped', reason: `card is already ${state}`, apdus, durationMs: performance.now() - t0 };
  }
  if (!ctx.force && ctx.manifest && ctx.manifest.cryptogramFailures(cardId, stage) > 0) {
    throw new PersoError(`card ${cardId}: a failed card cryptogram is on record for these keys; refusing to try again (use --force after checking the keys)`, cardId);
  }
  return undefined;
}

/**
 * Central-bank card prep of the card behind `transport` (BLANK -> PREPARED). Reports a card that is
 * already prepared or issued as skipped, never rewrites it. Refuses a card with a recorded failed
 * cryptogram unless ctx.force. Security: opens SCP03 with the card's diversified personalization keys.
 */
export async function prepareCard(transport: Transport, profile: LoadedProfile<PrepareProfile>, keys: PrepareKeys, ctx: PersoContext): Promise<PersoResult> {
  const t0 = performance.now();
  const wire = counting(transport);
  const card = new DrmbCard(wire);
  const info = await card.select();
  const cardId = info.cardId ?? ((await card.getData('cardId')) as string);
  const base = { cardId, stage: 'prepare' as const, profileHash: profile.hash };
  const skipped = stageGate(ctx, base, info.state, 'BLANK', wire.count, t0);
  if (skipped) return skipped;
  const steps = ['select'];
  return recorded(ctx, base, steps, async () => {
    const crypto = ctx.crypto ?? inThreadPersoCrypto;
    const plan = await crypto.preparePlan(cardId, profile.profile, keys);
    await sendPlan(wire, plan, PERSONALIZATION_KVN, steps, cardId, ctx.onStep);
    // Read back what is readable: state, card ID, limits and the certificate.
    const after = await card.select();
    if (after.state !== 'PREPARED' || after.cardId !== cardId) throw new PersoError(`card ${cardId}: read back ${after.state} ${after.cardId ?? ''} after prep`, cardId);
    const cert = (await card.getData('cardCertificate')) as Uint8Array;
    await crypto.verifyCertificate(cert, keys.anchors.certSigning, cardId);
    steps.push('verify');
    record(ctx, { ...base, result: 'done', steps, kcvs: plan.kcvs, apdus: wire.count, durationMs: Math.round(performance.now() - t0) });
    return { cardId, stage: 'prepare', result: 'done', apdus: wire.count, durationMs: performance.now() - t0, kcvs: plan.kcvs };
  });
}

/**
 * Commercial-bank issuance of the card behind `transport` (PREPARED -> ISSUED): verifies the card
 * certificate against the central bank's key, has the KGC extract the holder's SM9 keys encrypted to
 * the certified card key, writes them with holder data and the PIN. Security: SCP03 with the card's
 * issuance keys; the PIN must satisfy the profile's policy and is never logged.
 */
export async function issueCard(
  transport: Transport,
  profile: LoadedProfile<IssueProfile>,
  holder: HolderData,
  pin: string,
  keys: IssueKeys,
  ctx: PersoContext,
): Promise<PersoResult & { identity?: string }> {
  const t0 = performance.now();
  const problem = pinPolicyProblem(profile.profile, pin);
  if (problem) throw new PersoError(`PIN: ${problem}`);
  const wire = counting(transport);
  const card = new DrmbCard(wire);
  const info = await card.select();
  if (!info.cardId) throw new PersoError('card is BLANK: run drmb perso prepare first');
  const cardId = info.cardId;
  const base = { cardId, stage: 'issue' as const, profileHash: profile.hash };
  const skipped = stageGate(ctx, base, info.state, 'PREPARED', wire.count, t0);
  if (skipped) return skipped;
  const steps = ['select'];
  return recorded(ctx, base, steps, async () => {
    const crypto = ctx.crypto ?? inThreadPersoCrypto;
    const certValue = (await card.getData('cardCertificate')) as Uint8Array;
    const cert = await crypto.verifyCertificate(certValue, keys.anchors.certSigning, cardId);
    steps.push('verify-certificate');
    const identity = identityFor(profile.profile, { cardId, phone: holder.phone });
    // The KGC checks the certificate itself and encrypts to the key it certifies: the desk only carries it.
    const userKeys = await kgcOf(keys.kgc, ctx.crypto)({ certificate: certValue, identity });
    steps.push('kgc');
    ctx.onStep?.(cardId, 'kgc');
    const input = { cardId, identity, userKeys, cardPublicKey: cert.cardPublicKey, profile: profile.profile, holder, pin, kgcKeyVersion: keys.anchors.kgcKeyVersion };
    await sendPlan(wire, await crypto.issuePlan(input, keys.issuanceMaster), ISSUANCE_KVN, steps, cardId, ctx.onStep);
    const after = await card.select();
    if (after.state !== 'ISSUED') throw new PersoError(`card ${cardId}: read back ${after.state} after issuance`, cardId);
    const readBack = (await card.getData('ibcIdentity')) as string;
    if (readBack !== identity) throw new PersoError(`card ${cardId}: identity read back differs`, cardId);
    steps.push('verify');
    record(ctx, { ...base, result: 'done', steps, apdus: wire.count, durationMs: Math.round(performance.now() - t0) });
    return { cardId, stage: 'issue', result: 'done', apdus: wire.count, durationMs: performance.now() - t0, identity };
  });
}

/**
 * The dry run of a stage for a given card ID: the script of plain commands the run would send inside
 * the secure channel, as text. `redacted` lines hide key DGIs (for review); the full form keeps the
 * encrypted values (encrypted under the card's keys) so that `runScript` can replay it on the card.
 */
export function scriptText(header: string[], kvn: number, steps: StoreDataStep[], redacted: boolean): string {
  const lines = [...header.map((h) => `# ${h}`), 'select', `secure-channel ${kvn.toString(16)} ${LEVEL.toString(16)}`];
  for (const s of steps) {
    lines.push(`# STORE DATA block ${s.block}: DGI ${s.dgis.map(dgiToHex).join(', ')}`);
    lines.push(redacted && s.sensitive ? `=> ${hex(s.apdu.subarray(0, 5))} <${s.apdu.length - 5} bytes of encrypted key material redacted>` : `=> ${hex(s.apdu)}`);
  }
  return `${lines.join('\n')}\n`;
}

export { cardIdFromBytes };
