/**
 * @module The money part of `drmb demo`: the central bank mints, a commercial bank withdraws onto the
 * holder's card, the card pays at a POS terminal (with change), pays another card offline (signed,
 * encrypted coin export with a withdrawal code), the banks settle in the registry, the second card
 * pays the first back online (the owner changes before the payee imports), and a cloned card
 * that spends the same coins again is caught with proof and blacklisted.
 */
import { join } from 'node:path';
import { exportPacketCoder, NO_WITHDRAWAL_CODE, settlementBodyCoder } from '../applet-spec/value-formats.js';
import { submitOnlineTransfer, whyNotConfirmed } from '../bank/online-bank-client.js';
import type { RemoteRegistry } from '../bank/registry-client.js';
import { hex } from '../base/hex.js';
import { sm3 } from '../crypto/sm3.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { openTransfer } from '../host/open-transfer.js';
import { bankOwner, CENTRAL_BANK, cardOwner, DoubleSpendError } from '../bank/registry.js';
import { withdraw } from '../bank/withdraw.js';
import { DrmbCard } from '../host/drmb-card.js';
import { directTransport } from '../host/direct-transport.js';
import { hostStack } from '../host/pcsc.js';
import { CoinFloat } from '../host/pos/coin-float.js';
import { PosTerminal } from '../host/pos/pos-terminal.js';
import { UploadQueue } from '../host/pos/upload-queue.js';
import type { Psam } from '../host/psam.js';
import type { TrustAnchors } from '../personalization/key-ceremony.js';
import type { KeyFile } from '../keys/key-files.js';
import type { Coin } from '../applet-spec/value-formats.js';
import type { SimulatedCard } from '../simulator/simulated-card.js';

export const CENTRAL_BANK_MINT_FEN = 100_000;
export const ISSUING_BANK = '102100000001';
export const MERCHANT_BANK = '103100000002';
export const MERCHANT = 'shop-001@merchant.example';
/** The POS terminal's SM9 identity, whose signing key (from the KGC) signs the change it pays. */
export const TERMINAL_IDENTITY = 'pos-0001@merchant.example';
/** The terminal number the demo's PSAM is personalized with. */
export const DEMO_TERMINAL_NUMBER = Uint8Array.of(0x20, 0x26, 0x11, 0x22, 0x00, 0x01);

/** What each party of the money flows holds: its own bundle's keys, and the terminal no key of any bundle. */
export interface LifeParties {
  /**
   * the central bank's registry, in its own process (drmb registry serve, with the registry bundle's
   * mint master and coin-signing key), as each party asks it: the central bank's operator (with the
   * run's token) mints; each commercial bank (with its own bank-signing key) withdraws from its vault
   * and deposits; anyone reads the ledger
   */
  registry: { operator: RemoteRegistry; issuingBank: RemoteRegistry; merchantBank: RemoteRegistry; reader: RemoteRegistry };
  /** the issuing bank's online service in its own process (drmb bank serve --central): card A's bank for the online payment */
  bankUrl: string;
  /** the issuing bank's vault (bank-vault bundle): loads coins onto a card */
  vault: { loadMaster: KeyFile<'load-master'> };
  /**
   * the POS terminal: the trust anchors of the pos bundle, its PSAM (MAC1, MAC2, terminal number and
   * sequence numbers), and the SM9 signing key of its identity, which it obtained from the KGC
   */
  terminal: { anchors: TrustAnchors; psam: Psam; identity: string; signKey: Uint8Array };
  /**
   * the holder of card A paid online: its wallet terminal's SM9 encryption key for the card's identity,
   * which it obtains from the KGC (the payee's terminal opens the packet for its bank)
   */
  walletKeyOf: (identity: string) => Promise<Uint8Array>;
  /** the trust anchors the holder's wallet checks the central bank's confirmation with (public) */
  walletAnchors: TrustAnchors;
}

export interface LifeReport {
  steps: { step: string; detail: string }[];
  cards: { cardId: string; balanceFen: number }[];
  registry: { owner: string; balanceFen: number }[];
  mintedFen: number;
  blacklist: string[];
  doubleSpendProofs: number;
  /** minted = central bank + banks + cards, as the registry and the cards see it */
  conserved: boolean;
}

const yuan = (fen: number) => `${(fen / 100).toFixed(2)} yuan`;

/**
 * Card `payer` pays all it holds to card `payee` online, through the payee's bank service (which
 * forwards to the central bank's registry service): returns the amount and the owner the registry
 * showed for the coins after the confirmation and before the payee card imported.
 */
