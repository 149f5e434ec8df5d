/** @module The drmb program: spec subcommands collect the right data, report bad input by name, and the binary runs. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeApdu, decodeResponse } from './spec/decode.js';
import { listCommands } from './spec/list.js';
import { showCommand } from './spec/show.js';
import { explainSw } from './spec/sw.js';
import { COMMANDS } from '../applet-spec/commands.js';
import { FormatError } from '../applet-spec/errors.js';
import { emit, UsageError, wasResultPrinted } from './output.js';
import { buildProgram, reportFailure, wantsJson } from './drmb.js';
import { runDrmb } from '../test/run-drmb.js';
import { JournalError } from '../host/value-journal.js';
import { OperationalError } from '../base/operational-error.js';
import { ResponseFormatError, StatusWordError, TransportError } from '../host/errors.js';
import { BlacklistedCardError, PacketRejectedError, PaymentRefusedError, PsamNotReadyError } from '../host/pos/pos-terminal.js';
import { PsamPersoError } from '../personalization/personalize-psam.js';
import { UploadQueueError } from '../host/pos/upload-queue.js';
import { UndeliverableError } from '../host/finish-intent.js';
import { OpenTransferError } from '../host/open-transfer.js';
import { RegistryError } from '../bank/registry-errors.js';
import { WithdrawalError } from '../bank/withdraw.js';
import { CardImageError } from '../simulator/card-image-error.js';
import { SecureChannelError } from '../crypto/scp03.js';
import { PersoError } from '../personalization/card-prep.js';
import { PeerPayError } from './peer/pay.js';

describe('drmb spec', () => {
  it('lists every command with its header', () => {
    const rows = listCommands();
    expect(rows.map((r) => r.name)).toEqual(COMMANDS.map((c) => c.name));
    expect(rows.find((r) => r.name === 'GET BALANCE')!.header).toBe('80 5C 00 02');
  });

  it('decodes a command APDU and its response by the definitions', () => {
    const d = decodeApdu('80 5C 00 02 04', '00002710 9000');
    expect(d.command).toBe('GET BALANCE');
    expect(d.response).toEqual({ balanceFen: 10000 });
    expect(d.swName).toBe('OK');
  });

  it('names the status word of an error response and decodes no data', () => {
    const d = decodeResponse('initializeForPurchase', '9401');
    expect(d.swName).toBe('INSUFFICIENT_BALANCE');
    expect(d.response).toBeUndefined();
  });

  it('rejects an APDU no command claims, naming its header', () => {
    expect(() => decodeApdu('80FF000000')).toThrow(/80FF0000/);
  });

  it('rejects a malformed APDU with a format error naming the fault', () => {
    expect(() => decodeApdu('805C00020401')).toThrow(FormatError);
  });

  it('shows one command section by name or id', () => {
    expect(showCommand('debitForPurchase').section).toContain('### DEBIT FOR PURCHASE');
    expect(showCommand('INIT SAM FOR PURCHASE').section).toMatch(/^### INIT SAM FOR PURCHASE\n[\s\S]*80 70 00 00/);
    expect(showCommand('psamStoreData').section).toContain('BLANK -> ISSUED');
    expect(listCommands({ psam: true }).map((r) => r.id)).toContain('creditSamForPurchase');
    expect(listCommands().map((r) => r.id)).not.toContain('creditSamForPurchase');
    expect(() => showCommand('NO SUCH')).toThrow(UsageError);
  });

  it('explains status words, including families, and rejects non-hex input by name', () => {
    expect(explainSw('63C2').meaning).toMatch(/2/);
    expect(explainSw('0x6a82').name).toBe('FILE_NOT_FOUND');
    expect(() => explainSw('zz')).toThrow(/status word "zz"/);
  });
});

describe('reportFailure', () => {
  /** What reportFailure wrote on stderr, and its exit code. */
  function report(e: unknown, env: Record<string, string> = {}): { code: number; stderr: string } {
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      return { code: reportFailure(e, { env }), stderr: lines.join('') };
    } finally {
      process.stderr.write = write;
    }
  }

  it('prints an unexpected error as one line with exit code 70, the stack only with DRMB_DEBUG', () => {
    const plain = report(new TypeError('boom\nsecond line'));
    expect(plain).toEqual({ code: 70, stderr: 'drmb: internal error (TypeError: boom); set DRMB_DEBUG=1 to see where\n' });
    const debug = report(new TypeError('boom'), { DRMB_DEBUG: '1' });
    expect(debug.code).toBe(70);
    expect(debug.stderr).toContain('    at ');
  });

  it('prints bad input with exit code 2 and a refusal with exit code 1, one line each', () => {
    expect(report(new UsageError('--amount must be more than 0.00'))).toEqual({ code: 2, stderr: 'drmb: --amount must be more than 0.00\n' });
    expect(report(new JournalError('cannot write the journal'))).toEqual({ code: 1, stderr: 'drmb: cannot write the journal\n' });
  });

  it('prints any OperationalError subclass as one line with its exit code, no stack even with DRMB_DEBUG', () => {
    class VaultClosedError extends OperationalError {
      override readonly name = 'VaultClosedError';
    }
    expect(report(new VaultClosedError('the vault is closed'), { DRMB_DEBUG: '1' })).toEqual({ code: 1, stderr: 'drmb: the vault is closed\n' });
    expect(report(new OperationalError('bad --dir', { exitCode: 2 }))).toEqual({ code: 2, stderr: 'drmb: bad --dir\n' });
  });

  it('reports the refusals of every layer as operational errors: exit 1, bad input 2', () => {
    const refusals = [
      StatusWordError, TransportError, ResponseFormatError, BlacklistedCardError, PaymentRefusedError, PacketRejectedError, PsamNotReadyError, PsamPersoError, UploadQueueError,
      JournalError, UndeliverableError, OpenTransferError, RegistryError, WithdrawalError, CardImageError, SecureChannelError, PersoError, PeerPayError,
    ];
    for (const c of refusals) expect(c.prototype, c.name).toBeInstanceOf(OperationalError);
    expect(new JournalError('x').exitCode).toBe(1);
    expect(new UsageError('x').exitCode).toBe(2);
    expect(new FormatError('APDU Lc', 'x').exitCode).toBe(2);
  });

  it('sends an error that is not operational to the catch-all with exit code 70', () => {
    expect(report(new TypeError("Cannot read properties of undefined (reading 'x')"))).toEqual({
      code: 70,
      stderr: "drmb: internal error (TypeError: Cannot read properties of undefined (reading 'x')); set DRMB_DEBUG=1 to see where\n",
    });
  });
});

