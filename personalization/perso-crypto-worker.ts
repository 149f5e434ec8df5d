/**
 * @module The worker of a PersoCryptoPool (node:worker_threads): answers each task with the same
 * function the calling thread would run (personalization/perso-crypto.ts), and the time it took. The
 * master keys of a task arrive by structured clone and are wiped once it is answered; the card's SCP03
 * keys it answers with are wiped once the answer is posted (the pool's thread then holds the only copy).
 */
import { wipe } from '../base/bytes.js';
import type { CardCertificate } from '../applet-spec/value-formats.js';
import { serveWorkerTasks } from '../io/worker-pool.js';
import type { KeyFile } from '../keys/key-files.js';
import type { TrustAnchors } from '../keys/trust-anchors.js';
import { verifyCardCertificate } from './card-certificate.js';
import { type EncryptedUserKeys, type KeyExtractionRequest, kgcAnswer, type KgcMasterKeys } from './kgc.js';
import { type IssuePlanInput, issuePlan, kgcNoncesOf, type PlanOptions, preparePlan, type PrepareKeys, type StagePlan } from './perso-crypto.js';
import type { PrepareProfile } from './profiles.js';

/** One task of the pool: a method of PersoCrypto and its arguments. */
export type PersoCryptoTask =
  | { kind: 'prepare-plan'; cardId: string; profile: PrepareProfile; keys: PrepareKeys; options?: PlanOptions }
  | { kind: 'issue-plan'; input: IssuePlanInput; issuanceMaster: KeyFile<'issuance-master'> }
  | { kind: 'verify-certificate'; value: Uint8Array; certSigning: TrustAnchors['certSigning']; cardId: string }
  | { kind: 'kgc-answer'; master: KgcMasterKeys; anchors: Pick<TrustAnchors, 'certSigning'>; request: KeyExtractionRequest; today: string; options?: PlanOptions };

/** A task's result and the milliseconds the worker spent computing it (the host CPU it cost). */
export interface PersoCryptoAnswer {
  value: StagePlan | CardCertificate | EncryptedUserKeys;
  ms: number;
}

/** Wipes every secret byte array of a key file received by structured clone. */
function wipeKeyFile(k: { secret: object }): void {
  for (const v of Object.values(k.secret)) if (v instanceof Uint8Array) wipe(v);
}

function compute(task: PersoCryptoTask): PersoCryptoAnswer['value'] {
  switch (task.kind) {
    case 'prepare-plan':
      try {
        return preparePlan(task.cardId, task.profile, task.keys, task.options);
      } finally {
        wipeKeyFile(task.keys.cbMaster);
        wipeKeyFile(task.keys.issuanceMaster);
        wipeKeyFile(task.keys.certSigning);
      }
    case 'issue-plan':
      try {
        return issuePlan(task.input, task.issuanceMaster);
      } finally {
        wipeKeyFile(task.issuanceMaster);
      }
    case 'verify-certificate':
      return verifyCardCertificate(task.value, [task.certSigning], task.cardId);
    case 'kgc-answer':
      try {
        return kgcAnswer(task.master, task.anchors, task.request, task.today, kgcNoncesOf(task.options)).keys;
      } finally {
        wipe(task.master.signPrivateKey, task.master.encryptPrivateKey);
      }
  }
}

serveWorkerTasks(
  () => undefined,
  (_state, task: PersoCryptoTask): PersoCryptoAnswer => {
    const t0 = performance.now();
    const value = compute(task);
    return { value, ms: performance.now() - t0 };
  },
  (answer) => {
    if ('scpKeys' in answer.value) wipe(answer.value.scpKeys.enc, answer.value.scpKeys.mac, answer.value.scpKeys.dek);
  },
);
