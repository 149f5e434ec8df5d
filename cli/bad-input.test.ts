/**
 * @module The ordinary mistakes of a new user (issue 14): each ends in one line "drmb: ...", the
 * documented exit code (base/exit-codes.ts), no stack trace, and nothing changed on disk; card
 * refusals say what to do next; with --json the error is JSON on stdout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../base/exit-codes.js';
import { drmbShellFunction, runDrmb } from '../test/run-drmb.js';
import { projectPath } from './project-path.js';
import { bankOwner, cardOwner } from '../bank/registry.js';
import { openRegistry } from './bank/registry-options.js';

let dir: string;
const CARD = '10000000000000000001';
const BANK = '105100000005';

/** Every file under `root` with a hash of its content and its mode: what "nothing changed on disk" compares. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        out[`${relative(root, p)}/`] = (st.mode & 0o777).toString(8);
        walk(p);
      } else {
        out[relative(root, p)] = `${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      }
    }
  };
  walk(root);
  return out;
}

/** The registry's holdings: what "nothing changed" compares in a registry the command opened (PGlite rewrites its files on every open). */
async function holdings(): Promise<Record<string, number>> {
  const r = await openRegistry({ keys: at('keys'), registry: at('registry') }, 'drmb bank deposit', { settles: false });
  try {
    return { [bankOwner(BANK)]: await r.balanceOf(bankOwner(BANK)), [cardOwner(CARD)]: await r.balanceOf(cardOwner(CARD)), minted: await r.mintedTotal() };
  } finally {
    await r.close();
  }
}

/** The snapshot without the registry's own files, and its holdings instead. */
async function state(registryOpened: boolean): Promise<unknown> {
  const files = snapshot(dir);
  if (!registryOpened) return files;
  return { files: Object.fromEntries(Object.entries(files).filter(([p]) => !p.startsWith('registry/'))), holdings: await holdings() };
}

/**
 * Runs drmb in `dir`'s world and checks the rule: one line, no stack, the exit code, the folder as it
 * was (for a command that had to open the embedded registry: every other file, and the registry's holdings).
 */
async function refused(code: number, ...args: string[]): Promise<string> {
  const registryOpened = args[0] === 'pos' && args[1] === 'float';
  const before = await state(registryOpened);
  const r = await runDrmb(...args);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(/^drmb: [^\n]+\n$/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(await state(registryOpened), 'nothing changed on disk').toEqual(before);
  return r.stderr.slice('drmb: '.length, -1);
}

const at = (...p: string[]) => join(dir, ...p);
const keys = () => ['--keys', at('keys')];
const registry = () => ['--registry', at('registry')];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drmb-bad-input-'));
  writeFileSync(at('pin'), '864213\n', { mode: 0o600 });
  const ok = async (...args: string[]) => {
    const r = await runDrmb(...args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  };
  await ok('keys', 'init', '--dir', at('keys'));
  await ok('sim', 'create', '--image', at('card.json'), '--card-id', CARD, ...keys());
  await ok('sim', 'create', '--image', at('blank.json'), '--card-id', '10000000000000000002', ...keys());
  const perso = ['--sim', at('card.json'), ...keys(), '--manifest', at('manifest.jsonl'), '--audit', at('audit.log')];
  await ok('perso', 'prepare', ...perso, '--profile', projectPath('examples', 'profiles', 'prepare.json'));
  await ok('perso', 'issue', ...perso, '--profile', projectPath('examples', 'profiles', 'issue.json'), '--pin-file', at('pin'));
  await ok('sim', 'create', '--psam', '--image', at('psam.json'), '--card-id', '88000000000000000001', ...keys());
  await ok('perso', 'psam', '--sim', at('psam.json'), '--terminal-id', '202611220001', ...keys());
  await ok('bank', 'mint', '--yes', '--amount', '1000', '--to-bank', BANK, ...keys(), ...registry());
  await ok('bank', 'withdraw', '--amount', '300', '--bank-code', BANK, '--sim', at('card.json'), ...keys(), ...registry(), '--journal', at('journal'));
  writeFileSync(at('somefile'), 'not a registry\n');
}, 240_000);

