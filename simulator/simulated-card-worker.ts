/** @module Where the simulator's card worker module is, for the host's workerCardTransport. */
import { siblingModule } from '../io/worker-pool.js';

/** The URL of the simulator's card worker (simulator/card-worker.ts): `workerCardTransport(simulatedCardWorker, source)`. */
export const simulatedCardWorker: URL = siblingModule(import.meta.url, 'card-worker');