async function onlinePayment(
  dir: string,
  parties: LifeParties,
  payer: DrmbCard,
  payee: DrmbCard,
  pin: string,
): Promise<{ amountFen: number; ownerBeforeImport: string }> {
  const payeeInfo = await payee.select();
  const ready = await payee.prepareReceive();
  await payer.select();
  const amountFen = await payer.balance();
  await payer.verifyPin(pin);
  const t = await payer.transfer(amountFen, ready.payeeIdentity, ready.nonce, NO_WITHDRAWAL_CODE, { date: '20261122', time: '130000' });
  writeFileAtomic(join(dir, 'online-packet.bin'), t.packetBytes);
  const walletKey = await parties.walletKeyOf(ready.payeeIdentity);
  let opened;
  try {
    opened = openTransfer(t.packetBytes, walletKey);
  } finally {
    walletKey.fill(0);
  }
  const answer = await submitOnlineTransfer(parties.bankUrl, { packet: t.packetBytes, settlementBody: opened.settlementBody, payee: { identity: ready.payeeIdentity, cardId: payeeInfo.cardId! } });
  const newOwner = cardOwner(payeeInfo.cardId!);
  if (answer.outcome !== 'owner-changed' || 'code' in answer) throw new Error(`the online payment was refused: ${'code' in answer ? answer.message : answer.toPayee.detail}`);
  const why = whyNotConfirmed(answer, hex(sm3(t.packetBytes)), newOwner, parties.walletAnchors);
  if (why) throw new Error(`the online confirmation does not hold: ${why}`);
  const firstCoin = settlementBodyCoder.decode(opened.settlementBody).coins[0];
  const ownerBeforeImport = (await parties.registry.reader.ownerOf(firstCoin.body.serial)) ?? 'nobody';
  await payee.importPacket(t.packetBytes);
  return { amountFen, ownerBeforeImport };
}

/** The host stack over a simulated card, tracing every APDU (redacted) into `traceSink` when given. */
const stackOf = (sim: SimulatedCard, traceSink?: (line: string) => void) => hostStack(directTransport(sim, 'simulated card'), sim.powerOn(), traceSink ? { trace: { sink: traceSink } } : {});

/**
 * Runs the money flows on two issued simulated cards (A pays, B receives), each party with its own
 * keys only; the POS terminals share the terminal's personalized PSAM and hold no purchase key.
 * `cloneOf` makes a copy of a card from an image (the attacker's restored card image).
 */