describe('bad input ends in one line, exit 2, nothing changed', () => {
  it('refuses a mint of 0 or of less than the smallest coin', async () => {
    expect(await refused(EXIT.usage, 'bank', 'mint', '--yes', '--amount', '0', ...keys(), ...registry())).toBe('--amount must be more than 0.00');
    expect(await refused(EXIT.usage, 'bank', 'mint', '--yes', '--amount', '0.01', ...keys(), ...registry())).toMatch(/^--amount must be whole yuan/);
  });

  it('refuses a --verify-workers that is not a number of threads, before the registry is opened', async () => {
    expect(await refused(EXIT.usage, 'registry', 'serve', '--verify-workers', 'lots', '--port', '0', ...keys(), ...registry())).toBe('--verify-workers must be a number of threads from 0 to 64 (got lots)');
  });

  it('refuses a file given as the registry folder', async () => {
    expect(await refused(EXIT.usage, 'bank', 'mint', '--yes', '--amount', '10', ...keys(), '--registry', at('somefile'))).toBe(`--registry: ${at('somefile')} is a file, not a registry folder`);
  });

  it('refuses a --registry-url that is not a PostgreSQL connection string', async () => {
    expect(await refused(EXIT.usage, 'bank', 'mint', '--yes', '--amount', '10', ...keys(), '--registry-url', 'http://localhost/x')).toMatch(/^--registry-url must be a PostgreSQL connection string/);
    expect(await refused(EXIT.usage, 'bank', 'mint', '--yes', '--amount', '10', ...keys(), '--registry-url', 'postgres://a@h/db,http://localhost/x')).toBe(
      '--registry-url must be a PostgreSQL connection string, postgres://user@host:port/database, or several separated by commas (got http://localhost/x)',
    );
  });

  it('refuses a card image in a folder that does not exist', async () => {
    expect(await refused(EXIT.usage, 'sim', 'create', '--image', at('no-such-folder', 'x.json'), '--card-id', '10000000000000000003', ...keys())).toBe(
      `--image: directory ${at('no-such-folder')} does not exist`,
    );
  });

  it('refuses an upload queue in a folder that does not exist, before the card is touched', async () => {
    expect(await refused(EXIT.usage, 'pos', 'pay', '--amount', '100', '--sim', at('card.json'), '--psam-sim', at('psam.json'), ...keys(), '--queue', at('no-such-folder', 'q.jsonl'))).toMatch(
      /^--queue: directory .*no-such-folder does not exist$/,
    );
  });

  it('refuses a --slots that is not a number of slots, and more images than slots, before any card is served', async () => {
    expect(await refused(EXIT.usage, 'sim', 'serve', '--slots', '0', '--control', 'none')).toBe('--slots "0" must be a whole number of slots from 1 to 16');
    expect(await refused(EXIT.usage, 'sim', 'serve', '--slots', '1', '--image', at('card.json'), '--image', at('blank.json'), '--control', 'none')).toBe(
      '--image given 2 times for --slots 1: give at most one image per slot',
    );
  });

  it('refuses a --sim-dir that does not exist', async () => {
    const prep = ['perso', 'prepare', '--batch', '--sim-dir', at('nodir'), ...keys(), '--profile', projectPath('examples', 'profiles', 'prepare.json')];
    expect(await refused(EXIT.usage, ...prep, '--manifest', at('manifest.jsonl'), '--audit', at('audit.log'))).toBe(`--sim-dir: cannot list ${at('nodir')} (ENOENT: no such file or folder)`);
  });

  it('names every missing option of pos pay at once, and a missing --amount is usage too', async () => {
    expect(await refused(EXIT.usage, 'pos', 'pay', '--amount', '30')).toBe('drmb pos pay: missing --queue <file>; --psam-sim <image> or --psam-reader <name|index>; --keys <dir> or $DRMB_KEY_DIR');
    expect(await refused(EXIT.usage, 'bank', 'mint', ...keys())).toBe('drmb bank mint: missing --amount <yuan>');
  });

  it("ends commander's own errors as drmb's: an unknown option or command", async () => {
    expect(await refused(EXIT.usage, 'card', 'balance', '--no-such-option')).toBe("unknown option '--no-such-option'");
    expect(await refused(EXIT.usage, 'no-such-command')).toBe("unknown command 'no-such-command'");
  });

  it('refuses a change float without the terminal key that signs the change, and a float file that exists', async () => {
    const pay = ['pos', 'pay', '--amount', '100', '--sim', at('card.json'), '--psam-sim', at('psam.json'), ...keys(), '--queue', at('q.jsonl')];
    expect(await refused(EXIT.usage, ...pay, '--float', at('somefile'))).toBe('--float and --terminal-key go together: the terminal signs the change it pays from its float with its own SM9 key');
    expect(await refused(EXIT.usage, 'pos', 'float', '--amount', '10', '--bank-code', BANK, '--out', at('somefile'), ...keys(), ...registry())).toBe(
      `--out: ${at('somefile')} exists (it may be a terminal's float in use); name a new file`,
    );
  });

  it('refuses a withdrawal of 0.00 before the card is asked', async () => {
    expect(await refused(EXIT.usage, 'bank', 'withdraw', '--amount', '0', '--bank-code', BANK, '--sim', at('card.json'), ...keys(), ...registry(), '--journal', at('journal'))).toBe('--amount must be more than 0.00');
  });
});