describe('the drmb binary', () => {
  const bin = fileURLToPath(new URL('../bin/drmb.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../dist/cli/drmb.js', import.meta.url)));

  it.runIf(built || process.env.CI)('prints the command list as JSON', () => {
    const out = execFileSync(process.execPath, [bin, 'spec', 'list', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toHaveLength(COMMANDS.length);
  });

  it.runIf(built || process.env.CI)('exits 2 with a message on bad input, without a stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'spec', 'sw', 'xyz'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('drmb: status word "xyz"');
    expect(r.stderr).not.toContain('    at ');
  });
});

describe('required options', () => {
  it('marks each required option in --help and names every missing one at once', async () => {
    const program = buildProgram();
    const pay = program.commands.find((c) => c.name() === 'pos')!.commands.find((c) => c.name() === 'pay')!;
    const help = pay.helpInformation();
    expect(help).toMatch(/--queue <file>\s+upload queue \(JSON lines, created 0600\) \(required\)/);
    expect(help).toMatch(/--psam-sim <image>[^(]*\(written back\s+as the card commits\) \(required,\s+unless\s+--psam-reader\)/);
    const r = await runDrmb('pos', 'pay');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('drmb: drmb pos pay: missing --amount <yuan>; --queue <file>; --psam-sim <image> or --psam-reader <name|index>; --keys <dir> or $DRMB_KEY_DIR\n');
  });
});

describe('--json errors', () => {
  it('writes the error object on stdout beside the line on stderr', () => {
    const out: string[] = [];
    const err: string[] = [];
    const write = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = ((c: string) => out.push(c) > 0) as typeof process.stdout.write;
    process.stderr.write = ((c: string) => err.push(c) > 0) as typeof process.stderr.write;
    let code: number;
    try {
      code = reportFailure(new UsageError('--amount must be more than 0.00'), { json: true, env: {} });
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
    }
    expect(code).toBe(2);
    expect(JSON.parse(out.join(''))).toEqual({ error: { message: '--amount must be more than 0.00', exitCode: 2, exit: 'usage', type: 'UsageError' } });
    expect(err.join('')).toBe('drmb: --amount must be more than 0.00\n');
  });

  it('keeps stdout one JSON document: a command that printed its report before failing gets the line on stderr only', async () => {
    const r = await runDrmb('spec', 'list', '--json', '--no-such-option');
    expect(JSON.parse(r.stdout).error.exitCode).toBe(2);
    const out: string[] = [];
    const err: string[] = [];
    const write = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = ((c: string) => out.push(c) > 0) as typeof process.stdout.write;
    process.stderr.write = ((c: string) => err.push(c) > 0) as typeof process.stderr.write;
    try {
      wasResultPrinted(true);
      emit({ lines: ['PURCHASE rejected'] }, true, () => '');
      reportFailure(new JournalError('1 of 1 packet(s) not settled'), { json: true, env: {} });
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
      wasResultPrinted(true);
    }
    expect(JSON.parse(out.join(''))).toEqual({ lines: ['PURCHASE rejected'] });
    expect(err.join('')).toBe('drmb: 1 of 1 packet(s) not settled\n');
  });

  it('takes --json from the command line up to "--"', () => {
    expect(wantsJson(['card', 'balance', '--json'])).toBe(true);
    expect(wantsJson(['card', 'apdu', '--', '--json'])).toBe(false);
  });
});
