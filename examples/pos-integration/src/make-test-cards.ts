/**
 * @module Makes what `pay.ts` needs to run without hardware, with the package's own API: a key
 * ceremony (its trust-anchors.json is all the terminal reads), a simulated user card prepared, issued
 * and loaded with 88.00 yuan of coins from a registry, and a simulated PSAM personalized for one
 * terminal. It stands in for the central bank, the issuing bank and the acquirer: a real POS meets
 * its customers' cards and gets its PSAM from its acquirer.
 *
 *   node build/make-test-cards.js OUT_DIR
 *
 * writes OUT_DIR/ceremony/ (owner-only key files), OUT_DIR/card.json and OUT_DIR/psam.json.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bankOwner, CENTRAL_BANK, mintCoins, Registry, withdraw } from 'drmb-toolchain/bank';
import { DrmbCard, directTransport, hostStack } from 'drmb-toolchain/host';
import { cardIdToBytes, cardScpKeys, loadRoleKey, psamScpKeys, readTrustAnchors, TRUST_ANCHORS_FILE, wipeKeyFile } from 'drmb-toolchain/keys';
import { inProcessKgc, initKeyDirectory, issueCard, loadIssueProfile, loadPrepareProfile, personalizePsam, prepareCard } from 'drmb-toolchain/personalization';
import { SimulatedCard } from 'drmb-toolchain/simulator';

const CARD_ID = '62120000000000000017';
const PSAM_ID = '88000000000000000017';
const PIN = '135790';
const BANK = '102100000001';
/** The coins the card holds: 50 + 20 + 10 + 5 + 2 + 1 yuan, so it can pay whole-yuan prices exactly. */
const DENOMINATIONS_FEN = [5000, 2000, 1000, 500, 200, 100];

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: make-test-cards OUT_DIR');
  const ceremony = join(out, 'ceremony');
  initKeyDirectory(ceremony);
  const anchors = readTrustAnchors(join(ceremony, TRUST_ANCHORS_FILE));
  const key = loadRoleKey;
  const cbMaster = key(ceremony, 'prep-centre', 'cb-master');
  const prepKeys = { cbMaster, issuanceMaster: key(ceremony, 'prep-centre', 'issuance-master'), certSigning: key(ceremony, 'prep-centre', 'cert-signing'), anchors };
  const kgcSign = key(ceremony, 'kgc', 'kgc-sign');
  const kgcEncrypt = key(ceremony, 'kgc', 'kgc-encrypt');
  // In development the desk's KGC runs in process; a real desk asks the KGC's service (remoteKgc).
  const issueKeys = {
    issuanceMaster: key(ceremony, 'issuance-desk', 'issuance-master'),
    kgc: inProcessKgc({ signPrivateKey: kgcSign.secret.privateKey, encryptPrivateKey: kgcEncrypt.secret.privateKey }, anchors),
    anchors,
  };
  const profile = (name: string) => fileURLToPath(import.meta.resolve(`drmb-toolchain/profiles/${name}.json`));

  // The card: made with personalization keys diversified from the central bank's master, prepared, issued.
  const card = new SimulatedCard({ manufacture: { cardId: CARD_ID, personalizationKeys: cardScpKeys(cbMaster, cardIdToBytes(CARD_ID)) } });
  const cardT = hostStack(directTransport(card, 'card'), card.powerOn());
  const ctx = { operator: 'make-test-cards' };
  await prepareCard(cardT, loadPrepareProfile(profile('prepare')), prepKeys, ctx);
  await issueCard(cardT, loadIssueProfile(profile('issue')), {}, PIN, issueKeys, ctx);

  // The coins: minted, moved to the issuing bank's vault, withdrawn onto the card.
  const mintMaster = key(ceremony, 'registry', 'mint-master');
  const coinSigning = key(ceremony, 'registry', 'coin-signing');
  const loadMasters = key(ceremony, 'bank-vault', 'load-master');
  const registry = await Registry.open({ trust: anchors, mintMaster: mintMaster.secret.master });
  try {
    const coins = mintCoins(
      { signingKey: { privateKey: coinSigning.secret.privateKey, keyIndex: coinSigning.keyIndex }, mintMaster: mintMaster.secret.master, issueDate: '20261101', expiryDate: '20361231' },
      DENOMINATIONS_FEN,
    );
    await registry.recordMint(coins);
    await registry.transfer(coins.map((c) => c.body.serial), CENTRAL_BANK, bankOwner(BANK));
    const amountFen = DENOMINATIONS_FEN.reduce((a, b) => a + b, 0);
    await withdraw(new DrmbCard(cardT), registry, { bankCode: BANK, amountFen, loadMasters, terminalId: Uint8Array.of(0x10, 0, 0, 0, 0, 1), date: '20261122', time: '090000' });
  } finally {
    await registry.close();
  }
  card.saveToFile(join(out, 'card.json'));

  // The PSAM: the acquirer personalizes it with the terminal number and the purchase master, which only the PSAM keeps.
  const purchaseMaster = key(ceremony, 'pos', 'purchase-master');
  const psamKeys = psamScpKeys(purchaseMaster.secret, cardIdToBytes(PSAM_ID));
  const psam = SimulatedCard.psam({ psamId: PSAM_ID, personalizationKeys: psamKeys });
  await personalizePsam(hostStack(directTransport(psam, 'psam'), psam.powerOn()), psamKeys, {
    terminalNumber: Uint8Array.of(0x20, 0x26, 0x12, 0x04, 0x00, 0x01),
    purchaseMaster: purchaseMaster.secret.purchase,
  });
  psam.saveToFile(join(out, 'psam.json'));

  for (const k of [cbMaster, prepKeys.issuanceMaster, prepKeys.certSigning, kgcSign, kgcEncrypt, issueKeys.issuanceMaster, mintMaster, coinSigning, loadMasters, purchaseMaster]) wipeKeyFile(k);
  console.log(`card ${CARD_ID} with ${(DENOMINATIONS_FEN.reduce((a, b) => a + b, 0) / 100).toFixed(2)} yuan in ${join(out, 'card.json')}, PIN ${PIN}`);
  console.log(`PSAM ${PSAM_ID} in ${join(out, 'psam.json')}; trust anchors in ${join(ceremony, TRUST_ANCHORS_FILE)}`);
}

main().catch((e: unknown) => {
  console.error(`make-test-cards: ${(e as Error).message}`);
  process.exitCode = 1;
});
