/**
 * @module Test helpers for value commands interrupted at the host or at the card: drmb run in a child
 * process that a test kills at a named point (cli/test-kill-point.ts), and a transport over a
 * simulated card that cuts its power after the k-th persistent write of one command.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeCommandApdu } from '../applet-spec/codec/apdu.js';
import { directTransport } from '../host/direct-transport.js';
import { hostStack } from '../host/pcsc.js';
import type { ExclusiveTransport } from '../host/exclusive-transport.js';
import type { SimulatedCard } from '../simulator/simulated-card.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = `const { main } = await import(${JSON.stringify(join(ROOT, 'cli', 'drmb.ts'))}); await main(['node', 'drmb', ...process.argv.slice(1)]);`;

/**
 * drmb from source in a child process with `args`, awaited without blocking this process (a registry
 * service the child talks to may run here); resolves with the signal that ended it and its stderr.
 */
export function drmbChild(args: string[], env: Record<string, string> = {}): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (_code, signal) => resolve({ signal, stderr })));
}

/**
 * A host stack over `sim` that cuts the power after write k of the first command with instruction
 * `ins`, and only within it; `fired()` tells whether the cut happened (k beyond the command's writes:
 * no cut, and the command completes).
 */
export function tornTransport(sim: SimulatedCard, ins: number, k: number): { transport: ExclusiveTransport; fired: () => boolean } {
  let armed = false;
  let fired = false;
  const transport = hostStack(
    directTransport(
      {
        atr: sim.atr,
        transmit(apdu: Uint8Array) {
          const a = decodeCommandApdu(apdu);
          const target = !armed && a.ins === ins && !(a.cla & 0x10);
          if (target) {
            armed = true;
            sim.store.cutPowerAfterWrites(k);
          }
          try {
            return sim.transmit(apdu);
          } catch (e) {
            if (target) fired = true;
            throw e;
          } finally {
            if (target) sim.store.disarm();
          }
        },
      },
      'card with a power cut',
    ),
    sim.powerOn(),
  );
  return { transport, fired: () => fired };
}
