/**
 * @module A conformance target over in-process simulated cards: each case gets a fresh card loaded
 * from an image in the state it needs, in memory only, so the images (the tester's files) never change.
 * Power can be cut after the card's k-th persistent write (the simulator's fault injection), so the
 * tear cases run here.
 */
import type { AppState } from '../../applet-spec/lifecycle.js';
import { directTransport } from '../../host/direct-transport.js';
import { hostStack } from '../../host/pcsc.js';
import type { Transport } from '../../host/transport.js';
import type { ConformanceTarget } from '../../conformance/target.js';
import type { PersistentStore } from '../../simulator/persistent-store.js';
import type { SimulatedCard } from '../../simulator/simulated-card.js';

/**
 * A card object on its way to the host stack (tests put a deliberately faulty layer here). `store` is
 * the memory a power cut acts on when the wrapper puts another card in place; by default the card's own.
 */
export interface WrappedCard {
  transmit(command: Uint8Array): Uint8Array;
  readonly atr?: Uint8Array;
  readonly store?: PersistentStore;
  /** power-up of the card put in place (the wrapped card's own otherwise): resets its RAM, answers the ATR */
  powerOn?(): Uint8Array;
}

/** Wraps a card object on its way to the host stack. */
export type CardWrapper = (card: SimulatedCard) => WrappedCard;

/** A target over these images (one per state at most; the first of a state wins). */
export async function simTarget(images: readonly Uint8Array[], description: string, wrap?: CardWrapper): Promise<ConformanceTarget> {
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  const byState = new Map<AppState, Uint8Array>();
  for (const image of images) {
    const state = SimulatedCard.fromImage(image).memory.state;
    if (!byState.has(state)) byState.set(state, image);
  }
  /** The card on the host side, and the card object with the memory behind it. */
  const connect = (card: WrappedCard, atr: Uint8Array): Transport => hostStack(directTransport(card, description), atr, { rawResponses: true });
  const open = (image: Uint8Array): { card: WrappedCard; store: PersistentStore; powerOn: () => Uint8Array; transport: Transport } => {
    const simulated = SimulatedCard.fromImage(image);
    const atr = simulated.powerOn();
    const card = wrap ? wrap(simulated) : simulated;
    const powerOn = card.powerOn ? () => card.powerOn!() : () => simulated.powerOn();
    return { card, store: card.store ?? simulated.store, powerOn, transport: connect(card, atr) };
  };
  let current = open(images[0]);
  return {
    description,
    async transport() {
      return current.transport;
    },
    async fresh(state) {
      const image = byState.get(state);
      if (!image) return undefined;
      current = open(image);
      return current.transport;
    },
    powerCut: {
      cutAfterWrites(k) {
        current.store.cutPowerAfterWrites(k);
      },
      async restore() {
        // Power-up rolls an interrupted transaction back (JCRE 7.6); the card's RAM (session, PIN state) is gone.
        current.store.disarm();
        if (!current.store.powered) current.store.powerUp();
        const atr = current.powerOn();
        await current.transport.close();
        current = { ...current, transport: connect(current.card, atr) };
        return current.transport;
      },
    },
    async close() {
      await current.transport.close();
    },
  };
}
