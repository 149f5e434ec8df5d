/** @module Runs `drmb sim serve` from source (tsx), for tests that need the card in a child process without a build. */
import { Command, CommanderError } from 'commander';
import { registerServe } from '../cli/sim/serve.js';
import { UsageError } from '../cli/output.js';

// Usage: node --import tsx scripts/sim-serve.ts [--image FILE] [--port N] [--control stdin] ...
const program = new Command('drmb').exitOverride();
const sim = program.command('sim').description('the card simulator').exitOverride();
registerServe(sim);
sim.commands.forEach((c) => c.exitOverride());
try {
  await program.parseAsync(['sim', 'serve', ...process.argv.slice(2)], { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode;
  else if (e instanceof UsageError || (e instanceof Error && e.name === 'FormatError')) {
    process.stderr.write(`drmb: ${e.message}\n`);
    process.exitCode = 2;
  } else throw e;
}
