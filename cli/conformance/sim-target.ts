/**
 * @module A conformance target over in-process simulated cards: each case gets a fresh card loaded
 * from an image in the state it needs, in memory only, so the images (the tester's files) never change.
 */
import type { AppState } from '../../applet-spec/lifecycle.js';
import { directTransport } from '../../host/direct-transport.js';
import { hostStack } from '../../host/pcsc.js';
import type { Transport } from '../../host/transport.js';
import type { ConformanceTarget } from '../../conformance/target.js';
import type { SimulatedCard } from '../../simulator/simulated-card.js';

/** Wraps a card object on its way to the host stack (tests put a deliberately faulty layer here). */
export type CardWrapper = (card: SimulatedCard) => { transmit(command: Uint8Array): Uint8Array; readonly atr?: Uint8Array };

/** A target over these images (one per state at most; the first of a state wins). */
export async function simTarget(images: readonly Uint8Array[], description: string, wrap?: CardWrapper): Promise<ConformanceTarget> {
  const { SimulatedCard } = await import('../../simulator/simulated-card.js');
  const byState = new Map<AppState, Uint8Array>();
  for (const image of images) {
    const state = SimulatedCard.fromImage(image).memory.state;
    if (!byState.has(state)) byState.set(state, image);
  }
  const open = (image: Uint8Array): Transport => {
    const card = SimulatedCard.fromImage(image);
    const atr = card.powerOn();
    return hostStack(directTransport(wrap ? wrap(card) : card, description), atr);
  };
  let current = open(images[0]);
  return {
    description,
    async transport() {
      return current;
    },
    async fresh(state) {
      const image = byState.get(state);
      if (!image) return undefined;
      current = open(image);
      return current;
    },
    async close() {
      await current.close();
    },
  };
}
