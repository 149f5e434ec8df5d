/** @module `drmb kgc serve`: the KGC as its own process, answering the issuance desks' signed key-extraction requests on 127.0.0.1 (personalization/kgc-service.ts) with the keys of a kgc bundle. */
import { existsSync } from 'node:fs';
import type { Command as Cli } from 'commander';
import { AUTHORIZED_DESKS_FILE } from '../../keys/authorized-desks.js';
import { type KeyKind, keyShown, wipeKeyFile } from '../../keys/key-files.js';
import { RoleKeys } from '../../keys/role-bundles.js';
import { type KgcService, startKgcService } from '../../personalization/kgc-service.js';
import { keyDirOf, portOf, untilSignal, withJson, withKeys } from '../options.js';
import { emit, UsageError } from '../output.js';

export interface KgcServeOptions {
  keys?: string;
  port: string;
  audit: string;
  json?: boolean;
}

/** The KGC service with the keys it loaded, by kind and KCV (no secret). */
export interface KgcServiceWithKeys extends KgcService {
  keys: { kind: KeyKind; kcv: Record<string, string> }[];
}

/**
 * Starts the service with the keys of the kgc bundle (or a ceremony directory holding an
 * authorized-desks.json); `log` gets one line per request. Security: the KGC master keys stay in
 * this process; the copies read from the key files are wiped when the service closes.
 */
export async function startKgcFromKeys(o: KgcServeOptions, log?: (line: string) => void): Promise<KgcServiceWithKeys> {
  const port = portOf(o.port);
  const keys = RoleKeys.open(keyDirOf(o), 'drmb kgc serve');
  const desksPath = keys.file(AUTHORIZED_DESKS_FILE);
  if (!existsSync(desksPath)) throw new UsageError(`${desksPath} does not exist: export a kgc bundle (drmb keys export --role kgc) and authorise desks with drmb kgc authorize`);
  const sign = keys.key('kgc-sign');
  const encrypt = keys.key('kgc-encrypt');
  const service = await startKgcService({
    master: { signPrivateKey: sign.secret.privateKey, encryptPrivateKey: encrypt.secret.privateKey },
    anchors: keys.trustAnchors(),
    desksPath,
    auditPath: o.audit,
    port,
    log,
  });
  const held = [sign, encrypt].map(keyShown);
  return {
    ...service,
    keys: held,
    close: async () => {
      await service.close();
      wipeKeyFile(sign);
      wipeKeyFile(encrypt);
    },
  };
}

export function registerKgcServe(kgc: Cli): void {
  const cmd = kgc
    .command('serve')
    .description("run the KGC: answer the authorised desks' signed key-extraction requests over HTTP on 127.0.0.1 until interrupted")
    .option('--port <n>', 'TCP port on 127.0.0.1 (0: any free port)', '8790')
    .option('--audit <file>', "the KGC's hash-chained audit log", 'kgc-audit.log');
  withJson(withKeys(cmd, 'a kgc bundle (drmb keys export --role kgc)'), 'print the address as JSON').action(async (o: KgcServeOptions) => {
    const service = await startKgcFromKeys(o, (line) => process.stderr.write(`${line}\n`));
    emit({ url: service.url, port: service.port, pid: process.pid, keys: service.keys }, !!o.json, (r) => `KGC listening on ${r.url} (POST /v1/user-keys, /v1/terminal-keys) with ${r.keys.map((k) => k.kind).join(', ')}; Ctrl-C stops it`);
    await untilSignal();
    await service.close();
  });
}
