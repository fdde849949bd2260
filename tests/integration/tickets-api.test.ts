import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  createCustomer,
  createLoyaltyAccount,
  createOrder,
  createTicket,
  createUser,
  createWorld,
  earnPoints,
  type TestUser
} from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import { startTestServer } from '../support/server.js';

const TOKEN = 'integration-token-for-tests-0123456789';
let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let agentA2: TestUser;
let as: Record<'agentA' | 'agentA2' | 'agentB' | 'manager', Browser>;

const one = async <T = any>(sql: string, params: unknown[] = []) =>
  (await db.sql.query(sql, params)).rows[0] as T;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  agentA2 = await createUser(db.sql, {
    email: 'agent.a2@test.dev',
    role: 'agent',
    teamId: world.teamA,
    name: 'Agent A2'
  });
  // Routing is exercised on its own; elsewhere tickets wait unassigned.
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  server = await startTestServer(db.url, { INTEGRATION_TOKEN: TOKEN });
  as = {
    agentA: new Browser(server.url),
    agentA2: new Browser(server.url),
    agentB: new Browser(server.url),
    manager: new Browser(server.url)
  };
  await Promise.all([
    as.agentA.login(world.agentA.email),
    as.agentA2.login(agentA2.email),
    as.agentB.login(world.agentB.email),
    as.manager.login(world.manager.email)
  ]);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

describe('the queue', () => {
  it('lists a team’s open work in SLA order, with counts per view, and pages without overlap', async () => {
    const customer = await createCustomer(db.sql, 'queue@example.com', 'Quinn');
    const low = await createTicket(db.sql, { customerId: customer, teamId: world.teamA, subject: 'Low one' });
    await db.sql.query(`UPDATE tickets SET priority = 'low' WHERE id = $1`, [low]);
    const urgent = await createTicket(db.sql, {
      customerId: customer,
      teamId: world.teamA,
      subject: 'Urgent one'
    });
    await db.sql.query(`UPDATE tickets SET priority = 'urgent', assignee_id = $2 WHERE id = $1`, [
      urgent,
      world.agentA.id
    ]);
    const other = await createTicket(db.sql, {
      customerId: customer,
      teamId: world.teamB,
      subject: 'Team B only'
    });

    const team = await as.agentA.get('/api/tickets?view=team&limit=100');
    expect(team.status).toBe(200);
    const ids = team.body.tickets.map((t: { id: number }) => t.id);
    expect(ids).not.toContain(other);
    expect(ids.indexOf(urgent)).toBeLessThan(ids.indexOf(low));
    const row = team.body.tickets.find((t: { id: number }) => t.id === urgent);
    expect(row).toMatchObject({
      customer: { name: 'Quinn Tester', email: 'queue@example.com' },
      assignee: { id: world.agentA.id, name: 'Agent A' }
    });
    expect(team.body.counts).toMatchObject({ mine: 1, all: null });

    const mine = await as.agentA.get('/api/tickets?view=mine');
    expect(mine.body.tickets.map((t: { id: number }) => t.id)).toEqual([urgent]);
    expect((await as.agentA.get('/api/tickets?view=all')).status).toBe(403);
    expect(
      (await as.manager.get('/api/tickets?view=all&limit=100')).body.tickets.map((t: { id: number }) => t.id)
    ).toContain(other);

    for (let i = 0; i < 5; i++)
      await createTicket(db.sql, { customerId: customer, teamId: world.teamA, subject: `Bulk ${i}` });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { tickets: { id: number }[]; nextCursor: string | null } } = await as.agentA.get(
        `/api/tickets?view=team&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      );
      seen.push(...page.body.tickets.map((t) => t.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(team.body.tickets.length + 5);
  });

  it('filters and searches by number, customer and subject; refuses a forged cursor', async () => {
    const customer = await createCustomer(db.sql, 'finder@example.com', 'Fiona');
    const id = await createTicket(db.sql, {
      customerId: customer,
      teamId: world.teamA,
      subject: 'Damaged espresso machine'
    });
    const search = async (q: string) =>
      (await as.agentA.get(`/api/tickets?view=team&q=${encodeURIComponent(q)}`)).body.tickets.map(
        (t: { id: number }) => t.id
      );
    expect(await search(`#${id}`)).toEqual([id]);
    expect(await search('finder@')).toEqual([id]);
    expect(await search('espresso')).toEqual([id]);
    expect(await search('Fiona')).toEqual([id]);
    const urgentOnly = await as.agentA.get('/api/tickets?view=team&priority=urgent');
    expect(urgentOnly.body.tickets.every((t: { priority: string }) => t.priority === 'urgent')).toBe(true);
    expect((await as.agentA.get('/api/tickets?view=team&priority=ultra')).status).toBe(400);
    const forged = await as.agentA.get('/api/tickets?cursor=bm90LWEtY3Vyc29y');
    expect(forged.status).toBe(400);
    expectErrorShape(forged.body);
  });
});