describe('refusals say what to do next, exit 1, nothing changed', () => {
  it('a registry server that does not answer', async () => {
    expect(await refused(EXIT.refused, 'bank', 'mint', '--yes', '--amount', '10', ...keys(), '--registry-url', 'postgres://drmb:secret@127.0.0.1:1/drmb')).toBe(
      'the registry at postgres://drmb@127.0.0.1:1/drmb cannot be used (ECONNREFUSED): is PostgreSQL running there, and are --registry-url / $DRMB_REGISTRY_URL right?',
    );
  });

  it('a registry across servers, one of which does not answer, named by its place', async () => {
    const urls = 'postgres://drmb:secret@127.0.0.1:1/drmb,postgres://drmb:secret@127.0.0.1:2/drmb';
    expect(await refused(EXIT.refused, 'bank', 'mint', '--yes', '--amount', '10', ...keys(), '--registry-url', urls)).toBe(
      'the registry at postgres://drmb@127.0.0.1:1/drmb,postgres://drmb@127.0.0.1:2/drmb cannot be used (server 1 of 2 (postgres://drmb@127.0.0.1:1/drmb): ECONNREFUSED): is PostgreSQL running there, and are --registry-url / $DRMB_REGISTRY_URL right?',
    );
  });

  it('a float the vault cannot make exactly', async () => {
    expect(await refused(EXIT.refused, 'pos', 'float', '--amount', '7', '--bank-code', BANK, '--out', at('float.json'), ...keys(), ...registry())).toBe(
      `the vault of bank ${BANK} has no coins adding up to exactly 7.00 yuan (it holds 700.00 in 7 coins): mint some with drmb bank mint --to-bank ${BANK}`,
    );
  });

  it("a blank card's balance (6985): the state it needs and the commands that get it there", async () => {
    expect(await refused(EXIT.refused, 'card', 'balance', '--sim', at('blank.json'))).toBe(
      'GET BALANCE: the card is neither ISSUED nor LOCKED: drmb card info shows its state; a BLANK card needs drmb perso prepare, a PREPARED one drmb perso issue (SW 6985 CONDITIONS_OF_USE_NOT_SATISFIED)',
    );
  });

  it('a payment above the PIN threshold without a PIN and without a terminal to ask on', async () => {
    expect(await refused(EXIT.refused, 'pos', 'pay', '--amount', '250', '--sim', at('card.json'), '--psam-sim', at('psam.json'), ...keys(), '--queue', at('q.jsonl'))).toBe(
      '250.00 yuan is above the PIN threshold of 200.00: give --pin-file or answer the prompt',
    );
  });
});

