import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeListState } from '#shared/lists/query.js';
import type { Segment, SegmentGroup } from '#shared/schemas/segments.js';
import type { RunningPulse } from '../../server/pulse.js';
import { poolDb } from '../../server/data/db.js';
import { rollRecentWindows, untilNextRoll } from '../../server/services/segments/recent.js';
import { reconcileSegments } from '../../server/services/segments/reconcile.js';
import { BASE, compile } from '../../server/services/segments/segments.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createOrder, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { closeSockets, openSocket, waitFor } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// Membership kept current from the change stream: plain-SQL writes move customers in and out at
// commit, the events reach sockets, a random stream of changes ends where a recompute does, and
// the reconcile corrects what drifted.

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let manager: Browser;
let agent: Browser;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  [manager, agent] = await Promise.all([
    Browser.signedIn(server.url, world.manager.email),
    Browser.signedIn(server.url, world.agentA.email)
  ]);
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

async function create(name: string, rule: SegmentGroup): Promise<Segment> {
  const res = await manager.request('POST', '/api/segments', { name, rule });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return (res.body as { segment: Segment }).segment;
}

const members = async (segmentId: number) =>
  (
    await db.sql.query<{ id: number }>(
      `SELECT customer_id AS id FROM segment_members WHERE segment_id = $1 ORDER BY 1`,
      [segmentId]
    )
  ).rows.map((r) => r.id);

/** What the rule selects now, recomputed from SQL (the set shape). */
async function recomputed(rule: SegmentGroup) {
  const { where, params } = await compile(poolDb(db.sql), rule, 'set');
  const { rows } = await db.sql.query<{ id: number }>(`SELECT c.id FROM ${BASE} WHERE ${where} ORDER BY 1`, [
    JSON.stringify(params)
  ]);
  return rows.map((r) => r.id);
}

