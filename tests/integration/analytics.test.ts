import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { poolDb } from '../../server/data/db.js';
import { activitySql } from '../../server/services/analytics/activity.js';
import { Params } from '../../server/services/sql.js';
import { instantsOf } from '../../server/services/analytics/range.js';
import { ensureFresh, refreshRollups } from '../../server/services/analytics/rollups.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createTeam, createUser } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';

// Analytics definitions against a small shop whose numbers were worked out by hand. The store is in
// New York (EST until 8 March 2026, EDT after), the range is the first quarter of 2026.

const TZ = 'America/New_York';
const Q1 = 'from=2026-01-01&to=2026-03-31';

let db: TestDatabase;
let server: RunningPulse;
let manager: Browser;
let agent: Browser;
const c: Record<string, number> = {};
const p: Record<string, number> = {};

async function order(customer: string, at: string, lines: [string, number, string][], status = 'delivered') {
  const cents = lines.reduce((sum, [, qty, price]) => sum + qty * Math.round(Number(price) * 100), 0);
  const { rows } = await db.sql.query(
    `INSERT INTO orders (customer_id, order_date, created_at, updated_at, total, status) VALUES ($1, $2, $2, $2, $3::numeric / 100, $4) RETURNING id`,
    [c[customer], at, cents, status]
  );
  for (const [product, qty, price] of lines) {
    await db.sql.query(
      `INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4)`,
      [rows[0].id, p[product], qty, price]
    );
  }
}

