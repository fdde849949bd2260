import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './postgres.js';

export interface TestDatabase {
  url: string;
  /** A plain pg pool on this database, standing in for psql or any outside program. */
  sql: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh database of its own: migrated (a copy of the run's template), or with `empty: true`
 * created empty, for tests that run the migrations themselves.
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const name = `pulse_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(
      opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject('pgTemplate')}`
    );
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const sql = new pg.Pool({ connectionString: url, max: 10 });
  sql.on('error', () => undefined); // connections killed on purpose by some tests
  return {
    url,
    sql,
    drop: async () => {
      await sql.end();
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    }
  };
}

/** Resolves once the backend `pid` waits for a lock (the race a test means to provoke), or throws. */
export async function waitUntilWaitingForLock(sql: pg.Pool, pid: number, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await sql.query(
      `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
      [pid]
    );
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`backend ${pid} never waited for a lock`);
    await new Promise((r) => setImmediate(r));
  }
}
