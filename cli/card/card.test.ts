/** @module `drmb card` on an in-process simulated card (--sim): collected data, formatting, script parsing, redacted trace, replayable transcript, option errors, command wiring. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeCommandApdu } from '../../applet-spec/codec/apdu.js';
import { fromHex, hex } from '../../base/hex.js';
import * as C from '../../applet-spec/commands.js';
import { ReplayTransport } from '../../host/replay-transport.js';
import { editCardImage, rewriteCardImage } from '../../test/edit-card-image.js';
import { stateImages } from '../../test/state-images.js';
import { main } from '../drmb.js';
import { UsageError } from '../output.js';
import { formatApduResults, parseApduArguments, parseApduScript, runApdus } from './apdu.js';
import { collectBalance } from './balance.js';
import { openCard, withCard } from '../open-card.js';
import { yuan } from './connect.js';
import { registerCardCommands } from './index.js';
import { collectInfo, formatInfo } from './info.js';
import { collectLog, formatLog } from './log.js';
import { formatReaders } from './readers.js';

const CARD_ID = '62120000000000000888';
let dir: string;
let issued: string;
let blank: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-card-cli-'));
  const images = stateImages(CARD_ID);
  issued = join(dir, 'issued.json');
  blank = join(dir, 'blank.json');
  writeFileSync(issued, images.ISSUED);
  writeFileSync(blank, images.BLANK);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const SELECT = '00A4040006F044524D420100';
const GET_BALANCE = '805C000204';

describe('drmb card info / balance / log on --sim', () => {
  it('info selects the applet and reads card ID, state, label, balance and PIN tries of an issued card', async () => {
    const r = await withCard({ sim: issued }, { image: 'read-only' }, (t, conn) => collectInfo(t, conn.source, conn.atr));
    expect(r).toMatchObject({ source: `simulated card ${issued}`, cardId: CARD_ID, state: 'ISSUED', label: 'D-RMB', balanceFen: 17100, pinTriesLeft: 3 });
    expect(hex(r.aid)).toBe('F044524D4201');
    expect(formatInfo(r)).toContain('balance     171.00 yuan');
    expect(formatInfo(r)).toContain(`card ID     ${CARD_ID}`);
  });

  it('info on a blank card shows the state and no balance, PIN tries or card ID', async () => {
    const r = await withCard({ sim: blank }, { image: 'read-only' }, (t, conn) => collectInfo(t, conn.source, conn.atr));
    expect(r.state).toBe('BLANK');
    expect(r.balanceFen).toBeUndefined();
    expect(r.pinTriesLeft).toBeUndefined();
    expect(formatInfo(r)).toContain('card ID     (none yet)');
  });

  it('balance reads 171.00 yuan in fen and yuan', async () => {
    expect(await withCard({ sim: issued }, { image: 'read-only' }, (t) => collectBalance(t))).toEqual({ cardId: CARD_ID, balanceFen: 17100, balance: '171.00' });
  });

  it('log lists the load that filled the card', async () => {
    const r = await withCard({ sim: issued }, { image: 'read-only' }, collectLog);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({ type: 'LOAD', amountFen: 17100, balanceAfterFen: 17100 });
    expect(formatLog(r).split('\n')[1]).toMatch(/^\s+\d+  LOAD\s+171\.00\s+171\.00  /);
  });

  it('does not change the image file (--sim is read-only)', async () => {
    const before = readFileSync(issued, 'utf8');
    await withCard({ sim: issued }, { image: 'read-only' }, (t) => runApdus(t, parseApduArguments([SELECT, hex(encodeCommandApdu(C.verify.encode({ pin: '000000' })))])));
    expect(readFileSync(issued, 'utf8')).toBe(before);
  });
});

describe('drmb card apdu', () => {
  it('parses a script with comments, spaces and blank lines', () => {
    const apdus = parseApduScript(`# select D-RMB\n00 A4 04 00 06 F044524D4201 00\n\n${GET_BALANCE}   # balance\n   # done\n`, 'pos.apdu');
    expect(apdus.map((a) => [hex(a.apdu), a.origin])).toEqual([
      [SELECT, 'line 2 of pos.apdu'],
      [GET_BALANCE, 'line 4 of pos.apdu'],
    ]);
  });

  it('names the line of a bad entry', () => {
    expect(() => parseApduScript('00A40400\nzz00\n', 'x.apdu')).toThrow(new UsageError('line 2 of x.apdu: not a hex APDU: hex: invalid character "z" at digit 0'));
    expect(() => parseApduArguments(['00A4'])).toThrow('argument 1: an APDU has at least 4 bytes (CLA INS P1 P2), got 2');
  });

  it('sends each APDU and reports data, the SW in hex, its name and meaning, going on after an error SW', async () => {
    const results = await withCard({ sim: issued }, { image: 'read-only' }, (t) => runApdus(t, parseApduArguments([SELECT, GET_BALANCE, '80FE000000'])));
    expect(results.map((r) => [r.name, hex(r.data), r.sw, r.swName])).toEqual([
      ['SELECT', expect.stringMatching(/^6F/), '9000', 'OK'],
      ['GET BALANCE', '000042CC', '9000', 'OK'],
      [undefined, '', '6D00', 'INS_NOT_SUPPORTED'],
    ]);
    expect(formatApduResults(results).split('\n').slice(2, 4)).toEqual(['=> 805C0002 04  # GET BALANCE', '<= 000042CC 9000 OK: normal processing, no further qualification']);
  });

  it('does not echo a PIN in its output', async () => {
    const verify = hex(encodeCommandApdu(C.verify.encode({ pin: '123456' })));
    const results = await withCard({ sim: issued }, { image: 'read-only' }, (t) => runApdus(t, parseApduArguments([SELECT, verify])));
    expect(results[1]).toMatchObject({ name: 'VERIFY', sw: '9000' });
    expect(results[1].command).toBe('00200000 03 <3 bytes of PIN data redacted>');
  });
});

describe('--trace and --record', () => {
  it('traces every APDU with the PIN redacted', async () => {
    const lines: string[] = [];
    const verify = encodeCommandApdu(C.verify.encode({ pin: '123456' }));
    await withCard({ sim: issued, trace: true }, { image: 'read-only', traceSink: (l) => lines.push(l) }, (t) => runApdus(t, [{ apdu: fromHex(SELECT), origin: 'a' }, { apdu: verify, origin: 'b' }]));
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^A>> \(4\+0003\) 00200000 03 <3 bytes of PIN data redacted>  # VERIFY$/);
    expect(lines[3]).toMatch(/^A<< \(0000\+2\) \(\d+ms\) 9000$/);
    expect(lines.join('\n')).not.toContain('123456');
  });

  it('records a transcript that replays the same info', async () => {
    const file = join(dir, 'info.transcript');
    const live = await withCard({ sim: issued, record: file }, { image: 'read-only' }, (t, conn) => collectInfo(t, conn.source, conn.atr));
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# drmb card transcript, simulated card /);
    expect(text).toContain(`=> ${SELECT}`);
    const replay = ReplayTransport.fromText(text, 'info.transcript');
    const replayed = await collectInfo(replay, live.source, live.atr);
    replay.assertDone();
    expect(replayed).toEqual(live);
  });
});

describe('option handling', () => {
  it('rejects --sim with --reader, --sim with --exclusive, and a missing image', async () => {
    await expect(openCard({ sim: issued, reader: '0' }, { image: 'read-only' })).rejects.toThrow(new UsageError('--sim and --reader exclude each other'));
    await expect(openCard({ sim: issued, exclusive: true }, { image: 'read-only' })).rejects.toThrow(UsageError);
    await expect(openCard({ sim: join(dir, 'none.json') }, { image: 'read-only' })).rejects.toThrow(/card image .*none\.json does not exist/);
  });

  it('rejects an image that is not a card image', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format":"something else"}');
    await expect(openCard({ sim: bad }, { image: 'read-only' })).rejects.toThrow(new UsageError(`card image ${bad} is not a drmb card image`));
  });
});

describe('a damaged --sim image', () => {
  /** Runs drmb in-process; returns what it wrote on stderr and its exit code. */
  async function drmb(...args: string[]): Promise<{ stderr: string; exitCode: number | undefined }> {
    const err: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await main(['node', 'drmb', ...args]);
      return { stderr: err.join(''), exitCode: process.exitCode === undefined ? undefined : Number(process.exitCode) };
    } finally {
      spy.mockRestore();
      out.mockRestore();
      process.exitCode = undefined;
    }
  }

  it('refuses an image whose coin record was edited by hand: one line, exit code 2, the file byte for byte as it was', async () => {
    const edited = join(dir, 'edited-coins.json');
    writeFileSync(edited, editCardImage(readFileSync(issued), (j) => (j.records['purse/coins'] = '')));
    const before = readFileSync(edited);
    const r = await drmb('card', 'balance', '--sim', edited);
    expect(r).toEqual({ stderr: `drmb: card image ${edited} is damaged: checksum mismatch\n`, exitCode: 2 });
    expect(readFileSync(edited).equals(before)).toBe(true);
  });

  it('refuses an image whose checksum was recomputed over a nonsense record, naming the record', async () => {
    const rewritten = join(dir, 'rewritten-state.json');
    writeFileSync(rewritten, rewriteCardImage(readFileSync(issued), (s) => s.put('state', Uint8Array.of(0x42))));
    const r = await drmb('card', 'info', '--sim', rewritten, '--json');
    expect(r).toEqual({ stderr: `drmb: card image ${rewritten} is damaged: record state: 42 is not a lifecycle state\n`, exitCode: 2 });
  });

  it('refuses a half-written image', async () => {
    const half = join(dir, 'half.json');
    const whole = readFileSync(issued);
    writeFileSync(half, whole.subarray(0, whole.length >> 1));
    expect(await drmb('card', 'log', '--sim', half)).toEqual({ stderr: `drmb: card image ${half} is damaged: not complete JSON (truncated or half-written?)\n`, exitCode: 2 });
  });

  it('formats amounts in yuan and the reader list', () => {
    expect([yuan(17100), yuan(5), yuan(0), yuan(-250)]).toEqual(['171.00', '0.05', '0.00', '-2.50']);
    expect(formatReaders([])).toBe('no PC/SC readers');
    expect(formatReaders([{ name: 'Virtual PCD 00 00', index: 0, cardPresent: true, atr: fromHex('3B00'), inUse: true }, { name: 'Virtual PCD 00 01', index: 1, cardPresent: false }])).toBe(
      ' 0  Virtual PCD 00 00  card 3B00 (in use)\n 1  Virtual PCD 00 01  no card',
    );
  });
});

