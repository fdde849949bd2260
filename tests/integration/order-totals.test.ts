import type { User } from 'lucia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolDb } from '../../server/data/db.js';
import type { FilterGroup } from '#shared/lists/query.js';
import { compileWhere } from '../../server/services/lists/compile.js';
import {
  compactOrderDailyTotals,
  compactOrderTotals,
  dailyOrderTotals
} from '../../server/services/lists/order-totals.js';
import { summarize } from '../../server/services/lists/rows.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer } from '../support/fixtures.js';

// The orders' unfiltered footer reads the totals migration 0021 maintains: after random writes from
// several connections at once (inserts, updates, deletes, rollbacks, compactions between them), it
// must equal the sum over every order.

let db: TestDatabase;
const manager = { user: { id: 1, role: 'manager', teamId: null } as unknown as User, ip: null };

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** The footer computed the long way: a scan of every order, formatted as summarize() formats it. */
async function direct() {
  const [row] = (
    await db.sql.query<{ count: number; sum: string; avg: string | null }>(
      `SELECT count(*)::integer AS count, coalesce(sum(total), 0)::numeric(20, 2)::text AS sum,
              round(avg(total), 2)::numeric(20, 2)::text AS avg FROM orders`
    )
  ).rows;
  return { count: row.count, sums: { total: row.sum }, averages: row.avg === null ? {} : { total: row.avg } };
}

/** A deterministic random stream (mulberry32). */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('order totals (migration 0021)', () => {
  it('starts equal to the orders already there and stays equal after random concurrent writes', async () => {
    const customers = await Promise.all(
      [1, 2, 3].map((i) => createCustomer(db.sql, `totals${i}@test.dev`, `Totals${i}`))
    );
    expect(await summarize(poolDb(db.sql), manager, 'orders', {})).toEqual(await direct());

    const writer = async (seed: number) => {
      const next = random(seed);
      const client = await db.sql.connect();
      try {
        for (let step = 0; step < 60; step++) {
          const customer = customers[Math.floor(next() * customers.length)];
          const cents = () => (Math.floor(next() * 100_000) / 100).toFixed(2);
          await client.query('BEGIN');
          const op = next();
          if (op < 0.45) {
            const n = 1 + Math.floor(next() * 4);
            await client.query(
              `INSERT INTO orders (customer_id, total)
               SELECT $1, t::numeric FROM unnest($2::text[]) t`,
              [customer, Array.from({ length: n }, cents)]
            );
          } else if (op < 0.75) {
            await client.query(
              `UPDATE orders SET total = $1 WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 2)`,
              [cents()]
            );
          } else if (op < 0.85) {
            await client.query(
              `UPDATE orders SET status = 'paid' WHERE id IN (SELECT id FROM orders LIMIT 3)`
            );
          } else {
            await client.query(
              `DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 1)`
            );
          }
          // One transaction in five is rolled back: its delta must vanish with it.
          await client.query(next() < 0.2 ? 'ROLLBACK' : 'COMMIT');
          if (next() < 0.1) await client.query('SELECT compact_order_totals()');
        }
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        // Two writers deleting or updating the same order may deadlock; Postgres picks a victim.
        if ((err as { code?: string }).code !== '40P01') throw err;
      } finally {
        client.release();
      }
    };
    await Promise.all([11, 22, 33, 44].map(writer));

    const expected = await direct();
    expect(expected.count).toBeGreaterThan(0);
    expect(await summarize(poolDb(db.sql), manager, 'orders', {})).toEqual(expected);
    const [{ deltas }] = (
      await db.sql.query<{ deltas: number }>(`SELECT count(*)::integer AS deltas FROM order_totals`)
    ).rows;
    expect(deltas).toBeGreaterThan(1);

    // Folded into one row, still the same.
    await compactOrderTotals(poolDb(db.sql));
    expect(
      (await db.sql.query<{ n: number }>(`SELECT count(*)::integer AS n FROM order_totals`)).rows[0].n
    ).toBe(1);
    expect(await summarize(poolDb(db.sql), manager, 'orders', {})).toEqual(expected);
  });
});

/** A footer's filter: rules ANDed. */
const and = (...rules: unknown[]) => ({ op: 'and', rules }) as unknown as FilterGroup;
const dayAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** Footers that order_daily_totals answers: dates, status and channel only. */
const DAILY_FILTERS: [string, FilterGroup][] = [
  ['mobile', and({ field: 'channel', operator: 'is_any_of', value: ['mobile'] })],
  [
    'paid or refunded, last 30 days',
    and(
      { field: 'status', operator: 'is_any_of', value: ['paid', 'refunded'] },
      { field: 'orderDate', operator: 'in_last', value: 30 }
    )
  ],
  ['between two dates', and({ field: 'orderDate', operator: 'between', value: [dayAgo(40), dayAgo(10)] })],
  ['on one day', and({ field: 'orderDate', operator: 'on', value: dayAgo(5) })],
  [
    'older than 20 days, not web',
    and(
      { field: 'orderDate', operator: 'before_days_ago', value: 20 },
      { field: 'channel', operator: 'is_none_of', value: ['web'] }
    )
  ],
  [
    'after a date, refunded or pos',
    and(
      { field: 'orderDate', operator: 'after', value: dayAgo(60) },
      {
        op: 'or',
        rules: [
          { field: 'refunded', operator: 'is', value: true },
          { field: 'channel', operator: 'is_any_of', value: ['pos'] }
        ]
      }
    )
  ],
  ['an empty range', and({ field: 'orderDate', operator: 'before', value: '1990-01-01' })]
];

