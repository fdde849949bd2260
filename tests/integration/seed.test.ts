import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseNotEmptyError, seedDemoData, seedIfEmpty } from '../../db/seed/index.js';
import { hashPassword } from '../../server/auth/password.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const now = new Date('2026-06-15T00:00:00Z');
const created: TestDatabase[] = [];
let passwordHash: string;

/** A fresh migrated database, dropped after the file; its URL. */
async function freshDatabase() {
  const db = await createTestDatabase();
  created.push(db);
  return db.url;
}

/** A digest of every table's content, leaving out what the database stamps itself. */
async function fingerprint(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const digest: Record<string, string> = {};
  const queries: Record<string, string> = {
    customers: `SELECT id, email, first_name, last_name, phone, addresses, tags, created_at FROM customers`,
    products: `SELECT id, sku, name, price, stock, category_id FROM products`,
    orders: `SELECT id, customer_id, order_date, status, total, channel, external_id FROM orders`,
    order_items: `SELECT id, order_id, product_id, quantity, unit_price FROM order_items`,
    tickets: `SELECT id, customer_id, subject, status, priority, channel, assignee_id, team_id, created_at, resolved_at, csat_score FROM tickets`,
    ticket_messages: `SELECT id, ticket_id, author_type, author_user_id, body, internal, created_at FROM ticket_messages`,
    loyalty_ledger: `SELECT id, account_id, kind, points, order_id, idempotency_key FROM loyalty_ledger`,
    reviews: `SELECT id, customer_id, product_id, rating, body FROM reviews`
  };
  for (const [table, sql] of Object.entries(queries)) {
    const { rows } = await client.query(
      `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) AS h, count(*)::int AS n FROM (${sql}) t`
    );
    digest[table] = `${rows[0].n}:${rows[0].h}`;
  }
  await client.end();
  return digest;
}

beforeAll(async () => {
  passwordHash = await hashPassword('pulse-demo');
});
afterAll(async () => {
  for (const db of created) await db.drop();
});

describe('the demo data generator', () => {
  it(
    'is deterministic: the same seed gives the same rows; another seed gives others',
    { timeout: 120_000 },
    async () => {
      const [a, b, c] = await Promise.all([freshDatabase(), freshDatabase(), freshDatabase()]);
      await seedDemoData(a, { customers: 400, seed: 7, now, passwordHash, connections: 1 });
      await seedDemoData(b, { customers: 400, seed: 7, now, passwordHash, connections: 2, chunkSize: 150 });
      await seedDemoData(c, { customers: 400, seed: 8, now, passwordHash });
      const [fa, fb, fc] = await Promise.all([fingerprint(a), fingerprint(b), fingerprint(c)]);
      expect(fa).toEqual(fb);
      expect(fa.orders).not.toEqual(fc.orders);
      expect(Number(fa.orders.split(':')[0])).toBeGreaterThan(1000);
    }
  );

  it(
    'runs up to the minute it is generated, so today so far and yesterday at this time have data',
    { timeout: 60_000 },
    async () => {
      const url = await freshDatabase();
      const before = Date.now();
      const summary = await seedDemoData(url, { customers: 40, passwordHash });
      expect(summary.now.getTime()).toBeGreaterThan(before - 60_000);
      expect(summary.now.getTime()).toBeLessThanOrEqual(Date.now());
      expect(summary.now.getUTCSeconds()).toBe(0);
    }
  );

  it('writes consistent data: totals, balances, dates', { timeout: 120_000 }, async () => {
    const url = await freshDatabase();
    const summary = await seedDemoData(url, { customers: 300, now, passwordHash });
    expect(summary.rows.customers).toBe(300);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const one = async (sql: string) => Number((await client.query(sql)).rows[0].n);
    expect(
      await one(
        `SELECT count(*) AS n FROM orders o WHERE o.total <> (SELECT sum(quantity * unit_price) FROM order_items i WHERE i.order_id = o.id)`
      )
    ).toBe(0);
    expect(
      await one(
        `SELECT count(*) AS n FROM loyalty_accounts a WHERE a.balance <> (SELECT coalesce(sum(points), 0) FROM loyalty_ledger l WHERE l.account_id = a.id)`
      )
    ).toBe(0);
    // Tiers as the database's own rule gives them (the seed reads its thresholds from loyalty_tier_for()).
    expect(
      await one(`SELECT count(*) AS n FROM loyalty_accounts WHERE tier <> loyalty_tier_for(lifetime_points)`)
    ).toBe(0);
    expect(await one(`SELECT count(DISTINCT tier) AS n FROM loyalty_accounts`)).toBeGreaterThan(1);
    expect(await one(`SELECT count(*) AS n FROM orders WHERE order_date > '${now.toISOString()}'`)).toBe(0);
    expect(
      await one(`SELECT count(*) AS n FROM tickets WHERE status IN ('new', 'open', 'pending')`)
    ).toBeGreaterThan(0);
    expect(await one(`SELECT count(*) AS n FROM users WHERE email = 'agent@pulse.demo'`)).toBe(1);
    // A bulk load is not replayed to screens: nothing lands in the change log.
    expect(await one(`SELECT count(*) AS n FROM change_log`)).toBe(0);
    await client.end();

    expect(await seedIfEmpty(url, { passwordHash })).toBe(false);
    await expect(seedDemoData(url, { customers: 10, passwordHash })).rejects.toBeInstanceOf(
      DatabaseNotEmptyError
    );
  });
});
