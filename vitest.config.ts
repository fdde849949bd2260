import { svelte } from '@sveltejs/vite-plugin-svelte';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './tests/support/sequencer.js';

const alias = {
  $shared: path.resolve(import.meta.dirname, 'src/lib/shared'),
  $lib: path.resolve(import.meta.dirname, 'src/lib')
};

// Three projects. `unit`: pure modules and rune classes, next to the code they test, with no
// Postgres, server or browser anywhere (`npx vitest run --project unit` runs in seconds).
// `integration`: a real Postgres (embedded, or TEST_DATABASE_URL), real servers on ephemeral
// ports, real Socket.IO clients; each test file gets its own database. `e2e`: the same plus the
// built app in real Chromium. Both projects share the run's Postgres and migrated template.
export default defineConfig({
  test: {
    maxWorkers: 2,
    // Longest files first across the projects (tests/support/durations.json).
    sequence: { sequencer: LongestFirstSequencer },
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
      // Before `integration`: global setups run in this order, and this one starts the frontend
      // build in the background, so it runs while the database starts.
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup-e2e.ts', 'tests/support/global-setup.ts'],
          setupFiles: ['tests/support/frontend-ready.ts'],
          pool: 'forks',
          // As the integration project: a file starts its own server, browser and database.
          isolate: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // expect.poll waits for what the page shows; its default second is a deadline a loaded
          // machine misses (a wrong password's answer waits on argon2). A net, not the assertion:
          // a test that asserts a latency passes its own timeout (the wallboard's one second).
          expect: { poll: { timeout: 30_000 } }
        }
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          pool: 'forks',
          // Files share their worker's module cache: each file starts its own server and database,
          // and nothing it imports keeps state between files (the import of the server per file
          // was a third of the run's time). A file that fails to close its server fails the next
          // one in its worker loudly (one database per process: server/db.ts).
          isolate: false,
          // A net for a test that hangs, not a speed limit: a child server alone can take 30 s to
          // start on a loaded machine (tests assert their latencies themselves).
          testTimeout: 120_000,
          // A net for setups that start child servers (tests/support/processes.ts allows 120 s).
          hookTimeout: 180_000
        }
      }
    ]
  }
});
