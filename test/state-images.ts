/** @module Card images in every lifecycle state (BLANK, PREPARED, ISSUED with coins, LOCKED, TERMINATED), built over APDUs. */
import type { AppState } from '../applet-spec/lifecycle.js';
import { DRMB_AID } from '../applet-spec/commands/aid.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { cmd, identityFor, issueCard, lineMac, loadCoins, mintCoin, openChannel, PERSO_KEYS, prepareCard, purchase, selectApplet, send, sendSecure, systemKeys } from './card-fixture.js';

/** One image per lifecycle state; the ISSUED card holds coins and the PIN is 123456. */
export function stateImages(cardId = '62120000000000000777'): Record<AppState, Uint8Array> {
  const card = new SimulatedCard({ manufacture: { cardId } });
  const BLANK = card.toImage();
  const { cardKey } = prepareCard(card, cardId);
  const PREPARED = card.toImage();
  issueCard(card, identityFor(cardId), cardKey.publicKey);
  selectApplet(card);
  if (loadCoins(card, [mintCoin(10000), mintCoin(5000), mintCoin(2000), mintCoin(100)]).sw !== 0x9000) throw new Error('load failed');
  const ISSUED = card.toImage();

  const locked = SimulatedCard.fromImage(ISSUED);
  selectApplet(locked);
  const challenge = (send(locked, cmd('getChallenge'), {}).value as { challenge: Uint8Array }).challenge;
  const mac = lineMac(systemKeys().appKeys.issuerMac, challenge, [0x84, 0x1e, 0x00, 0x00], new Uint8Array(0));
  if (send(locked, cmd('applicationBlock'), { mac }).sw !== 0x9000) throw new Error('block failed');
  const LOCKED = locked.toImage();

  // Terminate: spend every coin, then SET STATUS over a secure channel.
  const term = SimulatedCard.fromImage(ISSUED);
  selectApplet(term);
  send(term, cmd('verify'), { pin: '123456' });
  if (purchase(term, 17100).sw !== 0x9000) throw new Error('spend failed');
  selectApplet(term);
  const host = openChannel(term, PERSO_KEYS, 0x30);
  const r = sendSecure(term, host, cmd('setStatus').encodeBytes({ aid: DRMB_AID }, { secure: false }));
  if (r.sw !== 0x9000) throw new Error(`terminate failed ${r.sw.toString(16)}`);
  const TERMINATED = term.toImage();
  return { BLANK, PREPARED, ISSUED, LOCKED, TERMINATED };
}
