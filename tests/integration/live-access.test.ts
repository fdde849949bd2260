import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionId } from '../../server/auth/session-adapter.js';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createTicket, createUser, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import {
  closeSockets,
  connectSocket,
  disconnected,
  openSocket,
  received,
  record,
  waitFor,
  whenReady,
  type ClientSocket
} from '../support/socket.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
/** One session per user of the world, for tests that do not end it. */
let as: Record<'agentA' | 'agentB' | 'manager', Browser>;

const socketOf = (who: string | Browser) => openSocket(server.url, who);

const watch = (socket: ClientSocket, ticketId: number) =>
  socket.timeout(5000).emitWithAck('ticket:watch', ticketId) as Promise<any>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  const [agentA, agentB, manager] = await Promise.all(
    [world.agentA, world.agentB, world.manager].map((u) => Browser.signedIn(server.url, u.email))
  );
  as = { agentA, agentB, manager };
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

describe('the handshake', () => {
  it('refuses a socket without a session', async () => {
    const socket = connectSocket(server.url, '');
    await expect(whenReady(socket)).rejects.toThrow(/unauthenticated/);
  });

  it('refuses a socket from another origin, even with a valid session', async () => {
    const socket = connectSocket(server.url, as.agentA.cookie, { origin: 'https://evil.example' });
    // The upgrade itself is refused (HTTP 400), before any session check.
    await expect(whenReady(socket)).rejects.toThrow(/^websocket error$/);
  });
});

describe('a session that ends', () => {
  it('on logout stops its socket within a second, and the session cannot reconnect', async () => {
    const b = await Browser.signedIn(server.url, world.agentA.email);
    const cookie = b.cookie;
    const socket = await socketOf(b);
    const gone = disconnected(socket);
    await b.post('/api/auth/logout');
    expect(await gone).toBeLessThan(1000);
    const again = connectSocket(server.url, cookie, { horizon: '1' });
    await expect(whenReady(again)).rejects.toThrow(/unauthenticated/);
  });

  it('deleted by SQL stops its socket within a second, and leaves the user other sessions alone', async () => {
    const phone = await Browser.signedIn(server.url, world.agentB.email);
    const phoneSocket = await socketOf(phone);
    const laptopSocket = await socketOf(as.agentB);
    const gone = disconnected(phoneSocket);
    await db.sql.query(`DELETE FROM sessions WHERE id = $1`, [hashSessionId(phone.cookie.split('=')[1])]);
    expect(await gone).toBeLessThan(1000);
    expect(laptopSocket.connected).toBe(true);
  });

  it('when the user is deactivated', async () => {
    const u = await createUser(db.sql, { email: 'temp@test.dev', role: 'agent', teamId: world.teamA });
    const socket = await socketOf(u.email);
    const gone = disconnected(socket);
    await db.sql.query(`UPDATE users SET active = false WHERE id = $1`, [u.id]);
    expect(await gone).toBeLessThan(1000);
  });
});

describe('rooms follow access', () => {
  it('moving an agent to another team moves their open socket within a second', async () => {
    const mover = await createUser(db.sql, { email: 'mover@test.dev', role: 'agent', teamId: world.teamA });
    const socket = await socketOf(mover.email);
    const seen = record(socket, ['ticket:created']);

    await db.sql.query(`UPDATE users SET team_id = $1 WHERE id = $2`, [world.teamB, mover.id]);
    // A manager's socket sees every change, so it tells us when the move has been read.
    const manager = await socketOf(as.manager);
    const t0 = Date.now();
    const ticketB = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    await waitFor(socket, 'ticket:created', (e) => e.data.id === ticketB, 1000);
    expect(Date.now() - t0).toBeLessThan(1000);

    const ticketA = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await waitFor(manager, 'ticket:created', (e) => e.data.id === ticketA);
    const fence = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    await waitFor(socket, 'ticket:created', (e) => e.data.id === fence);
    expect(seen.map((e) => e.payload.data.id)).not.toContain(ticketA);
  });

  it('a promotion to manager opens every team to the socket', async () => {
    const rising = await createUser(db.sql, { email: 'rising@test.dev', role: 'agent', teamId: world.teamA });
    const socket = await socketOf(rising.email);
    await db.sql.query(`UPDATE users SET role = 'manager' WHERE id = $1`, [rising.id]);
    // The role change is read before the next change: retry until the ticket shows.
    let seen = false;
    for (let i = 0; i < 5 && !seen; i++) {
      const ticketB = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
      seen = await waitFor(socket, 'ticket:created', (e) => e.data.id === ticketB, 1000).then(
        () => true,
        () => false
      );
    }
    expect(seen).toBe(true);
  });
});

describe('topic rooms', () => {
  it('an agent can watch their team’s ticket but not another team’s, even by guessing its id', async () => {
    const socket = await socketOf(as.agentA);
    const own = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const other = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    const ok = await watch(socket, own);
    expect(ok.data.viewers.map((v: { name: string }) => v.name)).toContain('Agent A');
    const refused = await watch(socket, other);
    expect(refused.error.code).toBe('not_found');
    const bad = await watch(socket, 'drop table' as unknown as number);
    expect(bad.error.code).toBe('validation_failed');
  });

  it('a ticket moved to another team drops the old team’s watchers', async () => {
    const socket = await socketOf(as.agentA);
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await watch(socket, ticket);
    await db.sql.query(`UPDATE tickets SET team_id = $1 WHERE id = $2`, [world.teamB, ticket]);
    await waitFor(socket, 'ticket:updated', (e) => e.data.id === ticket && e.data.teamId === world.teamB);
    const messages = record(socket, ['ticket:message_added']);
    await db.sql.query(
      `INSERT INTO ticket_messages (ticket_id, author_type, body) VALUES ($1, 'customer', 'secret')`,
      [ticket]
    );
    const fence = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await waitFor(socket, 'ticket:created', (e) => e.data.id === fence);
    expect(messages).toEqual([]);
  });
});

