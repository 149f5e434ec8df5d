/** @module `drmb kgc authorize`: a desk by its key or bundle, a terminal by its key bound to one identity, in the KGC's list. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../../base/hex.js';
import { sm2GenerateKeyPair } from '../../crypto/sm2.js';
import { readAuthorizedDesks } from '../../keys/authorized-desks.js';
import { initKeyDirectory } from '../../personalization/key-ceremony.js';
import { runExport } from '../keys/export.js';
import { runAuthorize } from './authorize.js';

let kgc: string;
let desk: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'drmb-kgc-authorize-'));
  initKeyDirectory(join(dir, 'ceremony'));
  kgc = join(dir, 'kgc');
  desk = join(dir, 'desk');
  runExport({ role: 'kgc', out: kgc, keys: join(dir, 'ceremony') });
  runExport({ role: 'issuance-desk', out: desk, keys: join(dir, 'ceremony') });
}, 60_000);

describe('drmb kgc authorize', () => {
  it('lists a desk without an identity and a terminal bound to its one identity', () => {
    const terminal = sm2GenerateKeyPair();
    expect(runAuthorize({ keys: kgc, deskKey: desk, name: 'desk 1' })).toMatchObject({ desks: 1 });
    expect(runAuthorize({ keys: kgc, terminalKey: hex(terminal.publicKey), identity: 'pos-0001@merchant.example', name: 'terminal 1' })).toMatchObject({ desks: 2, identity: 'pos-0001@merchant.example' });
    const listed = readAuthorizedDesks(join(kgc, 'authorized-desks.json'));
    expect(listed.map((d) => [d.name, d.identity])).toEqual([
      ['desk 1', undefined],
      ['terminal 1', 'pos-0001@merchant.example'],
    ]);
    expect(hex(listed[1]!.publicKey)).toBe(hex(terminal.publicKey));
  });

  it('refuses a terminal key without an identity, a desk key with one, and both or neither key, listing nothing', () => {
    const key = hex(sm2GenerateKeyPair().publicKey);
    const before = readAuthorizedDesks(join(kgc, 'authorized-desks.json')).length;
    expect(() => runAuthorize({ keys: kgc, terminalKey: key, name: 't' })).toThrow('--terminal-key needs --identity');
    expect(() => runAuthorize({ keys: kgc, deskKey: key, identity: 'x', name: 'd' })).toThrow('--identity binds a terminal');
    expect(() => runAuthorize({ keys: kgc, deskKey: key, terminalKey: key, identity: 'x', name: 'd' })).toThrow('give either --desk-key');
    expect(() => runAuthorize({ keys: kgc, name: 'd' })).toThrow('give either --desk-key');
    expect(readAuthorizedDesks(join(kgc, 'authorized-desks.json'))).toHaveLength(before);
  });
});
