import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WallboardSnapshot } from '#shared/schemas/metrics.js';
import type { RunningPulse } from '../../server/pulse.js';
import { toHundredths } from '#shared/rules/money.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createTicket, createUser, createWorld } from '../support/fixtures.js';
import { Browser, expectErrorShape } from '../support/http.js';
import {
  closeSockets,
  connectSocket,
  disconnected,
  openSocket,
  record,
  until,
  waitFor,
  whenReady,
  type ClientSocket
} from '../support/socket.js';
import { startTestServer } from '../support/server.js';

// The wallboard on the live path: a real server, real sockets, changes made by plain SQL.

/** A store time zone where it is the middle of the day now, so "today" cannot roll over mid-test. */
function middayZone(): string {
  const zones = [
    'UTC',
    'Asia/Tokyo',
    'Asia/Kolkata',
    'Europe/Berlin',
    'America/New_York',
    'America/Los_Angeles',
    'Pacific/Honolulu',
    'Pacific/Kiritimati'
  ];
  const hour = (tz: string) =>
    Number(
      new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', hourCycle: 'h23' }).format(new Date())
    );
  return zones.find((tz) => hour(tz) >= 6 && hour(tz) <= 17 && tz !== 'UTC') ?? 'UTC';
}

const zone = middayZone();
let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
let manager: Browser;
let agent: Browser;

const socketOf = (b: Browser) => openSocket(server.url, b);

const watch = (socket: ClientSocket) =>
  socket.timeout(5000).emitWithAck('wallboard:watch') as Promise<{
    data?: WallboardSnapshot;
    error?: { code: string };
  }>;

async function watching(b: Browser) {
  const socket = await socketOf(b);
  const ack = await watch(socket);
  if (!ack.data) throw new Error(`wallboard:watch refused: ${JSON.stringify(ack.error)}`);
  return { socket, snapshot: ack.data };
}

/** A TV: no cookie, a wallboard token in the handshake. */
const tvSocket = (token: string) => connectSocket(server.url, undefined, { wallboardToken: token });

/** A request with no session. */
const anonymous = (path: string) => new Browser(server.url).get(path);

const insertOrder = (total = '10.00') =>
  createOrder(db.sql, { customerId: world.customerId, total, status: 'paid' });

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  await db.sql.query(`UPDATE teams SET auto_assign = false`);
  server = await startTestServer(db.url, { STORE_TIMEZONE: zone });
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

