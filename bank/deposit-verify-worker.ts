/**
 * @module The registry's verification worker (node:worker_threads, started by Registry with
 * `verifyWorkers`): builds the coin verifiers (precomputed tables) and the denomination keys once from
 * its workerData, then answers each deposit with verifyDeposit's VerifiedPacket. A packet that fails
 * answers an error; the registry then verifies it again in its own thread to throw the exact
 * RegistryError (errors do not cross threads with their class).
 */
import { serveWorkerTasks } from '../io/worker-pool.js';
import { coinVerifiers } from '../coins/check-coin.js';
import { DenominationKeys } from './mint.js';
import { type DepositEvidence, type VerifiedPacket, verifyDeposit } from './verify-deposit.js';

/** What the registry hands each worker: its trust anchors and settings (RegistryOpenOptions). */
export interface DepositVerifyWorkerData {
  coinKeys: { keyIndex: number; publicKey: Uint8Array }[];
  kgcSignMasterPublicKey: Uint8Array;
  verification?: 'precomputed' | 'plain';
  windowBits: number;
  /** the mint master, when the registry holds it (a central-bank secret: it stays in this process) */
  mintMaster?: Uint8Array;
}

export interface DepositVerifyTask {
  packet: Uint8Array;
  evidence: DepositEvidence;
}

serveWorkerTasks(
  (data) => {
    const d = data as DepositVerifyWorkerData;
    return {
      anchors: { coinVerifier: coinVerifiers(d.coinKeys, d.verification, d.windowBits), kgcSignMasterPublicKey: d.kgcSignMasterPublicKey },
      keys: d.mintMaster ? new DenominationKeys(d.mintMaster) : undefined,
    };
  },
  (s, t: DepositVerifyTask): VerifiedPacket => verifyDeposit(t.packet, t.evidence, s.anchors, s.keys),
);
