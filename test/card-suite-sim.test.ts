/** @module The card-level suite on the in-process simulator. */
import { beforeAll } from 'vitest';
import { directTransport } from '../host/direct-transport.js';
import { getResponse } from '../host/middleware/get-response.js';
import { leRetry } from '../host/middleware/le-retry.js';
import { commandChaining } from '../host/middleware/chaining.js';
import { stack } from '../host/transport.js';
import { SimulatedCard } from '../simulator/simulated-card.js';
import { cardSuite } from './card-suite.js';
import { stateImages } from './state-images.js';

const CARD_ID = '62120000000000000555';
let image: Uint8Array;
beforeAll(() => {
  image = stateImages(CARD_ID).ISSUED;
}, 60_000);

cardSuite('the in-process simulator', async () => stack(directTransport(SimulatedCard.fromImage(image)), getResponse(), leRetry(), commandChaining()), CARD_ID);
