import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moments, welchInterval } from '#shared/rules/lift.js';
import type { CampaignReport } from '#shared/schemas/campaigns.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { closeSockets, openSocket, waitFor, type ClientSocket } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// Campaigns against a real server and database: a known lift on fixture data, stable assignment,
// idempotent launches, members entering mid-window, attribution rules, live activity.

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

/** The assignment rule, computed outside the database (campaign_bucket in migration 0029). */
const expectedArm = (campaignId: number, customerId: number, holdoutPercent: number) =>
  parseInt(createHash('md5').update(`${campaignId}:${customerId}`).digest('hex').slice(0, 8), 16) % 10000 <
  holdoutPercent * 100
    ? 'holdout'
    : 'treatment';

let emailSeq = 0;
/** A segment with `size` new customers as its members. */
async function segmentOf(name: string, size: number) {
  const {
    rows: [{ id }]
  } = await db.sql.query<{ id: number }>(`INSERT INTO segments (name, rule) VALUES ($1, '{}') RETURNING id`, [
    name
  ]);
  const { rows } = await db.sql.query<{ id: number }>(
    `INSERT INTO customers (email, first_name)
     SELECT 'member' || ($1::integer + g) || '@example.com', 'Member' FROM generate_series(1, $2) g
     RETURNING id`,
    [emailSeq, size]
  );
  emailSeq += size;
  const customers = rows.map((r) => r.id).sort((a, b) => a - b);
  await db.sql.query(`INSERT INTO segment_members (segment_id, customer_id) SELECT $1, unnest($2::int[])`, [
    id,
    customers
  ]);
  return { id, customers };
}

const hoursFromNow = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

