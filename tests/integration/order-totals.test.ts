import type { User } from 'lucia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolDb } from '../../server/data/db.js';
import { compactOrderTotals } from '../../server/services/lists/order-totals.js';
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
