/**
 * @module The KGC as a child process: `drmb kgc serve` with the kgc bundle it is given, through
 * startServiceProcess. The SM9 master keys are loaded in the child only.
 */
import { KgcError } from '../../personalization/kgc-client.js';
import { type ServiceProcess, startServiceProcess } from '../service-process.js';

export interface KgcProcessOptions {
  /** the kgc bundle the child loads its keys and its list of authorised requesters from */
  keys: string;
  /** the KGC's hash-chained audit log */
  audit: string;
  /** each line the KGC logs on its stderr */
  log?: (line: string) => void;
  /** how long to wait for its address (default 30 s) */
  startTimeoutMs?: number;
}

/** The KGC's process. */
export type KgcProcess = ServiceProcess;

/** Starts `drmb kgc serve --keys <keys> --audit <audit>`; a failure to start is a KgcError with the child's last stderr line. */
export function startKgcProcess(o: KgcProcessOptions): Promise<KgcProcess> {
  return startServiceProcess(['kgc', 'serve', '--keys', o.keys, '--audit', o.audit], { log: o.log, startTimeoutMs: o.startTimeoutMs, error: (m) => new KgcError(m) });
}
