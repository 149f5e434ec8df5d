/**
 * @module Test fixture acting as central bank, KGC, personalization bureau and bank towards a
 * simulated card over its APDU interface: key sets, both personalization stages through SCP03,
 * minted coins, and typed command exchange. Used by the simulator suites (the production
 * personalization and host library come with their own issues and reuse none of this).
 */
import { decodeResponseApdu } from '../applet-spec/codec/apdu.js';
import { encodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { chainCommand } from '../applet-spec/codec/apdu.js';
import { commandById } from '../applet-spec/commands.js';
import { externalAuthenticate } from '../applet-spec/commands/external-authenticate.js';
import { initializeUpdate } from '../applet-spec/commands/initialize-update.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import type { Command } from '../applet-spec/define-command.js';
import { APPLICATION_KEY_NAMES, DGIS, type DgiName, STORE_DATA_P1, storeDataEncryptionBits } from '../applet-spec/dgis.js';
import { cardCertificateBodyCoder, cardCertificateCoder, type Coin, COIN_VERSION, coinBodyCoder, coinListCoder } from '../applet-spec/value-formats.js';
import { concatBytes, randomBytes } from '../base/bytes.js';
import { keyCheckValue } from '../crypto/key-diversification.js';
import { loadMac2Data, purchaseMac1Data } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac, pbocPurchaseSessionKey } from '../crypto/pboc.js';
import { dekEncrypt } from '../crypto/scp03.js';
import { sm2Encrypt, sm2GenerateKeyPair, sm2GetPublicKey, sm2Sign } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm4Ecb } from '../crypto/sm4.js';
import { sm4Mac } from '../crypto/sm4-mac.js';
import { sm9ExtractEncryptKey, sm9ExtractSignKey, sm9GenerateEncryptMasterKey, sm9GenerateSignMasterKey } from '../crypto/sm9/sm9.js';
import { Scp03HostSession } from '../host/scp03-host-session.js';
import { DEFAULT_PERSONALIZATION_KEY } from '../simulator/simulated-card.js';
import type { VirtualCard } from '../simulator/virtual-card.js';

const utf8 = new TextEncoder();

/** Keys of the whole system for tests; generated once per process (SM9 master keys are slow). */
export interface SystemKeys {
  coinKey: { privateKey: Uint8Array; publicKey: Uint8Array };
  certKey: { privateKey: Uint8Array; publicKey: Uint8Array };
  kgcSign: { privateKey: Uint8Array; publicKey: Uint8Array };
  kgcEncrypt: { privateKey: Uint8Array; publicKey: Uint8Array };
  /** SM4 application keys; the same for every test card (real cards diversify them) */
  appKeys: Record<(typeof APPLICATION_KEY_NAMES)[number], Uint8Array>;
  issuanceKeys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };
  denominationBaseKey: Uint8Array;
}

let cached: SystemKeys | undefined;
export function systemKeys(): SystemKeys {
  cached ??= {
    coinKey: sm2GenerateKeyPair(),
    certKey: sm2GenerateKeyPair(),
    kgcSign: sm9GenerateSignMasterKey(),
    kgcEncrypt: sm9GenerateEncryptMasterKey(),
    appKeys: Object.fromEntries(APPLICATION_KEY_NAMES.map((k) => [k, randomBytes(16)])) as SystemKeys['appKeys'],
    issuanceKeys: { enc: randomBytes(16), mac: randomBytes(16), dek: randomBytes(16) },
    denominationBaseKey: randomBytes(16),
  };
  return cached;
}

export const PERSO_KEYS = { enc: DEFAULT_PERSONALIZATION_KEY, mac: DEFAULT_PERSONALIZATION_KEY, dek: DEFAULT_PERSONALIZATION_KEY };

/** Sends one APDU, answering 61xx with GET RESPONSE; returns data and SW. */
export function exchange(card: VirtualCard, apdu: Uint8Array): { data: Uint8Array; sw: number } {
  let r = decodeResponseApdu(card.transmit(apdu));
  let data = r.data;
  while (r.sw >> 8 === 0x61) {
    r = decodeResponseApdu(card.transmit(Uint8Array.of(0x00, 0xc0, 0x00, 0x00, r.sw & 0xff)));
    data = concatBytes(data, r.data);
  }
  return { data, sw: r.sw };
}

