/** @module vitest configuration: tests sit beside the code; cross-folder suites live in test/. */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    pool: 'threads',
  },
});
