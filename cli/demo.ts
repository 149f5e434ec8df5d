/**
 * @module `drmb demo`: the toolchain's main job end to end on simulated cards, no reader needed: a key
 * ceremony exported as one bundle per role, then each party working with its own bundle only: the
 * prep centre preparing the cards, the KGC as its own process, the issuance desk issuing through it,
 * the central bank's registry and the issuing bank's online service each as its own process, and
 * (demo-life.ts) the bank vault, the acquirer's PSAM and the POS terminal working against them; the
 * report says which party held which keys, in which process.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { wipe } from '../base/bytes.js';
import { hex } from '../base/hex.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { trace } from '../host/middleware/trace.js';
import { Psam } from '../host/psam.js';
import { stack } from '../host/transport.js';
import { AUTHORIZED_BANKS_FILE, AUTHORIZED_DESKS_FILE } from '../keys/authorized-desks.js';
import { cardIdToBytes, cardScpKeys, psamScpKeys } from '../keys/card-keys.js';
import { type KeyFile, wipeKeyFile } from '../keys/key-files.js';
import { type Role, ROLES } from '../keys/role-bundles.js';
import { issueCard, prepareCard } from '../personalization/card-prep.js';
import { remoteKgc, terminalKeysFromKgc } from '../personalization/kgc-client.js';
import { initKeyDirectory } from '../personalization/key-ceremony.js';
import { Manifest } from '../personalization/manifest.js';
import { personalizePsam } from '../personalization/personalize-psam.js';
import { loadIssueProfile, loadPrepareProfile } from '../personalization/profiles.js';
import { DemoParty, type PartyReport } from './demo-party.js';
import { DEMO_TERMINAL_NUMBER, ISSUING_BANK, type LifeReport, MERCHANT_BANK, runLife, TERMINAL_IDENTITY } from './demo-life.js';
import { runRegistryAuthorize } from './registry/authorize.js';
import { runExport } from './keys/export.js';
import { runAuthorize } from './kgc/authorize.js';
import { type KgcProcess, startKgcProcess } from './kgc/kgc-process.js';
import { type ServiceProcess, startServiceProcess } from './service-process.js';
import { RemoteRegistry } from '../bank/registry-client.js';
import { TRUST_ANCHORS_FILE } from '../keys/trust-anchors.js';
import { withCardId, withJson, withTrace } from './options.js';
import { emit, UsageError } from './output.js';
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
  /** the demo's own process, which plays the parties that run no service */
  pid: number;
  /** the ceremony directory: every key, written once, exported as the bundles and read no further */
  ceremony: string;
  keys: { file: string; kind: string; kcv: Record<string, string> }[];
  /** each party, the bundle it was given and the keys it loaded from it */
  parties: PartyReport[];
  /** the KGC's own process: its address, its hash-chained audit log and the extractions it logged */
  kgc: { url: string; pid: number; audit: string; extractions: number };
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
/** Where --trace writes each APDU (redacted). */
const traceSink = (line: string) => process.stderr.write(`${line}\n`);
/** The demo holder's PIN; a real issuance takes it from a prompt or a file, never from the command line. */
export const DEMO_PIN = '135790';

/** The KGC's audit lines that record an answered extraction. */
function extractionsIn(auditPath: string): number {
  return readFileSync(auditPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && (JSON.parse(l) as { action?: string }).action === 'extract').length;
}

