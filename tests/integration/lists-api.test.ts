import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeListState, type FilterGroup, type ListEntity, type ListQuery } from '#shared/lists/query.js';
import { HORIZON_HEADER } from '#shared/stream-position.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createWorld,
  earnPoints
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// The CRM tables' API against a real database: every filter type and operator, AND/OR groups,
// keyset paging over several sorts, search with typos and highlights, the footer, refusals.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let agent: Browser;

const ids: Record<string, number> = {};
const orderIds: Record<string, number> = {};
const productIds: Record<string, number> = {};

async function customer(
  key: string,
  c: {
    first: string;
    last?: string;
    email: string;
    phone?: string | null;
    country?: string | null;
    tags?: string[];
    consent?: boolean;
    createdDaysAgo?: number;
  }
) {
  const addresses = c.country ? [{ label: 'home', country: c.country, default: true }] : [];
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name, last_name, phone, addresses, tags, marketing_consent,
                            marketing_consent_at, created_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, CASE WHEN $7 THEN now() END, now() - make_interval(days => $8))
     RETURNING id`,
    [
      c.email,
      c.first,
      c.last ?? '',
      c.phone ?? null,
      JSON.stringify(addresses),
      c.tags ?? [],
      c.consent ?? false,
      c.createdDaysAgo ?? 0
    ]
  );
  ids[key] = rows[0].id;
  return rows[0].id;
}

async function order(
  key: string,
  o: {
    customer: string;
    total: string;
    status?: string;
    channel?: string;
    daysAgo?: number;
    externalId?: string;
  }
) {
  const id = await createOrder(db.sql, {
    customerId: ids[o.customer],
    total: o.total,
    status: o.status ?? 'paid',
    externalId: o.externalId
  });
  await db.sql.query(
    `UPDATE orders SET channel = $2, order_date = now() - make_interval(days => $3) WHERE id = $1`,
    [id, o.channel ?? 'web', o.daysAgo ?? 0]
  );
  orderIds[key] = id;
  return id;
}

const list = (entity: ListEntity, state: Partial<ListQuery> = {}) =>
  agent.get(`/api/${entity}?${encodeListState(state)}`);
const rowsOf = async (entity: ListEntity, state: Partial<ListQuery> = {}) => {
  const res = await list(entity, { limit: 200, ...state });
  if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body.rows as Record<string, any>[];
};
const where = (rules: FilterGroup['rules'], op: 'and' | 'or' = 'and'): FilterGroup => ({ op, rules });
const keysOf = (map: Record<string, number>, found: Record<string, any>[]) =>
  found
    .map((r) => Object.entries(map).find(([, id]) => id === r.id)?.[0])
    .filter(Boolean)
    .sort();

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  await db.sql.query(`DELETE FROM customers WHERE id = $1`, [world.customerId]);
  server = await startTestServer(db.url);
  agent = await Browser.signedIn(server.url, world.agentA.email);

  await customer('john', {
    first: 'John',
    last: 'Smith',
    email: 'john.smith@example.com',
    phone: '+1 (555) 010-2233',
    country: 'US',
    tags: ['vip', 'wholesale'],
    consent: true,
    createdDaysAgo: 400
  });
  await customer('zoe', {
    first: 'Zoë',
    last: 'Ärger',
    email: 'zoe@example.de',
    country: 'DE',
    tags: ['vip'],
    createdDaysAgo: 10
  });
  await customer('emoji', { first: 'Party 🎉', last: 'Person', email: 'party@example.com', tags: ['🎉'] });
  await customer('rtl', {
    first: 'محمد',
    last: 'علي',
    email: 'mohamed@example.eg',
    country: 'EG',
    createdDaysAgo: 50
  });
  await customer('sql', {
    first: "Robert'); DROP TABLE customers;--",
    email: 'bobby@example.com',
    tags: ['x%y_z'],
    createdDaysAgo: 50
  });
  await customer('plain', { first: 'Mary', last: 'Jones', email: 'mary@example.org', createdDaysAgo: 5 });

  await order('j1', { customer: 'john', total: '100.10', daysAgo: 3, externalId: 'SHOP-10001' });
  await order('j2', { customer: 'john', total: '50.00', daysAgo: 40, channel: 'mobile' });
  await order('j3', { customer: 'john', total: '999.99', status: 'refunded', daysAgo: 100 });
  await order('z1', { customer: 'zoe', total: '20.00', daysAgo: 1, channel: 'pos' });
  await order('r1', { customer: 'rtl', total: '75.50', status: 'cancelled', daysAgo: 200 });
  await order('m1', { customer: 'plain', total: '20.00', daysAgo: 1, status: 'pending' });
  await createTicket(db.sql, { customerId: ids.zoe, teamId: world.teamA });
  const t = await createTicket(db.sql, { customerId: ids.john, teamId: world.teamA });
  await db.sql.query(
    `UPDATE tickets SET order_id = $2, status = 'resolved', resolved_at = now() WHERE id = $1`,
    [t, orderIds.j2]
  );
  const account = await createLoyaltyAccount(db.sql, ids.john);
  await earnPoints(db.sql, { accountId: account, points: 2500, reason: 'orders', key: 'k1' });
  await createLoyaltyAccount(db.sql, ids.zoe);
  const cats = await db.sql.query<{ id: number }>(
    `INSERT INTO categories (name) VALUES ('Kitchen'), ('Garden') RETURNING id`
  );
  const [kitchen, garden] = cats.rows.map((r) => r.id);
  // Each product has its own low-stock threshold: the kettle is low at 10 units, the mug is not at 40.
  for (const [key, sku, name, category, price, stock, active, threshold] of [
    ['mug', 'MUG-001', 'Enamel mug', kitchen, '12.50', 40, true, 5],
    ['pan', 'PAN-200', 'Cast iron pan', kitchen, '49.90', 3, true, 5],
    ['rake', 'RAKE-7', 'Leaf rake', garden, '19.00', 0, true, 5],
    ['old', 'OLD-1', 'Retired kettle', null, '5.00', 10, false, 12]
  ] as const) {
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO products (sku, name, category_id, price, stock, active, low_stock_threshold) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [sku, name, category, price, stock, active, threshold]
    );
    productIds[key] = rows[0].id;
  }
  await db.sql.query(
    `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
     VALUES ($1, $3, 2, 12.50), ($1, $4, 1, 49.90), ($2, $3, 1, 12.50)`,
    [orderIds.j1, orderIds.z1, productIds.mug, productIds.pan]
  );
  await db.sql.query(
    `INSERT INTO reviews (customer_id, product_id, rating) VALUES ($1, $3, 5), ($2, $3, 4), ($1, $4, 2)`,
    [ids.john, ids.zoe, productIds.mug, productIds.pan]
  );
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('rows', () => {
  it('shows what the database keeps about each customer, with a stream position', async () => {
    const res = await list('customers', { ids: [ids.john] });
    expect(res.status).toBe(200);
    expect(res.headers.get(HORIZON_HEADER)).toMatch(/^\d+:\d+:/);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.rows).toEqual([
      expect.objectContaining({
        id: ids.john,
        name: 'John Smith',
        email: 'john.smith@example.com',
        phone: '+1 (555) 010-2233',
        country: 'US',
        tier: 'silver',
        points: 2500,
        tags: ['vip', 'wholesale'],
        marketingConsent: true,
        // 100.10 + 50.00; the refunded order does not count.
        lifetimeSpend: '150.10',
        orderCount: 3,
        hasOpenTicket: false,
        version: expect.any(Number)
      })
    ]);
    expect(Date.parse(res.body.rows[0].lastOrderAt)).toBeGreaterThan(Date.now() - 4 * 86_400_000);
  });

  it('shows orders with their customer, items and tickets, and products with stock and rating', async () => {
    const [j1] = await rowsOf('orders', { ids: [orderIds.j1] });
    expect(j1).toMatchObject({
      customerName: 'John Smith',
      customerEmail: 'john.smith@example.com',
      total: '100.10',
      externalId: 'SHOP-10001',
      itemCount: 3,
      hasTicket: false,
      refunded: false
    });
    const [j2] = await rowsOf('orders', { ids: [orderIds.j2] });
    expect(j2).toMatchObject({ hasTicket: true, channel: 'mobile' });
    const products = await rowsOf('products', { sort: [{ field: 'sku', dir: 'asc' }] });
    expect(products.map((p) => [p.sku, p.stockState, p.ratingAvg, p.reviewCount, p.category])).toEqual([
      ['MUG-001', 'in_stock', 4.5, 2, 'Kitchen'],
      ['OLD-1', 'low', null, 0, null],
      ['PAN-200', 'low', 2, 1, 'Kitchen'],
      ['RAKE-7', 'out', null, 0, 'Garden']
    ]);
  });

  it('keeps the summary tables right as orders and tickets change', async () => {
    const extra = await order('extra', { customer: 'plain', total: '10.00' });
    let [mary] = await rowsOf('customers', { ids: [ids.plain] });
    expect(mary).toMatchObject({ lifetimeSpend: '30.00', orderCount: 2 });
    await db.sql.query(`UPDATE orders SET status = 'cancelled' WHERE id = $1`, [extra]);
    [mary] = await rowsOf('customers', { ids: [ids.plain] });
    expect(mary).toMatchObject({ lifetimeSpend: '20.00', orderCount: 2 });
    await db.sql.query(`DELETE FROM orders WHERE id = $1`, [extra]);
    [mary] = await rowsOf('customers', { ids: [ids.plain] });
    expect(mary).toMatchObject({ lifetimeSpend: '20.00', orderCount: 1 });
  });
});

describe('filters', () => {
  const customersWhere = async (rules: FilterGroup['rules'], op: 'and' | 'or' = 'and') =>
    keysOf(ids, await rowsOf('customers', { filter: where(rules, op) }));

  it('text: contains, is, is not, starts with, is empty, is not empty', async () => {
    expect(await customersWhere([{ field: 'name', operator: 'contains', value: 'SMI' }])).toEqual(['john']);
    expect(await customersWhere([{ field: 'email', operator: 'is', value: 'ZOE@example.de' }])).toEqual([
      'zoe'
    ]);
    expect(await customersWhere([{ field: 'email', operator: 'is_not', value: 'zoe@example.de' }])).toEqual([
      'emoji',
      'john',
      'plain',
      'rtl',
      'sql'
    ]);
    expect(await customersWhere([{ field: 'name', operator: 'starts_with', value: 'zo' }])).toEqual(['zoe']);
    expect(await customersWhere([{ field: 'phone', operator: 'is_not_empty' }])).toEqual(['john']);
    expect(await customersWhere([{ field: 'phone', operator: 'is_empty' }])).toHaveLength(5);
  });

  it('text: unicode, emoji, right-to-left and wildcard characters match literally', async () => {
    expect(await customersWhere([{ field: 'name', operator: 'contains', value: 'ärger' }])).toEqual(['zoe']);
    expect(await customersWhere([{ field: 'name', operator: 'contains', value: '🎉' }])).toEqual(['emoji']);
    expect(await customersWhere([{ field: 'name', operator: 'contains', value: 'محمد' }])).toEqual(['rtl']);
    expect(await customersWhere([{ field: 'name', operator: 'contains', value: '%' }])).toEqual([]);
    expect(await customersWhere([{ field: 'name', operator: 'contains', value: '_' }])).toEqual([]);
    expect(
      await customersWhere([{ field: 'name', operator: 'contains', value: "'); DROP TABLE customers;--" }])
    ).toEqual(['sql']);
    expect(await customersWhere([{ field: 'email', operator: 'is', value: "' OR 1=1 --" }])).toEqual([]);
  });

  it('numbers and money: eq, gt, gte, lt, lte, between, is empty', async () => {
    const spend = (operator: string, value: unknown) =>
      customersWhere([{ field: 'lifetimeSpend', operator: operator as never, value }]);
    expect(await spend('eq', '150.1')).toEqual(['john']);
    expect(await spend('gt', '20')).toEqual(['john']);
    expect(await spend('gte', '20')).toEqual(['john', 'plain', 'zoe']);
    expect(await spend('lt', '20')).toEqual(['emoji', 'rtl', 'sql']);
    expect(await spend('lte', '20.00')).toEqual(['emoji', 'plain', 'rtl', 'sql', 'zoe']);
    expect(await spend('between', ['150.10', '20'])).toEqual(['john', 'plain', 'zoe']);
    expect(await customersWhere([{ field: 'orderCount', operator: 'gte', value: 2 }])).toEqual(['john']);
    const products = await rowsOf('products', {
      filter: where([{ field: 'ratingAvg', operator: 'is_empty' }])
    });
    expect(keysOf(productIds, products)).toEqual(['old', 'rake']);
  });

  it('dates: before, after, on, between, in the last N days, not in the last N days, before N days ago', async () => {
    const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    const created = (operator: string, value: unknown) =>
      customersWhere([{ field: 'createdAt', operator: operator as never, value }]);
    expect(await created('before', day(300))).toEqual(['john']);
    expect(await created('after', day(45))).toEqual(['emoji', 'plain', 'zoe']);
    expect(await created('on', day(10))).toEqual(['zoe']);
    expect(await created('between', [day(51), day(40)])).toEqual(['rtl', 'sql']);
    expect(await created('in_last', 7)).toEqual(['emoji', 'plain']);
    expect(await created('before_days_ago', 100)).toEqual(['john']);
    // Never ordered counts as "not in the last 30 days".
    expect(await customersWhere([{ field: 'lastOrderAt', operator: 'not_in_last', value: 30 }])).toEqual([
      'emoji',
      'rtl',
      'sql'
    ]);
    expect(await customersWhere([{ field: 'lastOrderAt', operator: 'in_last', value: 2 }])).toEqual([
      'plain',
      'zoe'
    ]);
  });

  it('enums: is any of, is none of (a missing value is none of them)', async () => {
    expect(
      await customersWhere([{ field: 'tier', operator: 'is_any_of', value: ['silver', 'gold'] }])
    ).toEqual(['john']);
    expect(await customersWhere([{ field: 'tier', operator: 'is_none_of', value: ['bronze'] }])).toEqual([
      'emoji',
      'john',
      'plain',
      'rtl',
      'sql'
    ]);
    expect(await customersWhere([{ field: 'country', operator: 'is_any_of', value: ['DE', 'EG'] }])).toEqual([
      'rtl',
      'zoe'
    ]);
    const orders = await rowsOf('orders', {
      filter: where([{ field: 'status', operator: 'is_none_of', value: ['paid', 'pending'] }])
    });
    expect(keysOf(orderIds, orders)).toEqual(['j3', 'r1']);
    const products = await rowsOf('products', {
      filter: where([{ field: 'stockState', operator: 'is_any_of', value: ['low', 'out'] }])
    });
    expect(keysOf(productIds, products)).toEqual(['old', 'pan', 'rake']);
  });

  it('tags: any, all, none', async () => {
    expect(await customersWhere([{ field: 'tags', operator: 'any', value: ['wholesale', '🎉'] }])).toEqual([
      'emoji',
      'john'
    ]);
    expect(await customersWhere([{ field: 'tags', operator: 'all', value: ['vip', 'wholesale'] }])).toEqual([
      'john'
    ]);
    expect(await customersWhere([{ field: 'tags', operator: 'none', value: ['vip'] }])).toEqual([
      'emoji',
      'plain',
      'rtl',
      'sql'
    ]);
    expect(await customersWhere([{ field: 'tags', operator: 'any', value: ['x%y_z'] }])).toEqual(['sql']);
  });

  it('booleans: is', async () => {
    expect(await customersWhere([{ field: 'marketingConsent', operator: 'is', value: true }])).toEqual([
      'john'
    ]);
    expect(await customersWhere([{ field: 'hasOpenTicket', operator: 'is', value: true }])).toEqual(['zoe']);
    const orders = await rowsOf('orders', {
      filter: where(
        [
          { field: 'refunded', operator: 'is', value: true },
          { field: 'hasTicket', operator: 'is', value: true }
        ],
        'or'
      )
    });
    expect(keysOf(orderIds, orders)).toEqual(['j2', 'j3']);
    const products = await rowsOf('products', {
      filter: where([{ field: 'active', operator: 'is', value: false }])
    });
    expect(keysOf(productIds, products)).toEqual(['old']);
  });

  it('AND and OR groups nest', async () => {
    expect(
      await customersWhere([
        { field: 'tags', operator: 'any', value: ['vip'] },
        {
          op: 'or',
          rules: [
            { field: 'country', operator: 'is_any_of', value: ['DE'] },
            { field: 'lifetimeSpend', operator: 'gt', value: '1000' }
          ]
        }
      ])
    ).toEqual(['zoe']);
    expect(
      await customersWhere(
        [
          { field: 'email', operator: 'contains', value: '.eg' },
          {
            op: 'and',
            rules: [
              { field: 'tags', operator: 'any', value: ['vip'] },
              { field: 'orderCount', operator: 'eq', value: 3 }
            ]
          }
        ],
        'or'
      )
    ).toEqual(['john', 'rtl']);
    expect(await customersWhere([])).toHaveLength(6);
  });

  it('an empty result is an empty page', async () => {
    const res = await list('orders', {
      filter: where([{ field: 'total', operator: 'gt', value: '1000000' }])
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ rows: [], nextCursor: null });
  });
});

describe('sorting and keyset paging', () => {
  /** Walks every page of `limit` rows and returns the ids in order. */
  async function walk(entity: ListEntity, state: Partial<ListQuery>, limit: number) {
    const seen: Record<string, any>[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const res = await list(entity, { ...state, limit, cursor });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      seen.push(...res.body.rows);
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) return seen;
    }
    throw new Error('never ended');
  }

  const nullsSmallest = (a: unknown, b: unknown) => {
    if (a === b) return 0;
    if (a === null) return -1;
    if (b === null) return 1;
    return Number(a) - Number(b) || (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
  };

  const sorts: [ListEntity, ListQuery['sort']][] = [
    ['customers', [{ field: 'createdAt', dir: 'desc' }]],
    ['customers', [{ field: 'lifetimeSpend', dir: 'desc' }]],
    [
      'customers',
      [
        { field: 'orderCount', dir: 'asc' },
        { field: 'name', dir: 'desc' }
      ]
    ],
    ['customers', [{ field: 'lastOrderAt', dir: 'desc' }]],
    ['customers', [{ field: 'lastOrderAt', dir: 'asc' }]],
    ['customers', [{ field: 'phone', dir: 'asc' }]],
    [
      'customers',
      [
        { field: 'tier', dir: 'desc' },
        { field: 'marketingConsent', dir: 'asc' }
      ]
    ],
    [
      'customers',
      [
        { field: 'hasOpenTicket', dir: 'desc' },
        { field: 'country', dir: 'asc' },
        { field: 'email', dir: 'desc' }
      ]
    ],
    ['orders', [{ field: 'total', dir: 'asc' }]],
    [
      'orders',
      [
        { field: 'status', dir: 'desc' },
        { field: 'orderDate', dir: 'asc' }
      ]
    ],
    ['orders', [{ field: 'externalId', dir: 'desc' }]],
    [
      'orders',
      [
        { field: 'customerName', dir: 'asc' },
        { field: 'total', dir: 'desc' }
      ]
    ],
    ['products', [{ field: 'ratingAvg', dir: 'desc' }]],
    [
      'products',
      [
        { field: 'stockState', dir: 'asc' },
        { field: 'price', dir: 'desc' }
      ]
    ],
    ['products', [{ field: 'category', dir: 'asc' }]]
  ];

  it.each(sorts)('%s by %j: every row once, in order, whatever the page size', async (entity, sort) => {
    const whole = await walk(entity, { sort }, 200);
    expect(new Set(whole.map((r) => r.id)).size).toBe(whole.length);
    expect(whole.length).toBeGreaterThanOrEqual(4);
    for (const limit of [1, 2, 3]) {
      expect((await walk(entity, { sort }, limit)).map((r) => r.id)).toEqual(whole.map((r) => r.id));
    }
    // The first key's order, checked here for the keys JavaScript compares the way Postgres does.
    const [first] = sort;
    const key = first.field;
    if (['lifetimeSpend', 'orderCount', 'lastOrderAt', 'createdAt', 'total', 'ratingAvg'].includes(key)) {
      const values = whole.map((r) =>
        r[key] === null
          ? null
          : key.endsWith('At') || key === 'orderDate'
            ? Date.parse(r[key])
            : Number(r[key])
      );
      const sorted = [...values].sort(nullsSmallest);
      expect(values).toEqual(first.dir === 'asc' ? sorted : sorted.reverse());
    }
  });

  // Two ways a page is read since docs/performance.md's 2026-12-05 (crm) section: an orders search
  // alone in the default order picks its page itself; a customers page sorted by the customers'
  // own columns chooses its ids before joining the summary. Both must page exactly as the plain
  // statement does.
  it('a search alone in the default order pages exactly as the same search under a filter', async () => {
    const everything = where([{ field: 'total', operator: 'gte', value: '0' }]);
    for (const q of ['john smith', 'smith', 'SHOP-1000']) {
      const plain = (await walk('orders', { q, filter: everything }, 200)).map((r) => r.id);
      expect(plain.length, q).toBeGreaterThan(0);
      for (const limit of [1, 2, 200])
        expect(
          (await walk('orders', { q }, limit)).map((r) => r.id),
          `${q} by ${limit}`
        ).toEqual(plain);
    }
  });

  it('customers with consent and a tag, newest first, are every such customer in order', async () => {
    const filter = where([
      { field: 'marketingConsent', operator: 'is', value: true },
      { field: 'tags', operator: 'any', value: ['vip'] }
    ]);
    const { rows } = await db.sql.query<{ id: number }>(
      `SELECT id FROM customers WHERE marketing_consent AND tags && '{vip}' AND merged_into IS NULL
        ORDER BY created_at DESC, id DESC`
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const limit of [1, 200])
      expect((await walk('customers', { filter }, limit)).map((r) => r.id)).toEqual(rows.map((r) => r.id));
  });

  it('ties break on id, so equal values page without loss or repeat', async () => {
    // z1 and m1 both total 20.00.
    const rows = await walk(
      'orders',
      {
        sort: [{ field: 'total', dir: 'asc' }],
        filter: where([{ field: 'total', operator: 'eq', value: '20' }])
      },
      1
    );
    expect(rows.map((r) => r.id)).toEqual([orderIds.z1, orderIds.m1].sort((a, b) => a - b));
  });

  it('refuses a page token that was tampered with, is garbage, is huge or belongs to another sort', async () => {
    const first = await list('customers', { sort: [{ field: 'lifetimeSpend', dir: 'desc' }], limit: 2 });
    const cursor = first.body.nextCursor as string;
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad = [
      'garbage!!',
      'AAAA',
      forge({ ...decoded, v: ["1'; DROP TABLE customers;--", '1'] }),
      forge({ ...decoded, v: ['1e999', '1'] }),
      forge({ ...decoded, v: [decoded.v[0]] }),
      forge({ ...decoded, v: [decoded.v[0], '99999999999'] }),
      forge({ s: 'name', v: decoded.v }),
      forge([1, 2, 3]),
      forge('x'.repeat(600))
    ];
    for (const token of bad) {
      const res = await list('customers', {
        sort: [{ field: 'lifetimeSpend', dir: 'desc' }],
        limit: 2,
        cursor: token
      });
      expect(res.status, token).toBe(400);
      expectErrorShape(res.body);
    }
    const huge = await agent.get(`/api/customers?cursor=${'A'.repeat(100_000)}`);
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    // The same cursor under another sort is not silently reinterpreted.
    const other = await list('customers', { sort: [{ field: 'name', dir: 'asc' }], cursor });
    expect(other.status).toBe(400);
  });
});

describe('refusals', () => {
  it.each([
    [
      'a filter on a column that does not exist',
      `filter=${encodeURIComponent(JSON.stringify(where([{ field: 'password_hash', operator: 'is', value: 'x' }])))}`
    ],
    [
      'an operator of another type',
      `filter=${encodeURIComponent(JSON.stringify(where([{ field: 'email', operator: 'gt', value: '1' }])))}`
    ],
    [
      'a value of the wrong type',
      `filter=${encodeURIComponent(JSON.stringify(where([{ field: 'points', operator: 'gt', value: 'many' }])))}`
    ],
    ['a filter that is not JSON', 'filter=%7Bop'],
    ['a sort on an unknown column', 'sort=-secret'],
    ['a sort on a column that does not sort', 'sort=tags'],
    ['a limit out of range', 'limit=0'],
    ['ids that are not ids', 'ids=1,DROP'],
    ['an unknown column', 'columns=name,ssn']
  ])('refuses %s with 400 in the error shape', async (_what, query) => {
    const res = await agent.get(`/api/customers?${query}`);
    expect(res.status).toBe(400);
    expectErrorShape(res.body);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('needs a session', async () => {
    const res = await new Browser(server.url).get('/api/customers');
    expect(res.status).toBe(401);
  });
});

describe('search', () => {
  const search = async (entity: ListEntity, q: string) => rowsOf(entity, { q });

  it('forgives a typo in a name and marks what matched', async () => {
    const found = await search('customers', 'jonh');
    // John Smith, and Mary Jones (three of the five trigrams of 'jonh' are in 'jones').
    expect(keysOf(ids, found)).toEqual(['john', 'plain']);
    expect(found.find((r) => r.id === ids.john)!.highlights).toMatchObject({ name: [[0, 4]] });
    expect(keysOf(ids, await search('customers', 'smiht'))).toEqual(['john']);
    const smith = await search('customers', 'smith');
    expect(smith[0].highlights).toMatchObject({ name: [[5, 10]], email: [[5, 10]] });
  });

  it('finds by email, phone digits, unicode name, order number, external id and SKU', async () => {
    expect(keysOf(ids, await search('customers', 'example.de'))).toEqual(['zoe']);
    expect(keysOf(ids, await search('customers', '0102233'))).toEqual(['john']);
    expect(keysOf(ids, await search('customers', 'Zoë'))).toEqual(['zoe']);
    expect(keysOf(ids, await search('customers', 'محمد'))).toEqual(['rtl']);
    expect(keysOf(orderIds, await search('orders', `#${orderIds.r1}`))).toContain('r1');
    const shop = await search('orders', 'SHOP-10001');
    expect(keysOf(orderIds, shop)).toEqual(['j1']);
    expect(shop[0].highlights).toMatchObject({
      externalId: [
        [0, 4],
        [5, 10]
      ]
    });
    expect(keysOf(orderIds, await search('orders', 'jonh smith'))).toEqual(['j1', 'j2', 'j3']);
    const mug = await search('products', 'mug-0');
    expect(keysOf(productIds, mug)).toEqual(['mug']);
    expect(keysOf(productIds, await search('products', 'enamle'))).toEqual(['mug']);
  });

  it('takes SQL-looking and wildcard searches literally', async () => {
    expect(await search('customers', "' OR 1=1; --")).toEqual([]);
    expect(await search('customers', '%')).toEqual([]);
    expect(keysOf(ids, await search('customers', 'DROP TABLE'))).toEqual(['sql']);
  });

  it('combines with filters and sorts', async () => {
    const found = await rowsOf('orders', {
      q: 'john smith',
      filter: where([{ field: 'total', operator: 'lt', value: '500' }]),
      sort: [{ field: 'total', dir: 'asc' }]
    });
    expect(found.map((r) => r.id)).toEqual([orderIds.j2, orderIds.j1]);
  });
});

