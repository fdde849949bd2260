import pg from 'pg';
import { hashPassword } from '../../server/auth/password.js';
import { newIdCounters } from './context.js';
import { DEMO_PASSWORD } from './demo-users.js';
import { generateCustomerChunk } from './generate-chunk.js';
import { generateReference } from './generate-reference.js';
import { InsertPipeline, insertInSeedTransaction } from './insert-pipeline.js';
import { count, createProgressBar } from './progress-bar.js';
import { SalesCalendar } from './sales-calendar.js';
import { SEEDED_TABLES, type SeededTable } from './tables.js';
import type { SeedContext } from './types.js';
import { readSlaPolicies, readTierThresholds, readVipRule } from './vip.js';

export interface SeedOptions {
  /** Customers to create; orders, tickets, reviews and loyalty scale with it. Default 5,000. */
  customers?: number;
  /** Seed of the random streams. Default 42. */
  seed?: number;
  /** Nothing is dated after this moment. Default: the start of the current UTC day. */
  now?: Date;
  log?: (msg: string) => void;
  /** Draw a progress bar on stderr. */
  progress?: boolean;
  /** An argon2id hash to give the demo users instead of hashing DEMO_PASSWORD (saves ~50 ms in tests). */
  passwordHash?: string;
  /** Customers per transaction. Default 2,000. */
  chunkSize?: number;
  /**
   * Connections inserting chunks side by side. Default 2. Inserting is CPU-bound in Postgres (indexes,
   * foreign keys, the loyalty trigger), one core per connection: 2 was 1.3x faster on a busy 2-core machine.
   */
  connections?: number;
}

export interface SeedSummary {
  seed: number;
  now: Date;
  customers: number;
  rows: Record<SeededTable, number>;
  totalRows: number;
  seconds: number;
  rowsPerSecond: number;
}

export const DEFAULT_CUSTOMERS = 5000;
export const DEFAULT_SEED = 42;
/** See SeedOptions.connections. */
export const DEFAULT_CONNECTIONS = 2;
const DEFAULT_CHUNK = 2000;
const ORDER_WINDOW_MONTHS = 18;
/** Open tickets (new/open/pending) the seed aims for at the default size and above. */
const BACKLOG_TARGET = 90;
/** Orders per customer with something happening in the last ten days (measured on the default data). */
const RECENT_ORDERS_PER_CUSTOMER = 0.25;
/** Serialises seeders (a server start and a CLI run, say) on one database. */
const SEED_LOCK_KEY = 7210330642;

export class DatabaseNotEmptyError extends Error {
  constructor(readonly tables: string[]) {
    super(
      `The demo seed only fills an empty database, but ${tables.join(', ')} already ${tables.length === 1 ? 'has' : 'have'} rows. ` +
        'Seed a freshly created database instead (for example dropdb + createdb, then npm run db:seed).'
    );
    this.name = 'DatabaseNotEmptyError';
  }
}

/**
 * Fills an empty, migrated database with deterministic demo data: the same seed, size and `now`
 * give the same rows, ids included. Customers are generated and committed in chunks, so millions
 * of rows never sit in memory at once and progress is real.
 */