async function create(body: Record<string, unknown>) {
  const res = await manager.post('/api/campaigns', {
    startsAt: hoursFromNow(-1),
    endsAt: hoursFromNow(48),
    holdoutPercent: 20,
    ...body
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.campaign as { id: number };
}

async function launch(id: number) {
  const res = await manager.post(`/api/campaigns/${id}/launch`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { assigned: number };
}

const assignments = async (campaignId: number) =>
  (
    await db.sql.query<{ customer_id: number; arm: string; source: string }>(
      `SELECT customer_id, arm, source FROM campaign_members WHERE campaign_id = $1 ORDER BY customer_id`,
      [campaignId]
    )
  ).rows;

const report = async (id: number) =>
  (await manager.getOk(`/api/campaigns/${id}/report`)).report as CampaignReport;

/** Orders whose totals average exactly `mean` over `members` (pairs at mean ± spread; an odd one out at mean). */
async function ordersAveraging(members: number[], mean: number, spread: number) {
  const totals = members.map((_, k) =>
    k === members.length - 1 && members.length % 2 === 1 ? mean : k % 2 === 0 ? mean + spread : mean - spread
  );
  await db.sql.query(
    `INSERT INTO orders (customer_id, total, status) SELECT unnest($1::int[]), unnest($2::numeric[]), 'paid'`,
    [members, totals]
  );
  return totals;
}

describe('a campaign with a known lift', () => {
  let campaignId: number;
  let treated: number[];
  let heldOut: number[];
  let treatedTotals: number[];
  let heldOutTotals: number[];

  beforeAll(async () => {
    const segment = await segmentOf('Known lift', 200);
    ({ id: campaignId } = await create({
      name: 'Winter bonus',
      segmentId: segment.id,
      incentive: { kind: 'points', points: 250 }
    }));
    // Before the launch: an order of a member that must not count (nobody was assigned yet).
    await db.sql.query(`INSERT INTO orders (customer_id, total, status) VALUES ($1, 9999, 'paid')`, [
      segment.customers[0]
    ]);
    expect((await launch(campaignId)).assigned).toBe(200);
    treated = segment.customers.filter((c) => expectedArm(campaignId, c, 20) === 'treatment');
    heldOut = segment.customers.filter((c) => expectedArm(campaignId, c, 20) === 'holdout');
    // Treatment spends 60.00 a member, holdout 50.00: the lift is exactly 10.00 a member.
    treatedTotals = await ordersAveraging(treated, 60, 15);
    heldOutTotals = await ordersAveraging(heldOut, 50, 15);
    // None of these count: cancelled, refunded, dated after the window.
    await db.sql.query(
      `INSERT INTO orders (customer_id, total, status, order_date) VALUES
         ($1, 5000, 'cancelled', now()), ($1, 5000, 'refunded', now()), ($2, 5000, 'paid', now() + interval '3 days')`,
      [treated[0], heldOut[0]]
    );
  });

  it('assigns every member by the stable hash, about the holdout share', async () => {
    const rows = await assignments(campaignId);
    expect(rows).toHaveLength(200);
    for (const r of rows) expect(r.arm).toBe(expectedArm(campaignId, r.customer_id, 20));
    expect(heldOut.length).toBeGreaterThan(20);
    expect(heldOut.length).toBeLessThan(60);
  });

  it('reports the lift exactly, with a Welch interval that contains it and excludes 0', async () => {
    const r = await report(campaignId);
    expect(r.treatment.members).toBe(treated.length);
    expect(r.holdout.members).toBe(heldOut.length);
    expect(r.treatment.revenuePerMember).toBeCloseTo(60, 9);
    expect(r.holdout.revenuePerMember).toBeCloseTo(50, 9);
    expect(r.treatment.orders).toBe(treated.length);
    expect(r.holdout.orders).toBe(heldOut.length);
    const revenue = (totals: number[]) => totals.reduce((s, v) => s + v, 0).toFixed(2);
    expect(r.treatment.revenue).toBe(revenue(treatedTotals));
    expect(r.holdout.revenue).toBe(revenue(heldOutTotals));

    const lift = r.lift.revenuePerMember!;
    expect(lift.estimate).toBeCloseTo(10, 9);
    expect(lift.low).toBeLessThan(10);
    expect(lift.high).toBeGreaterThan(10);
    expect(lift.low).toBeGreaterThan(0);
    // The same interval computed from the fixture's own numbers.
    const expected = welchInterval(moments(treatedTotals), moments(heldOutTotals))!;
    expect(lift.low).toBeCloseTo(expected.low, 6);
    expect(lift.high).toBeCloseTo(expected.high, 6);
    expect(r.lift.relativeRevenue).toBeCloseTo(0.2, 9);

    // Everyone ordered in both groups: no conversion lift, and its interval says so.
    expect(r.treatment.conversionRate).toBe(1);
    expect(r.lift.conversion!.estimate).toBe(0);
    expect(r.lift.conversion!.low).toBeLessThan(0);
    expect(r.lift.conversion!.high).toBeGreaterThan(0);

    // The bonus went to the treated only, once each.
    expect(r.treatment.bonusPoints).toBe(250 * treated.length);
    expect(r.holdout.bonusPoints).toBe(0);
    expect(r.series.points.length).toBeGreaterThan(0);
    expect(r.series.points.at(-1)!.treatment).toBeCloseTo(60, 6);
    // A window of two days is charted by the hour, from its start to now.
    expect(r.series.unit).toBe('hour');
    const at = r.series.points.map((p) => Date.parse(p.at));
    expect(at.length).toBeGreaterThanOrEqual(3);
    for (let i = 2; i < at.length; i++) expect(at[i] - at[i - 1]).toBe(3600_000);
  });

  it('relaunching never reshuffles and gives nothing twice, even when launches race', async () => {
    const before = await assignments(campaignId);
    const again = await Promise.all([launch(campaignId), launch(campaignId), launch(campaignId)]);
    expect(again.map((a) => a.assigned)).toEqual([0, 0, 0]);
    expect(await assignments(campaignId)).toEqual(before);
    const { rows } = await db.sql.query<{ customer_id: number; points: number; entries: number }>(
      `SELECT a.customer_id, a.balance AS points,
              (SELECT count(*)::integer FROM loyalty_ledger l WHERE l.account_id = a.id) AS entries
         FROM loyalty_accounts a WHERE a.customer_id = ANY ($1::int[]) ORDER BY a.customer_id`,
      [[...treated, ...heldOut]]
    );
    expect(rows.map((r) => r.customer_id)).toEqual(treated);
    for (const r of rows) expect([r.points, r.entries]).toEqual([250, 1]);
  });
});

describe('a campaign without an effect', () => {
  it('reports a lift of 0 with an interval that contains it', async () => {
    const segment = await segmentOf('No effect', 80);
    const { id } = await create({
      name: 'Placebo',
      segmentId: segment.id,
      incentive: { kind: 'points', points: 1 },
      holdoutPercent: 50
    });
    await launch(id);
    const arm = (c: number) => expectedArm(id, c, 50);
    await ordersAveraging(
      segment.customers.filter((c) => arm(c) === 'treatment'),
      40,
      25
    );
    await ordersAveraging(
      segment.customers.filter((c) => arm(c) === 'holdout'),
      40,
      25
    );
    const r = await report(id);
    expect(r.lift.revenuePerMember!.estimate).toBeCloseTo(0, 9);
    expect(r.lift.revenuePerMember!.low).toBeLessThan(0);
    expect(r.lift.revenuePerMember!.high).toBeGreaterThan(0);
  });
});

describe('codes, entries mid-window and live activity', () => {
  let socket: ClientSocket;
  let segment: { id: number; customers: number[] };
  let campaignId: number;

  beforeAll(async () => {
    segment = await segmentOf('Codes', 40);
    ({ id: campaignId } = await create({
      name: 'Voucher drop',
      segmentId: segment.id,
      incentive: { kind: 'code', rewardId: 'voucher-10' },
      holdoutPercent: 25
    }));
    socket = await openSocket(server.url, world.manager.email);
    const ack = await socket.emitWithAck('campaign:watch', campaignId);
    expect(ack).toEqual({ data: { ok: true } });
  });

  it('gives each treated member one unique code, once, and counts a redeemed code', async () => {
    await launch(campaignId);
    await launch(campaignId);
    const treated = segment.customers.filter((c) => expectedArm(campaignId, c, 25) === 'treatment');
    const { rows: codes } = await db.sql.query<{ customer_id: number; code: string }>(
      `SELECT customer_id, code FROM campaign_codes WHERE campaign_id = $1 ORDER BY customer_id`,
      [campaignId]
    );
    expect(codes.map((c) => c.customer_id)).toEqual(treated);
    expect(new Set(codes.map((c) => c.code)).size).toBe(codes.length);
    await expect(
      db.sql.query(`INSERT INTO campaign_codes (campaign_id, customer_id, code) VALUES ($1, $2, $3)`, [
        campaignId,
        codes[1].customer_id,
        codes[0].code
      ])
    ).rejects.toThrow(/campaign_codes/);

    await db.sql.query(
      `INSERT INTO orders (customer_id, total, status, attributes) VALUES ($1, 80, 'paid', jsonb_build_object('discount_code', $2::text))`,
      [codes[0].customer_id, codes[0].code]
    );
    const event = await waitFor(
      socket,
      'campaign:activity',
      (e) => e.campaignId === campaignId && e.kind === 'orders',
      10_000
    );
    expect(event.count).toBe(1);
    const r = await report(campaignId);
    expect(r.campaign.incentive).toMatchObject({
      kind: 'code',
      reward: { name: '$10 voucher', amount: '10.00' }
    });
    expect([r.treatment.codesIssued, r.treatment.codesRedeemed]).toEqual([treated.length, 1]);
    expect(r.treatment.converted).toBe(1);
    expect(r.treatment.revenue).toBe('80.00');
    // The code is used by that order, once: another order with it (another member's) takes nothing.
    const {
      rows: [used]
    } = await db.sql.query(`SELECT used_order_id FROM campaign_codes WHERE code = $1`, [codes[0].code]);
    await db.sql.query(
      `INSERT INTO orders (customer_id, total, status, attributes) VALUES ($1, 5, 'paid', jsonb_build_object('discount_code', $2::text))`,
      [codes[1].customer_id, codes[0].code]
    );
    const { rows: after } = await db.sql.query(`SELECT used_order_id FROM campaign_codes WHERE code = $1`, [
      codes[0].code
    ]);
    expect(used.used_order_id).not.toBeNull();
    expect(after).toEqual([used]);
    expect((await report(campaignId)).treatment.codesRedeemed).toBe(1);
  });

  it('assigns a customer who enters the segment mid-window, by the same hash, and tells the report', async () => {
    const newcomers: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { rows } = await db.sql.query<{ id: number }>(
        `INSERT INTO customers (email, first_name) VALUES ($1, 'Late') RETURNING id`,
        [`late${i}@example.com`]
      );
      newcomers.push(rows[0].id);
    }
    await db.sql.query(`INSERT INTO segment_members (segment_id, customer_id) SELECT $1, unnest($2::int[])`, [
      segment.id,
      newcomers
    ]);
    await waitFor(
      socket,
      'campaign:activity',
      (e) => e.campaignId === campaignId && e.kind === 'members',
      10_000
    );
    const rows = (await assignments(campaignId)).filter((r) => newcomers.includes(r.customer_id));
    expect(rows).toEqual(
      newcomers.map((c) => ({ customer_id: c, arm: expectedArm(campaignId, c, 25), source: 'entered' }))
    );
    const { rows: codes } = await db.sql.query(
      `SELECT customer_id FROM campaign_codes WHERE campaign_id = $1 AND customer_id = ANY ($2::int[])`,
      [campaignId, newcomers]
    );
    expect(codes).toHaveLength(rows.filter((r) => r.arm === 'treatment').length);
    // Leaving and coming back changes nothing.
    await db.sql.query(`DELETE FROM segment_members WHERE segment_id = $1 AND customer_id = $2`, [
      segment.id,
      newcomers[0]
    ]);
    await db.sql.query(`INSERT INTO segment_members (segment_id, customer_id) VALUES ($1, $2)`, [
      segment.id,
      newcomers[0]
    ]);
    expect((await assignments(campaignId)).filter((r) => newcomers.includes(r.customer_id))).toEqual(rows);
  });

  it('charts a window longer than three days by the day', async () => {
    const segment = await segmentOf('Long', 2);
    const long = await create({
      name: 'Ten days',
      segmentId: segment.id,
      incentive: { kind: 'points', points: 5 },
      startsAt: hoursFromNow(-50),
      endsAt: hoursFromNow(24 * 8)
    });
    const r = await report(long.id);
    expect(r.series.unit).toBe('day');
    const at = r.series.points.map((p) => Date.parse(p.at));
    // The start, then the end of each day so far: 50 hours in, three days have begun.
    expect(at).toHaveLength(4);
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBe(24 * 3600_000);
  });

  it('does not assign entrants to a draft or an ended campaign', async () => {
    const other = await segmentOf('Quiet', 3);
    const draft = await create({
      name: 'Draft',
      segmentId: other.id,
      incentive: { kind: 'points', points: 5 }
    });
    const ended = await create({
      name: 'Over',
      segmentId: other.id,
      incentive: { kind: 'points', points: 5 },
      startsAt: hoursFromNow(-5),
      endsAt: hoursFromNow(-1)
    });
    const late = await db.sql.query<{ id: number }>(
      `INSERT INTO customers (email, first_name) VALUES ('quiet@example.com', 'Q') RETURNING id`
    );
    await db.sql.query(`INSERT INTO segment_members (segment_id, customer_id) VALUES ($1, $2)`, [
      other.id,
      late.rows[0].id
    ]);
    expect(await assignments(draft.id)).toEqual([]);
    const res = await manager.post(`/api/campaigns/${ended.id}/launch`);
    expect(res.status).toBe(409);
    expectErrorShape(res.body);
    expect(await assignments(ended.id)).toEqual([]);
  });
});

describe('the API', () => {
  it('is for managers: agents are refused, bad input is a 4xx that changes nothing', async () => {
    expect((await agent.get('/api/campaigns')).status).toBe(403);
    const { id } = (await segmentOf('Api', 1)) as { id: number };
    const count = async () => Number((await db.sql.query(`SELECT count(*) FROM campaigns`)).rows[0].count);
    const before = await count();
    const bad = [
      {
        name: 'x',
        segmentId: id,
        incentive: { kind: 'points', points: 0 },
        startsAt: hoursFromNow(0),
        endsAt: hoursFromNow(1),
        holdoutPercent: 10
      },
      {
        name: 'x',
        segmentId: id,
        incentive: { kind: 'points', points: 5 },
        startsAt: hoursFromNow(2),
        endsAt: hoursFromNow(1),
        holdoutPercent: 10
      },
      {
        name: 'x',
        segmentId: id,
        incentive: { kind: 'points', points: 5 },
        startsAt: hoursFromNow(0),
        endsAt: hoursFromNow(1),
        holdoutPercent: 0
      },
      {
        name: 'x',
        segmentId: id,
        incentive: { kind: 'code', rewardId: 'no-such-reward' },
        startsAt: hoursFromNow(0),
        endsAt: hoursFromNow(1),
        holdoutPercent: 10
      },
      {
        name: 'x',
        segmentId: 999999,
        incentive: { kind: 'points', points: 5 },
        startsAt: hoursFromNow(0),
        endsAt: hoursFromNow(1),
        holdoutPercent: 10
      }
    ];
    for (const body of bad) {
      const res = await manager.post('/api/campaigns', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expectErrorShape(res.body);
    }
    expect(await count()).toBe(before);
    expect((await manager.get('/api/campaigns/999999/report')).status).toBe(404);
    const list = await manager.getOk('/api/campaigns');
    expect(list.campaigns.length).toBe(before);
    const rewards = await manager.getOk('/api/campaigns/rewards');
    expect(rewards.rewards.map((r: { id: string }) => r.id)).toContain('voucher-10');
  });
});

describe('with the segments engine', () => {
  it('assigns a customer whom a profile edit moves into a rule-based segment, in the same commit', async () => {
    const seg = await manager.post('/api/segments', {
      name: 'Tagged for a campaign',
      rule: { op: 'and', rules: [{ field: 'tags', operator: 'any', value: ['campaign-vip'] }] }
    });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    const { id } = await create({
      name: 'Tag bonus',
      segmentId: seg.body.segment.id,
      incentive: { kind: 'points', points: 40 },
      holdoutPercent: 10
    });
    expect((await launch(id)).assigned).toBe(0);
    const { rows } = await db.sql.query<{ id: number }>(
      `INSERT INTO customers (email, first_name) VALUES ('tagged.later@example.com', 'Tess') RETURNING id`
    );
    const customer = rows[0].id;
    await db.sql.query(`UPDATE customers SET tags = '{campaign-vip}' WHERE id = $1`, [customer]);
    const arm = expectedArm(id, customer, 10);
    expect(await assignments(id)).toEqual([{ customer_id: customer, arm, source: 'entered' }]);
    const { rows: balance } = await db.sql.query<{ balance: number }>(
      `SELECT coalesce((SELECT balance FROM loyalty_accounts WHERE customer_id = $1), 0) AS balance`,
      [customer]
    );
    expect(balance[0].balance).toBe(arm === 'treatment' ? 40 : 0);
  });
});