describe('summary', () => {
  it('sums and averages the money of the whole filtered set, not the page', async () => {
    const filter = where([
      { field: 'status', operator: 'is_any_of', value: ['paid', 'pending', 'refunded'] }
    ]);
    const res = await agent.get(`/api/orders/summary?${encodeListState({ filter, limit: 1 })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get(HORIZON_HEADER)).toBeTruthy();
    // 100.10 + 50.00 + 999.99 + 20.00 + 20.00
    expect(res.body).toEqual({ count: 5, sums: { total: '1190.09' }, averages: { total: '238.02' } });
    const customers = await agent.getOk(`/api/customers/summary?${encodeListState({ q: 'jonh' })}`);
    // John (150.10) and Mary Jones (20.00), as the search finds them.
    expect(customers).toEqual({
      count: 2,
      sums: { lifetimeSpend: '170.10' },
      averages: { lifetimeSpend: '85.05' }
    });
  });

  it('an empty set counts 0 and sums 0.00, with no average', async () => {
    const filter = where([{ field: 'price', operator: 'gt', value: '1000' }]);
    expect(await agent.getOk(`/api/products/summary?${encodeListState({ filter })}`)).toEqual({
      count: 0,
      sums: { price: '0.00' },
      averages: {}
    });
  });
});

describe('merged customers', () => {
  it('leave the customers table, its footer and its export: the survivor stands for both', async () => {
    const everyone = async () => (await agent.getOk(`/api/customers/summary?${encodeListState({})}`)).count;
    const before = await everyone();
    const survivor = await customer('twinA', { first: 'Tamsin', last: 'Twine', email: 'tamsin@example.com' });
    const merged = await customer('twinB', {
      first: 'Tamsin',
      last: 'Twine',
      email: 'tam.twine@example.com',
      tags: ['vip'],
      consent: true
    });
    await order('twinOrder', { customer: 'twinB', total: '40.00' });
    expect(await everyone()).toBe(before + 2);

    await db.sql.query(`SELECT merge_customers($1, $2, '{}'::jsonb, NULL)`, [survivor, merged]);

    const rows = await rowsOf('customers', { q: 'Tamsin' });
    expect(rows.map((r) => r.id)).toEqual([survivor]);
    expect(rows[0]).toMatchObject({ lifetimeSpend: '40.00', orderCount: 1 });
    expect(await everyone()).toBe(before + 1);
    const csv = (await agent.get(`/api/customers/export.csv?${encodeListState({ q: 'Tamsin' })}`)).body;
    expect(csv).toContain('tamsin@example.com');
    expect(csv).not.toContain('tam.twine@example.com');

    // The merged-away customer is the newest of all, and a consenting vip: a page of one, whose
    // ids are chosen from the customers table before the summary is joined, is not spent on it.
    const consentVip = where([
      { field: 'marketingConsent', operator: 'is', value: true },
      { field: 'tags', operator: 'any', value: ['vip'] }
    ]);
    for (const [state, sql] of [
      [{}, 'TRUE'],
      [{ filter: consentVip }, `marketing_consent AND tags && '{vip}'`]
    ] as const) {
      const { rows: expected } = await db.sql.query<{ id: number }>(
        `SELECT id FROM customers WHERE merged_into IS NULL AND ${sql} ORDER BY created_at DESC, id DESC LIMIT 2`
      );
      const res = await list('customers', { ...state, limit: 1 });
      expect(res.body.rows.map((r: { id: number }) => r.id)).toEqual([expected[0].id]);
      expect(res.body.nextCursor === null).toBe(expected.length < 2);
    }
  });
});
