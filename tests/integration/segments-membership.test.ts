import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeListState } from '#shared/lists/query.js';
import type { Segment, SegmentGroup } from '#shared/schemas/segments.js';
import type { RunningPulse } from '../../server/pulse.js';
import { poolDb } from '../../server/data/db.js';
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
