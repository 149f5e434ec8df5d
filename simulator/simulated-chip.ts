/**
 * @module SimulatedChip: what every simulated chip of this project shares, the user card and the PSAM
 * alike: journalled persistent memory under the card OS, power control as a reader applies it (power
 * up, power off, warm reset), APDUs in and out, and the image of its persistent memory.
 */
import type { Applet } from './card-os.js';
import { CardOs } from './card-os.js';
import type { PersistentStore } from './persistent-store.js';
import type { VirtualCard } from './virtual-card.js';

/**
 * What a simulated user card and a simulated PSAM share: persistent memory under the card OS, power
 * control, APDUs, and images of the memory.
 */
export abstract class SimulatedChip implements VirtualCard {
  private readonly os: CardOs;

  protected constructor(
    readonly store: PersistentStore,
    applet: Applet,
  ) {
    this.os = new CardOs([applet]);
  }

  get atr(): Uint8Array {
    return this.os.atr;
  }

  powerOn(): Uint8Array {
    if (!this.store.powered) this.store.powerUp();
    return this.os.powerOn();
  }

  powerOff(): void {
    this.os.powerOff();
  }

  reset(): Uint8Array {
    return this.powerOn();
  }

  transmit(command: Uint8Array): Uint8Array {
    if (!this.store.powered) this.store.powerUp();
    return this.os.transmit(command);
  }

  /** The image (persistent memory only; transient state is lost as with a real power-off). */
  toImage(): Uint8Array {
    return this.store.toImage();
  }

  /** Writes the image atomically (PersistentStore.saveToFile); throws CardImageError naming the file. */
  saveToFile(path: string): void {
    this.store.saveToFile(path);
  }
}
