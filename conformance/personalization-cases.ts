/**
 * @module Cases of the two personalization stages on a card that has none yet: card prep (stage 1,
 * SCP03 key set 30) and issuance (stage 2, key set 31) written by the production personalization code
 * (personalization/card-prep.ts, as `drmb perso prepare` and `drmb perso issue` run it) with the
 * profile's keys and personalization profiles; the card must end each stage in the next lifecycle state
 * and read back what the stage wrote. Both change the card for good, so they are destructive on a reader.
 */
import { verifyCardCertificate } from '../personalization/card-certificate.js';
import { issueCard, prepareCard } from '../personalization/card-prep.js';
import { inProcessKgc } from '../personalization/kgc.js';
import type { CaseContext } from './case-context.js';
import { CaseFailure, CaseSkip, check, type ConformanceCase } from './conformance-case.js';
import { loadAndCheck, mintTestCoin, transferAndCheck } from './value-moves.js';

const OPERATOR = 'drmb conformance';

/** Runs a check that throws (a certificate that does not verify) as a case failure naming what failed. */
function expectValid<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new CaseFailure(`${what}: ${(e as Error).message}`);
  }
}

async function prepare(ctx: CaseContext): Promise<void> {
  const profile = ctx.profile.personalization.prepare;
  if (!profile) throw new CaseSkip('the profile names no card prep profile (personalization.prepare)');
  const k = ctx.profile.keys;
  // A blank card carries its card ID in GET DATA only; SELECT shows it once the card record is written.
  const cardId = (await ctx.select()).cardId ?? ((await ctx.card.getData('cardId')) as string);
  const result = await prepareCard(ctx.transport, profile, { cbMaster: k.cbMaster!, issuanceMaster: k.issuanceMaster!, certSigning: k.certSigning!, anchors: k.trustAnchors! }, { operator: OPERATOR });
  check(result.result === 'done', `card prep ended "${result.result}"${result.reason ? `: ${result.reason}` : ''}`);
  const after = await ctx.select();
  check(after.state === 'PREPARED', `after card prep the card answers SELECT as ${after.state}, not PREPARED`);
  check(after.cardId === cardId, `after card prep SELECT shows card ID ${after.cardId}, not the card's ${cardId}`);
  const cert = (await ctx.card.getData('cardCertificate')) as Uint8Array;
  expectValid('the card certificate read back', () => verifyCardCertificate(cert, [k.trustAnchors!.certSigning], after.cardId));
}

async function issue(ctx: CaseContext): Promise<void> {
  const profile = ctx.profile.personalization.issue;
  if (!profile) throw new CaseSkip('the profile names no issuance profile (personalization.issue)');
  const k = ctx.profile.keys;
  const pin = ctx.profile.pin!;
  const before = await ctx.select();
  const kgc = inProcessKgc({ signPrivateKey: k.kgcSign!.secret.privateKey, encryptPrivateKey: k.kgcEncrypt!.secret.privateKey }, k.trustAnchors!);
  const result = await issueCard(ctx.transport, profile, {}, pin, { issuanceMaster: k.issuanceMaster!, kgc, anchors: k.trustAnchors! }, { operator: OPERATOR });
  check(result.result === 'done', `issuance ended "${result.result}"${result.reason ? `: ${result.reason}` : ''}`);
  const after = await ctx.select();
  check(after.state === 'ISSUED', `after issuance the card answers SELECT as ${after.state}, not ISSUED`);
  check(after.cardId === before.cardId, `the card ID changed in issuance (${before.cardId} -> ${after.cardId})`);
  const identity = (await ctx.card.getData('ibcIdentity')) as string;
  check(identity === result.identity, `the card reads back identity "${identity}", issuance wrote "${result.identity}"`);
  check((await ctx.card.pinTriesLeft()) === profile.profile.pin.tryLimit, `PIN tries left are not the profile's try limit ${profile.profile.pin.tryLimit}`);
  await ctx.card.verifyPin(pin);
  // The SM9 signing key the KGC extracted works on the card: a transfer's packet verifies for its identity.
  await loadAndCheck(ctx, [mintTestCoin(ctx, 100)]);
  const t = await transferAndCheck(ctx, 100);
  check(t.packetBytes.length > 0, 'the transfer after issuance gave no packet');
}

export function personalizationCases(): ConformanceCase[] {
  return [
    {
      id: 'INV-PERSO-PREPARE',
      clause: 'D-RMB personalization stage 1 (GP 2.3 11.11 STORE DATA, EMV CPS)',
      rule: 'card prep through SCP03 key set 30 takes a BLANK card to PREPARED, keeping its card ID, with a card certificate the central bank key verifies',
      needs: { states: ['BLANK'], keys: ['cbMaster', 'issuanceMaster', 'certSigning', 'trustAnchors'], destructive: true },
      run: prepare,
    },
    {
      id: 'INV-PERSO-ISSUE',
      clause: 'D-RMB personalization stage 2 (GP 2.3 11.11 STORE DATA, GM/T 0044 key extraction)',
      rule: 'issuance through SCP03 key set 31 takes a PREPARED card to ISSUED with the holder identity, the PIN and its try limit, and SM9 keys that sign a transfer the payee can verify',
      needs: { states: ['PREPARED'], keys: ['issuanceMaster', 'kgcSign', 'kgcEncrypt', 'coinSigning', 'cbMaster', 'trustAnchors'], pin: true, destructive: true },
      run: issue,
    },
  ];
}
