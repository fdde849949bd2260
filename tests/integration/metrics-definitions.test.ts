import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WallboardSnapshot } from '#shared/schemas/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createCustomer, createTeam, createUser } from '../support/fixtures.js';
import { reconciledMetrics } from '../support/metrics.js';

// Every wallboard number against a small world whose answers were worked out by hand. The store
// is in New York; "now" is 10:00 there on 24 November 2026 (15:00 UTC), so the store day began at
// 05:00 UTC, and 23:30 the evening before (04:30 UTC on the 24th) is yesterday, not today.

const TZ = 'America/New_York';
const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = Date.parse('2026-11-24T05:00:00Z'); // today, 00:00 in New York
const Y0 = T0 - 24 * HOUR; // yesterday, 00:00
const NOW = T0 + 10 * HOUR;
const at = (ms: number) => new Date(ms).toISOString();

let db: TestDatabase;
let snapshot: WallboardSnapshot;
const agents: Record<string, number> = {};
let t8Id: number;

async function order(customerId: number, when: number, total: string, status: string, refundedAt?: number) {
  await db.sql.query(
    `INSERT INTO orders (customer_id, order_date, created_at, updated_at, total, status, refunded_at) VALUES ($1, $2, $2, $2, $3, $4, $5)`,
    [customerId, at(when), total, status, refundedAt === undefined ? null : at(refundedAt)]
  );
}

interface TicketFixture {
  created: number;
  priority: string;
  status: string;
  assignee?: number;
  assignedAt?: number;
  firstResponse?: number;
  resolved?: number;
  closed?: number;
  csat?: [number, number];
}

async function ticket(customerId: number, teamId: number, t: TicketFixture): Promise<number> {
  const { rows } = await db.sql.query(
    `INSERT INTO tickets (customer_id, team_id, subject, priority, status, assignee_id, assigned_at, created_at, updated_at,
                          first_responded_at, resolved_at, closed_at, csat_score, csat_at)
     VALUES ($1, $2, 'Fixture', $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12) RETURNING id`,
    [
      customerId,
      teamId,
      t.priority,
      t.status,
      t.assignee ?? null,
      t.assignedAt === undefined ? null : at(t.assignedAt),
      at(t.created),
      t.firstResponse === undefined ? null : at(t.firstResponse),
      t.resolved === undefined ? null : at(t.resolved),
      t.closed === undefined ? null : at(t.closed),
      t.csat?.[0] ?? null,
      t.csat ? at(t.csat[1]) : null
    ]
  );
  return rows[0].id as number;
}

/** Status history as the triggers write it, dated by hand. */
async function statusChange(
  table: 'ticket_status_changes' | 'agent_status_changes',
  subjectId: number,
  from: string,
  to: string,
  when: number
) {
  const column = table === 'ticket_status_changes' ? 'ticket_id' : 'user_id';
  await db.sql.query(
    `INSERT INTO ${table} (${column}, from_status, to_status, changed_at) VALUES ($1, $2, $3, $4)`,
    [subjectId, from, to, at(when)]
  );
}

async function member(customerId: number, joined: number) {
  const { rows } = await db.sql.query(
    `INSERT INTO loyalty_accounts (customer_id, joined_at) VALUES ($1, $2) RETURNING id`,
    [customerId, at(joined)]
  );
  return rows[0].id as number;
}

