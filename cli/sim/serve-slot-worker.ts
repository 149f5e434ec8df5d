/**
 * @module One slot of a multi-slot `drmb sim serve` (cli/sim/serve-slots.ts), in its own worker thread:
 * the card and its vpcd connection run here, so a card's computation never waits for another's. The
 * parent sends control lines ({ id, line }) and gets { type: 'answer', id, answer }; 'started' or
 * 'failed' once, and 'done' when the slot's session has ended.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startServe, type ServeOptions } from './serve.js';

/** What the parent hears from a slot worker. */
export type SlotWorkerMessage =
  | { type: 'started' }
  | { type: 'failed'; message: string }
  | { type: 'answer'; id: number; answer: string | undefined }
  | { type: 'done' };

if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (m: SlotWorkerMessage): void => port.postMessage(m);
  try {
    const session = await startServe(workerData as ServeOptions);
    port.on('message', ({ id, line }: { id: number; line: string }) => {
      void session
        .control(line)
        .catch((e: unknown) => `error ${(e as Error).message}`)
        .then((answer) => post({ type: 'answer', id, answer }));
    });
    post({ type: 'started' });
    await session.done;
    post({ type: 'done' });
    port.close();
  } catch (e) {
    post({ type: 'failed', message: (e as Error).message });
    port.close();
  }
}
