/** @module The role table and bundle manifests: a manifest must list exactly its role's files and kinds; a command loads only keys its role holds, from either a bundle or a ceremony directory. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleFileKinds, bundleManifestToJson, parseBundleManifest, RoleKeys, ROLE_BUNDLES, ROLES, rolesOf } from './role-bundles.js';

const manifest = (role: string, files: { name: string; kind: string }[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: 'drmb-key-bundle', version: 1, role, created: '2026-11-01T09:00:00.000Z', files, ...extra });

const filesOf = (role: (typeof ROLES)[number]) => Object.entries(bundleFileKinds(role)).map(([name, kind]) => ({ name, kind }));

describe('the role table', () => {
  it('gives every role trust anchors and at least one key, and every command to at least one role', () => {
    for (const role of ROLES) {
      expect(ROLE_BUNDLES[role].keys.length, role).toBeGreaterThan(0);
      expect(bundleFileKinds(role)['trust-anchors.json']).toBe('trust-anchors');
      for (const c of ROLE_BUNDLES[role].commands) expect(rolesOf(c)).toContain(role);
    }
    expect(rolesOf('drmb perso issue')).toEqual(['issuance-desk']);
    expect(rolesOf('drmb bank redeem')).toEqual(['bank-vault', 'registry']);
  });

  it('keeps every master the vault or the terminal does not use out of their bundles', () => {
    expect(ROLE_BUNDLES['bank-vault'].keys.map((k) => k.kind)).toEqual(['load-master', 'bank-signing']);
    expect(ROLE_BUNDLES.pos.keys.map((k) => k.kind)).toEqual(['purchase-master']);
    expect(ROLE_BUNDLES['issuance-desk'].keys.map((k) => k.kind)).not.toContain('kgc-sign');
  });
});

describe('bundle.json', () => {
  it('reads back what is written', () => {
    const m = { role: 'pos' as const, created: '2026-11-01T09:00:00.000Z', files: filesOf('pos') };
    expect(parseBundleManifest(bundleManifestToJson(m), 'bundle.json')).toMatchObject(m);
  });

  it('refuses a bundle widened with a key its role does not hold, a file of the wrong kind, and a desk key outside a desk bundle', () => {
    expect(() => parseBundleManifest(manifest('pos', [...filesOf('pos'), { name: 'cb-master.json', kind: 'cb-master' }]), 'b.json')).toThrow(
      'b.json: files: a pos bundle holds exactly purchase-master.json, trust-anchors.json',
    );
    expect(() => parseBundleManifest(manifest('pos', [{ name: 'purchase-master.json', kind: 'cb-master' }, { name: 'trust-anchors.json', kind: 'trust-anchors' }]), 'b.json')).toThrow(
      'purchase-master.json must be of kind purchase-master, not cb-master',
    );
    expect(() => parseBundleManifest(manifest('pos', filesOf('pos'), { deskPublicKey: '04' }), 'b.json')).toThrow('a pos bundle has no desk key');
    expect(() => parseBundleManifest(manifest('cashier', []), 'b.json')).toThrow(/role: must be one of prep-centre, kgc/);
  });
});

describe('RoleKeys', () => {
  it("refuses a key the command's roles do not hold, from a bundle and from a ceremony directory alike", () => {
    const ceremony = mkdtempSync(join(tmpdir(), 'drmb-role-keys-'));
    expect(() => RoleKeys.open(ceremony, 'drmb bank withdraw', {}).key('cb-master')).toThrow(
      'drmb bank withdraw cannot use a cb-master key: its role (bank-vault) holds none (keys/role-bundles.ts)',
    );
    const bundle = join(ceremony, 'pos');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'bundle.json'), manifest('pos', filesOf('pos')));
    expect(() => RoleKeys.open(bundle, 'drmb pos pay', {}).key('load-master')).toThrow('drmb pos pay cannot use a load-master key: a pos bundle holds none');
    expect(() => RoleKeys.open(bundle, 'drmb bank mint', {})).toThrow(`${bundle} is a pos bundle; drmb bank mint needs a registry bundle`);
    expect(() => RoleKeys.open(bundle, 'drmb perso run-script', {})).toThrow('needs a prep-centre or an issuance-desk bundle');
  });
});
