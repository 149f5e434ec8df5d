/**
 * @module Simulated cards for the conformance suites, personalized the production way: a key ceremony
 * into a directory (as `drmb keys init` does), blank cards manufactured with personalization keys
 * diversified from its cb-master, card prep and issuance with the example profiles, and a
 * conformance profile naming the key files. Images in BLANK, PREPARED and ISSUED (with coins).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppState } from '../applet-spec/lifecycle.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { stack } from '../host/transport.js';
import { cardIdToBytes, cardScpKeys } from '../keys/card-keys.js';
import { loadKey } from '../keys/key-files.js';
import { issueCard, prepareCard } from '../personalization/card-prep.js';
import { inProcessKgc } from '../personalization/kgc.js';
import { initKeyDirectory, readTrustAnchors } from '../personalization/key-ceremony.js';
import { loadIssueProfile, loadPrepareProfile } from '../personalization/profiles.js';
import { SimulatedCard } from '../simulator/simulated-card.js';

export const CONFORMANCE_PIN = '135790';
export const CONFORMANCE_CARD_ID = '62120000000000004242';

export interface ConformanceCards {
  dir: string;
  keyDir: string;
  /** the conformance profile file (keys named relative to it) */
  profilePath: string;
  images: Partial<Record<AppState, Uint8Array>>;
}

let cached: Promise<ConformanceCards> | undefined;

/** Builds (once per process) the key directory, the card images and the profile. */
export function conformanceCards(): Promise<ConformanceCards> {
  cached ??= build();
  return cached;
}

async function build(): Promise<ConformanceCards> {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-conformance-'));
  const keyDir = join(dir, 'keys');
  initKeyDirectory(keyDir);
  const env = {};
  const cbMaster = loadKey('cb-master', { dir: keyDir, env });
  const issuanceMaster = loadKey('issuance-master', { dir: keyDir, env });
  const kgcSign = loadKey('kgc-sign', { dir: keyDir, env });
  const kgcEncrypt = loadKey('kgc-encrypt', { dir: keyDir, env });
  const anchors = readTrustAnchors(join(keyDir, 'trust-anchors.json'));
  const card = new SimulatedCard({ manufacture: { cardId: CONFORMANCE_CARD_ID, personalizationKeys: cardScpKeys(cbMaster, cardIdToBytes(CONFORMANCE_CARD_ID)) } });
  const BLANK = card.toImage();
  const transport = stack(directTransport(card, 'conformance card'), getResponse());
  const profiles = join(import.meta.dirname, '..', 'examples', 'profiles');
  const ctx = { operator: 'conformance-test' };
  await prepareCard(transport, loadPrepareProfile(join(profiles, 'prepare.json')), { cbMaster, issuanceMaster, certSigning: loadKey('cert-signing', { dir: keyDir, env }), anchors }, ctx);
  const PREPARED = card.toImage();
  const kgc = inProcessKgc({ signPrivateKey: kgcSign.secret.privateKey, encryptPrivateKey: kgcEncrypt.secret.privateKey }, anchors);
  await issueCard(transport, loadIssueProfile(join(profiles, 'issue.json')), {}, CONFORMANCE_PIN, { issuanceMaster, kgc, anchors }, ctx);
  const ISSUED = card.toImage();
  const profilePath = join(dir, 'profile.json');
  writeFileSync(
    profilePath,
    JSON.stringify(
      {
        format: 'drmb-conformance-profile',
        version: 1,
        description: 'the conformance suite test card',
        card: { cardId: CONFORMANCE_CARD_ID },
        pin: CONFORMANCE_PIN,
        keys: {
          cbMaster: 'keys/cb-master.json',
          issuanceMaster: 'keys/issuance-master.json',
          coinSigning: 'keys/coin-signing-1.json',
          kgcSign: 'keys/kgc-sign.json',
          kgcEncrypt: 'keys/kgc-encrypt.json',
          trustAnchors: 'keys/trust-anchors.json',
          certSigning: 'keys/cert-signing-1.json',
        },
        personalization: { prepare: join(profiles, 'prepare.json'), issue: join(profiles, 'issue.json') },
      },
      null,
      2,
    ),
  );
  return { dir, keyDir, profilePath, images: { BLANK, PREPARED, ISSUED } };
}
