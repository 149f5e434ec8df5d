/**
 * @module A registry process for bank/sharded-registry.test.ts that is killed in the middle of a
 * two-phase commit: it opens the registry across the servers given, moves the coins given from one
 * owner to another, and SIGKILLs itself at the commit phase named ('prepared': the other servers have
 * prepared, home has not decided; 'decided': home has committed the decision, nothing is committed
 * elsewhere yet). Argument: JSON { shards, schema, phase, serials (hex), from, to }.
 */
import { hexToBytes } from '../base/bytes.js';
import { Registry } from '../bank/registry.js';
import { type CommitPhase, ShardedDb } from '../bank/sharded-db.js';

const args = JSON.parse(process.argv[process.argv.length - 1]) as { shards: string[]; schema: string; phase: CommitPhase; serials: string[]; from: string; to: string };
const db = await ShardedDb.open({
  connectionStrings: args.shards,
  schema: args.schema,
  onCommitPhase: (phase) => {
    if (phase === args.phase) process.kill(process.pid, 'SIGKILL');
  },
});
const reg = await Registry.onDb(db);
await reg.transfer(args.serials.map(hexToBytes), args.from, args.to);
// Reached only when the commit never came to the phase: the test sees exit code 3, not SIGKILL.
process.exit(3);
