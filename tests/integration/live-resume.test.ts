import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPulse } from '../../server/pulse.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createOrder, createTicket, createWorld } from '../support/fixtures.js';
import { Browser } from '../support/http.js';
import {
  closeSockets,
  connectSocket,
  openSocket,
  record,
  until,
  waitFor,
  whenReady
} from '../support/socket.js';
import { startTestServer } from '../support/server.js';

let db: TestDatabase;
let server: RunningPulse;
let world: Awaited<ReturnType<typeof createWorld>>;
/** One session per user; no test here ends one (a socket that disconnects leaves it). */
let as: Record<'agentA' | 'manager', Browser>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.sql);
  server = await startTestServer(db.url);
  const [agentA, manager] = await Promise.all([
    Browser.signedIn(server.url, world.agentA.email),
    Browser.signedIn(server.url, world.manager.email)
  ]);
  as = { agentA, manager };
});
afterAll(async () => {
  closeSockets();
  await server?.close();
  await db?.drop();
});

const insertOrder = (total: number) => createOrder(db.sql, { customerId: world.customerId, total });

describe('a reconnecting client', () => {
  it('gets exactly what it missed, including a transaction that committed out of order', async () => {
    const first = await openSocket(server.url, as.manager);
    const before = await insertOrder(1);
    const applied = await waitFor(first, 'order:created', (e) => e.data.id === before);

    // A transaction opened before the disconnect commits while the client is away.
    const slow = await db.sql.connect();
    await slow.query('BEGIN');
    const slowId = await createOrder(slow, { customerId: world.customerId, total: 2 });
    first.disconnect();

    const missed = [await insertOrder(3), await insertOrder(4)];
    await slow.query('COMMIT');
    slow.release();

    const second = connectSocket(server.url, as.manager.cookie, { horizon: applied.horizon });
    const events = record(second, ['order:created']);
    const ready = await whenReady(second);
    await until(
      () => [slowId, ...missed].every((id) => events.some((e) => e.payload.data.id === id)),
      2000,
      'replay'
    );
    // The client may be sent a change it already has (it drops seqs it applied), never one twice in the replay.
    const ids = events.map((e) => e.payload.data.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([slowId, ...missed]));
    expect(ready.replayed).toBeGreaterThanOrEqual(3);
  });

  it('only replays what it may see', async () => {
    const cookie = as.agentA.cookie;
    const first = connectSocket(server.url, cookie);
    const { horizon } = await whenReady(first);
    first.disconnect();
    const mine = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    const theirs = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamB });
    const second = connectSocket(server.url, cookie, { horizon });
    const events = record(second, ['ticket:created']);
    await whenReady(second);
    // The replay reads up to what the server's reader has read; a change it had not read yet comes
    // live after `live:ready` (CI's loaded run saw `mine` arrive so). Changes arrive in commit
    // order, so once a later ticket of the agent's team is in, anything before it is too.
    const later = await createTicket(db.sql, { customerId: world.customerId, teamId: world.teamA });
    await until(() => events.some((e) => e.payload.data.id === later), 10_000, 'a later ticket');
    const ids = events.map((e) => e.payload.data.id);
    expect(ids).toContain(mine);
    expect(ids).not.toContain(theirs);
  });

  it('is told to reload when its gap is older than the retention window', async () => {
    const cookie = as.manager.cookie;
    const first = connectSocket(server.url, cookie);
    const { horizon } = await whenReady(first);
    first.disconnect();
    await insertOrder(5);
    // The retention job deleted rows the client would need.
    await db.sql.query(`UPDATE change_log_retention SET purged_through = pg_current_xact_id()`);
    const second = connectSocket(server.url, cookie, { horizon });
    const resync = waitFor(second, 'live:resync');
    await whenReady(second);
    expect((await resync).reason).toBe('retention');
  });
});
