/** @module The PC/SC backend's pure parts, without pcscd: reader picking, reader flags, error mapping, receive buffer sizes, reader event diffs. */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../base/hex.js';
import { TransportError } from './errors.js';
import { isServiceGone, pcscErrorKind, pcscTransportError, pickReader, readerInfo, type ReaderInfo, receiveLength } from './pcsc.js';
import { diffReaders } from './reader-watcher.js';

const ATR = fromHex('3B8E800180730000C05844524D422D53494D07');
const readers: ReaderInfo[] = [
  { name: 'Virtual PCD 00 00', index: 0, cardPresent: false },
  { name: 'Virtual PCD 00 01', index: 1, cardPresent: true, atr: ATR },
  { name: 'ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00', index: 2, cardPresent: true, atr: ATR },
  { name: 'ACS ACR1252 Dual Reader [ACR1252 Dual Reader SAM] 00 01', index: 3, cardPresent: false },
];
const noEnv = {};

describe('pickReader', () => {
  it('picks by case-insensitive name fragment', () => {
    expect(pickReader(readers, 'picc', noEnv).index).toBe(2);
    expect(pickReader(readers, 'pcd 00 01', noEnv).index).toBe(1);
  });

  it('prefers the exact name over longer names that contain it', () => {
    const named = [...readers, { name: 'Virtual PCD 00 00 (second)', index: 4, cardPresent: false }];
    expect(pickReader(named, 'virtual pcd 00 00', noEnv).index).toBe(0);
  });

  it('rejects an ambiguous fragment, listing the candidates', () => {
    const e = (() => {
      try {
        pickReader(readers, 'acr1252', noEnv);
      } catch (x) {
        return x as TransportError;
      }
    })();
    expect(e).toBeInstanceOf(TransportError);
    expect(e!.message).toBe(
      'reader "acr1252" is ambiguous, it matches: 2: ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00; 3: ACS ACR1252 Dual Reader [ACR1252 Dual Reader SAM] 00 01',
    );
  });

  it('rejects a fragment nothing matches, listing the readers and which have a card', () => {
    expect(() => pickReader(readers.slice(0, 2), 'omnikey', noEnv)).toThrow(
      'no reader matches "omnikey"; readers: 0: Virtual PCD 00 00 (no card); 1: Virtual PCD 00 01',
    );
  });

  it('picks by numeric index, given as a number or a string of digits', () => {
    expect(pickReader(readers, 3, noEnv).name).toContain('SAM');
    expect(pickReader(readers, '0', noEnv).name).toBe('Virtual PCD 00 00');
    expect(() => pickReader(readers, '7', noEnv)).toThrow(/reader index 7 does not exist/);
  });

  it('takes DRMB_READER when no selector is given, and the selector over DRMB_READER', () => {
    expect(pickReader(readers, undefined, { DRMB_READER: 'sam' }).index).toBe(3);
    expect(pickReader(readers, undefined, { DRMB_READER: '1' }).index).toBe(1);
    expect(pickReader(readers, 'picc', { DRMB_READER: 'sam' }).index).toBe(2);
    expect(() => pickReader(readers, undefined, { DRMB_READER: 'nope' })).toThrow('no DRMB_READER reader matches "nope"');
  });

  it('defaults to the first reader with a card', () => {
    expect(pickReader(readers, undefined, noEnv).index).toBe(1);
    expect(pickReader(readers, undefined, { DRMB_READER: '  ' }).index).toBe(1);
  });

  it('fails with kind removed when no reader has a card, and unavailable when there is no reader', () => {
    expect(() => pickReader([readers[0]], undefined, noEnv)).toThrow(expect.objectContaining({ kind: 'removed', message: 'no reader has a card; readers: 0: Virtual PCD 00 00 (no card)' }));
    expect(() => pickReader([], undefined, noEnv)).toThrow(expect.objectContaining({ kind: 'unavailable', message: expect.stringMatching(/^no PC\/SC reader found/) }));
  });
});

describe('readerInfo', () => {
  const flags = { SCARD_STATE_PRESENT: 0x20, SCARD_STATE_MUTE: 0x200, SCARD_STATE_INUSE: 0x100, SCARD_STATE_EXCLUSIVE: 0x80 };
  it('reads card presence, ATR and use from the SCARD_STATE flags', () => {
    expect(readerInfo(flags, 'r', 0, 0x10022, ATR)).toEqual({ name: 'r', index: 0, cardPresent: true, atr: ATR });
    expect(readerInfo(flags, 'r', 1, 0x12, null)).toEqual({ name: 'r', index: 1, cardPresent: false });
    expect(readerInfo(flags, 'r', 0, 0x1a0, ATR)).toEqual({ name: 'r', index: 0, cardPresent: true, atr: ATR, inUse: true, exclusive: true });
  });
  it('counts a mute card (present, no answer to reset) as no card', () => {
    expect(readerInfo(flags, 'r', 0, 0x220, ATR).cardPresent).toBe(false);
  });
});