/** Encodes a command from its definition (chained when long), sends it and decodes a 9000 response. */
export function send<Req, Res>(card: VirtualCard, cmd: Command<Req, Res>, req: Req, opts: { secure?: boolean } = {}): { sw: number; data: Uint8Array; value?: Res } {
  const blocks = chainCommand(cmd.encode(req, opts));
  let last: { data: Uint8Array; sw: number } = { data: new Uint8Array(0), sw: 0 };
  for (const b of blocks) {
    last = exchange(card, encodeCommandApdu(b));
    if (last.sw !== 0x9000) return last;
  }
  return { ...last, value: cmd.decodeResponse(last.data) };
}

export function cmd(id: string): Command<any, any> {
  const c = commandById(id);
  if (!c) throw new Error(`no command ${id}`);
  return c;
}

export function selectApplet(card: VirtualCard): number {
  return send(card, cmd('select'), { aid: DRMB_AID }).sw;
}

/** Opens SCP03 with the given key version and level; returns the host session, or throws. */
export function openChannel(card: VirtualCard, keys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array }, kvn: number, level = 0x33): Scp03HostSession {
  const host = new Scp03HostSession(keys, { kvn });
  const iu = exchange(card, initializeUpdate.encodeBytes(host.initializeUpdate()));
  if (iu.sw !== 0x9000) throw new Error(`INITIALIZE UPDATE answered ${iu.sw.toString(16)}`);
  host.processInitializeUpdateResponse(initializeUpdate.decodeResponse(iu.data));
  const ea = exchange(card, externalAuthenticate.encodeBytes(host.externalAuthenticate(level)));
  if (ea.sw !== 0x9000) throw new Error(`EXTERNAL AUTHENTICATE answered ${ea.sw.toString(16)}`);
  host.authenticated();
  return host;
}

/** Sends a command wrapped by the host session; returns the unwrapped response. */
export function sendSecure(card: VirtualCard, host: Scp03HostSession, apdu: Uint8Array): { data: Uint8Array; sw: number } {
  const wrapped = host.wrap(apdu);
  const r = exchange(card, wrapped);
  const full = concatBytes(r.data, Uint8Array.of(r.sw >> 8, r.sw & 0xff));
  if (r.sw !== 0x9000) return r;
  return decodeResponseApdu(host.unwrap(full));
}

/** STORE DATA block for one DGI of the given definition (encrypting as the definition says). */
export function storeDataApdu(name: DgiName, value: unknown, block: number, last: boolean, dek: Uint8Array, cardPublicKey?: Uint8Array): Uint8Array {
  const def = DGIS[name];
  let bytes = (def.coder as any).encode(value) as Uint8Array;
  if (def.protection === 'dek') bytes = dekEncrypt(dek, bytes);
  if (def.protection === 'sm2') bytes = sm2Encrypt(cardPublicKey!, bytes);
  const flags = STORE_DATA_P1.DGI_FORMAT | storeDataEncryptionBits(def.protection) | (last ? STORE_DATA_P1.LAST_BLOCK : 0);
  return cmd('storeData').encodeBytes({ flags, block, dgis: [{ dgi: def.dgi, value: bytes }] }, { secure: false });
}

export interface CardProfile {
  cardId: string;
  identity: string;
  pin: string;
  balanceCapFen: number;
  singleLimitFen: number;
  offlineCountLimit: number;
  offlineAmountLimitFen: number;
  pinThresholdFen: number;
  maxCoins: number;
}

export const DEFAULT_PROFILE: Omit<CardProfile, 'cardId' | 'identity'> = {
  pin: '123456',
  balanceCapFen: 500_000,
  singleLimitFen: 100_000,
  offlineCountLimit: 10,
  offlineAmountLimitFen: 200_000,
  pinThresholdFen: 20_000,
  maxCoins: 100,
};

