/**
 * @module `drmb demo`: the toolchain's main job end to end on a simulated card, no reader needed:
 * a key ceremony, central-bank card prep, commercial-bank issuance with SM9 keys from the KGC, and
 * the card read back through the host library.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { trace } from '../host/middleware/trace.js';
import { stack } from '../host/transport.js';
import { cardIdToBytes, cardScpKeys, psamScpKeys } from '../keys/card-keys.js';
import { issueCard, prepareCard } from '../personalization/card-prep.js';
import { inProcessKgc } from '../personalization/kgc.js';
import { initKeyDirectory, readTrustAnchors } from '../personalization/key-ceremony.js';
import { loadKey, wipeKeyFile } from '../keys/key-files.js';
import { Manifest } from '../personalization/manifest.js';
import { loadIssueProfile, loadPrepareProfile } from '../personalization/profiles.js';
import { withCardId, withJson, withTrace } from './options.js';
import { emit } from './output.js';
import { DEMO_TERMINAL_NUMBER, type LifeReport, runLife } from './demo-life.js';
import { Psam } from '../host/psam.js';
import { personalizePsam } from '../personalization/personalize-psam.js';
import { loadPsamKeys } from './perso/psam.js';
import { wipe } from '../base/bytes.js';
import { basename } from 'node:path';
import { projectPath } from './project-path.js';

export interface DemoOptions {
  /** working directory for keys, manifest, audit log and the card image (a new temp dir by default) */
  dir?: string;
  cardId?: string;
  /** trace every APDU (redacted) on stderr */
  trace?: boolean;
  /** progress lines on stderr */
  progress?: (line: string) => void;
  /** stop after prep, issuance and read-back */
  skipMoney?: boolean;
}

export interface DemoReport {
  dir: string;
  keys: { file: string; kind: string; kcv: Record<string, string> }[];
  card: {
    cardId: string;
    state: string;
    label?: string;
    identity: string;
    balanceFen: number;
    singleLimitFen: number;
    balanceCapFen: number;
    pinTriesLeft: number;
  };
  stages: { stage: string; result: string; apdus: number; ms: number }[];
  image: string;
  manifest: string;
  /** the money flows (absent with skipMoney) */
  life?: LifeReport;
}

const PROFILES = projectPath('examples', 'profiles');
/** The demo holder's PIN; a real issuance takes it from a prompt or a file, never from the command line. */
export const DEMO_PIN = '135790';

