/**
 * @module A complete simulated D-RMB card: journalled persistent memory, card OS and the D-RMB applet,
 * with manufacture (card ID and personalization keys), power control, fault injection and card images;
 * and the factories of its sibling card type, the PSAM (simulated-psam.ts).
 */
import { cardIdCoder } from '../applet-spec/data-objects.js';
import { APP_STATES } from '../applet-spec/lifecycle.js';
import { fromHex } from '../base/hex.js';
import { CardImageError } from './card-image-error.js';
import { CardMemory } from './card-memory.js';
import { DrmbApplet, type DrmbAppletOptions } from './drmb-applet.js';
import { PersistentStore } from './persistent-store.js';
import { SimulatedPsam, type SimulatedPsamOptions } from './simulated-psam.js';
import type { PsamAppletOptions } from './psam-applet.js';
import { SimulatedChip } from './simulated-chip.js';
import { KEY_VERSIONS } from '../applet-spec/commands/initialize-update.js';

/** GlobalPlatform test key 40..4F, the personalization keys of a blank development card. */
export const DEFAULT_PERSONALIZATION_KEY = fromHex('404142434445464748494A4B4C4D4E4F');

/** How a blank simulated card is made: its card ID and its personalization keys (key version 30). */
export interface ManufactureOptions {
  /** 20-digit card ID (also the SCP03 key diversification data) */
  cardId?: string;
  /** key version 30 static keys (AES-128), e.g. diversified from the central bank's master keys */
  personalizationKeys?: { enc: Uint8Array; mac: Uint8Array; dek: Uint8Array };
}

/**
 * Options of a simulated card: an existing memory, how to manufacture a new one, and the applet's
 * options.
 */
export interface SimulatedCardOptions extends DrmbAppletOptions {
  /** existing memory (an image loaded with PersistentStore.fromImage, or a shared store) */
  store?: PersistentStore;
  /** manufacture a blank card with these settings when the store is new */
  manufacture?: ManufactureOptions;
}

/** A simulated D-RMB card on a contact interface (a VirtualCard, through SimulatedChip). */
export class SimulatedCard extends SimulatedChip {
  readonly memory: CardMemory;
  readonly applet: DrmbApplet;

  constructor(options: SimulatedCardOptions = {}) {
    const store = options.store ?? new PersistentStore();
    const memory = new CardMemory(store);
    if (!store.has('card/id')) SimulatedCard.manufacture(store, options.manufacture ?? {});
    const applet = new DrmbApplet(memory, options);
    super(store, applet);
    this.memory = memory;
    this.applet = applet;
  }

  /** Production: card ID, key version 30 personalization keys, state BLANK. */
  static manufacture(store: PersistentStore, o: ManufactureOptions): void {
    const cardId = o.cardId ?? '62' + Array.from({ length: 18 }, () => Math.floor(Math.random() * 10)).join('');
    const k = o.personalizationKeys ?? { enc: DEFAULT_PERSONALIZATION_KEY, mac: DEFAULT_PERSONALIZATION_KEY, dek: DEFAULT_PERSONALIZATION_KEY };
    const memory = new CardMemory(store);
    store.begin();
    store.put('card/id', cardIdCoder.encode(cardId));
    memory.putScpKeys(KEY_VERSIONS.PERSONALIZATION, k);
    store.put('state', Uint8Array.of(APP_STATES.BLANK));
    store.commit();
  }







  /** The card of an image: checksum and structure (PersistentStore.fromImage), then every record (CardMemory.validate). Throws CardImageError. */
  static fromImage(image: Uint8Array, options: Omit<SimulatedCardOptions, 'store'> = {}): SimulatedCard {
    return SimulatedCard.ofLoadedStore(PersistentStore.fromImage(image), options);
  }


  /** The card of an image file, checked as fromImage does; throws CardImageError naming the file. */
  static fromFile(path: string, options: Omit<SimulatedCardOptions, 'store'> = {}): SimulatedCard {
    const store = PersistentStore.loadFromFile(path);
    try {
      return SimulatedCard.ofLoadedStore(store, options);
    } catch (e) {
      throw e instanceof CardImageError ? e.at(path) : e;
    }
  }

  /**
   * A blank simulated PSAM (the POS terminal's second card, simulator/simulated-psam.ts): serial number
   * `psamId`, key version 30 keys as given or the GP test key of a blank development card.
   */
  static psam(o: { psamId: string; personalizationKeys?: ManufactureOptions['personalizationKeys'] } & Omit<SimulatedPsamOptions, 'store' | 'manufacture'>): SimulatedPsam {
    const { psamId, personalizationKeys, ...options } = o;
    const k = personalizationKeys ?? { enc: DEFAULT_PERSONALIZATION_KEY, mac: DEFAULT_PERSONALIZATION_KEY, dek: DEFAULT_PERSONALIZATION_KEY };
    return new SimulatedPsam({ ...options, manufacture: { psamId, personalizationKeys: k } });
  }

  /** The PSAM of an image (SimulatedPsam.fromImage); throws CardImageError. */
  static psamFromImage(image: Uint8Array, options: PsamAppletOptions = {}): SimulatedPsam {
    return SimulatedPsam.fromImage(image, options);
  }

  /** The PSAM of an image file (SimulatedPsam.fromFile); save it with its saveToFile. Throws CardImageError naming the file. */
  static psamFromFile(path: string, options: PsamAppletOptions = {}): SimulatedPsam {
    return SimulatedPsam.fromFile(path, options);
  }

  /** Validates before the constructor runs: a store without a card ID would otherwise be manufactured afresh. */
  private static ofLoadedStore(store: PersistentStore, options: Omit<SimulatedCardOptions, 'store'>): SimulatedCard {
    new CardMemory(store).validate();
    return new SimulatedCard({ ...options, store });
  }
}
