/**
 * @module PersoCryptoPool: the host's per-card computation of personalization (PersoCrypto) in worker
 * threads, one per core by default, so that a batch over several cards keeps every core busy while the
 * calling thread only talks to the cards. Keys go to the workers by structured clone with each task.
 */
import { allCores, siblingModule, WorkerPool, WorkerTaskError } from '../io/worker-pool.js';
import type { CardCertificate } from '../applet-spec/value-formats.js';
import type { KeyFile } from '../keys/key-files.js';
import { PersoError } from './card-prep.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import type { EncryptedUserKeys, KeyExtractionRequest, KgcMasterKeys } from './kgc.js';
import { type IssuePlanInput, type PersoCrypto, PersoCryptoError, type PlanOptions, type PrepareKeys, type StagePlan } from './perso-crypto.js';
import type { PersoCryptoAnswer, PersoCryptoTask } from './perso-crypto-worker.js';
import type { PrepareProfile } from './profiles.js';

/** How many workers a PersoCryptoPool starts. */
export interface PersoCryptoPoolOptions {
  /** worker threads, at least 1 (default: one per core, allCores()) */
  size?: number;
}

/**
 * PersoCrypto in `size` worker threads; close() when done, or the process stays up. A task whose
 * computation throws fails with PersoError carrying the same message it has in the calling thread;
 * a task whose worker stops (or a pool already closed) fails with PersoCryptoError, never hangs.
 */
export class PersoCryptoPool implements PersoCrypto {
  readonly size: number;
  readonly #pool: WorkerPool<PersoCryptoTask, PersoCryptoAnswer>;
  #workerMs = 0;
  #tasks = 0;

  constructor(options: PersoCryptoPoolOptions = {}) {
    this.size = options.size ?? allCores();
    this.#pool = new WorkerPool(siblingModule(import.meta.url, 'perso-crypto-worker'), { size: this.size });
  }

  /** Tasks answered so far, and the milliseconds the workers spent computing them (the host CPU they cost). */
  get usage(): { tasks: number; workerMs: number } {
    return { tasks: this.#tasks, workerMs: this.#workerMs };
  }

  async #run(task: PersoCryptoTask): Promise<PersoCryptoAnswer['value']> {
    let answer: PersoCryptoAnswer;
    try {
      answer = await this.#pool.run(task);
    } catch (e) {
      if (e instanceof WorkerTaskError) throw new PersoError(e.message, undefined, e);
      throw new PersoCryptoError(`the host crypto worker failed (${(e as Error).message})`, { cause: e });
    }
    this.#tasks++;
    this.#workerMs += answer.ms;
    return answer.value;
  }

  /** preparePlan in a worker. */
  async preparePlan(cardId: string, profile: PrepareProfile, keys: PrepareKeys, options?: PlanOptions): Promise<StagePlan> {
    return (await this.#run({ kind: 'prepare-plan', cardId, profile, keys, ...(options ? { options } : {}) })) as StagePlan;
  }

  /** issuePlan in a worker. */
  async issuePlan(input: IssuePlanInput, issuanceMaster: KeyFile<'issuance-master'>): Promise<StagePlan> {
    return (await this.#run({ kind: 'issue-plan', input, issuanceMaster })) as StagePlan;
  }

  /** verifyCardCertificate in a worker. */
  async verifyCertificate(value: Uint8Array, certSigning: TrustAnchors['certSigning'], cardId: string): Promise<CardCertificate> {
    return (await this.#run({ kind: 'verify-certificate', value, certSigning, cardId })) as CardCertificate;
  }

  /** The KGC's rule in a worker. Security: the KGC master keys cross to the worker, which wipes its copy once it has answered. */
  async kgcAnswer(master: KgcMasterKeys, anchors: Pick<TrustAnchors, 'certSigning'>, request: KeyExtractionRequest, today: string, options?: PlanOptions): Promise<EncryptedUserKeys> {
    const m = { signPrivateKey: master.signPrivateKey, encryptPrivateKey: master.encryptPrivateKey };
    return (await this.#run({ kind: 'kgc-answer', master: m, anchors: { certSigning: anchors.certSigning }, request, today, ...(options ? { options } : {}) })) as EncryptedUserKeys;
  }

  /** Stops the workers; tasks in flight fail with PersoCryptoError. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