async function ticket(t: {
  created: string;
  priority: string;
  firstResponse?: string;
  resolved?: string;
  csat?: [number, string];
}) {
  const status = t.resolved ? 'resolved' : t.firstResponse ? 'open' : 'new';
  await db.sql.query(
    `INSERT INTO tickets (customer_id, team_id, subject, priority, status, created_at, first_responded_at, resolved_at, csat_score, csat_at)
     VALUES ($1, (SELECT min(id) FROM teams), 'Fixture', $2, $3, $4, $5, $6, $7, $8)`,
    [
      c.c6,
      t.priority,
      status,
      t.created,
      t.firstResponse ?? null,
      t.resolved ?? null,
      t.csat?.[0] ?? null,
      t.csat?.[1] ?? null
    ]
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  const team = await createTeam(db.sql, 'Support');
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  await createUser(db.sql, { email: 'manager@test.dev', role: 'manager', name: 'Manager' });
  await createUser(db.sql, { email: 'agent@test.dev', role: 'agent', teamId: team, name: 'Agent' });
  for (const name of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9', 'c10']) {
    c[name] = await createCustomer(
      db.sql,
      `${name}@example.com`,
      name === 'c9' ? '=SUM(A1)' : name.toUpperCase()
    );
  }
  const [a, b] = (
    await db.sql.query(`INSERT INTO categories (name) VALUES ('Apparel'), ('Books') RETURNING id`)
  ).rows.map((r) => r.id);
  for (const [sku, category] of [
    ['P-001', a],
    ['P-002', a],
    ['P-003', b]
  ] as const) {
    p[sku.replace('-00', '')] = (
      await db.sql.query(
        `INSERT INTO products (sku, name, category_id, price, stock) VALUES ($1, $1, $2, 1, 100000) RETURNING id`,
        [sku, category]
      )
    ).rows[0].id;
  }

  await order('c1', '2025-12-15T12:00:00-05:00', [['P1', 1, '100.00']]); // before the range
  await order('c1', '2026-01-05T12:00:00-05:00', [['P1', 1, '50.00']]);
  await order('c1', '2026-02-10T12:00:00-05:00', [['P2', 1, '70.00']]);
  await order('c1', '2026-03-20T12:00:00-04:00', [['P1', 1, '30.00']]);
  await order('c2', '2026-01-01T00:00:00-05:00', [['P3', 1, '40.00']]); // local midnight: 1 January
  await order('c2', '2026-01-20T12:00:00-05:00', [['P1', 2, '30.00']]);
  await order('c3', '2026-01-31T23:30:00-05:00', [['P2', 1, '25.00']]); // still January in New York (1 February in UTC)
  await order('c3', '2026-03-02T12:00:00-05:00', [['P2', 1, '25.00']]);
  await order('c4', '2026-02-14T10:00:00-05:00', [
    ['P3', 1, '150.00'],
    ['P1', 1, '50.00']
  ]);
  await order('c4', '2026-02-14T18:00:00-05:00', [['P2', 1, '10.00']]);
  await order('c4', '2026-03-01T12:00:00-05:00', [['P3', 1, '500.00']], 'cancelled'); // not a sale
  await order('c5', '2026-03-31T23:59:00-04:00', [['P1', 1, '15.00']]); // the last minute of the range
  await order('c6', '2025-11-01T12:00:00-04:00', [['P2', 1, '80.00']]);
  await order('c7', '2026-01-10T12:00:00-05:00', [['P3', 1, '90.00']], 'refunded'); // not a sale: c7 is new in February
  await order('c7', '2026-02-20T12:00:00-05:00', [['P3', 1, '45.00']]);
  await order('c8', '2026-04-01T00:30:00-04:00', [['P1', 1, '33.00']]); // after the range
  for (const day of ['15', '16', '17'])
    await order('c9', `2026-01-${day}T12:00:00-05:00`, [['P2', 1, '5.00']]);
  await order('c10', '2025-06-01T12:00:00-04:00', [['P3', 1, '300.00']]);
  await order('c10', '2026-03-10T12:00:00-04:00', [['P3', 2, '150.00']]);

  // Support. Targets (hours): urgent 1 / 8, high 4 / 24, normal 8 / 72, low 24 / 120.
  await ticket({
    created: '2026-01-10T10:00:00-05:00',
    priority: 'normal',
    firstResponse: '2026-01-10T11:00:00-05:00',
    resolved: '2026-01-11T06:00:00-05:00',
    csat: [5, '2026-01-11T10:00:00-05:00']
  });
  await ticket({
    created: '2026-01-20T10:00:00-05:00',
    priority: 'urgent',
    firstResponse: '2026-01-20T12:00:00-05:00',
    resolved: '2026-01-20T20:00:00-05:00',
    csat: [2, '2026-01-21T10:00:00-05:00']
  });
  await ticket({
    created: '2026-02-05T10:00:00-05:00',
    priority: 'high',
    firstResponse: '2026-02-05T13:00:00-05:00'
  });
  await ticket({
    created: '2026-03-31T23:00:00-04:00',
    priority: 'low',
    firstResponse: '2026-04-01T01:00:00-04:00'
  });
  await ticket({
    created: '2025-12-31T23:00:00-05:00',
    priority: 'normal',
    firstResponse: '2026-01-01T01:00:00-05:00',
    resolved: '2026-01-02T23:00:00-05:00'
  });

  // No background refresh: the last test rebuilds the rollups for another zone and back by hand.
  server = await startTestServer(db.url, { STORE_TIMEZONE: TZ, ANALYTICS_REFRESH_SECONDS: '3600' });
  manager = await Browser.signedIn(server.url, 'manager@test.dev');
  agent = await Browser.signedIn(server.url, 'agent@test.dev');
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

const get = (path: string) => manager.getOk(path);

describe('sales over time', () => {
  it('counts sales, revenue, AOV, new and returning customers per store month', async () => {
    const report = await get(`/api/analytics/sales?${Q1}&bucket=month`);
    expect(report.range).toEqual({ from: '2026-01-01', to: '2026-03-31', timezone: TZ, bucket: 'month' });
    expect(report.points).toEqual([
      {
        bucket: '2026-01-01',
        from: '2026-01-01',
        to: '2026-01-31',
        orders: 7,
        revenue: '190.00',
        aov: '27.14',
        newCustomers: 3,
        returningCustomers: 1
      },
      {
        bucket: '2026-02-01',
        from: '2026-02-01',
        to: '2026-02-28',
        orders: 4,
        revenue: '325.00',
        aov: '81.25',
        newCustomers: 2,
        returningCustomers: 1
      },
      {
        bucket: '2026-03-01',
        from: '2026-03-01',
        to: '2026-03-31',
        orders: 4,
        revenue: '370.00',
        aov: '92.50',
        newCustomers: 1,
        returningCustomers: 3
      }
    ]);
    expect(report.totals).toEqual({ orders: 15, revenue: '885.00', aov: '59.00', newCustomers: 6 });
  });

  it('clips partial months to the range and reads them from the orders', async () => {
    const report = await get('/api/analytics/sales?from=2026-01-15&to=2026-03-15&bucket=month');
    expect(
      report.points.map((x: any) => [
        x.bucket,
        x.from,
        x.to,
        x.orders,
        x.revenue,
        x.newCustomers,
        x.returningCustomers
      ])
    ).toEqual([
      ['2026-01-01', '2026-01-15', '2026-01-31', 5, '100.00', 2, 1],
      ['2026-02-01', '2026-02-01', '2026-02-28', 4, '325.00', 2, 1],
      ['2026-03-01', '2026-03-01', '2026-03-15', 2, '325.00', 0, 2]
    ]);
  });

  it('puts an order on its store day, not its UTC day', async () => {
    const report = await get('/api/analytics/sales?from=2026-01-31&to=2026-02-01');
    expect(report.range.bucket).toBe('day');
    expect(report.points.map((x: any) => [x.bucket, x.orders, x.revenue])).toEqual([
      ['2026-01-31', 1, '25.00'],
      ['2026-02-01', 0, '0.00']
    ]);
  });

  it('starts weeks on Monday, the first clipped to the range', async () => {
    const report = await get('/api/analytics/sales?from=2026-01-01&to=2026-01-31&bucket=week');
    expect(
      report.points.map((x: any) => [
        x.bucket,
        x.from,
        x.to,
        x.orders,
        x.revenue,
        x.newCustomers,
        x.returningCustomers
      ])
    ).toEqual([
      ['2025-12-29', '2026-01-01', '2026-01-04', 1, '40.00', 1, 0],
      ['2026-01-05', '2026-01-05', '2026-01-11', 1, '50.00', 0, 1],
      ['2026-01-12', '2026-01-12', '2026-01-18', 3, '15.00', 1, 0],
      ['2026-01-19', '2026-01-19', '2026-01-25', 1, '60.00', 0, 1],
      ['2026-01-26', '2026-01-26', '2026-01-31', 1, '25.00', 1, 0]
    ]);
  });

  it('picks the bucket from the range and refuses ranges it cannot answer', async () => {
    expect((await get(`/api/analytics/sales?${Q1}`)).range.bucket).toBe('week');
    expect((await get('/api/analytics/sales?from=2025-01-01&to=2026-03-31')).range.bucket).toBe('month');
    for (const bad of [
      'from=2026-03-01&to=2026-01-01',
      'from=2024-01-01&to=2026-03-31',
      `${Q1}&bucket=day&from=2025-01-01`,
      'from=2026-02-30',
      'to=yesterday'
    ]) {
      const res = await manager.get(`/api/analytics/sales?${bad}`);
      expect(res.status, bad).toBe(400);
      expectErrorShape(res.body);
    }
  });
});

describe('top products and categories', () => {
  it('rank by revenue over the range, with units, orders and share', async () => {
    const { products, revenue } = await get(`/api/analytics/top-products?${Q1}`);
    expect(revenue).toBe('885.00');
    expect(products.map((x: any) => [x.sku, x.category, x.units, x.orders, x.revenue, x.share])).toEqual([
      ['P-003', 'Books', 5, 4, '535.00', 60.5],
      ['P-001', 'Apparel', 6, 5, '205.00', 23.2],
      ['P-002', 'Apparel', 7, 7, '145.00', 16.4]
    ]);
    const { categories } = await get(`/api/analytics/top-categories?${Q1}`);
    expect(categories.map((x: any) => [x.category, x.products, x.units, x.revenue, x.share])).toEqual([
      ['Books', 1, 5, '535.00', 60.5],
      ['Apparel', 2, 13, '350.00', 39.5]
    ]);
  });
});

describe('cohort retention', () => {
  it('groups customers by the month of their first sale and follows them month by month', async () => {
    const report = await get(`/api/analytics/cohorts?${Q1}`);
    expect(report.range.months).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(
      report.cohorts.map((x: any) => [
        x.cohort,
        x.customers,
        x.retention.map((r: any) => [r.offset, r.customers, r.percent])
      ])
    ).toEqual([
      [
        '2026-01',
        3,
        [
          [0, 3, 100],
          [1, 0, 0],
          [2, 1, 33.3]
        ]
      ],
      [
        '2026-02',
        2,
        [
          [0, 2, 100],
          [1, 0, 0]
        ]
      ],
      ['2026-03', 1, [[0, 1, 100]]]
    ]);
  });
});

describe('RFM segmentation', () => {
  it('scores recency, frequency and monetary value by quintile and names the segments', async () => {
    const report = await get(`/api/analytics/rfm?${Q1}`);
    expect(report.customers).toBe(8);
    expect(report.revenue).toBe('885.00');
    expect(report.segments.map((s: any) => [s.segment, s.customers, s.orders, s.revenue])).toEqual([
      ['champions', 1, 3, '150.00'],
      ['loyal', 1, 1, '300.00'],
      ['promising', 1, 1, '15.00'],
      ['needs_attention', 1, 2, '50.00'],
      ['at_risk', 3, 7, '325.00'],
      ['hibernating', 1, 1, '45.00']
    ]);
    // c1's last order, 20 March at noon, is 11.5 days before the range ends (1 April, 00:00).
    expect(report.segments[0]).toMatchObject({ label: 'Champions', averageRecencyDays: 11.5 });
    const members = await get(`/api/analytics/customers?${Q1}&kind=segment&segment=at_risk`);
    expect(members.customers.map((x: any) => [x.id, x.rfm])).toEqual([
      [c.c4, { r: 2, f: 3, m: 4 }],
      [c.c2, { r: 1, f: 3, m: 3 }],
      [c.c9, { r: 1, f: 4, m: 1 }]
    ]);
    expect(report.grid.reduce((n: number, g: any) => n + g.customers, 0)).toBe(8);
  });
});

describe('support over time', () => {
  it('measures volume, first response, resolution, SLA attainment and CSAT when each happens', async () => {
    const report = await get(`/api/analytics/support?${Q1}&bucket=month`);
    const [jan, feb, mar] = report.points;
    expect(jan).toMatchObject({
      created: 2,
      firstResponseMedianSeconds: 7200,
      firstResponseSla: { met: 2, total: 3, percent: 66.7 },
      resolutionMedianSeconds: 72_000,
      resolutionSla: { met: 2, total: 3, percent: 66.7 },
      csatAverage: 3.5,
      csatResponses: 2
    });
    expect(feb).toMatchObject({
      created: 1,
      firstResponseMedianSeconds: 10_800,
      firstResponseSla: { met: 1, total: 1, percent: 100 },
      resolutionMedianSeconds: null,
      csatAverage: null
    });
    expect(mar).toMatchObject({
      created: 1,
      firstResponseMedianSeconds: null,
      firstResponseSla: { met: 0, total: 0, percent: null }
    });
    expect(report.totals).toMatchObject({
      created: 4,
      firstResponseMedianSeconds: 7200,
      firstResponseSla: { met: 3, total: 4, percent: 75 },
      csatAverage: 3.5
    });
  });
});

describe('drill-downs', () => {
  it('list the orders and customers behind every sales number, adding up to it', async () => {
    const report = await get(`/api/analytics/sales?${Q1}&bucket=month`);
    for (const point of report.points) {
      const span = `from=${point.from}&to=${point.to}`;
      const orders = await get(`/api/analytics/orders?${span}&pageSize=500`);
      expect(orders.totals).toEqual({ orders: point.orders, revenue: point.revenue });
      const listed = orders.orders.reduce(
        (n: number, o: any) => n + Math.round(Number(o.lineRevenue) * 100),
        0
      );
      expect(listed).toBe(Math.round(Number(point.revenue) * 100));
      expect((await get(`/api/analytics/customers?${span}&kind=new`)).totals.customers).toBe(
        point.newCustomers
      );
      expect((await get(`/api/analytics/customers?${span}&kind=returning`)).totals.customers).toBe(
        point.returningCustomers
      );
    }
  });

  it('list the orders behind a product or category, and the customers behind a cohort cell or segment', async () => {
    const { products } = await get(`/api/analytics/top-products?${Q1}`);
    for (const product of products) {
      const drill = await get(`/api/analytics/orders?${Q1}&productId=${product.productId}`);
      expect(drill.totals).toEqual({ orders: product.orders, revenue: product.revenue });
    }
    const { categories } = await get(`/api/analytics/top-categories?${Q1}`);
    const apparel = categories.find((x: any) => x.category === 'Apparel');
    expect((await get(`/api/analytics/orders?${Q1}&categoryId=${apparel.categoryId}`)).totals).toEqual({
      orders: 12,
      revenue: '350.00'
    });

    const cell = await get(`/api/analytics/customers?${Q1}&kind=cohort&cohort=2026-01&month=2026-03`);
    expect(cell.customers.map((x: any) => x.id)).toEqual([c.c3]);
    const rfm = await get(`/api/analytics/rfm?${Q1}`);
    for (const segment of rfm.segments) {
      const drill = await get(`/api/analytics/customers?${Q1}&kind=segment&segment=${segment.segment}`);
      expect(drill.totals).toEqual({
        customers: segment.customers,
        orders: segment.orders,
        revenue: segment.revenue
      });
    }
  });

  it('list the tickets behind a support number', async () => {
    expect((await get(`/api/analytics/tickets?${Q1}&kind=created`)).totals.tickets).toBe(4);
    const missed = await get(
      '/api/analytics/tickets?from=2026-01-01&to=2026-01-31&kind=first_responded&sla=missed'
    );
    expect(missed.tickets.map((t: any) => [t.priority, t.firstResponseSeconds])).toEqual([['urgent', 7200]]);
    const csat = await get('/api/analytics/tickets?from=2026-01-01&to=2026-01-31&kind=csat');
    expect(csat.totals).toEqual({ tickets: 2, csatAverage: 3.5 });
  });

  it('page without overlap', async () => {
    const seen: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await get(`/api/analytics/orders?${Q1}&pageSize=6&page=${page}`);
      expect(res).toMatchObject({ page, pageSize: 6, pageCount: 3 });
      seen.push(...res.orders.map((o: any) => o.id));
    }
    expect(seen).toHaveLength(15);
    expect(new Set(seen).size).toBe(15);
  });
});

describe('CSV export', () => {
  it('downloads every report as CSV with the JSON’s numbers', async () => {
    const res = await manager.get(`/api/analytics/sales?${Q1}&bucket=month&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="pulse-sales-2026-01-01_2026-03-31.csv"'
    );
    expect((res.body as string).split('\r\n')).toEqual([
      'bucket,from,to,orders,revenue,aov,new_customers,returning_customers',
      '2026-01-01,2026-01-01,2026-01-31,7,190.00,27.14,3,1',
      '2026-02-01,2026-02-01,2026-02-28,4,325.00,81.25,2,1',
      '2026-03-01,2026-03-01,2026-03-31,4,370.00,92.50,1,3',
      ''
    ]);
    const cohorts: string = await get(`/api/analytics/cohorts?${Q1}&format=csv`);
    expect(cohorts.split('\r\n').slice(0, 3)).toEqual([
      'cohort,customers,month_0_percent,month_1_percent,month_2_percent',
      '2026-01,3,100,0,33.3',
      '2026-02,2,100,0,'
    ]);
  });

  it('exports drill-downs whole, quoting text a spreadsheet would run', async () => {
    const csv: string = await get(`/api/analytics/customers?${Q1}&kind=active&format=csv&pageSize=1`);
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('id,name,email,first_order_at,last_order_at,orders,revenue,r,f,m');
    expect(lines).toHaveLength(9); // every active customer, not one page
    expect(lines.find((l) => l.startsWith(`${c.c9},`))).toContain(`,'=SUM(A1) Tester,`);
  });
});

describe('access and freshness', () => {
  it('is for managers', async () => {
    for (const path of ['sales', 'top-products', 'cohorts', 'rfm', 'support', 'orders', 'tickets']) {
      expect((await agent.get(`/api/analytics/${path}?${Q1}`)).status, path).toBe(403);
    }
    expect((await new Browser(server.url).get(`/api/analytics/sales?${Q1}`)).status).toBe(401);
  });

  it('includes a sale the moment it is committed, and drops it when it is cancelled', async () => {
    const before = (await get(`/api/analytics/sales?${Q1}&bucket=month`)).points[1];
    const { rows } = await db.sql.query(
      `INSERT INTO orders (customer_id, order_date, total) VALUES ($1, '2026-02-03T12:00:00-05:00', 12.34) RETURNING id`,
      [c.c6]
    );
    const after = (await get(`/api/analytics/sales?${Q1}&bucket=month`)).points[1];
    expect(after).toMatchObject({
      orders: before.orders + 1,
      revenue: '337.34',
      returningCustomers: before.returningCustomers + 1
    });
    await db.sql.query(`UPDATE orders SET status = 'cancelled' WHERE id = $1`, [rows[0].id]);
    expect((await get(`/api/analytics/sales?${Q1}&bucket=month`)).points[1]).toEqual(before);
  });

  it('reads each customer’s sales over any range from the rollups exactly as from the orders', async () => {
    const rollups = poolDb(db.sql);
    await ensureFresh(rollups, TZ);
    const ranges = [
      ['2026-01-01', '2026-03-31'], // whole months: the running totals
      ['2026-01-15', '2026-03-15'], // partial, whole, partial
      ['2026-02-01', '2026-02-28'],
      ['2026-01-31', '2026-02-01'], // two partial months
      ['2026-02-10', '2026-02-20'],
      ['2025-01-01', '2026-12-31'] // everything: the totals as they are
    ];
    for (const [from, to] of ranges) {
      const range = { from, to, timezone: TZ };
      const params = new Params();
      const { sql: activity } = await activitySql(rollups, range, params);
      const { rows: fromRollups } = await db.sql.query(
        `WITH ${activity} SELECT customer_id, orders, cents::bigint::text AS cents, last_order_at FROM activity ORDER BY customer_id`,
        params.values
      );
      const { start, end } = await instantsOf(rollups, from, to, TZ);
      const { rows: fromOrders } = await db.sql.query(
        `SELECT customer_id, count(*)::int AS orders, (sum(total) * 100)::bigint::text AS cents, max(order_date) AS last_order_at
           FROM orders WHERE status NOT IN ('cancelled', 'refunded') AND order_date >= $1 AND order_date < $2
          GROUP BY customer_id ORDER BY customer_id`,
        [start, end]
      );
      expect(fromRollups, `${from}..${to}`).toEqual(fromOrders);
    }
  });

  it('rebuilds the day and month rollups for another store time zone', async () => {
    const rollups = poolDb(db.sql);
    const day = async (d: string) =>
      (await db.sql.query(`SELECT orders FROM sales_daily WHERE day = $1`, [d])).rows[0]?.orders ?? 0;
    expect(await refreshRollups(rollups, 'UTC')).toMatchObject({ rebuilt: true });
    expect([await day('2026-01-31'), await day('2026-02-01')]).toEqual([0, 1]); // c3's order is 1 February in UTC
    expect(await refreshRollups(rollups, TZ)).toMatchObject({ rebuilt: true });
    expect([await day('2026-01-31'), await day('2026-02-01')]).toEqual([1, 0]);
  });
});