let entries = 0;
async function entry(accountId: number, kind: 'earn' | 'redeem', points: number, when: number) {
  await db.sql.query(
    `INSERT INTO loyalty_ledger (account_id, kind, points, reason, idempotency_key, created_at) VALUES ($1, $2, $3, 'fixture', $4, $5)`,
    [accountId, kind, points, `fixture:${++entries}`, at(when)]
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  const team = await createTeam(db.sql, 'Support');
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  for (const [name, status] of [
    ['one', 'online'],
    ['two', 'busy'],
    ['three', 'away'],
    ['four', 'offline']
  ] as const) {
    const user = await createUser(db.sql, {
      email: `agent.${name}@test.dev`,
      role: 'agent',
      teamId: team,
      name: `Agent ${name}`
    });
    await db.sql.query(`UPDATE users SET status = $2 WHERE id = $1`, [user.id, status]);
    agents[name] = user.id;
  }
  await createUser(db.sql, { email: 'manager@test.dev', role: 'manager', name: 'Manager' });

  // Commerce. Sales are every order but cancelled and refunded ones.
  const shopper = await createCustomer(db.sql, 'shopper@example.com');
  await order(shopper, T0, '1.00', 'paid'); // today, at midnight exactly
  await order(shopper, T0 + HOUR, '100.00', 'paid'); // today
  await order(shopper, NOW - 30 * MIN, '50.50', 'pending'); // today, and 30 minutes ago
  await order(shopper, NOW - 30_000, '5.00', 'paid'); // today, in the current minute's predecessor
  await order(shopper, T0 - 30 * MIN, '70.00', 'delivered'); // 23:30 yesterday (already the 24th in UTC)
  await order(shopper, Y0 + 2 * HOUR, '30.00', 'delivered'); // yesterday, before the same time
  await order(shopper, T0 + 2 * HOUR, '999.99', 'cancelled'); // not a sale
  await order(shopper, T0 + 3 * HOUR, '20.00', 'refunded', T0 + 4 * HOUR); // refunded today
  await order(shopper, Y0 - 72 * HOUR, '45.00', 'refunded', T0 + 5 * HOUR); // an old order refunded today
  await order(shopper, Y0 + HOUR, '12.00', 'refunded', Y0 + 3 * HOUR); // refunded yesterday
  await order(shopper, NOW + MIN, '8.00', 'paid'); // after now

  // Support. SLA targets (minutes): urgent 60 / 480, high 240 / 1440, normal 480 / 4320, low 1440 / 7200.
  const writer = await createCustomer(db.sql, 'writer@example.com');
  const { one, two } = agents;
  await ticket(writer, team, { created: NOW - 10 * MIN, priority: 'normal', status: 'new' }); // t1: ok
  await ticket(writer, team, {
    created: T0 + 2 * HOUR,
    priority: 'urgent',
    status: 'open',
    assignee: one,
    assignedAt: T0 + 2 * HOUR
  }); // t2: breached
  await ticket(writer, team, { created: NOW - 40 * MIN, priority: 'urgent', status: 'new' }); // t3: 20 min left, at risk
  const t4 = await ticket(writer, team, {
    created: Y0 + HOUR,
    priority: 'high',
    status: 'pending',
    assignee: two,
    assignedAt: Y0 + HOUR,
    firstResponse: Y0 + 2 * HOUR
  }); // t4: resolution due T0 + 1h, breached
  await ticket(writer, team, {
    created: T0 + HOUR,
    priority: 'low',
    status: 'resolved',
    assignee: one,
    assignedAt: T0 + HOUR,
    firstResponse: T0 + 90 * MIN,
    resolved: T0 + 3 * HOUR,
    csat: [5, T0 + 4 * HOUR]
  }); // t5
  const t6 = await ticket(writer, team, {
    created: T0 - 72 * HOUR,
    priority: 'normal',
    status: 'closed',
    assignee: two,
    assignedAt: T0 + 30 * MIN,
    firstResponse: T0 + 30 * MIN,
    resolved: T0 + 6 * HOUR,
    closed: T0 + 7 * HOUR,
    csat: [3, T0 + 8 * HOUR]
  }); // t6
  await ticket(writer, team, {
    created: Y0 + 30 * MIN,
    priority: 'normal',
    status: 'resolved',
    assignee: one,
    assignedAt: Y0 + 30 * MIN,
    firstResponse: Y0 + HOUR,
    resolved: Y0 + 4 * HOUR,
    csat: [4, Y0 + 5 * HOUR]
  }); // t7: all yesterday
  t8Id = await ticket(writer, team, {
    created: T0 - 240 * HOUR,
    priority: 'normal',
    status: 'open',
    assignee: two,
    assignedAt: T0 - 240 * HOUR,
    firstResponse: T0 - 216 * HOUR
  }); // t8: ten days old, breached

  // Status history. Same time yesterday (10:00): t4 was pending (since 02:00), t6 still open
  // (resolved today); t8 has no change, so it was open as it is now. Agent two was busy (since
  // 09:00 yesterday), agent three online (went away at 12:00 yesterday). The setup's own UPDATEs of
  // the agents' status are dated now (the wall clock), after that instant: they say what came before.
  await statusChange('ticket_status_changes', t4, 'open', 'pending', Y0 + 2 * HOUR);
  await statusChange('ticket_status_changes', t6, 'open', 'resolved', T0 + 6 * HOUR);
  await statusChange('ticket_status_changes', t6, 'resolved', 'closed', T0 + 7 * HOUR);
  await statusChange('agent_status_changes', agents.two, 'away', 'busy', Y0 + 9 * HOUR);
  await statusChange('agent_status_changes', agents.three, 'online', 'away', Y0 + 12 * HOUR);

  // Loyalty.
  const c = await member(await createCustomer(db.sql, 'c@example.com'), T0 + HOUR); // joined today
  const d = await member(await createCustomer(db.sql, 'd@example.com'), Y0 + 3 * HOUR); // joined yesterday
  const e = await member(await createCustomer(db.sql, 'e@example.com'), T0 - 72 * HOUR);
  await entry(c, 'earn', 300, T0 + 2 * HOUR);
  await entry(c, 'earn', 1800, T0 + 3 * HOUR); // lifetime 2,100: silver, today
  await entry(c, 'redeem', -500, T0 + 4 * HOUR);
  await entry(d, 'earn', 2500, Y0 + 4 * HOUR); // silver, yesterday
  await entry(d, 'redeem', -1000, Y0 + 5 * HOUR);
  await entry(e, 'earn', 100, NOW + HOUR); // after now

  await db.sql.query(
    `INSERT INTO wallboard_thresholds (metric, comparison, value) VALUES
       ('unassigned', 'above', 1), ('open_tickets', 'above', 10), ('csat_average', 'below', 4.5), ('revenue_today', 'below', 200)`
  );

  snapshot = (await reconciledMetrics(db.sql, { timezone: TZ, clock: () => NOW })).snapshot()!;
});
afterAll(async () => {
  await db?.drop();
});