/** Runs the whole demo and returns its report. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const say = options.progress ?? (() => {});
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'drmb-demo-'));
  const keyDir = join(dir, 'keys');
  say(`key ceremony in ${keyDir}`);
  const ceremony = initKeyDirectory(keyDir);
  const env = {};
  const cbMaster = loadKey('cb-master', { dir: keyDir, env });
  const issuanceMaster = loadKey('issuance-master', { dir: keyDir, env });
  const certSigning = loadKey('cert-signing', { dir: keyDir, env });
  const kgcSign = loadKey('kgc-sign', { dir: keyDir, env });
  const kgcEncrypt = loadKey('kgc-encrypt', { dir: keyDir, env });
  const anchors = readTrustAnchors(join(keyDir, 'trust-anchors.json'));

  // The card factory loads each blank card with personalization keys diversified from the central bank's master.
  const cardId = options.cardId ?? `6212${String(Date.now()).slice(-16).padStart(16, '0')}`;
  const payeeId = `${cardId.slice(0, 19)}${(Number(cardId[19]) + 1) % 10}`;
  const { SimulatedCard } = await import('../simulator/simulated-card.js');
  const manufacture = (id: string) => new SimulatedCard({ manufacture: { cardId: id, personalizationKeys: cardScpKeys(cbMaster, cardIdToBytes(id)) } });
  const sim = manufacture(cardId);
  const simB = manufacture(payeeId);
  const layers = [getResponse()];
  if (options.trace) layers.push(trace({ sink: (l) => process.stderr.write(`${l}\n`) }));
  const transport = stack(directTransport(sim, `simulated card ${cardId}`), ...layers);

  const manifest = new Manifest(join(dir, 'manifest.jsonl'));
  const ctx = { operator: 'demo', manifest, auditPath: join(dir, 'audit.log'), onStep: (_id: string, step: string) => say(`  ${step}`) };
  const prepProfile = loadPrepareProfile(join(PROFILES, 'prepare.json'));
  const issueProfile = loadIssueProfile(join(PROFILES, 'issue.json'));
  const prepKeys = { cbMaster, issuanceMaster, certSigning, anchors };
  const issueKeys = { issuanceMaster, kgc: inProcessKgc({ signPrivateKey: kgcSign.secret.privateKey, encryptPrivateKey: kgcEncrypt.secret.privateKey }, anchors), anchors };
  say(`central-bank card prep of ${cardId}`);
  const prep = await prepareCard(transport, prepProfile, prepKeys, ctx);
  say('commercial-bank issuance with SM9 keys from the KGC');
  const issue = await issueCard(transport, issueProfile, {}, DEMO_PIN, issueKeys, ctx);
  say(`prep and issuance of the payee's card ${payeeId}`);
  const transportB = stack(directTransport(simB, `simulated card ${payeeId}`), getResponse());
  await prepareCard(transportB, prepProfile, prepKeys, { ...ctx, onStep: undefined });
  await issueCard(transportB, issueProfile, {}, DEMO_PIN, issueKeys, { ...ctx, onStep: undefined });

  say('reading the card back');
  const card = new DrmbCard(transport);
  const info = await card.select();
  const readBack = {
    cardId: info.cardId!,
    state: info.state,
    label: info.label,
    identity: (await card.getData('ibcIdentity')) as string,
    balanceFen: await card.balance(),
    singleLimitFen: (await card.getData('singleLimit')) as number,
    balanceCapFen: (await card.getData('balanceCap')) as number,
    pinTriesLeft: (await card.getData('pinTriesLeft')) as number,
  };

  let life: LifeReport | undefined;
  if (!options.skipMoney) {
    // The POS terminal's PSAM: manufactured with personalization keys diversified by its serial number,
    // personalized with the terminal number and the purchase master; the terminal itself holds no key.
    const psamId = `88${cardId.slice(2)}`;
    say(`personalization of the POS terminal's PSAM ${psamId}`);
    const psamKeys = loadPsamKeys(keyDir, 'drmb perso psam');
    const psamPerso = psamScpKeys(psamKeys.secret, cardIdToBytes(psamId));
    const psamSim = SimulatedCard.psam({ psamId, personalizationKeys: psamPerso });
    const psamTransport = stack(directTransport(psamSim, `simulated PSAM ${psamId}`), ...layers);
    try {
      await personalizePsam(psamTransport, psamPerso, { terminalNumber: DEMO_TERMINAL_NUMBER, purchaseMaster: psamKeys.secret.purchase });
    } finally {
      wipeKeyFile(psamKeys);
      wipe(psamPerso.enc, psamPerso.mac, psamPerso.dek);
    }
    say('the money: mint, withdrawal, POS purchase with change, offline payment, settlement, double spend');
    life = await runLife(
      dir,
      { cbMaster, mintMaster: loadKey('mint-master', { dir: keyDir, env }), coinSigning: loadKey('coin-signing', { dir: keyDir, env }), kgcSign, kgcEncrypt, anchors },
      sim,
      simB,
      DEMO_PIN,
      (image) => SimulatedCard.fromImage(image),
      (l) => say(`  ${l}`),
      new Psam(psamTransport),
    );
  }
  const report: DemoReport = {
    dir,
    keys: ceremony.files.map((f) => ({ file: basename(f.path), kind: f.kind, kcv: f.kcv })),
    card: readBack,
    stages: [prep, issue].map((r) => ({ stage: r.stage, result: r.result, apdus: r.apdus, ms: Math.round(r.durationMs) })),
    image: join(dir, 'card.json'),
    manifest: manifest.path,
    life,
  };
  sim.saveToFile(report.image);
  return report;
}

const yuan = (fen: number) => `${(fen / 100).toFixed(2)} yuan`;

/** Human-readable report. */
export function formatDemo(r: DemoReport): string {
  return [
    'D-RMB demo: key ceremony, card prep and issuance, then the life of the coins on simulated cards',
    '',
    'Keys (secrets stay in owner-only files; key check values shown):',
    ...r.keys.map((k) => `  ${k.file.padEnd(22)} ${k.kind.padEnd(16)} ${Object.entries(k.kcv).slice(0, 3).map(([n, v]) => `${n}=${v}`).join(' ')}`),
    '',
    'Stages:',
    ...r.stages.map((s) => `  ${s.stage.padEnd(8)} ${s.result.padEnd(8)} ${String(s.apdus).padStart(3)} APDUs ${String(s.ms).padStart(5)} ms`),
    '',
    'The card, read back through the host library:',
    `  card ID          ${r.card.cardId}`,
    `  state            ${r.card.state}`,
    `  label            ${r.card.label ?? ''}`,
    `  SM9 identity     ${r.card.identity}`,
    `  balance          ${yuan(r.card.balanceFen)}`,
    `  single limit     ${yuan(r.card.singleLimitFen)}`,
    `  balance cap      ${yuan(r.card.balanceCapFen)}`,
    `  PIN tries left   ${r.card.pinTriesLeft}`,
    '',
    ...(r.life
      ? [
          'The money:',
          ...r.life.steps.map((s) => `  ${s.step.padEnd(14)} ${s.detail}`),
          '',
          'Registry (owner: balance):',
          ...r.life.registry.map((o) => `  ${o.owner.padEnd(28)} ${yuan(o.balanceFen)}`),
          `  minted in all                ${yuan(r.life.mintedFen)}`,
          `Cards (balance read from the card): ${r.life.cards.map((c) => `${c.cardId} ${yuan(c.balanceFen)}`).join(', ')}`,
          `Blacklist: ${r.life.blacklist.join(', ') || '(empty)'}; double-spend proofs: ${r.life.doubleSpendProofs}`,
          `Value conserved (registry = minted, cards = registry): ${r.life.conserved ? 'yes' : 'NO'}`,
          '',
        ]
      : []),
    `Card image: ${r.image}`,
    `Manifest:   ${r.manifest}`,
    `Work dir:   ${r.dir}`,
  ].join('\n');
}

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run the main job end to end on a simulated card: keys, card prep, issuance, read back')
    .option('--dir <dir>', 'working directory (default: a new temporary directory)');
  withJson(withTrace(withCardId(cmd, 'of the simulated card'))).action(async (opts: { dir?: string; cardId?: string; trace?: boolean; json?: boolean }) => {
    const report = await runDemo({ ...opts, progress: (l) => process.stderr.write(`${l}\n`) });
    emit(report, !!opts.json, formatDemo);
  });
}
