import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoData } from '../../db/seed/index.js';
import { EVENT_KINDS, Simulator } from '../../db/simulate/simulator.js';
import { hashPassword } from '../../server/auth/password.js';
import { ChangeReader } from '../../server/realtime/change-reader.js';
import { poolDb } from '../../server/data/db.js';
import { refreshRollups } from '../../server/services/analytics/rollups.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { drain, reconciledMetrics } from '../support/metrics.js';

// `npm run simulate` against a small demo database: valid activity of every kind, and what it
// does to the wallboard and the analytics rollups.

const root = path.resolve(import.meta.dirname, '../..');
const TZ = 'Europe/Berlin';

/** The last millisecond of the day `t` falls on in `tz` (days of 24 hours: a DST change is off by one). */
function lastMomentOfDay(tz: string, t: number): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  }).formatToParts(new Date(t));
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const intoDay = ((part('hour') * 60 + part('minute')) * 60 + part('second')) * 1000 + (t % 1000);
  return t - intoDay + 86_400_000 - 1;
}
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedDemoData(db.url, { customers: 200, passwordHash: await hashPassword('pulse-demo') });
  await db.sql.query(`UPDATE users SET status = 'online' WHERE role = 'agent'`);
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

const tables = async () => {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of [
    ['sales_daily', 'day'],
    ['product_sales_daily', 'day, product_id'],
    ['customer_order_stats', 'customer_id'],
    ['customer_monthly', 'customer_id, month']
  ]) {
    out[table] = (await db.sql.query(`SELECT * FROM ${table} ORDER BY ${order}`)).rows;
  }
  return out;
};

describe('the simulator', () => {
  it(
    'writes 200 events of every kind without breaking a rule, and the wallboard and rollups keep up exactly',
    { timeout: 60_000 },
    async () => {
      const rollups = poolDb(db.sql);
      await refreshRollups(rollups, TZ);
      // Every simulated event is before this "now", and it is still today in TZ (ten minutes later,
      // unless that is past midnight there: then the day's last millisecond).
      const clock = Math.min(Date.now() + 10 * 60_000, lastMomentOfDay(TZ, Date.now()));
      const reader = new ChangeReader(db.sql);
      await reader.start();
      const metrics = await reconciledMetrics(db.sql, { timezone: TZ, clock: () => clock });
      const before = metrics.snapshot()!;

      const simulator = await Simulator.create(db.sql, 42);
      // A fixed amount of activity, not a time window: a busy machine takes longer, not less.
      while (simulator.total < 200) {
        await simulator.step();
        if (simulator.total % 50 === 0) await reader.read((r) => metrics.apply(r.rows));
      }
      expect(simulator.errors).toBe(0);
      const seen = EVENT_KINDS.filter((k) => simulator.counts[k] > 0);
      expect(seen).toEqual(
        expect.arrayContaining([
          'order_placed',
          'order_paid',
          'order_shipped',
          'ticket_opened',
          'ticket_answered',
          'ticket_resolved'
        ])
      );
      expect(seen.length).toBeGreaterThanOrEqual(12);

      // The rules hold: balances are their ledgers and never negative; order totals are their lines.
      const { rows: balances } = await db.sql.query(
        `SELECT count(*)::int AS wrong FROM loyalty_accounts a
        WHERE a.balance <> coalesce((SELECT sum(points) FROM loyalty_ledger l WHERE l.account_id = a.id), 0) OR a.balance < 0`
      );
      expect(balances[0].wrong).toBe(0);
      const { rows: totals } = await db.sql.query(
        `SELECT count(*)::int AS wrong FROM orders o
        WHERE o.attributes->>'source' = 'simulator' AND o.total <> (SELECT sum(quantity * unit_price) FROM order_items WHERE order_id = o.id)`
      );
      expect(totals[0].wrong).toBe(0);
      const { rows: reversals } = await db.sql.query(
        `SELECT count(*)::int AS n FROM loyalty_ledger WHERE kind = 'reverse' AND idempotency_key LIKE 'order:%:reverse:%'`
      );
      expect(
        reversals[0].n + simulator.counts.order_refunded + simulator.counts.order_cancelled
      ).toBeGreaterThan(0);

      // The wallboard kept from the change stream equals one recomputed from SQL, and it moved.
      await drain(reader, metrics);
      const fresh = await reconciledMetrics(db.sql, { timezone: TZ, clock: () => clock });
      expect(metrics.snapshot()).toEqual(fresh.snapshot());
      expect(fresh.snapshot()!.commerce.ordersToday.value).toBeGreaterThan(before.commerce.ordersToday.value);

      // The rollups folded from the triggers' markers equal a rebuild from scratch.
      expect(await refreshRollups(rollups, TZ)).toMatchObject({ rebuilt: false });
      const folded = await tables();
      await refreshRollups(rollups, TZ, { force: true });
      expect(await tables()).toEqual(folded);
    }
  );

  it(
    'runs from the command line at a given rate and stops by itself or on Ctrl-C',
    { timeout: 60_000 },
    async () => {
      const run = (args: string[], env: Record<string, string>, interruptOn?: RegExp) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', 'db/simulate/cli.ts', ...args], {
            cwd: root,
            env: { ...process.env, ...env }
          });
          let stderr = '';
          child.stderr.on('data', (d) => {
            stderr += d;
            if (interruptOn?.test(stderr) && child.exitCode === null) child.kill('SIGINT');
          });
          child.on('exit', (code) => resolve({ code, stderr }));
        });
      const timed = await run(['--rate', '20', '--seconds', '2', '--seed', '3'], { DATABASE_URL: db.url });
      expect(timed.code).toBe(0);
      expect(timed.stderr).toMatch(/Simulating 20 events\/s/);
      expect(timed.stderr).toMatch(/\d+ events in 2 s/);
      expect(timed.stderr).not.toMatch(/errors|failed/);

      // Ctrl-C: it finishes the event in hand, prints the count and exits cleanly.
      const interrupted = await run(['--rate', '50'], { DATABASE_URL: db.url }, /Ctrl-C stops/);
      expect(interrupted.code).toBe(0);
      expect(interrupted.stderr).toMatch(/\d+ events in \d+ s/);

      const unreachable = await run(['--rate', '1'], {
        DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/pulse'
      });
      expect(unreachable.code).toBe(1);
      expect(unreachable.stderr).toMatch(
        /Cannot reach Postgres at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/pulse/
      );
      expect(unreachable.stderr).not.toContain('secret');
    }
  );
});