describe('binding error mapping', () => {
  // the binding rejects with plain Errors carrying pcsc-lite's text; its JS classes carry SCARD_* codes
  it.each([
    ['Card was removed', 'removed'],
    ['Card was reset', 'removed'],
    ['No smart card present', 'removed'],
    ['Transaction failed', 'removed'],
    ['PC/SC service not running', 'unavailable'],
    ['PC/SC service stopped', 'unavailable'],
    ['Communication error', 'unavailable'],
    ['Sharing violation', 'unavailable'],
    ['Operation timed out', 'timeout'],
    ['Operation cancelled', 'cancelled'],
    ['Card is not connected', 'closed'],
    ['something new', 'unavailable'],
  ] as const)('"%s" is kind %s', (message, kind) => {
    expect(pcscErrorKind(new Error(message))).toBe(kind);
  });

  it('maps by SCARD code and error class name first', () => {
    expect(pcscErrorKind(Object.assign(new Error('x'), { code: 0x80100069 }))).toBe('removed');
    expect(pcscErrorKind(Object.assign(new Error('x'), { code: 0x8010001d | 0 }))).toBe('unavailable');
    expect(pcscErrorKind(Object.assign(new Error('x'), { name: 'CardRemovedError' }))).toBe('removed');
    expect(pcscErrorKind(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('timeout');
  });

  it('tells a gone service apart from a removed card', () => {
    expect(isServiceGone(new Error('Communication error'))).toBe(true);
    expect(isServiceGone(new Error('PC/SC service not running'))).toBe(true);
    expect(isServiceGone(Object.assign(new Error('x'), { name: 'ServiceNotRunningError' }))).toBe(true);
    expect(isServiceGone(Object.assign(new Error('x'), { code: 0x8010001e | 0 }))).toBe(true);
    expect(isServiceGone(new Error('Card was removed'))).toBe(false);
  });

  it('wraps with what failed, the cause and advice', () => {
    const cause = new Error('PC/SC service not running');
    const e = pcscTransportError(cause, 'cannot list the PC/SC readers');
    expect(e).toMatchObject({ kind: 'unavailable', cause });
    expect(e.message).toBe('cannot list the PC/SC readers: PC/SC service not running (is pcscd running? start it with "systemctl start pcscd.socket" or "pcscd")');
    expect(pcscTransportError(new Error('Card was removed'), 'PC/SC r: transmit failed').message).toMatch(/outcome of the last command is unknown/);
    expect(pcscTransportError(new Error('No smart card present'), 'cannot connect to the card in "r"').message).toBe('cannot connect to the card in "r": No smart card present (no card in the reader)');
    expect(pcscTransportError(new Error('Sharing violation'), 'c').message).toBe('c: Sharing violation (another application holds the card exclusively)');
    const same = new TransportError('x', undefined, 'closed');
    expect(pcscTransportError(same, 'y')).toBe(same);
  });
});

describe('receiveLength', () => {
  it.each([
    ['case 1', '80CA9F79', 258],
    ['case 2 short, Le 256', '00B2011400', 258],
    ['case 4 short', '805C00020400000000', 258],
    ['case 2 extended', '00B20114000000', 65538],
    ['case 4 extended', `80520000000003AABBCC0000`, 65538],
  ])('%s: %s -> %d', (_name, apdu, n) => {
    expect(receiveLength(fromHex(apdu))).toBe(n);
  });
});

describe('diffReaders', () => {
  const r = (name: string, cardPresent: boolean, atr?: Uint8Array): ReaderInfo => ({ name, index: 0, cardPresent, ...(atr ? { atr } : {}) });
  it('reports readers attached with their cards, in list order', () => {
    expect(diffReaders([], [r('A', false), r('B', true, ATR)])).toEqual([
      { type: 'reader-attached', reader: 'A' },
      { type: 'reader-attached', reader: 'B' },
      { type: 'card-inserted', reader: 'B', atr: ATR },
    ]);
  });
  it('reports the last reader gone (empty list) with its card removed first', () => {
    expect(diffReaders([r('A', true, ATR)], [])).toEqual([
      { type: 'card-removed', reader: 'A' },
      { type: 'reader-detached', reader: 'A' },
    ]);
  });
  it('reports card insertion and removal in kept readers, and a swapped card as both', () => {
    const other = fromHex('3B00');
    expect(diffReaders([r('A', false), r('B', true, ATR), r('C', true, ATR)], [r('A', true, ATR), r('B', false), r('C', true, other)])).toEqual([
      { type: 'card-inserted', reader: 'A', atr: ATR },
      { type: 'card-removed', reader: 'B' },
      { type: 'card-removed', reader: 'C' },
      { type: 'card-inserted', reader: 'C', atr: other },
    ]);
  });
  it('reports nothing when nothing changed', () => {
    expect(diffReaders([r('A', true, ATR)], [r('A', true, ATR)])).toEqual([]);
  });
});