describe("the store's day", () => {
  it('is the business day in the store time zone, not UTC', () => {
    expect(snapshot).toMatchObject({
      timezone: TZ,
      day: '2026-11-24',
      dayStartedAt: '2026-11-24T05:00:00.000Z',
      generatedAt: at(NOW)
    });
  });
});

describe('commerce', () => {
  it('counts today’s sales from local midnight, with revenue as an exact decimal and AOV rounded to the cent', () => {
    const { commerce } = snapshot;
    expect(commerce.ordersToday).toMatchObject({ value: 4, sameTimeYesterday: 1 });
    expect(commerce.revenueToday).toMatchObject({ value: '156.50', sameTimeYesterday: '30.00' });
    // 156.50 / 4 = 39.125: half a cent rounds up.
    expect(commerce.averageOrderValue).toMatchObject({ value: '39.13', sameTimeYesterday: '30.00' });
  });

  it('counts refunds on the day they happen, whenever the order was placed', () => {
    expect(snapshot.commerce.refundsToday).toMatchObject({ value: 2, sameTimeYesterday: 1 });
    expect(snapshot.commerce.refundAmountToday).toMatchObject({ value: '65.00', sameTimeYesterday: '12.00' });
  });

  it('buckets the last 60 minutes by minute, the current minute last', () => {
    const { perMinute } = snapshot.commerce;
    expect(perMinute.from).toBe(at(NOW - 59 * MIN));
    expect(perMinute.orders).toHaveLength(60);
    expect(perMinute.revenue).toHaveLength(60);
    const busy = perMinute.orders.flatMap((n, i) => (n > 0 ? [[i, n, perMinute.revenue[i]]] : []));
    expect(busy).toEqual([
      [29, 1, '50.50'],
      [58, 1, '5.00']
    ]);
  });
});