/** The stage-1 DGIs for a card, in write order. */
export function stage1Dgis(cardId: string, cardKey: { privateKey: Uint8Array; publicKey: Uint8Array }, p: Omit<CardProfile, 'cardId' | 'identity'> = DEFAULT_PROFILE): [DgiName, unknown][] {
  const k = systemKeys();
  const certBody = { cardId, expiryDate: '361231', certKeyIndex: 1, cardPublicKey: cardKey.publicKey };
  const signature = sm2Sign(k.certKey.privateKey, cardCertificateBodyCoder.encode(certBody));
  return [
    ['cardRecord', { cardId, effectiveDate: '261101', expiryDate: '361231', institution: '10000001', cardForm: 1, applicationVersion: Uint8Array.of(1, 0) }],
    ['fci', { applicationLabel: utf8.encode('D-RMB') }],
    ['trustAnchors', { coinKeys: [{ keyIndex: 1, publicKey: k.coinKey.publicKey }], kgcSignMasterPublicKey: k.kgcSign.publicKey, kgcEncryptMasterPublicKey: k.kgcEncrypt.publicKey, kgcKeyVersion: 1 }],
    ['riskDefaults', { currency: '0156', singleLimit: p.singleLimitFen, balanceCap: p.balanceCapFen, offlineCountLimit: p.offlineCountLimit, offlineAmountLimit: p.offlineAmountLimitFen, maxCoins: p.maxCoins, pinThreshold: p.pinThresholdFen }],
    ['applicationKeys', k.appKeys],
    ['applicationKeyKcvs', Object.fromEntries(APPLICATION_KEY_NAMES.map((n) => [n, keyCheckValue(k.appKeys[n], 'sm4')]))],
    ['issuanceKeys', k.issuanceKeys],
    ['issuanceKeyKcvs', { enc: keyCheckValue(k.issuanceKeys.enc), mac: keyCheckValue(k.issuanceKeys.mac), dek: keyCheckValue(k.issuanceKeys.dek) }],
    ['cardPrivateKey', cardKey.privateKey],
    ['cardCertificate', cardCertificateCoder.encode({ ...certBody, signature })],
    ['completion', {}],
  ];
}

/** The stage-2 DGIs for a holder identity. */
export function stage2Dgis(identity: string, p: Omit<CardProfile, 'cardId' | 'identity'> = DEFAULT_PROFILE): [DgiName, unknown][] {
  const k = systemKeys();
  const id = utf8.encode(identity);
  return [
    ['holderRecord', { holderHash: sm3(id), bankCode: '102100000001', walletId: 'W-' + identity, realNameTier: 2 }],
    ['tierCaps', { balanceCap: p.balanceCapFen, singleLimit: p.singleLimitFen, offlineCountLimit: p.offlineCountLimit, offlineAmountLimit: p.offlineAmountLimitFen, pinThreshold: p.pinThresholdFen }],
    ['ibcIdentity', { ibcIdentity: identity, kgcKeyVersion: 1 }],
    ['sm9SignKey', sm9ExtractSignKey(k.kgcSign, id)],
    ['sm9EncryptKey', sm9ExtractEncryptKey(k.kgcEncrypt, id)],
    ['referencePin', { pinBlock: p.pin }],
    ['pinTryLimit', { tryLimit: 3 }],
    ['completion', {}],
  ];
}

/** Writes DGIs through an open channel; returns the SW of the first failure or 9000. */
export function writeDgis(card: VirtualCard, host: Scp03HostSession, dgis: [DgiName, unknown][], dek: Uint8Array, cardPublicKey?: Uint8Array): number {
  for (let i = 0; i < dgis.length; i++) {
    const [name, value] = dgis[i];
    const r = sendSecure(card, host, storeDataApdu(name, value, i, i === dgis.length - 1, dek, cardPublicKey));
    if (r.sw !== 0x9000) return r.sw;
  }
  return 0x9000;
}

/** Central-bank card prep of a blank simulated card (BLANK -> PREPARED). */
export function prepareCard(card: VirtualCard, cardId: string): { cardKey: { privateKey: Uint8Array; publicKey: Uint8Array } } {
  const cardKey = sm2GenerateKeyPair();
  if (selectApplet(card) !== 0x9000) throw new Error('select failed');
  const host = openChannel(card, PERSO_KEYS, 0x30);
  const sw = writeDgis(card, host, stage1Dgis(cardId, cardKey), PERSO_KEYS.dek);
  if (sw !== 0x9000) throw new Error(`stage 1 failed with ${sw.toString(16)}`);
  return { cardKey };
}

/** Commercial-bank issuance of a prepared card (PREPARED -> ISSUED). */
export function issueCard(card: VirtualCard, identity: string, cardPublicKey: Uint8Array): void {
  if (selectApplet(card) !== 0x9000) throw new Error('select failed');
  const host = openChannel(card, systemKeys().issuanceKeys, 0x31);
  const sw = writeDgis(card, host, stage2Dgis(identity), systemKeys().issuanceKeys.dek, cardPublicKey);
  if (sw !== 0x9000) throw new Error(`stage 2 failed with ${sw.toString(16)}`);
}