export async function seedDemoData(url: string, opts: SeedOptions = {}): Promise<SeedSummary> {
  const customers = opts.customers ?? DEFAULT_CUSTOMERS;
  const seed = opts.seed ?? DEFAULT_SEED;
  // Up to the minute it is generated: a newcomer at 03:30 sees today's orders and tickets so far,
  // and yesterday's at the same time, not an empty day.
  const now = opts.now ?? startOfMinute(new Date());
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const connections = opts.connections ?? DEFAULT_CONNECTIONS;
  if (!Number.isInteger(customers) || customers < 0)
    throw new RangeError(`customers must be a whole number >= 0, got ${customers}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (Number.isNaN(now.getTime())) throw new RangeError('now must be a valid date');
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`chunkSize must be a whole number >= 1, got ${chunkSize}`);
  if (!Number.isInteger(connections) || connections < 1)
    throw new RangeError(`connections must be a whole number >= 1, got ${connections}`);
  const log = opts.log ?? (() => undefined);
  const startedAt = performance.now();

  const clients = await connect(url, connections);
  const [main] = clients;
  try {
    await main.query('SELECT pg_advisory_lock($1)', [SEED_LOCK_KEY]);
    await assertEmpty(main);
    log(`Seeding demo data: ${count(customers)} customers, seed ${seed}, dated up to ${now.toISOString()}.`);
    const passwordHash = opts.passwordHash ?? (await hashPassword(DEMO_PASSWORD));
    const { context, reference } = createContext(customers, seed, now, passwordHash, {
      vipRule: await readVipRule(main),
      sla: await readSlaPolicies(main),
      tiers: await readTierThresholds(main)
    });

    const rows = Object.fromEntries(SEEDED_TABLES.map((table) => [table, 0])) as Record<SeededTable, number>;
    let totalRows = 0;
    let customersDone = 0;
    const bar = opts.progress ? createProgressBar(customers) : null;
    const committed = (inserted: Map<string, number>, chunkCustomers: number) => {
      for (const [table, n] of inserted) {
        rows[table as SeededTable] += n;
        totalRows += n;
      }
      customersDone += chunkCustomers;
      bar?.update(customersDone, totalRows);
    };
    committed(await insertInSeedTransaction(main, reference.batches), 0);

    // The next chunk is generated while the database inserts the previous ones.
    const pipeline = new InsertPipeline(clients, committed);
    try {
      for (let first = 1; first <= customers; first += chunkSize) {
        const last = Math.min(customers, first + chunkSize - 1);
        await pipeline.submit(await generateCustomerChunk(context, first, last), last - first + 1);
      }
      await pipeline.finish();
    } catch (error) {
      await pipeline.settle();
      throw partlySeeded(error, customersDone, customers);
    } finally {
      bar?.finish();
    }

    await resetIdentitySequences(main);
    log('Analyzing tables...');
    await main.query('ANALYZE');
    const seconds = (performance.now() - startedAt) / 1000;
    const summary = {
      seed,
      now,
      customers,
      rows,
      totalRows,
      seconds,
      rowsPerSecond: Math.round(totalRows / seconds)
    };
    log(
      `Seeded ${count(totalRows)} rows in ${seconds.toFixed(1)} s (${count(summary.rowsPerSecond)} rows/s).`
    );
    return summary;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

async function connect(url: string, connections: number): Promise<pg.Client[]> {
  const clients: pg.Client[] = [];
  try {
    for (let i = 0; i < connections; i++) {
      const client = new pg.Client({ connectionString: url, application_name: 'pulse-seed' });
      clients.push(client);
      await client.connect();
    }
  } catch (error) {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    throw error;
  }
  return clients;
}

function partlySeeded(error: unknown, done: number, total: number): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(
    `Seeding stopped after ${count(done)} of ${count(total)} customers were committed: ${reason}. ` +
      'The database is partly seeded; drop and recreate it before seeding again.',
    { cause: error }
  );
}

/** Seeds only a database with neither users nor customers; returns whether it did. */
export async function seedIfEmpty(url: string, opts: SeedOptions = {}): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, application_name: 'pulse-seed' });
  await client.connect();
  let empty: boolean;
  try {
    const { rows } = await client.query<{ empty: boolean }>(
      'SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM customers) AS empty'
    );
    empty = rows[0].empty;
  } finally {
    await client.end();
  }
  if (!empty) return false;
  try {
    await seedDemoData(url, opts);
    return true;
  } catch (error) {
    if (error instanceof DatabaseNotEmptyError) return false; // another process seeded it meanwhile
    throw error;
  }
}

function createContext(
  customers: number,
  seed: number,
  now: Date,
  passwordHash: string,
  settings: Pick<SeedContext, 'vipRule' | 'sla' | 'tiers'>
) {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const windowStart = Math.floor(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - ORDER_WINDOW_MONTHS, now.getUTCDate()) / 1000
  );
  // A bigger shop has a bigger catalogue: ~500 products at the default size, at most 2,000.
  const productCount = Math.min(
    2000,
    Math.max(40, Math.round(500 * Math.sqrt(customers / DEFAULT_CUSTOMERS)))
  );
  const reference = generateReference({ seed, windowStart, now: nowSeconds, productCount, passwordHash });
  const backlog = Math.min(BACKLOG_TARGET, customers * (BACKLOG_TARGET / DEFAULT_CUSTOMERS));
  const context: SeedContext = {
    seed,
    now: nowSeconds,
    windowStart,
    customerCount: customers,
    calendar: new SalesCalendar(windowStart, nowSeconds),
    catalogue: reference.catalogue,
    staff: reference.staff,
    // Two thirds of the backlog is about recent orders, one third about accounts and points.
    backlogOrderChance: Math.min(1, (backlog * 2) / 3 / Math.max(1, customers * RECENT_ORDERS_PER_CUSTOMER)),
    backlogOtherChance: customers === 0 ? 0 : backlog / 3 / customers,
    ...settings,
    ids: newIdCounters()
  };
  return { context, reference };
}

async function assertEmpty(client: pg.Client): Promise<void> {
  const { rows: schema } = await client.query<{ ok: boolean }>(
    "SELECT to_regclass('loyalty_ledger') IS NOT NULL AS ok"
  );
  if (!schema[0].ok)
    throw new Error('The database has no Pulse schema yet: run the migrations first (npm run db:migrate).');
  const checks = SEEDED_TABLES.map((table) => `EXISTS (SELECT 1 FROM ${table}) AS ${table}`).join(', ');
  const { rows } = await client.query<Record<SeededTable, boolean>>(`SELECT ${checks}`);
  const filled = SEEDED_TABLES.filter((table) => rows[0][table]);
  if (filled.length > 0) throw new DatabaseNotEmptyError(filled);
}

/** Rows were inserted with explicit ids; the identity sequences continue after the largest. */
async function resetIdentitySequences(client: pg.Client): Promise<void> {
  for (const table of SEEDED_TABLES) {
    await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), max(id)) FROM ${table}`);
  }
}

function startOfMinute(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 60_000) * 60_000);
}