describe('segment membership', () => {
  it('a plain-SQL order moves a customer in (segment:entered on a socket) and a cancellation out', async () => {
    const big = await create('Big spenders', {
      op: 'and',
      rules: [{ field: 'lifetimeSpend', operator: 'gte', value: '100' }]
    });
    expect(big.memberCount).toBe(0);
    const socket = await openSocket(server.url, manager);
    const customerId = await createCustomer(db.sql, 'mover@example.com', 'Mover');
    const orderId = await createOrder(db.sql, { customerId, total: '150.00', status: 'paid' });
    const entered = await waitFor(
      socket,
      'segment:entered',
      (e) => e.data.customerId === customerId && e.data.segmentId === big.id,
      5000
    );
    expect(entered.data).toMatchObject({ segmentName: 'Big spenders', change: 'entered' });
    expect(await members(big.id)).toEqual([customerId]);
    await db.sql.query(`UPDATE orders SET status = 'cancelled' WHERE id = $1`, [orderId]);
    await waitFor(
      socket,
      'segment:left',
      (e) => e.data.customerId === customerId && e.data.segmentId === big.id,
      5000
    );
    expect(await members(big.id)).toEqual([]);
    // The history the timeline reads.
    const { rows } = await db.sql.query(
      `SELECT change FROM segment_membership_changes WHERE customer_id = $1 AND segment_id = $2 ORDER BY id`,
      [customerId, big.id]
    );
    expect(rows.map((r) => r.change)).toEqual(['entered', 'left']);
    const timeline = await manager.getOk(`/api/customers/${customerId}/timeline?kinds=segment`);
    // The order also made them "New this month", a built-in segment.
    const ours = timeline.items.filter((i: { segmentId: number }) => i.segmentId === big.id);
    expect(ours.map((i: { change: string; segmentName: string }) => `${i.change} ${i.segmentName}`)).toEqual([
      'left Big spenders',
      'entered Big spenders'
    ]);
  });

  it('profile edits, tickets and consents move members too; the count and the customers filter agree', async () => {
    const rule: SegmentGroup = {
      op: 'or',
      rules: [
        { field: 'tags', operator: 'any', value: ['vip'] },
        {
          op: 'and',
          rules: [
            { field: 'openTicket', operator: 'is', value: true },
            { field: 'country', operator: 'is_any_of', value: ['DE'] }
          ]
        }
      ]
    };
    const seg = await create('VIP or German with a ticket', rule);
    const a = await createCustomer(db.sql, 'tagged@example.com', 'Tagged');
    const b = await createCustomer(db.sql, 'german@example.com', 'German');
    await db.sql.query(`UPDATE customers SET tags = '{vip}' WHERE id = $1`, [a]);
    await db.sql.query(`UPDATE customers SET addresses = '[{"country":"DE","default":true}]' WHERE id = $1`, [
      b
    ]);
    expect(await members(seg.id)).toEqual([a]);
    await db.sql.query(`INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $2, 'Hi')`, [
      b,
      world.teamA
    ]);
    expect(await members(seg.id)).toEqual([a, b].sort((x, y) => x - y));

    const count = await agent.getOk(`/api/segments/${seg.id}/count`);
    expect(count.count).toBe(2);
    const draft = await agent.request('POST', '/api/segments/count', { rule });
    expect((draft.body as { count: number }).count).toBe(2);
    const listed = await agent.getOk(
      `/api/customers?${encodeListState({ filter: { op: 'and', rules: [{ field: 'segment', operator: 'is_any_of', value: [String(seg.id)] }] }, sort: [{ field: 'id', dir: 'asc' }] })}`
    );
    expect(listed.rows.map((r: { id: number }) => r.id)).toEqual([a, b].sort((x, y) => x - y));
    const page = await agent.getOk(`/api/segments/${seg.id}/members?limit=1`);
    expect(page.rows).toHaveLength(1);
    expect(page.next).toBeTruthy();
    const rest = await agent.getOk(
      `/api/segments/${seg.id}/members?limit=5&before=${encodeURIComponent(page.next)}`
    );
    expect([...page.rows, ...rest.rows].map((r: { id: number }) => r.id).sort()).toEqual([a, b].sort());
  });

  it("the summary's copy of tags follows every way tags are written, and a tag OR a number selects from it", async () => {
    // Segments read tags from customer_stats (migration 0047); customers.tags is where they are written.
    const { rows: made } = await db.sql.query<{ id: number }>(
      `INSERT INTO customers (email, first_name, last_name, tags)
       VALUES ('t1@copy.dev', 'Tam', 'Copy', '{copied,one}'), ('t2@copy.dev', 'Tim', 'Copy', '{}'),
              ('t3@copy.dev', 'Tom', 'Copy', '{copied}')
       RETURNING id`
    );
    const [t1, t2, t3] = made.map((r) => r.id);
    const seg = await create('Copied or big', {
      op: 'or',
      rules: [
        { field: 'tags', operator: 'any', value: ['copied'] },
        { field: 'orderCount', operator: 'gte', value: 3 }
      ]
    });
    expect(await members(seg.id)).toEqual(expect.arrayContaining([t1, t3]));
    expect(await members(seg.id)).not.toContain(t2);
    // One statement tags one and untags another; then an append, as psql would write it.
    await db.sql.query(
      `UPDATE customers SET tags = CASE id WHEN $1 THEN '{copied}'::text[] ELSE '{}'::text[] END WHERE id IN ($1, $2)`,
      [t2, t3]
    );
    await db.sql.query(`UPDATE customers SET tags = array_append(tags, 'extra') WHERE id = $1`, [t1]);
    const copy = await db.sql.query<{ id: number; tags: string[] }>(
      `SELECT s.customer_id AS id, s.tags FROM customer_stats s WHERE s.customer_id = ANY ($1) ORDER BY 1`,
      [[t1, t2, t3]]
    );
    expect(copy.rows).toEqual([
      { id: t1, tags: ['copied', 'one', 'extra'] },
      { id: t2, tags: ['copied'] },
      { id: t3, tags: [] }
    ]);
    const inSegment = await members(seg.id);
    expect(inSegment).toEqual(expect.arrayContaining([t1, t2]));
    expect(inSegment).not.toContain(t3);
    expect(inSegment).toEqual(await recomputed(seg.rule));
    const { rows: drift } = await db.sql.query(
      `SELECT c.id FROM customers c JOIN customer_stats s ON s.customer_id = c.id WHERE c.tags IS DISTINCT FROM s.tags`
    );
    expect(drift).toEqual([]);
  });

  it('recent windows: a count never reads a day-old figure, and the roll moves the figures to today', async () => {
    // A spend of 250 thirty days and an hour before today began: out of today's 30-day window,
    // in yesterday's. Another inside today's.
    const outside = await createCustomer(db.sql, 'window-out@example.com');
    const inside = await createCustomer(db.sql, 'window-in@example.com');
    await db.sql.query(
      `INSERT INTO orders (customer_id, total, status, order_date)
       VALUES ($1, 250, 'paid', recent_window_start(30, now()) - interval '1 hour'),
              ($2, 250, 'paid', recent_window_start(30, now()) + interval '1 hour')`,
      [outside, inside]
    );
    const rule: SegmentGroup = {
      op: 'and',
      rules: [
        { field: 'recentSpend', days: 30, operator: 'gte', value: '200' },
        { field: 'orderCount', operator: 'eq', value: 1 }
      ]
    };
    const kept = async (id: number) =>
      (
        await db.sql.query<{ spend: string; orders: number }>(
          `SELECT spend_30d AS spend, orders_30d AS orders FROM customer_stats WHERE customer_id = $1`,
          [id]
        )
      ).rows[0];
    expect(await kept(outside)).toEqual({ spend: '0.00', orders: 0 });
    expect(await kept(inside)).toEqual({ spend: '250.00', orders: 1 });
    const mine = (ids: number[]) => ids.filter((id) => id === outside || id === inside);
    expect(mine(await recomputed(rule))).toEqual([inside]);

    // As the figures stood yesterday: the outside order still counted, the day not rolled.
    await db.sql.query(`UPDATE customer_stats SET spend_30d = 250, orders_30d = 1 WHERE customer_id = $1`, [
      outside
    ]);
    await db.sql.query(`UPDATE customer_stats_recent SET day = day - 1`);
    // Before the roll, a count sums the orders: the stale figure is not read.
    expect(mine(await recomputed(rule))).toEqual([inside]);
    const draft = await manager.request('POST', '/api/segments/count', { rule });
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    expect((draft.body as { count: number }).count).toBe((await recomputed(rule)).length);

    // (The server's own reconcile may roll first; either way only a roll can bring this back to 0.)
    await rollRecentWindows(poolDb(db.sql));
    expect(await kept(outside)).toEqual({ spend: '0.00', orders: 0 });
    const [{ today }] = (
      await db.sql.query<{ today: boolean }>(
        `SELECT day = (now() AT TIME ZONE 'UTC')::date AS today FROM customer_stats_recent`
      )
    ).rows;
    expect(today).toBe(true);
    expect(mine(await recomputed(rule))).toEqual([inside]);
    // Rolled: a second roll has nothing to do.
    expect((await rollRecentWindows(poolDb(db.sql))).refreshed).toBe(0);
    // Every customer's kept figures are what their orders sum to today.
    const { rows: drift } = await db.sql.query(
      `SELECT s.customer_id FROM customer_stats s
         LEFT JOIN LATERAL (
           SELECT coalesce(sum(o.total) FILTER (WHERE o.order_date >= recent_window_start(30, now())), 0) AS s30,
                  coalesce(sum(o.total) FILTER (WHERE o.order_date >= recent_window_start(90, now())), 0) AS s90,
                  coalesce(sum(o.total) FILTER (WHERE o.order_date >= recent_window_start(365, now())), 0) AS s365,
                  count(*) FILTER (WHERE o.order_date >= recent_window_start(30, now())) AS n30,
                  count(*) FILTER (WHERE o.order_date >= recent_window_start(90, now())) AS n90,
                  count(*) FILTER (WHERE o.order_date >= recent_window_start(365, now())) AS n365
             FROM orders o WHERE o.customer_id = s.customer_id AND o.status NOT IN ('cancelled', 'refunded')) k ON true
        WHERE (s.spend_30d, s.spend_90d, s.spend_365d, s.orders_30d, s.orders_90d, s.orders_365d)
              IS DISTINCT FROM (k.s30, k.s90, k.s365, k.n30::int, k.n90::int, k.n365::int)`
    );
    expect(drift).toEqual([]);
    // The next roll is due just after midnight UTC.
    expect(untilNextRoll(new Date('2026-12-05T23:59:59.000Z'))).toBe(2000);
  });

  it('exports members as CSV with formulas neutralised', async () => {
    const id = await createCustomer(db.sql, 'formula@example.com', '=HYPERLINK("x")');
    await db.sql.query(`UPDATE customers SET tags = '{csv}' WHERE id = $1`, [id]);
    const seg = await create('CSV people', {
      op: 'and',
      rules: [{ field: 'tags', operator: 'any', value: ['csv'] }]
    });
    const res = await agent.request('GET', `/api/segments/${seg.id}/export.csv`);
    expect(res.status).toBe(200);
    const text = String(res.body);
    expect(text).toContain('formula@example.com');
    expect(text).toContain(`'=HYPERLINK`);
    expect(text.split('\r\n').filter((l) => l.trim()).length).toBe(2);
  });

  it('agents read but do not edit; bad rules are 400 and change nothing', async () => {
    expect((await agent.getOk('/api/segments')).segments.length).toBeGreaterThan(0);
    const denied = await agent.request('POST', '/api/segments', {
      name: 'Nope',
      rule: { op: 'and', rules: [] }
    });
    expect(denied.status).toBe(403);
    const bad = await manager.request('POST', '/api/segments', {
      name: 'Bad',
      rule: {
        op: 'and',
        rules: [{ field: 'lifetimeSpend', operator: 'gt', value: '1; DROP TABLE customers' }]
      }
    });
    expect(bad.status).toBe(400);
    expectErrorShape(bad.body);
    const builtIn = (await manager.getOk('/api/segments')).segments.find((s: Segment) => s.builtIn === 'vip');
    const del = await manager.request('DELETE', `/api/segments/${builtIn.id}`);
    expect(del.status).toBe(409);
    const missing = await manager.request('GET', '/api/segments/999999');
    expect(missing.status).toBe(404);
  });

  it('an incremental stream of random changes ends where a recompute does', async () => {
    const rules: SegmentGroup[] = [
      { op: 'and', rules: [{ field: 'recentSpend', days: 30, operator: 'gte', value: '200' }] },
      {
        op: 'or',
        rules: [
          { field: 'orderCount', operator: 'gte', value: 3 },
          {
            op: 'and',
            rules: [
              { field: 'tags', operator: 'any', value: ['gold'] },
              { field: 'consent', channel: 'sms', operator: 'is', value: true }
            ]
          }
        ]
      },
      {
        op: 'and',
        rules: [
          { field: 'openTicket', operator: 'is', value: false },
          { field: 'averageOrderValue', operator: 'between', value: ['20', '90'] }
        ]
      },
      { op: 'and', rules: [{ field: 'csat', operator: 'low', value: 2 }] },
      // Read from what the summary keeps (migration 0039): the RFM segment and the first order.
      {
        op: 'and',
        rules: [{ field: 'rfm', operator: 'is_any_of', value: ['champions', 'loyal', 'promising'] }]
      },
      {
        op: 'or',
        rules: [
          { field: 'firstOrderAt', operator: 'in_last', value: 20 },
          { field: 'rfm', operator: 'is_none_of', value: ['hibernating', 'champions'] }
        ]
      },
      { op: 'and', rules: [{ field: 'supportVip', operator: 'is', value: true }] }
    ];
    const segs = [];
    for (const [i, rule] of rules.entries()) segs.push(await create(`Random ${i}`, rule));
    const customers: number[] = [];
    for (let i = 0; i < 12; i++)
      customers.push(await createCustomer(db.sql, `random${i}@example.com`, `R${i}`));
    // A seeded generator: the same stream every run.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const orders: number[] = [];
    const tickets: number[] = [];
    for (let step = 0; step < 160; step++) {
      // Midway the RFM cut-offs move (the reconcile refreshes them) under the stream.
      if (step === 80) await reconcileSegments(poolDb(db.sql));
      const who = customers[rand(customers.length)];
      const client = await db.sql.connect();
      try {
        await client.query('BEGIN');
        // One to three changes per transaction.
        for (let k = 0; k <= rand(3); k++) {
          switch (rand(7)) {
            case 0:
            case 1: {
              const { rows } = await client.query(
                `INSERT INTO orders (customer_id, total, status, order_date) VALUES ($1, $2, 'paid', now() - make_interval(days => $3)) RETURNING id`,
                [who, (10 + rand(150)).toFixed(2), rand(60)]
              );
              orders.push(rows[0].id);
              break;
            }
            case 2:
              if (orders.length)
                await client.query(`UPDATE orders SET status = $2 WHERE id = $1`, [
                  orders[rand(orders.length)],
                  ['cancelled', 'paid', 'refunded'][rand(3)]
                ]);
              break;
            case 3:
              await client.query(`UPDATE customers SET tags = $2 WHERE id = $1`, [
                who,
                rand(2) ? ['gold'] : []
              ]);
              break;
            case 4:
              await client.query(
                `INSERT INTO customer_consents (customer_id, channel, granted, source) VALUES ($1, 'sms', $2, 'customer')`,
                [who, rand(2) === 0]
              );
              break;
            case 5: {
              const { rows } = await client.query(
                `INSERT INTO tickets (customer_id, team_id, subject) VALUES ($1, $2, 'Q') RETURNING id`,
                [who, world.teamA]
              );
              tickets.push(rows[0].id);
              break;
            }
            case 6:
              if (tickets.length)
                await client.query(
                  `UPDATE tickets SET status = 'resolved', resolved_at = now(), csat_score = $2, csat_at = now() WHERE id = $1`,
                  [tickets[rand(tickets.length)], 1 + rand(5)]
                );
              break;
          }
        }
        await client.query(rand(10) === 0 ? 'ROLLBACK' : 'COMMIT');
      } finally {
        client.release();
      }
    }
    // Cut-offs that moved far since the customers were last written: the reconcile brings them back
    // and must rewrite every stored RFM the move changes (and correct the memberships).
    await db.sql.query(`UPDATE segment_rfm_cutoffs SET frequency = '{1000,1000,1000,1000}'`);
    await db.sql.query(`UPDATE customer_stats SET open_tickets = open_tickets`);
    await reconcileSegments(poolDb(db.sql));
    // What the summary keeps equals computing it afresh from the orders and the cut-offs.
    const { rows: stale } = await db.sql.query(
      `SELECT s.customer_id FROM customer_stats s
        WHERE s.rfm IS DISTINCT FROM segment_rfm(s.last_order_at, s.order_count, s.lifetime_spend)
           OR s.first_order_at IS DISTINCT FROM (SELECT min(o.order_date) FROM orders o WHERE o.customer_id = s.customer_id)`
    );
    expect(stale).toEqual([]);
    for (const [i, seg] of segs.entries()) {
      const expected = await recomputed(rules[i]);
      expect(await members(seg.id), `segment ${i}`).toEqual(expected);
    }
    // Enough happened for the comparison to mean something.
    const sizes = await Promise.all(segs.map((s) => members(s.id)));
    expect(sizes.filter((m) => m.length > 0).length).toBeGreaterThanOrEqual(3);
  });

  it('the reconcile corrects drift and emits the difference', async () => {
    const seg = await create('Recent buyers', {
      op: 'and',
      rules: [{ field: 'lastOrderAt', operator: 'in_last', value: 30 }]
    });
    const stray = await createCustomer(db.sql, 'stray@example.com', 'Stray');
    // A member the rule no longer selects, as time would leave one (written quietly, no event).
    const client = await db.sql.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('pulse.segment_fill', 'on', true)`);
      await client.query(`INSERT INTO segment_members (segment_id, customer_id) VALUES ($1, $2)`, [
        seg.id,
        stray
      ]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const socket = await openSocket(server.url, manager);
    const left = waitFor(
      socket,
      'segment:left',
      (e) => e.data.customerId === stray && e.data.segmentId === seg.id,
      5000
    );
    const results = await reconcileSegments(poolDb(db.sql));
    expect(results.find((r) => r.segmentId === seg.id)?.corrected).toBe(1);
    await left;
    expect(await members(seg.id)).not.toContain(stray);
  });
});