describe('a ticket', () => {
  it('shows the conversation and the customer beside it, to its team only', async () => {
    const customer = await createCustomer(db.sql, 'panel@example.com', 'Pat');
    const account = await createLoyaltyAccount(db.sql, customer);
    const order = await createOrder(db.sql, { customerId: customer, total: 120.5, status: 'delivered' });
    await createOrder(db.sql, { customerId: customer, total: 30, status: 'cancelled' });
    await earnPoints(db.sql, {
      accountId: account,
      points: 120,
      reason: 'order',
      orderId: order,
      key: `k${order}`
    });
    const id = await createTicket(db.sql, {
      customerId: customer,
      teamId: world.teamA,
      subject: 'Where is it?'
    });
    await db.sql.query(
      `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', 'Hi, where is my order?')`,
      [id]
    );

    const res = await as.agentA.get(`/api/tickets/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatchObject({
      id,
      subject: 'Where is it?',
      team: { id: world.teamA, name: 'Team A' }
    });
    expect(res.body.messages.map((m: { body: string }) => m.body)).toEqual(['Hi, where is my order?']);
    expect(res.body.panel).toMatchObject({
      lifetimeValue: '120.50',
      orderCount: 2,
      loyalty: { balance: 120, tier: 'bronze' }
    });
    expect(res.body.panel.recentOrders).toHaveLength(2);
    expect((await as.agentB.get(`/api/tickets/${id}`)).status).toBe(404);
  });
});

describe('two agents at once', () => {
  it('claiming the same ticket: exactly one wins, the other is told who', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const [a, b] = await Promise.all([
      as.agentA.post(`/api/tickets/${id}/claim`),
      as.agentA2.post(`/api/tickets/${id}/claim`)
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    const winnerName = a.status === 200 ? 'Agent A' : 'Agent A2';
    expect(loser.body.error.message).toBe(`Already assigned to ${winnerName}`);
    const row = await one(
      `SELECT t.status, u.name FROM tickets t JOIN users u ON u.id = t.assignee_id WHERE t.id = $1`,
      [id]
    );
    expect(row).toEqual({ status: 'open', name: winnerName });
    expect(
      Number(
        (
          await one(`SELECT count(*) FROM ticket_messages WHERE ticket_id = $1 AND author_type = 'system'`, [
            id
          ])
        ).count
      )
    ).toBe(1);
  });

  it('saving against a stale version is refused with the current ticket; nothing is overwritten', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const [a, b] = await Promise.all([
      as.agentA.request('PATCH', `/api/tickets/${id}`, { version: 1, priority: 'high' }),
      as.agentA2.request('PATCH', `/api/tickets/${id}`, { version: 1, priority: 'low' })
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const lost = a.status === 409 ? a : b;
    const won = a.status === 200 ? a : b;
    expect(lost.body.error.code).toBe('stale_version');
    expect(lost.body.error.details.ticket).toMatchObject({
      id,
      version: 2,
      priority: won.body.ticket.priority
    });
    expect(await one(`SELECT priority, version FROM tickets WHERE id = $1`, [id])).toEqual({
      priority: won.body.ticket.priority,
      version: 2
    });
  });
});

describe('status, replies and notes', () => {
  it('moves only along allowed transitions, and reopening clears the resolution', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const resolve = await as.agentA.request('PATCH', `/api/tickets/${id}`, { version: 1, status: 'closed' });
    expect(resolve.status).toBe(200);
    const bad = await as.agentA.request('PATCH', `/api/tickets/${id}`, { version: 2, status: 'pending' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.allowed).toEqual(['open']);
    const reopen = await as.agentA.request('PATCH', `/api/tickets/${id}`, { version: 2, status: 'open' });
    expect(reopen.body.ticket).toMatchObject({ status: 'open', resolvedAt: null });
  });

  it('a first public reply stops the first-response clock; an internal note does not', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const note = await as.agentA.post(`/api/tickets/${id}/messages`, {
      body: 'Checking with the warehouse',
      internal: true
    });
    expect(note.status).toBe(201);
    expect(note.body.ticket).toMatchObject({ status: 'new', firstRespondedAt: null });
    expect(note.body.message).toMatchObject({
      internal: true,
      author: { id: world.agentA.id, name: 'Agent A' }
    });
    const reply = await as.agentA.post(`/api/tickets/${id}/messages`, {
      body: 'On its way!',
      status: 'pending'
    });
    expect(reply.body.ticket.status).toBe('pending');
    expect(reply.body.ticket.firstRespondedAt).not.toBeNull();
    const resolved = await as.agentA.post(`/api/tickets/${id}/messages`, {
      body: 'Delivered, closing.',
      status: 'resolved'
    });
    expect(resolved.body.ticket.resolvedAt).not.toBeNull();
    expect((await as.agentA.post(`/api/tickets/${id}/messages`, { body: '   ' })).status).toBe(400);
  });
});

describe('SLA and VIPs', () => {
  it('sets due times from the policy on creation and on a priority change', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const minutes = async () =>
      one(
        `SELECT (extract(epoch FROM first_response_due_at - created_at) / 60)::int AS fr, (extract(epoch FROM resolution_due_at - created_at) / 60)::int AS res FROM tickets WHERE id = $1`,
        [id]
      );
    expect(await minutes()).toEqual({ fr: 480, res: 4320 });
    await as.agentA.request('PATCH', `/api/tickets/${id}`, { version: 1, priority: 'urgent' });
    expect(await minutes()).toEqual({ fr: 60, res: 480 });
  });

  it('managers edit the policy; agents cannot', async () => {
    const policies = [{ priority: 'low', firstResponseMinutes: 720, resolutionMinutes: 2880 }];
    expect((await as.agentA.request('PUT', '/api/sla-policies', { policies })).status).toBe(403);
    const saved = await as.manager.request('PUT', '/api/sla-policies', { policies });
    expect(saved.body.policies.find((p: { priority: string }) => p.priority === 'low')).toEqual(policies[0]);
    const bad = await as.manager.request('PUT', '/api/sla-policies', {
      policies: [{ priority: 'low', firstResponseMinutes: 100, resolutionMinutes: 10 }]
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('policies.0.resolutionMinutes');
  });

  it('flags a gold-tier customer’s ticket and raises it to high priority', async () => {
    const vip = await createCustomer(db.sql, 'vip@example.com', 'Vera');
    const account = await createLoyaltyAccount(db.sql, vip);
    await earnPoints(db.sql, { accountId: account, points: 9000, reason: 'welcome', key: 'vip-bonus' });
    const id = await createTicket(db.sql, { customerId: vip, teamId: world.teamA });
    expect(await one(`SELECT flagged, priority FROM tickets WHERE id = $1`, [id])).toEqual({
      flagged: true,
      priority: 'high'
    });
  });
});

describe('routing', () => {
  it('assigns new tickets round-robin to online agents under capacity, and hands them back when an agent goes away', async () => {
    const team = (await one(`INSERT INTO teams (name) VALUES ('Routing') RETURNING id`)).id;
    const r1 = await createUser(db.sql, { email: 'r1@test.dev', role: 'agent', teamId: team, name: 'R One' });
    const r2 = await createUser(db.sql, { email: 'r2@test.dev', role: 'agent', teamId: team, name: 'R Two' });
    const r1b = new Browser(server.url);
    await r1b.login(r1.email);
    expect((await r1b.request('PUT', '/api/me/status', { status: 'online' })).status).toBe(200);
    await db.sql.query(`UPDATE users SET status = 'online', capacity = 1 WHERE id = $1`, [r2.id]);
    const assignee = async (id: number) =>
      (await one(`SELECT assignee_id FROM tickets WHERE id = $1`, [id])).assignee_id;

    const t1 = await createTicket(db.sql, { customerId: world.customerId, teamId: team });
    const t2 = await createTicket(db.sql, { customerId: world.customerId, teamId: team });
    expect(new Set([await assignee(t1), await assignee(t2)])).toEqual(new Set([r1.id, r2.id]));
    const t3 = await createTicket(db.sql, { customerId: world.customerId, teamId: team });
    expect(await assignee(t3)).toBe(r1.id); // r2 is at capacity

    // r1 goes away: the unanswered tickets go back and on to r2 if it has room, else wait.
    await r1b.request('PUT', '/api/me/status', { status: 'away' });
    const back = [await assignee(t1), await assignee(t2), await assignee(t3)];
    expect(back.filter((a) => a === r1.id)).toEqual([]);
    expect(back.filter((a) => a === null).length).toBe(2);

    // A deactivated agent hands back everything, answered or not.
    await db.sql.query(`UPDATE tickets SET first_responded_at = now() WHERE assignee_id = $1`, [r2.id]);
    await as.manager.request('PATCH', `/api/teams/${team}`, { autoAssign: false });
    await db.sql.query(`UPDATE users SET active = false WHERE id = $1`, [r2.id]);
    expect(Number((await one(`SELECT count(*) FROM tickets WHERE assignee_id = $1`, [r2.id])).count)).toBe(0);
    expect((await one(`SELECT status FROM users WHERE id = $1`, [r2.id])).status).toBe('offline');
    await db.sql.query(`UPDATE users SET active = true WHERE id = $1`, [r2.id]);
    await as.manager.request('PATCH', `/api/teams/${team}`, { autoAssign: true });

    // Turned off for the team: new tickets wait unassigned.
    await as.manager.request('PATCH', `/api/teams/${team}`, { autoAssign: false });
    await db.sql.query(`UPDATE users SET capacity = 10 WHERE id = $1`, [r2.id]);
    expect(
      await assignee(await createTicket(db.sql, { customerId: world.customerId, teamId: team }))
    ).toBeNull();
  });
});

describe('integrations', () => {
  it('an inbound email opens a ticket for a new customer; a reply lands on it', async () => {
    const noToken = await fetch(`${server.url}/api/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}'
    });
    expect(noToken.status).toBe(403); // neither a token nor a browser session from Pulse
    const post = (body: unknown, token = TOKEN) =>
      fetch(`${server.url}/api/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body)
      });
    expect((await post({ channel: 'email' }, 'wrong-token-wrong-token-wrong')).status).toBe(401);
    const first = await post({
      channel: 'email',
      email: 'New.Person@Example.com',
      name: 'Nora Newman',
      subject: 'Wrong size',
      body: 'I got an M, ordered an L',
      teamId: world.teamB
    });
    expect(first.status).toBe(201);
    const created = await first.json();
    expect(created.ticket).toMatchObject({
      subject: 'Wrong size',
      teamId: world.teamB,
      channel: 'email',
      customer: { name: 'Nora Newman', email: 'new.person@example.com' }
    });
    await db.sql.query(`UPDATE tickets SET status = 'pending' WHERE id = $1`, [created.ticket.id]);
    const reply = await post({
      channel: 'email',
      email: 'new.person@example.com',
      subject: 'Re: Wrong size',
      body: 'Any news?',
      ticketId: created.ticket.id
    });
    expect(reply.status).toBe(200);
    expect((await reply.json()).ticket.status).toBe('open');
    const invalid = await post({ channel: 'fax', email: 'x', subject: '', body: '' });
    expect(invalid.status).toBe(400);
    expectErrorShape(await invalid.json());
  });

  it('CSAT arrives for resolved tickets only', async () => {
    const id = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const rate = (score: number) =>
      fetch(`${server.url}/api/tickets/${id}/csat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ score })
      });
    expect((await rate(5)).status).toBe(422);
    await db.sql.query(`UPDATE tickets SET status = 'resolved', resolved_at = now() WHERE id = $1`, [id]);
    expect((await rate(6)).status).toBe(400);
    const ok = await rate(4);
    expect(ok.status).toBe(200);
    expect((await ok.json()).ticket.csatScore).toBe(4);
  });
});