describe('--json errors', () => {
  it('prints the error as JSON on stdout, with the status word in hex, and the line on stderr', async () => {
    const r = await runDrmb('card', 'balance', '--sim', at('blank.json'), '--json');
    expect(r.code).toBe(EXIT.refused);
    expect(JSON.parse(r.stdout)).toEqual({
      error: expect.objectContaining({ exitCode: 1, exit: 'refused', sw: '6985', swName: 'CONDITIONS_OF_USE_NOT_SATISFIED', command: 'GET BALANCE', message: expect.stringMatching(/^GET BALANCE: the card is neither/) }),
    });
    expect(r.stderr).toMatch(/^drmb: GET BALANCE: [^\n]+\n$/);
    const usage = await runDrmb('bank', 'mint', '--json');
    expect(JSON.parse(usage.stdout).error).toMatchObject({ exitCode: 2, exit: 'usage', message: 'drmb bank mint: missing --amount <yuan>' });
  });
});

describe('a batch with one damaged image', () => {
  it('prepares the others, reports the damaged one, ends with one line and exit 1 (stdout the summary alone), and leaves the damaged image as it was', async () => {
    const cards = at('batch');
    mkdirSync(cards);
    for (const id of ['10000000000000000011', '10000000000000000012']) {
      expect((await runDrmb('sim', 'create', '--image', join(cards, `${id}.json`), '--card-id', id, ...keys())).code).toBe(0);
    }
    writeFileSync(join(cards, 'damaged.json'), '{"not": "a card image"}\n');
    const damaged = readFileSync(join(cards, 'damaged.json'));
    const r = await runDrmb('perso', 'prepare', '--batch', '--sim-dir', cards, ...keys(), '--profile', projectPath('examples', 'profiles', 'prepare.json'), '--manifest', at('batch.jsonl'), '--audit', at('batch-audit.log'), '--json');
    expect(r.code).toBe(EXIT.refused);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ done: 2, failed: 1, slots: 3 });
    expect(summary.items.find((i: { result: string }) => i.result === 'failed')).toMatchObject({ slot: 'simulated card damaged.json', error: expect.stringContaining('damaged.json') });
    expect(readFileSync(join(cards, 'damaged.json'))).toEqual(damaged);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^drmb: 1 of 3 cards failed: simulated card damaged\.json \(card image .*damaged\.json is not a drmb card image\)$/);
  }, 60_000);
});

/** Runs a bash command line in a pseudo-terminal (util-linux script), typing `answer` once `prompt` appears; what the terminal showed. */
function onTerminal(command: string, prompt: string, answer: string): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let typed = false;
    child.stdout.on('data', (c: Buffer) => {
      screen += c.toString();
      if (!typed && screen.includes(prompt)) {
        typed = true;
        child.stdin.write(answer);
      }
    });
    child.on('close', (code) => resolve({ code, screen }));
  });
}

describe('the PIN on a terminal', () => {
  it.runIf(spawnSync('script', ['--version']).status === 0)('asks for the PIN of a payment above the threshold without echoing it, and pays', async () => {
    copyFileSync(at('card.json'), at('card-tty.json'));
    const pay = `drmb pos pay --amount 300 --sim card-tty.json --psam-sim psam.json --keys keys --queue q-tty.jsonl`;
    const r = await onTerminal(`${drmbShellFunction()}; ${pay}`, 'PIN for 300.00 yuan: ', '864213\r');
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toMatch(/PIN for 300\.00 yuan: /);
    expect(r.screen).not.toContain('864213');
    expect(r.screen).toMatch(/paid 300\.00 yuan by card 10000000000000000001/);
  }, 120_000);
});
