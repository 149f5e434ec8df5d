/**
 * @module personalization: STORE DATA of both personalization stages (GP 2.3 11.11, EMV CPS 4.3.4):
 * block order, DGI protection and decryption, content rules, and the completion DGI 7FFF that checks
 * the stage and moves the lifecycle state on.
 */
import { KEY_VERSIONS } from '../../applet-spec/commands/initialize-update.js';
import { storeData } from '../../applet-spec/commands/store-data.js';
import { APPLICATION_KEY_NAMES, type DgiDefinition, dgiByNumber, DGIS, type DgiName, stageDgis, STORE_DATA_P1, storeDataEncryptionBits } from '../../applet-spec/dgis.js';
import { SW } from '../../applet-spec/status-words.js';
import { CNY, MAX_SINGLE_LIMIT_FEN } from '../../applet-spec/value-formats.js';
import { concatBytes, equalBytes } from '../../base/bytes.js';
import { keyCheckValue } from '../../crypto/key-diversification.js';
import { dekDecrypt } from '../../crypto/scp03.js';
import { sm2Decrypt } from '../../crypto/sm2.js';
import { sm3 } from '../../crypto/sm3.js';
import { g1FromBytes, g2FromBytes, sm9Decrypt, sm9Encrypt, sm9Sign, sm9Verify } from '../../crypto/sm9/sm9.js';
import { check, IsoException } from '../iso-exception.js';
import { type AppletContext, coinVerifier } from './applet-context.js';
import { type Handler, type Route, route } from './route.js';

const utf8 = new TextEncoder();

/** The SCP03 static keys of DGI 8001, each checked against its KCV in DGI 9001. */
const ISSUANCE_KEY_NAMES = ['enc', 'mac', 'dek'] as const;

const store: Handler<typeof storeData> = (req, ctx) => {
  const t = ctx.session;
  const state = ctx.memory.state;
  const stage = state === 'BLANK' ? 1 : 2;
  check(t.scpKvn === (stage === 1 ? KEY_VERSIONS.PERSONALIZATION : KEY_VERSIONS.ISSUANCE), SW.SECURITY_STATUS_NOT_SATISFIED, 'wrong key set for this stage');
  check(!t.lastBlockSeen, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'last block already received');
  check(req.block === t.nextBlock, SW.INCORRECT_P1P2, 'block out of order');
  check((req.flags & 0x18) === STORE_DATA_P1.DGI_FORMAT, SW.INCORRECT_P1P2, 'DGI format required');
  const encBits = req.flags & 0x60;
  check(encBits !== 0x40, SW.INCORRECT_P1P2, 'reserved encryption indicator');
  check(req.dgis.length > 0, SW.INCORRECT_DATA);
  check(encBits === 0 || req.dgis.length === 1, SW.INCORRECT_DATA, 'one DGI per encrypted block');

  const writes: [DgiName, Uint8Array][] = [];
  let completion = false;
  for (const d of req.dgis) {
    const def = dgiByNumber(d.dgi);
    check(def, SW.REFERENCED_DATA_NOT_FOUND, 'unknown DGI');
    const isCompletion = def.dgi === DGIS.completion.dgi;
    check(isCompletion || def.stage === stage, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'DGI of another stage');
    check(storeDataEncryptionBits(def.protection) === encBits, SW.INCORRECT_DATA, 'wrong protection');
    const clear = decryptDgi(ctx, def, d.value);
    try {
      def.coder.decode(clear);
    } catch {
      throw new IsoException(SW.INCORRECT_DATA, `DGI ${def.dgi.toString(16)} layout`);
    }
    validateDgi(ctx, def.key, clear);
    if (isCompletion) completion = true;
    else writes.push([def.key, clear]);
  }

  const persistent = ctx.memory.store;
  persistent.begin();
  for (const [name, clear] of writes) ctx.memory.putDgi(name, clear);
  if (completion) completeStage(ctx, stage);
  persistent.commit();
  t.nextBlock++;
  if (req.flags & STORE_DATA_P1.LAST_BLOCK) t.lastBlockSeen = true;
  return {};
};

/** The clear value of a DGI: DEK-decrypted (GP 2.3 11.11.2.1), SM2-decrypted with the card key, or as sent. */
function decryptDgi(ctx: AppletContext, def: DgiDefinition & { key: DgiName }, value: Uint8Array): Uint8Array {
  try {
    if (def.protection === 'dek') return dekDecrypt(ctx.memory.scpKeys(ctx.session.scpKvn!)!.dek, value);
    if (def.protection === 'sm2') {
      const priv = ctx.memory.dgi('cardPrivateKey');
      check(priv, SW.CONDITIONS_OF_USE_NOT_SATISFIED, 'no card key');
      return sm2Decrypt(priv, value);
    }
    return value;
  } catch (e) {
    if (e instanceof IsoException) throw e;
    throw new IsoException(SW.INCORRECT_DATA, `DGI ${def.dgi.toString(16)} does not decrypt`);
  }
}