export async function runLife(
  dir: string,
  parties: LifeParties,
  cardA: SimulatedCard,
  cardB: SimulatedCard,
  pinA: string,
  cloneOf: (image: Uint8Array) => SimulatedCard,
  say: (line: string) => void,
  traceSink?: (line: string) => void,
): Promise<LifeReport> {
  const cardStack = (sim: SimulatedCard) => stackOf(sim, traceSink);
  const { vault, terminal: terminalParty } = parties;
  const { operator, issuingBank, merchantBank, reader } = parties.registry;
  const steps: LifeReport['steps'] = [];
  const step = (s: string, detail: string) => {
    steps.push({ step: s, detail });
    say(`${s}: ${detail}`);
  };
  // 1. The central bank mints 1000.00 yuan in 100-yuan coins into the issuing bank's vault, in the registry's process.
  const mint = async (denoms: number[], bankCode: string): Promise<Coin[]> => (await operator.mint({ denominationsFen: denoms, toBank: bankCode, issueDate: '20261101', expiryDate: '20361231' })).coins;
  await mint(Array(10).fill(10_000), ISSUING_BANK);
  step('mint', `${yuan(CENTRAL_BANK_MINT_FEN)} in 10 coins, minted by the registry's process into the vault of bank ${ISSUING_BANK}`);

  // 2. Withdrawal: 300.00 yuan onto card A; the registry records card A after its TAC.
  const a = new DrmbCard(cardStack(cardA));
  const w = await withdraw(a, issuingBank, { bankCode: ISSUING_BANK, amountFen: 30_000, loadMasters: vault.loadMaster, terminalId: Uint8Array.of(0x10, 0, 0, 0, 0, 1), date: '20261122', time: '090000' });
  step('withdraw', `${yuan(w.amountFen)} onto card ${w.cardId} (${w.serials.length} coins, TAC verified, owner recorded)`);

  // 3. A POS purchase of 30.00 yuan: card A holds only 100-yuan coins, so the terminal pays 70.00
  //    change into the card from its float (minted for the merchant's bank) and debits 100.00.
  const floatCoins = await mint([5000, 2000, 1000, 500, 200, 100], MERCHANT_BANK);
  const terminal = (queueFile: string, blacklist: string[] = [], float = floatCoins) =>
    new PosTerminal({
      psam: terminalParty.psam,
      queue: new UploadQueue(join(dir, queueFile)),
      anchors: terminalParty.anchors,
      payeeIdentity: MERCHANT,
      extendedLength: true,
      blacklist,
      change: { identity: terminalParty.identity, signKey: terminalParty.signKey, float: new CoinFloat(float) },
    });
  const imageBeforePurchase = cardA.toImage();
  const pos = terminal('pos-queue.jsonl');
  const paid = await pos.pay(a, 3_000, { pin: pinA });
  step('pos purchase', `price ${yuan(paid.amountFen)}, change ${yuan(paid.changeFen)} paid into the card, ${yuan(paid.paidFen)} debited; packet verified and queued`);

  // 4. Offline peer payment: card A pays card B 50.00 yuan with a withdrawal code.
  const b = new DrmbCard(cardStack(cardB));
  const infoB = await b.select();
  const ready = await b.prepareReceive();
  await a.select();
  await a.verifyPin(pinA);
  const transfer = await a.transfer(5_000, ready.payeeIdentity, ready.nonce, '2026112200050000', { date: '20261122', time: '120000' });
  const { receipt, responseBytes } = await b.importPacket(transfer.packetBytes);
  step('peer payment', `${yuan(receipt.body.amountFen)} from ${transfer.packet.header.payerCardId} to ${infoB.cardId} offline (SM9-signed, SM9-encrypted to ${ready.payeeIdentity}); receipt signed by card B`);

  // 5. Settlement: the merchant's bank deposits the POS queue (the purchase, and the change its float paid
  // into card A with the card's receipt); card B's bank the transfer with card B's receipt (no key opens it).
  const queued = new UploadQueue(join(dir, 'pos-queue.jsonl')).pending();
  for (const p of queued.filter((x) => x.type === 'CHANGE')) {
    const s = await merchantBank.settle(p.packet, { payeeIdentity: exportPacketCoder.decode(p.packet).header.payeeIdentity, payerOwner: bankOwner(MERCHANT_BANK), importResponse: p.receipt });
    step('deposit', `${yuan(s.amountFen)} change from the merchant's float, on card ${p.cardId}'s receipt: now owned by ${s.payeeOwner}`);
  }
  for (const p of queued.filter((x) => x.type === 'PURCHASE')) {
    const s = await merchantBank.settle(p.packet, { payeeIdentity: MERCHANT, payeeOwner: bankOwner(MERCHANT_BANK) });
    step('deposit', `${yuan(s.amountFen)} from card ${s.payerCardId} (counter ${s.payerCounter}) now owned by bank ${MERCHANT_BANK}`);
  }
  const st = await issuingBank.settle(transfer.packetBytes, { payeeIdentity: ready.payeeIdentity, importResponse: responseBytes });
  step('deposit', `${yuan(st.amountFen)} transfer settled on card B's receipt: ${st.payeeOwner} recorded as owner`);

  // 6. Online payment (the seed's): card B pays the 50.00 yuan back to card A. The packet file is
  // written first; card A's wallet opens it with the holder's key and submits it to card A's bank,
  // which checks it and forwards it to the central bank; the registry changes the owner, and only
  // on the central bank's signed confirmation does card A import.
  const online = await onlinePayment(dir, parties, b, a, pinA);
  step(
    'online payment',
    `${yuan(online.amountFen)} from card ${infoB.cardId} to card ${w.cardId}: the registry recorded ${online.ownerBeforeImport} as owner (confirmation signed by the central bank) before card ${w.cardId} imported`,
  );

  // 7. Double spending: a card restored from an image taken before the purchase pays again.
  const clone = new DrmbCard(cardStack(cloneOf(imageBeforePurchase)));
  const secondFloat = await mint([5000, 2000, 1000, 500, 200, 100], MERCHANT_BANK);
  const second = terminal('pos-queue-2.jsonl', [], secondFloat);
  await second.pay(clone, 3_000, { pin: pinA });
  const q2 = new UploadQueue(join(dir, 'pos-queue-2.jsonl')).pending().filter((p) => p.type === 'PURCHASE');
  let caught = '';
  for (const p of q2) {
    try {
      await merchantBank.settle(p.packet, { payeeIdentity: MERCHANT, payeeOwner: bankOwner(MERCHANT_BANK) });
    } catch (e) {
      if (!(e instanceof DoubleSpendError)) throw e;
      caught = `${e.proof.reason}: two signed packets kept as proof against ${e.proof.payerIdentity}`;
    }
  }
  step('double spend', caught ? `caught at settlement (${caught}); card on the blacklist` : 'NOT caught');
  const { blacklist } = await reader.ledger();
  const refused = await terminal('pos-queue-3.jsonl', blacklist)
    .pay(new DrmbCard(cardStack(cloneOf(imageBeforePurchase))), 1_000)
    .then(() => 'paid')
    .catch((e: Error) => e.name);
  step('blacklist', `a terminal that loaded the blacklist refuses the card: ${refused}`);

  const owners = [CENTRAL_BANK, bankOwner(ISSUING_BANK), bankOwner(MERCHANT_BANK), cardOwner(w.cardId), cardOwner(infoB.cardId!)];
  const ledger = await reader.ledger(owners);
  const registryBalances = ledger.balances;
  const cards = [
    { cardId: w.cardId, balanceFen: cardA.memory.balanceFen },
    { cardId: infoB.cardId!, balanceFen: cardB.memory.balanceFen },
  ];
  const mintedFen = ledger.mintedFen;
  const registryTotal = registryBalances.reduce((s, r) => s + r.balanceFen, 0);
  const cardsMatch = cards.every((c) => registryBalances.find((r) => r.owner === cardOwner(c.cardId))!.balanceFen === c.balanceFen);
  return {
    steps,
    cards,
    registry: registryBalances,
    mintedFen,
    blacklist,
    doubleSpendProofs: ledger.proofs,
    conserved: registryTotal === mintedFen && cardsMatch,
  };
}
