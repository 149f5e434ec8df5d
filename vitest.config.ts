/** @module vitest configuration: tests sit beside the code; cross-folder suites live in test/. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    pool: 'threads',
    // builds pcscd's TCP_NODELAY shim, and says loudly at the end when the PC/SC suites could not run
    globalSetup: ['test/global-setup.ts'],
    // drmb commands keep their value journal in $DRMB_HOME: a test that names none never touches ~/.drmb
    env: { DRMB_HOME: join(tmpdir(), `drmb-test-home-${process.pid}`) },
  },
});