describe('the wallboard for managers', () => {
  it('answers wallboard:watch with the numbers, and an order inserted by SQL moves revenue and the minute chart within a second', async () => {
    const { socket, snapshot } = await watching(manager);
    const committedAt = Date.now();
    await insertOrder('123.45');
    const frame = await waitFor<WallboardSnapshot>(
      socket,
      'wallboard:updated',
      (s) => s.commerce.ordersToday.value === snapshot.commerce.ordersToday.value + 1,
      3000
    );
    expect(Date.now() - committedAt).toBeLessThan(1000);
    expect(
      toHundredths(frame.commerce.revenueToday.value) - toHundredths(snapshot.commerce.revenueToday.value)
    ).toBe(12345);
    const [previous, current] = frame.commerce.perMinute.orders.slice(-2);
    expect(previous + current).toBeGreaterThanOrEqual(1);
    expect(frame.timezone).toBe(zone);
  });

  it('is refused to agents, on the socket and over HTTP; anonymous callers must sign in', async () => {
    const socket = await socketOf(agent);
    expect(await watch(socket)).toMatchObject({ error: { code: 'forbidden' } });
    expect((await agent.get('/api/wallboard')).status).toBe(403);
    const anon = await anonymous('/api/wallboard');
    expect(anon.status).toBe(401);
    expectErrorShape(anon.body);
  });

  it(
    'coalesces a 5,000-row insert into a handful of frames, the last one right',
    { timeout: 30_000 },
    async () => {
      const { socket, snapshot } = await watching(manager);
      const frames = record(socket, ['wallboard:updated']);
      const base = snapshot.commerce.ordersToday.value;
      await db.sql.query(
        `INSERT INTO orders (customer_id, total, status) SELECT $1, 2.00, 'paid' FROM generate_series(1, 5000)`,
        [world.customerId]
      );
      await until(
        () => frames.some((f) => f.payload.commerce.ordersToday.value === base + 5000),
        5000,
        'the frame with all 5,000 orders'
      );
      // A fence: one more order; its frame comes after everything the burst caused.
      await insertOrder('1.00');
      await until(
        () => frames.some((f) => f.payload.commerce.ordersToday.value === base + 5001),
        5000,
        'the fence frame'
      );
      expect(frames.length).toBeLessThanOrEqual(10);
      const last = frames.at(-1)!.payload as WallboardSnapshot;
      expect(
        toHundredths(last.commerce.revenueToday.value) - toHundredths(snapshot.commerce.revenueToday.value)
      ).toBe(5000 * 200 + 100);
      // The same numbers GET /api/wallboard recomputes from SQL.
      const fresh = (await manager.get('/api/wallboard')).body as WallboardSnapshot;
      expect(fresh.commerce.ordersToday.value).toBe(last.commerce.ordersToday.value);
      expect(fresh.commerce.revenueToday.value).toBe(last.commerce.revenueToday.value);
      expect(fresh.support).toMatchObject({
        openTickets: last.support.openTickets,
        unassigned: last.support.unassigned
      });
      expect(fresh.loyalty).toEqual(last.loyalty);
    }
  );

  it('shows a new agent on the agents panel at once, and their status changes move the availability tiles', async () => {
    const { socket, snapshot } = await watching(manager);
    const onlineBefore = snapshot.support.agentsOnline.value;
    const created = await db.sql.query(
      `INSERT INTO users (email, name, role, team_id, password_hash) VALUES ('new.agent@test.dev', 'Nova New', 'agent', $1, '$argon2id$placeholder') RETURNING id`,
      [world.teamA]
    );
    const id = created.rows[0].id as number;
    const shown = await waitFor<WallboardSnapshot>(
      socket,
      'wallboard:updated',
      (s) => s.agents.some((a) => a.id === id),
      1000
    );
    expect(shown.agents.find((a) => a.id === id)).toMatchObject({
      name: 'Nova New',
      status: 'offline',
      openTickets: 0
    });
    await db.sql.query(`UPDATE users SET status = 'online' WHERE id = $1`, [id]);
    const online = await waitFor<WallboardSnapshot>(
      socket,
      'wallboard:updated',
      (s) => s.agents.some((a) => a.id === id && a.status === 'online'),
      1000
    );
    expect(online.support.agentsOnline.value).toBe(onlineBefore + 1);
    // She was not around at this time yesterday: the trend counts her as she was then.
    expect(online.support.agentsOnline.sameTimeYesterday).toBe(
      snapshot.support.agentsOnline.sameTimeYesterday
    );
  });

  it('stops reaching a manager who is made an agent', async () => {
    const other = await createUser(db.sql, { email: 'lead@test.dev', role: 'manager', name: 'Lead' });
    const lead = await Browser.signedIn(server.url, other.email);
    const demoted = await watching(lead);
    const stays = await watching(manager);
    const demotedFrames = record(demoted.socket, ['wallboard:updated']);
    await db.sql.query(`UPDATE users SET role = 'agent', team_id = $2 WHERE id = $1`, [
      other.id,
      world.teamA
    ]);
    await insertOrder();
    const base = stays.snapshot.commerce.ordersToday.value;
    await waitFor<WallboardSnapshot>(
      stays.socket,
      'wallboard:updated',
      (s) => s.commerce.ordersToday.value >= base + 1,
      3000
    );
    expect(demotedFrames.filter((f) => f.payload.commerce.ordersToday.value >= base + 1)).toEqual([]);
    expect(await watch(demoted.socket)).toMatchObject({ error: { code: 'forbidden' } });
  });
});

