/**
 * @module Test and benchmark fixture of the POS terminal: a key ceremony in a temporary folder,
 * simulated cards prepared and issued from it, a simulated PSAM personalized with the cb-master purchase
 * master (so it derives the cards' purchase keys; the terminal holds no key), coins minted with the
 * ceremony's coin-signing key and loaded with the per-card 'load' key, and terminals with a change float.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Coin, COIN_VERSION, coinBodyCoder, coinListCoder, TRANSACTION_TYPES } from '../applet-spec/value-formats.js';
import { concatBytes, randomBytes, uintToBytes } from '../base/bytes.js';
import { loadMac2Data } from '../applet-spec/mac-data.js';
import { pbocLoadSessionKey, pbocMac } from '../crypto/pboc.js';
import { sm2Sign } from '../crypto/sm2.js';
import { sm3 } from '../crypto/sm3.js';
import { sm4Ecb } from '../crypto/sm4.js';
import { sm9ExtractSignKey } from '../crypto/sm9/sm9.js';
import { projectPath } from '../cli/project-path.js';
import { cardApplicationKeys, cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { issueCard, type IssueKeys, prepareCard, type PrepareKeys } from '../personalization/card-prep.js';
import { inProcessKgc } from '../personalization/kgc.js';
import { initKeyDirectory, readTrustAnchors, type TrustAnchors } from '../personalization/key-ceremony.js';
import { type KeyFile, type KeyKind, loadKey } from '../keys/key-files.js';
import { loadIssueProfile, loadPrepareProfile } from '../personalization/profiles.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { directTransport } from '../host/direct-transport.js';
import { DrmbCard } from '../host/drmb-card.js';
import { hostStack } from '../host/pcsc.js';
import type { Transport } from '../host/transport.js';
import { CoinFloat } from '../host/pos/coin-float.js';
import { PosTerminal, type PosTerminalOptions } from '../host/pos/pos-terminal.js';
import { Psam } from '../host/psam.js';
import { personalizePsam } from '../personalization/personalize-psam.js';
import type { SimulatedPsam } from '../simulator/simulated-psam.js';
import { UploadQueue } from '../host/pos/upload-queue.js';

export const POS_TERMINAL_ID = Uint8Array.of(0x20, 0x26, 0x11, 0x22, 0x00, 0x01);
export const MERCHANT = 'shop@merchant';
export const TERMINAL_IDENTITY = 'pos-202611220001@merchant';
export const CARD_PIN = '246810';
export const PSAM_ID = '88000000000000000001';

export interface PosWorld {
  dir: string;
  cbMaster: KeyFile<'cb-master'>;
  coinSigning: KeyFile<'coin-signing'>;
  kgcSign: KeyFile<'kgc-sign'>;
  anchors: TrustAnchors;
  prepKeys: PrepareKeys;
  issueKeys: IssueKeys;
  denominationBaseKey: Uint8Array;
  /** the terminals' PSAM (terminal number POS_TERMINAL_ID), personalized on its first APDU */
  psam: SimulatedPsam;
}

let cached: PosWorld | undefined;

/** One ceremony per process (SM9 master keys are slow to make). */
export function posWorld(): PosWorld {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'drmb-pos-'));
  initKeyDirectory(join(dir, 'keys'));
  const k = <K extends KeyKind>(kind: K) => loadKey(kind, { dir: join(dir, 'keys'), env: {} });
  const anchors = readTrustAnchors(join(dir, 'keys', 'trust-anchors.json'));
  const kgcSign = k('kgc-sign');
  const kgcEncrypt = k('kgc-encrypt');
  const prepKeys: PrepareKeys = { cbMaster: k('cb-master'), issuanceMaster: k('issuance-master'), certSigning: k('cert-signing'), anchors };
  cached = {
    dir,
    cbMaster: prepKeys.cbMaster,
    coinSigning: k('coin-signing'),
    kgcSign,
    anchors,
    prepKeys,
    issueKeys: { issuanceMaster: prepKeys.issuanceMaster, kgc: inProcessKgc({ signPrivateKey: kgcSign.secret.privateKey, encryptPrivateKey: kgcEncrypt.secret.privateKey }, anchors), anchors },
    denominationBaseKey: randomBytes(16),
    psam: SimulatedCard.psam({ psamId: PSAM_ID, personalizationKeys: cardScpKeys(prepKeys.cbMaster, cardIdToBytes(PSAM_ID)) }),
  };
  return cached;
}

