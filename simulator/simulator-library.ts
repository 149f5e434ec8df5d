/**
 * @module The card simulator's public API (package subpath `drmb-toolchain/simulator`): a simulated
 * D-RMB user card and PSAM with journalled persistent memory (saved as checksummed images, with power
 * cuts injectable), the deliberately faulty card variants the conformance suite must catch, a card in
 * a worker thread of its own behind the host's Transport, and the vpcd client that puts a simulated
 * card in a PC/SC reader through vsmartcard.
 */
export { DEFAULT_PERSONALIZATION_KEY, type ManufactureOptions, SimulatedCard, type SimulatedCardOptions } from './simulated-card.js';
export { type PsamManufactureOptions, SimulatedPsam, type SimulatedPsamOptions } from './simulated-psam.js';
export { SimulatedChip } from './simulated-chip.js';
export { type VirtualCard } from './virtual-card.js';
export { type Applet } from './card-os.js';
export { type CardMemory, type RiskParameters } from './card-memory.js';
export { type DrmbApplet } from './drmb-applet.js';
export { type PsamApplet, type PsamAppletOptions } from './psam-applet.js';
export { type PsamMemory } from './psam-memory.js';
export { CardImageError } from './card-image-error.js';
export { PersistentStore, PowerLossError } from './persistent-store.js';
export { CARD_FAULTS, CARD_FAULT_NAMES, type CardFaultName } from './card-faults.js';
export { type ApduEvent, type DisconnectReason, VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT, VpcdClient, type VpcdClientEvents, type VpcdClientOptions } from './vpcd-client.js';
export { type WorkerCardSource } from './card-worker.js';
export { simulatedCardWorker } from './simulated-card-worker.js';