describe('customer rooms', () => {
  it('an agent watching a customer gets that customer’s order and loyalty changes', async () => {
    const socket = await socketOf(as.agentA);
    const ok = await socket.timeout(5000).emitWithAck('customer:watch', world.customerId);
    expect(ok).toEqual({ data: { ok: true } });
    const missing = (await socket.timeout(5000).emitWithAck('customer:watch', 987654)) as any;
    expect(missing.error.code).toBe('not_found');
    const first = await createOrder(db.sql, { customerId: world.customerId, total: 42 });
    const order = await waitFor(socket, 'order:created', (e) => e.data.id === first);
    expect(order.data.total).toBe('42.00');
    socket.emit('customer:unwatch', world.customerId);
    const other = await socketOf(as.manager); // a fence: managers see every order
    const second = await createOrder(db.sql, { customerId: world.customerId, total: 43 });
    await waitFor(other, 'order:created', (e) => e.data.id === second);
    const fence = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await waitFor(socket, 'ticket:created', (e) => e.data.id === fence);
    expect(received(socket, 'order:created').map((e) => e.data.id)).not.toContain(second);
  });
});

describe('presence', () => {
  it('shows who else views a ticket and who is typing', async () => {
    const a = await socketOf(as.agentA);
    const m = await socketOf(as.manager);
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await watch(a, ticket);
    const joined = waitFor(a, 'presence:changed', (p) => p.ticketId === ticket && p.viewers.length === 2);
    await watch(m, ticket);
    expect((await joined).viewers.map((v: { name: string }) => v.name)).toEqual(['Agent A', 'Manager M']);

    const typing = waitFor(a, 'presence:changed', (p) =>
      p.viewers.some((v: any) => v.name === 'Manager M' && v.typing)
    );
    m.emit('ticket:typing', { ticketId: ticket, typing: true });
    await typing;

    // A queue opening now is told who is already there; another team's is not.
    const opening = await socketOf(as.agentA);
    const listed = (await opening.timeout(5000).emitWithAck('presence:list')) as any;
    expect(
      listed.data.tickets
        .find((t: { ticketId: number }) => t.ticketId === ticket)
        .viewers.map((v: { name: string }) => v.name)
    ).toEqual(['Agent A', 'Manager M']);
    const outsider = await socketOf(as.agentB);
    const hidden = (await outsider.timeout(5000).emitWithAck('presence:list')) as any;
    expect(hidden.data.tickets.filter((t: { ticketId: number }) => t.ticketId === ticket)).toEqual([]);

    // The team's queue (not watching the ticket) learns who is viewing it too; another team does not.
    const teammate = await socketOf(as.agentA);
    const otherTeam = await socketOf(as.agentB);
    const left = waitFor(a, 'presence:changed', (p) => p.ticketId === ticket && p.viewers.length === 1);
    const queueSees = waitFor(
      teammate,
      'presence:changed',
      (p) => p.ticketId === ticket && p.viewers.length === 1
    );
    m.disconnect();
    expect((await left).viewers[0].name).toBe('Agent A');
    expect((await queueSees).viewers.map((v: { name: string }) => v.name)).toEqual(['Agent A']);
    expect(received(otherTeam, 'presence:changed').filter((p) => p.ticketId === ticket)).toEqual([]);
  });
});

describe('hardening', () => {
  it('closes a socket that sends an oversized message, without harming others', async () => {
    const victim = await socketOf(as.agentA);
    const bystander = await socketOf(as.agentB);
    const gone = disconnected(victim, 3000);
    victim.emit('ticket:typing', { ticketId: 1, typing: true, junk: 'x'.repeat(100 * 1024) } as never);
    await gone;
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    await waitFor(bystander, 'ticket:created', (e) => e.data.id === ticket);
  });

  it('closes a socket that sends a malformed packet, without harming others', async () => {
    const bystander = await socketOf(as.agentB);
    const { default: WebSocket } = await import('ws');
    const raw = new WebSocket(`${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, {
      headers: { cookie: as.agentA.cookie, origin: server.url }
    });
    const closed = new Promise<void>((resolve) => raw.on('close', () => resolve()));
    raw.on('message', (frame: Buffer) => {
      const text = frame.toString();
      if (text.startsWith('0')) raw.send('40{}');
      if (text.startsWith('40')) raw.send('42["ticket:watch",{oops'); // not JSON
    });
    await closed;
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    await waitFor(bystander, 'ticket:created', (e) => e.data.id === ticket);
    expect(bystander.connected).toBe(true);
  });

  it('rate limits client events per socket', async () => {
    const socket = await socketOf(as.agentA);
    // customer:watch has no bucket of its own: this is the limit every event shares (live-limits.test.ts has the rest).
    const answers = await Promise.all(
      Array.from(
        { length: 80 },
        () => socket.timeout(5000).emitWithAck('customer:watch', 999_999) as Promise<any>
      )
    );
    const limited = answers.filter((a) => a.error?.code === 'too_many_requests');
    expect(limited.length).toBeGreaterThan(20);
    expect(answers.filter((a) => a.error?.code === 'not_found').length).toBeGreaterThan(20);
  });
});