/** Content rules beyond the layout; each failure is 6A80 and stores nothing. */
function validateDgi(ctx: AppletContext, key: DgiName, clear: Uint8Array): void {
  switch (key) {
    case 'cardRecord': {
      const v = DGIS.cardRecord.coder.decode(clear);
      check(v.cardId === ctx.cardIdDigits, SW.INCORRECT_DATA, 'card ID differs from the card');
      break;
    }
    case 'riskDefaults': {
      const v = DGIS.riskDefaults.coder.decode(clear);
      check(v.currency === CNY && v.singleLimit <= MAX_SINGLE_LIMIT_FEN && v.maxCoins >= 1, SW.INCORRECT_DATA, 'risk defaults out of range');
      break;
    }
    case 'trustAnchors': {
      const v = DGIS.trustAnchors.coder.decode(clear);
      try {
        g1FromBytes(v.kgcEncryptMasterPublicKey);
        g2FromBytes(v.kgcSignMasterPublicKey);
        for (const k of v.coinKeys) coinVerifier(k.publicKey);
      } catch {
        throw new IsoException(SW.INCORRECT_DATA, 'invalid trust anchor');
      }
      break;
    }
    case 'tierCaps': {
      const v = DGIS.tierCaps.coder.decode(clear);
      const d = ctx.dgi('riskDefaults');
      check(
        d && v.balanceCap <= d.balanceCap && v.singleLimit <= d.singleLimit && v.offlineCountLimit <= d.offlineCountLimit && v.offlineAmountLimit <= d.offlineAmountLimit,
        SW.INCORRECT_DATA,
        'tier caps above the central-bank defaults',
      );
      break;
    }
    case 'pinTryLimit': {
      const v = DGIS.pinTryLimit.coder.decode(clear);
      check(v.tryLimit >= 1 && v.tryLimit <= 15, SW.INCORRECT_DATA, 'PIN try limit');
      break;
    }
    case 'sm9SignKey':
    case 'sm9EncryptKey':
      try {
        if (key === 'sm9SignKey') g1FromBytes(clear);
        else g2FromBytes(clear);
      } catch {
        throw new IsoException(SW.INCORRECT_DATA, 'SM9 key is not a valid point');
      }
      break;
  }
}

/** DGI 7FFF: every mandatory DGI of the stage present and consistent, then the state moves on. */
function completeStage(ctx: AppletContext, stage: 1 | 2): void {
  const m = ctx.memory;
  for (const d of stageDgis(stage)) {
    if (d.dgi === DGIS.completion.dgi || !d.mandatory) continue;
    check(m.dgi(d.key), SW.CONDITIONS_OF_USE_NOT_SATISFIED, `DGI ${d.dgi.toString(16)} missing`);
  }
  if (stage === 1) {
    const keys = ctx.dgi('applicationKeys')!;
    const kcvs = ctx.dgi('applicationKeyKcvs')!;
    for (const k of APPLICATION_KEY_NAMES) check(equalBytes(keyCheckValue(keys[k], 'sm4'), kcvs[k]), SW.INCORRECT_DATA, `KCV of ${k}`);
    const scp = ctx.dgi('issuanceKeys')!;
    const scpKcv = ctx.dgi('issuanceKeyKcvs')!;
    for (const k of ISSUANCE_KEY_NAMES) check(equalBytes(keyCheckValue(scp[k], 'aes'), scpKcv[k]), SW.INCORRECT_DATA, `KCV of issuance ${k}`);
    const r = ctx.dgi('riskDefaults')!;
    m.putScpKeys(KEY_VERSIONS.ISSUANCE, scp);
    m.setRisk({
      singleLimitFen: r.singleLimit,
      balanceCapFen: r.balanceCap,
      offlineCountLimit: r.offlineCountLimit,
      offlineAmountLimitFen: r.offlineAmountLimit,
      pinThresholdFen: r.pinThreshold,
      maxCoins: r.maxCoins,
    });
    m.setState('PREPARED');
    return;
  }
  // Stage 2: the SM9 keys must belong to the identity under the card's KGC (GM/T 0044 part 2/4).
  const id = utf8.encode(ctx.identity);
  const anchors = ctx.trustAnchors;
  const probe = sm3(concatBytes(m.cardId, id));
  const signKey = m.dgi('sm9SignKey')!;
  check(sm9Verify(anchors.kgcSignMasterPublicKey, id, probe, sm9Sign(signKey, anchors.kgcSignMasterPublicKey, probe)), SW.INCORRECT_DATA, 'SM9 signing key not for this identity');
  try {
    const back = sm9Decrypt(m.dgi('sm9EncryptKey')!, id, sm9Encrypt(anchors.kgcEncryptMasterPublicKey, id, probe));
    check(equalBytes(back, probe), SW.INCORRECT_DATA);
  } catch (e) {
    if (e instanceof IsoException) throw e;
    throw new IsoException(SW.INCORRECT_DATA, 'SM9 encryption key not for this identity');
  }
  const caps = ctx.dgi('tierCaps')!;
  const r = m.risk;
  m.setRisk({
    ...r,
    singleLimitFen: caps.singleLimit,
    balanceCapFen: caps.balanceCap,
    offlineCountLimit: caps.offlineCountLimit,
    offlineAmountLimitFen: caps.offlineAmountLimit,
    pinThresholdFen: caps.pinThreshold ?? r.pinThresholdFen,
  });
  const pin = ctx.dgi('referencePin')!;
  const limit = ctx.dgi('pinTryLimit')!.tryLimit;
  m.setPinReference(DGIS.referencePin.coder.encode(pin).subarray(0, 8));
  m.setPinTryLimit(limit);
  m.setPinTriesLeft(limit);
  m.setState('ISSUED');
}

export const personalization: readonly Route[] = [route(storeData, store)];
