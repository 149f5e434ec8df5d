/** @module ValueJournal: intents durable and owner-only, closed with their outcome, untouched by a failed write, and read back after a crash at any point of a close. */
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { defaultJournalDir, JournalError, ValueJournal } from './value-journal.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, fsyncSync: vi.fn(real.fsyncSync) };
});

const A = '62120000000000008001';
const newJournal = () => {
  const j = new ValueJournal(join(mkdtempSync(join(tmpdir(), 'drmb-journal-')), 'journal'));
  expect(j.prepare()).toBeUndefined();
  return j;
};
const transferIntent = { cardId: A, type: 'TRANSFER' as const, counter: 7, amountFen: 10_000, destination: '/payments/p.bin', detail: { payeeCardId: '62120000000000008002' } };

describe('ValueJournal', () => {
  it('writes an open intent with card, counter, command, destination and time, mode 0600, and lists it for its card only', () => {
    const j = newJournal();
    const intent = j.open(transferIntent, new Date('2026-11-22T12:00:00.000Z'));
    const file = join(j.dir, 'open', `${intent.id}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      format: 'drmb-value-intent',
      cardId: A,
      type: 'TRANSFER',
      counter: 7,
      command: 'EXPORT COINS',
      amountFen: 10_000,
      destination: '/payments/p.bin',
      openedAt: '2026-11-22T12:00:00.000Z',
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(j.dir).mode & 0o777).toBe(0o700);
    expect(j.openIntents(A)).toEqual([intent]);
    expect(j.openIntents('62120000000000008002')).toEqual([]);
  });

  it('closes an intent into closed/ with its outcome, and it is no longer open', () => {
    const j = newJournal();
    const intent = j.open(transferIntent);
    j.close(intent, 'not-committed', 'no value moved');
    expect(j.openIntents(A)).toEqual([]);
    expect(j.closedIntent(intent.id)).toMatchObject({ id: intent.id, outcome: 'not-committed', note: 'no value moved' });
    expect(readdirSync(join(j.dir, 'open'))).toEqual([]);
  });

  it('keeps two intents of one counter apart (a refused command leaves the counter for the next)', () => {
    const j = newJournal();
    const first = j.open(transferIntent);
    j.close(first, 'not-committed', 'refused');
    const second = j.open(transferIntent);
    expect(second.id).not.toBe(first.id);
    expect(j.openIntents(A)).toEqual([second]);
    expect(j.closedIntent(first.id)?.outcome).toBe('not-committed');
  });

  it('leaves the open intent intact when writing its closed record fails', () => {
    const j = newJournal();
    const intent = j.open(transferIntent);
    const file = join(j.dir, 'open', `${intent.id}.json`);
    const before = readFileSync(file, 'utf8');
    vi.mocked(fs.fsyncSync).mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, fsync'), { code: 'ENOSPC' });
    });
    expect(() => j.close(intent, 'delivered', 'packet in /payments/p.bin')).toThrow(JournalError);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(j.openIntents(A)).toEqual([intent]);
    expect(j.closedIntent(intent.id)).toBeUndefined();
    expect(readdirSync(join(j.dir, 'closed'))).toEqual([]);
  });

  it('writes no intent when its write fails, and the journal reads as before', () => {
    const j = newJournal();
    const earlier = j.open({ ...transferIntent, counter: 6 });
    vi.mocked(fs.fsyncSync).mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    expect(() => j.open(transferIntent)).toThrow(/cannot write the journal file .*EIO/);
    expect(j.openIntents(A)).toEqual([earlier]);
    expect(readdirSync(join(j.dir, 'open'))).toEqual([`${earlier.id}.json`]);
  });

  it('ignores the temp file of a writer killed before its rename', () => {
    const j = newJournal();
    const intent = j.open(transferIntent);
    writeFileSync(join(j.dir, 'open', `.${A}-TRANSFER-8-x.json.123.abcd.tmp`), '{"format":');
    expect(j.openIntents(A)).toEqual([intent]);
  });

  it('reads an intent whose close was cut after the closed record as closed, and removes the open file', () => {
    const j = newJournal();
    const intent = j.open(transferIntent);
    const closedRecord = { ...intent, closedAt: new Date().toISOString(), outcome: 'delivered', note: 'packet in /payments/p.bin' };
    writeFileSync(join(j.dir, 'closed', `${intent.id}.json`), JSON.stringify(closedRecord));
    expect(j.openIntents(A)).toEqual([]);
    expect(readdirSync(join(j.dir, 'open'))).toEqual([]);
  });

  it('refuses a file in open/ that is not an intent, naming it', () => {
    const j = newJournal();
    writeFileSync(join(j.dir, 'open', `${A}-stray.json`), '{"hello":1}');
    expect(() => j.openIntents(A)).toThrow(new RegExp(`${A}-stray.json is not a drmb-value-intent record`));
  });

  it('says why a journal directory cannot be used', () => {
    expect(new ValueJournal('/etc/passwd/journal').prepare()).toMatch(/^cannot create \/etc\/passwd\/journal \(ENOTDIR\)/);
  });

  it('lives in $DRMB_HOME/journal, DRMB_HOME defaulting to ~/.drmb', () => {
    expect(defaultJournalDir({ DRMB_HOME: '/srv/drmb' })).toBe('/srv/drmb/journal');
    expect(defaultJournalDir({})).toBe(join(homedir(), '.drmb', 'journal'));
  });
});
