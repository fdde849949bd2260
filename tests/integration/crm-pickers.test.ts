import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createOrder, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';
import { closeSockets, openSocket, waitFor } from '../support/socket.js';

// What the CRM's pickers and editors read and write: product categories (the bulk "set
// category" picker), distinct values of data-driven enum fields (the filter editor's picker),
// and a customer's addresses edited on the 360.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let agent: Browser;
let manager: Browser;

const one = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows[0] as T;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  agent = await Browser.signedIn(server.url, world.agentA.email);
  manager = await Browser.signedIn(server.url, world.manager.email);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('categories', () => {
  it('lists every category by name with its product count', async () => {
    const { rows } = await db.sql.query<{ id: number; name: string }>(
      `INSERT INTO categories (name) VALUES ('Zebra lamps'), ('apple crates'), ('Épices') RETURNING id, name`
    );
    const zebra = rows.find((r) => r.name === 'Zebra lamps')!.id;
    await db.sql.query(
      `INSERT INTO products (sku, name, price, category_id) SELECT 'ZL-' || g, 'Lamp ' || g, 9, $1 FROM generate_series(1, 3) g`,
      [zebra]
    );
    const { categories } = await agent.getOk('/api/categories');
    const names = categories.map((c: { name: string }) => c.name);
    expect(names.indexOf('apple crates')).toBeLessThan(names.indexOf('Zebra lamps'));
    expect(names).toContain('Épices');
    expect(categories.find((c: { id: number }) => c.id === zebra)).toEqual({
      id: zebra,
      name: 'Zebra lamps',
      parentId: null,
      products: 3
    });
  });

  it('lets a manager add one, audited; a name that exists in any case is a 409; agents may not', async () => {
    const made = await manager.post('/api/categories', { name: '  Garden tools ' });
    expect(made.status).toBe(201);
    expect(made.body.category).toMatchObject({ name: 'Garden tools', products: 0 });
    const audit = await one(
      `SELECT actor_user_id, details FROM audit_log WHERE action = 'category.created' AND target_id = $1`,
      [String(made.body.category.id)]
    );
    expect(audit).toEqual({ actor_user_id: world.manager.id, details: { new: { name: 'Garden tools' } } });

    const again = await manager.post('/api/categories', { name: 'GARDEN TOOLS' });
    expect(again.status).toBe(409);
    expectErrorShape(again.body);
    expect((again.body.error.details as { category: { id: number } }).category.id).toBe(
      made.body.category.id
    );

    for (const name of ['', '   ', 'x'.repeat(81), 'tab\there']) {
      const bad = await manager.post('/api/categories', { name });
      expect(bad.status, JSON.stringify(name)).toBe(400);
    }
    expect((await manager.post('/api/categories', { name: 'ok', extra: 1 })).status).toBe(400);
    expect((await agent.post('/api/categories', { name: 'Agents cannot' })).status).toBe(403);
    expect(await one(`SELECT count(*)::int AS n FROM categories WHERE name = 'Agents cannot'`)).toEqual({
      n: 0
    });
  });

  it('a new category is then accepted by the bulk "set category" action', async () => {
    const { category } = (await manager.post('/api/categories', { name: 'Bulk target' })).body;
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO products (sku, name, price) VALUES ('BT-1', 'Target 1', 3) RETURNING id`
    );
    const job = await manager.post('/api/bulk', {
      entity: 'products',
      action: 'set_category',
      params: { categoryId: category.id },
      selection: { ids: [rows[0].id] }
    });
    expect(job.status).toBe(202);
  });
});

describe('distinct values of an enum field', () => {
  beforeAll(async () => {
    const countries = ['DE', 'DE', 'DE', 'FR', 'FR', 'PT'];
    for (const [i, country] of countries.entries()) {
      const id = await createCustomer(db.sql, `values${i}@example.com`, `Val${i}`);
      await db.sql.query(`UPDATE customers SET addresses = $2::jsonb WHERE id = $1`, [
        id,
        JSON.stringify([{ label: 'home', line1: '1 Main St', city: 'Town', country, default: true }])
      ]);
    }
  });

  it('lists a customer field’s values, most used first, with counts', async () => {
    const body = await agent.getOk('/api/customers/values?field=country');
    expect(body.field).toBe('country');
    expect(body.approximate).toBe(false);
    expect(body.truncated).toBe(false);
    expect(body.values.slice(0, 3)).toEqual([
      { value: 'DE', count: 3 },
      { value: 'FR', count: 2 },
      { value: 'PT', count: 1 }
    ]);
  });

  it('searches (case-insensitively, LIKE wildcards taken literally) and bounds the list', async () => {
    expect((await agent.getOk('/api/customers/values?field=country&q=f')).values).toEqual([
      { value: 'FR', count: 2 }
    ]);
    expect((await agent.getOk('/api/customers/values?field=country&q=%25')).values).toEqual([]);
    expect((await agent.getOk('/api/customers/values?field=country&q=_')).values).toEqual([]);
    const first = await agent.getOk('/api/customers/values?field=country&limit=1');
    expect(first).toMatchObject({ values: [{ value: 'DE', count: 3 }], truncated: true });
  });

  it('lists product categories and order currencies; empty sets are empty', async () => {
    const categories = await agent.getOk('/api/products/values?field=category&q=zebra');
    expect(categories.values).toEqual([{ value: 'Zebra lamps', count: 3 }]);
    expect((await agent.getOk('/api/products/values?field=category&q=nothing-like-it')).values).toEqual([]);
    const customer = await createCustomer(db.sql, 'currency@example.com');
    await createOrder(db.sql, { customerId: customer, total: '10.00' });
    const currencies = await agent.getOk('/api/orders/values?field=currency');
    expect(currencies.values.length).toBeGreaterThan(0);
    expect(currencies.values[0].count).toBeGreaterThan(0);
  });

  it('lists customers’ tags, each with the customers carrying it, for the segment builder’s picker', async () => {
    const tagged = [['vip', 'wholesale'], ['vip'], ['vip', 'late_payer']];
    for (const [i, tags] of tagged.entries()) {
      const id = await createCustomer(db.sql, `tagged${i}@example.com`, `Tag${i}`);
      await db.sql.query(`UPDATE customers SET tags = $2 WHERE id = $1`, [id, tags]);
    }
    const body = await agent.getOk('/api/customers/values?field=tags');
    expect(body.values).toEqual([
      { value: 'vip', count: 3 },
      { value: 'late_payer', count: 1 },
      { value: 'wholesale', count: 1 }
    ]);
    expect((await agent.getOk('/api/customers/values?field=tags&q=WHOLE')).values).toEqual([
      { value: 'wholesale', count: 1 }
    ]);
    await db.sql.query(`ANALYZE customers`);
    await db.sql.query(`UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'public.customers'::regclass`);
    try {
      const big = await agent.getOk('/api/customers/values?field=tags');
      expect(big.approximate).toBe(true);
      expect(big.values[0].value).toBe('vip');
      expect(big.values[0].count).toBeGreaterThan(10_000);
    } finally {
      await db.sql.query(`ANALYZE customers`);
    }
  });

  it('refuses fields that are not data-driven enums and bad limits with a 400', async () => {
    for (const query of [
      'field=tier',
      'field=name',
      'field=nope',
      '',
      'field=country&limit=0',
      'field=country&limit=201',
      `field=country&q=${'x'.repeat(101)}`,
      "field=country'); DROP TABLE customers; --"
    ]) {
      const res = await agent.get(`/api/customers/values?${query}`);
      expect(res.status, query).toBe(400);
      expectErrorShape(res.body);
    }
    expect((await agent.get('/api/orders/values?field=country')).status).toBe(400);
  });

  it('on a big table, reads the planner’s statistics instead of counting every row', async () => {
    await db.sql.query(`ANALYZE customers`);
    // What a million-row table looks like to the planner: only the estimate is scaled.
    await db.sql.query(`UPDATE pg_class SET reltuples = 1000000 WHERE oid = 'public.customers'::regclass`);
    try {
      const body = await agent.getOk('/api/customers/values?field=country');
      expect(body.approximate).toBe(true);
      expect(body.values.map((v: { value: string }) => v.value).slice(0, 2)).toEqual(['DE', 'FR']);
      expect(body.values[0].count).toBeGreaterThan(body.values[1].count);
      expect(body.values[0].count).toBeGreaterThan(10_000);
    } finally {
      await db.sql.query(`ANALYZE customers`);
    }
  });
});

describe('addresses on the 360', () => {
  const home = {
    label: 'home',
    line1: '1 Rua Augusta',
    city: 'Lisboa',
    postal_code: '1100-053',
    country: 'PT'
  };
  const work = { label: 'work', line1: '5 Quai d’Orsay', city: 'Paris', country: 'FR' };

  it('adds, edits and removes addresses and marks the defaults, audited with old and new', async () => {
    const id = await createCustomer(db.sql, 'addresses@example.com', 'Ada');
    const socket = await openSocket(server.url, agent);
    await socket.timeout(5000).emitWithAck('customer:watch', id);
    let { customer } = await agent.getOk(`/api/customers/${id}`);
    const added = await agent.request('PATCH', `/api/customers/${id}`, {
      version: customer.version,
      addresses: [{ ...home, default: true, default_billing: true }]
    });
    expect(added.status).toBe(200);
    expect(added.body.customer.addresses).toEqual([{ ...home, default: true, default_billing: true }]);
    const live = await waitFor(
      socket,
      'customer:profile_changed',
      (e) => e.data.customerId === id && e.data.field === 'addresses',
      10_000
    );
    expect(live.data.new).toEqual([{ ...home, default: true, default_billing: true }]);

    customer = added.body.customer;
    const both = await agent.request('PATCH', `/api/customers/${id}`, {
      version: customer.version,
      addresses: [
        { ...home, default_billing: true },
        { ...work, default: true }
      ]
    });
    expect(both.status).toBe(200);
    // The country of the customer follows the default shipping address.
    const row = await agent.getOk(`/api/customers?ids=${id}`);
    expect(row.rows[0].country).toBe('FR');

    const removed = await agent.request('PATCH', `/api/customers/${id}`, {
      version: both.body.customer.version,
      addresses: [{ ...work, default: true }]
    });
    expect(removed.body.customer.addresses).toEqual([{ ...work, default: true }]);
    const audits = (
      await db.sql.query(
        `SELECT details -> 'changes' -> 'addresses' AS change FROM audit_log
          WHERE action = 'customer.updated' AND target_id = $1 ORDER BY id`,
        [String(id)]
      )
    ).rows;
    expect(audits).toHaveLength(3);
    expect(audits[2].change.old).toHaveLength(2);
    expect(audits[2].change.new).toEqual([{ ...work, default: true }]);
  });

  it('refuses two defaults of a kind, bad fields and stale versions, and changes nothing', async () => {
    const id = await createCustomer(db.sql, 'addresses-bad@example.com', 'Bea');
    const { customer } = await agent.getOk(`/api/customers/${id}`);
    const bad = [
      [
        { ...home, default: true },
        { ...work, default: true }
      ],
      [
        { ...home, default_billing: true },
        { ...work, default_billing: true }
      ],
      [{ ...home, country: 'Portugal' }],
      [{ ...home, line1: '  ' }],
      [{ ...home, city: '' }],
      [{ ...home, postal_code: 'x'.repeat(21) }],
      [{ ...home, unknown: 'field' }],
      Array.from({ length: 11 }, () => home)
    ];
    for (const addresses of bad) {
      const res = await agent.request('PATCH', `/api/customers/${id}`, {
        version: customer.version,
        addresses
      });
      expect(res.status, JSON.stringify(addresses).slice(0, 120)).toBe(400);
      expectErrorShape(res.body);
    }
    const ok = await agent.request('PATCH', `/api/customers/${id}`, {
      version: customer.version,
      addresses: [home]
    });
    expect(ok.status).toBe(200);
    const stale = await agent.request('PATCH', `/api/customers/${id}`, {
      version: customer.version,
      addresses: [work]
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('stale_version');
    expect(stale.body.error.details.customer.addresses).toEqual([home]);
    expect(await one(`SELECT addresses FROM customers WHERE id = $1`, [id])).toEqual({ addresses: [home] });
  });
});
