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

/** Orders dated after `from` and up to `to` (no end: every one after `from`). */
async function ordersBetween(url: string, from: Date, to: Date | null) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM orders WHERE order_date > $1 AND ($2::timestamptz IS NULL OR order_date <= $2)`,
      [from, to]
    );
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

/**
 * The seed's tiers and VIP flags are what the database would decide on the rows it wrote: each
 * account's tier is loyalty_account_tier() (the program in force: basis, thresholds, graces), and a
 * new ticket of each customer the seed gave tickets is flagged by the database's VIP trigger exactly
 * when the seed flagged theirs (the probe is rolled back).
 */
async function expectTiersAndVipsAsTheDatabaseDecides(client: pg.Client) {
  const { rows: tiers } = await client.query(
    `SELECT count(*) FILTER (WHERE tier <> loyalty_account_tier(id, customer_id, lifetime_points))::int AS wrong,
            count(DISTINCT tier)::int AS tiers FROM loyalty_accounts`
  );
  expect(tiers[0].wrong).toBe(0);
  expect(tiers[0].tiers).toBeGreaterThan(1);

  const seeded = await client.query<{ customer_id: number; flagged: boolean }>(
    `SELECT customer_id, bool_or(flagged) AS flagged FROM tickets GROUP BY customer_id`
  );
  await client.query('BEGIN');
  const probed = await client.query<{ customer_id: number; flagged: boolean }>(
    `INSERT INTO tickets (customer_id, subject, team_id, priority)
     SELECT customer_id, 'VIP probe', min(team_id), 'low' FROM tickets GROUP BY customer_id
     RETURNING customer_id, flagged`
  );
  await client.query('ROLLBACK');
  const byCustomer = (rows: { customer_id: number; flagged: boolean }[]) =>
    Object.fromEntries(rows.map((r) => [r.customer_id, r.flagged]));
  expect(byCustomer(probed.rows)).toEqual(byCustomer(seeded.rows));
  expect(seeded.rows.some((r) => r.flagged)).toBe(true);
  expect(seeded.rows.some((r) => !r.flagged)).toBe(true);
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
      expect(await ordersBetween(url, new Date(0), summary.now)).toBeGreaterThan(0);
      expect(await ordersBetween(url, summary.now, null)).toBe(0);

      // A newcomer in the afternoon (a fixed moment and seed, so the same rows every run): the
      // store's day so far has orders, and none is dated after the moment of generation.
      const afternoon = new Date('2026-06-15T15:30:00Z');
      const today = new Date('2026-06-15T00:00:00Z');
      const later = await freshDatabase();
      await seedDemoData(later, { customers: 400, seed: 7, now: afternoon, passwordHash });
      expect(await ordersBetween(later, today, afternoon)).toBeGreaterThan(0);
      expect(await ordersBetween(later, afternoon, null)).toBe(0);
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
    await expectTiersAndVipsAsTheDatabaseDecides(client);
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

  it(
    'gives the tiers of the loyalty program in force, not the thresholds Pulse started with',
    { timeout: 120_000 },
    async () => {
      const url = await freshDatabase();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // A second version, in force now, with far lower thresholds than the first (2,000 / 8,000 /
        // 20,000), and VIPs by tier only (silver): a member the first version makes silver (2,000
        // to 8,000 points) is platinum now, no VIP; one with 500 to 1,000 points is a VIP now.
        await client.query(
          `UPDATE support_settings SET vip_tiers = '{silver}', vip_lifetime_value = 9999999999`
        );
        await client.query(
          `INSERT INTO loyalty_program_versions (number, status, config, effective_at, published_at)
           SELECT 2, 'published',
                  jsonb_set(config, '{tiers,levels}', (
                    SELECT jsonb_agg(jsonb_set(level, '{threshold}', to_jsonb(t.threshold)) ORDER BY n)
                      FROM jsonb_array_elements(config -> 'tiers' -> 'levels') WITH ORDINALITY l (level, n)
                      JOIN (VALUES (1, 0), (2, 500), (3, 1000), (4, 1500)) t (i, threshold) ON t.i = n)),
                  now() - interval '1 minute', now()
             FROM loyalty_program_versions WHERE number = 1`
        );
        await seedDemoData(url, { customers: 300, now, passwordHash });
        await expectTiersAndVipsAsTheDatabaseDecides(client);
        const { rows } = await client.query(
          `SELECT count(*)::int AS n FROM loyalty_accounts WHERE tier <> 'bronze' AND lifetime_points < 2000`
        );
        expect(rows[0].n).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    }
  );
});