/** A central-bank coin: m = SM4(base key, serial), SM2 signature over the body. */
export function mintCoin(denominationFen: number, opts: { expiryDate?: string; keyIndex?: number; signer?: Uint8Array } = {}): Coin {
  const k = systemKeys();
  const serial = randomBytes(16);
  const m = sm4Ecb(k.denominationBaseKey, { padding: 'none' }).encrypt(serial);
  const body = { version: COIN_VERSION, denominationFen, serial, issueDate: '20260101', expiryDate: opts.expiryDate ?? '20361231', keyIndex: opts.keyIndex ?? 1, m };
  return { body, signature: sm2Sign(opts.signer ?? k.coinKey.privateKey, coinBodyCoder.encode(body)) };
}

export const TERMINAL_ID = Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66);

/** A bank load of coins: INITIALIZE FOR LOAD then CREDIT FOR LOAD with a correct MAC2. */
export function loadCoins(card: VirtualCard, coins: Coin[], opts: { date?: string; badMac?: boolean } = {}): { sw: number; tac?: Uint8Array; counter?: number } {
  const amountFen = coins.reduce((s, c) => s + c.body.denominationFen, 0);
  const init = send(card, cmd('initializeForLoad'), { keyIndex: 1, amountFen, terminalId: TERMINAL_ID });
  if (init.sw !== 0x9000) return { sw: init.sw };
  const v = init.value as { counter: number; cardRandom: Uint8Array };
  const counterBytes = Uint8Array.of(v.counter >>> 24, (v.counter >>> 16) & 0xff, (v.counter >>> 8) & 0xff, v.counter & 0xff);
  const sk = pbocLoadSessionKey(systemKeys().appKeys.load, v.cardRandom, counterBytes);
  const date = opts.date ?? '20261122';
  const time = '101500';
  const mac2 = pbocMac(sk, concatBytes(loadMac2Data({ amountFen, transactionType: 2, terminalId: TERMINAL_ID, date, time }), sm3(coinListCoder.encode(coins))));
  if (opts.badMac) mac2[0] ^= 1;
  const r = send(card, cmd('creditForLoad'), { date, time, coins, mac2 });
  return { sw: r.sw, tac: (r.value as { tac: Uint8Array } | undefined)?.tac, counter: v.counter };
}

/** A POS purchase with the terminal side computed here (MAC1 from the purchase key). */
export function purchase(card: VirtualCard, amountFen: number, opts: { badMac?: boolean; payee?: string } = {}): { sw: number; initSw: number; value?: any; counter?: number } {
  const init = send(card, cmd('initializeForPurchase'), { keyIndex: 1, amountFen, terminalId: TERMINAL_ID });
  if (init.sw !== 0x9000) return { sw: init.sw, initSw: init.sw };
  const v = init.value as { counter: number; cardRandom: Uint8Array };
  const counterBytes = Uint8Array.of(v.counter >>> 24, (v.counter >>> 16) & 0xff, (v.counter >>> 8) & 0xff, v.counter & 0xff);
  const seq = 7;
  const sk = pbocPurchaseSessionKey(systemKeys().appKeys.purchase, v.cardRandom, counterBytes, Uint8Array.of(0, 0, 0, seq));
  const date = '20261122';
  const time = '111500';
  const mac1 = pbocMac(sk, purchaseMac1Data({ amountFen, transactionType: 6, terminalId: TERMINAL_ID, date, time }));
  if (opts.badMac) mac1[0] ^= 1;
  const r = send(card, cmd('debitForPurchase'), { terminalSequence: seq, date, time, unpredictableNumber: randomBytes(8), payeeIdentity: opts.payee ?? 'shop@merchant', mac1 });
  return { sw: r.sw, initSw: init.sw, value: r.value, counter: v.counter };
}

/** Line MAC for an issuer-script command (IV = the challenge padded with zeros). */
export function lineMac(key: Uint8Array, challenge: Uint8Array, header: number[], dataWithoutMac: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(challenge);
  return sm4Mac(key, concatBytes(Uint8Array.from([...header, dataWithoutMac.length + 4]), dataWithoutMac), { iv, length: 4 });
}

/** A fresh, fully issued simulated card with the default profile. */
export function identityFor(cardId: string): string {
  return `${cardId}|2036`;
}

export { sm2GetPublicKey };
