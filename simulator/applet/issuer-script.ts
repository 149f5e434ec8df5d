/**
 * @module issuerScript: issuer scripts under the PBOC line MAC (JR/T 0025.2 secure messaging): GET
 * CHALLENGE for the MAC's IV, the line MAC check itself, and PUT DATA of a risk parameter.
 */
import type { CommandApdu } from '../../applet-spec/codec/apdu.js';
import { getChallenge } from '../../applet-spec/commands/get-challenge.js';
import { CLA_SECURE_MESSAGING } from '../../applet-spec/define-command.js';
import { putData } from '../../applet-spec/commands/put-data.js';
import { dataObjectByTag, TAG } from '../../applet-spec/data-objects.js';
import type { ApplicationKeyName } from '../../applet-spec/dgis.js';
import { SW } from '../../applet-spec/status-words.js';
import { MAX_SINGLE_LIMIT_FEN } from '../../applet-spec/value-formats.js';
import { concatBytes, equalBytes } from '../../base/bytes.js';
import { sm4Mac } from '../../crypto/sm4-mac.js';
import { check, IsoException } from '../iso-exception.js';
import type { AppletContext } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

/**
 * PBOC line MAC (JR/T 0025.2 secure messaging): SM4 MAC algorithm 1 over CLA INS P1 P2 Lc and the
 * data before the MAC, padding method 2, IV = the GET CHALLENGE random padded with zeros.
 */
export function checkLineMac(ctx: AppletContext, apdu: CommandApdu, keyName: ApplicationKeyName): void {
  const challenge = ctx.session.challenge;
  check(challenge, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no challenge');
  const key = ctx.appKey(keyName);
  check(key, SW.KEY_INDEX_NOT_SUPPORTED);
  const body = apdu.data.subarray(0, apdu.data.length - 4);
  const iv = new Uint8Array(16);
  iv.set(challenge);
  const mac = sm4Mac(key, concatBytes(Uint8Array.of(apdu.cla | CLA_SECURE_MESSAGING, apdu.ins, apdu.p1, apdu.p2, apdu.data.length), body), { iv, length: 4 });
  check(equalBytes(mac, apdu.data.subarray(apdu.data.length - 4)), SW.MAC_INVALID, 'line MAC');
}

const challenge: Handler<typeof getChallenge> = (_r, ctx, apdu) => {
  // GET CHALLENGE definition: 4 or 8 bytes as Le asks, 6700 for any other Le.
  check(apdu.le === 4 || apdu.le === 8, SW.WRONG_LENGTH, 'GET CHALLENGE Le must be 04 or 08');
  ctx.session.challenge = ctx.random(apdu.le);
  return { challenge: ctx.session.challenge.slice() };
};

const update: Handler<typeof putData> = ({ tag, value }, ctx) => {
  const d = dataObjectByTag(tag)!;
  let v: number;
  try {
    v = d.coder.decode(value) as number;
  } catch {
    throw new IsoException(SW.INCORRECT_DATA, 'value layout');
  }
  const r = { ...ctx.memory.risk };
  // PUT DATA definition: a value above the central-bank default (DGI E002) is 6A80, as STORE DATA
  // refuses tier caps above them.
  const defaults = ctx.dgi('riskDefaults');
  const ceiling: Record<number, number | undefined> = {
    [TAG.singleLimit]: defaults?.singleLimit,
    [TAG.balanceCap]: defaults?.balanceCap,
    [TAG.offlineCountLimit]: defaults?.offlineCountLimit,
    [TAG.offlineAmountLimit]: defaults?.offlineAmountLimit,
    [TAG.pinThreshold]: defaults?.pinThreshold,
  };
  check(ceiling[tag] === undefined || v <= ceiling[tag]!, SW.INCORRECT_DATA, 'above the central-bank default');
  switch (tag) {
    case TAG.singleLimit:
      check(v <= MAX_SINGLE_LIMIT_FEN, SW.INCORRECT_DATA, 'single limit above 1000.00 yuan');
      r.singleLimitFen = v;
      break;
    case TAG.balanceCap:
      r.balanceCapFen = v;
      break;
    case TAG.offlineCountLimit:
      r.offlineCountLimit = v;
      break;
    case TAG.offlineAmountLimit:
      r.offlineAmountLimitFen = v;
      break;
    case TAG.pinThreshold:
      r.pinThresholdFen = v;
      break;
  }
  ctx.memory.setRisk(r);
  return {};
};

export const issuerScript: readonly Route[] = [route(getChallenge, challenge), route(putData, update)];
