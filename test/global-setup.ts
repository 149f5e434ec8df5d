/**
 * @module The test run's global setup: builds pcscd's TCP_NODELAY shim when gcc is there (the PC/SC
 * suites need it), and at the end of the run says in one loud line when the PC/SC suites could not
 * run on this machine and what to install (in CI they fail instead of skipping: test/pcsc/pcsc-fixture.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pcscStackMissing } from '../scripts/pcsc-harness.js';

const BUILD_SHIM = fileURLToPath(new URL('../scripts/pcsc/build-shim.sh', import.meta.url));

export default function setup(): () => void {
  try {
    execFileSync('bash', [BUILD_SHIM], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch {
    // no gcc, or it failed: the PC/SC suites name what is missing, and the line below repeats it
  }
  return () => {
    const missing = pcscStackMissing();
    const inCi = !!process.env.CI && process.env.CI !== 'false';
    if (missing.length && !inCi) {
      process.stderr.write(`\n*** The PC/SC suites (test/pcsc/) were SKIPPED: not installed: ${missing.join(', ')}. Run scripts/pcsc/setup.sh (as root, or with sudo) to run them. ***\n\n`);
    }
  };
}