/** A central-bank coin signed with the ceremony's coin-signing key. */
export function mint(w: PosWorld, denominationFen: number): Coin {
  const serial = randomBytes(16);
  const m = sm4Ecb(w.denominationBaseKey, { padding: 'none' }).encrypt(serial);
  const body = { version: COIN_VERSION, denominationFen, serial, issueDate: '20260101', expiryDate: '20361231', keyIndex: w.coinSigning.keyIndex, m };
  return { body, signature: sm2Sign(w.coinSigning.secret.privateKey, coinBodyCoder.encode(body)) };
}

/** The host stack over an in-process simulated card (GET RESPONSE, chaining / extended length). */
export function transportOf(sim: SimulatedCard): Transport {
  return hostStack(directTransport(sim, 'simulated card'), sim.powerOn());
}

/** A blank card prepared and issued from the ceremony, holding coins of these denominations. */
export async function issuedCard(w: PosWorld, cardId: string, denominationsFen: number[]): Promise<SimulatedCard> {
  const sim = new SimulatedCard({ manufacture: { cardId, personalizationKeys: cardScpKeys(w.cbMaster, cardIdToBytes(cardId)) } });
  const ctx = { operator: 'pos-test' };
  const profiles = projectPath('examples', 'profiles');
  await prepareCard(transportOf(sim), loadPrepareProfile(join(profiles, 'prepare.json')), w.prepKeys, ctx);
  await issueCard(transportOf(sim), loadIssueProfile(join(profiles, 'issue.json')), {}, CARD_PIN, w.issueKeys, ctx);
  if (denominationsFen.length) await loadOnto(w, sim, denominationsFen.map((d) => mint(w, d)));
  return sim;
}

/** A bank load: MAC2 under the card's 'load' key derived from the cb-master (card-keys.ts). */
export async function loadOnto(w: PosWorld, sim: SimulatedCard, coins: Coin[]): Promise<void> {
  const card = new DrmbCard(transportOf(sim));
  const info = await card.select();
  const loadKey = cardApplicationKeys(w.cbMaster, cardIdToBytes(info.cardId!)).load;
  const when = { date: '20261122', time: '090000' };
  const terminalId = Uint8Array.of(0x10, 0, 0, 0, 0, 1);
  await card.loadCoins(coins, terminalId, when, (c) => {
    const sk = pbocLoadSessionKey(loadKey, c.cardRandom, uintToBytes(c.counter, 4));
    const data = loadMac2Data({ amountFen: c.amountFen, transactionType: TRANSACTION_TYPES.LOAD, terminalId, date: when.date, time: when.time });
    return pbocMac(sk, concatBytes(data, sm3(coinListCoder.encode(coins))));
  });
}

const psamReady = new WeakMap<SimulatedPsam, Promise<unknown>>();

/**
 * The host's session with the world's PSAM. Terminals are built synchronously, so the blank PSAM is
 * personalized (personalizePsam, SCP03) before the first APDU any session sends it.
 */
export function posPsam(w: PosWorld): Psam {
  const wire = directTransport(w.psam, 'simulated PSAM');
  return new Psam({
    description: wire.description,
    async transmit(command) {
      let ready = psamReady.get(w.psam);
      if (!ready) {
        ready = personalizePsam(wire, cardScpKeys(w.cbMaster, cardIdToBytes(PSAM_ID)), { terminalNumber: POS_TERMINAL_ID, purchaseMaster: w.cbMaster.secret.purchase });
        psamReady.set(w.psam, ready);
      }
      await ready;
      return wire.transmit(command);
    },
    close: () => wire.close(),
  });
}

/** A terminal over a queue file, with a float of these denominations when given; its PSAM is the world's. */
export function posTerminal(w: PosWorld, queuePath: string, o: { float?: number[]; blacklist?: string[]; extendedLength?: boolean } & Partial<PosTerminalOptions> = {}): PosTerminal {
  const { float, ...rest } = o;
  return new PosTerminal({
    psam: posPsam(w),
    queue: new UploadQueue(queuePath),
    anchors: w.anchors,
    payeeIdentity: MERCHANT,
    extendedLength: true,
    change: float
      ? { identity: TERMINAL_IDENTITY, signKey: sm9ExtractSignKey(w.kgcSign.secret.privateKey, new TextEncoder().encode(TERMINAL_IDENTITY)), float: new CoinFloat(float.map((d) => mint(w, d))) }
      : undefined,
    ...rest,
  });
}
