import { svelte } from '@sveltejs/vite-plugin-svelte';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const alias = {
  $shared: path.resolve(import.meta.dirname, 'src/lib/shared'),
  $lib: path.resolve(import.meta.dirname, 'src/lib')
};

// Three projects. `unit`: pure modules and rune classes, next to the code they test, with no
// Postgres, server or browser anywhere (`npx vitest run --project unit` runs in seconds).
// `integration`: a real Postgres (embedded, or TEST_DATABASE_URL), real servers on ephemeral
// ports, real Socket.IO clients; each test file gets its own database. `e2e`: the same plus the
// built app in real Chromium.
export default defineConfig({
  test: {
    maxWorkers: 2,
    reporters: ['default', './tests/support/summary-reporter.ts'],
    projects: [
      {
        plugins: [svelte({ compilerOptions: { runes: true } })],
        resolve: { alias, conditions: ['browser'] },
        test: {
          name: 'unit',
          include: ['server/**/*.test.ts', 'src/**/*.test.ts', 'db/**/*.test.ts'],
          environment: 'node'
        }
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          pool: 'forks',
          testTimeout: 30_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup-e2e.ts', 'tests/support/global-setup.ts'],
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000
        }
      }
    ]
  }
});
