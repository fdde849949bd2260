import { defineConfig } from 'vitest/config';

// Tests talk to a real Postgres (embedded, or TEST_DATABASE_URL), real servers on ephemeral
// ports, real Socket.IO clients and real Chromium. Each test file gets its own database.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'server/**/*.test.ts', 'src/**/*.test.ts', 'db/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/support/summary-reporter.ts']
  }
});
