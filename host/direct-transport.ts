/**
 * @module A transport over a card object in the same process (the simulator, or any object with
 * transmit): the in-process backend. Errors the card throws (e.g. a simulated power cut) become
 * TransportError('removed'), as a pulled card would.
 */
import { TransportError } from './errors.js';
import type { Transport } from './transport.js';

/** What the host needs of an in-process card; the simulator's VirtualCard has this shape. */
export interface DirectCard {
  transmit(command: Uint8Array): Uint8Array | Promise<Uint8Array>;
  readonly atr?: Uint8Array;
}

/**
 * A Transport to a card object in this process (a SimulatedCard or SimulatedPsam, or anything with
 * transmit); what the card throws becomes TransportError('removed').
 */
export function directTransport(card: DirectCard, description = 'in-process card'): Transport & { readonly atr?: Uint8Array } {
  let closed = false;
  return {
    description,
    get atr() {
      return card.atr;
    },
    async transmit(command: Uint8Array): Promise<Uint8Array> {
      if (closed) throw new TransportError(`${description} is closed`, undefined, 'closed');
      try {
        return await card.transmit(command);
      } catch (e) {
        throw new TransportError(`${description}: card lost (${(e as Error).message})`, e, 'removed');
      }
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}
