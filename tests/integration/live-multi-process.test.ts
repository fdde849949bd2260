import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTicket, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import { startChildServer, type ChildServer } from '../support/processes.js';
import { closeSockets, disconnected, openSocket, record, waitFor, type ClientSocket } from '../support/socket.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let here: RunningPulse;
let there: ChildServer;
let world: Awaited<ReturnType<typeof createWorld>>;
/** Agent A's one session, valid on both processes (they share the database). */
let agentA: Browser;

const watch = (socket: ClientSocket, ticketId: number) => socket.timeout(5000).emitWithAck('ticket:watch', ticketId) as Promise<any>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  [here, there] = await Promise.all([startTestServer(db.url), startChildServer(db.url)]);
  agentA = await Browser.signedIn(here.url, world.agentA.email);
});
afterAll(async () => {
  closeSockets();
  await Promise.all([here?.close(), there?.stop()]);
  await db?.drop();
});

describe('two server processes on one database', () => {
  it('both deliver a database change to their own clients, once each', async () => {
    const a = await openSocket(here.url, agentA);
    const b = await openSocket(there.url, agentA);
    const onA = record(a, ['ticket:created']);
    const onB = record(b, ['ticket:created']);
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await Promise.all([
      waitFor(a, 'ticket:created', (e) => e.data.id === ticket),
      waitFor(b, 'ticket:created', (e) => e.data.id === ticket)
    ]);
    const fence = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await Promise.all([waitFor(a, 'ticket:created', (e) => e.data.id === fence), waitFor(b, 'ticket:created', (e) => e.data.id === fence)]);
    expect(onA.filter((e) => e.payload.data.id === ticket)).toHaveLength(1);
    expect(onB.filter((e) => e.payload.data.id === ticket)).toHaveLength(1);
  });

  it('presence and typing set on one process are seen on the other', async () => {
    const ticket = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const agent = await openSocket(here.url, agentA);
    const manager = await openSocket(there.url, world.manager.email);
    await watch(agent, ticket);
    const both = waitFor(agent, 'presence:changed', (p) => p.ticketId === ticket && p.viewers.length === 2);
    const ack = await watch(manager, ticket);
    expect(ack.data.viewers.map((v: { name: string }) => v.name)).toEqual(['Agent A', 'Manager M']);
    await both;

    const typing = waitFor(manager, 'presence:changed', (p) => p.viewers.some((v: any) => v.name === 'Agent A' && v.typing));
    agent.emit('ticket:typing', { ticketId: ticket, typing: true });
    await typing;
  });

  it('a logout on one process ends the session’s socket on the other', async () => {
    const browser = await Browser.signedIn(here.url, world.agentB.email);
    // Signed in on this process, connected to the other.
    const remote = await openSocket(there.url, browser);
    const gone = disconnected(remote, 5000);
    await browser.post('/api/auth/logout');
    await gone;
  });
});
