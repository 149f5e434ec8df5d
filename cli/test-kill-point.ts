/** @module Test-only fault injection: with DRMB_TEST_KILL_AT=<point> in the environment, drmb kills itself with SIGKILL at that named point, as a crash, a kill -9 or a power cut of the host would; the value-journal tests use it. Never set it outside tests. */

/**
 * The named points, each between a card's commit and the host's durable record of it. SIGKILL
 * cannot be caught: no finally block, no exit handler and no buffered write runs, as in a real crash.
 */
export type TestKillPoint = 'after-export' | 'after-packet' | 'after-import' | 'after-credit' | 'after-settle' | 'after-cash-out' | 'after-terminate';

/** Kills the process if DRMB_TEST_KILL_AT names this point. */
export function testKillPoint(point: TestKillPoint, env: Record<string, string | undefined> = process.env): void {
  if (env.DRMB_TEST_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
}
