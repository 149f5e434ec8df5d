/**
 * @module The examples of every drmb command, written once: `drmb <command> --help` ends with them
 * (addExamples) and docs/cli.md lists them (cli/render-cli-reference.ts); a test checks that each
 * names only options its command has.
 */
import type { Command as Cli } from 'commander';
import { commandPath } from './required-options.js';

/** One example: the command line (without the leading "drmb") and what it does. */
export interface CommandExample {
  line: string;
  what: string;
}

/** The examples, by command path without "drmb" ("pos pay"). */
export const COMMAND_EXAMPLES: Record<string, readonly CommandExample[]> = {
  'spec list': [
    { line: 'spec list', what: 'every card command with its header' },
    { line: 'spec list --psam', what: "the PSAM's commands" },
  ],
  'spec show': [{ line: 'spec show "DEBIT FOR PURCHASE"', what: "one command's reference section" }],
  'spec decode': [{ line: 'spec decode 805C000204 000027109000', what: 'a command APDU and its response, decoded' }],
  'spec sw': [{ line: 'spec sw 6985', what: 'what a status word means' }],
  demo: [
    { line: 'demo --dir demo-run', what: 'the whole life of two simulated cards, each party with its own keys' },
    { line: 'demo --dir demo-run --json', what: 'the same, as a JSON report' },
  ],
  'keys init': [{ line: 'keys init --dir keys', what: 'a development key ceremony: every master key and trust-anchors.json' }],
  'keys generate': [{ line: 'keys generate coin-signing --index 2 --out keys/coin-signing-2.json', what: 'one more key of a kind' }],
  'keys show': [{ line: 'keys show keys/cb-master.json', what: "a key file's kind, mode and check values (never the key)" }],
  'keys user-key': [
    { line: "keys user-key --identity 'shop@merchant' --out shop.key --keys keys", what: "a payee's SM9 encryption key, to open packets without a card" },
    { line: "keys user-key --sign --identity 'pos-202611220001@merchant' --out terminal.key --keys keys", what: "a POS terminal's SM9 signing key, for the change it pays" },
  ],
  'keys export': [{ line: 'keys export --role pos --out pos-bundle --keys keys', what: "the POS terminal's bundle: trust anchors only" }],
  'kgc serve': [{ line: 'kgc serve --keys kgc-bundle --port 8790', what: 'the KGC as its own process on 127.0.0.1' }],
  'kgc authorize': [{ line: 'kgc authorize --desk-key desk-bundle --name "desk 3" --keys kgc-bundle', what: 'let an issuance desk ask the KGC for holder keys' }],
  'sim serve': [
    { line: 'sim serve --image card.json', what: 'a simulated card in the PC/SC reader "Virtual PCD 00 00" (vpcd)' },
    {
      line: 'sim serve --slots 2 --image a.json --image b.json --control-socket serve.sock',
      what: 'a card in each of vpcd\'s two readers from one process; "slot 1 load c.json" on the socket puts another card in the second',
    },
  ],
  'sim create': [
    { line: 'sim create --image card.json --card-id 10000000000000000001 --keys keys', what: 'a blank card image' },
    { line: 'sim create --psam --image psam.json --keys keys', what: "a blank PSAM for a POS terminal's second slot" },
  ],
  'perso prepare': [
    { line: 'perso prepare --sim card.json --keys keys', what: 'central-bank card prep of a simulated card with the example profile' },
    { line: 'perso prepare --batch --sim-dir cards --profile my-prepare.json --keys keys', what: 'every image of a folder, one worker each, with a profile of its own' },
  ],
  'perso psam': [{ line: 'perso psam --sim psam.json --terminal-id 202611220001 --keys keys', what: "personalize the terminal's PSAM" }],
  'perso issue': [
    { line: 'perso issue --sim card.json --keys keys', what: 'issue the card (example profile); the PIN is asked on the terminal' },
    { line: 'perso issue --sim card.json --pin-file - --keys keys', what: 'the PIN from standard input' },
  ],
  'perso audit verify': [{ line: 'perso audit verify perso-audit.log', what: "check the audit log's hash chain" }],
  'perso run-script': [{ line: 'perso run-script prep.script --sim card.json --keys keys', what: 'replay a script written by perso prepare --dry-run --script-out' }],
  'card readers': [{ line: 'card readers', what: 'the PC/SC readers and whether each holds a card' }],
  'card replay': [{ line: 'card replay session.txt --sim card.json', what: 'send a transcript written by --record again and report the first response that differs' }],
  'card info': [{ line: 'card info --sim card.json', what: "a card's ID, state, balance and PIN tries" }],
  'card apdu': [
    { line: 'card apdu --sim card.json 00A4040006F044524D420100 805C000204', what: 'SELECT and GET BALANCE, each response with its status word' },
    { line: 'card apdu --sim card.json --script - --json', what: 'APDUs from standard input, the result as JSON (sw in hex)' },
  ],
  'card balance': [
    { line: 'card balance --sim card.json', what: 'the balance in yuan' },
    { line: 'card balance --sim card.json --central http://127.0.0.1:8790 --pin-file -', what: 'split into coins registered online and coins received offline, not yet settled' },
  ],
  'card log': [{ line: 'card log --sim card.json', what: "the card's transaction log" }],
  'card block': [{ line: 'card block --sim card.json --keys desk', what: 'block a card reported lost; asks first, prints the state after' }],
  'card unblock': [{ line: 'card unblock --sim card.json --keys desk --yes', what: 'unblock it again once found, without asking' }],
  'card reload-pin': [{ line: 'card reload-pin --sim card.json --keys desk --pin-file -', what: 'a new PIN for a holder who forgot it, read from standard input' }],
  'card set-limits': [
    { line: 'card set-limits --sim card.json --keys desk --single-limit 500 --pin-threshold 100', what: 'raise the single payment limit, lower the PIN threshold' },
  ],
  'card change-pin': [{ line: 'card change-pin --sim card.json', what: "the holder changes the PIN, the old and the new one asked on the terminal" }],
  'card terminate': [{ line: 'card terminate --sim card.json --keys desk', what: 'end a card with no coins left; asks first (--yes in scripts)' }],
  'card return': [
    {
      line: 'card return --sim card.json --keys desk --vault-keys vault --central http://127.0.0.1:8790 --bank-code 102100000001 --bank-key bank.key',
      what: "the holder gives the card back: its coins to the bank's vault, the balance paid in cash, the card terminated; run again to finish after any interruption",
    },
  ],
  'card recover': [{ line: 'card recover --sim card.json', what: 'finish a value command a killed host left open' }],
  'pos pay': [
    { line: 'pos pay --amount 30 --sim card.json --psam-sim psam.json --keys keys --queue pos-queue.jsonl', what: 'a purchase paid with coins that make the price exactly' },
    {
      line: 'pos pay --amount 30 --sim card.json --psam-sim psam.json --keys keys --queue pos-queue.jsonl --float float.json --terminal-key terminal.key',
      what: 'with change from the float when the card has no exact coins',
    },
    { line: 'pos pay --amount 300 --reader "00 00" --psam-reader "00 01" --keys keys --queue pos-queue.jsonl --pin-file -', what: 'cards in readers; the PIN on standard input' },
  ],
  'pos float': [{ line: 'pos float --amount 86 --bank-code 104100000003 --out float.json --keys keys', what: "the merchant bank's coins for the terminal's change" }],
  'bank mint': [
    { line: 'bank mint --amount 1000 --to-bank 102100000001 --keys keys', what: "mint 1000.00 yuan into a bank's vault (asks first)" },
    { line: 'bank mint --amount 1000 --to-bank 102100000001 --keys keys --yes', what: 'without asking (scripts)' },
  ],
  'bank withdraw': [{ line: 'bank withdraw --amount 300 --bank-code 102100000001 --sim card.json --keys keys', what: "300.00 yuan from the bank's vault onto the card" }],
  'bank renew': [
    {
      line: 'bank renew --sim card.json --keys vault --central http://127.0.0.1:8790 --bank-code 102100000001 --bank-key bank.key --before 20280101',
      what: 'exchange the coins expiring before 2028 for fresh ones in one visit; run again to finish after any interruption',
    },
  ],
  'bank deposit': [
    { line: 'bank deposit --queue pos-queue.jsonl --payee shop@merchant --bank-code 104100000003 --keys keys', what: "settle a POS terminal's queue; exit 3 when a double spend is caught" },
    { line: 'bank deposit --packet p.bin --receipt p.bin.receipt --keys keys', what: "settle one peer payment on the payee card's receipt" },
  ],
  'bank redeem': [{ line: 'bank redeem --code 4711000047110000 --bank-code 103100000002 --keys keys', what: 'pay out a withdrawal code at a bank counter' }],
  'bank serve': [{ line: 'bank serve --bank-code 105100000005 --keys keys --port 8791', what: "the payee's bank for online peer payments, on 127.0.0.1" }],
  'registry serve': [{ line: 'registry serve --keys registry-bundle --port 8792', what: "the central bank's registry as its own process on 127.0.0.1" }],
  'registry authorize': [{ line: 'registry authorize --bank-key vault-bundle --bank-code 102100000001 --name "bank 1 head office" --keys registry-bundle', what: "let a commercial bank's signed requests in" }],
  'peer pay': [
    { line: 'peer pay --amount 50 --from-sim a.json --to-sim b.json --packet-out p.bin', what: 'an offline payment from card A to card B' },
    {
      line: 'peer pay --online --bank http://127.0.0.1:8791 --payee-key b.key --trust-anchors keys/trust-anchors.json --amount 50 --from-sim a.json --to-sim b.json --packet-out p.bin',
      what: 'online: the bank changes the owner before card B imports',
    },
  ],
  'peer receive': [{ line: 'peer receive --packet p.bin --sim b.json', what: 'import a packet again into the payee card' }],
  'peer open': [{ line: 'peer open --packet p.bin --payee-key shop.key --out p.opened', what: 'a payee without a card opens the packet for its bank' }],
  'peer confirmations': [{ line: 'peer confirmations --bank http://127.0.0.1:8791 --packet p.bin', what: "the bank's signed confirmations of a payment" }],
  completion: [
    { line: 'completion bash > ~/.local/share/bash-completion/completions/drmb', what: 'bash completion, loaded by bash-completion on demand' },
    { line: 'completion zsh > ~/.zfunc/_drmb', what: 'zsh completion, with ~/.zfunc in $fpath before compinit' },
  ],
  conformance: [
    { line: 'conformance --sim card.json --profile examples/conformance/profile.json', what: 'the conformance suite against a simulated card' },
    { line: 'conformance --list', what: 'the cases and their IDs' },
  ],
};

/** The examples of `cmd` as --help shows them. */
export function examplesHelp(examples: readonly CommandExample[]): string {
  return `\nExamples:\n${examples.map((e) => `  # ${e.what}\n  $ drmb ${e.line}`).join('\n')}\n`;
}

/** Adds its Examples section to the help of every command of the tree that has examples. */
export function addExamples(program: Cli): void {
  const walk = (cmd: Cli): void => {
    const examples = COMMAND_EXAMPLES[commandPath(cmd).replace(/^drmb ?/, '')];
    if (examples) cmd.addHelpText('after', examplesHelp(examples));
    cmd.commands.forEach(walk);
  };
  walk(program);
}