/** Runs the whole demo and returns its report. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const say = options.progress ?? (() => {});
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'drmb-demo-'));
  const ceremonyDir = join(dir, 'ceremony');
  // A demo's folder holds one demo: its keys, bundles, registry and cards belong together.
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`--dir ${dir} is not empty: give a new or empty folder, or leave --dir out for a temporary one`);
  say(`key ceremony in ${ceremonyDir}`);
  const ceremony = initKeyDirectory(ceremonyDir);
  // From here on nothing reads the ceremony directory: each party gets its role's bundle and loads from it alone.
  const bundle = (role: Role) => join(dir, 'bundles', role);
  for (const role of ROLES) runExport({ role, out: bundle(role), keys: ceremonyDir });
  say(`one bundle per role in ${join(dir, 'bundles')}: ${ROLES.join(', ')}`);
  const prep = new DemoParty("central bank's prep centre", 'prep-centre', bundle('prep-centre'));
  const kgcParty = new DemoParty('KGC', 'kgc', bundle('kgc'));
  const desk = new DemoParty("issuing bank's issuance desk", 'issuance-desk', bundle('issuance-desk'));
  const vault = new DemoParty("issuing bank's vault", 'bank-vault', bundle('bank-vault'));
  const acquirer = new DemoParty("merchant's acquirer (PSAMs)", 'pos', bundle('pos'));
  const terminal = new DemoParty('POS terminal', 'pos', bundle('pos'));
  const registryParty = new DemoParty("central bank's registry", 'registry', bundle('registry'));
  const onlineBank = new DemoParty(`issuing bank's online service (bank ${ISSUING_BANK})`, 'bank-vault', bundle('bank-vault'));
  // The merchant's bank is another commercial bank: a bank-vault bundle of its own, with its own signing key.
  const merchantBundle = join(dir, 'bundles', `bank-vault-${MERCHANT_BANK}`);
  runExport({ role: 'bank-vault', out: merchantBundle, keys: ceremonyDir });
  const merchantBank = new DemoParty(`merchant's bank (bank ${MERCHANT_BANK})`, 'bank-vault', merchantBundle);

  // The KGC knows the desk by the public key of the desk's bundle, then runs as its own process.
  runAuthorize({ keys: kgcParty.bundle, deskKey: desk.bundle, name: 'demo issuing bank, desk 1' });
  const kgcAudit = join(dir, 'kgc-audit.log');
  say('starting the KGC as its own process: drmb kgc serve --port 0');
  const kgc: KgcProcess = await startKgcProcess({ keys: kgcParty.bundle, audit: kgcAudit, log: (l) => say(`  ${l}`) });
  const secrets: KeyFile[] = [];
  /** the other parties' processes besides the KGC, stopped last-started first */
  const children: { label: string; process: ServiceProcess }[] = [];
  const held = <K extends KeyFile>(k: K): K => {
    secrets.push(k);
    return k;
  };
  try {
    kgcParty.pid = kgc.pid;
    kgcParty.noteLoaded(kgc.keys.map((k) => k.kind), [AUTHORIZED_DESKS_FILE]);
    kgcParty.did(`served the key extractions on ${kgc.url}, each in its hash-chained audit log`);
    say(`KGC listening on ${kgc.url}, pid ${kgc.pid}`);

    // The card factory loads each blank card with personalization keys diversified from the central bank's master.
    const cardId = options.cardId ?? `6212${String(Date.now()).slice(-16).padStart(16, '0')}`;
    const payeeId = `${cardId.slice(0, 19)}${(Number(cardId[19]) + 1) % 10}`;
    const prepKeys = { cbMaster: held(prep.key('cb-master')), issuanceMaster: held(prep.key('issuance-master')), certSigning: held(prep.key('cert-signing')), anchors: prep.trustAnchors() };
    const { SimulatedCard } = await import('../simulator/simulated-card.js');
    const manufacture = (id: string) => new SimulatedCard({ manufacture: { cardId: id, personalizationKeys: cardScpKeys(prepKeys.cbMaster, cardIdToBytes(id)) } });
    const sim = manufacture(cardId);
    const simB = manufacture(payeeId);
    const layers = [getResponse()];
    if (options.trace) layers.push(trace({ sink: traceSink }));
    const transport = stack(directTransport(sim, `simulated card ${cardId}`), ...layers);

    const manifest = new Manifest(join(dir, 'manifest.jsonl'));
    const ctx = { operator: 'demo', manifest, auditPath: join(dir, 'audit.log'), onStep: (_id: string, step: string) => say(`  ${step}`) };
    const prepProfile = loadPrepareProfile(join(PROFILES, 'prepare.json'));
    const issueProfile = loadIssueProfile(join(PROFILES, 'issue.json'));
    // The desk asks the KGC's process with its own desk key; the answers are encrypted to each card.
    const issueKeys = { issuanceMaster: held(desk.key('issuance-master')), kgc: remoteKgc(kgc.url, held(desk.key('desk-signing'))), anchors: desk.trustAnchors() };
    say(`central-bank card prep of ${cardId}`);
    const prepared = await prepareCard(transport, prepProfile, prepKeys, ctx);
    say('commercial-bank issuance with SM9 keys from the KGC');
    const issued = await issueCard(transport, issueProfile, {}, DEMO_PIN, issueKeys, ctx);
    say(`prep and issuance of the payee's card ${payeeId}`);
    const transportB = stack(directTransport(simB, `simulated card ${payeeId}`), ...layers);
    await prepareCard(transportB, prepProfile, prepKeys, { ...ctx, onStep: undefined });
    await issueCard(transportB, issueProfile, {}, DEMO_PIN, issueKeys, { ...ctx, onStep: undefined });
    prep.did(`made and prepared cards ${cardId} and ${payeeId} (kvn 30 keys, DGI 8000/8001, card certificates)`);
    desk.did(`issued both cards through the KGC at ${kgc.url}, asking with its desk key, authorised by the KGC`);

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
      // The acquirer makes the POS terminal's PSAM with personalization keys diversified by its serial
      // number and personalizes it with the terminal number and the purchase master, from the pos bundle.
      const psamId = `88${cardId.slice(2)}`;
      say(`personalization of the POS terminal's PSAM ${psamId}`);
      const psamKeys = acquirer.key('purchase-master');
      const psamPerso = psamScpKeys(psamKeys.secret, cardIdToBytes(psamId));
      const psamSim = SimulatedCard.psam({ psamId, personalizationKeys: psamPerso });
      const psamTransport = stack(directTransport(psamSim, `simulated PSAM ${psamId}`), ...layers);
      try {
        await personalizePsam(psamTransport, psamPerso, { terminalNumber: DEMO_TERMINAL_NUMBER, purchaseMaster: psamKeys.secret.purchase });
      } finally {
        wipeKeyFile(psamKeys);
        wipe(psamPerso.enc, psamPerso.mac, psamPerso.dek);
      }
      acquirer.did(`made and personalized PSAM ${psamId} (terminal number ${hex(DEMO_TERMINAL_NUMBER)}), which holds the purchase master from then on`);

      // The terminal makes its own SM2 key pair; the KGC lists its public key bound to the terminal's
      // identity, and answers the terminal's signed request with its SM9 keys encrypted to that key.
      say(`the POS terminal obtains the SM9 key of ${TERMINAL_IDENTITY} from the KGC`);
      const device = sm2GenerateKeyPair();
      runAuthorize({ keys: kgcParty.bundle, terminalKey: hex(device.publicKey), identity: TERMINAL_IDENTITY, name: 'demo merchant, POS terminal 1' });
      const terminalKeys = await terminalKeysFromKgc(kgc.url, device, TERMINAL_IDENTITY);
      wipe(device.privateKey, terminalKeys.encryptKey);
      terminal.noteOwn('SM2 device key, made in the terminal; its public key authorised at the KGC');
      terminal.noteOwn(`SM9 signing key of ${TERMINAL_IDENTITY}, from the KGC encrypted to the device key (signs the change it pays)`);
      terminal.did(`took payments with its PSAM ${psamId} (no purchase key in the terminal) and paid change from its float`);

      // Card A's holder is paid online later: the wallet terminal on the holder's phone makes its own SM2
      // key pair, the KGC lists it bound to the card's identity, and answers with the SM9 keys encrypted to it.
      const walletKeyOf = async (identity: string) => {
        say(`the wallet of card ${cardId} obtains the SM9 key of ${identity} from the KGC`);
        const device = sm2GenerateKeyPair();
        runAuthorize({ keys: kgcParty.bundle, terminalKey: hex(device.publicKey), identity, name: `demo holder of card ${cardId}, wallet` });
        const k = await terminalKeysFromKgc(kgc.url, device, identity);
        wipe(device.privateKey, k.signKey);
        return k.encryptKey;
      };

      // The central bank's registry and the issuing bank's online service each run as their own process
      // with their own bundle: the registry's holds the mint master and the coin-signing key and lists
      // the banks it takes signed requests from; the bank's service holds the bank's own signing key only.
      runRegistryAuthorize({ keys: registryParty.bundle, bankKey: vault.bundle, bankCode: ISSUING_BANK, name: 'demo issuing bank' });
      runRegistryAuthorize({ keys: registryParty.bundle, bankKey: merchantBank.bundle, bankCode: MERCHANT_BANK, name: "demo merchant's bank" });
      say('starting the registry as its own process: drmb registry serve --port 0');
      const tokenFile = join(dir, 'registry-operator.token');
      const registryArgs = ['registry', 'serve', '--keys', registryParty.bundle, '--registry', join(dir, 'registry'), '--operator-token', tokenFile];
      const registryProcess = await startServiceProcess(registryArgs, { log: (l) => say(`  ${l}`) });
      children.push({ label: 'registry', process: registryProcess });
      registryParty.pid = registryProcess.pid;
      registryParty.noteLoaded(registryProcess.keys.map((k) => k.kind), [TRUST_ANCHORS_FILE, AUTHORIZED_BANKS_FILE]);
      say(`registry listening on ${registryProcess.url}, pid ${registryProcess.pid}`);
      say(`starting bank ${ISSUING_BANK}'s online service as its own process: drmb bank serve --central ${registryProcess.url}`);
      const bankArgs = ['bank', 'serve', '--keys', onlineBank.bundle, '--central', registryProcess.url, '--bank-code', ISSUING_BANK, '--bank-data', join(dir, `bank-${ISSUING_BANK}`)];
      const bankProcess = await startServiceProcess(bankArgs, { log: (l) => say(`  ${l}`) });
      children.push({ label: 'bank', process: bankProcess });
      onlineBank.pid = bankProcess.pid;
      onlineBank.noteLoaded(['bank-signing'], [TRUST_ANCHORS_FILE]);
      say(`bank ${ISSUING_BANK} listening on ${bankProcess.url}, pid ${bankProcess.pid}`);
      // Each bank asks the registry with its own key; the central bank's operator mints with the run's token.
      const signerOf = (party: DemoParty) => {
        const k = held(party.key('bank-signing'));
        return { privateKey: k.secret.privateKey, publicKey: k.public.publicKey };
      };
      const registry = {
        operator: new RemoteRegistry(registryProcess.url, { operatorToken: readFileSync(tokenFile, 'utf8').trim() }),
        issuingBank: new RemoteRegistry(registryProcess.url, { bank: signerOf(vault) }),
        merchantBank: new RemoteRegistry(registryProcess.url, { bank: signerOf(merchantBank) }),
        reader: new RemoteRegistry(registryProcess.url),
      };

      say('the money: mint, withdrawal, POS purchase with change, offline payment, settlement, online payment, double spend');
      try {
        life = await runLife(
          dir,
          {
            registry,
            bankUrl: bankProcess.url,
            vault: { loadMaster: held(vault.key('load-master')) },
            terminal: { anchors: terminal.trustAnchors(), psam: new Psam(psamTransport), identity: TERMINAL_IDENTITY, signKey: terminalKeys.signKey },
            walletKeyOf,
            walletAnchors: terminal.trustAnchors(),
          },
          sim,
          simB,
          DEMO_PIN,
          (image) => SimulatedCard.fromImage(image),
          (l) => say(`  ${l}`),
          options.trace ? traceSink : undefined,
        );
      } finally {
        wipe(terminalKeys.signKey);
      }
      registryParty.did(`minted the coins into the banks' vaults (on its operator's token), recorded the withdrawal and settled the deposits on ${registryProcess.url}, each on the request of an authorised bank signed with its key; changed the owner of an online payment before the payee card imported, with a confirmation signed by its coin-signing key; caught the double spend`);
      vault.did('withdrew coins onto the card (MAC1, MAC2 and TAC of the load), recorded through the registry service on its signed request; deposited card B\'s transfer');
      merchantBank.did(`deposited the POS terminal's purchases and the change its float paid, signed with its key, into its vault ${MERCHANT_BANK}`);
      onlineBank.did(`took card A's online payment on ${bankProcess.url}, checked the coins and the payee, forwarded it to the registry service signed with its key, and relayed the central bank's confirmation`);
    }
    const report: DemoReport = {
      dir,
      pid: process.pid,
      ceremony: ceremonyDir,
      keys: ceremony.files.map((f) => ({ file: basename(f.path), kind: f.kind, kcv: f.kcv })),
      parties: [prep, kgcParty, desk, vault, onlineBank, merchantBank, acquirer, terminal, registryParty].filter((p) => p.report().did.length > 0).map((p) => p.report()),
      kgc: { url: kgc.url, pid: kgc.pid, audit: kgcAudit, extractions: extractionsIn(kgcAudit) },
      card: readBack,
      stages: [prepared, issued].map((r) => ({ stage: r.stage, result: r.result, apdus: r.apdus, ms: Math.round(r.durationMs) })),
      image: join(dir, 'card.json'),
      manifest: manifest.path,
      life,
    };
    sim.saveToFile(report.image);
    return report;
  } finally {
    for (const k of secrets) wipeKeyFile(k);
    for (const child of [...children.reverse(), { label: 'KGC', process: kgc }]) {
      const code = await child.process.stop();
      say(`${child.label} process ${child.process.pid} stopped (exit code ${code})`);
    }
  }
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
    `Parties (each given only its role's bundle, from the ceremony in ${r.ceremony}):`,
    ...r.parties.flatMap((p) => [
      `  ${p.party} (${p.role} bundle ${p.bundle}, pid ${p.pid}${p.pid !== r.pid ? ', its own process' : ''})`,
      `    keys loaded: ${p.keys.join(', ') || '(none)'}${p.files.length ? `; files: ${p.files.join(', ')}` : ''}`,
      ...p.own.map((o) => `    own key: ${o}`),
      `    ${p.foreignKeys.length ? `ANOTHER PARTY'S KEYS LOADED: ${p.foreignKeys.join(', ')}` : "no other party's key loaded"}`,
      ...p.did.map((d) => `    ${d}`),
    ]),
    `KGC: ${r.kgc.url}, pid ${r.kgc.pid}, ${r.kgc.extractions} extraction(s) in its audit log ${r.kgc.audit}`,
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
    .description("run the main job end to end on simulated cards: key ceremony and one bundle per role, card prep, issuance through the KGC as its own process, the coins' life with the registry and the bank as their own processes; each party holds only its bundle")
    .option('--dir <dir>', 'working directory (default: a new temporary directory)');
  withJson(withTrace(withCardId(cmd, 'of the simulated card'))).action(async (opts: { dir?: string; cardId?: string; trace?: boolean; json?: boolean }) => {
    const report = await runDemo({ ...opts, progress: (l) => process.stderr.write(`${l}\n`) });
    emit(report, !!opts.json, formatDemo);
  });
}
