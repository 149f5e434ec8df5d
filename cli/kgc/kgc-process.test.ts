/** @module The KGC as a child process: it reports its address and keys, answers as its own process, stops on SIGTERM, and a child that cannot start is reported with its own refusal. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { KgcError } from '../../personalization/kgc-client.js';
import { runExport } from '../keys/export.js';
import { startKgcProcess } from './kgc-process.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-kgc-process-'));
  initKeyDirectory(join(dir, 'ceremony'));
  runExport({ role: 'kgc', out: join(dir, 'kgc'), keys: join(dir, 'ceremony') });
}, 60_000);

describe('startKgcProcess (slow: starts drmb kgc serve under node)', () => {
  it('runs drmb kgc serve as another process that reports its address and keys, answers on it, and exits 0 when stopped', async () => {
    const kgc = await startKgcProcess({ keys: join(dir, 'kgc'), audit: join(dir, 'audit.log') });
    let stopped = false;
    try {
      expect(kgc.pid).not.toBe(process.pid);
      expect(kgc.keys.map((k) => k.kind)).toEqual(['kgc-sign', 'kgc-encrypt']);
      const res = await fetch(`${kgc.url}/v1/user-keys`, { method: 'POST', body: '{}' });
      expect([res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([400, 'bad-request']);
      expect(await kgc.stop()).toBe(0);
      stopped = true;
      expect(() => process.kill(kgc.pid, 0)).toThrow(/ESRCH/);
      expect(readFileSync(join(dir, 'audit.log'), 'utf8')).toContain('"code":"bad-request"');
    } finally {
      if (!stopped) await kgc.stop();
    }
  }, 60_000);

  it("rejects with the child's own refusal when it exits before listening", async () => {
    const broken = join(dir, 'kgc-without-desks');
    runExport({ role: 'kgc', out: broken, keys: join(dir, 'ceremony') });
    rmSync(join(broken, 'authorized-desks.json'));
    const failed = await startKgcProcess({ keys: broken, audit: join(dir, 'other.log') }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(KgcError);
    expect((failed as Error).message).toMatch(/^drmb kgc serve exited with code 2 before listening: drmb: .*authorized-desks\.json does not exist/);
  }, 60_000);
});
