/** @module Where the registry is: --registry, else $DRMB_REGISTRY, else under the user's data directory (XDG), never the current folder. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRegistryAt, registryDirOf, registryUrlOf, shownUrl } from './registry-options.js';

describe('the registry location', () => {
  it('takes --registry, else $DRMB_REGISTRY, else $XDG_DATA_HOME/drmb/registry, else ~/.local/share/drmb/registry', () => {
    expect(registryDirOf({ registry: 'here' }, { DRMB_REGISTRY: '/var/drmb', XDG_DATA_HOME: '/xdg' })).toBe(resolve('here'));
    expect(registryDirOf({}, { DRMB_REGISTRY: '/var/drmb', XDG_DATA_HOME: '/xdg' })).toBe('/var/drmb');
    expect(registryDirOf({}, { XDG_DATA_HOME: '/xdg' })).toBe('/xdg/drmb/registry');
    expect(registryDirOf({}, {})).toBe(join(homedir(), '.local', 'share', 'drmb', 'registry'));
  });

  it('takes a PostgreSQL registry from --registry-url, else $DRMB_REGISTRY_URL, and shows it without its password', () => {
    expect(registryUrlOf({}, { DRMB_REGISTRY_URL: 'postgres://a@h/db' })).toBe('postgres://a@h/db');
    expect(registryUrlOf({ registryUrl: 'postgres://b@h/db' }, { DRMB_REGISTRY_URL: 'postgres://a@h/db' })).toBe('postgres://b@h/db');
    expect(registryUrlOf({}, {})).toBeUndefined();
    expect(shownUrl('postgres://drmb:secret@db.example:5432/registry')).toBe('postgres://drmb@db.example:5432/registry');
  });

  it('shows each server of a registry across servers without its password', () => {
    expect(shownUrl('postgres://drmb:secret@db1:5432/registry,postgres://drmb:secret@db2:5432/registry')).toBe('postgres://drmb@db1:5432/registry,postgres://drmb@db2:5432/registry');
  });
});

describe('a registry across servers from --registry-url', () => {
  // The servers of bank/sharded-registry.test.ts, which fails in CI when they are missing.
  const shards = process.env.DRMB_TEST_POSTGRES_SHARDS;
  it.skipIf(!shards)('opens the registry across every server of a comma-separated --registry-url (needs DRMB_TEST_POSTGRES_SHARDS)', async () => {
    const schema = `drmb_cli_${process.pid}_${Date.now()}`;
    const reg = await openRegistryAt({ url: shards!, dir: '/nonexistent' }, { schema });
    try {
      expect(reg.db.servers).toBe(shards!.split(',').length);
      expect(await reg.mintedTotal()).toBe(0);
    } finally {
      await reg.db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await reg.close();
    }
  });
});