describe('orders from the customer panel', () => {
  it('a refund reverses the loyalty points and is noted on the ticket', async () => {
    const customer = await createCustomer(db.sql, 'refund@example.com', 'Rhea');
    const account = await createLoyaltyAccount(db.sql, customer);
    const order = await createOrder(db.sql, { customerId: customer, total: 80, status: 'delivered' });
    await earnPoints(db.sql, {
      accountId: account,
      points: 80,
      reason: 'order',
      orderId: order,
      key: `e${order}`
    });
    const ticket = await createTicket(db.sql, { customerId: customer, teamId: world.teamA });

    expect((await as.agentA.post(`/api/orders/${order}/refund`, {})).status).toBe(403); // agents act through a ticket
    expect((await as.agentB.post(`/api/orders/${order}/refund`, { ticketId: ticket })).status).toBe(404); // not their team's
    const res = await as.agentA.post(`/api/orders/${order}/refund`, { ticketId: ticket });
    expect(res.status).toBe(200);
    expect(res.body.order.status).toBe('refunded');
    expect((await one(`SELECT balance FROM loyalty_accounts WHERE id = $1`, [account])).balance).toBe(0);
    expect(
      (
        await one(`SELECT body FROM ticket_messages WHERE ticket_id = $1 AND author_type = 'system'`, [
          ticket
        ])
      ).body
    ).toMatch(/refunded order #\d+ \(80\.00\), −80 points/);
    const again = await as.agentA.post(`/api/orders/${order}/refund`, { ticketId: ticket });
    expect(again.status).toBe(422);
    expect((await as.manager.post(`/api/orders/${order}/cancel`, {})).status).toBe(422);
  });
});

describe('canned responses', () => {
  it('managers keep them; everyone searches them', async () => {
    const body = {
      title: 'Shipping delay',
      body: 'Hi {{customer.first_name}}, your order {{order.number}} is delayed.'
    };
    expect((await as.agentA.post('/api/canned-responses', body)).status).toBe(403);
    const created = await as.manager.post('/api/canned-responses', body);
    expect(created.status).toBe(201);
    expect(
      (await as.manager.post('/api/canned-responses', { ...body, title: 'shipping delay ' })).status
    ).toBe(409);
    const found = await as.agentA.get('/api/canned-responses?q=delay');
    expect(found.body.responses.map((r: { title: string }) => r.title)).toEqual(['Shipping delay']);
  });
});
