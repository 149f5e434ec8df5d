/**
 * @module WorkerPool: a fixed number of node:worker_threads workers running one module, each task sent to
 * the worker with the fewest in flight and answered by a promise; `serveWorkerTasks` is the worker's side.
 * A module given as TypeScript source (tests, benchmarks, `tsx`) is loaded through tsx's loader; the built
 * program runs its compiled .js module directly.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** A task's answer from the worker: its result, or the message of what the handler threw. */
type Answer<R> = { id: number; ok: true; result: R } | { id: number; ok: false; error: string };

interface Slot<R> {
  worker: Worker;
  inFlight: Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>;
  /** why the worker stopped (an error, an exit); its tasks go to the others */
  dead?: Error;
}

/** A worker's handler threw: the message is the handler's. */
export class WorkerTaskError extends Error {
  override readonly name = 'WorkerTaskError';
}

/** The worker pool size for "all cores": the cores node says this process may use. */
export const allCores = (): number => availableParallelism();

/** URL of tsx's ESM API module ('tsx/esm/api', import condition), found through tsx's package.json. */
function tsxEsmApi(): string {
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports['./esm/api'].import.default, pathToFileURL(pkgPath)).href;
}

/**
 * The URL of the module `name` beside the module at `here` (pass `import.meta.url`): `name.ts` when
 * running from source, `name.js` when built.
 */
export function siblingModule(here: string, name: string): URL {
  return new URL(`./${name}${here.endsWith('.ts') ? '.ts' : '.js'}`, here);
}

/** Starts `moduleUrl` in a worker, through tsx's loader when it is TypeScript source. */
export function startWorker(moduleUrl: URL, data: unknown): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, { workerData: data });
  // Node does not run .ts: register tsx in the worker first (a development dependency, present
  // wherever the sources run), then import the module.
  const boot = `import(${JSON.stringify(tsxEsmApi())}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** `size` workers of one module (see serveWorkerTasks); close() when done, or the process stays up. */
export class WorkerPool<T, R> {
  readonly size: number;
  readonly #slots: Slot<R>[] = [];
  #nextId = 1;
  #closed = false;

  /** `data` reaches every worker as its workerData (structured clone). */
  constructor(moduleUrl: URL, opts: { size: number; data?: unknown }) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError('worker pool size must be a positive integer');
    this.size = opts.size;
    for (let i = 0; i < opts.size; i++) {
      const slot: Slot<R> = { worker: startWorker(moduleUrl, opts.data), inFlight: new Map() };
      slot.worker.on('message', (a: Answer<R>) => {
        const p = slot.inFlight.get(a.id);
        if (!p) return;
        slot.inFlight.delete(a.id);
        if (a.ok) p.resolve(a.result);
        else p.reject(new WorkerTaskError(a.error));
      });
      // A worker that dies takes its tasks with it: they fail, and the others take the next ones.
      const fail = (e: Error) => {
        slot.dead ??= e;
        for (const p of slot.inFlight.values()) p.reject(e);
        slot.inFlight.clear();
      };
      slot.worker.on('error', fail);
      slot.worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
      this.#slots.push(slot);
    }
  }

  /** Runs one task on the least busy worker; fails when every worker has stopped. */
  run(task: T): Promise<R> {
    if (this.#closed) return Promise.reject(new Error('worker pool is closed'));
    const live = this.#slots.filter((s) => !s.dead);
    if (live.length === 0) return Promise.reject(new Error(`every worker of the pool stopped: ${this.#slots[0].dead!.message}`));
    let slot = live[0];
    for (const s of live) if (s.inFlight.size < slot.inFlight.size) slot = s;
    const id = this.#nextId++;
    return new Promise<R>((resolve, reject) => {
      slot.inFlight.set(id, { resolve, reject });
      slot.worker.postMessage({ id, task });
    });
  }

  /** Stops every worker; tasks still in flight fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}

/**
 * The worker's side: calls `init(workerData)` once, then answers each task of the pool with
 * `handle(state, task)` (a thrown error answers its message). `afterAnswer(result)` runs once the
 * answer is posted (it has been copied out by then): where a worker wipes the secrets it answered
 * with. Does nothing on the main thread.
 */
export function serveWorkerTasks<S, T, R>(init: (data: unknown) => S, handle: (state: S, task: T) => R, afterAnswer?: (result: R) => void): void {
  if (isMainThread || !parentPort) return;
  const port = parentPort;
  const state = init(workerData);
  port.on('message', ({ id, task }: { id: number; task: T }) => {
    let answer: Answer<R>;
    try {
      answer = { id, ok: true, result: handle(state, task) };
    } catch (e) {
      answer = { id, ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(answer);
    if (answer.ok) afterAnswer?.(answer.result);
  });
}
