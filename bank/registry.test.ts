/** @module Registry suite on the embedded PGlite (every run) and on a PostgreSQL server when DRMB_TEST_POSTGRES_URL is set. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../base/bytes.js';
import { sm2GenerateKeyPair } from '../crypto/sm2.js';
import { mintCoins } from './mint.js';
import { CENTRAL_BANK, Registry } from './registry.js';
import { registrySuite } from '../test/registry-suite.js';

describe('registry storage', () => {
  const key = sm2GenerateKeyPair();
  const mint = (d: number[]) => mintCoins({ signingKey: { privateKey: key.privateKey, keyIndex: 1 }, mintMaster: randomBytes(16), issueDate: '20260101', expiryDate: '20361231' }, d);

  it('keeps coins and owners across a close and reopen of a PGlite data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drmb-registry-'));
    try {
      const coins = mint([10000, 500]);
      const a = await Registry.open({ dataDir: dir });
      await a.recordMint(coins);
      await a.transfer([coins[1].body.serial], CENTRAL_BANK, 'bank:102100000001');
      await a.close();
      const b = await Registry.open({ dataDir: dir });
      expect(await b.ownerOf(coins[0].body.serial)).toBe(CENTRAL_BANK);
      expect(await b.ownerOf(coins[1].body.serial)).toBe('bank:102100000001');
      expect(await b.balanceOf('bank:102100000001')).toBe(500);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('creates the coins table hash-partitioned by serial when asked, and spreads coins over the partitions', async () => {
    const reg = await Registry.open({ coinPartitions: 4 });
    try {
      const parts = await reg.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_inherits WHERE inhparent = 'coins'::regclass`);
      expect(Number(parts.rows[0].n)).toBe(4);
      await reg.recordMint(mint(new Array(40).fill(100)));
      const spread = await reg.db.query<{ p: string }>('SELECT DISTINCT tableoid::regclass::text AS p FROM coins');
      expect(spread.rows.length).toBeGreaterThan(1);
      expect(await reg.balanceOf(CENTRAL_BANK)).toBe(4000);
    } finally {
      await reg.close();
    }
  }, 60_000);
});

registrySuite('registry on PGlite (in memory)', (opts) => Registry.open(opts), '6212100');
registrySuite('registry on PGlite with the coins table hash-partitioned by serial', (opts) => Registry.open({ ...opts, coinPartitions: 4 }), '6212200');

const url = process.env.DRMB_TEST_POSTGRES_URL;
if (url) {
  // One fresh schema per run, dropped at close, so runs never see each other's coins.
  const schema = `drmb_test_${Buffer.from(randomBytes(6)).toString('hex')}`;
  registrySuite(
    `registry on PostgreSQL (${new URL(url).host}, schema ${schema})`,
    async (opts) => {
      const reg = await Registry.open({ ...opts, connectionString: url, schema });
      const close = reg.close.bind(reg);
      reg.close = async () => {
        await reg.db.exec(`DROP SCHEMA ${schema} CASCADE`);
        await close();
      };
      return reg;
    },
    '6212300',
  );
  const partitioned = `${schema}_p`;
  registrySuite(
    `registry on PostgreSQL, coins partitioned (schema ${partitioned})`,
    async (opts) => {
      const reg = await Registry.open({ ...opts, connectionString: url, schema: partitioned, coinPartitions: 8 });
      const close = reg.close.bind(reg);
      reg.close = async () => {
        await reg.db.exec(`DROP SCHEMA ${partitioned} CASCADE`);
        await close();
      };
      return reg;
    },
    '6212400',
  );
} else if (process.env.CI && process.env.CI !== 'false') {
  // CI starts a server (.ci/run, scripts/postgres/start.sh): a missing one is a failure, not a skip.
  describe('registry on PostgreSQL', () => {
    it('has a server in CI (DRMB_TEST_POSTGRES_URL)', () => {
      expect(url, 'CI must start PostgreSQL with scripts/postgres/start.sh').toBeDefined();
    });
  });
} else {
  describe('registry on PostgreSQL', () => {
    it.skip('skipped: set DRMB_TEST_POSTGRES_URL=postgres://user@host:port/db to run the registry suite on a PostgreSQL server', () => {});
  });
}
