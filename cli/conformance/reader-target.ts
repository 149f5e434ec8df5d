/**
 * @module A conformance target over a PC/SC reader, with power-cut control when the card in it is
 * served by `drmb sim serve --control-socket PATH` (`--power-control PATH`), so the tear cases run
 * through pcscd too: the cut is armed over the socket, and after it the card, powered up again, is
 * waited for in the reader and reconnected. With `--fresh-images`, each case that needs a card in a
 * lifecycle state gets a fresh one, put in the reader by the serve's `load` control line.
 */
import { existsSync, lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppState } from '../../applet-spec/lifecycle.js';
import type { ConformanceTarget, PowerCut } from '../../conformance/target.js';
import { listReaders, openReader, type ReaderTransport } from '../../host/pcsc.js';
import { type Transport, wrapTransport } from '../../host/transport.js';
import { UsageError } from '../output.js';
import { loadSimImage } from '../sim/load-sim-image.js';
import { connectControl, type ControlClient } from '../sim/serve-control.js';

/** How long restore() waits for pcscd to show the card gone, then back (it polls every 400 ms or so). */
const READER_WAIT_MS = 10_000;

/** Checks `--power-control PATH` before anything connects: one UsageError naming the option. */
export function checkPowerControlPath(path: string): void {
  if (path === '' || path.startsWith('-')) throw new UsageError('--power-control needs the path of a drmb sim serve --control-socket');
  if (!existsSync(path)) throw new UsageError(`--power-control ${path}: no such socket (start drmb sim serve --control-socket ${path})`);
  if (!lstatSync(path).isSocket()) throw new UsageError(`--power-control ${path}: not a Unix domain socket`);
}

/**
 * The `--fresh-images` files by the lifecycle state of their card, as absolute paths (serve may run in
 * another directory). Each must be a valid image, no two in the same state: one UsageError naming the
 * option otherwise. The images are only read, here and by serve's `load`, never written.
 */
export async function freshImagesByState(paths: readonly string[]): Promise<ReadonlyMap<AppState, string>> {
  const byState = new Map<AppState, string>();
  for (const path of paths) {
    let state: AppState;
    try {
      state = (await loadSimImage(path)).memory.state;
    } catch (e) {
      throw new UsageError(`--fresh-images: ${(e as Error).message}`);
    }
    const other = byState.get(state);
    if (other !== undefined) throw new UsageError(`--fresh-images: ${other} and ${resolve(path)} are both ${state} (one image per lifecycle state)`);
    byState.set(state, resolve(path));
  }
  return byState;
}

/** Connects to the control socket; nothing listening is a UsageError naming the option. */
async function connectPowerControl(path: string): Promise<ControlClient> {
  checkPowerControlPath(path);
  try {
    return await connectControl(path);
  } catch (e) {
    throw new UsageError(`--power-control ${path}: nothing answers there (${(e as Error).message}); is drmb sim serve --control-socket ${path} running?`);
  }
}

/** Polls until pcscd shows the reader with a card (present) or without one. */
async function waitCard(readerName: string, present: boolean): Promise<void> {
  const deadline = Date.now() + READER_WAIT_MS;
  for (;;) {
    const r = (await listReaders()).find((x) => x.name === readerName);
    if (r && r.cardPresent === present) return;
    if (Date.now() > deadline) throw new Error(`reader "${readerName}" ${present ? 'shows no card' : 'still shows a card'} after ${READER_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The reader `selector` picks (see pickReader); with `powerControl`, power-cut control through that
 * serve socket, and with `freshImages` as well (from freshImagesByState) a fresh card per case.
 */
export async function readerTarget(selector: string | undefined, powerControl?: string, freshImages?: ReadonlyMap<AppState, string>): Promise<ConformanceTarget> {
  const control = powerControl === undefined ? undefined : await connectPowerControl(powerControl);
  let reader: ReaderTransport;
  try {
    reader = await openReader(selector, { rawResponses: true });
  } catch (e) {
    control?.close();
    throw e;
  }
  const readerName = reader.readerName;
  const description = reader.description;
  if (!control) return { description, transport: async () => reader, close: () => reader.close() };

  // A cut is armed over the socket just before the next command goes out rather than at once, since a
  // tear case arms it synchronously right before sending the command under test: no persistent write
  // happens in between, so "from now" and "from the next command" count the same writes.
  let pendingCut: number | undefined;
  const armed = (t: Transport): Transport =>
    wrapTransport(t, async (command) => {
      if (pendingCut !== undefined) {
        const k = pendingCut;
        pendingCut = undefined;
        // a failure here is a plain Error, never a TransportError a tear case would take for the cut
        await control.request(`cut-after ${k}`);
      }
      return t.transmit(command);
    });
  let current = armed(reader);
  const powerCut: PowerCut = {
    cutAfterWrites(k) {
      if (!Number.isInteger(k) || k < 1) throw new RangeError('cutAfterWrites: k must be an integer >= 1');
      pendingCut = k;
    },
    async restore() {
      pendingCut = undefined;
      await reader.close().catch(() => {}); // after a cut its handle is dead (pcsc-lite: SCARD_W_REMOVED_CARD)
      // Out first, so that pcscd sees the card leave and the power-up is a fresh insertion, whose reset
      // clears the card's RAM (selected application, PIN state, session) as the simulator's power-up does.
      await control.request('remove');
      await waitCard(readerName, false);
      await control.request('power-up');
      await waitCard(readerName, true);
      reader = await openReader(readerName, { rawResponses: true });
      current = armed(reader);
      return current;
    },
  };
  /**
   * Out first and waited for, as in restore(), so that pcscd sees the card leave and the loaded card
   * comes in as a fresh insertion, powered up and reset by pcscd rather than taken for the card before.
   */
  const fresh = async (state: AppState): Promise<Transport | undefined> => {
    const image = freshImages?.get(state);
    if (image === undefined) return undefined;
    pendingCut = undefined;
    await reader.close().catch(() => {});
    await control.request('remove');
    await waitCard(readerName, false);
    await control.request(`load ${image}`);
    await waitCard(readerName, true);
    reader = await openReader(readerName, { rawResponses: true });
    current = armed(reader);
    return current;
  };
  const freshNote = freshImages?.size ? `, fresh cards from ${[...freshImages.keys()].join(', ')} images` : '';
  return {
    description: `${description} (power through ${powerControl}${freshNote})`,
    transport: async () => current,
    ...(freshImages?.size ? { fresh } : {}),
    powerCut,
    async close() {
      control.close();
      await reader.close();
    },
  };
}
