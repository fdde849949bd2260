/**
 * npm run db:seed -- [--customers 5000] [--seed 42] [--now 2026-11-24T00:00:00Z]
 * Applies pending migrations to DATABASE_URL, then fills the (empty) database with demo data.
 */
import { parseArgs } from 'node:util';
import { migrateDatabase } from '../migrate.js';
import { count } from './progress-bar.js';
import {
  DEFAULT_CONNECTIONS,
  DEFAULT_CUSTOMERS,
  DEFAULT_SEED,
  seedDemoData,
  type SeedSummary
} from './index.js';

const USAGE = `Usage: DATABASE_URL=postgres://user@host:5432/db npm run db:seed -- [options]

  --customers <n>   customers to generate (default ${DEFAULT_CUSTOMERS}); everything else scales with it
  --seed <n>        random seed (default ${DEFAULT_SEED}); same seed, size and --now give identical rows
  --now <iso date>  reference moment, nothing is dated after it (default: now, to the minute)
  --connections <n> connections inserting side by side (default ${DEFAULT_CONNECTIONS}; Postgres uses a core per connection)
  -h, --help        show this help`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < 0)
    fail(`--${name} must be a whole number, got "${text}".\n\n${USAGE}`);
  return value;
}

function printSummary(summary: SeedSummary): void {
  const width = Math.max(...Object.keys(summary.rows).map((t) => t.length), 'total'.length);
  const numbers = Math.max(count(summary.totalRows).length, 4);
  const lines = [
    `${'table'.padEnd(width)}  ${'rows'.padStart(numbers)}`,
    `${'-'.repeat(width)}  ${'-'.repeat(numbers)}`,
    ...Object.entries(summary.rows).map(
      ([table, rows]) => `${table.padEnd(width)}  ${count(rows).padStart(numbers)}`
    ),
    `${'-'.repeat(width)}  ${'-'.repeat(numbers)}`,
    `${'total'.padEnd(width)}  ${count(summary.totalRows).padStart(numbers)}`,
    '',
    `${summary.seconds.toFixed(1)} s, ${count(summary.rowsPerSecond)} rows/s (seed ${summary.seed}, now ${summary.now.toISOString()})`
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  let values: { customers?: string; seed?: string; now?: string; connections?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        customers: { type: 'string' },
        seed: { type: 'string' },
        now: { type: 'string' },
        connections: { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    fail(`DATABASE_URL is not set: the seed needs a Postgres database to fill.\n\n${USAGE}`);
  }
  const customers = wholeNumber('customers', values.customers, DEFAULT_CUSTOMERS);
  const seed = wholeNumber('seed', values.seed, DEFAULT_SEED);
  const connections = Math.max(1, wholeNumber('connections', values.connections, DEFAULT_CONNECTIONS));
  const now = values.now === undefined ? undefined : new Date(values.now);
  if (now && Number.isNaN(now.getTime())) fail(`--now must be an ISO date, got "${values.now}".`);

  const say = (msg: string) => process.stderr.write(`${msg}\n`);
  const applied = await migrateDatabase(url);
  say(applied.length > 0 ? `Applied migrations: ${applied.join(', ')}` : 'Migrations are up to date.');
  const summary = await seedDemoData(url, { customers, seed, now, connections, progress: true, log: say });
  printSummary(summary);
}

main().catch((error: unknown) => {
  fail(`Seeding failed: ${error instanceof Error ? error.message : String(error)}`, 1);
});