describe('the card command group', () => {
  const run = async (args: string[]): Promise<string> => {
    const program = new Command('drmb').exitOverride();
    registerCardCommands(program.command('card'));
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out.push(String(s));
      return true;
    });
    try {
      await program.parseAsync(['card', ...args], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    return out.join('');
  };

  it('registers readers, info, apdu, balance, log, recover, replay, the desk operations and return', () => {
    const program = new Command('drmb');
    const card = program.command('card');
    registerCardCommands(card);
    expect(card.commands.map((c) => c.name())).toEqual(['readers', 'info', 'apdu', 'balance', 'log', 'recover', 'replay', 'block', 'unblock', 'reload-pin', 'set-limits', 'change-pin', 'terminate', 'return']);
    expect(card.commands.find((c) => c.name() === 'info')!.options.map((o) => o.long)).toEqual(['--reader', '--sim', '--exclusive', '--trace', '--record', '--json']);
  });

  it('card info --sim IMAGE --json prints the collected data as JSON', async () => {
    const json = JSON.parse(await run(['info', '--sim', issued, '--json']));
    expect(json).toMatchObject({ cardId: CARD_ID, state: 'ISSUED', balanceFen: 17100, aid: 'F044524D4201' });
  });

  it('card apdu reads a script file and card balance prints yuan', async () => {
    const script = join(dir, 'pos.apdu');
    writeFileSync(script, `# POS\n${SELECT}\n${GET_BALANCE}\n`);
    const out = await run(['apdu', '--sim', issued, '--script', script, '--json']);
    expect(JSON.parse(out).map((r: { swName: string }) => r.swName)).toEqual(['OK', 'OK']);
    expect(await run(['balance', '--sim', issued])).toBe('171.00 yuan\n');
  });

  it('card apdu without APDUs is a usage error', async () => {
    await expect(run(['apdu', '--sim', issued])).rejects.toThrow(/no APDU given/);
  });
});
