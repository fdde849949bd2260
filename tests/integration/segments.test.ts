import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SegmentRule, type SegmentCondition, type SegmentGroup } from '#shared/schemas/segments.js';
import { poolDb, type Db } from '../../server/data/db.js';
import { compileSegment, compileSegmentTyped } from '../../server/services/segments/compile.js';
import { BASE, countRule, previewRule } from '../../server/services/segments/segments.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createLoyaltyAccount, createTeam, earnPoints } from '../support/fixtures.js';

// Every operator of the rule builder against fixture customers whose answers are known, in both
// compiled shapes (per customer, as the database keeps membership; as a set, as counts read it).

let db: TestDatabase;
let app: Db;
const ids: Record<'a' | 'b' | 'c' | 'd' | 'e', number> = { a: 0, b: 0, c: 0, d: 0, e: 0 };
let products: { p1: number; p2: number; k1: number; k2: number };
let tierOfA: string;

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

async function customer(
  email: string,
  extra: { country?: string; tags?: string[]; attributes?: object; createdDaysAgo?: number }
) {
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name, addresses, tags, attributes, created_at)
     VALUES ($1, 'Fix', 'Ture', $2::jsonb, $3, $4::jsonb, $5) RETURNING id`,
    [
      email,
      JSON.stringify(extra.country ? [{ country: extra.country, default: true }] : []),
      extra.tags ?? [],
      JSON.stringify(extra.attributes ?? {}),
      daysAgo(extra.createdDaysAgo ?? 0)
    ]
  );
  return rows[0].id;
}

async function order(customerId: number, total: string, days: number, status = 'paid', productId?: number) {
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO orders (customer_id, total, status, order_date) VALUES ($1, $2, $3, $4) RETURNING id`,
    [customerId, total, status, daysAgo(days)]
  );
  if (productId)
    await db.sql.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, 1, $3)`,
      [rows[0].id, productId, total]
    );
  return rows[0].id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = poolDb(db.sql);
  const team = await createTeam(db.sql, 'Support');
  const { rows: cats } = await db.sql.query<{ id: number }>(
    `INSERT INTO categories (name) VALUES ('Shoes'), ('Hats') RETURNING id`
  );
  const { rows: prods } = await db.sql.query<{ id: number }>(
    `INSERT INTO products (sku, name, price, category_id, stock) VALUES ('SHOE-1', 'Shoe', 100, $1, 100), ('HAT-1', 'Hat', 20, $2, 100) RETURNING id`,
    [cats[0].id, cats[1].id]
  );
  products = { p1: prods[0].id, p2: prods[1].id, k1: cats[0].id, k2: cats[1].id };
  await db.sql.query(
    `INSERT INTO custom_attribute_definitions (entity, key, label, type) VALUES
       ('customer', 'shoe_size', 'Shoe size', 'number'), ('customer', 'nickname', 'Nickname', 'text')`
  );

  ids.a = await customer('a@fixture.dev', {
    country: 'DE',
    tags: ['vip', "x' OR '1'='1"],
    attributes: { shoe_size: 42, nickname: "Robert'); DROP TABLE customers;--" },
    createdDaysAgo: 400
  });
  ids.b = await customer('b@fixture.dev', { country: 'FR', tags: ['new'], createdDaysAgo: 20 });
  ids.c = await customer('c@fixture.dev', { country: 'DE', attributes: { shoe_size: 38 } });
  ids.d = await customer('d@fixture.dev', { createdDaysAgo: 100 });
  ids.e = await customer('e@fixture.dev', { country: 'US', createdDaysAgo: 500 });

  await order(ids.a, '100.00', 10, 'paid', products.p1);
  await order(ids.a, '120.00', 200, 'delivered', products.p2);
  await order(ids.a, '80.00', 300, 'delivered');
  await order(ids.b, '50.00', 5, 'paid', products.p2);
  await order(ids.d, '500.00', 40, 'cancelled', products.p1);
  await order(ids.e, '5000.00', 350, 'delivered', products.p1);

  const account = await createLoyaltyAccount(db.sql, ids.a);
  await earnPoints(db.sql, { accountId: account, points: 600, reason: 'Order', key: 'fixture-a' });
  // Earned long ago: expires within the next 30 days (12 months after it was earned).
  await db.sql.query(
    `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, created_at)
     VALUES ($1, 'earn', 40, 'Old order', 'fixture-a-old', now() - interval '12 months' + interval '10 days')`,
    [account]
  );
  tierOfA = (await db.sql.query(`SELECT tier FROM customer_stats WHERE customer_id = $1`, [ids.a])).rows[0]
    .tier;

  await db.sql.query(
    `INSERT INTO customer_consents (customer_id, channel, granted, source) VALUES
       ($1, 'email', true, 'checkout'), ($1, 'sms', true, 'checkout'), ($2, 'sms', true, 'checkout'), ($2, 'sms', false, 'customer')`,
    [ids.a, ids.b]
  );
  const { rows: t } = await db.sql.query<{ id: number }>(
    `INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $3, 'Late'), ($2, $3, 'Thanks'), ($4, $3, 'Open one') RETURNING id`,
    [ids.a, ids.e, team, ids.b]
  );
  await db.sql.query(
    `UPDATE tickets SET status = 'resolved', resolved_at = now(), csat_score = CASE WHEN customer_id = $1 THEN 2 ELSE 5 END, csat_at = now() - interval '3 days'
      WHERE id = ANY ($2)`,
    [ids.a, [t[0].id, t[1].id]]
  );
  await db.sql.query(`SELECT segment_refresh_rfm_cutoffs()`);
});
afterAll(async () => {
  await db?.drop();
});

const fixtureIds = () => Object.values(ids);
const nameOf = (id: number) => Object.entries(ids).find(([, v]) => v === id)?.[0];

/** Which fixture customers the rule selects, after checking both shapes agree. */
async function select(rule: SegmentGroup): Promise<string[]> {
  expect(SegmentRule.safeParse(rule).success, JSON.stringify(rule)).toBe(true);
  const types = { shoe_size: 'number', nickname: 'text' } as const;
  const results: string[][] = [];
  // Row-shaped, set-shaped summing orders, and set-shaped reading the kept recent windows (0048).
  const shapes = [
    ['row', false],
    ['set', false],
    ['set', true]
  ] as const;
  for (const [mode, recentKept] of shapes) {
    const { where, params } = compileSegment(rule, mode, { types, recentKept });
    const { rows } = await db.sql.query<{ id: number }>(
      `SELECT c.id FROM ${BASE} WHERE c.id = ANY ($2) AND ${where} ORDER BY c.id`,
      [JSON.stringify(params), fixtureIds()]
    );
    results.push(rows.map((r) => nameOf(r.id)!).sort());
  }
  expect(results[1], `row and set shapes of ${JSON.stringify(rule)}`).toEqual(results[0]);
  expect(results[2], `kept recent windows of ${JSON.stringify(rule)}`).toEqual(results[0]);
  // A draft's count and preview bind each value on its own (compileSegmentTyped): the same customers.
  const typed = compileSegmentTyped(rule, 'set', { types, recentKept: true });
  const { rows } = await db.sql.query<{ id: number }>(
    `SELECT c.id FROM ${BASE} WHERE c.id = ANY ($${typed.values.length + 1}) AND ${typed.where} ORDER BY c.id`,
    [...typed.values, fixtureIds()]
  );
  expect(rows.map((r) => nameOf(r.id)!).sort(), `typed values of ${JSON.stringify(rule)}`).toEqual(
    results[0]
  );
  return results[0];
}
const one = (c: SegmentCondition) => select({ op: 'and', rules: [c] });

describe('segment operators', () => {
  it('spend, orders and AOV', async () => {
    expect(await one({ field: 'lifetimeSpend', operator: 'gte', value: '300' })).toEqual(['a', 'e']);
    expect(await one({ field: 'lifetimeSpend', operator: 'between', value: ['10', '100'] })).toEqual(['b']);
    expect(await one({ field: 'lifetimeSpend', operator: 'eq', value: '0' })).toEqual(['c', 'd']);
    expect(await one({ field: 'recentSpend', days: 30, operator: 'gt', value: '60' })).toEqual(['a']);
    expect(await one({ field: 'recentSpend', days: 30, operator: 'lt', value: '60' })).toEqual([
      'b',
      'c',
      'd',
      'e'
    ]);
    expect(await one({ field: 'recentSpend', days: 60, operator: 'between', value: ['0', '50'] })).toEqual([
      'b',
      'c',
      'd',
      'e'
    ]);
    expect(await one({ field: 'orderCount', operator: 'gte', value: 2 })).toEqual(['a']);
    expect(await one({ field: 'orderCount', operator: 'eq', value: 0 })).toEqual(['c']);
    expect(await one({ field: 'recentOrderCount', days: 365, operator: 'gte', value: 1 })).toEqual([
      'a',
      'b',
      'e'
    ]);
    expect(await one({ field: 'recentOrderCount', days: 30, operator: 'eq', value: 0 })).toEqual([
      'c',
      'd',
      'e'
    ]);
    expect(await one({ field: 'averageOrderValue', operator: 'gt', value: '1000' })).toEqual(['e']);
    expect(await one({ field: 'averageOrderValue', operator: 'lte', value: '100' })).toEqual(['a', 'b', 'd']);
  });

  it('first and last order, sign-up: relative and absolute', async () => {
    expect(await one({ field: 'firstOrderAt', operator: 'in_last', value: 30 })).toEqual(['b']);
    expect(await one({ field: 'firstOrderAt', operator: 'not_in_last', value: 100 })).toEqual(['a', 'e']);
    expect(await one({ field: 'firstOrderAt', operator: 'is_empty' })).toEqual(['c']);
    expect(await one({ field: 'firstOrderAt', operator: 'after', value: daysAgo(45).slice(0, 10) })).toEqual([
      'b',
      'd'
    ]);
    expect(await one({ field: 'lastOrderAt', operator: 'in_last', value: 30 })).toEqual(['a', 'b']);
    expect(await one({ field: 'lastOrderAt', operator: 'not_in_last', value: 30 })).toEqual(['d', 'e']);
    expect(await one({ field: 'lastOrderAt', operator: 'before', value: daysAgo(100).slice(0, 10) })).toEqual(
      ['e']
    );
    expect(
      await one({
        field: 'lastOrderAt',
        operator: 'between',
        value: [daysAgo(60).slice(0, 10), daysAgo(20).slice(0, 10)]
      })
    ).toEqual(['d']);
    expect(await one({ field: 'createdAt', operator: 'in_last', value: 30 })).toEqual(['b', 'c']);
  });

  it('products and categories bought (cancelled orders do not count)', async () => {
    expect(await one({ field: 'productsBought', operator: 'any', value: [products.p1] })).toEqual(['a', 'e']);
    expect(
      await one({ field: 'productsBought', operator: 'all', value: [products.p1, products.p2] })
    ).toEqual(['a']);
    expect(await one({ field: 'productsBought', operator: 'none', value: [products.p1] })).toEqual([
      'b',
      'c',
      'd'
    ]);
    expect(await one({ field: 'productsBought', operator: 'any', value: [products.p1], days: 30 })).toEqual([
      'a'
    ]);
    expect(await one({ field: 'categoriesBought', operator: 'any', value: [products.k2] })).toEqual([
      'a',
      'b'
    ]);
    expect(
      await one({ field: 'categoriesBought', operator: 'none', value: [products.k1, products.k2] })
    ).toEqual(['c', 'd']);
  });

  it('RFM, tier, points and points expiring', async () => {
    const rfm = await db.sql.query<{ id: number; seg: string | null }>(
      `SELECT customer_id AS id, segment_rfm(last_order_at, order_count, lifetime_spend) AS seg FROM customer_stats WHERE customer_id = ANY ($1)`,
      [fixtureIds()]
    );
    const bySegment = (seg: string) =>
      rfm.rows
        .filter((r) => r.seg === seg)
        .map((r) => nameOf(r.id)!)
        .sort();
    // Nobody without an order has an RFM segment; the buyers each have one.
    expect(rfm.rows.filter((r) => r.seg === null).map((r) => nameOf(r.id))).toEqual(['c']);
    const segA = rfm.rows.find((r) => r.id === ids.a)!.seg!;
    expect(await one({ field: 'rfm', operator: 'is_any_of', value: [segA as 'loyal'] })).toEqual(
      bySegment(segA)
    );
    expect(await one({ field: 'rfm', operator: 'is_none_of', value: [segA as 'loyal'] })).toEqual(
      ['a', 'b', 'c', 'd', 'e'].filter((n) => !bySegment(segA).includes(n))
    );
    expect(await one({ field: 'tier', operator: 'is_any_of', value: [tierOfA as 'gold'] })).toEqual(['a']);
    expect(await one({ field: 'points', operator: 'gte', value: 640 })).toEqual(['a']);
    expect(await one({ field: 'pointsExpiring', days: 30, operator: 'eq', value: 40 })).toEqual(['a']);
    expect(await one({ field: 'pointsExpiring', days: 5, operator: 'gt', value: 0 })).toEqual([]);
    expect(await one({ field: 'pointsExpiring', days: 30, operator: 'eq', value: 0 })).toEqual([
      'b',
      'c',
      'd',
      'e'
    ]);
  });

  it('tags, country, custom attributes, consent', async () => {
    expect(await one({ field: 'tags', operator: 'any', value: ['vip', 'new'] })).toEqual(['a', 'b']);
    expect(await one({ field: 'tags', operator: 'all', value: ['vip', 'new'] })).toEqual([]);
    expect(await one({ field: 'tags', operator: 'none', value: ['vip'] })).toEqual(['b', 'c', 'd', 'e']);
    expect(await one({ field: 'country', operator: 'is_any_of', value: ['DE'] })).toEqual(['a', 'c']);
    expect(await one({ field: 'country', operator: 'is_none_of', value: ['DE'] })).toEqual(['b', 'd', 'e']);
    expect(await one({ field: 'attribute', key: 'shoe_size', operator: 'gt', value: 40 })).toEqual(['a']);
    expect(await one({ field: 'attribute', key: 'shoe_size', operator: 'is_empty' })).toEqual([
      'b',
      'd',
      'e'
    ]);
    expect(await one({ field: 'consent', channel: 'email', operator: 'is', value: true })).toEqual(['a']);
    // B granted SMS, then withdrew: the latest row is the consent.
    expect(await one({ field: 'consent', channel: 'sms', operator: 'is', value: true })).toEqual(['a']);
    expect(await one({ field: 'consent', channel: 'sms', operator: 'is', value: false })).toEqual([
      'b',
      'c',
      'd',
      'e'
    ]);
  });

  it('open tickets, CSAT, the support VIP rule, nested groups', async () => {
    expect(await one({ field: 'openTicket', operator: 'is', value: true })).toEqual(['b']);
    expect(await one({ field: 'csat', operator: 'given' })).toEqual(['a', 'e']);
    expect(await one({ field: 'csat', operator: 'not_given' })).toEqual(['b', 'c', 'd']);
    expect(await one({ field: 'csat', operator: 'low', value: 2 })).toEqual(['a']);
    expect(await one({ field: 'csat', operator: 'given', days: 1 })).toEqual([]);
    // VIP: a VIP tier (gold, platinum) or lifetime value >= 2000 (support_settings' defaults).
    const vip = await one({ field: 'supportVip', operator: 'is', value: true });
    expect(vip).toContain('e');
    expect(vip.includes('a')).toBe(['gold', 'platinum'].includes(tierOfA));
    expect(
      await select({
        op: 'or',
        rules: [
          { field: 'country', operator: 'is_any_of', value: ['US'] },
          {
            op: 'and',
            rules: [
              { field: 'tags', operator: 'any', value: ['vip'] },
              {
                op: 'or',
                rules: [
                  { field: 'orderCount', operator: 'gt', value: 10 },
                  { field: 'csat', operator: 'low', value: 3 }
                ]
              }
            ]
          }
        ]
      })
    ).toEqual(['a', 'e']);
  });

  it('values that look like SQL are only values', async () => {
    expect(await one({ field: 'tags', operator: 'any', value: ["x' OR '1'='1"] })).toEqual(['a']);
    expect(await one({ field: 'tags', operator: 'any', value: ["'); DROP TABLE customers; --"] })).toEqual(
      []
    );
    expect(
      await one({
        field: 'attribute',
        key: 'nickname',
        operator: 'is',
        value: "Robert'); DROP TABLE customers;--"
      })
    ).toEqual(['a']);
    expect(
      await one({ field: 'attribute', key: 'nickname', operator: 'contains', value: "%' OR 1=1 --" })
    ).toEqual([]);
    expect(await one({ field: 'attribute', key: 'nickname', operator: 'contains', value: '%' })).toEqual([]);
    // The compiled SQL holds none of the values.
    const { where } = compileSegment(
      { op: 'and', rules: [{ field: 'tags', operator: 'any', value: ["'); DROP TABLE customers; --"] }] },
      'row'
    );
    expect(where).not.toContain('DROP');
    const count = await countRule(app, {
      op: 'and',
      rules: [{ field: 'tags', operator: 'none', value: ['1; SELECT pg_sleep(10)'] }]
    });
    expect(count.count).toBe(5);
    expect((await db.sql.query(`SELECT count(*)::int AS n FROM customers`)).rows[0].n).toBe(5);
  });

  it('refuses what is not a rule, and an attribute nobody defined', async () => {
    const bad = [
      { op: 'xor', rules: [] },
      { op: 'and', rules: [{ field: 'lifetimeSpend', operator: 'gt', value: 12.5 }] },
      { op: 'and', rules: [{ field: 'country', operator: 'is_any_of', value: ["DE' OR 1=1"] }] },
      { op: 'and', rules: [{ field: 'nope', operator: 'is', value: true }] },
      { op: 'and', rules: [{ op: 'and', rules: [{ op: 'and', rules: [{ op: 'and', rules: [] }] }] }] }
    ];
    for (const rule of bad) expect(SegmentRule.safeParse(rule).success, JSON.stringify(rule)).toBe(false);
    await expect(
      countRule(app, {
        op: 'and',
        rules: [{ field: 'attribute', key: 'unknown_key', operator: 'is', value: 'x' }]
      })
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('the preview of a draft rule', () => {
  it('lists the members biggest spenders first, whether it sorts them all or walks the spenders index', async () => {
    for (const rule of [
      { op: 'and', rules: [{ field: 'lifetimeSpend', operator: 'gte', value: '0' }] },
      { op: 'and', rules: [{ field: 'tags', operator: 'any', value: ['vip'] }] },
      { op: 'and', rules: [{ field: 'orderCount', operator: 'eq', value: 0 }] }
    ] as SegmentGroup[]) {
      const { rows } = await db.sql.query<{ id: number }>(
        `SELECT c.id FROM ${BASE} WHERE c.id = ANY ($1) ORDER BY s.lifetime_spend DESC, s.customer_id DESC`,
        [fixtureIds()]
      );
      const members = new Set(await select(rule));
      const expected = rows.map((r) => nameOf(r.id)!).filter((n) => members.has(n));
      expect(expected.length, JSON.stringify(rule)).toBeGreaterThan(0);
      for (const sortsBelow of [0, Infinity]) {
        const preview = await previewRule(app, rule, sortsBelow);
        expect(
          preview.map((m) => nameOf(m.id)),
          `${JSON.stringify(rule)} ${sortsBelow}`
        ).toEqual(expected);
      }
    }
  });
});