/** The same footer by a scan of the orders with the list's own WHERE. */
async function scanned(filter: FilterGroup) {
  const where = compileWhere('orders', { filter });
  const [row] = (
    await db.sql.query<{ count: number; sum: string; avg: string | null }>(
      `SELECT count(*)::integer AS count, coalesce(sum(o.total), 0)::numeric(20, 2)::text AS sum,
              round(avg(o.total), 2)::numeric(20, 2)::text AS avg FROM orders o WHERE ${where.sql}`,
      where.params
    )
  ).rows;
  return { count: row.count, sums: { total: row.sum }, averages: row.avg === null ? {} : { total: row.avg } };
}

describe('order totals per day, status and channel (migration 0030)', () => {
  it('answers date, status and channel footers exactly after random concurrent writes', async () => {
    const customers = await Promise.all(
      [1, 2].map((i) => createCustomer(db.sql, `daily${i}@test.dev`, `Daily${i}`))
    );
    const statuses = ['pending', 'paid', 'shipped', 'delivered', 'refunded', 'cancelled'];
    const channels = ['web', 'mobile', 'marketplace', 'pos', 'phone'];
    const writer = async (seed: number) => {
      const next = random(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)];
      const client = await db.sql.connect();
      try {
        for (let step = 0; step < 60; step++) {
          // Any instant of the last 90 days: most ranges then start and end inside a day.
          const when = () => new Date(Date.now() - Math.floor(next() * 90 * 86_400_000)).toISOString();
          const cents = () => (Math.floor(next() * 100_000) / 100).toFixed(2);
          await client.query('BEGIN');
          const op = next();
          if (op < 0.45) {
            const n = 1 + Math.floor(next() * 4);
            await client.query(
              `INSERT INTO orders (customer_id, total, order_date, status, channel)
               SELECT $1, t::numeric, d::timestamptz, s::order_status, c::sales_channel
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS x(t, d, s, c)`,
              [
                pick(customers),
                Array.from({ length: n }, cents),
                Array.from({ length: n }, when),
                Array.from({ length: n }, () => pick(statuses)),
                Array.from({ length: n }, () => pick(channels))
              ]
            );
          } else if (op < 0.6) {
            await client.query(
              `UPDATE orders SET total = $1 WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 2)`,
              [cents()]
            );
          } else if (op < 0.75) {
            await client.query(
              `UPDATE orders SET status = $1::order_status, channel = $2::sales_channel
                WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 3)`,
              [pick(statuses), pick(channels)]
            );
          } else if (op < 0.85) {
            // Moves orders to another day.
            await client.query(
              `UPDATE orders SET order_date = $1 WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 2)`,
              [when()]
            );
          } else {
            await client.query(
              `DELETE FROM orders WHERE id IN (SELECT id FROM orders ORDER BY random() LIMIT 1)`
            );
          }
          await client.query(next() < 0.2 ? 'ROLLBACK' : 'COMMIT');
          if (next() < 0.1) await client.query('SELECT compact_order_daily_totals()');
        }
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        if ((err as { code?: string }).code !== '40P01') throw err;
      } finally {
        client.release();
      }
    };
    await Promise.all([5, 6, 7, 8].map(writer));

    const check = async () => {
      for (const [name, filter] of DAILY_FILTERS) {
        const expected = await scanned(filter);
        expect(await dailyOrderTotals(poolDb(db.sql), filter), name).toEqual(expected);
        expect(await summarize(poolDb(db.sql), manager, 'orders', { filter }), name).toEqual(expected);
      }
    };
    expect((await scanned(DAILY_FILTERS[0][1])).count).toBeGreaterThan(0);
    await check();
    await compactOrderDailyTotals(poolDb(db.sql));
    const [{ several }] = (
      await db.sql.query<{ several: number }>(
        `SELECT count(*)::integer AS several FROM (SELECT 1 FROM order_daily_totals GROUP BY day, status, channel HAVING count(*) > 1) x`
      )
    ).rows;
    expect(several).toBe(0);
    await check();
  });

  it('leaves footers with other filters or a search to the scan', async () => {
    const db0 = poolDb(db.sql);
    expect(await dailyOrderTotals(db0, and({ field: 'total', operator: 'gt', value: '10' }))).toBeNull();
    expect(
      await dailyOrderTotals(db0, {
        op: 'or',
        rules: [
          { field: 'orderDate', operator: 'in_last', value: 3 },
          { field: 'channel', operator: 'is_any_of', value: ['web'] }
        ]
      } as unknown as FilterGroup)
    ).toBeNull();
    const filter = and(
      { field: 'channel', operator: 'is_any_of', value: ['web'] },
      { field: 'total', operator: 'gt', value: '100' }
    );
    expect(await summarize(db0, manager, 'orders', { filter })).toEqual(await scanned(filter));
  });
});
