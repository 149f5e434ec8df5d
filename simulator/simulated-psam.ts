/**
 * @module A complete simulated D-RMB PSAM: journalled persistent memory, the card OS and the PSAM applet,
 * with manufacture (serial number and personalization keys), power control and PSAM images. The PSAM
 * sits in the POS terminal's second reader slot (applet-spec/psam-commands.ts).
 */
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';
import { APP_STATES } from '../applet-spec/lifecycle.js';
import { CardImageError } from './card-image-error.js';
import { PersistentStore } from './persistent-store.js';
import { PsamApplet, type PsamAppletOptions } from './psam-applet.js';
import { PsamMemory } from './psam-memory.js';
import { SimulatedChip } from './simulated-chip.js';

/** How a blank simulated PSAM is made: its serial number and its personalization keys. */
export interface PsamManufactureOptions {
  /** 20-digit serial number (the SCP03 key diversification data, as a card's card ID) */
  psamId: string;
  /** key version 30 static keys (AES-128), e.g. diversified from the central bank's master keys by the serial number */
  personalizationKeys: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };
}

/**
 * Options of a simulated PSAM: an existing memory, how to manufacture a new one, and the applet's
 * options.
 */
export interface SimulatedPsamOptions extends PsamAppletOptions {
  /** existing memory (an image loaded with PersistentStore.fromImage) */
  store?: PersistentStore;
  /** manufacture a blank PSAM with these settings when the store is new */
  manufacture?: PsamManufactureOptions;
}

/** A simulated D-RMB PSAM on a contact interface (a VirtualCard, through SimulatedChip). */
export class SimulatedPsam extends SimulatedChip {
  readonly memory: PsamMemory;
  readonly applet: PsamApplet;

  constructor(options: SimulatedPsamOptions) {
    const store = options.store ?? new PersistentStore();
    const memory = new PsamMemory(store);
    if (!store.has('card/id')) {
      if (!options.manufacture) throw new TypeError('SimulatedPsam: a new PSAM needs its manufacture options');
      SimulatedPsam.manufacture(store, options.manufacture);
    }
    const applet = new PsamApplet(memory, options);
    super(store, applet);
    this.memory = memory;
    this.applet = applet;
  }

  /** Production: serial number, key version 30 personalization keys, state BLANK, sequence number 0. */
  static manufacture(store: PersistentStore, o: PsamManufactureOptions): void {
    const memory = new PsamMemory(store);
    store.begin();
    store.put('card/id', cardIdCoder.encode(o.psamId));
    memory.gp.putScpKeys(KEY_VERSIONS.PERSONALIZATION, o.personalizationKeys);
    store.put('state', Uint8Array.of(APP_STATES.BLANK));
    memory.setSequence(0);
    store.commit();
  }








  /** The PSAM of an image: checksum and structure, then every record (PsamMemory.validate). Throws CardImageError. */
  static fromImage(image: Uint8Array, options: PsamAppletOptions = {}): SimulatedPsam {
    return SimulatedPsam.ofLoadedStore(PersistentStore.fromImage(image), options);
  }

  /** The PSAM of an image file, checked as fromImage does; throws CardImageError naming the file. */
  static fromFile(path: string, options: PsamAppletOptions = {}): SimulatedPsam {
    const store = PersistentStore.loadFromFile(path);
    try {
      return SimulatedPsam.ofLoadedStore(store, options);
    } catch (e) {
      throw e instanceof CardImageError ? e.at(path) : e;
    }
  }

  private static ofLoadedStore(store: PersistentStore, options: PsamAppletOptions): SimulatedPsam {
    if (!store.has('card/id')) throw CardImageError.damaged('record card/id: missing on a PSAM');
    new PsamMemory(store).validate();
    return new SimulatedPsam({ ...options, store });
  }
}