describe('a read-only wallboard link for a TV', () => {
  it('sees the wallboard and nothing else, and revoking it disconnects the TV within a second', async () => {
    const created = await manager.post('/api/wallboard/tokens', { name: 'Lobby TV' });
    expect(created.status).toBe(201);
    const { token, secret, path } = created.body;
    expect(path).toBe(`/tv?token=${encodeURIComponent(secret)}`);
    expect(token).toMatchObject({ name: 'Lobby TV', revokedAt: null, createdBy: { id: world.manager.id } });
    const listed = (await manager.get('/api/wallboard/tokens')).body.tokens;
    expect(listed.find((t: { id: number }) => t.id === token.id)).toEqual(
      expect.objectContaining({ name: 'Lobby TV' })
    );
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(
      (await db.sql.query(`SELECT token_hash FROM wallboard_tokens WHERE id = $1`, [token.id])).rows[0]
        .token_hash
    ).not.toContain(secret);

    // HTTP: the numbers, and no other route.
    const board = await anonymous(`/api/wallboard?token=${encodeURIComponent(secret)}`);
    expect(board.status).toBe(200);
    expect(board.body.commerce.ordersToday.value).toBeGreaterThan(0);
    for (const other of ['/api/tickets', '/api/wallboard/tokens', '/api/analytics/sales', '/api/auth/me']) {
      expect((await anonymous(`${other}?token=${encodeURIComponent(secret)}`)).status).toBe(401);
    }

    // The socket: the wallboard room only.
    const tv = tvSocket(secret);
    const firstFrame = waitFor<WallboardSnapshot>(tv, 'wallboard:updated');
    await whenReady(tv);
    const before = await firstFrame;
    const elsewhere = record(tv, [
      'ticket:created',
      'ticket:updated',
      'ticket:message_added',
      'order:created',
      'order:updated',
      'loyalty:changed',
      'customer:updated',
      'agent:status_changed',
      'presence:changed'
    ]);
    const ticketId = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await waitFor<WallboardSnapshot>(
      tv,
      'wallboard:updated',
      (s) => s.support.openTickets.value === before.support.openTickets.value + 1,
      3000
    );
    await insertOrder();
    await waitFor<WallboardSnapshot>(
      tv,
      'wallboard:updated',
      (s) => s.commerce.ordersToday.value === before.commerce.ordersToday.value + 1,
      3000
    );
    expect(elsewhere).toEqual([]);
    const refused = await tv.timeout(5000).emitWithAck('ticket:watch', ticketId);
    expect(refused).toMatchObject({ error: { code: 'forbidden' } });
    const customer = await tv.timeout(5000).emitWithAck('customer:watch', world.customerId);
    expect(customer).toMatchObject({ error: { code: 'forbidden' } });

    // Revoked: gone within a second, and refused from then on.
    const gone = disconnected(tv);
    const revoked = await manager.request('DELETE', `/api/wallboard/tokens/${token.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.revokedAt).not.toBeNull();
    expect(await gone).toBeLessThan(1000);
    expect((await anonymous(`/api/wallboard?token=${encodeURIComponent(secret)}`)).status).toBe(401);
    await expect(whenReady(tvSocket(secret))).rejects.toThrow(/unauthenticated/);
    expect((await manager.request('DELETE', `/api/wallboard/tokens/${token.id}`)).status).toBe(200); // again: no-op
  });

  it('is revoked by plain SQL too (the change log carries it), and cannot be un-revoked', async () => {
    const { token, secret } = (await manager.post('/api/wallboard/tokens', { name: 'Warehouse TV' })).body;
    const tv = tvSocket(secret);
    await whenReady(tv);
    const gone = disconnected(tv);
    await db.sql.query(`UPDATE wallboard_tokens SET revoked_at = now() WHERE id = $1`, [token.id]);
    expect(await gone).toBeLessThan(1000);
    await expect(
      db.sql.query(`UPDATE wallboard_tokens SET revoked_at = NULL WHERE id = $1`, [token.id])
    ).rejects.toMatchObject({
      constraint: 'wallboard_tokens_revoked_for_good'
    });
  });

  it('refuses made-up tokens, and token management is for managers', async () => {
    await expect(whenReady(tvSocket('pwb_not-a-real-token'))).rejects.toThrow(/unauthenticated/);
    expect((await anonymous('/api/wallboard?token=pwb_nope')).status).toBe(401);
    expect((await agent.post('/api/wallboard/tokens', { name: 'Mine' })).status).toBe(403);
    expect((await agent.get('/api/wallboard/tokens')).status).toBe(403);
    expect((await manager.post('/api/wallboard/tokens', { name: '' })).status).toBe(400);
    expect((await manager.request('DELETE', '/api/wallboard/tokens/999999')).status).toBe(404);
  });
});

describe('thresholds', () => {
  it('put a tile in alert on every watching screen when the value crosses it', async () => {
    const { socket, snapshot } = await watching(manager);
    const open = snapshot.support.openTickets.value;
    const saved = await manager.request('PUT', '/api/wallboard/thresholds', {
      thresholds: [
        { metric: 'open_tickets', comparison: 'above', value: open },
        { metric: 'csat_average', comparison: 'below', value: '4.5' }
      ]
    });
    expect(saved.status).toBe(200);
    expect(saved.body.thresholds).toEqual([
      expect.objectContaining({
        metric: 'csat_average',
        comparison: 'below',
        value: '4.50',
        updatedBy: { id: world.manager.id, name: 'Manager M' }
      }),
      expect.objectContaining({ metric: 'open_tickets', comparison: 'above', value: `${open}.00` })
    ]);
    const armed = await waitFor<WallboardSnapshot>(
      socket,
      'wallboard:updated',
      (s) => s.support.openTickets.threshold !== null,
      3000
    );
    expect(armed.support.openTickets.alert).toBe(false);

    await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const alarmed = await waitFor<WallboardSnapshot>(
      socket,
      'wallboard:updated',
      (s) => s.support.openTickets.value === open + 1,
      3000
    );
    expect(alarmed.support.openTickets).toMatchObject({
      alert: true,
      threshold: { comparison: 'above', value: `${open}.00` }
    });
    expect(alarmed.alerts).toContain('open_tickets');

    // Saving a set without it takes the threshold away.
    await manager.request('PUT', '/api/wallboard/thresholds', { thresholds: [] });
    const cleared = await waitFor<WallboardSnapshot>(
      socket,
      'wallboard:updated',
      (s) => s.support.openTickets.threshold === null,
      3000
    );
    expect(cleared.alerts).not.toContain('open_tickets');
    expect((await manager.get('/api/wallboard/thresholds')).body.thresholds).toEqual([]);
  });

  it('are validated, and set by managers only', async () => {
    const put = (b: Browser, thresholds: unknown) =>
      b.request('PUT', '/api/wallboard/thresholds', { thresholds });
    expect((await put(agent, [])).status).toBe(403);
    expect((await put(manager, [{ metric: 'happiness', comparison: 'above', value: 1 }])).status).toBe(400);
    expect((await put(manager, [{ metric: 'unassigned', comparison: 'above', value: '1.005' }])).status).toBe(
      400
    );
    expect((await put(manager, [{ metric: 'unassigned', comparison: 'sideways', value: 1 }])).status).toBe(
      400
    );
    const twice = await put(manager, [
      { metric: 'unassigned', comparison: 'above', value: 1 },
      { metric: 'unassigned', comparison: 'below', value: 5 }
    ]);
    expect(twice.status).toBe(400);
    expectErrorShape(twice.body);
  });
});