describe('support', () => {
  it('counts open, unassigned and waiting tickets, and open tickets by priority', () => {
    const { support } = snapshot;
    expect(support.openTickets).toMatchObject({ value: 5, sameTimeYesterday: 3 });
    expect(support.unassigned).toMatchObject({ value: 2, sameTimeYesterday: 1 });
    expect(support.waitingOnAgent).toMatchObject({ value: 4, sameTimeYesterday: 2 }); // t6 and t8 then
    expect(support.byPriority).toEqual({ low: 0, normal: 2, high: 1, urgent: 2 });
  });

  it('puts tickets at risk and breached as the queue does', () => {
    expect(snapshot.support.slaAtRisk).toMatchObject({ value: 1, sameTimeYesterday: 0 });
    expect(snapshot.support.slaBreached).toMatchObject({ value: 3, sameTimeYesterday: 2 });
  });

  it('takes medians of first response and resolution times among today’s, in seconds', () => {
    // First responses today: 30 min and 3 days 30 min; yesterday by this time: 1 h and 30 min.
    expect(snapshot.support.firstResponseMedianSeconds).toMatchObject({
      value: (1800 + 261_000) / 2,
      sameTimeYesterday: 2700
    });
    // Resolutions today: 2 h and 3 days 6 h; yesterday: 3.5 h.
    expect(snapshot.support.resolutionMedianSeconds).toMatchObject({
      value: (7200 + 280_800) / 2,
      sameTimeYesterday: 12_600
    });
  });

  it('averages CSAT answers received today', () => {
    expect(snapshot.support.csatAverage).toMatchObject({ value: 4, sameTimeYesterday: 4 });
    expect(snapshot.support.csatResponses).toMatchObject({ value: 2, sameTimeYesterday: 1 });
  });

  it('draws the backlog every 15 minutes since midnight, ending with now', () => {
    const { backlog } = snapshot.support;
    expect(backlog).toHaveLength(41);
    const openAt = (ms: number) => backlog.find((p) => p.at === at(ms))?.open;
    expect(openAt(T0)).toBe(3); // t4, t6, t8
    expect(openAt(T0 + 2 * HOUR)).toBe(5); // + t2 (created at 2:00), t5 (resolved at 3:00)
    expect(openAt(T0 + 6 * HOUR)).toBe(3); // t6 resolved at 6:00 exactly
    expect(openAt(T0 + 9 * HOUR + 45 * MIN)).toBe(4); // + t3
    expect(backlog.at(-1)).toEqual({ at: at(NOW), open: 5 });
  });

  it('counts agents online and busy from their availability, and what it was at this time yesterday', () => {
    expect(snapshot.support.agentsOnline).toMatchObject({ value: 1, sameTimeYesterday: 1 }); // three then
    expect(snapshot.support.agentsBusy).toMatchObject({ value: 1, sameTimeYesterday: 1 }); // two then
  });

  it('records every status change in the database, whoever makes it', async () => {
    const { rows } = await db.sql.query(
      `SELECT from_status, to_status FROM agent_status_changes WHERE user_id = $1 ORDER BY id`,
      [agents.one]
    );
    expect(rows).toEqual([{ from_status: 'offline', to_status: 'online' }]);
    await db.sql.query(`UPDATE tickets SET status = 'open' WHERE id = $1`, [t8Id]);
    await db.sql.query(`UPDATE tickets SET status = 'pending' WHERE id = $1`, [t8Id]);
    const history = await db.sql.query(
      `SELECT from_status, to_status FROM ticket_status_changes WHERE ticket_id = $1 ORDER BY id`,
      [t8Id]
    );
    expect(history.rows).toEqual([{ from_status: 'open', to_status: 'pending' }]); // setting the same status is no change
  });
});

describe('the agents panel', () => {
  it('shows each active agent’s status, open tickets, resolutions and first-response median today', () => {
    expect(
      snapshot.agents.map((a) => [
        a.name,
        a.status,
        a.openTickets,
        a.resolvedToday,
        a.firstResponseMedianSeconds
      ])
    ).toEqual([
      ['Agent four', 'offline', 0, 0, null],
      ['Agent one', 'online', 1, 1, 1800],
      ['Agent three', 'away', 0, 0, null],
      ['Agent two', 'busy', 2, 1, 261_000]
    ]);
  });
});

describe('loyalty', () => {
  it('sums points issued and redeemed, new members and tier upgrades today', () => {
    const { loyalty } = snapshot;
    expect(loyalty.pointsIssued).toMatchObject({ value: 2100, sameTimeYesterday: 2500 });
    expect(loyalty.pointsRedeemed).toMatchObject({ value: 500, sameTimeYesterday: 1000 });
    expect(loyalty.newMembers).toMatchObject({ value: 1, sameTimeYesterday: 1 });
    expect(loyalty.tierUpgrades).toMatchObject({ value: 1, sameTimeYesterday: 1 });
  });
});

describe('thresholds', () => {
  it('put a tile in alert when its value crosses the manager’s threshold, and list the alerts', () => {
    expect(snapshot.support.unassigned).toMatchObject({
      alert: true,
      threshold: { comparison: 'above', value: '1.00' }
    });
    expect(snapshot.support.openTickets).toMatchObject({
      alert: false,
      threshold: { comparison: 'above', value: '10.00' }
    });
    expect(snapshot.support.csatAverage).toMatchObject({
      alert: true,
      threshold: { comparison: 'below', value: '4.50' }
    });
    expect(snapshot.commerce.revenueToday).toMatchObject({ alert: true });
    expect(snapshot.commerce.ordersToday).toMatchObject({ alert: false, threshold: null });
    expect(snapshot.alerts).toEqual(['revenue_today', 'unassigned', 'csat_average']);
  });
});
